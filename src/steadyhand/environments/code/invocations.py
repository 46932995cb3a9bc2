"""Reading invocations of the hidden function, in CodeARC's text format or as bare calls.

CodeARC's invocation lines look like ``print('Result 3: ' + str(add(1, 2)))``; a
bare ``add(1, 2)`` is accepted too. Lines are parsed with :mod:`ast`, never run on
the host: only a call of the hidden function's name is accepted, and its argument
expressions become data - directly when they are literals (:func:`ast.literal_eval`),
otherwise by evaluating them in a sandbox process that holds no hidden code
(:meth:`FunctionRunner.evaluate`). So an invocation cannot do anything but call the
function on plain data: it cannot read the hidden source, whatever it says.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from steadyhand.environments.code.execution import Call, CallResult, FunctionRunner

MAX_INVOCATION_CHARS = 20_000


class InvocationError(ValueError):
    """An invocation line is not a call of the hidden function; the message says why."""


@dataclass(frozen=True)
class Invocation:
    """One parsed invocation line.

    Attributes:
        prefix: the text printed before the value (``"Result 3: "``), empty for a bare call.
        args: source text of each positional argument (``*xs`` kept as written).
        kwargs: ``(name, source text)`` of each keyword argument (``**d`` as ``("", "**d")``).
        line: the line as written.
    """

    prefix: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    line: str

    def literal_call(self) -> Call | None:
        """The call as plain data when every argument is a literal, else None."""
        if any(a.startswith("*") for a in self.args) or any(not k for k, _ in self.kwargs):
            return None
        try:
            args = tuple(ast.literal_eval(a) for a in self.args)
            kwargs = tuple((k, ast.literal_eval(v)) for k, v in self.kwargs)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        return Call(args, kwargs)

    def arguments_expression(self) -> str:
        """One expression evaluating to ``(args_tuple, kwargs_dict)``, for sandboxed evaluation."""
        args = "".join(f"{a}, " for a in self.args)
        kwargs = ", ".join(f"{k}={v}" if k else v for k, v in self.kwargs)
        return f"(({args}), dict({kwargs}))"


def _clean_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("```"):
            continue
        lines.append(line)
    return lines


def _inner_call(node: ast.expr, line: str) -> tuple[str, ast.expr]:
    """(prefix, call node) of a ``print(...)`` wrapper, or ("", node) for a bare call."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"):
        return "", node
    if len(node.args) == 2 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value + " ", node.args[1]  # print('Result 1:', f(x))
    if len(node.args) != 1 or node.keywords:
        raise InvocationError(f"expected print('Result i: ' + str(<call>)): {line}")
    arg = node.args[0]
    if (isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add) and isinstance(arg.left, ast.Constant)
            and isinstance(arg.left.value, str)):
        prefix, inner = arg.left.value, arg.right
        if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in ("str", "repr")
                and len(inner.args) == 1 and not inner.keywords):
            inner = inner.args[0]
        return prefix, inner
    if isinstance(arg, ast.JoinedStr) and len(arg.values) == 2:  # print(f"Result 1: {f(x)}")
        head, value = arg.values
        if (isinstance(head, ast.Constant) and isinstance(head.value, str) and isinstance(value, ast.FormattedValue)
                and value.conversion == -1 and value.format_spec is None):
            return head.value, value.value
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "str" and len(arg.args) == 1:
        return "", arg.args[0]
    return "", arg


