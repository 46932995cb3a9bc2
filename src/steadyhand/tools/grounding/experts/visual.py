"""The visual expert: any OpenAI-compatible vision model points at the element.

Spec: a model spec for :func:`steadyhand.models.load` plus the expert's own
options in the same query string, which it takes out before loading the model::

    openai:ui-tars-1.5-7b@http://gpu-host:8000/v1?space=0-1000
    openai:qwen2.5-vl-7b@http://gpu-host:8000/v1?space=pixels&factor=28&max_pixels=1003520

Options:

``space``
    how the model writes points: ``pixels`` (of the image it was sent), ``0-1``,
    ``0-1000``, each optionally ``yx-`` prefixed for ``[y, x]`` models.
``max_side`` / ``size`` (``WxH``) / ``factor`` (+ ``max_pixels``)
    how the screenshot is resized before sending (longest side capped; a fixed
    size; Qwen2-VL's multiples-of-factor resize). Points are mapped back through
    the same resize and the screenshot's own scale to screen pixels.
``confidence``
    the confidence reported for a parsed point (0.8; models give none).

The reply may be JSON, fenced JSON, ``<point>x y</point>``, a UI-TARS box or
plain ``(x, y)``: see :func:`~steadyhand.tools.grounding.coordinates.parse_point`.
Nothing in the reply is evaluated.
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.observation import Observation
from steadyhand.tools.grounding.base import (
    POINT_ACTIONS,
    GroundingError,
    GroundingRequest,
    GroundingResult,
    PointTarget,
    register_expert,
)
from steadyhand.tools.grounding.coordinates import CoordinateSpace, Resize, parse_point, prepare_screenshot
from steadyhand.tools.grounding.experts.prompts import render
from steadyhand.tools.grounding.specs import join_spec, split_spec, take, take_float

_FORMATS = {
    ("pixels", False): "(x, y) in pixels of this image",
    ("pixels", True): "(y, x) in pixels of this image",
    ("relative", False): "(x, y) as fractions of the image width and height, between 0 and 1",
    ("relative", True): "(y, x) as fractions of the image height and width, between 0 and 1",
    ("thousand", False): "(x, y) scaled to 0-1000 across the image width and height",
    ("thousand", True): "(y, x) scaled to 0-1000 down the image height and across its width",
}


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise ConfigurationError(f"visual expert: size must look like 1280x720, not {text!r}") from exc
    return width, height


@register_expert("visual")
class VisualExpert:
    """A vision-language model behind an OpenAI-compatible server (see the module docstring)."""

    name = "visual"
    serves: ClassVar[frozenset[str]] = POINT_ACTIONS

    def __init__(self, spec: str, *, model: Any = None) -> None:
        self.spec = spec
        head, options = split_spec(spec)
        self.space = CoordinateSpace.parse(take(options, "space", "pixels"))
        size = take(options, "size", "")
        self.resize = Resize(size=_size(size) if size else None,
                             max_side=int(take_float(options, "max_side", 0)) or None,
                             factor=int(take_float(options, "factor", 0)) or None,
                             max_pixels=int(take_float(options, "max_pixels", 1344 * 1344)))
        self.fixed_confidence = take_float(options, "confidence", 0.8)
        self.model_spec = join_spec(head, options)
        if model is None:
            from steadyhand import models

            model = models.load(self.model_spec)
        self.model = model

    def __repr__(self) -> str:
        return f"VisualExpert({self.model_spec!r}, space={self.space})"

    def prompt(self, request: GroundingRequest, size: tuple[int, int]) -> str:
        """The text sent with the screenshot."""
        return render("visual", description=request.description, app=request.app, width=size[0],
                      height=size[1], format=_FORMATS[(self.space.unit, self.space.yx)])

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult:
        """Ask the model for a point and map it to the screen.

        Raises:
            GroundingError: no screenshot, the model call failed, its reply has no
                point, or the point lies outside the image it was shown.
        """
        from langchain_core.messages import HumanMessage

        png, screen_map = prepare_screenshot(observation, self.resize, request)
        image_url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        message = HumanMessage(content=[
            {"type": "text", "text": self.prompt(request, screen_map.image_size)},
            {"type": "image_url", "image_url": {"url": image_url}},
        ])
        try:
            reply = self.model.invoke([message])
        except Exception as exc:  # a dead server, a timeout, an HTTP error: a miss, not a crash
            raise GroundingError(f"visual expert: the model call failed: {type(exc).__name__}: {exc}") from exc
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        a, b = parse_point(text)
        x, y = self.space.to_image(a, b, screen_map.image_size)
        if not screen_map.inside(x, y):
            raise GroundingError(f"visual expert: the point ({a:g}, {b:g}) in {self.space} lies outside the "
                                 f"{screen_map.image_size[0]}x{screen_map.image_size[1]} image; reply {text[:200]!r}")
        sx, sy = screen_map.to_screen(x, y)
        return GroundingResult(target=PointTarget(x=sx, y=sy), confidence=self.fixed_confidence, expert=self.name,
                               details={"reply": text[:500], "space": str(self.space),
                                        "model_point": [a, b], "image_size": list(screen_map.image_size)})
