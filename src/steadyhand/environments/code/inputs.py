"""Where the oracle's inputs come from: shapes inferred from known arguments.

From the arguments of the calls already known (the initial examples, the agent's
queries) :func:`infer_signatures` infers, per call pattern (positional count and
keyword names), a :class:`Shape` for every argument: the kinds seen (int, str,
list, ...), their ranges, alphabets and lengths, and element shapes for containers.
Then:

* :func:`generated_calls` draws calls from hypothesis strategies built on those
  shapes - they favour empties, boundaries, negatives, large values, unicode and
  nesting - deterministically for a seed (``@seed``, no example database);
* :func:`mutated_calls` perturbs the known calls (off by one, dropped or duplicated
  elements, case changes, ...), deterministically for a seed;
* :func:`uniform_calls` is the baseline: values drawn uniformly at random from the
  same shapes, for comparison in ``benchmarks/oracle_quality.py``.

Everything here is plain data on the host; no hidden or candidate code runs here.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from steadyhand.environments.code.execution import Call

EXTRA_CHARS = " ,.!?-_:;'\"\n\téßΩж中😀"
MAX_DEPTH = 4


@dataclass
class Shape:
    """What the values seen at one argument position look like."""

    kinds: set[str] = field(default_factory=set)
    ints: list[int] = field(default_factory=list)
    floats: list[float] = field(default_factory=list)
    chars: set[str] = field(default_factory=set)
    str_lengths: list[int] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)  # of lists, tuples, dicts, sets, bytes
    element: Shape | None = None                      # of lists, sets, variable tuples
    items: list[Shape] | None = None                  # of tuples that always had the same length
    tuple_lengths: set[int] = field(default_factory=set)
    key: Shape | None = None
    value: Shape | None = None

    def observe(self, v: Any, depth: int = 0) -> None:
        """Merge one observed value into the shape."""
        kind = _kind(v)
        self.kinds.add(kind)
        if depth > MAX_DEPTH:
            return
        if kind == "int":
            self.ints.append(v)
        elif kind == "float":
            if v == v and abs(v) != float("inf"):
                self.floats.append(v)
        elif kind == "str":
            self.chars.update(v[:200])
            self.str_lengths.append(len(v))
        elif kind == "bytes":
            self.lengths.append(len(v))
        elif kind in ("list", "set", "frozenset"):
            self.lengths.append(len(v))
            for x in list(v)[:50]:
                self.element = self.element or Shape()
                self.element.observe(x, depth + 1)
        elif kind == "tuple":
            self.lengths.append(len(v))
            self.tuple_lengths.add(len(v))
            if len(self.tuple_lengths) == 1 and (self.items is None or len(self.items) == len(v)):
                self.items = self.items or [Shape() for _ in v]
                for s, x in zip(self.items, v, strict=True):
                    s.observe(x, depth + 1)
            for x in v[:50]:
                self.element = self.element or Shape()
                self.element.observe(x, depth + 1)
        elif kind == "dict":
            self.lengths.append(len(v))
            for k, x in list(v.items())[:50]:
                self.key, self.value = self.key or Shape(), self.value or Shape()
                self.key.observe(k, depth + 1)
                self.value.observe(x, depth + 1)

    @property
    def max_length(self) -> int:
        return max(self.lengths, default=0)


def _kind(v: Any) -> str:
    if v is None:
        return "none"
    for kind, types in (("bool", bool), ("int", int), ("float", float), ("str", str), ("bytes", bytes | bytearray),
                        ("list", list), ("tuple", tuple), ("dict", dict), ("frozenset", frozenset), ("set", set),
                        ("complex", complex)):
        if isinstance(v, types):
            return kind
    return "other"


@dataclass
class Signature:
    """One way the function was called: positional count and keyword names, with argument shapes."""

    positional: list[Shape]
    keywords: dict[str, Shape]
    count: int = 0


def infer_signatures(calls: Iterable[Call]) -> list[Signature]:
    """Signatures of ``calls``, most used first."""
    found: dict[tuple[int, tuple[str, ...]], Signature] = {}
    for call in calls:
        key = (len(call.args), tuple(sorted(k for k, _ in call.kwargs)))
        sig = found.setdefault(key, Signature([Shape() for _ in call.args], {k: Shape() for k in key[1]}))
        sig.count += 1
        for shape, value in zip(sig.positional, call.args, strict=True):
            shape.observe(value)
        for k, value in call.kwargs:
            sig.keywords[k].observe(value)
    return sorted(found.values(), key=lambda s: -s.count)


# --- hypothesis strategies -------------------------------------------------------------


def _int_bounds(shape: Shape) -> tuple[int, int, int]:
    lo, hi = min(shape.ints, default=0), max(shape.ints, default=10)
    scale = max(10, 2 * max(abs(lo), abs(hi)))
    return lo, hi, scale


def _wide_alphabet(shape: Shape) -> str:
    chars = set(shape.chars) | set(EXTRA_CHARS)
    if any(c.isalpha() for c in shape.chars):
        chars |= set(string.ascii_letters)
    if any(c.isdigit() for c in shape.chars) or not shape.chars:
        chars |= set(string.digits)
    return "".join(sorted(chars))


def strategy_for(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """A hypothesis strategy for values like those ``shape`` saw, edge cases included."""
    options: list[st.SearchStrategy[Any]] = []
    size = max(6, 2 * shape.max_length + 2)
    for kind in sorted(shape.kinds):
        if kind == "none":
            options.append(st.none())
        elif kind == "bool":
            options.append(st.booleans())
        elif kind == "int":
            lo, hi, scale = _int_bounds(shape)
            edges = sorted({0, 1, -1, 2, lo, hi, lo - 1, hi + 1, scale, -scale})
            options += [st.integers(-scale, scale), st.integers(lo - 3, hi + 3), st.sampled_from(edges),
                        st.integers(-10 * scale, 10 * scale)]
        elif kind == "float":
            flo, fhi = min(shape.floats, default=-10.0), max(shape.floats, default=10.0)
            span = max(10.0, 2 * max(abs(flo), abs(fhi)))
            options += [st.floats(-span, span, allow_nan=False, allow_infinity=False),
                        st.sampled_from([0.0, -0.0, 0.5, -1.5, 1.0, flo, fhi]),
                        st.integers(-int(span), int(span)).map(float)]
        elif kind == "str":
            length = max(8, 2 * max(shape.str_lengths, default=0) + 2)
            seen = "".join(sorted(shape.chars)) or string.ascii_lowercase
            options += [st.text(alphabet=seen, max_size=length), st.text(alphabet=_wide_alphabet(shape),
                                                                         max_size=length)]
        elif kind == "bytes":
            options.append(st.binary(max_size=size))
        elif kind == "complex":
            options.append(st.complex_numbers(max_magnitude=1e6, allow_nan=False, allow_infinity=False))
        elif kind in ("list", "set", "frozenset", "tuple", "dict"):
            options.append(_container(kind, shape, size, depth))
    return st.one_of(options) if options else st.none()


def _element(shape: Shape | None, depth: int) -> st.SearchStrategy[Any]:
    if shape is None or not shape.kinds or depth >= MAX_DEPTH:
        return st.one_of(st.integers(-10, 10), st.text(string.ascii_lowercase, max_size=3))
    return strategy_for(shape, depth + 1)


def _hashable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return strategy.filter(_is_hashable)


def _is_hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _container(kind: str, shape: Shape, size: int, depth: int) -> st.SearchStrategy[Any]:
    if kind == "list":
        return st.lists(_element(shape.element, depth), max_size=size)
    if kind in ("set", "frozenset"):
        build = st.sets if kind == "set" else st.frozensets
        return build(_hashable(_element(shape.element, depth)), max_size=size)
    if kind == "tuple":
        if shape.items is not None and len(shape.tuple_lengths) == 1:
            return st.tuples(*[_element(s, depth) for s in shape.items])
        return st.lists(_element(shape.element, depth), max_size=size).map(tuple)
    return st.dictionaries(_hashable(_element(shape.key, depth)), _element(shape.value, depth), max_size=size)


def _signature_strategy(sig: Signature) -> st.SearchStrategy[Call]:
    keywords = sorted(sig.keywords)
    parts = [strategy_for(s) for s in sig.positional] + [strategy_for(sig.keywords[k]) for k in keywords]
    n = len(sig.positional)
    return st.tuples(*parts).map(lambda vs: Call(tuple(vs[:n]), tuple(zip(keywords, vs[n:], strict=True))))


def draw(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """``count`` examples of ``strategy`` (fewer if it runs dry), the same for the same seed."""
    drawn: list[Any] = []
    if count <= 0:
        return drawn

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False, print_blob=False)
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn[:count]


def generated_calls(known: Sequence[Call], count: int, seed: int) -> list[Call]:
    """``count`` calls drawn from strategies inferred from ``known`` (empty when nothing is known)."""
    signatures = infer_signatures(known)
    if not signatures:
        return []
    total = sum(s.count for s in signatures)
    calls: list[Call] = []
    for k, sig in enumerate(signatures):
        share = max(1, round(count * sig.count / total))
        calls += draw(_signature_strategy(sig), share, seed * 7919 + k)
    return calls[:count]


# --- mutations of known inputs ------------------------------------------------------------


def _mutate_str(s: str, rng: random.Random) -> str:
    extra = rng.choice(string.ascii_letters + string.digits + EXTRA_CHARS)
    i = rng.randrange(len(s) + 1)
    choices: list[Callable[[], str]] = [
        lambda: "", lambda: s[1:], lambda: s[:-1], lambda: s + s[-1:], lambda: s[::-1], lambda: s.upper(),
        lambda: s.swapcase(), lambda: s[:i] + extra + s[i:], lambda: s + " ", lambda: " " + s, lambda: s * 2,
        lambda: s[:i] + s[i + 1:],
    ]
    return rng.choice(choices)()


def _mutate_seq(xs: list[Any], rng: random.Random, depth: int) -> list[Any]:
    if not xs:
        return rng.choice([[0], [""], []])
    i = rng.randrange(len(xs))
    choices: list[Callable[[], list[Any]]] = [
        lambda: [], lambda: xs[1:], lambda: xs[:-1], lambda: [*xs, xs[-1]], lambda: xs[::-1],
        lambda: [*xs[:i], mutate(xs[i], rng, depth + 1), *xs[i + 1:]],
        lambda: [*xs[:i], mutate(xs[i], rng, depth + 1), *xs[i:]], lambda: rng.sample(xs, len(xs)),
        lambda: xs * 2, lambda: xs[:i] + xs[i + 1:],
    ]
    try:
        sorted_xs = sorted(xs)
        choices.append(lambda: sorted_xs)
    except TypeError:
        pass
    return rng.choice(choices)()


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """A small, type-preserving change to ``value`` (recursing into containers)."""
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([value + 1, value - 1, -value, 0, value * 2, value // 2, value + rng.randint(-10, 10)])
    if isinstance(value, float):
        return rng.choice([value + 1, value - 0.5, -value, value * 2, 0.0, float(round(value))])
    if isinstance(value, str):
        return _mutate_str(value, rng)
    if isinstance(value, list):
        return _mutate_seq(value, rng, depth)
    if isinstance(value, tuple):
        if not value:
            return value
        i = rng.randrange(len(value))
        return (*value[:i], mutate(value[i], rng, depth + 1), *value[i + 1:])
    if isinstance(value, dict):
        if not value:
            return {0: 0} if rng.random() < 0.5 else value
        keys = list(value)
        k = rng.choice(keys)
        choices: list[Callable[[], dict[Any, Any]]] = [
            lambda: {}, lambda: {kk: vv for kk, vv in value.items() if kk != k},
            lambda: {**value, k: mutate(value[k], rng, depth + 1)},
        ]
        new_key = mutate(k, rng, depth + 1)
        if _is_hashable(new_key):
            choices.append(lambda: {**value, new_key: value[k]})
        return rng.choice(choices)()
    if isinstance(value, set | frozenset):
        items = list(value)
        changed = _mutate_seq(items, rng, depth)
        try:
            return type(value)(changed)
        except TypeError:
            return value
    return value


def _tie(args: list[Any], rng: random.Random) -> list[Any] | None:
    """``args`` with one argument set equal to another of the same type (equal sides, equal strings...)."""
    pairs = [(i, j) for i in range(len(args)) for j in range(len(args))
             if i != j and type(args[i]) is type(args[j]) and args[i] != args[j]]
    if not pairs:
        return None
    i, j = rng.choice(pairs)
    tied = list(args)
    tied[i] = args[j]
    return tied


def mutated_calls(known: Sequence[Call], per_call: int, seed: int) -> list[Call]:
    """``per_call`` mutants of each known call: one or two arguments changed a little, or (the
    first mutant, when two arguments share a type) one argument made equal to another."""
    rng = random.Random(seed)
    calls = []
    for call in known:
        names = [("arg", i) for i in range(len(call.args))] + [("kw", i) for i in range(len(call.kwargs))]
        if not names:
            continue
        tied = _tie(list(call.args), rng) if per_call > 0 else None
        if tied is not None:
            calls.append(Call(tuple(tied), call.kwargs))
        for _ in range(per_call - (tied is not None)):
            args, kwargs = list(call.args), [list(kv) for kv in call.kwargs]
            for where, i in rng.sample(names, min(len(names), rng.choice([1, 1, 2]))):
                if where == "arg":
                    args[i] = mutate(args[i], rng)
                else:
                    kwargs[i][1] = mutate(kwargs[i][1], rng)
            calls.append(Call(tuple(args), tuple((k, v) for k, v in kwargs)))
    return calls


# --- the uniform baseline ------------------------------------------------------------------


def _uniform(shape: Shape | None, rng: random.Random, depth: int = 0) -> Any:
    if shape is None or not shape.kinds or depth > MAX_DEPTH:
        return rng.randint(-10, 10)
    kind = rng.choice(sorted(shape.kinds))
    size = max(6, 2 * shape.max_length + 2)
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        _, _, scale = _int_bounds(shape)
        return rng.randint(-scale, scale)
    if kind == "float":
        span = max(10.0, 2 * max((abs(f) for f in shape.floats), default=10.0))
        return rng.uniform(-span, span)
    if kind == "str":
        alphabet = _wide_alphabet(shape)
        length = rng.randint(0, max(8, 2 * max(shape.str_lengths, default=0) + 2))
        return "".join(rng.choice(alphabet) for _ in range(length))
    if kind == "bytes":
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, size)))
    if kind == "complex":
        return complex(rng.uniform(-100, 100), rng.uniform(-100, 100))
    if kind == "tuple" and shape.items is not None and len(shape.tuple_lengths) == 1:
        return tuple(_uniform(s, rng, depth + 1) for s in shape.items)
    if kind in ("list", "tuple", "set", "frozenset"):
        xs = [_uniform(shape.element, rng, depth + 1) for _ in range(rng.randint(0, size))]
        if kind in ("set", "frozenset"):
            return (set if kind == "set" else frozenset)(x for x in xs if _is_hashable(x))
        return xs if kind == "list" else tuple(xs)
    if kind == "dict":
        pairs = [(_uniform(shape.key, rng, depth + 1), _uniform(shape.value, rng, depth + 1))
                 for _ in range(rng.randint(0, size))]
        return {k: v for k, v in pairs if _is_hashable(k)}
    return None


def uniform_calls(known: Sequence[Call], count: int, seed: int) -> list[Call]:
    """The baseline: ``count`` calls with every value drawn uniformly from the inferred shapes."""
    signatures = infer_signatures(known)
    if not signatures:
        return []
    rng = random.Random(seed)
    weights = [s.count for s in signatures]
    calls = []
    for _ in range(count):
        sig = rng.choices(signatures, weights)[0]
        keywords = sorted(sig.keywords)
        calls.append(Call(tuple(_uniform(s, rng) for s in sig.positional),
                          tuple((k, _uniform(sig.keywords[k], rng)) for k in keywords)))
    return calls


def unique(calls: Iterable[Call]) -> list[Call]:
    """``calls`` without repeats (equal data), first occurrence kept."""
    seen: set[str] = set()
    out = []
    for call in calls:
        key = call.key
        if key not in seen:
            seen.add(key)
            out.append(call)
    return out
