"""Grounding on a real local desktop: real Mousepad and Calc windows, real OCR, real AT-SPI, real UNO.

Every box an expert returns is checked against the application's own accessibility
tree (for menus) or by acting on it (a span is dragged and the selection read back
from the clipboard; cells are written through UNO and read back).
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from steadyhand.core.observation import Observation
from steadyhand.environments.desktop.client import DesktopClient
from steadyhand.environments.desktop.providers.local import LocalProvider, missing_programs
from steadyhand.tools.grounding import GroundingRequest, Router
from steadyhand.tools.grounding.experts import AccessibilityExpert, StructuralExpert, TextualExpert
from steadyhand.tools.grounding.experts.accessibility import Element, parse_tree
from steadyhand.tools.grounding.experts.structural import uno_get_cells

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(bool(missing_programs()), reason=f"local desktops need {', '.join(missing_programs())}"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract (apt install tesseract-ocr)"),
    pytest.mark.skipif(shutil.which("mousepad") is None, reason="needs mousepad"),
]

TEXT = ("Grocery list for the weekend\n"
        "apples bananas cherries\n"
        "Remember to water the tomatoes before leaving\n")


def wait_for(predicate: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out waiting")


@pytest.fixture(scope="module")
def client() -> Iterator[DesktopClient]:
    provider = LocalProvider()
    desktop = provider.start(width=1280, height=720)
    try:
        with desktop.client(timeout_s=60) as c:
            c.upload_file("/tmp/notes.txt", TEXT.encode())
            c.launch(["mousepad", "/tmp/notes.txt"])
            wait_for(lambda: "notes" in c.execute("wmctrl -l", shell=True).get("output", ""))
            time.sleep(2)
            yield c
    finally:
        provider.close()


@pytest.fixture(scope="module")
def seen(client: DesktopClient) -> tuple[Observation, list[Element]]:
    """Mousepad's screen and tree, once its menu bar is in the tree."""

    def menus() -> list[Element]:
        elements = parse_tree(client.accessibility_tree())
        return elements if any(e.role == "menu" and e.name == "Document" for e in elements) else []

    elements = wait_for(menus)
    obs = Observation(screenshot=client.screenshot(), accessibility_tree=client.accessibility_tree(),
                      info={"url": client.base_url})
    return obs, elements


def menu(elements: list[Element], name: str) -> Element:
    return next(e for e in elements if e.role == "menu" and e.name == name)


def inside(point: tuple[int, int], e: Element) -> bool:
    return e.left <= point[0] < e.left + e.width and e.top <= point[1] < e.top + e.height


def scaled(obs: Observation, factor: float) -> Observation:
    image = Image.open(io.BytesIO(obs.screenshot or b""))
    image = image.resize((int(image.width * factor), int(image.height * factor)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return Observation(screenshot=buffer.getvalue(), info={"screen_size": [1280, 720]})


@pytest.mark.parametrize("factor", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("name", ["Search", "Document", "Help"])
def test_ocr_boxes_are_screen_pixels_at_any_screenshot_scale(seen: tuple[Observation, list[Element]],
                                                            name: str, factor: float) -> None:
    obs, elements = seen
    shot = obs if factor == 1.0 else scaled(obs, factor)
    result = TextualExpert("tesseract").ground(GroundingRequest(action="click", description=f'the "{name}" menu'),
                                               shot)
    assert result.target.kind == "box"
    if factor >= 1.0:  # a half-size capture's 5-pixel text is read approximately, but found in the right place
        assert result.details["text"] == name
    assert inside(result.target.center, menu(elements, name)), (result.target, menu(elements, name))


@pytest.mark.slow
def test_rapidocr_engine_and_full_page_mode_agree_on_a_menu(seen: tuple[Observation, list[Element]]) -> None:
    obs, elements = seen
    pytest.importorskip("rapidocr_onnxruntime")
    request = GroundingRequest(action="click", description='"Document"')
    for spec in ("rapidocr", "tesseract?mode=regions&first_batch=5"):
        result = TextualExpert(spec).ground(request, scaled(obs, 2.0))
        assert result.target.kind == "box"
        assert inside(result.target.center, menu(elements, "Document")), (spec, result)


def test_highlight_text_span_selects_exactly_that_text(client: DesktopClient,
                                                       seen: tuple[Observation, list[Element]]) -> None:
    obs, _ = seen
    request = GroundingRequest(action="highlight_text_span", text_span=("bananas", "water"))
    result = TextualExpert("tesseract").ground(request, obs)
    assert result.target.kind == "span"
    (x0, y0), (x1, y1) = result.target.start, result.target.end
    client.run_pyautogui(f"pyautogui.moveTo({x0}, {y0}); pyautogui.mouseDown(); "
                         f"pyautogui.moveTo({x1}, {y1}, duration=0.3); pyautogui.mouseUp()")
    client.run_pyautogui("pyautogui.hotkey('ctrl', 'c')")
    time.sleep(0.5)
    copied = client.execute("xclip -selection clipboard -o", shell=True)["output"]
    assert copied.strip() == "bananas cherries\nRemember to water", copied
    client.run_pyautogui("pyautogui.click(700, 500)")


def test_router_on_the_real_tree_and_screenshot(seen: tuple[Observation, list[Element]]) -> None:
    obs, elements = seen
    router = Router({"accessibility": AccessibilityExpert(), "textual": TextualExpert("tesseract")},
                    order={"click": ["accessibility", "textual"]})
    routed = router.ground(GroundingRequest(action="click", description="the Help menu"), obs)
    assert routed.decisions[0]["outcome"] == "accepted"
    assert inside(routed.require().target.center, menu(elements, "Help"))
    no_tree = router.ground(GroundingRequest(action="click", description='the "tomatoes" word'),
                            obs.model_copy(update={"accessibility_tree": None}))
    assert [d["outcome"] for d in no_tree.decisions] == ["failed", "accepted"]
    assert no_tree.require().details["text"].startswith("tomatoes")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice Calc")
def test_cells_through_uno_inside_the_desktop(client: DesktopClient) -> None:
    probe = client.execute(["/usr/bin/python3", "-c", "import uno"])
    if probe.get("returncode") != 0:
        pytest.skip("python3-uno is not installed in the desktop (apt install python3-uno)")
    client.launch(["soffice", "--calc", "--norestore"])
    wait_for(lambda: "LibreOffice Calc" in client.execute("wmctrl -l", shell=True).get("output", ""), 120)
    time.sleep(3)
    obs = Observation(info={"url": client.base_url})
    expert = StructuralExpert("uno")
    request = GroundingRequest(action="set_cell_values", app="Untitled 1",
                               context={"cells": {"A1": 21, "a2": "=A1*2", "B1": "total"}, "sheet": "Sheet1"})
    result = expert.ground(request, obs)
    assert result.target.kind == "cells" and result.target.sheet == "Sheet1"
    assert "Untitled 1" in (result.target.app or "")
    assert expert.apply(result.target, obs)["written"] == 3
    cells = uno_get_cells(client, ["A1", "A2", "B1"], app="Untitled 1", sheet="Sheet1")
    assert cells["A2"]["value"] == 42 and cells["A2"]["formula"] == "=A1*2" and cells["B1"]["string"] == "total"
    missing = Router({"structural": expert}).ground(
        request.model_copy(update={"context": {"cells": {"A1": 1}, "sheet": "Nope"}}), obs)
    assert not missing.ok and "no sheet 'Nope'" in missing.decisions[0]["error"]
    client.execute("pkill -f soffice.bin", shell=True)
