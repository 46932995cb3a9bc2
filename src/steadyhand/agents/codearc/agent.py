"""The program-synthesis agent: :class:`CodeARCAgent`, registered as agent ``codearc``."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from steadyhand.agents.base import AgentOutcome, EpisodeContext
from steadyhand.agents.codearc.graph import Settings, build_graph, recursion_limit
from steadyhand.core.actions import parse_action
from steadyhand.core.errors import ConfigurationError, InfrastructureFault
from steadyhand.core.observation import Observation
from steadyhand.core.registry import agents


@agents.register("codearc")
class CodeARCAgent:
    """Infers a hidden function: hypothesise, choose informative queries, implement, check, revise.

    A LangGraph graph (:mod:`steadyhand.agents.codearc.graph`) drives the ``code``
    environment within its budgets, which it reads from the observations.

    Args:
        max_format_retries: consecutive unusable replies (or refused actions) shown
            back to the model with the expected format; one more ends the episode
            unsolved (status ``error``), as in CodeARC.
        history: reply/feedback exchanges kept in the prompt besides the task.
        protocol: ``text`` (CodeARC's INVOCATIONS / IMPLEMENTATION replies) or
            ``tools`` (native tool calls, or a JSON object naming the tool).
        max_new_tokens: reply length for models that take one; ``None`` means 384
            for in-process CPU models and the model's own setting otherwise.

    Checkpoints: the graph runs on ``ctx.thread_id`` with ``ctx.checkpointer`` (in
    memory when None). A finished thread is not run again: its recorded actions are
    replayed on the (fresh) environment so ``evaluate()`` scores the same episode. An
    unfinished thread replays its actions, then continues from the node that did not
    complete. ``run`` never raises for what a model says; a model call that fails
    ends the call with status ``error``. :class:`InfrastructureFault` (a dead sandbox, a
    model server timeout) propagates.
    """

    name = "codearc"

    def __init__(self, max_format_retries: int = 2, history: int = 6, protocol: Literal["text", "tools"] = "text",
                 max_new_tokens: int | None = None) -> None:
        if max_format_retries < 0 or history < 1 or protocol not in ("text", "tools"):
            raise ConfigurationError("codearc agent: need max_format_retries >= 0, history >= 1 and protocol "
                                     f"'text' or 'tools' (got {max_format_retries}, {history}, {protocol!r})")
        self.settings = Settings(max_format_retries=max_format_retries, history=history, protocol=protocol,
                                 max_new_tokens=max_new_tokens)

    def __repr__(self) -> str:
        s = self.settings
        return (f"CodeARCAgent(max_format_retries={s.max_format_retries}, history={s.history}, "
                f"protocol={s.protocol!r}, max_new_tokens={s.max_new_tokens})")

    def run(self, ctx: EpisodeContext, first: Observation) -> AgentOutcome:
        """Solve ``ctx.task`` from ``first`` (the observation ``ctx.env.reset`` returned)."""
        checkpointer = ctx.checkpointer if ctx.checkpointer is not None else InMemorySaver()
        graph = build_graph(ctx, first, self.settings).compile(checkpointer=checkpointer)
        info = first.info or {}
        limit = recursion_limit(int(info.get("io_budget", 30)), int(info.get("oracle_budget", 2)), self.settings)
        config: RunnableConfig = {"configurable": {"thread_id": ctx.thread_id}, "recursion_limit": limit}
        snapshot = graph.get_state(config)
        if snapshot.values:
            for action in snapshot.values.get("actions", []):  # bring the fresh environment up to date
                ctx.env.step(parse_action(action))
            if not snapshot.next:
                return outcome(snapshot.values, self.settings)
        inputs = None if snapshot.next else {"steps": 0}
        try:
            values = graph.invoke(inputs, config)
        except InfrastructureFault:
            raise
        except Exception as exc:  # a model or graph failure: report it, keep the checkpoint
            state = graph.get_state(config).values
            return AgentOutcome(status="error", steps=int(state.get("steps", 0)),
                                error=f"{type(exc).__name__}: {exc}")
        return outcome(values, self.settings)


def outcome(values: dict[str, Any], settings: Settings) -> AgentOutcome:
    """The :class:`AgentOutcome` a finished graph state stands for."""
    steps = int(values.get("steps", 0))
    answer = values.get("last_code") or None
    if values.get("solved") or values.get("env_done"):
        return AgentOutcome(status=values.get("status", "terminated"), steps=steps, final_answer=answer)
    calls = int(values.get("model_calls", 0))
    return AgentOutcome(status="error", steps=steps, final_answer=answer,
                        error=f"no usable reply after {settings.max_format_retries} format retries "
                              f"({calls} model calls)")
