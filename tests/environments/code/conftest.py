"""Fixtures for the CodeARC arena tests: real bubblewrap sandboxes, small hand-written problems."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from steadyhand.core import Task
from steadyhand.environments.code import CodeEnvironment, FunctionRunner, Oracle, Problem
from steadyhand.environments.code.problems import Example
from steadyhand.sandboxes import Sandbox, open_sandbox

ADD_SOURCE = "def add(a, b):\n    return a + b\n"
CLAMP_SOURCE = """\
def clamp(x, lo, hi):
    if lo > hi:
        raise ValueError("lo > hi")
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A real local (bubblewrap) sandbox shared by a module's tests."""
    with open_sandbox("local") as box:
        yield box


@pytest.fixture(scope="module")
def other_sandbox() -> Iterator[Sandbox]:
    """A second sandbox, for candidates."""
    with open_sandbox("local") as box:
        yield box


@pytest.fixture
def runner(sandbox: Sandbox) -> FunctionRunner:
    return FunctionRunner(sandbox)


@pytest.fixture
def oracle(sandbox: Sandbox, other_sandbox: Sandbox) -> Oracle:
    """A real oracle with a modest input count, to keep tests quick."""
    return Oracle(FunctionRunner(sandbox), FunctionRunner(other_sandbox), seed=0, generated=60)


def make_task(source: str, args: list[str], *, task_id: str = "t-1", variant: str = "annotated",
              name: str | None = None) -> Task:
    """A ``code`` task whose initial outputs are computed by the environment at reset."""
    from steadyhand.environments.code import target_name

    name = name or target_name(source)
    examples = [Example(invocation=f"print('Result {k}: ' + str({name}({a})))") for k, a in enumerate(args, 1)]
    return Problem(id=task_id, name=name, source=source, variant=variant,  # type: ignore[arg-type]
                   examples=examples).to_task(task_id)


@pytest.fixture
def add_task() -> Task:
    """add(a, b) with ten initial invocations (outputs computed in the sandbox)."""
    pairs = [(1, 2), (0, 0), (-1, 5), (10, 20), (3, 3), (100, -50), (7, 8), (2, 2), (5, 0), (9, 1)]
    return make_task(ADD_SOURCE, [f"{a}, {b}" for a, b in pairs])


@pytest.fixture
def clamp_task() -> Task:
    return make_task(CLAMP_SOURCE, ["5, 0, 10", "-3, 0, 10", "15, 0, 10", "0, 0, 0", "7, 7, 9", "2, 5, 1",
                                    "10, 0, 10", "-1, -5, -2", "3, 1, 4", "8, 2, 6"])


@pytest.fixture
def make_env() -> Iterator[Callable[..., CodeEnvironment]]:
    """Build CodeEnvironments (small oracle) that are closed after the test."""
    made: list[CodeEnvironment] = []

    def make(**options: Any) -> CodeEnvironment:
        env = CodeEnvironment(**{"oracle_inputs": 60, **options})
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()
