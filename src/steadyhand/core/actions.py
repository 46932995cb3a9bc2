"""The Action union: defined once, rendered into prompts and executed by environments.

Every action is a small pydantic model with a literal ``kind``; :data:`Action` is
the discriminated union of all of them. The same class gives

* the executor input (environments receive a validated instance), and
* the model-facing description (:func:`render_action_api` turns the class name,
  docstring and field descriptions into the API listing shown in prompts).

New environments add their action classes here so one union describes every
action steadyhand can take.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from steadyhand.core.errors import ModelOutputError


class ActionBase(BaseModel):
    """Common base: actions are immutable and reject unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    #: The name the action has in prompts (``execute_sql(query=...)``).
    api_name: ClassVar[str] = ""


# --- control actions, shared by every environment -------------------------------------


class Wait(ActionBase):
    """Wait for the environment to settle before the next observation."""

    kind: Literal["wait"] = "wait"
    api_name: ClassVar[str] = "wait"
    seconds: float = Field(1.0, ge=0, le=60, description="How long to wait, in seconds.")


class Done(ActionBase):
    """Declare the task complete."""

    kind: Literal["done"] = "done"
    api_name: ClassVar[str] = "done"


class Fail(ActionBase):
    """Declare the task impossible (infeasible tasks score 1 only for this)."""

    kind: Literal["fail"] = "fail"
    api_name: ClassVar[str] = "fail"
    reason: str = Field("", description="Why the task cannot be done.")


# --- SQL databases -------------------------------------------------------------------


class ExecuteSQL(ActionBase):
    """Run a query against the database and see its (truncated) rows or its error."""

    kind: Literal["sql.execute"] = "sql.execute"
    api_name: ClassVar[str] = "execute_sql"
    query: str = Field(description="One SQL statement.")


class SubmitSQL(ActionBase):
    """Submit the final answer query; the episode ends and the query is scored."""

    kind: Literal["sql.submit"] = "sql.submit"
    api_name: ClassVar[str] = "submit_sql"
    query: str = Field(description="The SQL query that answers the question.")


# --- CodeARC program synthesis ---------------------------------------------------------


class QueryFunction(ActionBase):
    """Call the hidden function on inputs of your choice and see what it returns or raises."""

    kind: Literal["code.query"] = "code.query"
    api_name: ClassVar[str] = "query_function"
    calls: list[str] = Field(min_length=1, description=(
        "One invocation per item, as print('Result 1: ' + str(f(1, 'a'))) or f(1, 'a'); "
        "arguments are Python literals."))


class CheckCandidate(ActionBase):
    """Test an implementation against the hidden function; a failure shows one counterexample."""

    kind: Literal["code.check"] = "code.check"
    api_name: ClassVar[str] = "check_implementation"
    code: str = Field(description="Python source defining the function under its hidden name.")


class SubmitCandidate(ActionBase):
    """Submit the final implementation: the episode ends and it is judged."""

    kind: Literal["code.submit"] = "code.submit"
    api_name: ClassVar[str] = "submit_implementation"
    code: str = Field(description="Python source defining the function under its hidden name.")


# --- desktops (OSWorld's computer_13 action space, plus pyautogui code) -----------------

MouseButton = Literal["left", "right", "middle"]


class MoveTo(ActionBase):
    """Move the pointer to a screen position."""

    kind: Literal["desktop.move_to"] = "desktop.move_to"
    api_name: ClassVar[str] = "move_to"
    x: int = Field(ge=0, description="Screen x in pixels.")
    y: int = Field(ge=0, description="Screen y in pixels.")


class Click(ActionBase):
    """Click a mouse button, at a position or where the pointer is."""

    kind: Literal["desktop.click"] = "desktop.click"
    api_name: ClassVar[str] = "click"
    x: int | None = Field(None, ge=0, description="Screen x; omit to click where the pointer is.")
    y: int | None = Field(None, ge=0, description="Screen y; omit to click where the pointer is.")
    button: MouseButton = Field("left", description="Which button.")
    num_clicks: int = Field(1, ge=1, le=3, description="1, 2 or 3 clicks.")


class MouseDown(ActionBase):
    """Press and hold a mouse button."""

    kind: Literal["desktop.mouse_down"] = "desktop.mouse_down"
    api_name: ClassVar[str] = "mouse_down"
    button: MouseButton = Field("left", description="Which button.")


class MouseUp(ActionBase):
    """Release a held mouse button."""

    kind: Literal["desktop.mouse_up"] = "desktop.mouse_up"
    api_name: ClassVar[str] = "mouse_up"
    button: MouseButton = Field("left", description="Which button.")


