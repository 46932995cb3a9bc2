"""AndroidWorld's actions as ADB shell commands (pure functions, no device needed).

:func:`plan_action` turns one action of the Action union into the ``adb shell``
command lines (argument lists) that perform it, following AndroidWorld's
actuation:

* click: ``input tap X Y`` at the point, or at the centre of element ``index``;
* long_press: ``input swipe X Y X Y 1000`` (a held touch);
* input_text: a tap on the field when one is given, ``input text`` per line
  (spaces sent as ``%s``) with ``input keyevent KEYCODE_ENTER`` between lines,
  then Enter;
* scroll: a swipe from the centre of the screen (or of element ``index``) to its
  edge — "down" swipes up, so the content below comes into view;
* navigate_home / navigate_back / keyboard_enter: HOME, BACK, ENTER key events;
* open_app: ``am start -n <component>`` for a known app name, or
  ``monkey -p <package> -c android.intent.category.LAUNCHER 1`` for a package name.

Desktop actions a phone can honour (a click at a point, typing, Enter/Backspace/
Escape, a wheel scroll) are accepted too (:func:`plan_desktop_action`), so agents
written for desktops can act on a phone; others are refused with a clear error.

Text the device keyboard cannot type — characters outside printable ASCII (the
virtual keyboard's key map), control characters other than newlines, and the
sequence ``%s`` (``input text`` turns it into a space) — raises
:class:`KeyboardTextError` naming each offending character, instead of being
dropped as AndroidWorld does.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from steadyhand.core.actions import (
    ActionBase,
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
    DoubleClick,
    Fail,
    Hotkey,
    Press,
    RightClick,
    Scroll,
    Typing,
    Wait,
    parse_action,
)
from steadyhand.core.errors import ModelOutputError
from steadyhand.environments.android.uiautomator import UIElement

LONG_PRESS_MS = 1000
SCROLL_MS = 500

#: App names (lower case) -> launch components. AndroidWorld's names for a stock
#: emulator image plus the simulated device's notes app; extend with ``apps=``.
DEFAULT_APPS: dict[str, str] = {
    "settings": "com.android.settings/.Settings",
    "contacts": "com.android.contacts/.activities.PeopleActivity",
    "notes": "com.example.notes/.NotesActivity",
    "clock": "com.google.android.deskclock/com.android.deskclock.DeskClock",
    "chrome": "com.android.chrome/com.google.android.apps.chrome.Main",
    "camera": "com.android.camera2/com.android.camera.CameraLauncher",
    "files": "com.google.android.documentsui/com.android.documentsui.files.FilesActivity",
    "markor": "net.gsantner.markor/.activity.MainActivity",
    "simple calendar pro": "com.simplemobiletools.calendar.pro/.activities.MainActivity",
    "audio recorder": "com.dimowner.audiorecorder/com.dimowner.audiorecorder.app.main.MainActivity",
}

Command = list[str]


class ActionError(ValueError):
    """An action that cannot be carried out as given (bad index, unknown app, untypeable text).

    The environment reports it as ``Observation.error``; the episode goes on.
    """


class KeyboardTextError(ActionError):
    """Desktop actions a phone can honour (a click at a point, typing, Enter/Backspace/
Escape, a wheel scroll) are accepted too (:func:`plan_desktop_action`), so agents
written for desktops can act on a phone; others are refused with a clear error.

