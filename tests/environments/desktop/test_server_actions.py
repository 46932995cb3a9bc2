"""Action code checks and the computer_13 / Action-union mappings (no X server needed)."""

from __future__ import annotations

import pytest

from steadyhand.core.actions import Click, Done, Fail, Hotkey, PyAutoGUICode, Scroll, Typing, Wait, parse_action
from steadyhand.environments.desktop.actions import (
    ActionCodeError,
    computer13_to_code,
    parse_computer13,
    validate_pyautogui,
)
from steadyhand.environments.desktop.environment import action_code

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("code", [
    "import pyautogui\npyautogui.click(10, 20)",
    "import pyautogui, time\nx, y = 10, 20\npyautogui.moveTo(x + 5, y * 2)\ntime.sleep(0.1)",
    "for i in range(3):\n    pyautogui.press('down')",
    "pyautogui.hotkey('ctrl', 's')",
    "pyautogui.write('héllo <b>', interval=0.01)",
    "if True:\n    pyautogui.scroll(-3)\nelse:\n    pass",
])
def test_allowed_code_parses(code: str) -> None:
    assert validate_pyautogui(code).body


@pytest.mark.parametrize(("code", "fragment"), [
    ("import os\nos.system('ls')", "'os'"),
    ("from pyautogui import click", "from ... import"),
    ("pyautogui.screenshot()", "pyautogui.screenshot is not allowed"),
    ("open('/etc/passwd').read()", "attribute access"),
    ("eval('1')", "calling 'eval'"),
    ("x = pyautogui.__class__", "pyautogui.__class__ is not allowed"),
    ("(lambda: 1)()", "Lambda"),
    ("while True:\n    pass", "While"),
    ("pyautogui.click(10,", "syntax error"),
    ("", "empty"),
    ("x = [c for c in 'ab']", "ListComp"),
    ("x = __builtins__", "'__builtins__'"),
])
def test_disallowed_code_is_rejected_with_a_reason(code: str, fragment: str) -> None:
    with pytest.raises(ActionCodeError) as info:
        validate_pyautogui(code)
    assert fragment in str(info.value)


def test_errors_name_the_line() -> None:
    with pytest.raises(ActionCodeError, match=r"^line 3:"):
        validate_pyautogui("import pyautogui\npyautogui.click(1, 2)\nimport subprocess")


@pytest.mark.parametrize(("action", "expected"), [
    ({"action_type": "CLICK", "x": 10, "y": 20}, "pyautogui.click(x=10, y=20, button='left', clicks=1)"),
    ({"action_type": "CLICK", "parameters": {"button": "right", "num_clicks": 2}},
     "pyautogui.click(button='right', clicks=2)"),
    ({"action_type": "MOVE_TO", "x": 1.6, "y": 2}, "pyautogui.moveTo(2, 2)"),
    ({"action_type": "TYPING", "text": "a'b\n"}, "pyautogui.write(\"a'b\\n\")"),
    ({"action_type": "HOTKEY", "keys": ["ctrl", "c"]}, "pyautogui.hotkey('ctrl', 'c')"),
    ({"action_type": "SCROLL", "dy": -2, "dx": 1}, "pyautogui.vscroll(-2)\npyautogui.hscroll(1)"),
    ({"action_type": "key_down", "key": "shift"}, "pyautogui.keyDown('shift')"),
])
def test_computer13_maps_to_valid_code(action: dict[str, object], expected: str) -> None:
    code = computer13_to_code(action)
    assert code == expected
    validate_pyautogui(code)


@pytest.mark.parametrize(("action", "fragment"), [
    ({"action_type": "TELEPORT"}, "unknown computer_13 action_type 'TELEPORT'"),
    ({"x": 1}, "action_type"),
    ({"action_type": "CLICK", "x": 1}, "both x and y"),
    ({"action_type": "MOVE_TO", "x": "a", "y": 1}, "must be a number"),
    ({"action_type": "HOTKEY", "keys": []}, "non-empty list"),
    ({"action_type": "CLICK", "button": "thumb"}, "button must be"),
    ({"action_type": "SCROLL"}, "non-zero"),
])
def test_bad_computer13_is_rejected(action: dict[str, object], fragment: str) -> None:
    with pytest.raises(ActionCodeError, match=fragment):
        computer13_to_code(action)


def test_control_types_are_recognised() -> None:
    assert parse_computer13({"action_type": "fail"}).is_control
    assert isinstance(action_code({"action_type": "FAIL"}), Fail)
    assert isinstance(action_code("DONE"), Done)
    assert action_code({"action_type": "WAIT", "seconds": 0.5}) == Wait(seconds=0.5)


def test_union_actions_map_to_code() -> None:
    assert action_code(Click(x=5, y=6)) == "pyautogui.click(x=5, y=6, button='left', clicks=1)"
    assert action_code(Typing(text="<x>")) == "pyautogui.write('<x>')"
    assert action_code(Hotkey(keys=["ctrl", "s"])) == "pyautogui.hotkey('ctrl', 's')"
    assert action_code(Scroll(dy=3)) == "pyautogui.vscroll(3)"
    assert action_code(PyAutoGUICode(code="pyautogui.press('a')")) == "pyautogui.press('a')"
    assert action_code({"kind": "desktop.double_click", "x": 1, "y": 2}) == "pyautogui.doubleClick(x=1, y=2)"
    assert parse_action({"kind": "desktop.pyautogui", "code": "x"}).kind == "desktop.pyautogui"


def test_foreign_actions_are_refused() -> None:
    with pytest.raises(ActionCodeError, match=r"sql\.execute"):
        action_code(parse_action({"kind": "sql.execute", "query": "select 1"}))
    with pytest.raises(ActionCodeError, match="invalid action"):
        action_code({"kind": "desktop.click", "x": -1, "y": 0})
