"""The S2 graph on paths that never act: planning, retries, budgets, routing, grounding and memory.

Models are scripted (exact); the screenshot is a real image and grounding runs the real
router with the real textual expert (tesseract). Paths that execute actions run on real
desktops in ``test_desktop.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from steadyhand.agents.s2 import S2Agent, Settings, build_grounder, nodes, parse_grounding, recursion_limit, route
from steadyhand.agents.s2.nodes import Runtime
from steadyhand.agents.s2.scripts import S2Oracle, load_oracle, oracle_script, oracle_task_ids
from steadyhand.core import Observation, Task, agents
from steadyhand.core.errors import ConfigurationError
from steadyhand.environments.desktop.suites import desk_mini
from steadyhand.memory.knowledge import KnowledgeBase
from steadyhand.models.scripted import Script

PLAN_A = '```json\n{"status": "continue", "subgoals": [{"name": "Press save", "info": "the Save button"}]}\n```'


def test_registered_and_options_checked() -> None:
    assert agents.get("s2") is S2Agent
    with pytest.raises(ConfigurationError, match="max_steps"):
        S2Agent(max_steps=0)
    assert S2Agent(max_steps=50).settings.max_steps == 50
    assert S2Agent(grounding_order="click=textual,visual;type=textual").grounding_order == {
        "click": ["textual", "visual"], "type": ["textual"]}


@pytest.mark.parametrize(("value", "expected"), [
    ({"textual": "tesseract"}, {"textual": "tesseract"}),
    ("{textual: tesseract, structural: auto}", {"textual": "tesseract", "structural": "auto"}),
    ("textual=tesseract?psm=11,accessibility", {"textual": "tesseract?psm=11", "accessibility": ""}),
    (None, {}),
])
def test_the_grounding_option(value: Any, expected: dict[str, str]) -> None:
    assert parse_grounding(value) == expected


def test_a_bad_grounding_option_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="expert names"):
        parse_grounding("[1, 2]")
    with pytest.raises(ConfigurationError, match="at least one grounding expert"):
        build_grounder({})
    with pytest.raises(ConfigurationError):
        build_grounder({"no-such-expert": ""})


def test_routing_is_pure_and_applies_the_step_budget() -> None:
    s = Settings(max_steps=3)
    assert route({"phase": "end"}, s) == "__end__"
    assert route({"phase": "plan", "turns": 0}, s) == "manager"
    assert route({"phase": "next", "turns": 1}, s) == "start_subgoal"
    assert route({"phase": "work", "turns": 1, "history": []}, s) == "worker"
    assert route({"phase": "work", "turns": 1, "history": [{"role": "worker", "content": "x"}]}, s) == "reflect"
    assert route({"phase": "work", "turns": 1, "history": [{"role": "worker", "content": "x"}]},
                 Settings(reflection=False)) == "worker"
    looping = {"phase": "work", "turns": 1, "history": [{"role": "worker", "content": "x"}],
               "recent": [["click('a')", "d1"], ["click('a')", "d1"]]}
    assert route(looping, Settings(reflection=False)) == "reflect"  # a loop is always flagged
    for phase in ("plan", "next", "work", "ground"):
        assert route({"phase": phase, "turns": 3}, s) == "__end__"
    assert route({"phase": "check", "turns": 3}, s) == "check_done"  # a finished task is still checked
    assert route({"phase": "finish", "turns": 3}, s) == "finish"
    assert recursion_limit(Settings(max_steps=100)) > recursion_limit(Settings(max_steps=15)) > 15 * 4


def test_loop_detection() -> None:
    assert nodes.loop_warning({"recent": [["a", "1"], ["a", "1"]]}).startswith("the last two actions")
    assert "three times" in nodes.loop_warning({"recent": [["a", "1"], ["a", "2"], ["a", "3"]]})
    assert nodes.loop_warning({"recent": [["a", "1"], ["b", "1"]]}) == ""


def test_a_malformed_plan_is_retried_and_a_silent_worker_is_bounded(
        task: Task, screen: Observation, make_ctx: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\A# Plan.*could not be used: no plan found", "reply": PLAN_A},
        {"when": r"\A# Plan", "reply": "Let me think about that."},
        {"when": r"\A# Replan.*\[failed\] Press save", "reply": PLAN_A},
        {"when": r"\A# Reflection", "reply": "Nothing happened.\nVERDICT: DRIFT"},
        {"when": r"\A# Next action", "reply": "I am not sure what to do."},
    ]})
    ctx = make_ctx(spec, task)
    agent = S2Agent(grounding="textual=tesseract", knowledge=False, max_format_retries=1, max_replans_per_step=2)
    result = agent.run(ctx, screen)
    assert result.status == "truncated" and result.steps == 0
    assert ctx.recorded == []
    calls = len(ctx.model.callbacks[0].calls)
    # 2 plan calls; 3 subgoal attempts of 2 worker turns with a reflection between; 2 replans
    assert calls == 2 + 3 * (2 + 1) + 2


def test_a_manager_that_never_plans_ends_with_an_error(
        task: Task, screen: Observation, make_ctx: Any, write_script: Any) -> None:
    ctx = make_ctx(write_script({"default": "no idea"}), task)
    result = S2Agent(grounding="textual=tesseract", knowledge=False, max_plan_retries=2).run(ctx, screen)
    assert result.status == "error" and "no usable plan in 3 replies" in (result.error or "")
    assert len(ctx.model.callbacks[0].calls) == 3


def test_a_grounding_miss_is_shown_to_the_worker(
        needs_tesseract: None, task: Task, screen: Observation, make_ctx: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\A# Plan", "reply": PLAN_A},
        {"when": r"\A# Reflection", "reply": "VERDICT: ON_TRACK"},
        {"when": r"\A# Next action.*grounding failed: could not find 'the \"Publish\" button'.*textual",
         "reply": "```python\nagent.fail()\n```"},
        {"when": r"\A# Next action", "reply": "```python\nagent.click('the \"Publish\" button')\n```"},
    ]})
    saver = InMemorySaver()
    ctx = make_ctx(spec, task, checkpointer=saver)
    result = S2Agent(grounding="textual=tesseract", knowledge=False, max_replans=0).run(ctx, screen)
    assert result.status == "truncated" and ctx.recorded == []
    state = saver.get_tuple({"configurable": {"thread_id": "t-1"}})
    assert state is not None
    finished = state.checkpoint["channel_values"]["finished"]
    assert [(f["name"], f["status"]) for f in finished] == [("Press save", "failed")]


def test_grounding_a_visible_word_compiles_a_click_on_it(
        needs_tesseract: None, task: Task, screen: Observation, make_ctx: Any, write_script: Any) -> None:
    rt = Runtime(ctx=make_ctx(write_script({"default": "-"}), task), settings=Settings(),
                 grounder=build_grounder({"textual": "tesseract"}), knowledge=None, observation=screen)
    call = {"kind": "s2.click", "element_description": 'the "Cancel" button', "num_clicks": 1, "button": "left",
            "hold_keys": []}
    update = nodes.ground({"call": call, "history": []}, rt)
    assert update["phase"] == "act"
    action = update["compiled"]
    assert action["kind"] == "desktop.click"
    assert 400 <= action["x"] <= 480 and 145 <= action["y"] <= 180  # where "Cancel" was drawn
    assert update["grounding"][0]["expert"] == "textual" and update["grounding"][0]["role"] == "target"


def test_a_call_of_another_target_is_refused_with_advice(
        task: Task, screen: Observation, make_ctx: Any, write_script: Any) -> None:
    rt = Runtime(ctx=make_ctx(write_script({"default": "-"}), task), settings=Settings(),
                 grounder=build_grounder({"accessibility": ""}), knowledge=None, observation=screen)
    assert rt.target == "desktop"
    update = nodes.ground({"call": {"kind": "s2.navigate_back"}, "history": []}, rt)
    assert update["phase"] == "work" and update["compiled"] is None
    assert update["feedback"] == ("not executed: navigate_back() is not available on desktop. "
                                  "Use one of the actions listed for you.")


def test_retrieved_experience_reaches_the_manager_and_the_worker(
        tmp_path: Path, task: Task, screen: Observation, make_ctx: Any, write_script: Any) -> None:
    kb = KnowledgeBase(f"sqlite:///{tmp_path}/kb.db", embedder="hashing", threshold=0.3)
    kb.add_narrative("Save the note in the editor.", "1. [done] Press save: hotkey(keys=['ctrl', 's'])",
                     outcome="done", source="earlier")
    kb.add_episodic("Press save. the Save button", "hotkey(keys=['ctrl', 's'])", outcome="done", source="earlier")
    kb.add_narrative("Sort the names in the terminal.", "unrelated", outcome="done", source="earlier")
    spec = write_script({"rules": [
        {"when": r"\A# Plan.*Experience from a similar past task:\n- Save the note.*ctrl", "reply": PLAN_A},
        {"when": r"\A# Plan", "reply": "no experience, no plan"},
    ]})
    rt = Runtime(ctx=make_ctx(spec, task, thread_id="now"), settings=Settings(),
                 grounder=build_grounder({"textual": "tesseract"}), knowledge=kb, observation=screen)
    state: dict[str, Any] = nodes.recall({}, rt)
    assert "Sort the names" not in state["narrative"]
    state.update(nodes.manager(state, rt))  # type: ignore[arg-type]
    assert state["phase"] == "next" and state["plan"][0]["name"] == "Press save"
    started = nodes.start_subgoal(state, rt)  # type: ignore[arg-type]
    assert "ctrl" in started["episodic"] and started["plan"] == [] and started["current"]["name"] == "Press save"
    # the running episode's own experience is never retrieved
    assert kb.retrieve_narrative("Save the note in the editor.", exclude_source="earlier") == []


def test_built_in_oracles_cover_desk_mini_tasks() -> None:
    ids = {t.id for t in desk_mini.load()}
    assert len(oracle_task_ids()) >= 5
    for task_id in oracle_task_ids():
        assert task_id in ids
        oracle = load_oracle(task_id)
        Script.model_validate(oracle_script(oracle))


def test_an_oracle_with_a_bad_call_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not in the action API|no action found"):
        S2Oracle.model_validate({"subgoals": [{"name": "x", "calls": ["agent.teleport()"]}]})
    with pytest.raises(ValueError, match="not both or neither"):
        S2Oracle.model_validate({"subgoals": []})


def test_a_disputed_done_never_ends_the_episode_with_done(
        task: Task, screen: Observation, make_ctx: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\A# Check completion", "reply": "NO: the note was not saved"},
        {"when": r"\A# (Re)?[Pp]lan", "reply": '{"status": "done", "reason": "looks saved"}'},
    ]})
    saver = InMemorySaver()
    ctx = make_ctx(spec, task, checkpointer=saver)
    result = S2Agent(grounding="textual=tesseract", knowledge=False, max_done_checks=2).run(ctx, screen)
    assert result.status == "truncated" and "rejected DONE 2 times" in (result.error or "")
    assert ctx.recorded == []
    snapshot = saver.get_tuple({"configurable": {"thread_id": "t-1"}})
    assert snapshot is not None
    values = snapshot.checkpoint["channel_values"]
    assert values["done_checks"] == 2 and values["critique"] == "the note was not saved"
    assert values["replans"] == 1  # the rejected DONE was replanned once, then checked again


def test_every_worker_turn_counts_against_the_step_budget(
        task: Task, screen: Observation, make_ctx: Any, write_script: Any) -> None:
    spec = write_script({"rules": [
        {"when": r"\A# Plan", "reply": PLAN_A},
        {"when": r"\A# Reflection", "reply": "VERDICT: ON_TRACK"},
        {"when": r"\A# Next action", "reply": "```python\nagent.save_to_knowledge(['the button says Save'])\n```"},
    ]})
    saver = InMemorySaver()
    ctx = make_ctx(spec, task, checkpointer=saver)
    result = S2Agent(grounding="textual=tesseract", knowledge=False, max_steps=3).run(ctx, screen)
    assert result.status == "truncated" and result.steps == 0
    assert len(ctx.model.callbacks[0].calls) == 1 + 3 + 2  # the plan, three turns, two reflections between
    snapshot = saver.get_tuple({"configurable": {"thread_id": "t-1"}})
    assert snapshot is not None
    assert snapshot.checkpoint["channel_values"]["notes"] == ["the button says Save"] * 3


def test_experience_is_labelled_by_the_evaluation_when_there_is_one(tmp_path: Path) -> None:
    from steadyhand.agents.base import AgentOutcome
    from steadyhand.agents.s2.agent import remember
    from steadyhand.core import Score

    kb = KnowledgeBase(f"sqlite:///{tmp_path}/kb.db", embedder="hashing", threshold=0.0)
    values = {"task": "Save the note in the editor.", "final": "done",
              "finished": [{"name": "Save", "info": "", "status": "done", "actions": ["hotkey(keys=['ctrl', 's'])"]}]}
    said_done = AgentOutcome(status="terminated", steps=1)
    remember(kb, values, said_done, source="run/a/1", score=Score(value=0.0))
    remember(kb, {**values, "task": "Sort the names in the terminal."}, said_done, source="run/b/1")
    try:
        [wrong] = kb.retrieve_narrative("Save the note in the editor.", top_k=1)
        assert wrong.outcome == "done; evaluated: failure (score 0.00)" and wrong.content.endswith(wrong.outcome)
        [unscored] = kb.retrieve_narrative("Sort the names in the terminal.", top_k=1)
        assert unscored.outcome == "done"  # no evaluation: the agent's own verdict
    finally:
        kb.close()
