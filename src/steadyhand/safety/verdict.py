"""The verdict every guard returns, recorded on the step it concerns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Decision = Literal["allow", "deny", "confirm", "flag"]
"""``allow``: go ahead; ``deny``: the action must not run; ``confirm``: a person (or the
``approve`` mode) decides; ``flag``: go ahead, but something looked wrong."""


class GuardVerdict(BaseModel):
    """One guard's decision about one observation or action, with its reason.

    Stored as ``model_dump()`` in :attr:`steadyhand.agents.base.StepRecord.guard_verdicts`.
    """

    model_config = ConfigDict(extra="forbid")

    guard: str = Field(description="The guard that decided: injection, policy, privacy, loop, budget, screen...")
    verdict: Decision
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        """True when the action must not run as it is (deny or confirm)."""
        return self.verdict in ("deny", "confirm")


_RANK = {"allow": 0, "flag": 1, "confirm": 2, "deny": 3}


def strictest(verdicts: list[GuardVerdict]) -> Decision:
    """The strictest decision among ``verdicts`` (``allow`` when there are none)."""
    return max((v.verdict for v in verdicts), key=_RANK.__getitem__, default="allow")
