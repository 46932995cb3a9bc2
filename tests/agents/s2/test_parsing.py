"""Reading manager plans, completion verdicts and reflections: validated, never raising."""

from __future__ import annotations

import pytest

from steadyhand.agents.s2.parsing import parse_plan, parse_reflection, parse_verdict


def test_a_json_plan_is_validated() -> None:
    reply = parse_plan('Here:\n```json\n{"status": "continue", "subgoals": [{"name": " Open it ", "info": "x"}]}\n```')
    assert reply.plan is not None and reply.problem == ""
    assert [(s.name, s.info) for s in reply.plan.subgoals] == [("Open it", "x")]


def test_a_bare_object_and_a_capitalised_status_are_accepted() -> None:
    reply = parse_plan('{"status": "Done", "reason": "all saved"}')
    assert reply.plan is not None and reply.plan.status == "done" and reply.plan.reason == "all saved"


@pytest.mark.parametrize(("text", "problem"), [
    ('{"status": "continue", "subgoals": []}', "at least one subgoal"),
    ('{"status": "maybe", "subgoals": [{"name": "a"}]}', "status"),
    ('{"subgoals": [{"info": "no name"}]}', "name"),
    ('```json\n{"subgoals": [{"info": "a"},]}\n```', "does not parse"),
    ("I would open the file and then save it.", "no plan found"),
])
def test_malformed_plans_come_back_as_problems(text: str, problem: str) -> None:
    reply = parse_plan(text)
    assert reply.plan is None
    assert problem in reply.problem


def test_a_plan_cut_off_mid_way_keeps_its_complete_subgoals() -> None:
    cut = '```json\n{"status": "continue", "subgoals": [{"name": "Open \\"it\\"", "info": "a\\q"}, {"name": "Sa'
    reply = parse_plan(cut)
    assert reply.plan is not None
    assert [(s.name, s.info) for s in reply.plan.subgoals] == [('Open "it"', "a\\q")]
    assert parse_plan('{"status": "done", "subgoals": [{"name": "x"}], "reason": "cut').plan is None


def test_small_model_fallbacks() -> None:
    listed = parse_plan("1. Open the file\n2) Type the line\n- Save")
    assert listed.plan is not None
    assert [s.name for s in listed.plan.subgoals] == ["Open the file", "Type the line", "Save"]
    assert parse_plan("INFEASIBLE.").plan.status == "infeasible"  # type: ignore[union-attr]


def test_verdicts_and_reflections() -> None:
    assert parse_verdict("YES, it is saved.") == ("yes", "it is saved")
    assert parse_verdict("NO: the file was not saved")[0] == "no"
    assert parse_verdict("I am not sure")[0] == "unclear"
    assert parse_reflection("Clicked twice, nothing changed.\nVERDICT: LOOP")[0] == "loop"
    assert parse_reflection("fine\nverdict: on_track")[0] == "on_track"
    assert parse_reflection("no verdict here")[0] == ""
