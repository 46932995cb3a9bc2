"""How good is the CodeARC oracle? Mutation analysis over ``codearc-mini``.

For every function of the suite this makes mutants - operator swaps (``+``/``-``,
``<``/``<=``, ``and``/``or``...), off-by-one and changed constants, dropped branches
(an ``if`` body or ``else`` removed, a conditional expression pinned) - and asks the
real oracle (``Oracle.check``, real sandboxes, default settings) whether each mutant
is correct. In the same run a baseline oracle, identical except that it draws the
same number of inputs uniformly at random from the same inferred types (no known
examples, no mutations, no edge-case bias), judges the same mutants.

Mutants that neither catches are run on a large reference pool (the oracle's
generators with two other seeds, uniform draws, many mutations of the examples:
~1,400 inputs); those it cannot tell from the original either are set aside as
equivalent (shown equivalent empirically - proving equivalence is undecidable).
Detection rates are over the remaining, non-equivalent mutants. A false alarm is the
oracle rejecting an unmutated function (both variants of each are checked).

Run: ``python benchmarks/oracle_quality.py [--functions N] [--mutants K]``. Prints a
table by topic and ends with one JSON line: detection_rate, baseline_detection_rate,
false_alarms, median_oracle_s, mutants.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from steadyhand.environments.code import Call, FunctionRunner, Oracle, Problem, load_mini, parse_invocation
from steadyhand.environments.code.inputs import generated_calls, mutated_calls, uniform_calls, unique
from steadyhand.sandboxes import open_sandbox

SWAPS: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
    ast.IsNot: ast.Is, ast.And: ast.Or, ast.Or: ast.And,
}
Mutation = tuple[str, Callable[[Any], Any]]


class _Mutator(ast.NodeTransformer):
    """Enumerates mutation sites in a fixed order; applies the one numbered ``target`` (-1: none)."""

    def __init__(self, target: int = -1) -> None:
        self.target, self.count, self.applied = target, 0, ""
        self.kinds: list[str] = []
        self._in_raise = 0

    def visit_Raise(self, node: ast.Raise) -> Any:  # messages of raised errors are not behaviour
        self._in_raise += 1
        node = self.generic_visit(node)  # type: ignore[assignment]
        self._in_raise -= 1
        return node

    def visit(self, node: ast.AST) -> Any:
        node = super().visit(node)
        for kind, make in self._options(node):
            if self.count == self.target:
                node, self.applied = make(node), kind
            self.kinds.append(kind)
            self.count += 1
        return node

    def _options(self, node: Any) -> list[Mutation]:
        options: list[Mutation] = []
        if isinstance(node, ast.BinOp | ast.AugAssign | ast.BoolOp) and type(node.op) in SWAPS:
            options.append(("operator swap", lambda n: _with(n, op=SWAPS[type(n.op)]())))
        elif isinstance(node, ast.Compare):
            for j, op in enumerate(node.ops):
                if type(op) in SWAPS:
                    options.append(("operator swap", _swap_comparison(j)))
        elif isinstance(node, ast.Constant) and not self._in_raise:
            value = node.value
            if isinstance(value, int) and not isinstance(value, bool):
                options += [("off by one", lambda n: _with(n, value=n.value + 1)),
                            ("off by one", lambda n: _with(n, value=n.value - 1))]
            elif isinstance(value, float):
                options.append(("changed constant", lambda n: _with(n, value=n.value * 2 + 1)))
            elif isinstance(value, str) and value:
                options.append(("changed constant", lambda n: _with(n, value=n.value[:-1] if len(n.value) > 1
                                                                      else n.value + "x")))
        elif isinstance(node, ast.If):
            options.append(("dropped branch", lambda n: _with(n, body=[ast.Pass()])))
            if node.orelse:
                options.append(("dropped branch", lambda n: _with(n, orelse=[])))
        elif isinstance(node, ast.IfExp):
            options += [("dropped branch", lambda n: _with(n, test=ast.Constant(True))),
                        ("dropped branch", lambda n: _with(n, test=ast.Constant(False)))]
        return options


def _swap_comparison(j: int) -> Callable[[Any], Any]:
    """Swap the ``j``-th operator of a comparison chain."""
    return lambda n: _with(n, ops=[SWAPS[type(o)]() if k == j else o for k, o in enumerate(n.ops)])


def _with(node: Any, **fields: Any) -> Any:
    new = copy.copy(node)
    for name, value in fields.items():
        setattr(new, name, value)
    return new


def mutants(source: str, limit: int, seed: int) -> list[tuple[str, str]]:
    """Up to ``limit`` distinct, compilable mutants of ``source`` as (kind, source), spread over the kinds."""
    tree = ast.parse(source)
    counter = _Mutator()
    counter.visit(copy.deepcopy(tree))
    original = ast.unparse(tree)
    by_kind: dict[str, list[str]] = defaultdict(list)
    seen = {original}
    for k, kind in enumerate(counter.kinds):
        mutator = _Mutator(k)
        mutated = ast.fix_missing_locations(mutator.visit(copy.deepcopy(tree)))
        text = ast.unparse(mutated)
        if text in seen:
            continue
        try:
            compile(text, "<mutant>", "exec")
        except SyntaxError:
            continue
        seen.add(text)
        by_kind[kind].append(text + "\n")
    rng = random.Random(seed)
    for texts in by_kind.values():
        rng.shuffle(texts)
    chosen: list[tuple[str, str]] = []
    while len(chosen) < limit and any(by_kind.values()):
        for kind in sorted(by_kind):
            if by_kind[kind] and len(chosen) < limit:
                chosen.append((kind, by_kind[kind].pop()))
    return chosen


class PoolOracle(Oracle):
    """The oracle's comparison and verdict rules on a fixed pool of inputs (the baseline, the reference)."""

    def __init__(self, target: FunctionRunner, candidate: FunctionRunner, pool: list[Call], seed: int) -> None:
        super().__init__(target, candidate, seed=seed)
        self.pool = pool

    def inputs(self, name: str, known: Sequence[Call], *, examples: Sequence[str] = ()) -> list[Call]:
        return self.pool


