"""The guard node, between grounding and acting: the safety guards decide whether the action runs.

The guards (:class:`~steadyhand.safety.GuardSet`: injection screening, action policy,
loops, budgets) judge the compiled action on the screen it was chosen on. Their verdicts
accumulate in ``verdicts`` and are recorded on the next executed step. ``confirm`` (in
``approve=ask`` mode) interrupts the graph with the action and the reasons; the run
resumes with ``Command(resume=answer)``, where a true answer (or ``yes``/``allow``/
``approve``) lets the action run. A denied action is not executed: the worker is told why.
"""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from steadyhand.agents.s2.action_api import call_from_dict
from steadyhand.agents.s2.nodes.runtime import Runtime, trimmed
from steadyhand.agents.s2.state import S2State
from steadyhand.core.actions import parse_action
from steadyhand.safety.verdict import GuardVerdict

_YES = frozenset({"y", "yes", "allow", "approve", "approved", "ok", "true"})


def approved(answer: Any) -> bool:
    """Whether a person's answer to a confirmation lets the action run."""
    if isinstance(answer, dict):
        answer = answer.get("approve", answer.get("answer"))
    return answer is True or str(answer).strip().lower() in _YES


def guard(state: S2State, rt: Runtime) -> dict[str, Any]:
    """Run the pre-action guards; go on to ``act``, or back to the worker with the reason."""
    if rt.guards is None:
        return {"phase": "execute"}
    action = parse_action(state["compiled"] or {})
    call = call_from_dict(state["call"] or {})
    target = "; ".join(r.description for r in call.requests().values()) or call.call_text()
    verdicts = rt.guards.before(action, rt.observation, target=target,
                                application=str(rt.ctx.task.metadata.get("app", "")))
    decision = rt.guards.decide(verdicts)
    if decision == "confirm":
        reasons = [v.reason for v in verdicts if v.verdict == "confirm"]
        answer = interrupt({"action": action.model_dump(), "call": call.call_text(), "reasons": reasons})
        ok = approved(answer)
        verdicts.append(GuardVerdict(guard="approval", verdict="allow" if ok else "deny",
                                     reason=f"confirmation answered {answer!r}"))
        decision = "allow" if ok else "deny"
    recorded = [*state.get("verdicts", []), *(v.model_dump() for v in verdicts)]
    if decision == "allow":
        return {"phase": "execute", "verdicts": recorded}
    why = "; ".join(v.reason for v in verdicts if v.verdict in ("deny", "confirm"))
    feedback = f"blocked by the safety guards: {why}. Do not retry it; choose another action for the task."
    return {"phase": "work", "compiled": None, "verdicts": recorded, "feedback": feedback,
            "history": trimmed(state.get("history", []), {"role": "feedback", "content": feedback},
                               rt.settings.history)}
