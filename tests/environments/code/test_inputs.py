"""The oracle's inputs: inferred shapes, hypothesis draws, mutations, and the uniform baseline."""

from __future__ import annotations

import random

from steadyhand.environments.code.execution import Call
from steadyhand.environments.code.inputs import (
    generated_calls,
    infer_signatures,
    mutate,
    mutated_calls,
    uniform_calls,
    unique,
)

KNOWN = [Call(([1, 2, 3], "ab")), Call(([], "")), Call(([5, -1], "hello")), Call(([10, 20, 30, 40], "xyz"))]


def test_shapes_follow_the_known_arguments() -> None:
    (sig,) = infer_signatures(KNOWN)
    assert sig.count == 4 and sig.positional[0].kinds == {"list"} and sig.positional[1].kinds == {"str"}
    assert sig.positional[0].element is not None and sig.positional[0].element.kinds == {"int"}
    assert sig.positional[0].max_length == 4
    two = infer_signatures([*KNOWN, Call((1,), (("k", None),))])
    assert [s.count for s in two] == [4, 1] and two[1].keywords["k"].kinds == {"none"}


def test_generated_calls_are_reproducible_per_seed_and_keep_the_signature() -> None:
    a, b, c = generated_calls(KNOWN, 80, seed=3), generated_calls(KNOWN, 80, seed=3), generated_calls(KNOWN, 80, seed=4)
    assert a == b and a != c
    assert len(a) == 80
    assert all(isinstance(x.args[0], list) and isinstance(x.args[1], str) for x in a)
    assert all(isinstance(v, int) for x in a for v in x.args[0])


def test_generated_calls_reach_edges_known_inputs_do_not() -> None:
    calls = unique(generated_calls(KNOWN, 150, seed=0))
    lists = [c.args[0] for c in calls]
    texts = [c.args[1] for c in calls]
    assert [] in lists and "" in texts
    assert any(v < -40 for xs in lists for v in xs)          # beyond the known range, negative
    assert any(v > 400 for xs in lists for v in xs)          # large values
    assert any(len(xs) > 4 for xs in lists)                  # longer than any known list
    assert any(not t.isascii() for t in texts)               # unicode
    nested = generated_calls([Call(([[1, 2], [3]],))], 60, seed=0)
    assert any(any(isinstance(v, list) and v for v in c.args[0]) for c in nested)


def test_mutations_keep_types_and_stay_close() -> None:
    rng = random.Random(0)
    for value in (7, -2.5, "hello", [1, 2, 3], (1, "a"), {"a": 1}, {1, 2}, True):
        for _ in range(20):
            changed = mutate(value, rng)
            assert type(changed) is type(value)
    calls = mutated_calls(KNOWN, 3, seed=1)
    assert len(calls) == 12 and calls == mutated_calls(KNOWN, 3, seed=1)
    assert sum(c not in KNOWN for c in calls) >= 8


def test_uniform_baseline_draws_the_same_kinds() -> None:
    calls = uniform_calls(KNOWN, 50, seed=0)
    assert len(calls) == 50 and calls == uniform_calls(KNOWN, 50, seed=0)
    assert all(isinstance(c.args[0], list) and isinstance(c.args[1], str) for c in calls)
    assert uniform_calls([], 5, seed=0) == [] and generated_calls([], 5, seed=0) == []


def test_unique_keeps_first_occurrences() -> None:
    assert unique([Call((1,)), Call((2,)), Call((1,)), Call((1.0,))]) == [Call((1,)), Call((2,)), Call((1.0,))]


def test_mutations_include_ties_between_arguments_of_one_type() -> None:
    calls = mutated_calls([Call((1, 2, 3)), Call(("a", 5))], 3, seed=0)
    assert len(calls) == 6
    assert len(set(calls[0].args)) == 2  # two of the three sides made equal
    assert not any(len(set(map(repr, c.args))) < 2 for c in calls[3:])  # 'a' and 5 cannot tie
