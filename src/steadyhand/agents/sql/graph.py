"""The SQL agent's LangGraph graph: nodes, pure routers and the state they share.

::

    inspect_schema -> draft -> (route_reply) -> execute -> (observe) -> revise -> (route_reply) ...
                                     |                        |
                                     +-----> submit <---------+

* ``inspect_schema`` (no model call) writes the system and task messages from the
  first observation's schema; failing that, from the environment's ``schema_text()``,
  and failing that, from a catalog query (a recorded step outside the budget).
* ``draft`` / ``revise`` ask the model; the reply is parsed into a query to run,
  SUBMIT, or a format problem (shown back to the model with the expected format).
* ``execute`` runs the query (``ExecuteSQL``) and shows the rows or error.
* ``submit`` submits (``SubmitSQL``): the model's choice after SUBMIT, otherwise the
  best query so far (the last that ran without error, else the last that ran)
  when the step budget or the format retries are used up.

State holds plain data only (messages as ``{"role", "content"}`` dicts, queries,
counters, the last result's digest); the environment, model and step recorder
reach the nodes through closures over the :class:`EpisodeContext`.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph

from steadyhand.agents.base import EpisodeContext, StepRecord
from steadyhand.agents.sql import prompts
from steadyhand.agents.sql.parsing import parse_reply
from steadyhand.agents.sql.schema import SchemaStyle, schema_for_prompt
from steadyhand.core import ExecuteSQL, Observation, StepResult, SubmitSQL
from steadyhand.models import usage

RATIONALE_CHARS = 2000
DIGEST_ROWS = 10

#: Catalog queries used when the first observation carries no schema text.
CATALOG_QUERIES = {
    "sqlite": "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL",
    "postgresql": (
        "SELECT table_name || '(' || string_agg(column_name || ' ' || data_type, ', ' "
        "ORDER BY ordinal_position) || ')' FROM information_schema.columns "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') GROUP BY table_name"
    ),
}


class Message(TypedDict):
    """One chat message as stored in state."""

    role: Literal["system", "user", "assistant"]
    content: str


class Usage(TypedDict):
    """Model cost not yet attributed to a recorded step."""

    input_tokens: int
    output_tokens: int
    latency_s: float


#: What the agent does with a reply; ``repeat``: the reply rewrote the query that just failed.
Decision = Literal["sql", "submit", "none", "repeat"]


class SQLState(TypedDict, total=False):
    """The graph state; every value is plain, JSON-like data.

    ``messages`` accumulates (reducer ``operator.add``); every other key is
    last-write-wins.
    """

    messages: Annotated[list[Message], operator.add]
    db_id: str
    dialect: str
    reply: str                     # the model's last reply, clipped
    decision: Decision
    query: str                     # the query the last reply asked to run
    last_query: str                # the last query executed
    last_ok: bool                  # whether it ran without error
    best_query: str                # the last query that ran without error
    executions: int                # ExecuteSQL steps taken (the step budget counts these)
    format_retries: int            # consecutive replies with neither a query nor SUBMIT
    model_calls: int
    steps: int                     # StepRecords written so far
    pending: Usage                 # model cost since the last recorded step
    observation: dict[str, Any]    # digest of the last execution
    submitted: str                 # the submitted query, once submitted
    status: Literal["terminated", "truncated"]
    env_done: bool                 # the environment ended the episode


@dataclass(frozen=True)
class Settings:
    """The agent's knobs, as the graph sees them."""

    max_steps: int = 6
    max_format_retries: int = 2
    schema_chars: int = 4000
    schema_style: SchemaStyle = "auto"
    history: int = 3
    max_new_tokens: int | None = None


_NO_USAGE: Usage = {"input_tokens": 0, "output_tokens": 0, "latency_s": 0.0}


def digest(observation: Observation) -> dict[str, Any]:
    """The few facts about a result the state keeps (and the prompt shows)."""
    if observation.error:
        return {"error": observation.error}
    rows = [list(row) for row in (observation.rows or [])[:DIGEST_ROWS]]
    return {
        "columns": list(observation.columns or []),
        "rows": [[v if v is None or isinstance(v, bool | int | float | str) else str(v) for v in row]
                 for row in rows],
        "row_count": observation.row_count if observation.row_count is not None
        else len(observation.rows or []),
        "truncated": observation.truncated,
    }


