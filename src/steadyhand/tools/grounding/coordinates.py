"""Coordinate spaces, screenshot resizing and the mapping back to screen pixels.

Grounding models answer in different spaces: pixels of the image they were shown,
fractions of it (0-1), thousandths (0-1000, Qwen-VL and UI-TARS style), with x
first or y first. Experts often work on a resized screenshot too (a model's input
size, an OCR upscale), and the screenshot itself may be smaller or larger than the
screen (a scaled VM capture). Every conversion goes through two small values:

* :class:`CoordinateSpace` — how a model writes a point;
* :class:`ScreenMap` — image pixels of what the expert looked at <-> screen pixels.

:func:`parse_point` reads a point out of a model's free-form reply without
``eval`` and without trusting the reply to be valid JSON.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from steadyhand.tools.grounding.base import GroundingError, GroundingRequest

if TYPE_CHECKING:
    from PIL import Image

    from steadyhand.core.observation import Observation

Unit = Literal["pixels", "relative", "thousand"]
_UNIT_ALIASES: dict[str, Unit] = {
    "pixels": "pixels", "pixel": "pixels", "px": "pixels", "abs": "pixels", "absolute": "pixels",
    "relative": "relative", "0-1": "relative", "unit": "relative", "fraction": "relative",
    "thousand": "thousand", "0-1000": "thousand", "1000": "thousand", "permille": "thousand",
}


@dataclass(frozen=True)
class CoordinateSpace:
    """How a model writes a point: a unit and an axis order.

    ``unit`` is ``pixels`` (of the image the model saw), ``relative`` (0-1) or
    ``thousand`` (0-1000); ``yx`` is true for models that write ``[y, x]``.
    """

    unit: Unit = "pixels"
    yx: bool = False

    @classmethod
    def parse(cls, text: str) -> CoordinateSpace:
        """Read ``pixels``, ``0-1``, ``0-1000``, optionally prefixed ``yx-`` or ``[y,x]-``.

        Raises:
            GroundingError: an unknown space name.
        """
        raw = text.strip().lower().replace(" ", "")
        yx = False
        for prefix in ("yx-", "[y,x]-", "yx:", "[y,x]"):
            if raw.startswith(prefix):
                yx, raw = True, raw[len(prefix):]
                break
        for prefix in ("xy-", "[x,y]-", "xy:", "[x,y]"):
            if raw.startswith(prefix):
                raw = raw[len(prefix):]
                break
        unit = _UNIT_ALIASES.get(raw or "pixels")
        if unit is None:
            raise GroundingError(f"unknown coordinate space {text!r}; use pixels, 0-1 or 0-1000, "
                                 "optionally prefixed yx-")
        return cls(unit=unit, yx=yx)

    def __str__(self) -> str:
        name = {"pixels": "pixels", "relative": "0-1", "thousand": "0-1000"}[self.unit]
        return f"yx-{name}" if self.yx else name

    def to_image(self, a: float, b: float, image_size: tuple[int, int]) -> tuple[float, float]:
        """A model's pair ``(a, b)`` as (x, y) pixels of the image it was shown."""
        x, y = (b, a) if self.yx else (a, b)
        width, height = image_size
        if self.unit == "relative":
            return x * width, y * height
        if self.unit == "thousand":
            return x * width / 1000.0, y * height / 1000.0
        return x, y

    def from_image(self, x: float, y: float, image_size: tuple[int, int]) -> tuple[float, float]:
        """Image pixels as this space writes them (the inverse of :meth:`to_image`)."""
        width, height = image_size
        if self.unit == "relative":
            x, y = x / width, y / height
        elif self.unit == "thousand":
            x, y = x * 1000.0 / width, y * 1000.0 / height
        return (y, x) if self.yx else (x, y)


