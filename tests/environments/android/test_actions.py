"""AndroidWorld actions as adb commands (fast: no device)."""

from __future__ import annotations

import pytest

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
    AndroidStatus,
    AndroidWait,
    Click,
    Done,
    Fail,
    Hotkey,
    PyAutoGUICode,
    Scroll,
    Typing,
    parse_action,
)
from steadyhand.core.errors import ModelOutputError
from steadyhand.environments.android.actions import (
    DEFAULT_APPS,
    ActionError,
    KeyboardTextError,
    check_typeable,
    from_json_action,
    plan_action,
    type_commands,
)
from steadyhand.environments.android.uiautomator import UIElement

SCREEN = (1080, 2400)
ELEMENTS = [UIElement(index=0, text="List", scrollable=True, bounds=(0, 280, 1080, 2000)),
            UIElement(index=1, text="Name", class_name="android.widget.EditText", bounds=(60, 400, 1020, 540))]


def commands(action, elements=ELEMENTS):  # type: ignore[no-untyped-def]
    return [list(c) for c in plan_action(action, elements, SCREEN).commands]


def test_click_and_long_press_by_point_or_by_element_centre() -> None:
    assert commands(AndroidClick(x=10, y=20)) == [["input", "tap", "10", "20"]]
    assert commands(AndroidClick(index=1)) == [["input", "tap", "540", "470"]]
    assert commands(AndroidLongPress(index=1)) == [["input", "swipe", "540", "470", "540", "470", "1000"]]


def test_a_target_is_one_index_or_one_point() -> None:
    for bad in ({"x": 1}, {"index": 1, "x": 1, "y": 2}, {}):
        with pytest.raises(ModelOutputError):
            parse_action({"kind": "android.click", **bad})
    assert parse_action({"kind": "android.input_text", "text": "hi"}) == AndroidInputText(text="hi")


def test_an_index_off_the_list_is_an_action_error() -> None:
    with pytest.raises(ActionError, match=r"invalid element index 5: the screen has elements 0\.\.1"):
        plan_action(AndroidClick(index=5), ELEMENTS, SCREEN)
    with pytest.raises(ActionError, match="no UI elements"):
        plan_action(AndroidClick(index=0), [], SCREEN)


def test_input_text_taps_the_field_types_each_line_and_presses_enter() -> None:
    assert commands(AndroidInputText(text="a b\nc", index=1)) == [
        ["input", "tap", "540", "470"], ["input", "text", "a%sb"], ["input", "keyevent", "KEYCODE_ENTER"],
        ["input", "text", "c"], ["input", "keyevent", "KEYCODE_ENTER"]]
    assert commands(AndroidInputText(text="x"))[0] == ["input", "text", "x"]  # no target: the focused field


@pytest.mark.parametrize(("text", "named"), [
    ("café", "'é' (LATIN SMALL LETTER E WITH ACUTE) at 3"),
    ("日本", "'日' (CJK UNIFIED IDEOGRAPH-65E5) at 0"),
    ("a\tb", "'\\t' (U+0009) at 1"),
    ("100%s", "'%s' at 3"),
    ("🙂", "SLIGHTLY SMILING FACE"),
])
def test_text_the_keyboard_cannot_type_is_refused_by_name(text: str, named: str) -> None:
    with pytest.raises(KeyboardTextError, match="the device keyboard cannot type") as info:
        type_commands(text)
    assert named in str(info.value)
    with pytest.raises(KeyboardTextError):
        plan_action(AndroidInputText(text=text), ELEMENTS, SCREEN)


def test_ascii_with_shell_specials_is_typeable() -> None:
    check_typeable("it's 5 > 3; a|b & \"q\" $HOME `x` (y) #z ~\\")


@pytest.mark.parametrize(("direction", "end"), [
    ("down", ("540", "0")), ("up", ("540", "2400")), ("right", ("0", "1200")), ("left", ("1080", "1200"))])
def test_scroll_directions_are_androidworlds(direction: str, end: tuple[str, str]) -> None:
    # "down" moves the finger up from the centre: the content below comes into view
    (command,) = commands(AndroidScroll(direction=direction))  # type: ignore[arg-type]
    assert command[:4] == ["input", "swipe", "540", "1200"] and tuple(command[4:6]) == end


def test_scroll_inside_an_element() -> None:
    assert commands(AndroidScroll(direction="down", index=0)) == [
        ["input", "swipe", "540", "1140", "540", "280", "500"]]


def test_keys_and_apps() -> None:
    assert commands(AndroidNavigateHome()) == [["input", "keyevent", "KEYCODE_HOME"]]
    assert commands(AndroidNavigateBack()) == [["input", "keyevent", "KEYCODE_BACK"]]
    assert commands(AndroidKeyboardEnter()) == [["input", "keyevent", "KEYCODE_ENTER"]]
    assert commands(AndroidOpenApp(app_name=" Settings ")) == [["am", "start", "-n", DEFAULT_APPS["settings"]]]
    assert commands(AndroidOpenApp(app_name="org.example.app")) == [
        ["monkey", "-p", "org.example.app", "-c", "android.intent.category.LAUNCHER", "1"]]
    with pytest.raises(ActionError, match="unknown app 'Frobnicator'; known apps: "):
        plan_action(AndroidOpenApp(app_name="Frobnicator"), ELEMENTS, SCREEN)


def test_control_actions_carry_pause_answer_and_status() -> None:
    assert plan_action(AndroidWait(seconds=0.5), [], SCREEN).pause_s == 0.5
    assert plan_action(AndroidAnswer(text="42"), [], SCREEN).answer == "42"
    assert plan_action(AndroidStatus(goal_status="infeasible"), [], SCREEN).status == "infeasible"
    assert plan_action(Done(), [], SCREEN).status == "complete"
    assert plan_action(Fail(), [], SCREEN).status == "infeasible"


def test_desktop_actions_a_phone_can_honour() -> None:
    assert commands(Click(x=5, y=6, num_clicks=2)) == [["input", "tap", "5", "6"]] * 2
    assert commands(Click(x=5, y=6, button="right"))[0][:2] == ["input", "swipe"]
    assert commands(Typing(text="hi there")) == [["input", "text", "hi%sthere"]]
    assert commands(Hotkey(keys=["esc"])) == [["input", "keyevent", "KEYCODE_BACK"]]
    assert commands(Scroll(dy=-3))[0][4:6] == ["540", "0"]  # wheel down = scroll down
    for refused in (Click(), Hotkey(keys=["ctrl", "s"]), PyAutoGUICode(code="pyautogui.click(1, 2)")):
        with pytest.raises(ActionError):
            plan_action(refused, [], SCREEN)


def test_androidworld_json_actions() -> None:
    assert from_json_action({"action_type": "click", "index": 3, "x": None}) == AndroidClick(index=3)
    assert from_json_action({"action_type": "scroll", "direction": "up"}) == AndroidScroll(direction="up")
    assert from_json_action({"action_type": "status", "goal_status": "task_complete"}) == AndroidStatus(
        goal_status="complete")
    assert from_json_action({"action_type": "open_app", "app_name": "Clock"}) == AndroidOpenApp(app_name="Clock")
    with pytest.raises(ActionError, match="unknown action_type 'swipe_up'"):
        from_json_action({"action_type": "swipe_up"})
    with pytest.raises(ActionError, match="direction"):
        from_json_action({"action_type": "scroll", "direction": "sideways"})
