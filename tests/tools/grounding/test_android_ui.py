"""The android_ui expert on UI dumps as the android environment reports them (``info["ui_elements"]``)."""

from __future__ import annotations

from typing import Any

import pytest

from steadyhand.core.observation import Observation
from steadyhand.tools.grounding.base import BoxTarget, GroundingError, GroundingRequest, build_expert
from steadyhand.tools.grounding.experts.android_ui import (
    AndroidUIExpert,
    content_words,
    parse_elements,
    quoted,
    resource_words,
)


def _el(text: str = "", desc: str = "", rid: str = "", cls: str = "android.widget.TextView",
        bounds: tuple[int, int, int, int] = (0, 0, 0, 0), **flags: bool) -> dict[str, Any]:
    return {"text": text, "content_desc": desc, "resource_id": rid, "class_name": cls, "bounds": list(bounds),
            **flags}


#: The Notes app's editor, as the simulated device dumps it.
EDITOR = [
    _el("<", "Navigate up", cls="android.widget.ImageButton", bounds=(20, 120, 140, 240), clickable=True),
    _el("New note", bounds=(170, 140, 780, 230)),
    _el("Save", "Save", "com.example.notes:id/save", "android.widget.Button", (800, 130, 1040, 230), clickable=True),
    _el("Title", rid="com.example.notes:id/title", cls="android.widget.EditText", bounds=(60, 320, 1020, 460),
        clickable=True, focused=True),
    _el("Note", rid="com.example.notes:id/body", cls="android.widget.EditText", bounds=(60, 500, 1020, 2200),
        clickable=True),
]
#: The launcher.
HOME = [
    _el("12:00 PM", rid="com.android.launcher3:id/clock", bounds=(80, 280, 1000, 460)),
    _el("Contacts", "Contacts", bounds=(0, 1700, 270, 1960), clickable=True),
    _el("Notes", "Notes", bounds=(270, 1700, 540, 1960), clickable=True),
    _el("Settings", "Settings", bounds=(540, 1700, 810, 1960), clickable=True),
]
#: The notes list, with the floating "new note" button known only by its description.
NOTES = [
    _el("Notes", bounds=(50, 140, 780, 230)),
    _el(rid="com.example.notes:id/list", cls="androidx.recyclerview.widget.RecyclerView",
        bounds=(0, 280, 1080, 2400), scrollable=True),
    _el("No notes yet", rid="com.example.notes:id/empty", bounds=(60, 360, 1020, 440)),
    _el(desc="New note", rid="com.example.notes:id/fab", cls="android.widget.ImageButton",
        bounds=(820, 2100, 1000, 2280), clickable=True),
]


def _obs(elements: list[dict[str, Any]] | None) -> Observation:
    return Observation(info={} if elements is None else {"ui_elements": elements})


def _ground(elements: list[dict[str, Any]], description: str, action: str = "click") -> BoxTarget:
    result = AndroidUIExpert().ground(GroundingRequest(action=action, description=description), _obs(elements))
    assert result.expert == "android_ui" and 0.6 <= result.confidence <= 1.0
    assert isinstance(result.target, BoxTarget)
    return result.target


def test_description_helpers() -> None:
    assert quoted('the "Settings" app icon on the home screen') == ["Settings"]
    assert quoted("the 'Save' button, don't miss it") == ["Save"]
    assert content_words("the Settings app icon on the home screen") == "settings"
    assert resource_words("com.example.notes:id/newNote_button") == "new note button"
    assert len(parse_elements(NOTES)) == 4
    assert parse_elements([_el("hidden", bounds=(10, 10, 10, 50))]) == []


@pytest.mark.parametrize(("elements", "description", "action", "box"), [
    (HOME, 'the "Settings" app icon on the home screen', "click", (540, 1700, 270, 260)),
    (HOME, "the Notes app", "click", (270, 1700, 270, 260)),
    (NOTES, "the new note button", "click", (820, 2100, 180, 180)),
    (NOTES, "the floating button to add a new note", "long_press", (820, 2100, 180, 180)),
    (EDITOR, 'the "Save" button', "click", (800, 130, 240, 100)),
    (EDITOR, "the title field", "type", (60, 320, 960, 140)),
    (EDITOR, "the note body text area", "type", (60, 500, 960, 1700)),
    (NOTES, "the notes list", "scroll", (0, 280, 1080, 2120)),
])
def test_it_finds_the_described_element(elements: list[dict[str, Any]], description: str, action: str,
                                        box: tuple[int, int, int, int]) -> None:
    target = _ground(elements, description, action)
    assert (target.left, target.top, target.width, target.height) == box


def test_an_empty_field_is_found_by_its_kind_when_typing() -> None:
    fields = [_el(cls="android.widget.EditText", bounds=(0, 100, 500, 200), clickable=True),
              _el("Search", bounds=(0, 0, 500, 80))]
    assert _ground(fields, "the text field", "type").top == 100


def test_misses_raise_grounding_errors() -> None:
    expert = AndroidUIExpert()
    with pytest.raises(GroundingError, match="no info"):
        expert.ground(GroundingRequest(action="click", description="Save"), _obs(None))
    with pytest.raises(GroundingError, match="no UI element matches"):
        expert.ground(GroundingRequest(action="click", description='the "Bluetooth" switch'), _obs(EDITOR))
    with pytest.raises(GroundingError, match="no UI element matches"):
        expert.ground(GroundingRequest(action="click", description="Save"), _obs([]))
    with pytest.raises(GroundingError, match="not a list"):
        expert.ground(GroundingRequest(action="click", description="Save"), _obs({"a": 1}))  # type: ignore[arg-type]


def test_it_is_registered_with_a_spec() -> None:
    expert = build_expert("android_ui", "?min_score=0.95")
    assert isinstance(expert, AndroidUIExpert) and expert.min_score == 0.95
    assert {"click", "type", "scroll", "long_press"} <= expert.serves
    with pytest.raises(GroundingError):  # "Not" is close to "Note", but not that close
        expert.ground(GroundingRequest(action="click", description='"Not"'), _obs(EDITOR))
