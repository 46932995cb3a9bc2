"""Agent S2's action API: defined once, rendered into the worker's prompt, parsed with ``ast``, compiled.

Each call the worker may make is a small pydantic model below. From that one
definition come

* the prompt listing (:func:`render_api`, through :func:`steadyhand.core.render_action_api`),
* the parser (:func:`parse_call`): the worker's reply is read with :mod:`ast` and every
  argument with :func:`ast.literal_eval`; nothing the model writes is ever evaluated,
* the grounding requests a call needs (:meth:`S2Call.requests`), and
* the action it becomes once grounded (:meth:`S2Call.compile`): for the ``desktop``
  target a core :class:`~steadyhand.core.actions.Action` where one fits, otherwise checked
  pyautogui code that runs inside the desktop; for the ``android`` target one of the
  ``android.*`` actions (a tap, ``input_text``, a scroll, ``open_app``...).

Each call lists the targets it exists on (:attr:`S2Call.targets`); the prompt of an
episode lists only the calls of its target (:func:`api_for`). ``navigate_back``,
``navigate_home`` and ``answer`` exist on Android only; keyboard, drag and
spreadsheet calls on the desktop only.

Calls that touch no element (``hotkey``, ``wait``...) need no grounding. ``done`` and
``fail`` end the current *subgoal*; the manager decides what that means for the task.
``save_to_knowledge`` keeps notes for the rest of the episode and never touches the screen.
"""

from __future__ import annotations

import ast
import re
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator

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
    Click,
    Done,
    Fail,
    Hotkey,
    PyAutoGUICode,
    Typing,
    Wait,
    render_action_api,
)
from steadyhand.tools.grounding.base import (
    BoxTarget,
    CellTarget,
    GroundingRequest,
    GroundingResult,
    PointTarget,
    SpanTarget,
)

#: What a call does to the episode's control flow.
Effect = Literal["act", "subgoal_done", "subgoal_failed", "note"]
#: What a call is compiled for: a desktop (pyautogui, ``desktop.*``) or an Android device (``android.*``).
CompileTarget = Literal["desktop", "android"]
BOTH: frozenset[str] = frozenset({"desktop", "android"})
DESKTOP: frozenset[str] = frozenset({"desktop"})
ANDROID: frozenset[str] = frozenset({"android"})

_KEY = re.compile(r"^[A-Za-z0-9_\-+=\[\]\\;',./`]{1,20}$")


class GroundingMissing(ValueError):
    """A call was compiled without a target it needs (a bug in the caller, not the model)."""


class NotOnTarget(GroundingMissing):
    """The call does not exist on the episode's target (``hotkey`` on Android, ``navigate_back`` on a desktop)."""


def target_for(environment: str) -> CompileTarget:
    """The compile target of an episode in ``environment`` (``android`` -> android, else desktop)."""
    return "android" if environment == "android" else "desktop"


def _keys(value: list[str]) -> list[str]:
    keys = [str(k).strip().lower() for k in value]
    for key in keys:
        if not _KEY.match(key):
            raise ValueError(f"{key!r} is not a key name (use pyautogui names: ctrl, shift, enter, a, f5...)")
    return keys


def _point(result: GroundingResult) -> tuple[int, int]:
    target = result.target
    if isinstance(target, PointTarget):
        return target.x, target.y
    if isinstance(target, BoxTarget):
        return target.center
    if isinstance(target, SpanTarget):
        return target.start
    raise GroundingMissing(f"expert {result.expert} returned {target.kind} where a screen point was needed")


def _hold(keys: list[str], body: list[str]) -> list[str]:
    return ([f"pyautogui.keyDown({k!r})" for k in keys] + body
            + [f"pyautogui.keyUp({k!r})" for k in reversed(keys)])


