"""The CodeARC arena: the episode protocol, its budgets, and misbehaving candidates, on real sandboxes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from steadyhand.core import ConfigurationError, Done, ExecuteSQL, Task, environments
from steadyhand.core.actions import CheckCandidate, QueryFunction, SubmitCandidate
from steadyhand.environments.code import CodeEnvironment

from .conftest import ADD_SOURCE, make_task

Make = Callable[..., CodeEnvironment]
GOOD = ADD_SOURCE
WRONG = "def add(a, b):\n    return a + b if a != b else 0\n"


def test_registered_as_code() -> None:
    assert environments.get("code") is CodeEnvironment
    with pytest.raises(ConfigurationError, match="oracle_budget >= 1"):
        CodeEnvironment(oracle_budget=0)


def test_reset_shows_the_examples_and_the_budgets(make_env: Make, add_task: Task) -> None:
    obs = make_env().reset(add_task)
    assert obs.info["function_name"] == "add" and obs.info["variant"] == "annotated"
    assert obs.info["invocations"][0] == "print('Result 1: ' + str(add(1, 2)))"
    assert obs.info["outputs"][:3] == ["Result 1: 3", "Result 2: 0", "Result 3: 4"]  # computed in the sandbox
    assert (obs.info["io_used"], obs.info["io_left"], obs.info["oracle_left"]) == (10, 20, 2)
    assert "Corresponding outputs:\nResult 1: 3" in (obs.text or "")
    assert "20 invocations and 2 implementation checks left" in (obs.text or "")


def test_queries_count_against_the_io_budget(make_env: Make, add_task: Task) -> None:
    env = make_env(io_budget=13)
    env.reset(add_task)
    result = env.step(QueryFunction(calls=["print('Result 11: ' + str(add(2, 40)))", "add('a', 'b')"]))
    assert result.observation.text is not None
    assert result.observation.text.splitlines()[:2] == ["Result 11: 42", "Result 12: ab"]
    assert result.observation.info["io_left"] == 1 and not result.terminated
    over = env.step(QueryFunction(calls=["add(1, 1)", "add(2, 2)"]))  # as CodeARC: refused, nothing spent
    assert "2 invocations asked for but only 1 are left" in (over.observation.error or "")
    env.step(QueryFunction(calls=["add([1], [2])"]))
    spent = env.step(QueryFunction(calls=["add(0, 0)"]))
    assert "no invocations are left" in (spent.observation.error or "")
    assert env.evaluate().components["io_calls_used"] == 13


def test_errors_show_type_and_message_but_never_the_hidden_source(make_env: Make) -> None:
    source = "def divide(a, b):\n    SECRET_MARKER = 7\n    return a // b + 0 * SECRET_MARKER\n"
    env = make_env()
    obs = env.reset(make_task(source, ["6, 3", "1, 0"]))
    assert obs.info["outputs"][1] == "Result 2: raised ZeroDivisionError: integer division or modulo by zero"
    result = env.step(QueryFunction(calls=["divide(1, 0)", "divide(globals(), 1)", "divide('a', 1)"]))
    text = result.observation.text or ""
    assert "raised ZeroDivisionError" in text and "plain data" in text and "raised TypeError" in text
    assert "SECRET_MARKER" not in repr(result) and "File" not in text
    wrong = env.step(CheckCandidate(code="def divide(a, b):\n    return a / b\n"))
    assert "SECRET_MARKER" not in repr(wrong)


def test_a_correct_check_solves_the_episode(make_env: Make, add_task: Task) -> None:
    env = make_env()
    env.reset(add_task)
    env.step(QueryFunction(calls=["add(-5, 5)"]))
    result = env.step(CheckCandidate(code="def add(x, y):\n    total = x\n    total += y\n    return total\n"))
    assert result.terminated and result.reward == 1.0 and result.observation.info["passed"]
    score = env.evaluate()
    assert score.value == 1.0
    assert score.components == {"io_calls": 11.0, "oracle_calls": 1.0, "io_calls_used": 11.0,
                                "oracle_calls_used": 1.0}
    after = env.step(QueryFunction(calls=["add(1, 1)"]))
    assert after.terminated and "the episode is over (solved)" in (after.observation.error or "")


def test_a_failed_check_shows_a_counterexample_and_the_last_check_is_final(make_env: Make, add_task: Task) -> None:
    env = make_env()
    env.reset(add_task)
    first = env.step(CheckCandidate(code=WRONG))
    assert not first.terminated and first.observation.info["counterexample"]["input"].startswith("add(")
    assert "Failed input: add(" in (first.observation.text or "")
    assert "Your next implementation is final" in (first.observation.text or "")
    assert first.observation.info["oracle_left"] == 1
    second = env.step(CheckCandidate(code=WRONG))
    assert second.terminated and "No checks are left" in (second.observation.text or "")
    score = env.evaluate()
    assert score.value == 0.0
    assert (score.components["io_calls"], score.components["oracle_calls"]) == (30.0, 2.0)  # failures: maxima
    assert score.details["counterexample"]["input"].startswith("add(") and len(score.details["checks"]) == 2


def test_submitting_ends_the_episode_at_once(make_env: Make, add_task: Task) -> None:
    env = make_env()
    env.reset(add_task)
    result = env.step(SubmitCandidate(code=WRONG))
    assert result.terminated and not result.observation.info["passed"]
    assert env.evaluate().components["oracle_calls_used"] == 1.0
    env.reset(add_task)  # the next episode starts clean
    assert env.step(SubmitCandidate(code=GOOD)).reward == 1.0


def test_the_final_check_is_announced_when_the_invocations_run_out(make_env: Make, add_task: Task) -> None:
    env = make_env(io_budget=11)
    env.reset(add_task)
    result = env.step(QueryFunction(calls=["add(1, 1)"]))
    assert "No invocations are left" in (result.observation.text or "")
    check = env.step(CheckCandidate(code=WRONG))
    assert check.observation.info["final_required"] and "next implementation is final" in (check.observation.text
                                                                                          or "")


def test_invalid_actions_change_nothing_until_too_many_in_a_row(make_env: Make, add_task: Task) -> None:
    env = make_env(max_format_retries=2)
    env.reset(add_task)
    bad = env.step(CheckCandidate(code="def plus(a, b):\n    return a + b\n"))
    assert "must define a top-level function named add" in (bad.observation.error or "") and not bad.terminated
    syntax = env.step(CheckCandidate(code="def add(a, b) return a"))
    assert "does not parse" in (syntax.observation.error or "")
    env.step(QueryFunction(calls=["add(1, 2)"]))  # a valid action resets the count
    assert "does not accept 'sql.execute'" in (env.step(ExecuteSQL(query="SELECT 1")).observation.error or "")
    env.step(QueryFunction(calls=["sub(1, 2)"]))
    last = env.step(QueryFunction(calls=["print(add)"]))
    assert last.terminated and "Too many invalid actions" in (last.observation.error or "")
    assert env.evaluate().value == 0.0 and env.evaluate().details["end"] == "3 invalid actions in a row"


def test_done_without_an_implementation_scores_zero(make_env: Make, add_task: Task) -> None:
    env = make_env()
    with pytest.raises(ConfigurationError, match="reset"):
        env.step(Done())
    env.reset(add_task)
    assert env.step(Done()).terminated
    assert env.evaluate().value == 0.0


@pytest.mark.parametrize(("candidate", "shows"), [
    ("def add(a, b):\n    while True:\n        pass\n", "timed out"),
    ("import os\ndef add(a, b):\n    os._exit(1)\n", "raised Crash"),
    ("def add(a, b):\n    return len(bytearray(16 * 1024 ** 3))\n", "raised MemoryError"),
    ("def add(a, b):\n    open('/etc/hosts', 'a').write('x')\n    return a + b\n", "raised PermissionError"),
    ("import socket\ndef add(a, b):\n    socket.create_connection(('10.0.0.1', 80), timeout=1)\n    return a + b\n",
     "raised OSError"),
])
def test_misbehaving_candidates_are_contained_and_reported(make_env: Make, add_task: Task, candidate: str,
                                                           shows: str) -> None:
    env = make_env()
    env.reset(add_task)
    result = env.step(CheckCandidate(code=candidate))
    assert not result.terminated  # one check left: the episode goes on
    assert result.observation.info["counterexample"]["actual"].startswith(shows)
    assert env.step(CheckCandidate(code=GOOD)).reward == 1.0


def test_a_candidate_printing_megabytes_is_judged_on_its_values(make_env: Make, add_task: Task) -> None:
    env = make_env()
    env.reset(add_task)
    result = env.step(CheckCandidate(code="def add(a, b):\n    print('spam' * 1_000_000)\n    return a + b\n"))
    assert result.reward == 1.0 and len(repr(result)) < 20_000
