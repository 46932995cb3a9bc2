"""Manager nodes: recall past tasks, plan and replan (Proactive Hierarchical Planning), check a DONE.

* ``recall`` looks up narrative experience for the task (no model call).
* ``manager`` writes the plan; after every finished subgoal it replans on the fresh
  screen. Its reply is validated as a :class:`~steadyhand.agents.s2.state.Plan`; an
  unusable reply is shown back to it, up to ``max_plan_retries`` times in a row.
* ``check_done`` asks the manager whether the task is really complete before the
  episode ends with DONE.

Replans are bounded twice: ``max_replans`` in all, ``max_replans_per_step`` without an
executed action in between. When no replan is allowed the next subgoal of the current
plan simply starts (or, with none left, the completion check runs).
"""

from __future__ import annotations

from typing import Any

from steadyhand.agents.s2.nodes.runtime import Runtime, add_usage
from steadyhand.agents.s2.parsing import parse_plan, parse_verdict
from steadyhand.agents.s2.prompts import clip, manager_system, render
from steadyhand.agents.s2.state import NO_USAGE, Phase, S2State, Settings

REASON_CHARS = 500


def render_experience(experiences: list[Any]) -> str:
    """Retrieved experiences as prompt text (empty when there are none)."""
    return "\n".join(f"- {e.key[:200]} (ended: {e.outcome or 'unknown'}): {clip(e.content, 1200)}"
                     for e in experiences)


def can_replan(state: S2State, settings: Settings) -> bool:
    """Whether another replan fits both replan budgets."""
    return (state.get("replans", 0) < settings.max_replans
            and state.get("replans_since_action", 0) < settings.max_replans_per_step)


def after_subgoal(state: S2State, settings: Settings, *, succeeded: bool) -> Phase:
    """Where to go once a subgoal ended (``state`` is before the update that ends it).

    The last subgoal done: straight to the completion check (the manager looks at the
    fresh screen there). Otherwise replan when the budgets allow, else start the next
    subgoal of the current plan, else end.
    """
    remaining = state.get("plan") or []
    if succeeded and not remaining:
        return "check" if state.get("done_checks", 0) < settings.max_done_checks else "end"
    if can_replan(state, settings):
        return "plan"
    return "next" if remaining else "end"


def recall(state: S2State, rt: Runtime) -> dict[str, Any]:
    """Look up narrative experience for the task (retrieval when planning)."""
    task = rt.ctx.task.instruction
    narrative = ""
    if rt.knowledge is not None:
        hits = rt.knowledge.retrieve_narrative(task, top_k=rt.settings.knowledge_top_k,
                                               exclude_source=rt.ctx.thread_id)
        narrative = render_experience(hits)
    return {"task": task, "narrative": narrative, "plan": [], "current": None, "phase": "plan", "turns": 0,
            "steps": 0, "replans": 0, "replans_since_action": 0, "plan_retries": 0, "format_retries": 0,
            "done_checks": 0, "pending": NO_USAGE, "history": [], "action_log": [], "recent": []}


def manager(state: S2State, rt: Runtime) -> dict[str, Any]:
    """Plan (first call) or replan (after a subgoal ended, or after a rejected DONE)."""
    settings = rt.settings
    replan = bool(state.get("planned"))
    user = render(
        "manager", replan=replan, task=state.get("task", rt.ctx.task.instruction),
        narrative=state.get("narrative", ""), finished=state.get("finished", []),
        remaining=state.get("plan", []) if replan else [], notes=state.get("notes", []),
        critique=state.get("critique", ""), problem=state.get("plan_problem", ""), screen=rt.screen())
    text, cost = rt.ask(manager_system(rt.platform), user)
    update: dict[str, Any] = {"pending": add_usage(state.get("pending", NO_USAGE), cost)}
    if replan and not state.get("plan_problem"):  # a retry of the same replan is not another replan
        update["replans"] = state.get("replans", 0) + 1
        update["replans_since_action"] = state.get("replans_since_action", 0) + 1
    reply = parse_plan(text)
    if reply.plan is None:
        retries = state.get("plan_retries", 0) + 1
        update.update(plan_retries=retries, plan_problem=reply.problem)
        if retries <= settings.max_plan_retries:
            update["phase"] = "plan"
        elif state.get("plan"):  # keep going with the plan we had
            update.update(phase="next", plan_retries=0, plan_problem="")
        else:
            update.update(phase="end", status="error",
                          error=f"the manager gave no usable plan in {retries} replies: {reply.problem}")
        return update
    plan = reply.plan
    update.update(plan_retries=0, plan_problem="", planned=True)
    if plan.status == "continue":
        update.update(plan=[s.model_dump() for s in plan.subgoals], phase="next", critique="")
    elif plan.status == "infeasible":
        update.update(phase="finish", final="fail", done_reason=clip(plan.reason, REASON_CHARS))
    elif state.get("done_checks", 0) < settings.max_done_checks:
        update.update(phase="check", plan=[], done_reason=clip(plan.reason, REASON_CHARS))
    else:
        update.update(phase="end", status="truncated",
                      error=f"the manager reported the task done but {settings.max_done_checks} checks disagreed")
    return update


def check_done(state: S2State, rt: Runtime) -> dict[str, Any]:
    """The manager checks the finished work against the task on the current screen."""
    user = render("done_check", task=state.get("task", rt.ctx.task.instruction),
                  finished=state.get("finished", []), reason=state.get("done_reason", ""), screen=rt.screen())
    text, cost = rt.ask(manager_system(rt.platform), user)
    checks = state.get("done_checks", 0) + 1
    update: dict[str, Any] = {"pending": add_usage(state.get("pending", NO_USAGE), cost), "done_checks": checks}
    verdict, reason = parse_verdict(text)
    if verdict == "yes":
        update.update(phase="finish", final="done")
        return update
    update["critique"] = clip(reason or "the check did not confirm the task is complete", REASON_CHARS)
    if checks >= rt.settings.max_done_checks:
        update.update(phase="end", status="truncated",
                      error=f"the completion check rejected DONE {checks} times: {update['critique']}")
    else:
        update["phase"] = "plan"  # a rejected DONE is always worth a replan
    return update
