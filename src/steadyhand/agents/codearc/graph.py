"""The CodeARC agent's LangGraph graph: nodes, pure routers and their state.

::

    read_task -> hypothesise -(route_reply)-> choose_queries -(after_query)-> hypothesise ...
                     |                              |
                     +--------> check <-------------+-- finalize (the forced final implementation)
                                  |
                           (after_check) -> revise -(route_reply)-> check | choose_queries

* ``read_task`` (no model call) writes the system and task messages from the first
  observation: the initial examples and the budgets.
* ``hypothesise`` / ``revise`` / ``finalize`` ask the model; its reply is parsed into
  invocations, an implementation, or a format problem (shown back with the format;
  after ``max_format_retries`` consecutive ones the episode ends unsolved).
  ``revise`` follows a counterexample; ``finalize`` asks for the final implementation
  once no invocations are left and one check remains.
* ``choose_queries`` drops invocations already made and trims to the budget left,
  then queries the function (``QueryFunction``).
* ``check`` checks the implementation (``CheckCandidate``; ``SubmitCandidate`` when it
  is the last check).

State holds plain data; the environment, model and step recorder reach the nodes
through closures over the :class:`EpisodeContext`. Every executed action is kept
in ``actions`` so that a finished episode can be replayed on a fresh environment.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from steadyhand.agents.base import EpisodeContext, StepRecord
from steadyhand.agents.codearc import prompts
from steadyhand.agents.codearc.parsing import Reply, parse_reply, parse_tool_reply
from steadyhand.core.actions import ActionBase, CheckCandidate, QueryFunction, SubmitCandidate
from steadyhand.core.observation import Observation, StepResult
from steadyhand.models import usage

RATIONALE_CHARS = 4000


class Message(TypedDict):
    """One chat message as stored in state."""

    role: Literal["system", "user", "assistant"]
    content: str


class Usage(TypedDict):
    """Model cost not yet attributed to a recorded step."""

    input_tokens: int
    output_tokens: int
    latency_s: float


class CodeARCState(TypedDict, total=False):
    """The graph state: plain, JSON-like data. ``messages`` and ``actions`` accumulate."""

    messages: Annotated[list[Message], operator.add]
    actions: Annotated[list[dict[str, Any]], operator.add]  # executed env actions, in order
    name: str                       # the hidden function's name
    seen: list[str]                 # invocation keys already made
    reply: str
    decision: Literal["query", "implement", "none"]
    calls: list[str]
    code: str
    io_left: int
    oracle_left: int
    format_retries: int             # consecutive unusable replies
    model_calls: int
    steps: int
    pending: Usage
    solved: bool
    env_done: bool
    status: Literal["terminated", "truncated"]
    last_code: str


@dataclass(frozen=True)
class Settings:
    """The agent's knobs, as the graph sees them."""

    max_format_retries: int = 2
    history: int = 6
    protocol: Literal["text", "tools"] = "text"
    max_new_tokens: int | None = None


_NO_USAGE: Usage = {"input_tokens": 0, "output_tokens": 0, "latency_s": 0.0}


def call_key(line: str, name: str) -> str:
    """A key that is equal for invocations of the same arguments (text as a fallback)."""
    from steadyhand.environments.code.invocations import InvocationError, parse_invocation

    try:
        call = parse_invocation(line, name).literal_call()
    except InvocationError:
        return " ".join(line.split())
    return call.key if call is not None else " ".join(line.split())


# --- pure routers ----------------------------------------------------------------------------


def final_due(state: CodeARCState) -> bool:
    """No invocations left and one check left: the next implementation is the final one."""
    return state.get("io_left", 0) == 0 and state.get("oracle_left", 0) == 1


def route_reply(state: CodeARCState, settings: Settings, asked_by: str) -> str:
    """After the model replied: query, check, ask again (same node), or give up."""
    decision = state.get("decision")
    if decision == "query":
        return "choose_queries"
    if decision == "implement":
        return "check"
    if state.get("env_done"):
        return "__end__"
    return asked_by if state.get("format_retries", 0) <= settings.max_format_retries else "__end__"


def _spent(state: CodeARCState, settings: Settings) -> bool:
    """The last reply (or the environment's refusal) used up the format retries."""
    return state.get("decision") == "none" and state.get("format_retries", 0) > settings.max_format_retries


def after_query(state: CodeARCState, settings: Settings) -> str:
    """After invocations ran or were refused: ask again, or the final ask when it is due."""
    if state.get("env_done") or _spent(state, settings):
        return "__end__"
    return "finalize" if final_due(state) else "hypothesise"


def after_check(state: CodeARCState, settings: Settings) -> str:
    """After a check: done when solved or the environment ended; else revise, or the final ask."""
    if state.get("env_done") or state.get("solved") or _spent(state, settings):
        return "__end__"
    return "finalize" if final_due(state) else "revise"


# --- the graph -------------------------------------------------------------------------------


