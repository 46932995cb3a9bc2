"""Reading a model's reply: invocations to run, an implementation to check, or neither.

Text protocol (CodeARC's, so its prompts and fine-tuned models work): the reply
names its action with the word ``INVOCATIONS`` or ``IMPLEMENTATION`` and carries a
```` ```python ```` block - invocation lines ``print('Result i: ' + str(f(args)))``,
or a ``def`` of the function. As in CodeARC, ``IMPLEMENTATION`` wins when both
words appear. Small models are met halfway: an unfenced ``def`` or unfenced
invocation lines count, and a block's content decides when no keyword is given.

Tool protocol: a native tool call (``AIMessage.tool_calls``) or, for models without
one, a JSON object ``{"tool": "query_function", "arguments": {...}}`` in the text.

Nothing here runs the code; it is only read (``ast.parse`` at most).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Reply:
    """What a reply asks for.

    Attributes:
        kind: ``query`` (run ``calls``), ``implement`` (check ``code``) or ``none``
            (nothing usable; ``problem`` says why, for the model).
    """

    kind: Literal["query", "implement", "none"]
    calls: list[str] = field(default_factory=list)
    code: str = ""
    problem: str = ""


def _blocks(text: str) -> list[str]:
    return [m.group(2) for m in _FENCE.finditer(text)]


def defines(code: str, name: str) -> bool:
    """Whether ``code`` parses and defines a top-level function ``name``."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in tree.body)


def invocation_lines(text: str, name: str) -> list[str]:
    """Lines of ``text`` that call ``name`` (inside ``print(...)`` or bare)."""
    call = re.compile(rf"^\s*(?:print\s*\(.*\b{re.escape(name)}\s*\(|{re.escape(name)}\s*\()")
    return [line.strip() for line in text.splitlines() if call.match(line)]


def _unfenced_def(text: str, name: str) -> str:
    """A ``def name`` written without a fence: from its line to the end of its indented body."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(rf"\s*def\s+{re.escape(name)}\s*\(", line)]
    for start in reversed(starts):
        head = lines[start]
        indent = len(head) - len(head.lstrip())
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
            end += 1
        # keep imports and helpers written just above the def
        top = start
        while top > 0 and re.match(r"(import |from \S+ import )", lines[top - 1].strip()):
            top -= 1
        code = "\n".join(line[indent:] if len(line) >= indent else line for line in lines[top:end])
        if defines(code, name):
            return code.strip() + "\n"
    return ""


def parse_reply(text: str, name: str) -> Reply:
    """Classify a text-protocol reply for the hidden function ``name``; never raises.

    >>> parse_reply("INVOCATIONS:\\n```python\\nprint('Result 1: ' + str(f(2)))\\n```", "f").calls
    ["print('Result 1: ' + str(f(2)))"]
    >>> parse_reply("IMPLEMENTATION:\\n```python\\ndef f(x):\\n    return x\\n```", "f").kind
    'implement'
    """
    blocks = _blocks(text)
    implementations = [b.strip() + "\n" for b in blocks if defines(b, name)]
    invocation_blocks = [lines for b in blocks if (lines := invocation_lines(b, name)) and not defines(b, name)]
    wants_impl = "IMPLEMENTATION" in text
    wants_calls = "INVOCATIONS" in text
    if wants_impl or not wants_calls:
        if implementations:
            return Reply("implement", code=implementations[-1])
        code = _unfenced_def(text, name)
        if code:
            return Reply("implement", code=code)
    if invocation_blocks:
        return Reply("query", calls=invocation_blocks[-1])
    loose = invocation_lines(text, name)
    if loose and not wants_impl:
        return Reply("query", calls=loose)
    if wants_impl:
        for b in blocks:
            if b.strip():
                problem = _why_not_implementation(b, name)
                return Reply("none", problem=problem)
        return Reply("none", problem=f"IMPLEMENTATION was given but no ```python block defines {name}.")
    if not text.strip():
        return Reply("none", problem="The reply was empty.")
    return Reply("none", problem=f"The reply had neither invocations of {name} nor an implementation of it.")


def _why_not_implementation(code: str, name: str) -> str:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"The implementation does not parse: {exc.msg} (line {exc.lineno})."
    return f"The code block does not define a top-level function named {name}."


# --- the tool protocol ------------------------------------------------------------------------

TOOL_NAMES = {"query_function": "code.query", "check_implementation": "code.check",
              "submit_implementation": "code.submit"}


def _tool_from_json(text: str) -> tuple[str, dict[str, Any]] | None:
    candidates = [*_blocks(text), text]
    for candidate in candidates:
        start = candidate.find("{")
        end = candidate.rfind("}")
        if start < 0 or end <= start:
            continue
        try:
            data = json.loads(candidate[start:end + 1])
        except ValueError:
            continue
        if isinstance(data, dict):
            tool = data.get("tool") or data.get("name") or data.get("action")
            args = data.get("arguments") or data.get("args") or data.get("parameters") or {}
            if isinstance(tool, str) and isinstance(args, dict):
                return tool, args
    return None


def parse_tool_reply(tool_calls: list[dict[str, Any]], text: str, name: str) -> Reply:
    """Classify a tool-protocol reply: the first native tool call, else a JSON object in ``text``."""
    found: tuple[str, dict[str, Any]] | None = None
    if tool_calls:
        call = tool_calls[0]
        found = (str(call.get("name", "")), dict(call.get("args") or {}))
    else:
        found = _tool_from_json(text)
    if found is None:
        return Reply("none", problem='Call one tool, e.g. {"tool": "query_function", "arguments": {"calls": '
                                     f'["{name}(1)"]}}.')
    tool, args = found
    if tool not in TOOL_NAMES:
        return Reply("none", problem=f"Unknown tool {tool!r}; the tools are {', '.join(TOOL_NAMES)}.")
    if tool == "query_function":
        calls = args.get("calls")
        if isinstance(calls, str):
            calls = [calls]
        if not isinstance(calls, list) or not calls or not all(isinstance(c, str) for c in calls):
            return Reply("none", problem="query_function needs 'calls': a list of invocation strings.")
        return Reply("query", calls=[c for chunk in calls for c in chunk.splitlines() if c.strip()])
    code = args.get("code")
    if not isinstance(code, str) or not defines(code, name):
        return Reply("none", problem=f"{tool} needs 'code': Python source defining {name}.")
    return Reply("implement", code=code.strip() + "\n")