def _same_query(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()


# --- pure routers ------------------------------------------------------------------------


def route_reply(state: SQLState, settings: Settings) -> str:
    """After the model replied: run its query, submit, ask again, or give up."""
    decision = state.get("decision")
    if decision == "sql":
        return "execute"
    if decision in ("submit", "repeat"):
        return "submit"
    if state.get("format_retries", 0) <= settings.max_format_retries:
        return "revise"
    return "submit" if state.get("last_query") else END


def observe(state: SQLState, settings: Settings) -> str:
    """After a query ran: stop if the environment ended, submit when the budget is spent."""
    if state.get("env_done"):
        return END
    if state.get("executions", 0) >= settings.max_steps:
        return "submit"
    return "revise"


def submission(state: SQLState) -> tuple[str, bool, str]:
    """(query to submit, whether the agent forced it, why) for the submit node."""
    if state.get("decision") == "submit":
        return state.get("last_query", ""), False, ""
    query = state.get("best_query") or state.get("last_query", "")
    if state.get("decision") == "none":
        return query, True, "no usable reply after the format retries: submitting the best query so far"
    if state.get("decision") == "repeat":
        return query, True, "the model rewrote the query that just failed: submitting the best query so far"
    return query, True, "step budget spent: submitting the best query so far"


# --- the graph ---------------------------------------------------------------------------


def _to_langchain(messages: list[Message]) -> list[BaseMessage]:
    kinds: dict[str, Callable[[str], BaseMessage]] = {
        "system": lambda c: SystemMessage(content=c),
        "user": lambda c: HumanMessage(content=c),
        "assistant": lambda c: AIMessage(content=c),
    }
    return [kinds[m["role"]](m["content"]) for m in messages]


def prompt_window(messages: list[Message], history: int) -> list[Message]:
    """System and task messages plus the last ``history`` reply/feedback exchanges."""
    head, rest = messages[:2], messages[2:]
    keep = rest[len(rest) - 2 * history:] if len(rest) > 2 * history else rest
    return head + keep


#: The end of a fenced block (an opening fence is followed by a language or code, not a newline).
CLOSING_FENCE = "\n```\n"


def _in_process(model: Any) -> bool:
    """Whether ``model`` runs in this process (``local:``/``hf:``): small, slow, short context."""
    return "max_new_tokens" in getattr(type(model), "model_fields", {})


def _invoke_options(ctx: EpisodeContext, settings: Settings) -> dict[str, Any]:
    """The generation-length keyword the model understands, if any."""
    fields = getattr(type(ctx.model), "model_fields", {})
    if _in_process(ctx.model):  # keep replies short: stop at the end of the first ```sql block
        return {"max_new_tokens": settings.max_new_tokens or 160, "stop": [CLOSING_FENCE]}
    if settings.max_new_tokens and "max_tokens" in fields:
        return {"max_tokens": settings.max_new_tokens}
    return {}


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)


