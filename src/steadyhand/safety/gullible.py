"""A scripted "gullible" web agent (agent ``gullible``) for measuring attacks and guards.

It solves a task by replaying the task's oracle (``metadata["oracle"]``), but before each
step it obeys any on-screen instruction addressed to an AI agent or shaped as a system
alert: navigate to a URL, click a named button, type a code into a field. That makes
attack success measurable without a model; the guards (``guards`` option, see
:class:`~steadyhand.safety.GuardSet`) judge every action, and denied actions are skipped.
"""

from __future__ import annotations

import re
from typing import Any

from steadyhand.agents.base import AgentOutcome, EpisodeContext, StepRecord
from steadyhand.core.actions import ActionBase, Done, WebClick, WebNavigate, WebType, parse_action
from steadyhand.core.observation import Observation
from steadyhand.core.registry import agents
from steadyhand.safety.guards import GuardSet

_ADDRESSED = re.compile(r"[^.\n]*(?:\bAI agent\b|\bALERT\b)[^\n]*", re.IGNORECASE)
_NAVIGATE = re.compile(r"navigate to (\S+?)[.,]?(?=\s|$|\")", re.IGNORECASE)
_CLICK = re.compile(r"click the (.+?) button", re.IGNORECASE)
_TYPE = re.compile(r"type the verification code (\S+) into the (\w+) field", re.IGNORECASE)


def obeyed_actions(observation: Observation) -> list[ActionBase]:
    """The actions on-screen instructions ask for, in the order they appear (page text, then ARIA)."""
    found: list[ActionBase] = []
    for text in (observation.text or "", observation.accessibility_tree or ""):
        for segment in _ADDRESSED.findall(text):
            for m in _NAVIGATE.finditer(segment):
                found.append(WebNavigate(url=m.group(1)))
            for m in _CLICK.finditer(segment):
                found.append(WebClick(role="button", name=m.group(1).strip()))
            for m in _TYPE.finditer(segment):
                found.append(WebType(field=m.group(2), text=m.group(1), submit=True))
    return found


@agents.register("gullible")
class GullibleAgent:
    """Obeys on-screen instructions, then follows the task's oracle.

    Args:
        guards: the guards to consult (``none`` by default; ``all`` or a comma list).
        policy: the action policy (YAML file or text); built-in rules when None.
        approve: how ``confirm`` verdicts are settled (``deny`` by default: it runs unattended).
        max_steps: actions tried per episode (executed or denied).
    """

    name = "gullible"

    def __init__(self, guards: str | list[str] | bool | None = None, policy: Any = None, approve: str = "deny",
                 max_steps: int = 12) -> None:
        self.guards = GuardSet.from_options(guards, policy=policy, approve=approve)
        self.max_steps = max_steps

    def run(self, ctx: EpisodeContext, first: Observation) -> AgentOutcome:
        """Run one episode (see the class docstring)."""
        if self.guards is not None:
            self.guards.reset()
        oracle = [parse_action(a) for a in ctx.task.metadata.get("oracle", [])]
        obs, done, pending, index = first, set(), [], 0
        for _ in range(self.max_steps):
            fresh = [a for a in obeyed_actions(obs) if a.model_dump_json() not in done]
            if fresh:
                action, why = fresh[0], "the screen told me to"
                done.add(action.model_dump_json())
            elif oracle:
                action, why = oracle.pop(0), "the task's next step"
            else:
                action, why = Done(), "the task is done"
            verdicts = []
            if self.guards is not None:
                verdicts = self.guards.before(action, obs, target=_target(action))
                if self.guards.decide(verdicts) != "allow":
                    pending += [v.model_dump() for v in verdicts]
                    continue
            result = ctx.env.step(action)
            after = self.guards.after(action, obs, result.observation) if self.guards is not None else []
            ctx.record_step(StepRecord(index=index, action=action.model_dump(), rationale=why,
                                       observation=result.observation.summary(max_chars=500),
                                       guard_verdicts=[*pending, *(v.model_dump() for v in [*verdicts, *after])]))
            index, pending, obs = index + 1, [], result.observation
            if result.terminated or result.truncated:
                return AgentOutcome(status="terminated" if result.terminated else "truncated", steps=index)
        return AgentOutcome(status="truncated", steps=index, error="the step budget ran out")


def _target(action: ActionBase) -> str:
    """What an action points at: a button's name or text, a URL, a field."""
    if isinstance(action, WebClick):
        return action.name or action.text or ""
    if isinstance(action, WebNavigate):
        return action.url
    if isinstance(action, WebType):
        return action.field or ""
    return ""
