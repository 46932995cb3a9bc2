"""Worker nodes: start a subgoal, reflect, and choose one action per turn.

* ``start_subgoal`` takes the head of the plan (only the head runs) and retrieves
  episodic experience for it.
* ``reflect`` runs before every turn after the first of a subgoal: a deterministic
  loop check (the same call on an unchanged screen, or the same call three times)
  and, when enabled, a model reflection that flags loops and drift from the subgoal.
* ``worker`` asks for one action-API call; the reply is parsed with ``ast``
  (:func:`~steadyhand.agents.s2.action_api.parse_call`), never evaluated. ``done()`` and
  ``fail()`` end the subgoal; ``save_to_knowledge`` keeps notes; everything else goes
  to grounding. An unusable reply is shown back, up to ``max_format_retries`` in a
  row, after which the subgoal counts as failed.
"""

from __future__ import annotations

from typing import Any

from steadyhand.agents.s2.action_api import CallParseError, S2Call, parse_call
from steadyhand.agents.s2.nodes.manager import after_subgoal, render_experience
from steadyhand.agents.s2.nodes.runtime import RATIONALE_CHARS, Runtime, add_usage, trimmed
from steadyhand.agents.s2.parsing import parse_reflection
from steadyhand.agents.s2.prompts import clip, render, worker_system
from steadyhand.agents.s2.state import NO_USAGE, S2State, SubgoalRecord

REFLECTION_CHARS = 600


def loop_warning(state: S2State) -> str:
    """A warning when the recent actions repeat without effect; "" otherwise (pure)."""
    recent = state.get("recent") or []
    if len(recent) >= 2 and recent[-1] == recent[-2]:
        return (f"the last two actions were the same call ({clip(recent[-1][0], 120)}) and the screen did not "
                "change: do something different")
    if len(recent) >= 3 and recent[-1][0] == recent[-2][0] == recent[-3][0]:
        return f"the same call ({clip(recent[-1][0], 120)}) ran three times in a row: it is not working"
    return ""


def start_subgoal(state: S2State, rt: Runtime) -> dict[str, Any]:
    """Make the head of the plan the current subgoal and recall similar subgoals."""
    plan = list(state.get("plan") or [])
    current = plan.pop(0)
    episodic = ""
    if rt.knowledge is not None:
        query = f"{current['name']}. {current.get('info', '')}".strip()
        episodic = render_experience(rt.knowledge.retrieve_episodic(
            query, top_k=rt.settings.knowledge_top_k, exclude_source=rt.ctx.thread_id))
    return {"plan": plan, "current": current, "episodic": episodic, "history": [], "subgoal_actions": [],
            "reflection": "", "feedback": "", "format_retries": 0, "recent": [], "phase": "work"}


def reflect(state: S2State, rt: Runtime) -> dict[str, Any]:
    """Flag loops and drift before the worker's next turn."""
    warning = loop_warning(state)
    if not rt.settings.reflection:
        return {"reflection": warning}
    user = render("reflection", task=state.get("task", ""), subgoal=state.get("current") or {"name": ""},
                  history=state.get("history", []), loop_warning=warning, screen=rt.screen())
    text, cost = rt.ask(worker_system(rt.platform, rt.target), user)
    verdict, body = parse_reflection(text)
    reflection = clip(body, REFLECTION_CHARS)
    if warning and verdict != "loop":
        reflection = f"{warning}. {reflection}"
    return {"reflection": reflection, "pending": add_usage(state.get("pending", NO_USAGE), cost)}


def _end_subgoal(state: S2State, rt: Runtime, *, succeeded: bool, update: dict[str, Any]) -> dict[str, Any]:
    current = state.get("current") or {"name": "", "info": ""}
    record: SubgoalRecord = {"name": current["name"], "info": current.get("info", ""),
                             "status": "done" if succeeded else "failed",
                             "actions": list(state.get("subgoal_actions", []))}
    update.update(finished=[record], current=None, call=None,
                  phase=after_subgoal(state, rt.settings, succeeded=succeeded))
    if update["phase"] == "end":
        update.setdefault("status", "truncated")
        update.setdefault("error", "no subgoal left and no replan allowed")
    return update


def worker(state: S2State, rt: Runtime) -> dict[str, Any]:
    """One worker turn: one model call, one parsed API call (or a problem shown back)."""
    settings = rt.settings
    turn = state.get("turns", 0) + 1
    user = render(
        "worker", task=state.get("task", ""), subgoal=state.get("current") or {"name": "", "info": ""},
        finished=state.get("finished", []), remaining=state.get("plan", []), notes=state.get("notes", []),
        episodic=state.get("episodic", ""), history=state.get("history", []),
        reflection=state.get("reflection", ""), feedback=state.get("feedback", ""), turn=turn,
        max_turns=settings.max_steps, screen=rt.screen())
    text, cost = rt.ask(worker_system(rt.platform, rt.target), user)
    update: dict[str, Any] = {"turns": turn, "reply": clip(text, RATIONALE_CHARS),
                              "pending": add_usage(state.get("pending", NO_USAGE), cost), "reflection": ""}
    history = state.get("history", [])
    try:
        call, warnings = parse_call(text)
    except CallParseError as exc:
        retries = state.get("format_retries", 0) + 1
        problem = f"your reply could not be used: {exc}"
        update.update(format_retries=retries, feedback=problem,
                      history=trimmed(history, {"role": "feedback", "content": problem}, settings.history))
        if retries > settings.max_format_retries:
            return _end_subgoal(state, rt, succeeded=False, update=update)
        update["phase"] = "work"
        return update
    update.update(format_retries=0, feedback="; ".join(warnings))
    history = trimmed(history, {"role": "worker", "content": call.call_text()}, settings.history)
    update["history"] = history
    return _route_call(state, rt, call, update)


def _route_call(state: S2State, rt: Runtime, call: S2Call, update: dict[str, Any]) -> dict[str, Any]:
    if call.effect == "subgoal_done":
        return _end_subgoal(state, rt, succeeded=True, update=update)
    if call.effect == "subgoal_failed":
        return _end_subgoal(state, rt, succeeded=False, update=update)
    if call.effect == "note":
        notes = list(getattr(call, "notes", []))
        update.update(notes=notes, phase="work", feedback="notes saved")
        return update
    update.update(call=call.model_dump(), phase="ground")
    return update
