"""Reliability guards: repeated actions and loops, step/time/token budgets, and screen-change checks."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from steadyhand.core.actions import ActionBase
from steadyhand.core.observation import Observation
from steadyhand.safety.verdict import GuardVerdict

#: Kinds whose success does not show on the screen.
NO_VISIBLE_EFFECT = frozenset({"wait", "done", "fail", "desktop.move_to", "android.wait", "android.answer",
                               "web.wait"})


def action_signature(action: ActionBase) -> str:
    """A stable text key for an action (equal keys: the same action)."""
    return json.dumps(action.model_dump(), sort_keys=True, default=str)


def observation_digest(observation: Observation) -> str:
    """A digest of everything visible in ``observation`` (screenshot and texts)."""
    h = hashlib.sha1(usedforsecurity=False)
    for part in (observation.screenshot or b"", (observation.text or "").encode(),
                 (observation.accessibility_tree or "").encode()):
        h.update(hashlib.sha1(part, usedforsecurity=False).digest())
    return h.hexdigest()[:16]


@dataclass
class LoopDetector:
    """Flags an action repeated ``max_repeats`` times in a row, or a short cycle (A B A B...).

    Call :meth:`check` before running an action and :meth:`record` after it ran.
    """

    max_repeats: int = 3
    window: int = 8
    history: list[str] = field(default_factory=list)
    name: str = "loop"

    def check(self, action: ActionBase) -> GuardVerdict:
        """``deny`` when this action would make ``max_repeats`` in a row, ``flag`` for a cycle, else ``allow``."""
        sig = action_signature(action)
        tail = self.history[-(self.max_repeats - 1):] if self.max_repeats > 1 else []
        if len(tail) == self.max_repeats - 1 and all(s == sig for s in tail):
            return GuardVerdict(guard=self.name, verdict="deny",
                                reason=f"the same action {self.max_repeats} times in a row",
                                details={"action": action.model_dump()})
        seq = [*self.history[-self.window:], sig]
        for period in (2, 3):
            if len(seq) >= 2 * period and seq[-period:] == seq[-2 * period:-period] and len(set(seq[-period:])) > 1:
                return GuardVerdict(guard=self.name, verdict="flag", reason=f"a cycle of {period} actions repeats",
                                    details={"period": period})
        return GuardVerdict(guard=self.name, verdict="allow", reason="no repetition")

    def record(self, action: ActionBase) -> None:
        """Note that ``action`` ran."""
        self.history = [*self.history, action_signature(action)][-self.window:]


@dataclass
class Budget:
    """Step, time and token budgets for one episode (None: no limit).

    The clock starts at construction (or :meth:`start`); :meth:`check` denies the next action
    once any budget is spent.
    """

    max_steps: int | None = None
    max_seconds: float | None = None
    max_tokens: int | None = None
    steps: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    name: str = "budget"

    def start(self) -> None:
        """Restart the clock and the counters."""
        self.steps, self.tokens, self.started = 0, 0, time.monotonic()

    def spend(self, *, steps: int = 0, tokens: int = 0) -> None:
        """Count executed steps and model tokens."""
        self.steps += steps
        self.tokens += tokens

    def check(self) -> GuardVerdict:
        """``deny`` with the spent budget named, or ``allow``."""
        elapsed = time.monotonic() - self.started
        spent = {"steps": self.steps, "seconds": round(elapsed, 3), "tokens": self.tokens}
        for what, used, limit in (("step", self.steps, self.max_steps), ("time", elapsed, self.max_seconds),
                                  ("token", self.tokens, self.max_tokens)):
            if limit is not None and used >= limit:
                return GuardVerdict(guard=self.name, verdict="deny", reason=f"the {what} budget ({limit}) is spent",
                                    details=spent)
        return GuardVerdict(guard=self.name, verdict="allow", reason="within budget", details=spent)


def screen_changed(action: ActionBase, before: Observation, after: Observation) -> GuardVerdict:
    """After an action: ``flag`` when it should have changed the screen and nothing visible changed,
    or when it reported an error; ``allow`` otherwise."""
    if after.error:
        return GuardVerdict(guard="screen", verdict="flag", reason=f"the action reported an error: {after.error}",
                            details={"kind": action.kind})
    if action.kind in NO_VISIBLE_EFFECT:
        return GuardVerdict(guard="screen", verdict="allow", reason="no visible effect expected")
    if observation_digest(before) == observation_digest(after):
        return GuardVerdict(guard="screen", verdict="flag", reason="the screen did not change after the action",
                            details={"kind": action.kind})
    return GuardVerdict(guard="screen", verdict="allow", reason="the screen changed")
