"""The OSWorld task loader on the shared sample files and on OSWorld's folder layouts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from steadyhand.core import DatasetError
from steadyhand.environments.desktop.osworld import find_task_files, load_task_file, load_tasks

# shared/ lies beside the checkout (the work tree and CI's clone alike)
SAMPLE = Path(__file__).resolve().parents[4] / "shared" / "data" / "osworld-sample"
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"the OSWorld sample files are not at {SAMPLE}")


def _task(task_id: str = "t1", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": task_id, "snapshot": "os", "instruction": "Do it.", "source": "unit", "trajectory": "trajectories/",
        "config": [{"type": "execute", "parameters": {"command": ["true"]}}], "related_apps": ["os"],
        "evaluator": {"func": "exact_match", "result": {"type": "vm_command_line", "command": "echo hi"},
                      "expected": {"type": "rule", "rules": {"expected": "hi\n"}}},
        "proxy": False, "fixed_ip": False, "possibility_of_env_change": "low"}
    data.update(changes)
    return data


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


@needs_sample
def test_every_sample_file_loads_with_its_metadata() -> None:
    tasks = load_tasks(SAMPLE)
    assert len(tasks) == len(list(SAMPLE.glob("*.json"))) == 5
    by_id = {t.id: t for t in tasks}
    volume = by_id["28cc3b7e-b194-4bc9-8353-d04c0f4d56d2"]
    assert volume.environment == "desktop"
    assert volume.setup[0]["type"] == "execute"
    assert volume.evaluator["func"] == "exact_match"
    assert volume.metadata["snapshot"] == "os"
    assert volume.metadata["related_apps"] == ["os"]
    assert volume.metadata["proxy"] is False and volume.metadata["fixed_ip"] is False
    assert volume.metadata["possibility_of_env_change"] == "low"
    assert volume.metadata["domain"] == "os"  # a flat folder: the snapshot stands for the domain
    assert volume.metadata["path"].endswith("28cc3b7e-b194-4bc9-8353-d04c0f4d56d2.json")
    assert by_id["b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa"].evaluator == {"func": "infeasible"}
    assert by_id["bedcedc4-4d72-425e-ad62-21960b11fe0d"].evaluator["conj"] == "or"


def test_evaluation_examples_tree_follows_its_index(tmp_path: Path) -> None:
    root = tmp_path / "evaluation_examples"
    for domain, ids in {"os": ["a", "b"], "libreoffice_calc": ["c"]}.items():
        for task_id in ids:
            _write(root / "examples" / domain / f"{task_id}.json", _task(task_id))
    _write(root / "examples" / "os" / "unlisted.json", _task("unlisted"))
    _write(root / "settings" / "google" / "settings.json", {"not": "a task"})
    _write(root / "test_all.json", {"libreoffice_calc": ["c"], "os": ["b", "a"]})
    tasks = load_tasks(root)
    assert [(t.id, t.metadata["domain"]) for t in tasks] == [("c", "libreoffice_calc"), ("b", "os"), ("a", "os")]
    _write(root / "test_small.json", {"os": ["unlisted"]})
    assert [t.id for t in load_tasks(root, index="test_small.json")] == ["unlisted"]
    assert [t.id for t in load_tasks(root / "test_small.json")] == ["unlisted"]


def test_tree_without_index_takes_every_domain_folder(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    _write(examples / "os" / "a.json", _task("a"))
    _write(examples / "vlc" / "b.json", _task("b"))
    assert [(p.name, d) for p, d in find_task_files(tmp_path)] == [("a.json", "os"), ("b.json", "vlc")]
    assert [t.metadata["domain"] for t in load_tasks(examples)] == ["os", "vlc"]


def test_index_naming_a_missing_file_is_a_dataset_error(tmp_path: Path) -> None:
    _write(tmp_path / "examples" / "os" / "a.json", _task("a"))
    _write(tmp_path / "test_all.json", {"os": ["a", "ghost"]})
    with pytest.raises(DatasetError, match=r"test_all.json, item os/ghost: listed in the index"):
        load_tasks(tmp_path)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"id": ""}, "id", "non-empty string"),
    ({"instruction": 3}, "instruction", "non-empty string"),
    ({"config": {"type": "execute"}}, "config", "list of steps"),
    ({"config": [{"parameters": {}}]}, "config[0].type", "missing"),
    ({"config": [{"type": "open", "parameters": "x"}]}, "config[0].parameters", "object"),
    ({"evaluator": {"result": {"type": "rule"}}}, "evaluator.func", "metric name"),
    ({"evaluator": {"func": "exact_match"}}, "evaluator.result", "needs a result getter"),
    ({"evaluator": {"func": ["exact_match", "exact_match"], "result": [{"type": "rule", "rules": 1}]}},
     "evaluator.result", "list of 2 items"),
    ({"evaluator": {"func": "exact_match", "result": {"command": "x"}}}, "evaluator.result.type", "missing"),
    ({"evaluator": {"func": "exact_match", "result": {"type": "rule"}, "conj": "xor"}}, "evaluator.conj", "'and'"),
    ({"evaluator": {"func": "infeasible", "postconfig": [{"type": 1}]}}, "evaluator.postconfig[0].type", "missing"),
    ({"related_apps": "os"}, "related_apps", "list of app names"),
])
def test_malformed_task_names_file_item_and_field(tmp_path: Path, change: dict[str, Any], field: str,
                                                  message: str) -> None:
    path = _write(tmp_path / "bad.json", _task("bad-task", **change))
    with pytest.raises(DatasetError) as info:
        load_task_file(path)
    assert info.value.path == str(path)
    assert info.value.item == ("bad" if field == "id" else "bad-task")
    assert info.value.field == field
    assert message in str(info.value)


def test_unreadable_files_are_dataset_errors(tmp_path: Path) -> None:
    broken = _write(tmp_path / "broken.json", '{"id": "x", ')
    with pytest.raises(DatasetError, match=r"broken.json: not valid JSON"):
        load_task_file(broken)
    not_object = _write(tmp_path / "list.json", [1, 2])
    with pytest.raises(DatasetError, match="one JSON object"):
        load_task_file(not_object)
    with pytest.raises(DatasetError, match="no such file"):
        load_tasks(tmp_path / "nowhere")


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "one.json", _task("same"))
    _write(tmp_path / "two.json", _task("same"))
    with pytest.raises(DatasetError, match=r"two.json, item same, field 'id': duplicate task id"):
        load_tasks(tmp_path)


def test_unknown_keys_are_kept_and_single_files_load(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.json", _task("x", extra_key={"a": 1}))
    task = load_task_file(path, domain="chrome")
    assert task.metadata["extra"] == {"extra_key": {"a": 1}}
    assert task.metadata["domain"] == "chrome"
    shutil.copy(path, tmp_path / "copy.json")
    assert [t.id for t in load_tasks(path)] == ["x"]
