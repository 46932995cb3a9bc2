"""Reading model replies in CodeARC's text protocol and in the tool protocol."""

from __future__ import annotations

import pytest

from steadyhand.agents.codearc.parsing import Reply, parse_reply, parse_tool_reply
from steadyhand.agents.codearc.prompts import render, system_prompt, tool_schemas

DEF = "def f(x):\n    return x + 1\n"


@pytest.mark.parametrize(("text", "expected"), [
    (f"IMPLEMENTATION:\n```python\n{DEF}```", Reply("implement", code=DEF)),
    ("INVOCATIONS:\n```python\nprint('Result 11: ' + str(f(2)))\nf(-1)\n```",
     Reply("query", calls=["print('Result 11: ' + str(f(2)))", "f(-1)"])),
    # as in CodeARC, IMPLEMENTATION wins when both words appear
    (f"No more INVOCATIONS needed.\nIMPLEMENTATION:\n```python\n{DEF}```", Reply("implement", code=DEF)),
    # the last block of each kind counts
    (f"```python\ndef f(x):\n    return 0\n```\nBetter:\nIMPLEMENTATION\n```python\n{DEF}```",
     Reply("implement", code=DEF)),
    # small models: no fence, no keyword
    (f"The function adds one.\n{DEF}\nThat is all.", Reply("implement", code=DEF)),
    ("I will try f(3) next:\nf(3)\nprint(f(4))", Reply("query", calls=["f(3)", "print(f(4))"])),
    # a fence left open because generation stopped still counts
    ("IMPLEMENTATION:\n```python\nimport math\ndef f(x):\n    return math.floor(x)",
     Reply("implement", code="import math\ndef f(x):\n    return math.floor(x)\n")),
])
def test_text_replies(text: str, expected: Reply) -> None:
    assert parse_reply(text, "f") == expected


@pytest.mark.parametrize(("text", "problem"), [
    ("", "empty"),
    ("It seems to add one.", "neither invocations of f nor an implementation"),
    ("IMPLEMENTATION:\n```python\ndef g(x):\n    return x\n```", "does not define a top-level function named f"),
    ("IMPLEMENTATION:\n```python\ndef f(x) return x\n```", "does not parse"),
    ("IMPLEMENTATION: the identity.", "no ```python block defines f"),
])
def test_unusable_replies_say_why(text: str, problem: str) -> None:
    reply = parse_reply(text, "f")
    assert reply.kind == "none" and problem in reply.problem


def test_tool_replies() -> None:
    native = parse_tool_reply([{"name": "query_function", "args": {"calls": ["f(1)\nf(2)"]}}], "", "f")
    assert native == Reply("query", calls=["f(1)", "f(2)"])
    as_json = parse_tool_reply([], 'Sure. {"tool": "submit_implementation", "arguments": {"code": "def f(x): '
                                    'return x"}}', "f")
    assert as_json.kind == "implement" and as_json.code.startswith("def f(x)")
    assert "Unknown tool 'run'" in parse_tool_reply([{"name": "run", "args": {}}], "", "f").problem
    assert "needs 'code'" in parse_tool_reply([], '{"tool": "check_implementation", "arguments": {}}', "f").problem
    assert parse_tool_reply([], "no tool at all", "f").kind == "none"


def test_prompts_list_the_actions_from_their_definitions() -> None:
    text = system_prompt("count_vowels", tools=False)
    assert "query_function(calls: list[str])" in text and "print('Result 1: ' + str(count_vowels(args)))" in text
    assert "check_implementation(code: str)" in system_prompt("f", tools=True)
    assert {t["function"]["name"] for t in tool_schemas()} == {"query_function", "check_implementation",
                                                               "submit_implementation"}
    assert "FINAL" in render("budget", io_left=0, oracle_left=1)
    with pytest.raises(Exception, match="undefined"):
        render("budget", io_left=1)