class S2Call(ActionBase):
    """Base of every S2 action-API call (not itself callable)."""

    effect: ClassVar[Effect] = "act"
    #: The compile targets the call exists on (and is listed in prompts for).
    targets: ClassVar[frozenset[str]] = DESKTOP

    def requests(self, app: str | None = None, target: CompileTarget = "desktop") -> dict[str, GroundingRequest]:
        """The grounding requests this call needs on ``target``, by role (``target``, ``start``, ``end``...)."""
        return {}

    def compile(self, targets: dict[str, GroundingResult], target: CompileTarget = "desktop") -> ActionBase | None:
        """The action this call becomes on ``target``, given a result for each of :meth:`requests`.

        Returns None for calls that touch nothing (``save_to_knowledge``).

        Raises:
            GroundingMissing: a needed target is absent or of the wrong kind.
            NotOnTarget: the call (or this use of it) does not exist on ``target``.
        """
        if target not in self.targets:
            raise NotOnTarget(f"{self.api_name}() is not available on {target}")
        if target == "android":
            return self.compile_android(targets)
        return self.compile_desktop(targets)

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase | None:
        """The desktop action (see :meth:`compile`)."""
        raise NotOnTarget(f"{self.api_name}() is not available on desktop")

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase | None:
        """The ``android.*`` action (see :meth:`compile`)."""
        raise NotOnTarget(f"{self.api_name}() is not available on android")

    def _target(self, targets: dict[str, GroundingResult], role: str) -> GroundingResult:
        if role not in targets:
            raise GroundingMissing(f"{self.api_name} needs a grounded {role!r}")
        return targets[role]

    def call_text(self) -> str:
        """The call as the model would write it (for histories and summaries)."""
        args = ", ".join(f"{name}={value!r}" for name, value in self.model_dump(exclude={"kind"}).items())
        return f"{self.api_name}({args})"


class ClickCall(S2Call):
    """Click on the element."""

    kind: Literal["s2.click"] = "s2.click"
    api_name: ClassVar[str] = "click"
    targets: ClassVar[frozenset[str]] = BOTH
    element_description: str = Field(min_length=1, description=(
        "A detailed description of the element to click, with its visible text if it has any."))
    num_clicks: int = Field(1, ge=1, le=3, description="1 for a click, 2 for a double click, 3 for a triple click.")
    button: Literal["left", "right", "middle"] = Field("left", description="Which mouse button.")
    hold_keys: list[str] = Field([], description="Keys to hold while clicking, e.g. ['ctrl'].")

    @field_validator("hold_keys")
    @classmethod
    def _check_keys(cls, value: list[str]) -> list[str]:
        return _keys(value)

    def requests(self, app: str | None = None, target: CompileTarget = "desktop") -> dict[str, GroundingRequest]:
        return {"target": GroundingRequest(action="click", description=self.element_description, app=app)}

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        x, y = _point(self._target(targets, "target"))
        if not self.hold_keys:
            return Click(x=x, y=y, button=self.button, num_clicks=self.num_clicks)
        body = [f"pyautogui.click({x}, {y}, clicks={self.num_clicks}, button={self.button!r})"]
        return PyAutoGUICode(code="\n".join(_hold(self.hold_keys, body)))

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase:
        """A tap at the element's centre; the right button is a long press (a phone's context menu)."""
        if self.hold_keys or self.num_clicks > 1:
            raise NotOnTarget("click() on android is a single tap: no hold_keys, num_clicks=1")
        x, y = _point(self._target(targets, "target"))
        if self.button == "right":
            return AndroidLongPress(x=x, y=y)
        return AndroidClick(x=x, y=y)


