"""The guard set an agent consults around each action, built from agent options.

``GuardSet.before`` runs the pre-action guards (observation screening, action policy,
injection-following, loop and budget) and ``GuardSet.after`` the post-action ones
(screen-change check, loop and budget bookkeeping). :meth:`GuardSet.decide` turns the
verdicts into what the agent does, applying the ``approve`` mode to ``confirm``:
``ask`` leaves it to a person (the S2 graph interrupts), ``deny`` and ``allow`` decide
for unattended runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from steadyhand.core.actions import ActionBase
from steadyhand.core.errors import ConfigurationError
from steadyhand.core.observation import Observation
from steadyhand.safety.policy import ActionFacts, ActionPolicy
from steadyhand.safety.reliability import Budget, LoopDetector, screen_changed
from steadyhand.safety.screening import InjectionScreen
from steadyhand.safety.verdict import Decision, GuardVerdict, strictest

Approve = Literal["ask", "deny", "allow"]
GUARD_NAMES = ("injection", "policy", "loop", "budget", "screen")
_STOP = frozenset({"the", "a", "an", "button", "link", "on", "in", "to", "of", "at", "field", "box", "text", "icon",
                   "page", "this", "that", "click", "and", "or", "with", "for"})


def parse_guards(value: str | list[str] | bool | None) -> tuple[str, ...]:
    """The ``guards`` option as guard names: ``all``/True, ``none``/False/None, or a comma list.

    Raises:
        ConfigurationError: an unknown guard name.
    """
    if value is None or value is False or value in ("", "none", "off"):
        return ()
    if value is True or value == "all":
        return GUARD_NAMES
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value) if n.strip()]
    unknown = sorted(set(names) - set(GUARD_NAMES))
    if unknown:
        raise ConfigurationError(f"unknown guard(s) {', '.join(unknown)}; known: {', '.join(GUARD_NAMES)}")
    return tuple(names)


_POINTING = ("click", "tap", "navigate", "open", "press", "pyautogui")


def _phrase(text: str, *, drop_stop: bool) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return " ".join(w for w in words if not (drop_stop and w in _STOP))


def follows_injection(facts: ActionFacts, snippets: list[str]) -> str:
    """What in the action repeats the suspicious screen text (its typed text, or its target or URL as a
    phrase, for clicks and navigation); "" if nothing. Short values (under 4 characters) never count:
    they repeat by chance."""
    joined = " ".join(" ".join(s.split()).lower() for s in snippets)
    if not joined:
        return ""
    text = " ".join(facts.text.split()).lower()
    if len(text) >= 4 and text in joined:
        return f"typed text {facts.text!r}"
    if not any(word in facts.kind for word in _POINTING):  # typing is judged by what it types
        return ""
    target = _phrase(facts.target, drop_stop=True)
    if len(target.replace(" ", "")) >= 4 and f" {target} " in f" {_phrase(joined, drop_stop=False)} ":
        return f"target {facts.target!r}"
    return ""


@dataclass
class GuardSet:
    """The guards of one agent, with their per-episode state.

    Args:
        names: which guards run (see :data:`GUARD_NAMES`).
        policy: the action policy (built-in rules when None).
        approve: how ``confirm`` is settled: ``ask`` (a person, through the agent), ``deny``, ``allow``.
        screen: the injection screen (rules only when None).
        budget / loops: the reliability guards.
    """

    names: tuple[str, ...] = GUARD_NAMES
    policy: ActionPolicy = field(default_factory=ActionPolicy)
    approve: Approve = "ask"
    screen: InjectionScreen = field(default_factory=InjectionScreen)
    budget: Budget = field(default_factory=Budget)
    loops: LoopDetector = field(default_factory=LoopDetector)

    @classmethod
    def from_options(cls, guards: str | list[str] | bool | None = "all", policy: Any = None,
                     approve: str = "ask", classifier: str | None = None, max_seconds: float | None = None,
                     max_tokens: int | None = None, max_repeats: int = 3, ocr: str | None = None) -> GuardSet | None:
        """The guard set agent options describe, or None when no guard is on.

        ``ocr`` names an OCR engine the injection screen reads screenshots with (see
        :class:`~steadyhand.safety.screening.InjectionScreen`).

        Raises:
            ConfigurationError: an unknown guard or approve mode, or a bad policy.
        """
        names = parse_guards(guards)
        if approve not in ("ask", "deny", "allow"):
            raise ConfigurationError(f"approve must be ask, deny or allow, not {approve!r}")
        if not names:
            return None
        return cls(names=names, policy=ActionPolicy.load(policy), approve=approve,  # type: ignore[arg-type]
                   screen=InjectionScreen(classifier, ocr=ocr),
                   budget=Budget(max_seconds=max_seconds, max_tokens=max_tokens),
                   loops=LoopDetector(max_repeats=max_repeats))

    def reset(self) -> None:
        """Forget the previous episode (loop history, budget counters and clock)."""
        self.loops.history = []
        self.budget.start()

    def screen_observation(self, observation: Observation) -> GuardVerdict | None:
        """The injection screen's verdict on ``observation`` (None when it is off)."""
        return self.screen.check(observation) if "injection" in self.names else None

    def before(self, action: ActionBase, observation: Observation, *, target: str = "",
               application: str = "") -> list[GuardVerdict]:
        """Every pre-action verdict for running ``action`` on ``observation``.

        ``target`` is what the agent meant to act on (its element description), so rules and
        the injection check see it even when the action itself only has coordinates.
        """
        url = str(observation.info.get("url") or "")
        facts = ActionFacts.of(action, target=target, application=application, url=url)
        verdicts = []
        screened = self.screen_observation(observation)
        if screened is not None:
            verdicts.append(screened)
            echoed = follows_injection(facts, screened.details.get("snippets", [])) if screened.blocks or \
                screened.verdict == "flag" else ""
            if echoed:
                verdicts.append(GuardVerdict(guard="injection", verdict="deny",
                                             reason=f"the action follows suspicious screen text ({echoed})",
                                             details={"action": facts.model_dump()}))
        if "policy" in self.names:
            verdicts.append(self.policy.check(facts))
        if "loop" in self.names:
            verdicts.append(self.loops.check(action))
        if "budget" in self.names:
            verdicts.append(self.budget.check())
        return verdicts

    def after(self, action: ActionBase, before: Observation, after: Observation, *,
              tokens: int = 0) -> list[GuardVerdict]:
        """Post-action bookkeeping and the screen-change check."""
        self.loops.record(action)
        self.budget.spend(steps=1, tokens=tokens)
        return [screen_changed(action, before, after)] if "screen" in self.names else []

    def decide(self, verdicts: list[GuardVerdict]) -> Decision:
        """``allow``, ``deny`` or ``confirm`` (only in ``ask`` mode) for these verdicts."""
        decision = strictest(verdicts)
        if decision == "flag":
            return "allow"
        if decision == "confirm" and self.approve != "ask":
            return self.approve
        return decision
