"""Android task specs and the android-mini suite (fast: no device)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steadyhand.core.errors import DatasetError
from steadyhand.core.task import Task
from steadyhand.environments.android.oracle import load_oracles
from steadyhand.environments.android.suites import android_mini, load_android_mini, load_android_tasks
from steadyhand.environments.android.tasks import AndroidTask
from steadyhand.evals.suites import resolve_suite


def test_the_suite_is_registered_by_entry_point_and_has_an_oracle_per_task() -> None:
    suite = resolve_suite("android-mini")
    assert suite.environment == "android" and suite.environment_options == {"provider": "simulated"}
    tasks = suite.load()
    assert len(tasks) >= 8 and len({t.id for t in tasks}) == len(tasks)
    assert set(load_oracles()) == {t.id for t in tasks}
    kinds = {c["type"] for t in tasks for c in t.evaluator["checks"]}
    assert {"setting", "file", "content", "answer", "status"} <= kinds  # every kind of check is used


def test_step_budget_scales_with_complexity() -> None:
    budgets = {t.id: AndroidTask.from_task(t).max_steps for t in load_android_mini()}
    assert budgets["wifi_off"] == 10 and budgets["time_24h"] == 15 and budgets["note_create"] == 20


def test_a_task_round_trips_through_the_core_form() -> None:
    spec = AndroidTask.from_task(load_android_mini()[0])
    assert AndroidTask.from_task(spec.to_task()) == spec


@pytest.mark.parametrize(("change", "message"), [
    ({"setup": [{"type": "settings", "namespace": "local", "key": "a", "value": "1"}]},
     "at setup.0.settings.namespace"),
    ({"setup": [{"type": "reboot"}]}, "does not match any of the expected tags"),
    ({"evaluator": {"checks": []}}, "at checks"),
    ({"evaluator": {"checks": [{"type": "file"}]}}, "at checks.0.file.path"),
    ({"evaluator": {"checks": [{"type": "status", "equals": "done"}]}}, "checks.0.status.equals"),
    ({"evaluator": {"func": "x", "checks": [{"type": "status", "equals": "complete"}]}}, "unknown evaluator keys"),
    ({"metadata": {"complexity": 0}}, "at complexity"),
])
def test_malformed_tasks_are_named(change: dict, message: str) -> None:  # type: ignore[type-arg]
    base = {"id": "t1", "instruction": "x", "environment": "android",
            "evaluator": {"checks": [{"type": "status", "equals": "complete"}]}}
    with pytest.raises(DatasetError, match="item t1") as info:
        AndroidTask.from_task(Task.model_validate({**base, **change}))
    assert message in str(info.value)


def test_a_bad_task_file_names_the_item(tmp_path: Path) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"id": "ok", "instruction": "x", "checks": [{"type": "status", "equals": "complete"}]},
                                {"id": "broken", "instruction": "x", "checks": [{"type": "setting"}]}]))
    with pytest.raises(DatasetError, match="item broken"):
        load_android_tasks(path)
    path.write_text("{")
    with pytest.raises(DatasetError, match="cannot read"):
        load_android_tasks(path)


def test_suite_object() -> None:
    assert android_mini.name == "android-mini" and android_mini.default_agent is None
