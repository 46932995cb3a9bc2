"""The CodeARC agent with scripted models against the real arena (real sandboxes, real oracle)."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from steadyhand.agents import AgentOutcome
from steadyhand.agents.codearc import CodeARCAgent
from steadyhand.agents.codearc.graph import Settings, after_check, after_query, prompt_window, route_reply
from steadyhand.core import Task, agents
from steadyhand.core.errors import ConfigurationError

from .conftest import ADD_SOURCE, impl, invocations

WRONG = "def add(a, b):\n    return a + b\n"  # misses the a == b case


def test_registered_as_codearc() -> None:
    assert agents.get("codearc") is CodeARCAgent
    with pytest.raises(ConfigurationError, match="protocol"):
        CodeARCAgent(protocol="xml")  # type: ignore[arg-type]


def test_queries_then_implements_and_records_every_step(add_task: Task, run_episode: Any,
                                                        write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AOutputs of your invocations:\n(?s:.*)Result 11: 49\nResult 12: 0", "reply": impl(ADD_SOURCE)},
        {"when": "GIVEN EXAMPLES", "reply": invocations("print('Result 11: ' + str(add(7, 7)))", "add(0, 0)",
                                                        "add(-3, 3)")},
    ]})
    ep = run_episode(add_task, spec)
    # add(0, 0) repeats an initial example: choose_queries drops it instead of spending the budget
    assert ep.steps[0].action == {"kind": "code.query", "calls": ["print('Result 11: ' + str(add(7, 7)))",
                                                                  "add(-3, 3)"]}
    assert "1 repeated invocation(s) dropped" in ep.steps[0].rationale
    assert ep.kinds == ["code.query", "code.check"]
    assert ep.outcome == AgentOutcome(status="terminated", steps=2, final_answer=ADD_SOURCE)
    assert ep.score.value == 1.0 and ep.score.components["io_calls"] == 12 and ep.score.components["oracle_calls"] == 1
    assert ep.steps[0].input_tokens > 0 and ep.steps[1].output_tokens > 0
    assert ep.model_calls == 2


def test_a_counterexample_leads_to_a_revision(add_task: Task, run_episode: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        # only a message showing the failing input and both outputs gets the fix
        {"when": r"Failed input: add\((-?\d+), \1\)\nExpected \(hidden function\): (-?\d+)\n", "reply":
            impl(ADD_SOURCE)},
        {"when": "GIVEN EXAMPLES", "reply": impl(WRONG)},
    ]})
    ep = run_episode(add_task, spec)
    assert ep.kinds == ["code.check", "code.submit"]  # the second check is the last: a submission
    assert ep.score.value == 1.0 and ep.score.components["oracle_calls"] == 2
    assert "Failed input: add(" in ep.steps[0].observation["text"]


def test_two_wrong_implementations_end_the_episode(add_task: Task, run_episode: Any, write_script: Any) -> None:
    ep = run_episode(add_task, write_script({"default": impl(WRONG)}))
    assert ep.kinds == ["code.check", "code.submit"]
    assert ep.outcome.status == "terminated" and ep.outcome.final_answer == WRONG
    assert ep.score.value == 0.0 and ep.score.components == {
        "io_calls": 30.0, "oracle_calls": 2.0, "io_calls_used": 10.0, "oracle_calls_used": 2.0}


def test_a_model_that_never_answers_in_format_fails_after_two_retries(add_task: Task, run_episode: Any,
                                                                      write_script: Any) -> None:
    ep = run_episode(add_task, write_script({"default": "Interesting numbers."}))
    assert ep.outcome.status == "error" and "no usable reply after 2 format retries" in (ep.outcome.error or "")
    assert ep.steps == [] and ep.model_calls == 3
    assert ep.score.value == 0.0 and ep.score.components["io_calls"] == 30


def test_a_format_retry_shows_the_expected_format(add_task: Task, run_episode: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AFormat error: .*\nReply with INVOCATIONS and a ```python block", "reply": impl(ADD_SOURCE)},
        {"when": "GIVEN EXAMPLES", "reply": "IMPLEMENTATION:\n```python\ndef add(a, b) return 1\n```"},
    ]})
    ep = run_episode(add_task, spec)
    assert ep.score.value == 1.0 and ep.model_calls == 2 and ep.kinds == ["code.check"]


def test_refused_invocations_are_shown_and_count_as_format_retries(add_task: Task, run_episode: Any,
                                                                   write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AFormat error: expected a call of add\(\.\.\.\): print", "reply": impl(ADD_SOURCE)},
        {"when": "GIVEN EXAMPLES", "reply": invocations("print('Result 11: ' + str(add(1, 2)) + open('/etc/passwd')"
                                                        ".read())")},
    ]})
    ep = run_episode(add_task, spec)
    assert ep.kinds == ["code.query", "code.check"] and ep.score.value == 1.0
    assert ep.score.components["io_calls"] == 10  # the refused query spent nothing


def test_budget_exhaustion_trims_queries_and_forces_the_final_implementation(
        add_task: Task, run_episode: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"next implementation is FINAL", "reply": impl(ADD_SOURCE)},
        {"when": r"\AOutputs of your invocations:", "reply": impl(WRONG)},
        {"when": "GIVEN EXAMPLES", "reply": invocations("add(11, 12)", "add(13, 14)", "add(15, 16)")},
    ]})
    ep = run_episode(add_task, spec, env_options={"io_budget": 12})
    assert ep.steps[0].action["calls"] == ["add(11, 12)", "add(13, 14)"]  # trimmed to the 2 left
    assert ep.kinds == ["code.query", "code.check", "code.submit"]
    assert ep.score.value == 1.0 and ep.score.components["io_calls"] == 12


def test_the_tool_protocol_accepts_json_tool_calls(add_task: Task, run_episode: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AOutputs of your invocations:", "reply": '{"tool": "check_implementation", "arguments": '
                                                             '{"code": "def add(a, b):\\n    return 4 * a if a == b '
                                                             'else a + b"}}'},
        {"when": "GIVEN EXAMPLES", "reply": '```json\n{"tool": "query_function", "arguments": {"calls": '
                                            '["add(4, 4)"]}}\n```'},
    ]})
    ep = run_episode(add_task, spec, protocol="tools")
    assert ep.kinds == ["code.query", "code.check"]
    assert ep.score.value == 0.0 and ep.steps[1].observation["info"]["counterexample"]["input"].startswith("add(")


def test_a_finished_thread_is_replayed_without_model_calls(add_task: Task, run_episode: Any,
                                                           write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\AOutputs of your invocations:", "reply": impl(ADD_SOURCE)},
        {"when": "GIVEN EXAMPLES", "reply": invocations("add(6, 6)")},
    ]})
    saver = InMemorySaver()
    first = run_episode(add_task, spec, checkpointer=saver)
    again = run_episode(add_task, write_script({"default": "unused"}, "other.json"), checkpointer=saver)
    assert again.model_calls == 0 and again.steps == []
    assert again.outcome == first.outcome and first.score.value == again.score.value == 1.0
    assert again.score.components == first.score.components == {
        "io_calls": 11.0, "oracle_calls": 1.0, "io_calls_used": 11.0, "oracle_calls_used": 1.0}


def test_an_interrupted_thread_resumes_where_it_stopped(add_task: Task, run_episode: Any, write_script: Any) -> None:
    # the first model has no reply after the query: its second call raises, the checkpoint stays
    broken = write_script({"rules": [{"when": "GIVEN EXAMPLES", "reply": invocations("add(6, 6)")}]})
    saver = InMemorySaver()
    first = run_episode(add_task, broken, checkpointer=saver)
    assert first.outcome.status == "error" and "no reply" in (first.outcome.error or "")
    assert first.kinds == ["code.query"]
    fixed = write_script({"rules": [{"when": r"\AOutputs of your invocations:\nResult 11: 36", "reply":
                                     impl(ADD_SOURCE)}]}, "fixed.json")
    again = run_episode(add_task, fixed, checkpointer=saver)
    assert again.model_calls == 1 and again.kinds == ["code.check"]  # the query is replayed, not re-asked
    assert again.score.value == 1.0 and again.score.components["io_calls"] == 11


def test_routers_are_pure() -> None:
    s = Settings(max_format_retries=1)
    assert route_reply({"decision": "query"}, s, "hypothesise") == "choose_queries"
    assert route_reply({"decision": "implement"}, s, "revise") == "check"
    assert route_reply({"decision": "none", "format_retries": 1}, s, "revise") == "revise"
    assert route_reply({"decision": "none", "format_retries": 2}, s, "revise") == "__end__"
    assert after_query({"io_left": 0, "oracle_left": 1}, s) == "finalize"
    assert after_query({"io_left": 3, "oracle_left": 1}, s) == "hypothesise"
    assert after_check({"solved": True}, s) == "__end__"
    assert after_check({"io_left": 3, "oracle_left": 1}, s) == "revise"
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "t"}] + [
        {"role": "assistant" if i % 2 == 0 else "user", "content": str(i)} for i in range(10)]
    assert [m["content"] for m in prompt_window(messages, 2)] == ["s", "t", "6", "7", "8", "9"]  # type: ignore[arg-type]
