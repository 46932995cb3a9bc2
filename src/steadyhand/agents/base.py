"""The agent contract, and the per-episode context that carries live handles.

LangGraph state holds only plain, serialisable data (messages as dicts, ids,
counters). Everything live - the environment, the chat model, the checkpointer,
the runner's step recorder - comes from :class:`EpisodeContext`, which agents
pass to their nodes through closures or ``config["configurable"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from steadyhand.core.environment import Environment
from steadyhand.core.observation import Observation
from steadyhand.core.score import Score
from steadyhand.core.task import Task


class StepRecord(BaseModel):
    """One agent step as the result store keeps it.

    ``action`` is the executed action (``model_dump()`` of an Action); ``rationale``
    the model's words for it; ``observation`` the digest of what came back
    (:meth:`Observation.summary`). Guard verdicts and grounding decisions are lists
    of dicts written by the components that made them.
    """

    model_config = ConfigDict(extra="forbid")

    index: int
    action: dict[str, Any]
    rationale: str = ""
    observation: dict[str, Any] = Field(default_factory=dict)
    reward: float = 0.0
    duration_s: float = 0.0
    model_latency_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    guard_verdicts: list[dict[str, Any]] = Field(default_factory=list)
    grounding: list[dict[str, Any]] = Field(default_factory=list)
    screenshot: bytes | None = None


@dataclass
class EpisodeContext:
    """Live handles for one episode; never stored in graph state.

    Attributes:
        task: the task being solved.
        env: the environment, already ``reset`` for the task.
        model: the chat model (built by :func:`steadyhand.models.load`).
        thread_id: the LangGraph thread of this episode (run id, task id, attempt).
        checkpointer: LangGraph checkpointer, or None for an in-memory run.
        record_step: called once per executed action; the runner stores it.
        options: agent options from the command line or config.
        store_url: the run's result store, for agents that keep data beside it (the
            knowledge base); None outside the runner.
        scored: True when the caller evaluates the episode after ``run`` returns and then
            calls every ``after_scoring`` callback with the :class:`Score` (the runner
            does); agents that learn from outcomes register there instead of trusting
            their own verdict.
        after_scoring: callbacks ``f(score)``; ``score`` is None when evaluation failed.
    """

    task: Task
    env: Environment
    model: BaseChatModel
    thread_id: str
    checkpointer: Any | None = None
    record_step: Callable[[StepRecord], None] = lambda record: None
    options: dict[str, Any] = field(default_factory=dict)
    store_url: str | None = None
    scored: bool = False
    after_scoring: list[Callable[[Score | None], None]] = field(default_factory=list)


class AgentOutcome(BaseModel):
    """How an episode ended, from the agent's side.

    ``status``: ``terminated`` (the environment reached an end state: submitted,
    done, failed), ``truncated`` (a step, time or token budget ran out) or
    ``error`` (the agent could not go on; ``error`` says why).
    """

    model_config = ConfigDict(extra="forbid")

    status: Literal["terminated", "truncated", "error"]
    steps: int
    error: str | None = None
    final_answer: str | None = None


@runtime_checkable
class Agent(Protocol):
    """An agent solves one task per :meth:`run` call.

    ``run`` drives the environment in ``ctx`` from the first observation until it
    terminates or a budget truncates it, calling ``ctx.record_step`` once per
    executed action. Malformed model output must never escape as an exception:
    the agent shows the problem to the model, retries within its budget, and
    otherwise returns an outcome with status ``error``.
    """

    name: str

    def run(self, ctx: EpisodeContext, first: Observation) -> AgentOutcome: ...


AgentFactory = Callable[..., Agent]
"""What the ``agents`` registry holds: ``factory(**options) -> Agent``."""
