"""android-mini through the runner (``steadyhand eval``'s Python API) on the simulated device.

Two agents: the oracle replayer (registered for these tests only), and Agent S2 with a
deterministic scripted model and real OCR grounding (tesseract) on the simulated
device's screenshots. The simulated device stands in for an emulator (none can run here).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from steadyhand.core.registry import agents
from steadyhand.environments.android.oracle import OracleAgent
from steadyhand.evals.runner import RunConfig, run_suite
from steadyhand.evals.store import ResultStore

S2_ORACLES = Path(__file__).with_name("s2_oracles")


@pytest.fixture
def oracle_agent() -> Iterator[str]:
    name = "android-oracle-test"
    agents.register(name, OracleAgent, replace=True)
    try:
        yield name
    finally:
        agents._items.pop(name, None)


def _steps(store_url: str, run_id: str) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    store = ResultStore(store_url)
    try:
        return {ep["task_id"]: [s.action for s in store.steps(ep["id"])] for ep in store.episodes(run_id)}
    finally:
        store.close()


def test_the_runner_scores_oracle_runs(tmp_path: Path, oracle_agent: str) -> None:
    script = tmp_path / "model.json"
    script.write_text(json.dumps({"default": "unused"}))
    result = run_suite(RunConfig(suite="android-mini", agent=oracle_agent, model=f"scripted:{script}",
                                 task_ids=["dark_theme_on", "note_delete", "infeasible_5g"]),
                       store_url=f"sqlite:///{tmp_path}/runs.db", progress=False)
    assert {(r.task_id, r.status, r.score) for r in result.results} == {
        ("dark_theme_on", "done", 1.0), ("note_delete", "done", 1.0), ("infeasible_5g", "done", 1.0)}
    steps = _steps(result.store_url, result.run_id)
    assert steps["infeasible_5g"][-1] == {"kind": "android.status", "goal_status": "infeasible"}


def test_s2_solves_an_android_mini_task_with_a_scripted_model(tmp_path: Path) -> None:
    pytest.importorskip("steadyhand.agents.s2")
    if shutil.which("tesseract") is None:
        pytest.skip("the textual grounding expert needs tesseract (Debian's tesseract-ocr)")
    from steadyhand.agents.s2.scripts import write_oracle_script

    spec = write_oracle_script("bluetooth_on", tmp_path / "s2.json", directory=S2_ORACLES)
    result = run_suite(RunConfig(suite="android-mini", agent="s2", model=spec, task_ids=["bluetooth_on"],
                                 agent_options={"grounding": {"textual": "tesseract"}, "knowledge": False}),
                       store_url=f"sqlite:///{tmp_path}/runs.db", progress=False)
    (episode,) = result.results
    assert (episode.status, episode.score) == ("done", 1.0), episode.error
    actions = _steps(result.store_url, result.run_id)["bluetooth_on"]
    # three grounded taps (launcher icon, list entry, switch row), then S2's Done as status complete
    assert [a["kind"] for a in actions] == ["android.click"] * 3 + ["done"]


def test_s2_writes_a_note_on_android_with_the_android_ui_expert(tmp_path: Path) -> None:
    """A task that needs typing: S2's type calls become input_text at the fields android_ui found."""
    pytest.importorskip("steadyhand.agents.s2")
    from steadyhand.agents.s2.scripts import write_oracle_script

    spec = write_oracle_script("note_create", tmp_path / "s2.json", directory=S2_ORACLES)
    result = run_suite(RunConfig(suite="android-mini", agent="s2", model=spec, task_ids=["note_create"],
                                 agent_options={"grounding": {"android_ui": ""}, "knowledge": False}),
                       store_url=f"sqlite:///{tmp_path}/runs.db", progress=False)
    (episode,) = result.results
    assert (episode.status, episode.score) == ("done", 1.0), episode.error
    store = ResultStore(result.store_url)
    try:
        (ep,) = store.episodes(result.run_id)
        steps = store.steps(ep["id"])
    finally:
        store.close()
    assert [s.action["kind"] for s in steps] == [
        "android.open_app", "android.click", "android.input_text", "android.input_text", "android.click", "done"]
    assert [(s.action["text"], s.action["y"]) for s in steps if s.action["kind"] == "android.input_text"] == [
        ("groceries", 390), ("milk, eggs, bread", 1350)]  # the title and body fields' centres
    accepted = [d["expert"] for s in steps for d in s.grounding if d.get("outcome") == "accepted"]
    assert accepted == ["android_ui"] * 4