class TypeCall(S2Call):
    """Type text, into the described element (clicked first) or, with no description, where the focus is."""

    kind: Literal["s2.type"] = "s2.type"
    api_name: ClassVar[str] = "type"
    targets: ClassVar[frozenset[str]] = BOTH
    element_description: str | None = Field(None, description=(
        "The element to type into; None types into the focused element."))
    text: str = Field("", description="The text to type; \\n presses Enter.")
    overwrite: bool = Field(False, description="Select everything in the element and delete it first.")
    enter: bool = Field(False, description="Press Enter after typing.")

    def requests(self, app: str | None = None, target: CompileTarget = "desktop") -> dict[str, GroundingRequest]:
        if not self.element_description:
            return {}
        return {"target": GroundingRequest(action="type", description=self.element_description, app=app)}

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        lines: list[str] = []
        if self.element_description:
            x, y = _point(self._target(targets, "target"))
            lines.append(f"pyautogui.click({x}, {y})")
        if self.overwrite:
            lines += ["pyautogui.hotkey('ctrl', 'a')", "pyautogui.press('backspace')"]
        if not lines and not self.enter and self.text:
            return Typing(text=self.text)
        if self.text:
            lines.append(f"pyautogui.write({self.text!r})")
        if self.enter:
            lines.append("pyautogui.press('enter')")
        if not lines:
            return Wait(seconds=0)
        return PyAutoGUICode(code="\n".join(lines))

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase:
        """``input_text`` into the element (tapped first) or the focused field.

        The device presses Enter after typing whatever ``enter`` says (AndroidWorld's
        ``input_text``); ``overwrite`` is not available (long-press and delete instead).
        """
        if self.overwrite:
            raise NotOnTarget("type(overwrite=True) is not available on android")
        if not self.text:
            return AndroidKeyboardEnter() if self.enter else Wait(seconds=0)
        if self.element_description:
            x, y = _point(self._target(targets, "target"))
            return AndroidInputText(text=self.text, x=x, y=y)
        return AndroidInputText(text=self.text)


class ScrollCall(S2Call):
    """Scroll over the element: positive clicks scroll up, negative down."""

    kind: Literal["s2.scroll"] = "s2.scroll"
    api_name: ClassVar[str] = "scroll"
    targets: ClassVar[frozenset[str]] = BOTH
    element_description: str = Field(min_length=1, description="The element to scroll over.")
    clicks: int = Field(ge=-50, le=50, description="Wheel clicks: positive up, negative down.")
    shift: bool = Field(False, description="Scroll horizontally instead (positive right).")

    def requests(self, app: str | None = None, target: CompileTarget = "desktop") -> dict[str, GroundingRequest]:
        if target == "android":  # the device scrolls the screen: nothing to find
            return {}
        return {"target": GroundingRequest(action="scroll", description=self.element_description, app=app)}

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        x, y = _point(self._target(targets, "target"))
        wheel = "hscroll" if self.shift else "vscroll"
        return PyAutoGUICode(code=f"pyautogui.moveTo({x}, {y})\npyautogui.{wheel}({self.clicks})")

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase:
        """A screen scroll the way the clicks' sign says (positive: up, or right with ``shift``)."""
        if self.clicks == 0:
            return Wait(seconds=0)
        if self.shift:
            return AndroidScroll(direction="right" if self.clicks > 0 else "left")
        return AndroidScroll(direction="up" if self.clicks > 0 else "down")


class DragAndDropCall(S2Call):
    """Drag from one element and drop it onto another."""

    kind: Literal["s2.drag_and_drop"] = "s2.drag_and_drop"
    api_name: ClassVar[str] = "drag_and_drop"
    start_description: str = Field(min_length=1, description="The element to drag.")
    end_description: str = Field(min_length=1, description="Where to drop it.")
    hold_keys: list[str] = Field([], description="Keys to hold while dragging.")

    @field_validator("hold_keys")
    @classmethod
    def _check_keys(cls, value: list[str]) -> list[str]:
        return _keys(value)

    def requests(self, app: str | None = None, target: CompileTarget = "desktop") -> dict[str, GroundingRequest]:
        return {"start": GroundingRequest(action="drag_start", description=self.start_description, app=app),
                "end": GroundingRequest(action="drag_end", description=self.end_description, app=app)}

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        (x1, y1), (x2, y2) = _point(self._target(targets, "start")), _point(self._target(targets, "end"))
        body = [f"pyautogui.moveTo({x1}, {y1})", f"pyautogui.dragTo({x2}, {y2}, duration=0.5, button='left')"]
        return PyAutoGUICode(code="\n".join(_hold(self.hold_keys, body)))


