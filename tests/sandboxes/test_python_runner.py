"""Calling functions from hidden source inside sandboxes: values, exceptions, timeouts."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from steadyhand.sandboxes import Sandbox
from steadyhand.sandboxes.python_runner import ArgumentError, ReprValue, call_function, to_literal

SOURCE = '''
class Point:
    def __init__(self, x): self.x = x
    def __repr__(self): return f"Point({self.x})"

def sort_pairs(xs, reverse=False):
    print("sorting", len(xs))
    return sorted(xs, reverse=reverse), {1: (2, 3)}, {b"k"}, None, 1.5, -0j

def divide(a, b):
    return a / b

def point(x):
    return Point(x)

def special(x):
    return x

def spin():
    while True:
        pass

def die():
    import os
    os._exit(3)

class Custom(Exception):
    pass

def custom():
    raise Custom("hidden detail")
'''


@pytest.fixture
def box(factory: Callable[..., Sandbox]) -> Sandbox:
    return factory()


def test_values_come_back_equal(box: Sandbox) -> None:
    out = call_function(box, SOURCE, "sort_pairs", [[3, 1, 2]], {"reverse": True})
    assert out.ok and out.value == ([3, 2, 1], {1: (2, 3)}, {b"k"}, None, 1.5, -0j)
    assert out.stdout == "sorting 3\n"


def test_exceptions_come_back_as_type_and_message_without_traceback(box: Sandbox) -> None:
    out = call_function(box, SOURCE, "divide", [1, 0])
    assert (out.ok, out.raised, out.error_type, out.error_message) == (False, True, "ZeroDivisionError",
                                                                       "division by zero")
    assert out.traceback is None
    custom = call_function(box, SOURCE, "custom")
    assert custom.error_type == "__main__.Custom" and custom.error_message == "hidden detail"
    shown = call_function(box, SOURCE, "divide", [1, 0], show_traceback=True)
    assert shown.traceback is not None and 'File "<hidden>"' in shown.traceback


def test_non_literals_come_back_as_repr(box: Sandbox) -> None:
    out = call_function(box, SOURCE, "point", [4])
    assert out.ok and out.value == ReprValue("Point(4)") and repr(out.value) == "Point(4)"


def test_special_floats_cross_both_ways(box: Sandbox) -> None:
    assert call_function(box, SOURCE, "special", [float("inf")]).value == math.inf
    assert math.isnan(call_function(box, SOURCE, "special", [float("nan")]).value)


def test_timeout_and_crash_are_outcomes(box: Sandbox) -> None:
    spun = call_function(box, SOURCE, "spin", timeout=0.5)
    assert spun.timed_out and not spun.raised and box.live_processes() == 0
    died = call_function(box, SOURCE, "die")
    assert died.error_type == "SandboxCrash" and "exit status 3" in (died.error_message or "")


def test_bad_source_and_names_are_reported(box: Sandbox) -> None:
    assert call_function(box, "def f(:\n", "f").error_type == "SyntaxError"
    missing = call_function(box, SOURCE, "nope")
    assert missing.error_type == "NameError" and "nope" in (missing.error_message or "")


@pytest.mark.unit
def test_arguments_must_be_literals() -> None:
    assert to_literal((1, [2.5, "x"], {b"k": None})) == "(1, [2.5, 'x'], {b'k': None})"
    with pytest.raises(ArgumentError, match="object"):
        to_literal([object()])