@dataclass(frozen=True)
class ScreenMap:
    """Pixels of an image an expert looked at <-> pixels of the screen.

    ``image_size`` is the (width, height) of the image (a resized screenshot, an
    OCR upscale); ``screen_size`` is the screen's. Offsets cover crops: the image's
    (0, 0) is at screen ``(offset_x, offset_y)``.
    """

    image_size: tuple[int, int]
    screen_size: tuple[int, int]
    offset_x: float = 0.0
    offset_y: float = 0.0

    @property
    def sx(self) -> float:
        return self.screen_size[0] / self.image_size[0]

    @property
    def sy(self) -> float:
        return self.screen_size[1] / self.image_size[1]

    def to_screen(self, x: float, y: float) -> tuple[int, int]:
        """An image point as integer screen pixels, clamped onto the screen."""
        sx = self.offset_x + x * self.sx
        sy = self.offset_y + y * self.sy
        return (min(max(math.floor(sx), 0), self.screen_size[0] - 1),
                min(max(math.floor(sy), 0), self.screen_size[1] - 1))

    def box_to_screen(self, left: float, top: float, width: float, height: float) -> tuple[int, int, int, int]:
        """An image box as a screen box ``(left, top, width, height)``."""
        x0 = self.offset_x + left * self.sx
        y0 = self.offset_y + top * self.sy
        x1 = self.offset_x + (left + width) * self.sx
        y1 = self.offset_y + (top + height) * self.sy
        return round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0))

    def to_image(self, x: float, y: float) -> tuple[float, float]:
        """A screen point in image pixels."""
        return (x - self.offset_x) / self.sx, (y - self.offset_y) / self.sy

    def inside(self, x: float, y: float) -> bool:
        """Whether an image point lies on the image."""
        return 0 <= x < self.image_size[0] and 0 <= y < self.image_size[1]


# --- sizes --------------------------------------------------------------------------------


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG from its header (no decoding).

    Raises:
        GroundingError: not a PNG.
    """
    if len(png) < 24 or not png.startswith(b"\x89PNG\r\n\x1a\n") or png[12:16] != b"IHDR":
        raise GroundingError("the observation's screenshot is not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, dict) and "width" in value and "height" in value:
        return int(value["width"]), int(value["height"])
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def screen_size(observation: Observation, request: GroundingRequest | None = None) -> tuple[int, int]:
    """The screen's size for an observation.

    Looked up in ``request.context["screen_size"]``, then ``observation.info["screen_size"]``
    (``[w, h]`` or ``{"width", "height"}``); otherwise the screenshot is taken to be
    the screen at 1:1.

    Raises:
        GroundingError: none of those is available.
    """
    for source in ((request.context if request else {}), observation.info):
        found = _size(source.get("screen_size"))
        if found:
            return found
    if observation.screenshot is None:
        raise GroundingError("no screenshot and no screen_size in the observation")
    return png_size(observation.screenshot)


def screenshot_map(observation: Observation, request: GroundingRequest | None = None) -> ScreenMap:
    """Screenshot pixels <-> screen pixels for an observation.

    Raises:
        GroundingError: the observation has no screenshot.
    """
    if observation.screenshot is None:
        raise GroundingError("the observation has no screenshot")
    return ScreenMap(png_size(observation.screenshot), screen_size(observation, request))


def smart_resize(width: int, height: int, *, factor: int = 28, min_pixels: int = 56 * 56,
                 max_pixels: int = 1344 * 1344) -> tuple[int, int]:
    """Qwen2-VL's input size: sides multiples of ``factor``, pixel count within bounds, aspect kept."""
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return w, h


@dataclass(frozen=True)
class Resize:
    """How to resize a screenshot for a model.

    ``size`` forces (width, height); ``max_side`` caps the longer side; ``factor``
    (with ``max_pixels``) applies :func:`smart_resize`. With none set the image is kept.
    """

    size: tuple[int, int] | None = None
    max_side: int | None = None
    factor: int | None = None
    max_pixels: int = 1344 * 1344

    def target(self, width: int, height: int) -> tuple[int, int]:
        """The size an image of ``width`` x ``height`` is resized to."""
        if self.size:
            return self.size
        if self.max_side and max(width, height) > self.max_side:
            scale = self.max_side / max(width, height)
            width, height = max(1, round(width * scale)), max(1, round(height * scale))
        if self.factor:
            width, height = smart_resize(width, height, factor=self.factor, max_pixels=self.max_pixels)
        return width, height