class HighlightTextSpanCall(S2Call):
    """Select the text from the first word of starting_phrase to the last word of ending_phrase."""

    kind: Literal["s2.highlight_text_span"] = "s2.highlight_text_span"
    api_name: ClassVar[str] = "highlight_text_span"
    starting_phrase: str = Field(min_length=1, description="The visible text where the selection starts.")
    ending_phrase: str = Field(min_length=1, description="The visible text where the selection ends.")

    def requests(self, app: str | None = None, target: CompileTarget = "desktop") -> dict[str, GroundingRequest]:
        return {"span": GroundingRequest(action="highlight_text_span", app=app,
                                         description=f"{self.starting_phrase} ... {self.ending_phrase}",
                                         text_span=(self.starting_phrase, self.ending_phrase))}

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        result = self._target(targets, "span")
        if not isinstance(result.target, SpanTarget):
            raise GroundingMissing(f"expert {result.expert} returned {result.target.kind} for a text span")
        (x1, y1), (x2, y2) = result.target.start, result.target.end
        return PyAutoGUICode(code=f"pyautogui.moveTo({x1}, {y1})\n"
                                  f"pyautogui.dragTo({x2}, {y2}, duration=0.5, button='left')")


_CELL = re.compile(r"^([A-Za-z]{1,3})([1-9][0-9]{0,6})$")
CellValue = str | int | float | bool


def cell_index(ref: str) -> tuple[int, int]:
    """``"B3"`` -> (column 1, row 2), zero-based.

    Raises:
        ValueError: not an A1-style reference.
    """
    match = _CELL.match(ref.strip())
    if not match:
        raise ValueError(f"{ref!r} is not a cell reference like A1 or BC12")
    col = 0
    for ch in match.group(1).upper():
        col = col * 26 + (ord(ch) - 64)
    return col - 1, int(match.group(2)) - 1


class SetCellValuesCall(S2Call):
    """Set spreadsheet cells to values or formulas (strings starting with =)."""

    kind: Literal["s2.set_cell_values"] = "s2.set_cell_values"
    api_name: ClassVar[str] = "set_cell_values"
    cells: dict[str, CellValue] = Field(min_length=1, description=(
        "Cell reference to value, e.g. {'A1': 'Item', 'B2': 40, 'B6': '=SUM(B2:B5)'}."))
    app_name: str = Field("LibreOffice Calc", description="The spreadsheet application or open file's name.")
    sheet_name: str | None = Field(None, description="The sheet; None for the active one.")

    @field_validator("cells")
    @classmethod
    def _refs(cls, value: dict[str, CellValue]) -> dict[str, CellValue]:
        for ref in value:
            cell_index(ref)
        return {ref.strip().upper(): v for ref, v in value.items()}

    def requests(self, app: str | None = None, target: CompileTarget = "desktop") -> dict[str, GroundingRequest]:
        return {"cells": GroundingRequest(
            action="set_cell_values", app=self.app_name or app, description=f"cells {', '.join(self.cells)}",
            context={"cells": dict(self.cells), "sheet": self.sheet_name})}

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        """Keyboard entry through Calc's Name Box: for each cell, Ctrl+Shift+F5, ``$'Sheet'.B3``, Enter, value, Enter.

        The Name Box jumps to the cell on the named sheet (the grounded sheet, else
        ``sheet_name``, else the active one) whatever the scroll position, frozen panes
        or hidden rows; the value is then typed into the cell.
        """
        result = self._target(targets, "cells")
        if not isinstance(result.target, CellTarget):
            raise GroundingMissing(f"expert {result.expert} returned {result.target.kind} for cells")
        sheet = result.target.sheet or self.sheet_name
        prefix = "$'" + sheet.replace("'", "''") + "'." if sheet else ""
        lines = []
        for ref, value in sorted(result.target.cells.items(), key=lambda kv: cell_index(kv[0])[::-1]):
            text = ("TRUE" if value else "FALSE") if isinstance(value, bool) else str(value)
            lines += ["pyautogui.hotkey('ctrl', 'shift', 'f5')", "time.sleep(0.3)",
                      f"pyautogui.write({prefix + ref + chr(10)!r})", "time.sleep(0.3)",
                      f"pyautogui.write({text + chr(10)!r})"]
        return PyAutoGUICode(code="\n".join(lines))


