"""Agent S2's graph state, settings and plan model: plain data only.

State is what LangGraph checkpoints. It holds the plan, the current subgoal, the
worker's recent turns, counters and the model cost not yet attributed to a step:
text and numbers, never a screenshot, a model, a router or an environment (those
come from the run context, see :mod:`steadyhand.agents.s2.graph`).

Keys that accumulate declare their reducer (``operator.add``); all others are
last-write-wins.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Subgoal(BaseModel):
    """One step of the manager's plan."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=300, description="What to achieve, in a short imperative phrase.")
    info: str = Field("", max_length=2000, description="How: the app, the values, the details the worker needs.")

    @field_validator("name", "info", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class Plan(BaseModel):
    """The manager's reply: carry on with these subgoals, or the task is done or infeasible."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["continue", "done", "infeasible"] = "continue"
    subgoals: list[Subgoal] = Field(default_factory=list, max_length=30)
    reason: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _has_subgoals(self) -> Plan:
        if self.status == "continue" and not self.subgoals:
            raise ValueError("a plan that continues needs at least one subgoal")
        return self


class Message(TypedDict):
    """One line of the worker's turn history."""

    role: Literal["worker", "feedback", "reflection"]
    content: str


class Usage(TypedDict):
    """Model cost not yet attributed to a recorded step."""

    input_tokens: int
    output_tokens: int
    latency_s: float


NO_USAGE: Usage = {"input_tokens": 0, "output_tokens": 0, "latency_s": 0.0}


class SubgoalRecord(TypedDict):
    """A finished subgoal, for the manager's replans and the knowledge base."""

    name: str
    info: str
    status: Literal["done", "failed"]
    actions: list[str]


Phase = Literal["plan", "next", "work", "ground", "act", "execute", "check", "finish", "end"]
"""Where the episode goes next; the graph's routers map it to a node (see :mod:`.graph`)."""


class S2State(TypedDict, total=False):
    """The checkpointed state of one episode.

    ``finished`` (subgoals done or failed) and ``notes`` (save_to_knowledge) accumulate;
    everything else is last-write-wins.
    """

    task: str
    planned: bool                           # the first plan has been written
    plan_problem: str                       # why the manager's last reply was unusable
    done_reason: str                        # the manager's reason for reporting the task done
    narrative: str                          # retrieved task-level experience, rendered
    plan: list[dict[str, Any]]              # remaining subgoals (Subgoal dumps), head first
    current: dict[str, Any] | None          # the subgoal the worker is on
    episodic: str                           # retrieved subgoal-level experience, rendered
    finished: Annotated[list[SubgoalRecord], operator.add]
    notes: Annotated[list[str], operator.add]
    history: list[Message]                  # the current subgoal's turns (clipped)
    subgoal_actions: list[str]              # calls executed for the current subgoal
    reflection: str
    call: dict[str, Any] | None             # the worker's parsed call (S2Call dump)
    reply: str                              # the worker's last reply, clipped
    compiled: dict[str, Any] | None         # the grounded desktop action (Action dump)
    grounding: list[dict[str, Any]]         # the router's decisions for ``compiled``
    feedback: str                           # what the worker is shown about its last turn
    turns: int                              # worker model calls (the step budget counts these)
    steps: int                              # StepRecords written
    format_retries: int                     # consecutive unusable worker replies
    plan_retries: int                       # consecutive unusable manager replies
    replans: int                            # manager calls after the first plan
    replans_since_action: int               # manager calls since the last executed action
    done_checks: int                        # manager verifications of a DONE
    critique: str                           # the manager's reason for rejecting a DONE
    action_log: list[str]                   # every executed call, for summaries (clipped)
    recent: list[list[str]]                 # [call, screen digest after it] of the last few actions
    verdicts: list[dict[str, Any]]          # guard verdicts not yet recorded on a step
    pending: Usage
    phase: Phase
    status: Literal["terminated", "truncated", "error"]
    final: Literal["done", "fail"] | None
    error: str


@dataclass(frozen=True)
class Settings:
    """The agent's knobs, as the graph sees them (see :class:`~steadyhand.agents.s2.agent.S2Agent`)."""

    max_steps: int = 15
    max_replans: int = 20
    max_replans_per_step: int = 3
    max_format_retries: int = 2
    max_plan_retries: int = 2
    max_done_checks: int = 2
    reflection: bool = True
    history: int = 6
    vision: bool = False
    max_new_tokens: int | None = None
    knowledge_top_k: int = 1