@dataclass
class Tally:
    mutants: int = 0
    equivalent: int = 0
    oracle: int = 0
    baseline: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))


def known_calls(problem: Problem) -> list[Call]:
    calls = [parse_invocation(e.invocation, problem.name).literal_call() for e in problem.examples]
    return [c for c in calls if c is not None]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=None, help="only the first N functions")
    parser.add_argument("--mutants", type=int, default=12, help="mutants per function (default 12)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    problems = load_mini()
    annotated = [p for p in problems if p.variant == "annotated"][: args.functions]
    anonymous = {p.metadata["index"]: p for p in problems if p.variant == "anonymous"}
    tallies: dict[str, Tally] = defaultdict(Tally)
    false_alarms, first_times, all_times = 0, [], []
    started = time.perf_counter()
    with open_sandbox("local") as target_box, open_sandbox("local") as candidate_box:
        target, candidate = FunctionRunner(target_box), FunctionRunner(candidate_box)
        for n, problem in enumerate(annotated, 1):
            known = known_calls(problem)
            oracle = Oracle(target, candidate, seed=args.seed)
            for variant in (problem, anonymous[problem.metadata["index"]]):
                verdict = Oracle(target, candidate, seed=args.seed).check(
                    variant.id, variant.source, variant.name, variant.source, known_calls(variant))
                first_times.append(verdict.seconds)
                false_alarms += not verdict.passed
                if not verdict.passed:
                    print(f"FALSE ALARM {variant.id}: {verdict.message()}", file=sys.stderr)
            count = len(oracle.prepare(problem.id, problem.source, problem.name, known)[0])
            baseline = PoolOracle(target, candidate, unique(uniform_calls(known, count, args.seed)), args.seed)
            reference = PoolOracle(target, candidate, unique([
                *generated_calls(known, 400, args.seed + 101), *generated_calls(known, 400, args.seed + 102),
                *uniform_calls(known, 400, args.seed + 103), *mutated_calls(known, 20, args.seed + 104)]), args.seed)
            tally = tallies[str(problem.metadata.get("topic", "other"))]
            for kind, source in mutants(problem.source, args.mutants, args.seed + n):
                verdict = oracle.check(problem.id, problem.source, problem.name, source, known)
                all_times.append(verdict.seconds)
                by_oracle = not verdict.passed
                by_baseline = not baseline.check(problem.id, problem.source, problem.name, source, known).passed
                if not (by_oracle or by_baseline) and reference.check(problem.id, problem.source, problem.name,
                                                                      source, known).passed:
                    tally.equivalent += 1
                    continue
                tally.mutants += 1
                tally.oracle += by_oracle
                tally.baseline += by_baseline
                row = tally.by_kind[kind]
                row[0], row[1], row[2] = row[0] + 1, row[1] + by_oracle, row[2] + by_baseline
                if not by_oracle:
                    print(f"  missed ({kind}) in {problem.name}:\n{source}", file=sys.stderr)
            print(f"[{n}/{len(annotated)}] {problem.name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    all_times = first_times + all_times
    report(tallies, false_alarms, 2 * len(annotated), first_times, all_times, time.perf_counter() - started)
    return 0


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def report(tallies: dict[str, Tally], false_alarms: int, checked: int, first_times: list[float],
           all_times: list[float], elapsed: float) -> None:
    total = Tally()
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    print(f"\n{'topic':<14}{'mutants':>9}{'equivalent':>12}{'oracle':>9}{'baseline':>10}")
    for topic in sorted(tallies):
        t = tallies[topic]
        print(f"{topic:<14}{t.mutants:>9}{t.equivalent:>12}{_pct(t.oracle, t.mutants):>9}"
              f"{_pct(t.baseline, t.mutants):>10}")
        total.mutants, total.equivalent = total.mutants + t.mutants, total.equivalent + t.equivalent
        total.oracle, total.baseline = total.oracle + t.oracle, total.baseline + t.baseline
        for kind, row in t.by_kind.items():
            kinds[kind] = [a + b for a, b in zip(kinds[kind], row, strict=True)]
    print(f"{'all':<14}{total.mutants:>9}{total.equivalent:>12}{_pct(total.oracle, total.mutants):>9}"
          f"{_pct(total.baseline, total.mutants):>10}")
    print(f"\n{'mutation kind':<18}{'mutants':>9}{'oracle':>9}{'baseline':>10}")
    for kind in sorted(kinds):
        m, o, b = kinds[kind]
        print(f"{kind:<18}{m:>9}{_pct(o, m):>9}{_pct(b, m):>10}")
    median_all = statistics.median(all_times) if all_times else 0.0
    median_first = statistics.median(first_times) if first_times else 0.0
    print(f"\nfalse alarms on unmutated functions: {false_alarms} of {checked}")
    print(f"oracle call: median {median_all:.3f} s over {len(all_times)} calls; first call of a problem "
          f"(inputs drawn, hidden function run) median {median_first:.3f} s, max {max(first_times, default=0):.3f} s")
    print(f"benchmark wall time: {elapsed:.0f} s")
    print(json.dumps({
        "detection_rate": round(total.oracle / total.mutants, 4) if total.mutants else None,
        "baseline_detection_rate": round(total.baseline / total.mutants, 4) if total.mutants else None,
        "false_alarms": false_alarms, "median_oracle_s": round(median_all, 4), "mutants": total.mutants,
        "equivalent_set_aside": total.equivalent, "median_first_oracle_s": round(median_first, 4),
    }))


if __name__ == "__main__":
    sys.exit(main())