def decode_png(png: bytes) -> Image.Image:
    """A PNG as an RGB PIL image.

    Raises:
        GroundingError: the bytes are not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise GroundingError(f"the screenshot cannot be decoded: {exc}") from exc
    return image.convert("RGB")


def prepare_screenshot(observation: Observation, resize: Resize,
                       request: GroundingRequest | None = None) -> tuple[bytes, ScreenMap]:
    """The screenshot as the model should see it, and the map from its pixels to the screen.

    Raises:
        GroundingError: no screenshot, or an undecodable one.
    """
    if observation.screenshot is None:
        raise GroundingError("the observation has no screenshot")
    screen = screen_size(observation, request)
    width, height = png_size(observation.screenshot)
    target = resize.target(width, height)
    if target == (width, height):
        return observation.screenshot, ScreenMap((width, height), screen)
    from PIL import Image

    image = decode_png(observation.screenshot).resize(target, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), ScreenMap(target, screen)


# --- reading points out of model replies ------------------------------------------------------

_NUMBER = r"-?\d+(?:\.\d+)?"
_PAIR = re.compile(rf"[\(\[]\s*({_NUMBER})\s*,\s*({_NUMBER})\s*(?:,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*)?[\)\]]")
_POINT_TAG = re.compile(rf"<point>\s*\(?\s*({_NUMBER})[\s,]+({_NUMBER})\s*\)?\s*</point>")
_KEYWORDS = re.compile(rf"\bx['\"]?\s*[=:]\s*({_NUMBER}).{{0,40}}?\by['\"]?\s*[=:]\s*({_NUMBER})", re.S)
_BARE = re.compile(rf"({_NUMBER})\s*[, ]\s*({_NUMBER})")


def _from_json(value: Any) -> tuple[float, float] | None:
    """A point from decoded JSON: {"x", "y"}, [a, b], [x1, y1, x2, y2], or nested under a key."""
    if isinstance(value, dict):
        lower = {str(k).lower(): v for k, v in value.items()}
        if "x" in lower and "y" in lower:
            try:
                return float(lower["x"]), float(lower["y"])
            except (TypeError, ValueError):
                return None
        for key in ("point", "coordinate", "coordinates", "position", "click", "start_box", "bbox", "box"):
            if key in lower:
                found = _from_json(lower[key])
                if found:
                    return found
        return None
    if isinstance(value, list | tuple) and len(value) in (2, 4) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        if len(value) == 4:
            return (value[0] + value[2]) / 2.0, (value[1] + value[3]) / 2.0
        return float(value[0]), float(value[1])
    if isinstance(value, list | tuple) and value:
        return _from_json(value[0])
    if isinstance(value, str):
        return _from_text(value)
    return None


def _json_candidates(text: str) -> list[str]:
    fenced = re.findall(r"```(?:json)?\s*(.*?)```", text, re.S)
    spans = [m.group(0) for m in re.finditer(r"\{.*\}|\[.*\]", text, re.S)]
    return [*fenced, *spans]


def _from_text(text: str) -> tuple[float, float] | None:
    tagged = _POINT_TAG.search(text)
    if tagged:
        return float(tagged.group(1)), float(tagged.group(2))
    for chunk in _json_candidates(text):
        try:
            found = _from_json(json.loads(chunk))
        except (ValueError, RecursionError):
            continue
        if found:
            return found
    keyword = _KEYWORDS.search(text)
    if keyword:
        return float(keyword.group(1)), float(keyword.group(2))
    pair = _PAIR.search(text)
    if pair:
        a, b, c, d = pair.groups()
        if c is not None and d is not None:
            return (float(a) + float(c)) / 2.0, (float(b) + float(d)) / 2.0
        return float(a), float(b)
    bare = _BARE.search(text)
    if bare:
        return float(bare.group(1)), float(bare.group(2))
    return None


def parse_point(reply: str) -> tuple[float, float]:
    """The first point in a model's reply, in the model's own space and axis order.

    Understands JSON (``{"x": .., "y": ..}``, ``[a, b]``, a box ``[x1, y1, x2, y2]``
    taken at its centre, nested under ``point``/``coordinate``/``bbox``...), fenced
    JSON, ``<point>a b</point>``, UI-TARS ``(a,b)`` boxes, ``x=.. y=..`` and a bare
    ``a, b``. Nothing is evaluated.

    Raises:
        GroundingError: no point in the reply (the message quotes it).
    """
    found = _from_text(reply or "")
    if found is None or not all(math.isfinite(v) for v in found):
        clipped = (reply or "")[:300]
        raise GroundingError(f"the model's reply holds no point: {clipped!r}")
    return found