class HotkeyCall(S2Call):
    """Press a key combination, e.g. ['ctrl', 's']."""

    kind: Literal["s2.hotkey"] = "s2.hotkey"
    api_name: ClassVar[str] = "hotkey"
    keys: list[str] = Field(min_length=1, description="Key names, modifiers first.")

    @field_validator("keys")
    @classmethod
    def _check_keys(cls, value: list[str]) -> list[str]:
        return _keys(value)

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        return Hotkey(keys=self.keys)


class HoldAndPressCall(S2Call):
    """Hold some keys down while pressing others in sequence."""

    kind: Literal["s2.hold_and_press"] = "s2.hold_and_press"
    api_name: ClassVar[str] = "hold_and_press"
    hold_keys: list[str] = Field(description="Keys held down throughout.")
    press_keys: list[str] = Field(min_length=1, description="Keys pressed one after another.")

    @field_validator("hold_keys", "press_keys")
    @classmethod
    def _check_keys(cls, value: list[str]) -> list[str]:
        return _keys(value)

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        body = [f"pyautogui.press({k!r})" for k in self.press_keys]
        return PyAutoGUICode(code="\n".join(_hold(self.hold_keys, body)))


class OpenCall(S2Call):
    """Open an application or a file by name through the desktop's launcher (the Super key)."""

    kind: Literal["s2.open"] = "s2.open"
    api_name: ClassVar[str] = "open"
    targets: ClassVar[frozenset[str]] = BOTH
    app_or_file: str = Field(min_length=1, description="An application's name or a file's name.")

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        return PyAutoGUICode(code=f"pyautogui.press('win')\ntime.sleep(0.5)\n"
                                  f"pyautogui.write({self.app_or_file!r})\ntime.sleep(1.0)\n"
                                  "pyautogui.press('enter')\ntime.sleep(0.5)")

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase:
        """``open_app`` by the app's launcher name."""
        return AndroidOpenApp(app_name=self.app_or_file)


class SwitchApplicationsCall(S2Call):
    """Bring another open application's window to the front, by clicking its title bar."""

    kind: Literal["s2.switch_applications"] = "s2.switch_applications"
    api_name: ClassVar[str] = "switch_applications"
    app: str = Field(min_length=1, description="The application or window title, e.g. 'Mousepad'.")

    def requests(self, app: str | None = None, target: CompileTarget = "desktop") -> dict[str, GroundingRequest]:
        return {"target": GroundingRequest(action="click", app=self.app,
                                           description=f"the title bar of the {self.app} window")}

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        x, y = _point(self._target(targets, "target"))
        return Click(x=x, y=y)


