"""Fixtures for the CodeARC agent tests: real arena and sandboxes, scripted models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steadyhand.core import Score, Task
from steadyhand.environments.code import CodeEnvironment, Problem
from steadyhand.environments.code.problems import Example

ADD_SOURCE = "def add(a, b):\n    if a == b:\n        return a * b\n    return a + b\n"
PAIRS = [(1, 2), (0, 0), (-1, 5), (10, 20), (3, 4), (100, -50), (7, 8), (2, 5), (5, 0), (9, 1)]


@pytest.fixture
def add_task() -> Task:
    """add(a, b) with ten initial invocations; outputs are computed by the arena."""
    examples = [Example(invocation=f"print('Result {k}: ' + str(add({a}, {b})))") for k, (a, b) in
                enumerate(PAIRS, 1)]
    return Problem(id="add", name="add", source=ADD_SOURCE, examples=examples).to_task("codearc-test-add")


@pytest.fixture
def write_script(tmp_path: Path) -> Any:
    """Write a scripted-model script and return its ``scripted:`` spec."""
    def write(script: dict[str, Any] | list[str], name: str = "script.json") -> str:
        path = tmp_path / name
        path.write_text(json.dumps(script))
        return f"scripted:{path}"
    return write


def impl(code: str) -> str:
    """A text-protocol implementation reply."""
    return f"I think I know.\nIMPLEMENTATION:\n```python\n{code}```"


def invocations(*lines: str) -> str:
    """A text-protocol invocations reply."""
    return "Let me test.\nINVOCATIONS:\n```python\n" + "\n".join(lines) + "\n```"


class Episode:
    """What :func:`run_episode` saw: the outcome, the score, the steps and the model."""

    def __init__(self, outcome: Any, score: Score, steps: list[Any], model: Any) -> None:
        self.outcome, self.score, self.steps, self.model = outcome, score, steps, model

    @property
    def model_calls(self) -> int:
        from steadyhand.models import usage

        return len(usage(self.model).calls)

    @property
    def kinds(self) -> list[str]:
        return [s.action["kind"] for s in self.steps]


@pytest.fixture
def run_episode() -> Iterator[Any]:
    """Run one task through a real CodeEnvironment and the CodeARC agent with a model spec."""
    from steadyhand.agents import EpisodeContext
    from steadyhand.agents.codearc import CodeARCAgent
    from steadyhand.models import load

    envs: list[CodeEnvironment] = []

    def run(task: Task, spec: str, *, env_options: dict[str, Any] | None = None, checkpointer: Any = None,
            thread_id: str = "thread-1", **agent_options: Any) -> Episode:
        env = CodeEnvironment(**{"oracle_inputs": 60, **(env_options or {})})
        envs.append(env)
        model = load(spec)
        steps: list[Any] = []
        first = env.reset(task)
        ctx = EpisodeContext(task=task, env=env, model=model, thread_id=thread_id, checkpointer=checkpointer,
                             record_step=steps.append)
        outcome = CodeARCAgent(**agent_options).run(ctx, first)
        return Episode(outcome, env.evaluate(), steps, model)

    yield run
    for env in envs:
        env.close()
