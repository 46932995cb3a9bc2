"""Values across the sandbox boundary: tagged JSON encoding, and CodeARC's equality."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steadyhand.environments.code.driver import Opaque, decode, encode
from steadyhand.environments.code.execution import Call, CallResult
from steadyhand.environments.code.oracle import agree, same

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(),
                    st.binary(), st.complex_numbers(allow_nan=False))
hashables = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
                         max_leaves=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(hashables, inner, max_size=3)
    | st.sets(hashables, max_size=3),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(values)
def test_every_plain_value_survives_the_round_trip(value: Any) -> None:
    wire = json.loads(json.dumps(encode(value), allow_nan=False))
    back = decode(wire)
    assert same(back, value)
    assert type(back) is type(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 10**40, -(10**40), range(1, 9, 2),
                                   bytearray(b"ab"), complex(1, float("nan"))])
def test_special_values_survive(value: Any) -> None:
    back = decode(json.loads(json.dumps(encode(value), allow_nan=False)))
    assert type(back) is type(value)
    assert repr(back) == repr(value)


def test_objects_travel_as_type_and_repr() -> None:
    class Point:
        def __repr__(self) -> str:
            return "Point(1, 2)"

    back = decode(encode(Point()))
    assert isinstance(back, Opaque)
    assert back.repr == "Point(1, 2)" and back.type.endswith("<locals>.Point")
    assert back == Opaque(back.type, "Point(1, 2)") and back != Opaque(back.type, "Point(1, 3)")


def test_huge_structures_become_a_digest_that_still_compares() -> None:
    big = list(range(300_000))
    a, b = encode(big), encode(list(range(300_000)))
    assert a["$"] == "object" and a["v"].startswith("<digest ")
    assert decode(a) == decode(b)
    assert decode(a) != decode(encode([*range(299_999), -1]))


def test_malformed_wire_data_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown value tag"):
        decode({"$": "pickle", "v": "x"})
    with pytest.raises(ValueError, match="not an encoded value"):
        decode({"plain": "dict"})


def test_equality_is_python_equality_except_nan() -> None:
    assert same(1, 1.0) and same(True, 1)  # as == says
    assert not same([1], (1,)) and not same("1", 1)
    assert same(float("nan"), float("nan"))
    assert same([1.0, (float("nan"), {"k": float("nan")})], [1.0, (float("nan"), {"k": float("nan")})])
    assert not same(float("nan"), 0.0)
    assert math.isnan(float("nan"))


def test_agreement_is_about_raising_not_which_exception() -> None:
    raised_value = CallResult("error", error_type="ValueError", message="x")
    raised_type = CallResult("error", error_type="TypeError", message="y")
    crashed = CallResult("crash", error_type="Crash", message="killed")
    assert agree(raised_value, raised_type) and agree(raised_value, crashed)
    assert not agree(raised_value, CallResult("ok", value=None))
    assert agree(CallResult("ok", value=[1, 2]), CallResult("ok", value=[1, 2]))
    assert not agree(CallResult("ok", value=[1, 2]), CallResult("ok", value=[2, 1]))


def test_call_keys_identify_equal_arguments() -> None:
    assert Call((1, [2]), (("k", "v"),)).key == Call((1, [2]), (("k", "v"),)).key
    assert Call((1,)).key != Call((1.5,)).key
    assert Call(([1, 2], "a")).render("f") == "f([1, 2], 'a')"
