"""The differential-testing oracle against real sandboxes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from steadyhand.environments.code import Call, FunctionRunner, Oracle, model_proposer
from steadyhand.models import load
from steadyhand.sandboxes import Sandbox

from .conftest import CLAMP_SOURCE

KNOWN = [Call(a) for a in [(5, 0, 10), (-3, 0, 10), (15, 0, 10), (0, 0, 0), (7, 7, 9), (3, 1, 4), (8, 2, 6)]]


def check(oracle: Oracle, candidate: str, source: str = CLAMP_SOURCE, known: list[Call] = KNOWN,
          name: str = "clamp", key: str = "clamp") -> Any:
    return oracle.check(key, source, name, candidate, known)


def test_a_different_but_equivalent_implementation_passes(oracle: Oracle) -> None:
    verdict = check(oracle, "def clamp(x, lo, hi):\n    if hi < lo:\n        raise ArithmeticError\n"
                            "    return max(lo, min(x, hi))\n")
    assert verdict.passed, verdict.message()
    assert verdict.compared > 60 and verdict.counterexample is None
    assert "correct" in verdict.message()


def test_an_off_by_one_boundary_is_found_with_a_counterexample(oracle: Oracle) -> None:
    verdict = check(oracle, "def clamp(x, lo, hi):\n    if lo > hi:\n        raise ValueError\n"
                            "    if x <= lo:\n        return lo + 0 * x\n    if x >= hi - 1:\n        return hi\n"
                            "    return x\n")
    assert not verdict.passed and verdict.counterexample is not None
    c = verdict.counterexample
    assert c.call.startswith("clamp(") and c.expected != c.actual
    assert "Failed input: clamp(" in verdict.message() and "Expected (hidden function)" in verdict.message()


def test_raising_is_compared_not_the_exception_type(oracle: Oracle) -> None:
    returns_instead = "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"
    verdict = check(oracle, returns_instead)
    assert not verdict.passed
    assert "raised ValueError" in verdict.counterexample.expected  # type: ignore[union-attr]


def test_a_timeout_is_not_a_difference(oracle: Oracle) -> None:
    slow_target = "def g(n):\n    if n == 13:\n        while True:\n            pass\n    return n * 2\n"
    known = [Call((n,)) for n in (1, 2, 13, 20)]
    verdict = check(oracle, "def g(n):\n    return n + n\n", slow_target, known, "g", "slow")
    assert verdict.passed and verdict.inconclusive >= 1


def test_a_candidate_that_never_finishes_fails(oracle: Oracle) -> None:
    verdict = check(oracle, "def clamp(x, lo, hi):\n    while True:\n        pass\n")
    assert not verdict.passed and "finished on only 0" in verdict.reason
    assert verdict.counterexample is not None and verdict.counterexample.actual == "timed out"


def test_code_that_does_not_load_fails_with_the_reason(oracle: Oracle) -> None:
    verdict = check(oracle, "import no_such_module\ndef clamp(x, lo, hi):\n    return x\n")
    assert not verdict.passed and "ModuleNotFoundError" in verdict.reason


def test_nan_agrees_with_nan(oracle: Oracle) -> None:
    source = "def h(x):\n    return float('nan') if x < 0 else [x, float('nan')]\n"
    known = [Call((x,)) for x in (-1.0, 0.0, 2.5)]
    assert check(oracle, "import math\ndef h(x):\n    return math.nan if x < 0 else [x, math.nan]\n",
                 source, known, "h", "nan").passed


def test_inputs_and_verdicts_are_reproducible_per_seed(sandbox: Sandbox, other_sandbox: Sandbox) -> None:
    def make(seed: int) -> Oracle:
        return Oracle(FunctionRunner(sandbox), FunctionRunner(other_sandbox), seed=seed, generated=40)

    a, b, c = make(1), make(1), make(2)
    assert a.inputs("clamp", KNOWN) == b.inputs("clamp", KNOWN) != c.inputs("clamp", KNOWN)
    assert a.inputs("clamp", KNOWN)[: len(KNOWN)] == KNOWN  # the known calls come first
    wrong = "def clamp(x, lo, hi):\n    if lo > hi:\n        raise ValueError\n    return min(max(x, lo), hi - 1)\n"
    assert check(a, wrong).counterexample == check(b, wrong).counterexample
    _, results = a.prepare("clamp", CLAMP_SOURCE, "clamp", KNOWN)
    assert a.prepare("clamp", CLAMP_SOURCE, "clamp", KNOWN)[1] is results  # the target ran once


def test_model_proposed_inputs_are_used(sandbox: Sandbox, other_sandbox: Sandbox, tmp_path: Path) -> None:
    source = "def k(n):\n    return n % 100\n"
    tricky = "def k(n):\n    return 50 if n == 31337 else n % 100\n"
    known = [Call((n,)) for n in (5, 150, 99)]
    plain = Oracle(FunctionRunner(sandbox), FunctionRunner(other_sandbox), generated=40)
    assert check(plain, tricky, source, known, "k", "k").passed  # the special case is out of reach
    script = tmp_path / "proposer.json"
    # Replies only when the prompt shows the examples; a malformed line is skipped, not fatal.
    script.write_text(json.dumps({"rules": [{"when": r"k\(5\)  # -> 5", "reply":
                                             "print('Result 1: ' + str(k(31337)))\nk(1,\nprint(k(-2))"}],
                                  "default": "no idea"}))
    proposing = Oracle(FunctionRunner(sandbox), FunctionRunner(other_sandbox), generated=40,
                       proposer=model_proposer(load(f"scripted:{script}")))
    verdict = proposing.check("k", source, "k", tricky, known, examples=["k(5)  # -> 5"])
    assert not verdict.passed and verdict.counterexample.call == "k(31337)"  # type: ignore[union-attr]
