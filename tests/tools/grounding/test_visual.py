"""The visual expert against an OpenAI-compatible server double (see ``vlm_double``'s docstring:
the real thing, a GPU model server, cannot run here)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import GroundingError, GroundingRequest, Router
from steadyhand.tools.grounding.experts.visual import VisualExpert

from .vlm_double import VLMDouble

pytest.importorskip("langchain_openai")


@pytest.fixture(scope="module")
def server() -> Iterator[VLMDouble]:
    double = VLMDouble()
    yield double
    double.close()


def shot(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


CLICK = GroundingRequest(action="click", description='the "Save" button')
SCREEN = Observation(screenshot=shot(1280, 720))


@pytest.mark.parametrize(("space", "template"), [
    ("pixels", '{{"x": {a}, "y": {b}}}'),
    ("0-1", "```json\n[{a}, {b}]\n```"),
    ("0-1000", "click(start_box='<|box_start|>({a},{b})<|box_end|>')"),
    ("yx-0-1000", "<point>{a} {b}</point>"),
    ("yx-pixels", "The point is ({a}, {b})."),
])
def test_every_coordinate_space_lands_on_the_same_screen_pixel(server: VLMDouble, space: str, template: str) -> None:
    server.behaviour.target, server.behaviour.space, server.behaviour.template = (0.25, 0.75), space, template
    server.behaviour.status = 200
    expert = VisualExpert(f"openai:ui-model@{server.url}?space={space}")
    result = expert.ground(CLICK, SCREEN)
    assert result.target.kind == "point"
    assert (result.target.x, result.target.y) == pytest.approx((320, 540), abs=1)
    assert result.expert == "visual" and result.details["space"] == str(expert.space)


def test_resized_for_the_model_and_mapped_back_through_a_scaled_screenshot(server: VLMDouble) -> None:
    server.behaviour.target, server.behaviour.space = (0.5, 0.25), "pixels"
    server.behaviour.template, server.behaviour.status = '{{"x": {a}, "y": {b}}}', 200
    half = Observation(screenshot=shot(640, 360), info={"screen_size": [1280, 720]})
    expert = VisualExpert(f"openai:qwen@{server.url}?space=pixels&factor=28&max_pixels=200000")
    result = expert.ground(CLICK, half)
    sent = server.behaviour.requests[-1]["image_size"]
    assert sent[0] % 28 == 0 and sent[1] % 28 == 0 and sent != (640, 360)
    assert (result.target.x, result.target.y) == pytest.approx((640, 180), abs=2)
    assert str(sent[0]) in server.behaviour.requests[-1]["prompt"]


def test_garbage_out_of_range_and_server_errors_are_misses(server: VLMDouble) -> None:
    server.behaviour.status = 200
    server.behaviour.template = "I am not sure where that is."
    expert = VisualExpert(f"openai:m@{server.url}?max_retries=0")
    with pytest.raises(GroundingError, match="holds no point"):
        expert.ground(CLICK, SCREEN)
    server.behaviour.template, server.behaviour.target = '{{"x": {a}, "y": {b}}}', (1.5, 0.5)
    with pytest.raises(GroundingError, match="outside"):
        expert.ground(CLICK, SCREEN)
    server.behaviour.status = 503
    with pytest.raises(GroundingError, match="model call failed"):
        expert.ground(CLICK, SCREEN)
    server.behaviour.status = 200


def test_router_builds_visual_from_a_spec_and_records_the_decision(server: VLMDouble) -> None:
    server.behaviour.target, server.behaviour.space = (0.1, 0.1), "0-1000"
    server.behaviour.template, server.behaviour.status = "[{a}, {b}]", 200
    router = Router.from_specs({"visual": f"openai:ui-tars@{server.url}?space=0-1000&confidence=0.7"})
    routed = router.ground(CLICK, SCREEN)
    assert routed.ok and routed.result is not None
    assert (routed.result.target.x, routed.result.target.y) == pytest.approx((128, 72), abs=1)
    [decision] = routed.decisions
    assert decision["expert"] == "visual" and decision["outcome"] == "accepted"
    assert decision["confidence"] == 0.7 and decision["target"] == {"kind": "point", "x": 128, "y": 72}
    assert decision["latency_s"] >= 0 and decision["error"] is None
    assert server.behaviour.requests[-1]["model"] == "ui-tars"
