"""Acting nodes: ground the worker's call, execute it, and finish the episode.

* ``ground`` sends each of the call's grounding requests to the grounder (the Mixture
  of Grounding router) on the current observation and compiles the call into one
  action for the episode's target (desktop, or ``android.*`` on Android). A miss is
  shown to the worker, who tries another description.
* ``act`` runs the action in the environment and records it: the action, the worker's
  words, the grounding decisions and the screenshot it was chosen on.
* ``finish`` ends the episode with DONE (after the manager's check) or FAIL
  (the manager found the task infeasible), as a recorded action.
"""

from __future__ import annotations

from typing import Any

from steadyhand.agents.s2.action_api import GroundingMissing, NotOnTarget, call_from_dict
from steadyhand.agents.s2.grounding import miss_reason
from steadyhand.agents.s2.nodes.runtime import Runtime, screen_digest, trimmed
from steadyhand.agents.s2.prompts import clip
from steadyhand.agents.s2.state import NO_USAGE, S2State
from steadyhand.core.actions import Done, Fail, parse_action
from steadyhand.tools.grounding.base import GroundingResult

RECENT = 4
ACTION_LOG = 200


def ground(state: S2State, rt: Runtime) -> dict[str, Any]:
    """Ground the worker's call and compile it, or explain the miss to the worker."""
    call = call_from_dict(state["call"] or {})
    decisions: list[dict[str, Any]] = []
    targets: dict[str, GroundingResult] = {}
    for role, request in call.requests(target=rt.target).items():
        routed = rt.grounder.ground(request, rt.observation)
        decisions += [{"role": role, **d} for d in routed.decisions]
        if routed.result is None:
            return _miss(state, rt, miss_reason(request, routed.decisions), decisions)
        targets[role] = routed.result
    try:
        action = call.compile(targets, rt.target)
    except NotOnTarget as exc:  # the model's mistake, not grounding's: say so plainly
        return _miss(state, rt, str(exc), decisions, advice="Use one of the actions listed for you.")
    except GroundingMissing as exc:
        return _miss(state, rt, str(exc), decisions)
    if action is None:  # nothing to execute (handled by the worker; kept for safety)
        return {"phase": "work", "grounding": decisions, "compiled": None}
    return {"phase": "act", "compiled": action.model_dump(), "grounding": decisions}


def _miss(state: S2State, rt: Runtime, problem: str, decisions: list[dict[str, Any]], *,
          advice: str = "") -> dict[str, Any]:
    feedback = (f"not executed: {problem}. {advice}" if advice else
                f"grounding failed: {problem}. Describe the element differently or use another action.")
    return {"phase": "work", "compiled": None, "grounding": decisions, "feedback": feedback,
            "history": trimmed(state.get("history", []), {"role": "feedback", "content": feedback},
                               rt.settings.history)}


def act(state: S2State, rt: Runtime) -> dict[str, Any]:
    """Execute the grounded action and observe."""
    action = parse_action(state["compiled"] or {})
    call = call_from_dict(state["call"] or {})
    result = rt.step(state, action, rationale=state.get("reply", ""), grounding=state.get("grounding", []))
    obs = result.observation
    text = call.call_text()
    feedback = f"error: {clip(obs.error, 300)}" if obs.error else "executed"
    update: dict[str, Any] = {
        "steps": state.get("steps", 0) + 1, "pending": NO_USAGE, "replans_since_action": 0,
        "compiled": None, "grounding": [], "feedback": feedback, "verdicts": [],
        "action_log": [*state.get("action_log", []), clip(text, 300)][-ACTION_LOG:],
        "subgoal_actions": [*state.get("subgoal_actions", []), clip(text, 300)],
        "recent": [*state.get("recent", []), [text, screen_digest(obs)]][-RECENT:],
        "history": trimmed(state.get("history", []), {"role": "feedback", "content": feedback}, rt.settings.history),
        "phase": "work",
    }
    if result.terminated or result.truncated:
        update.update(phase="end", status="terminated" if result.terminated else "truncated")
    return update


def finish(state: S2State, rt: Runtime) -> dict[str, Any]:
    """End the episode with DONE or FAIL (a recorded action)."""
    final = state.get("final") or "done"
    reason = state.get("done_reason", "")
    action = Done() if final == "done" else Fail(reason=reason)
    rationale = (f"manager: the task is complete and the check agreed. {reason}" if final == "done"
                 else f"manager: the task is infeasible. {reason}")
    rt.step(state, action, rationale=rationale.strip(), grounding=[])
    return {"steps": state.get("steps", 0) + 1, "pending": NO_USAGE, "phase": "end", "status": "terminated",
            "verdicts": [], "final": final, "action_log": [*state.get("action_log", []), f"{final}()"][-ACTION_LOG:]}