def build_graph(ctx: EpisodeContext, first: Observation, settings: Settings) -> StateGraph:
    """The uncompiled graph for one episode; nodes close over ``ctx`` and ``first``."""
    invoke_options = _invoke_options(ctx, settings)
    try:
        tracker = usage(ctx.model)
    except LookupError:
        tracker = None

    def call_model(messages: list[Message]) -> tuple[str, Usage]:
        mark = tracker.mark() if tracker is not None else 0
        started = time.perf_counter()
        reply = ctx.model.invoke(_to_langchain(messages), **invoke_options)
        latency = time.perf_counter() - started
        meta = getattr(reply, "usage_metadata", None) or {}
        cost: Usage = {"input_tokens": int(meta.get("input_tokens", 0)),
                       "output_tokens": int(meta.get("output_tokens", 0)), "latency_s": latency}
        if tracker is not None and len(tracker.calls) - mark == 1:  # only our call: use its record
            tokens_in, tokens_out, tracked = tracker.since(mark)
            cost = {"input_tokens": tokens_in, "output_tokens": tokens_out,
                    "latency_s": tracked or latency}
        return _text(reply), cost

    def record(state: SQLState, action: ExecuteSQL | SubmitSQL, result: StepResult, env_s: float,
               rationale: str) -> None:
        cost = state.get("pending", _NO_USAGE)
        ctx.record_step(StepRecord(
            index=state.get("steps", 0),
            action=action.model_dump(),
            rationale=prompts.clip(rationale, RATIONALE_CHARS),
            observation=result.observation.summary(),
            reward=result.reward,
            duration_s=env_s + cost["latency_s"],
            model_latency_s=cost["latency_s"],
            input_tokens=cost["input_tokens"],
            output_tokens=cost["output_tokens"],
        ))

    def inspect_schema(state: SQLState) -> dict[str, Any]:
        info = first.info or {}
        dialect = str(info.get("dialect", "sqlite"))
        db_id = str(info.get("db_id") or ctx.task.metadata.get("db_id", ""))
        schema, steps = info.get("schema"), state.get("steps", 0)
        if not isinstance(schema, str) or not schema.strip():
            schema = env_schema()
        if not schema:
            schema = read_catalog(state, dialect)
            steps += 1
        question = first.text or ctx.task.instruction
        shown = schema_for_prompt(schema, dialect=dialect, style=settings.schema_style,
                                  max_chars=settings.schema_chars, small_model=_in_process(ctx.model))
        return {
            "db_id": db_id, "dialect": dialect, "steps": steps,
            "messages": [
                {"role": "system", "content": prompts.system_prompt(dialect)},
                {"role": "user", "content": prompts.task_prompt(db_id=db_id, schema=shown, question=question)},
            ],
            "executions": 0, "format_retries": 0, "model_calls": 0, "pending": _NO_USAGE,
        }

    def env_schema() -> str:
        """The environment's own schema text (``schema_text()``, as ``SQLEnvironment`` has), or ""."""
        method = getattr(ctx.env, "schema_text", None)
        text = method() if callable(method) else None
        return text if isinstance(text, str) and text.strip() else ""

    def read_catalog(state: SQLState, dialect: str) -> str:
        """The schema from the database catalog (one recorded step, outside the budget)."""
        action = ExecuteSQL(query=CATALOG_QUERIES.get(dialect, CATALOG_QUERIES["sqlite"]))
        started = time.perf_counter()
        result = ctx.env.step(action)
        record(state, action, result, time.perf_counter() - started,
               "inspect_schema: the first observation had no schema; reading the catalog")
        obs = result.observation
        if obs.error:
            return f"(schema unavailable: {obs.error})"
        return "\n".join(" ".join(str(v) for v in row) for row in obs.rows or [])

    def ask(state: SQLState) -> dict[str, Any]:
        text, cost = call_model(prompt_window(state.get("messages", []), settings.history))
        reply = parse_reply(text)
        last_query = state.get("last_query", "")
        decision: Decision = reply.kind
        query, problem = reply.query, reply.problem
        if decision == "submit" and not last_query:
            decision, problem = "none", "No query has run yet, so there is nothing to submit."
        elif decision == "sql" and last_query and _same_query(query, last_query):
            # The query that just ran, again: running it cannot show anything new. If it failed, the model
            # has seen the error and not acted on it; a greedy model does the same until the budget is spent.
            decision = "submit" if state.get("last_ok") else "repeat"
        pending = state.get("pending", _NO_USAGE)
        update: dict[str, Any] = {
            "reply": prompts.clip(text, RATIONALE_CHARS),
            "decision": decision, "query": query,
            "model_calls": state.get("model_calls", 0) + 1,
            "pending": {"input_tokens": pending["input_tokens"] + cost["input_tokens"],
                        "output_tokens": pending["output_tokens"] + cost["output_tokens"],
                        "latency_s": pending["latency_s"] + cost["latency_s"]},
        }
        new_messages: list[Message] = [{"role": "assistant", "content": text}]
        if decision == "none":
            retries = state.get("format_retries", 0) + 1
            update["format_retries"] = retries
            if retries <= settings.max_format_retries:
                new_messages.append({"role": "user", "content": prompts.format_prompt(
                    problem, has_query=bool(last_query))})
        else:
            update["format_retries"] = 0
        update["messages"] = new_messages
        return update

    def execute(state: SQLState) -> dict[str, Any]:
        action = ExecuteSQL(query=state["query"])
        started = time.perf_counter()
        result = ctx.env.step(action)
        record(state, action, result, time.perf_counter() - started, state.get("reply", ""))
        seen = digest(result.observation)
        executions = state.get("executions", 0) + 1
        ok = not result.observation.error
        update: dict[str, Any] = {
            "executions": executions, "last_query": action.query, "last_ok": ok,
            "observation": seen, "steps": state.get("steps", 0) + 1, "pending": _NO_USAGE,
            "env_done": result.terminated or result.truncated,
            "messages": [{"role": "user", "content": prompts.result_prompt(
                seen, remaining=max(0, settings.max_steps - executions))}],
        }
        if ok:
            update["best_query"] = action.query
        if result.terminated or result.truncated:
            update["status"] = "terminated" if result.terminated else "truncated"
        return update

    def submit(state: SQLState) -> dict[str, Any]:
        query, forced, why = submission(state)
        action = SubmitSQL(query=query)
        started = time.perf_counter()
        result = ctx.env.step(action)
        record(state, action, result, time.perf_counter() - started,
               why if forced else state.get("reply", ""))
        return {"submitted": query, "status": "truncated" if forced else "terminated",
                "steps": state.get("steps", 0) + 1, "pending": _NO_USAGE, "env_done": True}

    graph = StateGraph(SQLState)
    graph.add_node("inspect_schema", inspect_schema)
    graph.add_node("draft", ask)
    graph.add_node("execute", execute)
    graph.add_node("revise", ask)
    graph.add_node("submit", submit)
    graph.add_edge(START, "inspect_schema")
    graph.add_edge("inspect_schema", "draft")
    reply_targets: dict[Hashable, str] = {"execute": "execute", "submit": "submit", "revise": "revise", END: END}
    graph.add_conditional_edges("draft", lambda s: route_reply(s, settings), reply_targets)
    graph.add_conditional_edges("revise", lambda s: route_reply(s, settings), reply_targets)
    graph.add_conditional_edges("execute", lambda s: observe(s, settings),
                                {"revise": "revise", "submit": "submit", END: END})
    graph.add_edge("submit", END)
    return graph


def recursion_limit(settings: Settings) -> int:
    """Supersteps one episode can take at most, with room to spare."""
    asks_per_execution = settings.max_format_retries + 1
    return 10 + (settings.max_steps + 1) * (asks_per_execution + 1) + 2