def _to_langchain(messages: list[Message]) -> list[BaseMessage]:
    kinds: dict[str, Callable[[str], BaseMessage]] = {
        "system": lambda c: SystemMessage(content=c), "user": lambda c: HumanMessage(content=c),
        "assistant": lambda c: AIMessage(content=c)}
    return [kinds[m["role"]](m["content"]) for m in messages]


def prompt_window(messages: list[Message], history: int) -> list[Message]:
    """System and task messages plus the last ``history`` reply/feedback exchanges."""
    head, rest = messages[:2], messages[2:]
    return head + (rest[len(rest) - 2 * history:] if len(rest) > 2 * history else rest)


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)


def _model(ctx: EpisodeContext, settings: Settings) -> tuple[Any, dict[str, Any]]:
    """The model to call (tools bound when the protocol asks and the model can) and its options."""
    fields = getattr(type(ctx.model), "model_fields", {})
    options: dict[str, Any] = {}
    if "max_new_tokens" in fields:  # in-process CPU models: bound the reply
        options["max_new_tokens"] = settings.max_new_tokens or 384
    elif settings.max_new_tokens and "max_tokens" in fields:
        options["max_tokens"] = settings.max_new_tokens
    if settings.protocol == "tools":
        try:
            return ctx.model.bind_tools(prompts.tool_schemas()), options
        except (NotImplementedError, AttributeError, TypeError, ValueError):
            pass  # no native tool calls: the JSON-in-text form is parsed instead
    return ctx.model, options


