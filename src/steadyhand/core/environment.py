"""The Environment contract every environment implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from steadyhand.core.actions import ActionBase
from steadyhand.core.observation import Observation, StepResult
from steadyhand.core.score import Score
from steadyhand.core.task import Task


@runtime_checkable
class Environment(Protocol):
    """A sandboxed world an agent acts in, one task at a time.

    Lifecycle: ``reset(task)`` prepares a fresh world for the task and returns the
    first observation; ``step(action)`` applies one action; ``evaluate()`` returns
    the benchmark's verdict on the current state; ``close()`` releases everything.
    ``reset`` may be called again for the next task.

    Errors: a bad action (malformed query, unknown element) is *not* an exception;
    it comes back as ``Observation.error``. Infrastructure failures raise
    :class:`~steadyhand.core.errors.EnvironmentFault`.
    """

    def reset(self, task: Task, *, seed: int | None = None) -> Observation: ...

    def step(self, action: ActionBase) -> StepResult: ...

    def evaluate(self) -> Score: ...

    def close(self) -> None: ...
