"""Loop detection, budgets and the screen-change check."""

from __future__ import annotations

from steadyhand.core.actions import Click, Press, Wait
from steadyhand.core.observation import Observation
from steadyhand.safety import Budget, GuardSet, LoopDetector, screen_changed


def test_repeats_are_denied_and_cycles_flagged() -> None:
    loops = LoopDetector(max_repeats=3)
    a, b = Click(x=1, y=1), Press(key="tab")
    for _ in range(2):
        assert loops.check(a).verdict == "allow"
        loops.record(a)
    assert loops.check(a).verdict == "deny"
    assert loops.check(b).verdict == "allow"
    cycle = LoopDetector()
    for action in (a, b, a):
        cycle.record(action)
    assert cycle.check(b).verdict == "flag"


def test_budgets_deny_once_spent() -> None:
    budget = Budget(max_steps=2, max_tokens=100)
    budget.spend(steps=1, tokens=10)
    assert budget.check().verdict == "allow"
    budget.spend(steps=1)
    assert "step budget" in budget.check().reason
    assert Budget(max_seconds=0).check().verdict == "deny"
    tokens = Budget(max_tokens=5)
    tokens.spend(tokens=5)
    assert "token budget" in tokens.check().reason


def test_unchanged_screen_is_flagged() -> None:
    same = Observation(text="page", screenshot=b"png")
    assert screen_changed(Click(x=1, y=1), same, same).verdict == "flag"
    assert screen_changed(Click(x=1, y=1), same, Observation(text="page 2", screenshot=b"png")).verdict == "allow"
    assert screen_changed(Wait(), same, same).verdict == "allow"
    assert screen_changed(Click(), same, Observation(error="boom")).verdict == "flag"


def test_guard_set_after_counts_steps() -> None:
    guards = GuardSet.from_options("loop,budget,screen")
    assert guards is not None
    guards.budget.max_steps = 1
    obs = Observation(text="x")
    assert [v.guard for v in guards.after(Click(x=1, y=1), obs, obs)] == ["screen"]
    assert guards.decide(guards.before(Click(x=2, y=2), obs)) == "deny"
