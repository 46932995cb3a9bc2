"""Tasks are data; suites are named, lazily loaded collections of tasks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Task(BaseModel):
    """One benchmark item.

    Attributes:
        id: unique within its suite.
        instruction: what the agent is asked to do, in words.
        environment: the registered environment kind that runs it (``sql``, ``desktop``...).
        setup: environment-specific setup steps, run by ``Environment.reset``.
        evaluator: environment-specific evaluator spec (gold query, metric, getters...).
        metadata: anything else (difficulty, database id, source file).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    instruction: str
    environment: str
    setup: list[dict[str, Any]] = Field(default_factory=list)
    evaluator: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def difficulty(self) -> str:
        return str(self.metadata.get("difficulty", "unknown"))


@dataclass(frozen=True)
class Suite:
    """A named benchmark: how to load its tasks and which environment runs them.

    Attributes:
        name: registry name (``sql-mini``).
        environment: environment kind of its tasks.
        load: returns the tasks; called lazily so listing suites stays cheap.
        description: one line for ``steadyhand suites``.
        environment_options: keyword arguments for the environment's constructor.
        default_agent: the agent used when the CLI is given none.
        requirements: what must be on the machine (``sqlite``, ``x11``, ``docker``).
        report_group: the task metadata key whose values group a run's summary rows
            (``difficulty`` for SQL, ``variant`` for CodeARC).
        report_components: score components shown as summary columns next to the
            headline score (``partial_reward``; ``io_calls`` and ``oracle_calls``).
    """

    name: str
    environment: str
    load: Callable[[], Sequence[Task]]
    description: str = ""
    environment_options: dict[str, Any] = field(default_factory=dict)
    default_agent: str | None = None
    requirements: tuple[str, ...] = ()
    report_group: str = "difficulty"
    report_components: tuple[str, ...] = ("partial_reward",)

    def group_of(self, task: Task) -> str:
        """The summary group of ``task`` (its ``report_group`` metadata, or ``unknown``)."""
        return str(task.metadata.get(self.report_group, "unknown"))
