"""The text-to-SQL agent: :class:`SQLAgent`, registered as agent ``sql``."""

from __future__ import annotations

from typing import Any, get_args

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from steadyhand.agents.base import AgentOutcome, EpisodeContext
from steadyhand.agents.sql.graph import Settings, build_graph, recursion_limit
from steadyhand.agents.sql.schema import SchemaStyle
from steadyhand.core import InfrastructureFault, Observation, SubmitSQL, agents
from steadyhand.core.errors import ConfigurationError


@agents.register("sql")
class SQLAgent:
    """Writes SQL, runs it, reads the rows or the error, revises, and submits.

    A LangGraph graph (see :mod:`steadyhand.agents.sql.graph`) drives an
    environment that accepts :class:`~steadyhand.core.ExecuteSQL` and
    :class:`~steadyhand.core.SubmitSQL` (the ``sql`` environment).

    Args:
        max_steps: queries the agent may execute; when spent, the best query so
            far (the last that ran without error, else the last that ran) is submitted.
            A reply that rewrites the query that just ran is not run again: if that
            query ran cleanly it is submitted; if it failed, the model has seen the
            error and repeated itself, so the best query so far is submitted.
        max_format_retries: consecutive replies with neither a query nor SUBMIT that
            are shown back to the model with the expected format; one more and the
            agent submits the best query so far, or ends with status ``error`` if
            no query ever ran.
        schema_chars: the schema text in the prompt is clipped to this many characters.
        schema_style: ``ddl`` (the environment's schema text, with its sample rows),
            ``compact`` (one ``table(col, ...)`` line per table) or ``auto``: compact
            for in-process CPU models (tiny models copy DDL back instead of writing
            a query) and for DDL longer than ``schema_chars``, DDL otherwise.
        history: reply/feedback exchanges kept in the prompt besides the task.
        max_new_tokens: reply length limit passed to models that take one; ``None``
            means 160 for in-process CPU models and the model's own setting otherwise.

    Checkpoints and resuming: the graph is compiled with ``ctx.checkpointer`` (an
    in-memory one when None) and run on thread ``ctx.thread_id`` with durability
    ``sync``: every node's checkpoint is written before the next node starts, so a
    process killed at any point loses at most the node it was running. ``run``
    first looks at that thread:

    * no checkpoint: a fresh episode starts from ``first``;
    * an unfinished checkpoint (a killed process, a model call that failed): the
      episode resumes at the node that did not complete; nodes that completed are
      not run again, so earlier model calls and queries are not repeated. The node
      that was running when the process died runs again, so its step may be
      recorded twice (at-least-once). ``ctx.env`` must already be reset for the task.
    * a finished checkpoint: nothing is asked or recorded again; the submitted query
      is given to the (fresh) environment again so that ``evaluate()`` scores it,
      and the stored outcome is returned.

    ``run`` never raises for what a model says or fails to do: a model call that
    raises ends the call with status ``error`` (the checkpoint stays, so a later
    ``run`` on the same thread resumes). :class:`~steadyhand.core.InfrastructureFault`
    propagates, as the runner handles infrastructure failures.
    """

    name = "sql"

    def __init__(self, max_steps: int = 6, max_format_retries: int = 2, schema_chars: int = 4000,
                 schema_style: SchemaStyle = "auto", history: int = 3,
                 max_new_tokens: int | None = None) -> None:
        if max_steps < 1 or max_format_retries < 0 or schema_chars < 100 or history < 1:
            raise ConfigurationError(
                "sql agent: need max_steps >= 1, max_format_retries >= 0, schema_chars >= 100, "
                f"history >= 1 (got {max_steps}, {max_format_retries}, {schema_chars}, {history})"
            )
        if schema_style not in get_args(SchemaStyle):
            raise ConfigurationError(f"sql agent: schema_style must be one of {', '.join(get_args(SchemaStyle))}, "
                                     f"not {schema_style!r}")
        if max_new_tokens is not None and max_new_tokens < 1:
            raise ConfigurationError(f"sql agent: max_new_tokens must be positive, not {max_new_tokens}")
        self.settings = Settings(max_steps=max_steps, max_format_retries=max_format_retries,
                                 schema_chars=schema_chars, schema_style=schema_style, history=history,
                                 max_new_tokens=max_new_tokens)

    def __repr__(self) -> str:
        s = self.settings
        return (f"SQLAgent(max_steps={s.max_steps}, max_format_retries={s.max_format_retries}, "
                f"schema_chars={s.schema_chars}, schema_style={s.schema_style!r}, history={s.history}, "
                f"max_new_tokens={s.max_new_tokens})")

    def run(self, ctx: EpisodeContext, first: Observation) -> AgentOutcome:
        """Solve ``ctx.task`` from ``first`` (the observation ``ctx.env.reset`` returned)."""
        checkpointer = ctx.checkpointer if ctx.checkpointer is not None else InMemorySaver()
        graph = build_graph(ctx, first, self.settings).compile(checkpointer=checkpointer)
        config: RunnableConfig = {"configurable": {"thread_id": ctx.thread_id},
                                  "recursion_limit": recursion_limit(self.settings)}
        snapshot = graph.get_state(config)
        if snapshot.values and not snapshot.next:  # finished before: replay the submission only
            submitted = snapshot.values.get("submitted")
            if submitted:
                ctx.env.step(SubmitSQL(query=submitted))
            return outcome(snapshot.values)
        inputs = None if snapshot.next else {"steps": 0}
        try:
            values = graph.invoke(inputs, config, durability="sync")
        except InfrastructureFault:
            raise
        except Exception as exc:  # a model or graph failure: report it, keep the checkpoint
            state = graph.get_state(config).values
            return AgentOutcome(status="error", steps=int(state.get("steps", 0)),
                                error=f"{type(exc).__name__}: {exc}")
        return outcome(values)


def outcome(values: dict[str, Any]) -> AgentOutcome:
    """The :class:`AgentOutcome` a finished graph state stands for."""
    steps = int(values.get("steps", 0))
    if values.get("submitted") is not None:
        return AgentOutcome(status=values.get("status", "terminated"), steps=steps,
                            final_answer=values["submitted"])
    if values.get("env_done"):
        return AgentOutcome(status=values.get("status", "terminated"), steps=steps)
    calls = int(values.get("model_calls", 0))
    return AgentOutcome(status="error", steps=steps,
                        error=f"the model gave no SQL query and no SUBMIT in {calls} replies")