class RightClick(ActionBase):
    """Right-click, at a position or where the pointer is."""

    kind: Literal["desktop.right_click"] = "desktop.right_click"
    api_name: ClassVar[str] = "right_click"
    x: int | None = Field(None, ge=0, description="Screen x; omit for the pointer's position.")
    y: int | None = Field(None, ge=0, description="Screen y; omit for the pointer's position.")


class DoubleClick(ActionBase):
    """Double-click, at a position or where the pointer is."""

    kind: Literal["desktop.double_click"] = "desktop.double_click"
    api_name: ClassVar[str] = "double_click"
    x: int | None = Field(None, ge=0, description="Screen x; omit for the pointer's position.")
    y: int | None = Field(None, ge=0, description="Screen y; omit for the pointer's position.")


class DragTo(ActionBase):
    """Drag from the pointer's position to another, holding the left button."""

    kind: Literal["desktop.drag_to"] = "desktop.drag_to"
    api_name: ClassVar[str] = "drag_to"
    x: int = Field(ge=0, description="Screen x to drag to.")
    y: int = Field(ge=0, description="Screen y to drag to.")


class Scroll(ActionBase):
    """Scroll the wheel: positive dy scrolls up, positive dx right."""

    kind: Literal["desktop.scroll"] = "desktop.scroll"
    api_name: ClassVar[str] = "scroll"
    dx: int = Field(0, description="Horizontal clicks.")
    dy: int = Field(0, description="Vertical clicks.")


class Typing(ActionBase):
    """Type text into the focused window (any characters, newlines press Enter)."""

    kind: Literal["desktop.typing"] = "desktop.typing"
    api_name: ClassVar[str] = "typing"
    text: str = Field(description="The text to type.")


class Press(ActionBase):
    """Press and release one key (pyautogui key names: enter, tab, esc, a, f5...)."""

    kind: Literal["desktop.press"] = "desktop.press"
    api_name: ClassVar[str] = "press"
    key: str = Field(min_length=1, description="Key name.")


class KeyDown(ActionBase):
    """Press and hold one key."""

    kind: Literal["desktop.key_down"] = "desktop.key_down"
    api_name: ClassVar[str] = "key_down"
    key: str = Field(min_length=1, description="Key name.")


class KeyUp(ActionBase):
    """Release a held key."""

    kind: Literal["desktop.key_up"] = "desktop.key_up"
    api_name: ClassVar[str] = "key_up"
    key: str = Field(min_length=1, description="Key name.")


class Hotkey(ActionBase):
    """Press keys together, in order, then release them (ctrl+s is ["ctrl", "s"])."""

    kind: Literal["desktop.hotkey"] = "desktop.hotkey"
    api_name: ClassVar[str] = "hotkey"
    keys: list[str] = Field(min_length=1, description="Key names, modifiers first.")


class PyAutoGUICode(ActionBase):
    """Run pyautogui code inside the desktop (a checked subset: pyautogui calls, time.sleep, loops)."""

    kind: Literal["desktop.pyautogui"] = "desktop.pyautogui"
    api_name: ClassVar[str] = "pyautogui"
    code: str = Field(min_length=1, description="Python using pyautogui, e.g. pyautogui.click(10, 20).")


DESKTOP_ACTIONS: tuple[type[ActionBase], ...] = (
    MoveTo, Click, MouseDown, MouseUp, RightClick, DoubleClick, DragTo, Scroll, Typing, Press, KeyDown, KeyUp,
    Hotkey, PyAutoGUICode,
)
"""The desktop action classes, in computer_13 order."""


# --- Android devices (AndroidWorld's action set) ------------------------------------------


def _android_target(action: Any, *, required: bool) -> None:
    """Check that an Android action names an element index, or both x and y, not both ways."""
    has_index, has_x, has_y = action.index is not None, action.x is not None, action.y is not None
    if has_x != has_y:
        raise ValueError("give both x and y, or neither")
    if has_index and has_x:
        raise ValueError("give an element index or x and y, not both")
    if required and not (has_index or has_x):
        raise ValueError("give an element index, or x and y")


class AndroidClick(ActionBase):
    """Tap a UI element (by its index in the observation's element list) or a screen point."""

    kind: Literal["android.click"] = "android.click"
    api_name: ClassVar[str] = "click"
    index: int | None = Field(None, ge=0, description="Index of a UI element in the observation's list.")
    x: int | None = Field(None, ge=0, description="Screen x in pixels (with y, instead of index).")
    y: int | None = Field(None, ge=0, description="Screen y in pixels (with x, instead of index).")

    @model_validator(mode="after")
    def _target(self) -> AndroidClick:
        _android_target(self, required=True)
        return self


