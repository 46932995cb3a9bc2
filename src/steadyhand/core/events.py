"""Run events: what the runner emits while it works, one pydantic model per kind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def _now() -> datetime:
    return datetime.now(UTC)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    at: datetime = Field(default_factory=_now)


class RunStarted(_Event):
    type: Literal["run.started"] = "run.started"
    suite: str
    agent: str
    model: str
    total: int


class EpisodeStarted(_Event):
    type: Literal["episode.started"] = "episode.started"
    task_id: str
    attempt: int = 1


class StepRecorded(_Event):
    type: Literal["step.recorded"] = "step.recorded"
    task_id: str
    index: int
    action: dict[str, Any]


class EpisodeFinished(_Event):
    type: Literal["episode.finished"] = "episode.finished"
    task_id: str
    status: Literal["done", "error"]
    score: float | None = None
    error: str | None = None


class RunFinished(_Event):
    type: Literal["run.finished"] = "run.finished"
    completed: int
    failed: int


RunEvent = Annotated[
    RunStarted | EpisodeStarted | StepRecorded | EpisodeFinished | RunFinished,
    Field(discriminator="type"),
]
