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

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

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


Action = Annotated[
    Wait | Done | Fail | ExecuteSQL | SubmitSQL
    | QueryFunction | CheckCandidate | SubmitCandidate
    | MoveTo | Click | MouseDown | MouseUp | RightClick | DoubleClick | DragTo | Scroll | Typing | Press
    | KeyDown | KeyUp | Hotkey | PyAutoGUICode,
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
                piece += f" = {field.default!r}"
            params.append(piece)
            if field.description:
                docs.append(f"    {name}: {field.description}")
        summary = inspect.getdoc(cls) or ""
        header = f"{cls.api_name or cls.__name__}({', '.join(params)})"
        blocks.append("\n".join([header, f"    {summary.splitlines()[0] if summary else ''}", *docs]))
    return "\n".join(blocks)
