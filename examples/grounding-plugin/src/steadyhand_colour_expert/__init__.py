"""An example grounding expert shipped as a separate package (see the README).

It implements :class:`steadyhand.tools.grounding.GroundingExpert`: ``name``,
``serves`` and ``ground(request, observation)``, returning a box in screen pixels
or raising :class:`GroundingError`. The entry point in ``pyproject.toml`` is all the
registration it needs.
"""

from __future__ import annotations

import io
from typing import ClassVar

import numpy as np
from PIL import Image

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import POINT_ACTIONS, BoxTarget, GroundingError, GroundingRequest, GroundingResult
from steadyhand.tools.grounding.coordinates import screenshot_map
from steadyhand.tools.grounding.specs import reject_unknown, split_spec, take_float

COLOURS = {"red": (220, 40, 40), "green": (40, 160, 60), "blue": (30, 100, 220), "yellow": (240, 200, 30),
           "orange": (240, 130, 20), "purple": (130, 60, 180)}


class ColourExpert:
    """Finds the largest patch of the colour a description names."""

    name = "colour"
    serves: ClassVar[frozenset[str]] = POINT_ACTIONS

    def __init__(self, spec: str = "") -> None:
        _, options = split_spec(spec)
        self.tolerance = take_float(options, "tolerance", 60.0)
        reject_unknown("colour", options)
        self.spec = spec

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult:
        words = request.description.lower().replace(",", " ").split()
        colour = next((w for w in words if w in COLOURS), None)
        if colour is None:
            raise GroundingError(f"colour expert: the description names none of {', '.join(COLOURS)}")
        screen = screenshot_map(observation, request)
        assert observation.screenshot is not None  # screenshot_map checked it
        pixels = np.asarray(Image.open(io.BytesIO(observation.screenshot)).convert("RGB"), dtype=np.int16)
        distance = np.abs(pixels - np.array(COLOURS[colour], dtype=np.int16)).sum(axis=-1)
        mask = distance < self.tolerance
        if mask.sum() < 16:
            raise GroundingError(f"colour expert: nothing {colour} on screen")
        rows = np.nonzero(mask.any(axis=1))[0]
        cols = np.nonzero(mask.any(axis=0))[0]
        left, top, width, height = screen.box_to_screen(float(cols.min()), float(rows.min()),
                                                        float(cols.max() - cols.min() + 1),
                                                        float(rows.max() - rows.min() + 1))
        share = float(mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1].mean())
        return GroundingResult(target=BoxTarget(left=left, top=top, width=width, height=height),
                               confidence=round(min(1.0, 0.5 + share / 2), 3), expert=self.name,
                               details={"colour": colour, "fill": round(share, 3)})