class AndroidLongPress(ActionBase):
    """Press and hold a UI element or a screen point (opens context menus)."""

    kind: Literal["android.long_press"] = "android.long_press"
    api_name: ClassVar[str] = "long_press"
    index: int | None = Field(None, ge=0, description="Index of a UI element in the observation's list.")
    x: int | None = Field(None, ge=0, description="Screen x in pixels (with y, instead of index).")
    y: int | None = Field(None, ge=0, description="Screen y in pixels (with x, instead of index).")

    @model_validator(mode="after")
    def _target(self) -> AndroidLongPress:
        _android_target(self, required=True)
        return self


class AndroidInputText(ActionBase):
    """Type text: tap the field first when one is given, type the text, then press Enter."""

    kind: Literal["android.input_text"] = "android.input_text"
    api_name: ClassVar[str] = "input_text"
    text: str = Field(min_length=1, description="The text to type (what the device keyboard can type: ASCII).")
    index: int | None = Field(None, ge=0, description="Index of the text field; omit to type into the focused one.")
    x: int | None = Field(None, ge=0, description="Screen x of the field (with y, instead of index).")
    y: int | None = Field(None, ge=0, description="Screen y of the field (with x, instead of index).")

    @model_validator(mode="after")
    def _target(self) -> AndroidInputText:
        _android_target(self, required=False)
        return self


class AndroidScroll(ActionBase):
    """Scroll the screen or one element; "down" shows what is below (the finger moves up)."""

    kind: Literal["android.scroll"] = "android.scroll"
    api_name: ClassVar[str] = "scroll"
    direction: Literal["up", "down", "left", "right"] = Field(
        description="Which way the content should move into view.")
    index: int | None = Field(None, ge=0, description="Index of the element to scroll in; omit for the whole screen.")


class AndroidNavigateHome(ActionBase):
    """Go to the home screen."""

    kind: Literal["android.navigate_home"] = "android.navigate_home"
    api_name: ClassVar[str] = "navigate_home"


class AndroidNavigateBack(ActionBase):
    """Go back (close a dialog or menu, leave the screen)."""

    kind: Literal["android.navigate_back"] = "android.navigate_back"
    api_name: ClassVar[str] = "navigate_back"


class AndroidOpenApp(ActionBase):
    """Open an app by its name."""

    kind: Literal["android.open_app"] = "android.open_app"
    api_name: ClassVar[str] = "open_app"
    app_name: str = Field(min_length=1, description="The app's name as on the launcher (\"Settings\").")


class AndroidKeyboardEnter(ActionBase):
    """Press the Enter key."""

    kind: Literal["android.keyboard_enter"] = "android.keyboard_enter"
    api_name: ClassVar[str] = "keyboard_enter"


class AndroidWait(ActionBase):
    """Wait for the screen to update."""

    kind: Literal["android.wait"] = "android.wait"
    api_name: ClassVar[str] = "wait"
    seconds: float = Field(1.0, ge=0, le=60, description="How long to wait, in seconds.")


class AndroidAnswer(ActionBase):
    """Give the answer to a question the task asks (the episode goes on; end it with status)."""

    kind: Literal["android.answer"] = "android.answer"
    api_name: ClassVar[str] = "answer"
    text: str = Field(description="The answer.")


class AndroidStatus(ActionBase):
    """End the episode: the goal is complete, or it is infeasible."""

    kind: Literal["android.status"] = "android.status"
    api_name: ClassVar[str] = "status"
    goal_status: Literal["complete", "infeasible"] = Field(description="complete or infeasible.")


ANDROID_ACTIONS: tuple[type[ActionBase], ...] = (
    AndroidClick, AndroidLongPress, AndroidInputText, AndroidScroll, AndroidNavigateHome, AndroidNavigateBack,
    AndroidOpenApp, AndroidKeyboardEnter, AndroidWait, AndroidAnswer, AndroidStatus,
)
"""The Android action classes, in AndroidWorld's order."""


# --- web pages (steadyhand.environments.web: Playwright in Chromium) ------------------------


