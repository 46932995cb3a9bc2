"""Agent S2 end to end on real local desktops: the runner, the graph, the router, real OCR and real apps.

Scripted models play each task's S2 oracle (:mod:`steadyhand.agents.s2.scripts`), so
every episode is exact while the screenshots, grounding, desktop actions and scoring
are real. LibreOffice tasks are also marked ``slow``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from steadyhand.agents.base import EpisodeContext, StepRecord
from steadyhand.agents.s2 import S2Agent
from steadyhand.agents.s2.scripts import load_oracle, oracle_script, oracle_task_ids
from steadyhand.core.actions import Wait
from steadyhand.environments.desktop.environment import DesktopEnvironment
from steadyhand.environments.desktop.providers.local import missing_programs
from steadyhand.environments.desktop.suites import desk_mini
from steadyhand.evals import ResultStore, RunConfig, run_suite
from steadyhand.memory import KnowledgeBase
from steadyhand.models import load

pytestmark = pytest.mark.desktop

TASKS = {t.id: t for t in desk_mini.load()}
EXPERTS = {"textual": "tesseract", "structural": "auto"}
_missing = [*missing_programs(), *(p for p in ("xterm", "mousepad", "soffice", "tesseract") if shutil.which(p) is None)]


@pytest.fixture(autouse=True)
def _needs_desktop() -> None:
    if _missing:
        pytest.skip(f"local desktops need {', '.join(_missing)}")


def _params() -> list[Any]:
    return [pytest.param(task_id, id=task_id, marks=[pytest.mark.slow] if task_id.startswith("calc") else [])
            for task_id in oracle_task_ids()]


def _script(tmp_path: Path, task_id: str, *, drop_subgoal: str | None = None) -> str:
    script = oracle_script(load_oracle(task_id))
    if drop_subgoal:
        script["rules"] = [r for r in script["rules"] if f"Current subgoal: {re.escape(drop_subgoal)}" not in r["when"]]
    path = tmp_path / f"{task_id}{'-partial' if drop_subgoal else ''}.json"
    path.write_text(json.dumps(script))
    return f"scripted:{path}"


@pytest.mark.parametrize("task_id", _params())
def test_scripted_s2_solves_the_task_through_the_runner(tmp_path: Path, task_id: str) -> None:
    db = f"sqlite:///{tmp_path}/results.db"
    kb_url = f"sqlite:///{tmp_path}/knowledge.db"
    options = {"grounding": EXPERTS, "knowledge": kb_url, "embedder": "hashing"}
    result = run_suite(RunConfig(suite="desk-mini", agent="s2", model=_script(tmp_path, task_id), task_ids=[task_id],
                                 agent_options=options), store_url=db, progress=False)
    assert [(r.status, r.score) for r in result.results] == [("done", 1.0)], result.results
    store = ResultStore(db)
    try:
        (episode,) = store.episodes(result.run_id)
        steps = store.steps(episode["id"])
    finally:
        store.close()
    oracle = load_oracle(task_id)
    assert episode["outcome"] == "terminated"
    assert len(steps) == sum(len(s.calls) for s in oracle.subgoals) + 1  # every call, then DONE or FAIL
    assert [s.index for s in steps] == list(range(len(steps)))
    assert all((s.screenshot or b"").startswith(b"\x89PNG") for s in steps)  # the screen each action was chosen on
    assert steps[-1].action["kind"] == ("fail" if oracle.infeasible else "done")
    for step in steps:
        if step.action["kind"] in ("desktop.click",) or "cells" in json.dumps(step.grounding):
            assert step.grounding and step.grounding[-1]["outcome"] == "accepted"
    kb = KnowledgeBase(kb_url, embedder="hashing")
    try:
        assert kb.count("narrative") == 1
        assert kb.count("episodic") == len(oracle.subgoals)
        # Labelled by the evaluation (an infeasible task is solved by declaring it so).
        assert kb.retrieve_narrative(TASKS[task_id].instruction)[0].outcome == (
            f"{'fail' if oracle.infeasible else 'done'}; evaluated: success")
    finally:
        kb.close()


def test_the_typo_is_found_by_ocr_and_double_clicked(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/results.db"
    result = run_suite(RunConfig(suite="desk-mini", agent="s2", model=_script(tmp_path, "mousepad-fix-typo"),
                                 task_ids=["mousepad-fix-typo"], agent_options={"grounding": {"textual": "tesseract"},
                                                                                "knowledge": False}),
                       store_url=db, progress=False)
    assert result.results[0].score == 1.0
    store = ResultStore(db)
    try:
        first = store.steps(store.episodes(result.run_id)[0]["id"])[0]
    finally:
        store.close()
    assert first.action["kind"] == "desktop.click" and first.action["num_clicks"] == 2
    decision = first.grounding[0]
    assert decision["expert"] == "textual" and decision["details"]["text"] == "jumsp"
    box = decision["target"]
    assert box["left"] <= first.action["x"] <= box["left"] + box["width"]


@pytest.fixture
def desktop() -> Iterator[DesktopEnvironment]:
    env = DesktopEnvironment(provider="local")
    yield env
    env.close()


def test_an_interrupted_episode_resumes_without_repeating_actions(tmp_path: Path, desktop: DesktopEnvironment) -> None:
    task = TASKS["mousepad-append-line"]
    saver = InMemorySaver()
    recorded: list[StepRecord] = []
    agent = S2Agent(grounding={"textual": "tesseract"}, knowledge=False)

    def ctx(spec: str) -> EpisodeContext:
        return EpisodeContext(task=task, env=desktop, model=load(spec), thread_id="resume-1", checkpointer=saver,
                              record_step=recorded.append)

    first = desktop.reset(task)
    broken = agent.run(ctx(_script(tmp_path, task.id, drop_subgoal="Save the file")), first)
    assert broken.status == "error" and "no reply" in (broken.error or "")
    assert [s.action["kind"] for s in recorded] == ["desktop.hotkey", "desktop.typing"]
    current = desktop.step(Wait(seconds=0)).observation  # resuming starts from the screen as it is now
    resumed = agent.run(ctx(_script(tmp_path, task.id)), current)
    assert resumed.status == "terminated" and resumed.final_answer == "done"
    assert [s.action["kind"] for s in recorded] == ["desktop.hotkey", "desktop.typing", "desktop.hotkey", "wait",
                                                    "done"]
    assert [s.index for s in recorded] == [0, 1, 2, 3, 4]
    assert desktop.evaluate().value == 1.0
    again = agent.run(ctx(_script(tmp_path, task.id)), current)  # a finished thread is not run again
    assert again == resumed and len(recorded) == 5


def test_the_cli_runs_s2_with_a_grounding_option(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cli.db"
    cli = [sys.executable, "-m", "steadyhand.cli", "eval", "desk-mini", "--agent", "s2",
           "--model", _script(tmp_path, "terminal-count-errors"), "--task", "terminal-count-errors", "--db", db,
           "-o", "grounding={textual: tesseract}", "-o", "knowledge=false", "--quiet"]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
                          check=False)
    assert done.returncode == 0, done.stderr
    store = ResultStore(db)
    try:
        (run,) = store.list_runs()
        assert run["agent"] == "s2" and run["mean_score"] == 1.0
    finally:
        store.close()


@pytest.mark.model
@pytest.mark.slow
def test_smollm2_with_the_cpu_stand_in_expert_runs_end_to_end(tmp_path: Path) -> None:
    """One task with the bundled 135M model as manager, worker and grounding chooser; quality is not asserted."""
    pytest.importorskip("transformers")
    db = f"sqlite:///{tmp_path}/results.db"
    options = {"grounding": {"candidates": "local:smollm2?max_new_tokens=24"}, "knowledge": False,
               "max_steps": 2, "max_replans": 1, "max_plan_retries": 1, "max_format_retries": 0,
               "reflection": False, "max_new_tokens": 200}
    config = RunConfig(suite="desk-mini", agent="s2", model="local:smollm2", task_ids=["mousepad-append-line"],
                       agent_options=options)
    result = run_suite(config, store_url=db, progress=False)
    (episode_result,) = result.results
    assert episode_result.status == "done", episode_result.error  # the runner finished it; no infrastructure fault
    store = ResultStore(db)
    try:
        (episode,) = store.episodes(result.run_id)
    finally:
        store.close()
    assert episode["outcome"] in ("terminated", "truncated", "error")
    assert episode["input_tokens"] > 0 and episode["output_tokens"] > 0
    # an error outcome must be the agent's own verdict on the model's replies, never a crash
    assert not (episode["error"] or "").split(":")[0].endswith(("Error", "Exception"))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice Calc")
def test_set_cell_values_writes_on_the_named_sheet(tmp_path: Path) -> None:
    import io
    import time

    from openpyxl import Workbook

    from steadyhand.agents.s2.action_api import SetCellValuesCall
    from steadyhand.environments.desktop.providers.local import LocalProvider
    from steadyhand.tools.grounding.base import CellTarget, GroundingResult
    from steadyhand.tools.grounding.experts.structural import uno_get_cells

    book = Workbook()
    book.active.title = "Data"  # type: ignore[union-attr]
    book.create_sheet("Year's end")  # a quote in the name: the reference must escape it
    data = io.BytesIO()
    book.save(data)
    call = SetCellValuesCall(cells={"B3": 40, "C3": "=B3+2"}, sheet_name="Year's end")
    cells = CellTarget(cells=dict(call.cells), sheet=call.sheet_name)
    action = call.compile_desktop({"cells": GroundingResult(target=cells, confidence=1.0, expert="structural")})
    provider = LocalProvider()
    try:
        with provider.start(width=1280, height=720).client(timeout_s=60) as client:
            if client.execute(["/usr/bin/python3", "-c", "import uno"]).get("returncode") != 0:
                pytest.skip("python3-uno is not installed in the desktop")
            client.upload_file("/tmp/book.xlsx", data.getvalue())
            client.launch(["soffice", "--calc", "--norestore", "/tmp/book.xlsx"])
            deadline = time.monotonic() + 120
            while "book" not in client.execute("wmctrl -l", shell=True).get("output", ""):
                assert time.monotonic() < deadline, "Calc did not open the workbook"
                time.sleep(0.5)
            time.sleep(3)
            assert client.run_pyautogui(action.code)["status"] == "success"  # type: ignore[union-attr]
            time.sleep(1)
            named = uno_get_cells(client, ["B3", "C3"], app="book", sheet="Year's end")
            active = uno_get_cells(client, ["B3", "C3"], app="book", sheet="Data")
    finally:
        provider.close()
    assert named["B3"]["value"] == 40 and named["C3"]["formula"] == "=B3+2" and named["C3"]["value"] == 42
    assert active["B3"]["formula"] == "" and active["C3"]["formula"] == ""  # the active sheet is untouched
