"""Coordinate spaces, screen maps, resizing and reading points out of model replies."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import GroundingError, GroundingRequest
from steadyhand.tools.grounding.coordinates import (
    CoordinateSpace,
    Resize,
    ScreenMap,
    parse_point,
    png_size,
    prepare_screenshot,
    screen_size,
    smart_resize,
)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("text", "unit", "yx"), [
    ("pixels", "pixels", False), ("0-1", "relative", False), ("0-1000", "thousand", False),
    ("yx-0-1000", "thousand", True), ("[y,x]-pixels", "pixels", True), ("xy-0-1", "relative", False)])
def test_spaces_parse(text: str, unit: str, yx: bool) -> None:
    space = CoordinateSpace.parse(text)
    assert (space.unit, space.yx) == (unit, yx)
    assert CoordinateSpace.parse(str(space)) == space


def test_unknown_space_is_a_clear_error() -> None:
    with pytest.raises(GroundingError, match="unknown coordinate space 'inches'"):
        CoordinateSpace.parse("inches")


@pytest.mark.parametrize("name", ["pixels", "0-1", "0-1000", "yx-pixels", "yx-0-1", "yx-0-1000"])
def test_every_space_round_trips_through_image_pixels(name: str) -> None:
    space = CoordinateSpace.parse(name)
    a, b = space.from_image(300.0, 120.0, (1000, 500))
    assert space.to_image(a, b, (1000, 500)) == pytest.approx((300.0, 120.0))


def test_spaces_write_the_same_point_differently() -> None:
    size = (1000, 500)
    assert CoordinateSpace.parse("0-1").from_image(250, 100, size) == pytest.approx((0.25, 0.2))
    assert CoordinateSpace.parse("0-1000").from_image(250, 100, size) == pytest.approx((250, 200))
    assert CoordinateSpace.parse("yx-0-1000").from_image(250, 100, size) == pytest.approx((200, 250))


def test_screen_map_undoes_a_scaled_screenshot() -> None:
    half = ScreenMap((640, 360), (1280, 720))
    assert half.to_screen(100, 50) == (200, 100)
    assert half.box_to_screen(10, 10, 20, 5) == (20, 20, 40, 10)
    double = ScreenMap((2560, 1440), (1280, 720))
    assert double.to_screen(2000, 1000) == (1000, 500)
    assert double.to_image(1000, 500) == (2000, 1000)
    assert half.to_screen(10_000, -5) == (1279, 0)  # clamped onto the screen


def test_screen_size_prefers_request_then_info_then_screenshot() -> None:
    shot = png(640, 360)
    assert png_size(shot) == (640, 360)
    assert screen_size(Observation(screenshot=shot)) == (640, 360)
    obs = Observation(screenshot=shot, info={"screen_size": {"width": 1280, "height": 720}})
    assert screen_size(obs) == (1280, 720)
    request = GroundingRequest(action="click", context={"screen_size": [1920, 1080]})
    assert screen_size(obs, request) == (1920, 1080)


def test_smart_resize_gives_multiples_within_the_pixel_budget() -> None:
    width, height = smart_resize(1280, 720, factor=28, max_pixels=1003520)
    assert width % 28 == 0 and height % 28 == 0
    assert width * height <= 1003520
    assert abs(width / height - 1280 / 720) < 0.1


def test_prepare_screenshot_resizes_and_maps_back() -> None:
    obs = Observation(screenshot=png(1280, 720))
    sent, screen_map = prepare_screenshot(obs, Resize(max_side=640))
    assert png_size(sent) == (640, 360)
    assert screen_map.to_screen(320, 180) == (640, 360)
    same, identity = prepare_screenshot(obs, Resize())
    assert same == obs.screenshot and identity.sx == 1.0
    fixed, fixed_map = prepare_screenshot(obs, Resize(size=(1000, 1000)))
    assert png_size(fixed) == (1000, 1000)
    assert fixed_map.to_screen(500, 500) == (640, 360)


@pytest.mark.parametrize(("reply", "point"), [
    ('{"x": 12, "y": 34}', (12, 34)),
    ('Sure!\n```json\n{"point": [0.25, 0.5]}\n```', (0.25, 0.5)),
    ("<point>512 300</point>", (512, 300)),
    ("click(start_box='<|box_start|>(421,96)<|box_end|>')", (421, 96)),
    ('{"bbox": [10, 20, 30, 40]}', (20, 30)),
    ("[100, 200, 300, 400]", (200, 300)),
    ("The element is at x=88, y=99.", (88, 99)),
    ("640, 360", (640, 360)),
    ('{"coordinate": {"x": 1.5, "y": 2.5}}', (1.5, 2.5)),
    ("{'x': 7, 'y': 8} (not JSON, single quotes)", (7, 8)),
])
def test_parse_point_reads_many_reply_shapes(reply: str, point: tuple[float, float]) -> None:
    assert parse_point(reply) == pytest.approx(point)


@pytest.mark.parametrize("reply", ["", "I cannot find that element.", '{"x": "left"}'])
def test_parse_point_rejects_replies_without_a_point(reply: str) -> None:
    with pytest.raises(GroundingError, match="holds no point"):
        parse_point(reply)