class WebClick(ActionBase):
    """Click an element by its ARIA role and name, by its visible text, or a point of the page."""

    kind: Literal["web.click"] = "web.click"
    api_name: ClassVar[str] = "click"
    role: str | None = Field(None, description="ARIA role (button, link, checkbox...), with name.")
    name: str | None = Field(None, description="The element's accessible name (with role).")
    text: str | None = Field(None, description="Visible text of the element (instead of role and name).")
    x: int | None = Field(None, ge=0, description="Page x in pixels (with y, instead of an element).")
    y: int | None = Field(None, ge=0, description="Page y in pixels (with x, instead of an element).")

    @model_validator(mode="after")
    def _target(self) -> WebClick:
        ways = [self.role is not None or self.name is not None, self.text is not None,
                self.x is not None or self.y is not None]
        if sum(ways) != 1 or (ways[0] and (self.role is None or self.name is None)) \
                or (ways[2] and (self.x is None or self.y is None)):
            raise ValueError("give role and name, or text, or x and y")
        return self


class WebType(ActionBase):
    """Type into a field found by its label or accessible name (filled), or into the focused element."""

    kind: Literal["web.type"] = "web.type"
    api_name: ClassVar[str] = "type"
    text: str = Field(description="The text to type.")
    field: str | None = Field(None, description="The field's label or accessible name; omit for the focus.")
    submit: bool = Field(False, description="Press Enter afterwards.")


class WebScroll(ActionBase):
    """Scroll the page: positive dy shows what is below."""

    kind: Literal["web.scroll"] = "web.scroll"
    api_name: ClassVar[str] = "scroll"
    dy: int = Field(description="Pixels to scroll down (negative: up).")


class WebNavigate(ActionBase):
    """Open a URL in the current tab."""

    kind: Literal["web.navigate"] = "web.navigate"
    api_name: ClassVar[str] = "navigate"
    url: str = Field(min_length=1, description="The URL to open.")


class WebPress(ActionBase):
    """Press a key or a combination (Playwright names: Enter, Tab, Escape, Control+A)."""

    kind: Literal["web.press"] = "web.press"
    api_name: ClassVar[str] = "press"
    key: str = Field(min_length=1, description="Key name.")


WEB_ACTIONS: tuple[type[ActionBase], ...] = (WebClick, WebType, WebScroll, WebNavigate, WebPress)
"""The web action classes."""


Action = Annotated[
    Wait | Done | Fail | ExecuteSQL | SubmitSQL
    | QueryFunction | CheckCandidate | SubmitCandidate
    | MoveTo | Click | MouseDown | MouseUp | RightClick | DoubleClick | DragTo | Scroll | Typing | Press
    | KeyDown | KeyUp | Hotkey | PyAutoGUICode
    | AndroidClick | AndroidLongPress | AndroidInputText | AndroidScroll | AndroidNavigateHome | AndroidNavigateBack
    | AndroidOpenApp | AndroidKeyboardEnter | AndroidWait | AndroidAnswer | AndroidStatus
    | WebClick | WebType | WebScroll | WebNavigate | WebPress,
    Field(discriminator="kind"),
]
"""Every action steadyhand knows, discriminated by ``kind``."""

action_adapter: TypeAdapter[Any] = TypeAdapter(Action)


def parse_action(data: dict[str, Any] | str) -> ActionBase:
    """Validate a dict (or its JSON text) into the matching action class.

    Raises:
        ModelOutputError: the data names no known ``kind`` or has invalid fields;
            the message lists what was wrong so a model can correct itself.
    """
    try:
        if isinstance(data, str):
            return action_adapter.validate_json(data)  # type: ignore[no-any-return,unused-ignore]
        return action_adapter.validate_python(data)  # type: ignore[no-any-return,unused-ignore]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'action'}: {err['msg']}" for err in exc.errors()
        )
        raise ModelOutputError(f"invalid action: {problems}") from exc


def _type_name(annotation: Any) -> str:
    if inspect.isclass(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def render_action_api(actions: list[type[ActionBase]]) -> str:
    """Render the prompt listing of ``actions`` from their definitions.

    Each action becomes ``api_name(field: type = default)`` followed by its
    docstring and one line per documented field, so prompts never drift from
    the executable definitions.
    """
    blocks = []
    for cls in actions:
        params = []
        docs = []
        for name, field in cls.model_fields.items():
            if name == "kind":
                continue
            piece = f"{name}: {_type_name(field.annotation)}"
            if not field.is_required():
                default = field.get_default(call_default_factory=True)
                piece += f" = {default!r}"
            params.append(piece)
            if field.description:
                docs.append(f"    {name}: {field.description}")
        summary = inspect.getdoc(cls) or ""
        header = f"{cls.api_name or cls.__name__}({', '.join(params)})"
        blocks.append("\n".join([header, f"    {summary.splitlines()[0] if summary else ''}", *docs]))
    return "\n".join(blocks)
