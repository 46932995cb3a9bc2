"""Desktop action code: pyautogui-string validation and the computer_13 mapping.

Standard library only: the control server imports this module inside the desktop
(where steadyhand's other dependencies may be absent), and the client imports it
on the host to reject bad code before it travels.

* :func:`validate_pyautogui` parses a pyautogui code string with :mod:`ast` and
  accepts only a small, safe subset (calls to allow-listed ``pyautogui``
  functions and ``time.sleep``, plain assignments, ``for`` over ``range``,
  arithmetic). Anything else raises :class:`ActionCodeError` naming the line.
* :func:`computer13_to_code` turns an OSWorld ``computer_13`` dictionary
  (``{"action_type": "CLICK", "x": 10, "y": 20}`` or with a ``parameters``
  mapping) into the equivalent pyautogui code, or reports a control action
  (``WAIT``, ``FAIL``, ``DONE``).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: pyautogui functions model code may call (no screenshots, no message boxes).
PYAUTOGUI_FUNCTIONS: frozenset[str] = frozenset({
    "moveTo", "moveRel", "move", "dragTo", "dragRel", "drag",
    "click", "doubleClick", "tripleClick", "rightClick", "middleClick",
    "mouseDown", "mouseUp", "scroll", "hscroll", "vscroll",
    "typewrite", "write", "press", "keyDown", "keyUp", "hotkey",
    "position", "size", "onScreen", "sleep",
})
#: Builtins model code may call.
SAFE_BUILTINS: frozenset[str] = frozenset({
    "range", "len", "int", "float", "str", "round", "abs", "min", "max", "bool", "list", "tuple",
})
#: Limits the server enforces while running code.
MAX_CODE_CHARS = 20_000
MAX_LOOP_ITERATIONS = 1_000
MAX_SLEEP_S = 60.0

_MODULES = {"pyautogui", "time"}
_ALLOWED_EXPR = (
    ast.Constant, ast.Name, ast.Load, ast.Store, ast.Tuple, ast.List, ast.BinOp, ast.UnaryOp,
    ast.BoolOp, ast.Compare, ast.IfExp, ast.keyword, ast.Attribute, ast.Call, ast.JoinedStr,
    ast.FormattedValue, ast.Subscript, ast.Slice,
    ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)


class ActionCodeError(ValueError):
    """Action code that is malformed or steps outside the allowed subset.

    The message names the line and what was not allowed, so a model can correct it.
    """


def _fail(node: ast.AST | None, message: str) -> ActionCodeError:
    line = getattr(node, "lineno", None)
    return ActionCodeError(f"line {line}: {message}" if line else message)


class _Checker:
    def __init__(self) -> None:
        self.assigned: set[str] = set()

    def statements(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name not in _MODULES or alias.asname not in (None, alias.name):
                    raise _fail(stmt, f"only 'import pyautogui' and 'import time' are allowed, not {alias.name!r}")
        elif isinstance(stmt, ast.ImportFrom):
            raise _fail(stmt, "'from ... import' is not allowed; use 'import pyautogui' and pyautogui.<name>")
        elif isinstance(stmt, ast.Expr):
            if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                return  # a docstring or comment-like string
            if not isinstance(stmt.value, ast.Call):
                raise _fail(stmt, "a statement must be a call such as pyautogui.click(x, y)")
            self.expression(stmt.value)
        elif isinstance(stmt, ast.Assign):
            self.expression(stmt.value)
            for target in stmt.targets:
                self.target(target)
        elif isinstance(stmt, ast.AugAssign):
            self.expression(stmt.value)
            self.target(stmt.target)
        elif isinstance(stmt, ast.For):
            if stmt.orelse:
                raise _fail(stmt, "for ... else is not allowed")
            call = stmt.iter
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range"):
                raise _fail(stmt, "loops may only run over range(...)")
            self.expression(call)
            self.target(stmt.target)
            self.statements(stmt.body)
        elif isinstance(stmt, ast.If):
            self.expression(stmt.test)
            self.statements(stmt.body)
            self.statements(stmt.orelse)
        elif isinstance(stmt, ast.Pass):
            return
        else:
            raise _fail(stmt, f"{type(stmt).__name__} statements are not allowed in action code")

    def target(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            if node.id.startswith("_") or node.id in _MODULES or node.id in SAFE_BUILTINS:
                raise _fail(node, f"cannot assign to {node.id!r}")
            self.assigned.add(node.id)
        elif isinstance(node, ast.Tuple | ast.List):
            for elt in node.elts:
                self.target(elt)
        else:
            raise _fail(node, "only plain names can be assigned")

    def expression(self, node: ast.AST) -> None:
        for child in ast.walk(node):
            if not isinstance(child, _ALLOWED_EXPR):
                raise _fail(child, f"{type(child).__name__} is not allowed in action code")
            if isinstance(child, ast.Attribute):
                self.attribute(child)
            elif isinstance(child, ast.Name) and child.id.startswith("_"):
                raise _fail(child, f"name {child.id!r} is not allowed")
            elif isinstance(child, ast.Call):
                self.call(child)

    def attribute(self, node: ast.Attribute) -> None:
        if not isinstance(node.value, ast.Name) or node.value.id not in _MODULES:
            raise _fail(node, "attribute access is only allowed as pyautogui.<function> or time.sleep")
        module, name = node.value.id, node.attr
        if module == "pyautogui" and name not in PYAUTOGUI_FUNCTIONS:
            raise _fail(node, f"pyautogui.{name} is not allowed; allowed: {', '.join(sorted(PYAUTOGUI_FUNCTIONS))}")
        if module == "time" and name != "sleep":
            raise _fail(node, f"time.{name} is not allowed (only time.sleep)")

    def call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            return  # checked by attribute()
        if isinstance(func, ast.Name) and func.id in SAFE_BUILTINS:
            return
        name = func.id if isinstance(func, ast.Name) else type(func).__name__
        raise _fail(node, f"calling {name!r} is not allowed; call pyautogui.<function>(...) or time.sleep(...)")


def validate_pyautogui(code: str) -> ast.Module:
    """Parse ``code`` and check it stays inside the allowed subset.

    Returns:
        The parsed module, ready to compile.

    Raises:
        ActionCodeError: a syntax error, or a construct outside the subset (the
            message names the line and the construct).
    """
    if not isinstance(code, str) or not code.strip():
        raise ActionCodeError("action code is empty")
    if len(code) > MAX_CODE_CHARS:
        raise ActionCodeError(f"action code is {len(code)} characters; the limit is {MAX_CODE_CHARS}")
    try:
        tree = ast.parse(code, mode="exec")
    except SyntaxError as exc:
        raise ActionCodeError(f"line {exc.lineno}: syntax error: {exc.msg}") from exc
    _Checker().statements(tree.body)
    return tree


# --- computer_13 ----------------------------------------------------------------------

#: computer_13 action types that end or pause the episode instead of touching the desktop.
CONTROL_TYPES: frozenset[str] = frozenset({"WAIT", "FAIL", "DONE"})
_BUTTONS = {"left", "right", "middle"}


@dataclass(frozen=True)
class Computer13:
    """One parsed computer_13 action: its type and parameters."""

    action_type: str
    parameters: dict[str, Any]

    @property
    def is_control(self) -> bool:
        return self.action_type in CONTROL_TYPES


def parse_computer13(action: Mapping[str, Any]) -> Computer13:
    """Read an OSWorld computer_13 dictionary (flat or with a ``parameters`` mapping).

    Raises:
        ActionCodeError: no ``action_type`` or an unknown one.
    """
    if not isinstance(action, Mapping) or "action_type" not in action:
        raise ActionCodeError("a computer_13 action is a dict with an 'action_type' key")
    kind = str(action["action_type"]).upper()
    if kind not in _TEMPLATES and kind not in CONTROL_TYPES:
        known = ", ".join(sorted([*_TEMPLATES, *CONTROL_TYPES]))
        raise ActionCodeError(f"unknown computer_13 action_type {kind!r}; known: {known}")
    params = action.get("parameters")
    if not isinstance(params, Mapping):
        params = {k: v for k, v in action.items() if k != "action_type"}
    return Computer13(kind, dict(params))


def _num(params: Mapping[str, Any], key: str, *, required: bool = True) -> int | None:
    value = params.get(key)
    if value is None:
        if required:
            raise ActionCodeError(f"parameter {key!r} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ActionCodeError(f"parameter {key!r} must be a number, not {value!r}")
    return round(value)


def _button(params: Mapping[str, Any]) -> str:
    button = params.get("button", "left")
    if button not in _BUTTONS:
        raise ActionCodeError(f"button must be one of {sorted(_BUTTONS)}, not {button!r}")
    return str(button)


def _key(value: Any, what: str = "key") -> str:
    if not isinstance(value, str) or not value:
        raise ActionCodeError(f"{what} must be a non-empty string, not {value!r}")
    return value


def _xy(params: Mapping[str, Any]) -> str:
    x, y = _num(params, "x", required=False), _num(params, "y", required=False)
    if (x is None) != (y is None):
        raise ActionCodeError("give both x and y, or neither")
    return "" if x is None else f"x={x}, y={y}"


def _click(p: Mapping[str, Any]) -> str:
    clicks = _num(p, "num_clicks", required=False) or 1
    args = ", ".join(a for a in (_xy(p), f"button={_button(p)!r}", f"clicks={clicks}") if a)
    return f"pyautogui.click({args})"


def _hotkey(p: Mapping[str, Any]) -> str:
    keys = p.get("keys")
    if not isinstance(keys, list | tuple) or not keys:
        raise ActionCodeError("HOTKEY needs 'keys', a non-empty list of key names")
    return f"pyautogui.hotkey({', '.join(repr(_key(k)) for k in keys)})"


def _typing(p: Mapping[str, Any]) -> str:
    text = p.get("text")
    if not isinstance(text, str):
        raise ActionCodeError(f"TYPING needs 'text', a string, not {text!r}")
    return f"pyautogui.write({text!r})"


def _scroll(p: Mapping[str, Any]) -> str:
    dx, dy = _num(p, "dx", required=False) or 0, _num(p, "dy", required=False) or 0
    if not dx and not dy:
        raise ActionCodeError("SCROLL needs a non-zero 'dx' or 'dy'")
    lines = []
    if dy:
        lines.append(f"pyautogui.vscroll({dy})")
    if dx:
        lines.append(f"pyautogui.hscroll({dx})")
    return "\n".join(lines)


_TEMPLATES: dict[str, Any] = {
    "MOVE_TO": lambda p: f"pyautogui.moveTo({_num(p, 'x')}, {_num(p, 'y')})",
    "CLICK": _click,
    "MOUSE_DOWN": lambda p: f"pyautogui.mouseDown(button={_button(p)!r})",
    "MOUSE_UP": lambda p: f"pyautogui.mouseUp(button={_button(p)!r})",
    "RIGHT_CLICK": lambda p: f"pyautogui.rightClick({_xy(p)})",
    "DOUBLE_CLICK": lambda p: f"pyautogui.doubleClick({_xy(p)})",
    "DRAG_TO": lambda p: f"pyautogui.dragTo({_num(p, 'x')}, {_num(p, 'y')}, duration=0.2, button='left')",
    "SCROLL": _scroll,
    "TYPING": _typing,
    "PRESS": lambda p: f"pyautogui.press({_key(p.get('key'))!r})",
    "KEY_DOWN": lambda p: f"pyautogui.keyDown({_key(p.get('key'))!r})",
    "KEY_UP": lambda p: f"pyautogui.keyUp({_key(p.get('key'))!r})",
    "HOTKEY": _hotkey,
}

#: computer_13 action type of each desktop action kind in steadyhand's Action union.
KIND_TO_COMPUTER13: dict[str, str] = {
    "desktop.move_to": "MOVE_TO", "desktop.click": "CLICK", "desktop.mouse_down": "MOUSE_DOWN",
    "desktop.mouse_up": "MOUSE_UP", "desktop.right_click": "RIGHT_CLICK",
    "desktop.double_click": "DOUBLE_CLICK", "desktop.drag_to": "DRAG_TO", "desktop.scroll": "SCROLL",
    "desktop.typing": "TYPING", "desktop.press": "PRESS", "desktop.key_down": "KEY_DOWN",
    "desktop.key_up": "KEY_UP", "desktop.hotkey": "HOTKEY",
}


def computer13_to_code(action: Mapping[str, Any] | Computer13) -> str:
    """The pyautogui code for a non-control computer_13 action.

    Raises:
        ActionCodeError: unknown type, a control type (WAIT/FAIL/DONE have no code),
            or missing/invalid parameters.
    """
    parsed = action if isinstance(action, Computer13) else parse_computer13(action)
    if parsed.is_control:
        raise ActionCodeError(f"{parsed.action_type} is a control action and has no pyautogui code")
    code: str = _TEMPLATES[parsed.action_type](parsed.parameters)
    return code