Text the device keyboard cannot type; the message names each character and where it is."""


@dataclass(frozen=True)
class Plan:
    """What one action does: shell commands, then an optional pause.

    ``answer`` and ``status`` are set by the actions that carry them; ``pause_s``
    is how long to wait after the commands (``wait``).
    """

    commands: tuple[Command, ...] = ()
    pause_s: float = 0.0
    answer: str | None = None
    status: str | None = None


def _char_name(ch: str) -> str:
    try:
        return unicodedata.name(ch)
    except ValueError:
        return f"U+{ord(ch):04X}"


def check_typeable(text: str) -> None:
    """Raise :class:`KeyboardTextError` unless ``input text`` can type every character of ``text``.

    Newlines are allowed (they become Enter presses).
    """
    problems = [f"{ch!r} ({_char_name(ch)}) at {i}" for i, ch in enumerate(text)
                if ch != "\n" and not (" " <= ch <= "~")]
    if "%s" in text:
        problems.append(f"'%s' at {text.index('%s')} (adb's input text turns it into a space)")
    if problems:
        raise KeyboardTextError(
            "the device keyboard cannot type " + "; ".join(problems[:10])
            + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
            + ". adb 'input text' types printable ASCII only: rewrite the text without these characters")


def type_commands(text: str) -> list[Command]:
    """``input text`` commands for each line of ``text`` and ENTER key events between lines.

    Raises:
        KeyboardTextError: a character the keyboard cannot type.
    """
    check_typeable(text)
    commands: list[Command] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line:
            commands.append(["input", "text", line.replace(" ", "%s")])
        if i < len(lines) - 1:
            commands.append(["input", "keyevent", "KEYCODE_ENTER"])
    return commands


def key_command(name: str) -> Command:
    return ["input", "keyevent", f"KEYCODE_{name}"]


def target_point(action: Any, elements: list[UIElement]) -> tuple[int, int] | None:
    """The point an action with ``index`` or ``x``/``y`` aims at (None when it has neither).

    Raises:
        ActionError: the index is not in the element list.
    """
    if getattr(action, "index", None) is not None:
        return element_at(action.index, elements).center
    if getattr(action, "x", None) is not None and getattr(action, "y", None) is not None:
        return int(action.x), int(action.y)
    return None


def element_at(index: int, elements: list[UIElement]) -> UIElement:
    """Element number ``index`` of the last observation.

    Raises:
        ActionError: no such element.
    """
    if not 0 <= index < len(elements):
        last = len(elements) - 1
        raise ActionError(f"invalid element index {index}: the screen has elements 0..{last}" if elements
                          else f"invalid element index {index}: the screen has no UI elements")
    return elements[index]


def scroll_command(direction: str, box: tuple[int, int, int, int], screen: tuple[int, int]) -> Command:
    """AndroidWorld's scroll: a swipe from the box's centre to its far edge, against ``direction``."""
    width, height = screen
    left, top, right, bottom = max(box[0], 0), max(box[1], 0), min(box[2], width), min(box[3], height)
    cx, cy = (left + right) // 2, (top + bottom) // 2
    ends = {"down": (cx, top), "up": (cx, bottom), "right": (left, cy), "left": (right, cy)}
    if direction not in ends:
        raise ActionError(f"invalid scroll direction {direction!r}: use up, down, left or right")
    ex, ey = ends[direction]
    return ["input", "swipe", str(cx), str(cy), str(ex), str(ey), str(SCROLL_MS)]


def open_app_command(app_name: str, apps: dict[str, str]) -> Command:
    """The command that launches ``app_name`` (a name in ``apps``, a component, or a package).

    Raises:
        ActionError: an unknown name; the message lists the known ones.
    """
    name = app_name.strip()
    component = apps.get(name.lower())
    if component is None and "/" in name:
        component = name
    if component is not None:
        return ["am", "start", "-n", component]
    if "." in name and " " not in name:
        return ["monkey", "-p", name, "-c", "android.intent.category.LAUNCHER", "1"]
    raise ActionError(f"unknown app {app_name!r}; known apps: {', '.join(sorted(apps))} "
                      "(a package name such as com.android.settings works too)")


def plan_action(action: ActionBase, elements: list[UIElement], screen: tuple[int, int],
                apps: dict[str, str] | None = None) -> Plan:
    """The commands (and pause, answer or status) that carry out ``action``.

    ``elements`` is the element list of the last observation (indices refer to it);
    ``screen`` is (width, height). Wait, Done and Fail are accepted as android.wait,
    status complete and status infeasible.

    Raises:
        ActionError: an index out of range, an unknown app, untypeable text
            (:class:`KeyboardTextError`), or an action kind a phone cannot run.
    """
    apps = DEFAULT_APPS if apps is None else apps
    if isinstance(action, AndroidClick | AndroidLongPress):
        point = target_point(action, elements)
        assert point is not None  # the action's validator requires a target
        x, y = point
        if isinstance(action, AndroidClick):
            return Plan((["input", "tap", str(x), str(y)],))
        return Plan((["input", "swipe", str(x), str(y), str(x), str(y), str(LONG_PRESS_MS)],))
    if isinstance(action, AndroidInputText):
        typing = type_commands(action.text)
        point = target_point(action, elements)
        tap = [["input", "tap", str(point[0]), str(point[1])]] if point else []
        return Plan(tuple([*tap, *typing, key_command("ENTER")]))
    if isinstance(action, AndroidScroll):
        box = element_at(action.index, elements).bounds if action.index is not None else (0, 0, *screen)
        return Plan((scroll_command(action.direction, box, screen),))
    if isinstance(action, AndroidNavigateHome):
        return Plan((key_command("HOME"),))
    if isinstance(action, AndroidNavigateBack):
        return Plan((key_command("BACK"),))
    if isinstance(action, AndroidKeyboardEnter):
        return Plan((key_command("ENTER"),))
    if isinstance(action, AndroidOpenApp):
        return Plan((open_app_command(action.app_name, apps),))
    if isinstance(action, AndroidWait | Wait):
        return Plan(pause_s=action.seconds)
    if isinstance(action, AndroidAnswer):
        return Plan(answer=action.text)
    if isinstance(action, AndroidStatus):
        return Plan(status=action.goal_status)
    if isinstance(action, Done | Fail):
        return Plan(status="complete" if isinstance(action, Done) else "infeasible")
    return plan_desktop_action(action, screen)


#: Desktop key names a phone has a key for.
DESKTOP_KEYS = {"enter": "ENTER", "return": "ENTER", "backspace": "DEL", "delete": "FORWARD_DEL", "del": "FORWARD_DEL",
                "tab": "TAB", "esc": "BACK", "escape": "BACK", "space": "SPACE", "end": "MOVE_END"}


def plan_desktop_action(action: ActionBase, screen: tuple[int, int]) -> Plan:
    """Desktop pointer and keyboard actions a phone can honour, for agents written for desktops.

    A left click at a point is a tap (``num_clicks`` taps), a right click a long
    press, ``typing`` is ``input text`` (no Enter), ``press``/``hotkey`` of one key
    with a phone equivalent (:data:`DESKTOP_KEYS`; Escape is BACK) is a key event,
    and a wheel scroll is AndroidWorld's scroll of the whole screen (positive ``dy``
    shows what is above). Anything else — pyautogui code, drags, modifier chords,
    a click without coordinates — raises :class:`ActionError`.
    """
    if isinstance(action, Click | DoubleClick | RightClick):
        if action.x is None or action.y is None:
            raise ActionError("a phone has no pointer: a click needs x and y")
        x, y = str(action.x), str(action.y)
        if isinstance(action, RightClick) or (isinstance(action, Click) and action.button == "right"):
            return Plan((["input", "swipe", x, y, x, y, str(LONG_PRESS_MS)],))
        taps = 2 if isinstance(action, DoubleClick) else action.num_clicks if isinstance(action, Click) else 1
        return Plan(tuple(["input", "tap", x, y] for _ in range(taps)))
    if isinstance(action, Typing):
        return Plan(tuple(type_commands(action.text)))
    if isinstance(action, Press | Hotkey):
        keys = [action.key] if isinstance(action, Press) else action.keys
        if len(keys) != 1 or keys[0].lower() not in DESKTOP_KEYS:
            raise ActionError(f"a phone has no key for {'+'.join(keys)!r}; keys it has: {', '.join(DESKTOP_KEYS)} "
                              "(or use android.navigate_back / android.navigate_home)")
        return Plan((key_command(DESKTOP_KEYS[keys[0].lower()]),))
    if isinstance(action, Scroll) and (action.dx or action.dy):
        direction = ("up" if action.dy > 0 else "down") if action.dy else ("right" if action.dx > 0 else "left")
        return Plan((scroll_command(direction, (0, 0, *screen), screen),))
    raise ActionError(f"an Android device cannot run {action.kind!r} actions; use the android.* actions")


#: AndroidWorld ``JSONAction`` types -> our action kinds.
_JSON_KINDS = {"click": "android.click", "long_press": "android.long_press", "input_text": "android.input_text",
               "scroll": "android.scroll", "navigate_home": "android.navigate_home",
               "navigate_back": "android.navigate_back", "open_app": "android.open_app",
               "keyboard_enter": "android.keyboard_enter", "wait": "android.wait", "answer": "android.answer",
               "status": "android.status"}


def from_json_action(data: dict[str, Any]) -> ActionBase:
    """An AndroidWorld ``JSONAction`` dict (``{"action_type": "click", "index": 3}``) as an action.

    Raises:
        ActionError: an unknown ``action_type`` or invalid fields.
    """
    fields = {k: v for k, v in data.items() if v is not None}
    action_type = fields.pop("action_type", None)
    if action_type not in _JSON_KINDS:
        raise ActionError(f"unknown action_type {action_type!r}; known: {', '.join(_JSON_KINDS)}")
    if action_type == "status" and "goal_status" in fields:
        fields["goal_status"] = "complete" if fields["goal_status"] in ("complete", "task_complete") else "infeasible"
    if action_type == "wait":
        fields = {}
    try:
        return parse_action({"kind": _JSON_KINDS[action_type], **fields})
    except ModelOutputError as exc:
        raise ActionError(str(exc)) from exc