class SaveToKnowledgeCall(S2Call):
    """Keep notes (numbers, names, facts read from the screen) for later subgoals; the screen is untouched."""

    kind: Literal["s2.save_to_knowledge"] = "s2.save_to_knowledge"
    api_name: ClassVar[str] = "save_to_knowledge"
    targets: ClassVar[frozenset[str]] = BOTH
    effect: ClassVar[Effect] = "note"
    notes: list[str] = Field(min_length=1, description="The notes, one string each.")

    @field_validator("notes", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> None:
        return None

    def compile_android(self, targets: dict[str, GroundingResult]) -> None:
        return None


class WaitCall(S2Call):
    """Wait for the screen to settle (an application starting, a file saving)."""

    kind: Literal["s2.wait"] = "s2.wait"
    api_name: ClassVar[str] = "wait"
    targets: ClassVar[frozenset[str]] = BOTH
    seconds: float = Field(1.0, ge=0, le=30, description="Seconds to wait.")

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        return Wait(seconds=self.seconds)

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase | None:
        """The same action as on the desktop (the android environment accepts it)."""
        return self.compile_desktop(targets)


class DoneCall(S2Call):
    """The current subgoal is complete."""

    kind: Literal["s2.done"] = "s2.done"
    api_name: ClassVar[str] = "done"
    targets: ClassVar[frozenset[str]] = BOTH
    effect: ClassVar[Effect] = "subgoal_done"

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        return Done()

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase | None:
        """The same action as on the desktop (the android environment accepts it)."""
        return self.compile_desktop(targets)


class FailCall(S2Call):
    """The current subgoal cannot be completed."""

    kind: Literal["s2.fail"] = "s2.fail"
    api_name: ClassVar[str] = "fail"
    targets: ClassVar[frozenset[str]] = BOTH
    effect: ClassVar[Effect] = "subgoal_failed"

    def compile_desktop(self, targets: dict[str, GroundingResult]) -> ActionBase:
        return Fail()

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase | None:
        """The same action as on the desktop (the android environment accepts it)."""
        return self.compile_desktop(targets)


class NavigateBackCall(S2Call):
    """Go back: close a dialog or menu, or leave the current screen."""

    kind: Literal["s2.navigate_back"] = "s2.navigate_back"
    api_name: ClassVar[str] = "navigate_back"
    targets: ClassVar[frozenset[str]] = ANDROID

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase:
        return AndroidNavigateBack()


class NavigateHomeCall(S2Call):
    """Go to the home screen."""

    kind: Literal["s2.navigate_home"] = "s2.navigate_home"
    api_name: ClassVar[str] = "navigate_home"
    targets: ClassVar[frozenset[str]] = ANDROID

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase:
        return AndroidNavigateHome()


class AnswerCall(S2Call):
    """Give the answer to a question the task asks (then finish the subgoal with done)."""

    kind: Literal["s2.answer"] = "s2.answer"
    api_name: ClassVar[str] = "answer"
    targets: ClassVar[frozenset[str]] = ANDROID
    text: str = Field(min_length=1, description="The answer.")

    def compile_android(self, targets: dict[str, GroundingResult]) -> ActionBase:
        return AndroidAnswer(text=self.text)


S2_API: tuple[type[S2Call], ...] = (
    ClickCall, TypeCall, ScrollCall, DragAndDropCall, HighlightTextSpanCall, SetCellValuesCall, HotkeyCall,
    HoldAndPressCall, OpenCall, SwitchApplicationsCall, NavigateBackCall, NavigateHomeCall, AnswerCall,
    SaveToKnowledgeCall, WaitCall, DoneCall, FailCall,
)
"""Every call, in the order the prompt lists them."""


def api_for(target: CompileTarget = "desktop") -> tuple[type[S2Call], ...]:
    """The calls that exist on ``target``, in prompt order."""
    return tuple(cls for cls in S2_API if target in cls.targets)

_BY_NAME: dict[str, type[S2Call]] = {cls.api_name: cls for cls in S2_API}
# The names upstream Agent S2 prompts use for some arguments; accepted as keyword aliases.
_ALIASES: dict[str, dict[str, str]] = {
    "open": {"app_or_filename": "app_or_file"}, "switch_applications": {"app_code": "app"},
    "wait": {"time": "seconds"}, "save_to_knowledge": {"text": "notes"},
    "set_cell_values": {"cell_values": "cells"},
}


def render_api(calls: tuple[type[S2Call], ...] | None = None) -> str:
    """The prompt listing of ``calls`` (default: the desktop's), generated from their definitions."""
    return render_action_api(list(api_for("desktop") if calls is None else calls))


def call_from_dict(data: dict[str, Any]) -> S2Call:
    """Rebuild a call from its ``model_dump()`` (graph state keeps calls as dicts).

    Raises:
        KeyError: unknown ``kind``.
    """
    for cls in S2_API:
        if cls.model_fields["kind"].default == data.get("kind"):
            return cls.model_validate(data)
    raise KeyError(f"no S2 call of kind {data.get('kind')!r}")


class CallParseError(ValueError):
    """The reply holds no valid call; the message says what to fix, for the model."""


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_CALL_LINE = re.compile(r"^\s*(?:agent\.)?([a-z_]+)\s*\(", re.MULTILINE)


def _candidates(reply: str) -> list[str]:
    """Code snippets to try, best first: fenced blocks (last first), then lines that start a known call."""
    blocks = [body for _, body in _FENCE.findall(reply) if body.strip()]
    snippets = list(reversed(blocks))
    for match in _CALL_LINE.finditer(reply):
        if match.group(1) in _BY_NAME:
            snippets.append(reply[match.start():].strip())
    return snippets


def _calls_in(code: str) -> tuple[list[ast.Call], bool]:
    """The calls of known API names in ``code``, and whether they were nested.

    Top-level calls come first. Without any, calls written as statements inside a
    function or block are taken in source order: small models often wrap the action
    in ``def solve(): ...`` and never call it. A growing prefix of lines is parsed
    if need be, so trailing prose or a cut-off line cannot hide a good call.
    """
    lines = code.strip().splitlines()
    for end in range(len(lines), 0, -1):
        try:
            tree = ast.parse("\n".join(lines[:end]))
        except SyntaxError:
            continue
        calls = [call for stmt in tree.body if (call := _api_call(stmt)) is not None]
        if calls:
            return calls, False
        nested = sorted((call for node in ast.walk(tree) if (call := _api_call(node)) is not None),
                        key=lambda call: (call.lineno, call.col_offset))
        if nested:
            return nested, True
    return [], False


def _api_call(node: ast.AST) -> ast.Call | None:
    """The call if ``node`` is a statement calling an API name, else ``None``."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _name(node.value) in _BY_NAME:
        return node.value
    return None


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "agent":
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _literal(node: ast.expr, what: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError) as exc:
        raise CallParseError(f"{what} must be a literal value (a string, number, list, dict, True/False/None), "
                             f"not {ast.unparse(node)!r}") from exc


def build_call(node: ast.Call) -> S2Call:
    """Validate one parsed call against its definition.

    Raises:
        CallParseError: unknown name, non-literal or unknown arguments, or invalid values.
    """
    name = _name(node) or ""
    cls = _BY_NAME.get(name)
    if cls is None:
        raise CallParseError(f"{name!r} is not in the action API; use one of: {', '.join(_BY_NAME)}")
    fields = [f for f in cls.model_fields if f != "kind"]
    if len(node.args) > len(fields):
        raise CallParseError(f"{name}() takes at most {len(fields)} arguments ({', '.join(fields)}), "
                             f"got {len(node.args)}")
    values: dict[str, Any] = {}
    for field, arg in zip(fields, node.args, strict=False):
        values[field] = _literal(arg, f"{name}() argument {field!r}")
    aliases = _ALIASES.get(name, {})
    for kw in node.keywords:
        if kw.arg is None:
            raise CallParseError(f"{name}(): **kwargs are not allowed")
        key = aliases.get(kw.arg, kw.arg)
        if key not in fields:
            raise CallParseError(f"{name}() has no argument {kw.arg!r}; its arguments: {', '.join(fields)}")
        if key in values:
            raise CallParseError(f"{name}() got {key!r} twice")
        values[key] = _literal(kw.value, f"{name}() argument {kw.arg!r}")
    try:
        return cls.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or name}: {e['msg']}" for e in exc.errors())
        raise CallParseError(f"{name}(): {problems}") from exc


def parse_call(reply: str) -> tuple[S2Call, list[str]]:
    """The first valid API call in a worker reply, and warnings about what else was there.

    The reply is searched in fenced code blocks (the last block first), then in lines
    starting with a known call (``agent.click(...)`` or ``click(...)``). A call written
    inside a function or block counts when there is none at the top level (with a
    warning). Only the first call is used: the worker acts once per turn.

    Raises:
        CallParseError: no call could be read; the message says why, for the model.
    """
    problems: list[str] = []
    for snippet in _candidates(reply):
        calls, nested = _calls_in(snippet)
        if not calls:
            continue
        try:
            call = build_call(calls[0])
        except CallParseError as exc:
            problems.append(str(exc))
            continue
        warnings = [f"only the first of {len(calls)} calls was used: one action per turn"] if len(calls) > 1 else []
        if nested:
            warnings.append("the call was inside a function or block; write it on its own line at the top level")
        return call, warnings
    if problems:
        raise CallParseError(problems[0])
    raise CallParseError("no action found: end the reply with exactly one call in a ```python block, "
                         "e.g. ```python\nagent.click(\"the Save button\", 1, \"left\")\n```")
