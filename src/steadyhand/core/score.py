"""A benchmark's verdict on one episode."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Score(BaseModel):
    """The verdict of :meth:`Environment.evaluate`.

    ``value`` is the benchmark's headline number in [0, 1] (execution accuracy,
    task success); ``components`` holds named partial scores (partial rewards,
    per-database results) and ``details`` anything a report should show.
    ``error`` is set when scoring itself could not be done (the episode then
    scores ``value``, normally 0).
    """

    model_config = ConfigDict(extra="forbid")

    value: float = Field(ge=0.0, le=1.0)
    components: dict[str, float] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None

    @property
    def success(self) -> bool:
        return self.value >= 1.0
