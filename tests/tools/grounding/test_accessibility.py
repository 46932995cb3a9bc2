"""The accessibility expert on OSWorld-style trees (real Calc and Mousepad trees: test_desktop.py)."""

from __future__ import annotations

import pytest

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding import GroundingError, GroundingRequest
from steadyhand.tools.grounding.experts.accessibility import AccessibilityExpert, parse_tree

from .trees import EDITOR


def ground(description: str, xml: str = EDITOR) -> tuple[int, int, int, int]:
    result = AccessibilityExpert().ground(GroundingRequest(action="click", description=description),
                                          Observation(accessibility_tree=xml))
    target = result.target
    assert target.kind == "box"
    return target.left, target.top, target.width, target.height


def test_parse_tree_keeps_showing_elements_and_marks_the_active_window() -> None:
    elements = parse_tree(EDITOR)
    names = [e.name for e in elements]
    assert "Hidden" not in names
    assert {e.name for e in elements if e.active} >= {"File", "Save", "Wrap lines"}
    assert next(e for e in elements if e.top == 400).active is False


@pytest.mark.parametrize(("description", "box"), [
    ('the "Save" button', (100, 50, 60, 30)),          # the active window's, not the other app's
    ('the "Save As" button', (170, 50, 80, 30)),
    ("Edit menu", (40, 20, 40, 25)),
    ("the Wrap lines checkbox", (400, 50, 120, 30)),
    ('"Saved" label', (300, 50, 60, 30)),
])
def test_descriptions_find_their_elements(description: str, box: tuple[int, int, int, int]) -> None:
    assert ground(description) == box


def test_misses_are_grounding_errors() -> None:
    with pytest.raises(GroundingError, match="no element matches"):
        ground('the "Preferences" button')
    with pytest.raises(GroundingError, match="no accessibility tree"):
        AccessibilityExpert().ground(GroundingRequest(action="click", description="x"), Observation())
    with pytest.raises(GroundingError, match="not valid XML"):
        ground('"Save"', xml="<desktop-frame><unclosed></desktop-frame>")
