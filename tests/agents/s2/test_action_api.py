"""The S2 action API: one definition gives the prompt listing, the ast parser and the compiled desktop actions."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from steadyhand.agents.s2.action_api import (
    S2_API,
    CallParseError,
    ClickCall,
    GroundingMissing,
    SetCellValuesCall,
    call_from_dict,
    cell_index,
    parse_call,
    render_api,
)
from steadyhand.core.actions import Click, Done, Fail, Hotkey, PyAutoGUICode, Typing, Wait
from steadyhand.environments.desktop.actions import validate_pyautogui
from steadyhand.environments.desktop.environment import action_code
from steadyhand.tools.grounding.base import BoxTarget, CellTarget, GroundingResult, PointTarget, SpanTarget

BRIEF_API = {
    "click": ["element_description", "num_clicks", "button", "hold_keys"],
    "type": ["element_description", "text", "overwrite", "enter"],
    "scroll": ["element_description", "clicks", "shift"],
    "drag_and_drop": ["start_description", "end_description", "hold_keys"],
    "highlight_text_span": ["starting_phrase", "ending_phrase"],
    "set_cell_values": ["cells", "app_name", "sheet_name"],
    "hotkey": ["keys"],
    "hold_and_press": ["hold_keys", "press_keys"],
    "open": ["app_or_file"],
    "switch_applications": ["app"],
    "navigate_back": [],
    "navigate_home": [],
    "answer": ["text"],
    "save_to_knowledge": ["notes"],
    "wait": ["seconds"],
    "done": [],
    "fail": [],
}


def _result(target: object, expert: str = "test") -> GroundingResult:
    return GroundingResult(target=target, confidence=0.9, expert=expert)  # type: ignore[arg-type]


def test_the_api_is_the_one_the_design_names() -> None:
    assert {cls.api_name: [f for f in cls.model_fields if f != "kind"] for cls in S2_API} == BRIEF_API


def test_the_prompt_listing_is_generated_from_the_definitions() -> None:
    listing = render_api()
    headers = {line.split("(")[0]: line for line in listing.splitlines() if not line.startswith(" ")}
    desktop = [cls for cls in S2_API if cls.api_name not in ("navigate_back", "navigate_home", "answer")]
    assert list(headers) == [cls.api_name for cls in desktop]
    for cls in desktop:
        fields = [f for f in cls.model_fields if f != "kind"]
        header = headers[cls.api_name]
        assert [header.find(f"{f}: ") for f in fields] == sorted(header.find(f"{f}: ") for f in fields)
        assert all(f"{f}: " in header for f in fields)
        assert (inspect.getdoc(cls) or "").splitlines()[0] in listing
        for name, field in cls.model_fields.items():
            if field.description:
                assert f"{name}: {field.description}" in listing
    assert "PydanticUndefined" not in listing


@pytest.mark.parametrize(("reply", "expected"), [
    ("I will save.\n```python\nagent.hotkey(['ctrl', 's'])\n```", {"kind": "s2.hotkey", "keys": ["ctrl", "s"]}),
    ("agent.click('the OK button', 2, 'left')",
     {"kind": "s2.click", "element_description": "the OK button", "num_clicks": 2, "button": "left", "hold_keys": []}),
    ("click(element_description='File', button='right')",
     {"kind": "s2.click", "element_description": "File", "num_clicks": 1, "button": "right", "hold_keys": []}),
    ("```\nagent.type(text='hello', enter=True)\n```",
     {"kind": "s2.type", "element_description": None, "text": "hello", "overwrite": False, "enter": True}),
    ("agent.wait(time=2)", {"kind": "s2.wait", "seconds": 2.0}),  # upstream's argument name
    ("agent.open(app_or_filename='mousepad')", {"kind": "s2.open", "app_or_file": "mousepad"}),
    ("agent.save_to_knowledge('the total is 42')", {"kind": "s2.save_to_knowledge", "notes": ["the total is 42"]}),
    ("agent.set_cell_values({'b6': '=SUM(B2:B5)'}, 'LibreOffice Calc', 'Sheet1')",
     {"kind": "s2.set_cell_values", "cells": {"B6": "=SUM(B2:B5)"}, "app_name": "LibreOffice Calc",
      "sheet_name": "Sheet1"}),
    ("Done with it.\n```python\nagent.done()\n```\nThat is all.", {"kind": "s2.done"}),
    # a cut-off reply: the complete first line still counts
    ("```python\nagent.hotkey(['ctrl', 'z'])\nagent.click('the", {"kind": "s2.hotkey", "keys": ["ctrl", "z"]}),
])
def test_replies_parse_into_calls(reply: str, expected: dict[str, object]) -> None:
    call, _ = parse_call(reply)
    assert call.model_dump() == expected
    assert call_from_dict(call.model_dump()) == call


def test_only_the_first_call_is_used_and_the_worker_is_told() -> None:
    call, warnings = parse_call("```python\nagent.hotkey(['ctrl', 'a'])\nagent.hotkey(['ctrl', 'c'])\n```")
    assert call.model_dump()["keys"] == ["ctrl", "a"]
    assert warnings == ["only the first of 2 calls was used: one action per turn"]


def test_a_call_a_small_model_wraps_in_a_function_still_counts() -> None:
    reply = ("```python\ndef save_document():\n    # save it\n    if True:\n        agent.hotkey(['ctrl', 's'])\n"
             "    agent.done()\n\nsave_document()\n```")
    call, warnings = parse_call(reply)
    assert call.model_dump() == {"kind": "s2.hotkey", "keys": ["ctrl", "s"]}
    assert warnings == ["only the first of 2 calls was used: one action per turn",
                        "the call was inside a function or block; write it on its own line at the top level"]
    # A top-level call wins over nested ones, wherever it stands.
    call, warnings = parse_call("```python\ndef helper():\n    agent.done()\nagent.wait(1)\n```")
    assert call.model_dump() == {"kind": "s2.wait", "seconds": 1.0} and warnings == []


@pytest.mark.parametrize(("reply", "message"), [
    ("I think we are nearly there.", "no action found"),
    ("agent.launch_rockets()", "no action found"),
    ("```python\nagent.click(target)\n```", "must be a literal"),
    ("agent.click('x', clicks=2)", "has no argument 'clicks'"),
    ("agent.click('x', 1, 'left', [], 5)", "takes at most 4 arguments"),
    ("agent.click('x', num_clicks=7)", "num_clicks"),
    ("agent.hotkey(['ctrl', 'not a key!'])", "not a key name"),
    ("agent.set_cell_values({'B': 1})", "not a cell reference"),
    ("agent.click(**{'element_description': 'x'})", r"\*\*kwargs"),
])
def test_bad_calls_are_explained_not_raised_as_crashes(reply: str, message: str) -> None:
    with pytest.raises(CallParseError, match=message):
        parse_call(reply)


def test_model_code_is_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"agent.click(__import__('pathlib').Path({str(marker)!r}).write_text('x'))"
    with pytest.raises(CallParseError, match="must be a literal"):
        parse_call(payload)
    with pytest.raises(CallParseError):
        parse_call(f"```python\n__import__('pathlib').Path({str(marker)!r}).write_text('x')\n```")
    assert not marker.exists()


def test_grounded_calls_compile_to_desktop_actions_a_desktop_accepts() -> None:
    box = _result(BoxTarget(left=100, top=200, width=40, height=20))
    point = _result(PointTarget(x=5, y=6))
    cases = [
        (parse_call("agent.click('OK', 2)")[0], {"target": box}, Click(x=120, y=210, num_clicks=2)),
        (parse_call("agent.type(text='hi')")[0], {}, Typing(text="hi")),
        (parse_call("agent.hotkey(['ctrl', 's'])")[0], {}, Hotkey(keys=["ctrl", "s"])),
        (parse_call("agent.wait(2)")[0], {}, Wait(seconds=2)),
        (parse_call("agent.done()")[0], {}, Done()),
        (parse_call("agent.fail()")[0], {}, Fail()),
    ]
    for call, targets, expected in cases:
        assert call.compile(targets) == expected
    codes = [
        parse_call("agent.click('OK', 1, 'right', ['ctrl'])")[0].compile({"target": box}),
        parse_call("agent.type('the search box', 'cats', True, True)")[0].compile({"target": point}),
        parse_call("agent.scroll('the list', -3, True)")[0].compile({"target": point}),
        parse_call("agent.drag_and_drop('a', 'b', ['shift'])")[0].compile({"start": point, "end": box}),
        parse_call("agent.highlight_text_span('quick', 'dog')")[0].compile(
            {"span": _result(SpanTarget(start=(1, 2), end=(30, 2)))}),
        parse_call("agent.hold_and_press(['alt'], ['tab', 'tab'])")[0].compile({}),
        parse_call("agent.open('mousepad')")[0].compile({}),
        parse_call("agent.switch_applications('Mousepad')")[0].compile({"target": point}),
    ]
    for action in codes:
        assert action is not None
        todo = action_code(action)  # what DesktopEnvironment.step runs; raises on anything it refuses
        if isinstance(action, PyAutoGUICode):
            validate_pyautogui(action.code)
    ctrl_click = codes[0]
    assert isinstance(ctrl_click, PyAutoGUICode)
    assert ctrl_click.code.splitlines() == ["pyautogui.keyDown('ctrl')", "pyautogui.click(120, 210, clicks=1, "
                                            "button='right')", "pyautogui.keyUp('ctrl')"]
    typed = codes[1]
    assert isinstance(typed, PyAutoGUICode)
    assert typed.code.splitlines() == ["pyautogui.click(5, 6)", "pyautogui.hotkey('ctrl', 'a')",
                                       "pyautogui.press('backspace')", "pyautogui.write('cats')",
                                       "pyautogui.press('enter')"]
    assert todo  # the last action compiled to something runnable


def test_cells_compile_to_keyboard_entry_in_reading_order() -> None:
    call = SetCellValuesCall(cells={"B2": 40, "A1": "Item", "C1": True})
    action = call.compile({"cells": _result(CellTarget(cells=dict(call.cells), sheet="Sheet1"))})
    assert isinstance(action, PyAutoGUICode)
    validate_pyautogui(action.code)
    writes = [line for line in action.code.splitlines() if "write" in line]
    # Each cell through the Name Box on the grounded sheet, then its value.
    assert writes == ["pyautogui.write(\"$'Sheet1'.A1\\n\")", "pyautogui.write('Item\\n')",
                      "pyautogui.write(\"$'Sheet1'.C1\\n\")", "pyautogui.write('TRUE\\n')",
                      "pyautogui.write(\"$'Sheet1'.B2\\n\")", "pyautogui.write('40\\n')"]
    assert action.code.count("pyautogui.hotkey('ctrl', 'shift', 'f5')") == 3
    active = call.compile({"cells": _result(CellTarget(cells={"A1": 1}))})  # no sheet: the active one
    assert "pyautogui.write('A1\\n')" in active.code  # type: ignore[union-attr]
    assert cell_index("AB12") == (27, 11)


def test_a_missing_or_wrong_target_is_reported() -> None:
    click = ClickCall(element_description="OK")
    with pytest.raises(GroundingMissing, match="grounded 'target'"):
        click.compile({})
    with pytest.raises(GroundingMissing, match="cells"):
        click.compile({"target": _result(CellTarget(cells={"A1": 1}))})


def test_calls_compile_to_android_actions_on_the_android_target() -> None:
    from steadyhand.agents.s2.action_api import NotOnTarget, api_for
    from steadyhand.core.actions import (
        AndroidAnswer,
        AndroidClick,
        AndroidInputText,
        AndroidKeyboardEnter,
        AndroidLongPress,
        AndroidNavigateBack,
        AndroidNavigateHome,
        AndroidOpenApp,
        AndroidScroll,
    )

    box = {"target": _result(BoxTarget(left=60, top=320, width=960, height=140))}
    cases = [
        ("agent.click('the Save button')", box, AndroidClick(x=540, y=390)),
        ("agent.click('the note', 1, 'right')", box, AndroidLongPress(x=540, y=390)),
        ("agent.type('the title field', 'groceries')", box, AndroidInputText(text="groceries", x=540, y=390)),
        ("agent.type(text='milk')", {}, AndroidInputText(text="milk")),
        ("agent.type(text='', enter=True)", {}, AndroidKeyboardEnter()),
        ("agent.scroll('the list', -3)", {}, AndroidScroll(direction="down")),
        ("agent.scroll('the list', 2)", {}, AndroidScroll(direction="up")),
        ("agent.scroll('the tabs', -1, True)", {}, AndroidScroll(direction="left")),
        ("agent.open('Notes')", {}, AndroidOpenApp(app_name="Notes")),
        ("agent.navigate_back()", {}, AndroidNavigateBack()),
        ("agent.navigate_home()", {}, AndroidNavigateHome()),
        ("agent.answer('42')", {}, AndroidAnswer(text="42")),
        ("agent.wait(2)", {}, Wait(seconds=2)),
        ("agent.done()", {}, Done()),
        ("agent.fail()", {}, Fail()),
    ]
    for text, targets, expected in cases:
        call = parse_call(text)[0]
        assert call.compile(targets, "android") == expected, text
    assert parse_call("agent.scroll('the list', -3)")[0].requests(target="android") == {}
    # desktop behaviour is unchanged and the Android-only calls are not on the desktop (nor the reverse)
    assert parse_call("agent.click('OK')")[0].compile(box) == Click(x=540, y=390)
    for text, target in (("agent.navigate_back()", "desktop"), ("agent.hotkey(['ctrl', 's'])", "android"),
                         ("agent.click('OK', 2)", "android"), ("agent.type('f', 'x', True)", "android")):
        with pytest.raises(NotOnTarget):
            parse_call(text)[0].compile(box, target)  # type: ignore[arg-type]
    android = [cls.api_name for cls in api_for("android")]
    assert android == ["click", "type", "scroll", "open", "navigate_back", "navigate_home", "answer",
                       "save_to_knowledge", "wait", "done", "fail"]
    listing = render_api(api_for("android"))
    assert "navigate_back()" in listing and "hotkey" not in listing and "navigate_back" not in render_api()


def test_android_episodes_ground_with_android_ui_first_and_list_only_android_calls() -> None:
    from steadyhand.agents.s2.grounding import android_grounding, build_grounder
    from steadyhand.agents.s2.prompts import worker_system

    experts, order = android_grounding({"textual": "tesseract"})
    assert list(experts) == ["android_ui", "textual"]
    assert order["click"] == order["type"] == ["android_ui", "textual"]
    experts, order = android_grounding({"textual": "tesseract", "android_ui": "?min_score=0.8"},
                                       {"click": ["textual"]})
    assert experts == {"android_ui": "?min_score=0.8", "textual": "tesseract"}
    assert order["click"] == ["textual"] and order["type"] == ["android_ui", "textual"]
    router = build_grounder(*android_grounding({"accessibility": ""})[:1],
                            order=android_grounding({"accessibility": ""})[1])
    assert router.plan("click")[0] == "android_ui"  # type: ignore[attr-defined]
    phone = worker_system("Android", "android")
    assert "an Android phone" in phone and "navigate_home()" in phone and "hotkey(" not in phone
    assert "navigate_home" not in worker_system() and "Linux desktop" in worker_system()
