"""Reading CodeARC invocation lines: only calls of the hidden function, arguments as data."""

from __future__ import annotations

import pytest

from steadyhand.environments.code.execution import Call, CallResult, FunctionRunner
from steadyhand.environments.code.invocations import (
    InvocationError,
    output_text,
    parse_invocation,
    parse_invocations,
    render_invocation,
    resolve,
)


@pytest.mark.parametrize(("line", "prefix"), [
    ("print('Result 3: ' + str(f([1, 2], k=3)))", "Result 3: "),
    ('print("Result 12: " + str(f([1, 2], k=3)))', "Result 12: "),
    ("print(f'Result 4: {f([1, 2], k=3)}')", "Result 4: "),
    ("print('Result 5:', f([1, 2], k=3))", "Result 5: "),
    ("f([1, 2], k=3)", ""),
    ("print(f([1, 2], k=3))", ""),
])
def test_the_forms_models_write_are_read(line: str, prefix: str) -> None:
    inv = parse_invocation(line, "f")
    assert inv.prefix == prefix
    assert inv.literal_call() == Call(([1, 2],), (("k", 3),))


@pytest.mark.parametrize(("line", "message"), [
    ("print(open('/etc/passwd').read())", "only the hidden function f may be called, not open"),
    ("g(1)", "only the hidden function f may be called, not g"),
    ("print('Result 1: ' + str(__import__('os').system('id')))", "not __import__"),
    ("f(1", "not a Python expression"),
    ("x = f(1)", "not a Python expression"),
    ("1 + 2", "expected a call of f"),
])
def test_anything_but_a_call_of_the_function_is_refused(line: str, message: str) -> None:
    with pytest.raises(InvocationError, match=message.replace("(", r"\(")):
        parse_invocation(line, "f")


def test_blocks_skip_fences_comments_and_blank_lines() -> None:
    block = "```python\n# edge cases\nprint('Result 1: ' + str(f(0)))\n\nf(-1)\n```"
    assert [i.literal_call() for i in parse_invocations(block, "f")] == [Call((0,)), Call((-1,))]
    with pytest.raises(InvocationError, match="no invocation"):
        parse_invocations("```python\n```", "f")


def test_non_literal_arguments_are_evaluated_in_the_sandbox(runner: FunctionRunner) -> None:
    invs = parse_invocations(["f(list(range(3)), 'ab' * 2)", "f(*[1, 2], **{'k': 3})", "f([1] + undefined)",
                              "f(lambda x: x)"], "f")
    assert invs[0].literal_call() is None
    calls = resolve(invs, runner)
    assert calls[0] == Call(([0, 1, 2], "abab"))
    assert calls[1] == Call((1, 2), (("k", 3),))
    assert isinstance(calls[2], CallResult) and calls[2].error_type == "NameError"
    assert isinstance(calls[3], CallResult) and "plain data" in calls[3].message


def test_without_a_sandbox_only_literals_resolve() -> None:
    calls = resolve(parse_invocations(["f(1)", "f(abs(-1))"], "f"), None)
    assert calls[0] == Call((1,))
    assert isinstance(calls[1], CallResult) and "literals" in calls[1].message


def test_outputs_read_like_codearc_and_hide_tracebacks() -> None:
    assert output_text("Result 2: ", 2, CallResult("ok", value=4, text="4")) == "Result 2: 4"
    assert output_text("", 11, CallResult("ok", value="x", text="x", stdout="debug\n")) == "debug\nResult 11: x"
    raised = CallResult("error", error_type="ZeroDivisionError", message="division by zero")
    assert output_text("Result 3: ", 3, raised) == "Result 3: raised ZeroDivisionError: division by zero"
    assert render_invocation("f", Call(([1], "a")), 4) == "print('Result 4: ' + str(f([1], 'a')))"