def parse_invocation(line: str, name: str) -> Invocation:
    """Parse one invocation line calling ``name``.

    Raises:
        InvocationError: the line is not Python, not a call, or calls something else.
    """
    line = line.strip()
    if len(line) > MAX_INVOCATION_CHARS:
        raise InvocationError(f"invocation longer than {MAX_INVOCATION_CHARS} characters")
    try:
        tree = ast.parse(line, mode="eval")
    except SyntaxError as exc:
        raise InvocationError(f"not a Python expression ({exc.msg}): {line[:200]}") from exc
    prefix, node = _inner_call(tree.body, line)
    if not isinstance(node, ast.Call):
        raise InvocationError(f"expected a call of {name}(...): {line[:200]}")
    if not (isinstance(node.func, ast.Name) and node.func.id == name):
        called = ast.get_source_segment(line, node.func) or "?"
        raise InvocationError(f"only the hidden function {name} may be called, not {called}: {line[:200]}")
    args = tuple(ast.get_source_segment(line, a) or "" for a in node.args)
    kwargs = tuple((k.arg or "", ast.get_source_segment(line, k.value) or "") for k in node.keywords)
    kwargs = tuple((k, v if k else f"**{v}") for k, v in kwargs)
    return Invocation(prefix=prefix, args=args, kwargs=kwargs, line=line)


def parse_invocations(text: str | Sequence[str], name: str) -> list[Invocation]:
    """Parse a block (or list) of invocation lines; blank lines, comments and fences are skipped.

    Raises:
        InvocationError: some line is not a call of ``name``; the message names the first.
    """
    lines = _clean_lines(text) if isinstance(text, str) else [ln for t in text for ln in _clean_lines(t)]
    if not lines:
        raise InvocationError(f"no invocation of {name} found")
    return [parse_invocation(line, name) for line in lines]


def resolve(invocations: Sequence[Invocation], runner: FunctionRunner | None,
            ) -> list[Call | CallResult]:
    """Each invocation's :class:`Call`, or the :class:`CallResult` of evaluating its arguments failing.

    Literal arguments are read on the host with :func:`ast.literal_eval`; the others
    are evaluated in the sandbox of ``runner`` (when None, they fail).
    """
    resolved: list[Call | CallResult | None] = [inv.literal_call() for inv in invocations]
    pending = [i for i, call in enumerate(resolved) if call is None]
    if pending:
        if runner is None:
            for i in pending:
                resolved[i] = CallResult("error", error_type="ValueError",
                                         message="arguments must be Python literals")
        else:
            outcomes = runner.evaluate([invocations[i].arguments_expression() for i in pending])
            for i, outcome in zip(pending, outcomes, strict=True):
                resolved[i] = _as_call(outcome)
    return [r for r in resolved if r is not None]


def _as_call(outcome: CallResult) -> Call | CallResult:
    if outcome.status != "ok":
        return outcome
    value = outcome.value
    if (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], tuple)
            and isinstance(value[1], dict) and all(isinstance(k, str) for k in value[1])):
        if _has_opaque(value):
            return CallResult("error", error_type="TypeError",
                              message="arguments must be plain data (numbers, strings, lists, tuples, dicts, sets)")
        return Call(value[0], tuple(value[1].items()))
    return CallResult("error", error_type="TypeError", message="the arguments did not evaluate to an argument list")


def _has_opaque(value: object) -> bool:
    from steadyhand.environments.code.driver import Opaque

    if isinstance(value, Opaque):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_opaque(v) for v in value)
    if isinstance(value, dict):
        return any(_has_opaque(k) or _has_opaque(v) for k, v in value.items())
    return False


def result_line(prefix: str, index: int, shown: str) -> str:
    """The output line CodeARC prints for a call: ``prefix + str(value)`` (``Result i: `` when no prefix)."""
    return f"{prefix or f'Result {index}: '}{shown}"


def render_invocation(name: str, call: Call, index: int) -> str:
    """The CodeARC invocation line for ``call``: ``print('Result i: ' + str(name(args)))``."""
    return f"print('Result {index}: ' + str({call.render(name, limit=10**9)}))"


def output_text(prefix: str, index: int, result: CallResult) -> str:
    """What an invocation shows: anything the call printed, then ``Result i: <str(value)>``.

    A raised exception shows as ``Result i: raised ValueError: message`` - its type and
    message only, never a traceback through the hidden source.
    """
    line = result_line(prefix, index, result.describe())
    printed = result.stdout.rstrip("\n")
    return f"{printed}\n{line}" if printed else line