def build_graph(ctx: EpisodeContext, first: Observation, settings: Settings) -> Any:
    """The uncompiled graph for one episode; nodes close over ``ctx`` and ``first``."""
    from langgraph.graph import END, START, StateGraph

    model, options = _model(ctx, settings)
    tools = settings.protocol == "tools"
    try:
        tracker = usage(ctx.model)
    except LookupError:
        tracker = None

    def call_model(messages: list[Message]) -> tuple[str, list[dict[str, Any]], Usage]:
        started = time.perf_counter()
        reply = model.invoke(_to_langchain(messages), **options)
        latency = time.perf_counter() - started
        meta = getattr(reply, "usage_metadata", None) or {}
        cost: Usage = {"input_tokens": int(meta.get("input_tokens", 0)),
                       "output_tokens": int(meta.get("output_tokens", 0)), "latency_s": latency}
        if tracker is not None and not meta and tracker.calls:
            last = tracker.calls[-1]
            cost = {"input_tokens": last.input_tokens, "output_tokens": last.output_tokens, "latency_s": latency}
        return _text(reply), list(getattr(reply, "tool_calls", None) or []), cost

    def record(state: CodeARCState, action: ActionBase, result: StepResult, env_s: float, rationale: str) -> None:
        cost = state.get("pending", _NO_USAGE)
        ctx.record_step(StepRecord(
            index=state.get("steps", 0), action=action.model_dump(), rationale=prompts.clip(rationale, RATIONALE_CHARS),
            observation=result.observation.summary(), reward=result.reward, duration_s=env_s + cost["latency_s"],
            model_latency_s=cost["latency_s"], input_tokens=cost["input_tokens"], output_tokens=cost["output_tokens"]))

    def step(state: CodeARCState, action: ActionBase, rationale: str) -> tuple[StepResult, dict[str, Any]]:
        started = time.perf_counter()
        result = ctx.env.step(action)
        record(state, action, result, time.perf_counter() - started, rationale)
        info = result.observation.info
        update: dict[str, Any] = {
            "steps": state.get("steps", 0) + 1, "pending": _NO_USAGE, "actions": [action.model_dump()],
            "io_left": int(info.get("io_left", state.get("io_left", 0))),
            "oracle_left": int(info.get("oracle_left", state.get("oracle_left", 0))),
            "env_done": result.terminated or result.truncated,
        }
        if result.terminated or result.truncated:
            update["status"] = "terminated" if result.terminated else "truncated"
        return result, update

    def read_task(state: CodeARCState) -> dict[str, Any]:
        info = first.info or {}
        name = str(info.get("function_name") or ctx.task.metadata.get("function_name", "f"))
        invocations = [str(x) for x in info.get("invocations", [])]
        outputs = [str(x) for x in info.get("outputs", [])]
        io_left, oracle_left = int(info.get("io_left", 0)), int(info.get("oracle_left", 1))
        return {
            "name": name, "seen": [call_key(line, name) for line in invocations],
            "io_left": io_left, "oracle_left": oracle_left, "format_retries": 0, "model_calls": 0,
            "steps": state.get("steps", 0), "pending": _NO_USAGE,
            "messages": [{"role": "system", "content": prompts.system_prompt(name, tools=tools)},
                         {"role": "user", "content": prompts.task_prompt(invocations, outputs, io_left=io_left,
                                                                         oracle_left=oracle_left)}],
        }

    def ask(state: CodeARCState) -> dict[str, Any]:
        name = state["name"]
        text, tool_calls, cost = call_model(prompt_window(state.get("messages", []), settings.history))
        reply: Reply = parse_tool_reply(tool_calls, text, name) if tools else parse_reply(text, name)
        if reply.kind == "query" and state.get("io_left", 0) == 0:
            reply = Reply("none", problem="No invocations are left; reply with an implementation.")
        pending = state.get("pending", _NO_USAGE)
        shown = text if text.strip() or not tool_calls else f"(tool call) {tool_calls[0]}"
        update: dict[str, Any] = {
            "reply": prompts.clip(shown, RATIONALE_CHARS), "decision": reply.kind, "calls": reply.calls,
            "code": reply.code, "model_calls": state.get("model_calls", 0) + 1,
            "pending": {"input_tokens": pending["input_tokens"] + cost["input_tokens"],
                        "output_tokens": pending["output_tokens"] + cost["output_tokens"],
                        "latency_s": pending["latency_s"] + cost["latency_s"]},
            "messages": [{"role": "assistant", "content": shown}],
        }
        if reply.kind == "none":
            retries = state.get("format_retries", 0) + 1
            update["format_retries"] = retries
            if retries <= settings.max_format_retries:
                update["messages"].append({"role": "user", "content": prompts.format_prompt(
                    reply.problem, name=name, tools=tools)})
        else:
            update["format_retries"] = 0
        return update

    def refused(state: CodeARCState, problem: str, update: dict[str, Any]) -> dict[str, Any]:
        retries = state.get("format_retries", 0) + 1
        update.update({"format_retries": retries, "decision": "none"})
        if retries <= settings.max_format_retries and not update.get("env_done"):
            update["messages"] = [{"role": "user", "content": prompts.format_prompt(problem, name=state["name"],
                                                                                  tools=tools)}]
        return update

    def choose_queries(state: CodeARCState) -> dict[str, Any]:
        name, seen = state["name"], list(state.get("seen", []))
        fresh, keys = [], []
        for line in state.get("calls", []):
            key = call_key(line, name)
            if key not in seen and key not in keys:
                fresh.append(line)
                keys.append(key)
        dropped = len(state.get("calls", [])) - len(fresh)
        if not fresh:
            return refused(state, "every one of those invocations was made before; their outputs are above. "
                                  "Choose new inputs or write an implementation.", {})
        fresh, keys = fresh[: state.get("io_left", 0)], keys[: state.get("io_left", 0)]
        action = QueryFunction(calls=fresh)
        note = f"\n[choose_queries: {dropped} repeated invocation(s) dropped]" if dropped else ""
        result, update = step(state, action, state.get("reply", "") + note)
        obs = result.observation
        if obs.error:
            return refused(state, obs.error, update)
        outputs = "\n".join(str(r.get("output", "")) for r in obs.info.get("results", [])) or (obs.text or "")
        update["seen"] = seen + keys
        update["format_retries"] = 0
        update["messages"] = [{"role": "user", "content": prompts.result_prompt(
            outputs, io_left=update["io_left"], oracle_left=update["oracle_left"])}]
        return update

    def check(state: CodeARCState) -> dict[str, Any]:
        code = state.get("code", "")
        final = state.get("oracle_left", 1) <= 1
        action: ActionBase = SubmitCandidate(code=code) if final else CheckCandidate(code=code)
        result, update = step(state, action, state.get("reply", ""))
        obs = result.observation
        update["last_code"] = code
        if obs.error:
            return refused(state, obs.error, update)
        update["solved"] = bool(obs.info.get("passed"))
        update["format_retries"] = 0
        if not update["env_done"]:
            update["messages"] = [{"role": "user", "content": prompts.feedback_prompt(
                _verdict_text(obs), io_left=update["io_left"], oracle_left=update["oracle_left"])}]
        return update

    def reply_router(node: str) -> Callable[[CodeARCState], str]:
        return lambda state: route_reply(state, settings, node)

    graph = StateGraph(CodeARCState)
    graph.add_node("read_task", read_task)
    for node in ("hypothesise", "revise", "finalize"):
        graph.add_node(node, ask)
    graph.add_node("choose_queries", choose_queries)
    graph.add_node("check", check)
    graph.add_edge(START, "read_task")
    graph.add_edge("read_task", "hypothesise")
    for node in ("hypothesise", "revise", "finalize"):
        graph.add_conditional_edges(node, reply_router(node),
                                    {"choose_queries": "choose_queries", "check": "check", node: node, "__end__": END})
    graph.add_conditional_edges("choose_queries", lambda state: after_query(state, settings),
                                {"hypothesise": "hypothesise", "finalize": "finalize", "__end__": END})
    graph.add_conditional_edges("check", lambda state: after_check(state, settings),
                                {"revise": "revise", "finalize": "finalize", "__end__": END})
    return graph


def _verdict_text(obs: Observation) -> str:
    text = obs.text or ""
    return text.split("\n\nYou have")[0]


def recursion_limit(io_budget: int, oracle_budget: int, settings: Settings) -> int:
    """Supersteps one episode can take at most, with room to spare."""
    rounds = io_budget + oracle_budget + 2
    return 20 + rounds * (settings.max_format_retries + 2) * 2
