"""The router: order per action kind, fallback, thresholds, recorded decisions, construction from specs.

Real experts do the grounding (the accessibility expert on a tree; a broken plugin
class stands for a third-party expert with a bug).
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.observation import Observation
from steadyhand.core.registry import grounding
from steadyhand.tools.grounding import (
    DEFAULT_ORDER,
    POINT_ACTIONS,
    GroundingError,
    GroundingRequest,
    GroundingResult,
    Router,
    build_expert,
    parse_order,
    parse_specs,
)
from steadyhand.tools.grounding.experts import AccessibilityExpert, StructuralExpert

from .trees import EDITOR

TREE = Observation(accessibility_tree=EDITOR)
SAVE = GroundingRequest(action="click", description='the "Save" button')
DECISION_KEYS = {"expert", "outcome", "confidence", "target", "latency_s", "error", "details"}


class BrokenExpert:
    """A plugin with a bug: it raises something other than GroundingError."""

    name = "broken"
    serves: ClassVar[frozenset[str]] = POINT_ACTIONS

    def ground(self, request: GroundingRequest, observation: Observation) -> GroundingResult:
        return {}["missing"]  # type: ignore[no-any-return]


def test_fallback_past_a_failure_and_a_crash_records_every_decision() -> None:
    router = Router({"structural": StructuralExpert(), "broken": BrokenExpert(),
                     "picky": AccessibilityExpert("?min_score=1.01"), "accessibility": AccessibilityExpert()},
                    order={"click": ["broken", "picky", "accessibility"]})
    routed = router.ground(SAVE, TREE)
    assert routed.ok and routed.require().target.model_dump()["left"] == 100
    assert [d["expert"] for d in routed.decisions] == ["broken", "picky", "accessibility"]
    assert [d["outcome"] for d in routed.decisions] == ["error", "failed", "accepted"]
    assert all(set(d) == DECISION_KEYS for d in routed.decisions)
    assert "KeyError" in routed.decisions[0]["error"]
    assert "no element matches" in routed.decisions[1]["error"]
    assert routed.decisions[2]["target"] == {"kind": "box", "left": 100, "top": 50, "width": 60, "height": 30}


def test_low_confidence_falls_through_and_the_best_is_used_last() -> None:
    router = Router({"accessibility": AccessibilityExpert()}, threshold=0.99)
    partial = GroundingRequest(action="click", description="Save lines button")  # matches only part of it
    routed = router.ground(partial, TREE)
    [decision] = routed.decisions
    assert decision["outcome"] == "best_below_threshold" and decision["confidence"] < 0.99
    assert routed.ok
    strict = Router({"accessibility": AccessibilityExpert()}, threshold=0.99, accept_best=False)
    missed = strict.ground(partial, TREE)
    assert not missed.ok and missed.decisions[0]["outcome"] == "low_confidence"
    with pytest.raises(GroundingError, match="no expert could ground"):
        missed.require()


def test_per_expert_thresholds() -> None:
    router = Router({"a": AccessibilityExpert(), "b": AccessibilityExpert()}, order={"click": ["a", "b"]},
                    threshold=0.5, thresholds={"a": 1.5})
    routed = router.ground(SAVE, TREE)
    assert [d["outcome"] for d in routed.decisions] == ["low_confidence", "accepted"]
    assert routed.result is not None and routed.result.expert == "accessibility"


def test_plan_uses_order_then_defaults_and_skips_experts_that_do_not_serve_the_kind() -> None:
    router = Router({"structural": StructuralExpert(), "accessibility": AccessibilityExpert()})
    assert router.plan("click") == ["accessibility"]
    assert router.plan("set_cell_values") == ["structural"]
    assert router.plan("highlight_text_span") == []
    empty = router.ground(GroundingRequest(action="highlight_text_span", text_span=("a", "b")), TREE)
    assert not empty.ok and empty.decisions == []
    with pytest.raises(GroundingError, match="no expert serves"):
        empty.require()
    assert DEFAULT_ORDER["set_cell_values"] == ["structural"]


def test_order_is_validated_and_parsed_from_cli_text() -> None:
    assert parse_order("click=accessibility,textual; type=textual") == {
        "click": ["accessibility", "textual"], "type": ["textual"]}
    with pytest.raises(ConfigurationError, match="ACTION=EXPERT"):
        parse_order("click")
    with pytest.raises(ConfigurationError, match="unconfigured"):
        Router({"accessibility": AccessibilityExpert()}, order={"click": ["visual"]})


def test_from_specs_builds_registered_experts_and_rejects_bad_ones() -> None:
    router = Router.from_specs({"accessibility": "?min_score=0.7", "structural": "openpyxl"},
                               order={"click": ["accessibility"]}, threshold=0.6)
    assert router.describe()["experts"] == {"accessibility": "?min_score=0.7", "structural": "openpyxl"}
    assert router.ground(SAVE, TREE).ok
    with pytest.raises(ConfigurationError, match="unknown grounding expert 'nope'"):
        Router.from_specs({"nope": ""})
    with pytest.raises(ConfigurationError, match="unknown option"):
        build_expert("accessibility", "?colour=red")
    grounding.register("not-an-expert", lambda: object(), replace=True)
    with pytest.raises(ConfigurationError, match="lacks"):
        build_expert("not-an-expert")


def test_cli_grounding_values_parse_into_specs() -> None:
    specs = parse_specs(["textual=tesseract?psm=11", "visual=openai:m@http://h:8000/v1?space=0-1000", "accessibility="])
    assert specs == {"textual": "tesseract?psm=11", "visual": "openai:m@http://h:8000/v1?space=0-1000",
                     "accessibility": ""}
    with pytest.raises(ConfigurationError, match="NAME=SPEC"):
        parse_specs(["tesseract"])
