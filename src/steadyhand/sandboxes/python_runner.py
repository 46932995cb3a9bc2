"""Call a function from untrusted Python source inside a sandbox and get its value or exception.

CodeARC queries a hidden function and a candidate many times per problem, each
in a fresh isolated process with a time limit::

    outcome = call_function(box, source, "solution", args=[[3, 1, 2]], timeout=5)
    outcome.value          # [1, 2, 3]  (or outcome.error_type / error_message)

Each call is one ``python3 -I -S`` process (no site import: a fast start) reading the
request from stdin. Values cross the boundary as Python literals: arguments are
written with ``repr`` (so they must be literals: numbers, strings, bytes, None, bools
and tuples/lists/sets/dicts of them, non-finite floats included); a return value
made of literals comes back equal (decoded with :func:`ast.literal_eval`, never
``eval``, on the host); anything else comes back as a :class:`ReprValue` holding its
``repr``. Exceptions come back as type name and message; the traceback (which shows
the hidden source's lines) only with ``show_traceback=True``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from steadyhand.sandboxes.base import Sandbox

_REPR_LIMIT = 100_000
_STDOUT_LIMIT = 10_000

# Runs inside the sandbox. Reads "<source>\0<function>\0<args repr>\0<kwargs repr>\0<tb flag>"
# from stdin, prints a Python literal dict on the descriptor that was stdout; the
# function's own prints are captured (fd 1 is pointed at stderr meanwhile).
_RUNNER = r"""
import sys, os
_out = os.fdopen(os.dup(1), "w"); os.dup2(2, 1)
def _literal(v, depth=0):
    t = type(v)
    if v is None or t in (bool, int, str, bytes, complex): return True
    if t is float: return v == v and v not in (float("inf"), float("-inf"))
    if depth > 50: return False
    if t in (list, tuple, set, frozenset): return all(_literal(x, depth + 1) for x in v)
    if t is dict: return all(_literal(k, depth + 1) and _literal(x, depth + 1) for k, x in v.items())
    return False
def _rep(v):
    try: return repr(v)[:@LIMIT@]
    except BaseException as e: return "<unrepresentable %s: %s>" % (type(v).__name__, e)
def _msg(e):
    try: return str(e)[:2000]
    except BaseException: return "<unprintable message>"
def _main():
    import io
    src, name, args, kwargs, tb = sys.stdin.buffer.read().decode().split("\0")
    captured = io.StringIO(); sys.stdout = captured
    env = {"__builtins__": {}, "nan": float("nan"), "inf": float("inf")}
    res = {}
    try:
        ns = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(src, "<hidden>", "exec"), ns)
        if name not in ns: raise NameError("the source defines no %r" % name)
        value = ns[name](*eval(args, env), **eval(kwargs, env))
        text = _rep(value)
        if _literal(value) and len(text) < @LIMIT@:
            res = {"ok": True, "kind": "literal", "value": text}
        elif type(value) is float:
            res = {"ok": True, "kind": "float", "value": text}
        else:
            res = {"ok": True, "kind": "repr", "value": text}
    except BaseException as e:
        res = {"ok": False, "error_type": type(e).__qualname__ if type(e).__module__ == "builtins"
               else type(e).__module__ + "." + type(e).__qualname__, "error_message": _msg(e)}
        if tb == "1":
            import traceback
            res["traceback"] = "".join(traceback.format_exception(e))[-10000:]
    res["stdout"] = captured.getvalue()[:@STDOUT@]
    _out.write(repr(res)); _out.flush()
_main()
""".replace("@LIMIT@", str(_REPR_LIMIT)).replace("@STDOUT@", str(_STDOUT_LIMIT))


class ReprValue:
    """A return value that is not a Python literal, kept as its ``repr`` text.

    Two ReprValues are equal when their texts are; its ``repr`` is the text itself.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReprValue) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


class CallOutcome(BaseModel):
    """What one call did: a value, an exception, or a timeout."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    ok: bool
    value: Any = None
    value_repr: str = ""
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    timed_out: bool = False
    stdout: str = ""
    duration_s: float = 0.0

    @property
    def raised(self) -> bool:
        """The function raised (a timeout or a crash of the interpreter is not counted)."""
        return not self.ok and not self.timed_out and self.error_type not in (None, "SandboxCrash")


class ArgumentError(ValueError):
    """An argument cannot be sent to the sandbox as a Python literal."""


def to_literal(value: Any) -> str:
    """``repr`` of ``value`` after checking it is made of Python literals only.

    Raises:
        ArgumentError: something in ``value`` is not a literal.
    """
    _check_literal(value, 0)
    return repr(value)


def _check_literal(value: Any, depth: int) -> None:
    kind = type(value)
    if value is None or kind in (bool, int, str, bytes, complex, float):
        return
    if depth > 100:
        raise ArgumentError("argument nested too deeply")
    if kind in (list, tuple, set, frozenset):
        for item in value:
            _check_literal(item, depth + 1)
        return
    if kind is dict:
        for key, item in value.items():
            _check_literal(key, depth + 1)
            _check_literal(item, depth + 1)
        return
    raise ArgumentError(f"cannot send a {kind.__name__} to the sandbox; use Python literals")


def call_function(
    sandbox: Sandbox,
    source: str,
    function: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    timeout: float = 5.0,
    show_traceback: bool = False,
    python: str = "python3",
) -> CallOutcome:
    """Run ``function(*args, **kwargs)`` from ``source`` in a fresh interpreter inside ``sandbox``.

    Returns a :class:`CallOutcome`; the function raising, the call timing out or the
    interpreter dying are outcomes, not exceptions.

    Raises:
        ArgumentError: an argument is not a Python literal.
        SandboxClosedError, SandboxFault: the sandbox itself is unusable.
    """
    if "\0" in source:
        raise ArgumentError("source must not contain NUL characters")
    payload = "\0".join([source, function, to_literal(tuple(args)), to_literal(dict(kwargs or {})),
                         "1" if show_traceback else "0"])
    result = sandbox.exec([python, "-I", "-S", "-c", _RUNNER], stdin=payload.encode(),
                          timeout=timeout, output_limit=4 * _REPR_LIMIT)
    if result.timed_out:
        return CallOutcome(ok=False, timed_out=True, error_type="TimeoutError",
                           error_message=f"the call did not finish within {timeout} s",
                           duration_s=result.duration_s)
    try:
        data = ast.literal_eval(result.stdout.decode("utf-8", "replace")) if result.stdout else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        data = None
    if not isinstance(data, dict):
        detail = result.stderr_text.strip()[-1000:] or f"exit status {result.returncode}"
        return CallOutcome(ok=False, error_type="SandboxCrash",
                           error_message=f"the interpreter died before answering: {detail}",
                           duration_s=result.duration_s)
    if not data.get("ok"):
        return CallOutcome(ok=False, error_type=str(data.get("error_type")),
                           error_message=str(data.get("error_message", "")),
                           traceback=data.get("traceback"), stdout=str(data.get("stdout", "")),
                           duration_s=result.duration_s)
    text = str(data.get("value", ""))
    return CallOutcome(ok=True, value=_decode(str(data.get("kind")), text), value_repr=text,
                       stdout=str(data.get("stdout", "")), duration_s=result.duration_s)


def _decode(kind: str, text: str) -> Any:
    if kind == "literal":
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return ReprValue(text)
    if kind == "float" and text in ("nan", "inf", "-inf"):
        return float(text)
    if kind == "float":
        return math.nan
    return ReprValue(text)
