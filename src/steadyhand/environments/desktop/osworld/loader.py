"""Parse OSWorld task files into :class:`~steadyhand.core.Task` objects.

Layouts understood by :func:`load_tasks`:

* an OSWorld ``evaluation_examples`` folder: ``examples/<domain>/<id>.json``, with an
  index such as ``test_all.json`` (``{domain: [id, ...]}``) deciding which tasks and in
  which order when one is present or named;
* an ``examples`` folder itself (``<domain>/<id>.json``);
* a flat folder of task files (the domain is then the task's ``snapshot``);
* a single task file.

Every task becomes ``Task(environment="desktop", setup=<config steps>,
evaluator=<evaluator dict>, metadata={snapshot, source, related_apps, proxy, fixed_ip,
possibility_of_env_change, trajectory, domain, path})``. A malformed file raises
:class:`~steadyhand.core.errors.DatasetError` naming the file, the task and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from steadyhand.core.errors import DatasetError
from steadyhand.core.task import Task

#: Keys of an OSWorld task file; others are kept under ``metadata["extra"]``.
TASK_KEYS = ("id", "snapshot", "instruction", "source", "config", "trajectory", "related_apps", "evaluator",
             "proxy", "fixed_ip", "possibility_of_env_change")
_METADATA_KEYS = ("snapshot", "source", "related_apps", "proxy", "fixed_ip", "possibility_of_env_change",
                  "trajectory")
DEFAULT_INDEX = "test_all.json"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DatasetError(f"not UTF-8 text: {exc}", path=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"not valid JSON: {exc}", path=str(path)) from exc


def _is_index(data: Any) -> bool:
    return (isinstance(data, dict) and bool(data) and "instruction" not in data
            and all(isinstance(v, list) and all(isinstance(i, str) for i in v) for v in data.values()))


def _check_steps(steps: Any, where: str, err: _Errors) -> None:
    if not isinstance(steps, list):
        raise err(f"must be a list of steps, got {type(steps).__name__}", where)
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise err(f"a step must be an object with 'type' and 'parameters', got {step!r}", f"{where}[{i}]")
        if not isinstance(step.get("type"), str) or not step["type"]:
            raise err("missing or not a string", f"{where}[{i}].type")
        if not isinstance(step.get("parameters", {}), dict):
            raise err("must be an object", f"{where}[{i}].parameters")


def _check_getter(getter: Any, where: str, err: _Errors, *, optional: bool) -> None:
    if getter is None and optional:
        return
    if not isinstance(getter, dict):
        raise err(f"a getter must be an object with a 'type', got {getter!r}", where)
    if not isinstance(getter.get("type"), str) or not getter["type"]:
        raise err("missing or not a string", f"{where}.type")


def _check_evaluator(evaluator: Any, err: _Errors) -> None:
    if not isinstance(evaluator, dict):
        raise err("must be an object with at least 'func'", "evaluator")
    func = evaluator.get("func")
    if isinstance(func, list):
        if not func or not all(isinstance(f, str) and f for f in func):
            raise err("must be a metric name or a non-empty list of names", "evaluator.func")
    elif not isinstance(func, str) or not func:
        raise err("must be a metric name or a non-empty list of names", "evaluator.func")
    conj = evaluator.get("conj", "and")
    if conj not in ("and", "or"):
        raise err(f"must be 'and' or 'or', got {conj!r}", "evaluator.conj")
    if "postconfig" in evaluator:
        _check_steps(evaluator["postconfig"], "evaluator.postconfig", err)
    if func == "infeasible":
        return
    n = len(func) if isinstance(func, list) else None
    if "result" not in evaluator:
        raise err(f"metric {func!r} needs a result getter", "evaluator.result")
    for key in ("result", "expected", "options"):
        if key not in evaluator:
            continue
        value = evaluator[key]
        if n is None:
            if key == "options":
                if not isinstance(value, dict):
                    raise err("must be an object for a single metric", "evaluator.options")
            else:
                _check_getter(value, f"evaluator.{key}", err, optional=False)
            continue
        if not isinstance(value, list) or len(value) != n:
            raise err(f"must be a list of {n} items, one per metric in 'func'", f"evaluator.{key}")
        for i, item in enumerate(value):
            if key == "options":
                if item is not None and not isinstance(item, dict):
                    raise err("must be an object or null", f"evaluator.options[{i}]")
            else:
                _check_getter(item, f"evaluator.{key}[{i}]", err, optional=key == "expected")


class _Errors:
    """Builds DatasetErrors for one file and item."""

    def __init__(self, path: Path, item: str) -> None:
        self.path = str(path)
        self.item = item

    def __call__(self, message: str, field: str | None = None) -> DatasetError:
        return DatasetError(message, path=self.path, item=self.item, field=field)


def parse_task(data: Any, *, path: Path, domain: str | None = None) -> Task:
    """Validate one task's JSON data and turn it into a Task.

    Raises:
        DatasetError: a required key is missing or has the wrong shape.
    """
    err = _Errors(path, path.stem)
    if not isinstance(data, dict):
        raise err(f"a task file must hold one JSON object, got {type(data).__name__}")
    task_id = data.get("id")
    if not isinstance(task_id, str) or not task_id:
        raise err("missing or not a non-empty string", "id")
    err.item = task_id
    if not isinstance(data.get("instruction"), str) or not data["instruction"].strip():
        raise err("missing or not a non-empty string", "instruction")
    config = data.get("config", [])
    _check_steps(config, "config", err)
    if "evaluator" not in data:
        raise err("missing", "evaluator")
    _check_evaluator(data["evaluator"], err)
    related = data.get("related_apps", [])
    if not isinstance(related, list) or not all(isinstance(a, str) for a in related):
        raise err("must be a list of app names", "related_apps")
    metadata: dict[str, Any] = {key: data[key] for key in _METADATA_KEYS if key in data}
    metadata["related_apps"] = related
    metadata["domain"] = domain or data.get("snapshot")
    metadata["path"] = str(path)
    extra = {key: value for key, value in data.items() if key not in TASK_KEYS}
    if extra:
        metadata["extra"] = extra
    return Task(id=task_id, instruction=data["instruction"], environment="desktop", setup=config,
                evaluator=data["evaluator"], metadata=metadata)


def load_task_file(path: str | Path, *, domain: str | None = None) -> Task:
    """Load one OSWorld task file.

    Raises:
        DatasetError: unreadable JSON or a malformed task.
    """
    path = Path(path)
    return parse_task(_read_json(path), path=path, domain=domain)


def find_task_files(root: str | Path, *, index: str | Path | None = None) -> list[tuple[Path, str | None]]:
    """The task files under ``root`` as ``(file, domain)`` pairs, in index order when there is one.

    Args:
        root: an ``evaluation_examples`` folder, an ``examples`` folder, a flat folder of
            task files, a single task file, or an index file (next to ``examples/``).
        index: an index file (absolute, or relative to ``root``) choosing the tasks;
            default ``test_all.json`` in ``root`` when it exists.

    Raises:
        DatasetError: ``root`` does not exist, the index is malformed, or it names a
            task whose file is missing.
    """
    root = Path(root)
    if not root.exists():
        raise DatasetError("no such file or folder", path=str(root))
    if root.is_file():
        data = _read_json(root)
        if not _is_index(data):
            return [(root, None)]
        index, root = root, root.parent
    examples = root / "examples" if (root / "examples").is_dir() else root
    index_path: Path | None = None
    if index is not None:
        index_path = Path(index) if Path(index).is_absolute() else root / index
    elif (root / DEFAULT_INDEX).is_file():
        index_path = root / DEFAULT_INDEX
    if index_path is not None:
        return list(_from_index(index_path, examples))
    files: list[tuple[Path, str | None]] = [
        (p, p.parent.name) for p in sorted(examples.glob("*/*.json"))]
    for p in sorted(examples.glob("*.json")):
        if not _is_index(_read_json(p)):
            files.append((p, None))
    return files


def _from_index(index_path: Path, examples: Path) -> Iterator[tuple[Path, str | None]]:
    data = _read_json(index_path)
    if not _is_index(data):
        raise DatasetError("an index must map each domain to a list of task ids", path=str(index_path))
    for domain, ids in data.items():
        for task_id in ids:
            path = examples / domain / f"{task_id}.json"
            if not path.is_file():
                raise DatasetError(f"listed in the index but {path} does not exist", path=str(index_path),
                                   item=f"{domain}/{task_id}")
            yield path, domain


def load_tasks(root: str | Path, *, index: str | Path | None = None) -> list[Task]:
    """Every task under ``root`` (see :func:`find_task_files` for the layouts).

    Raises:
        DatasetError: the first malformed file, or two files with the same task id.
    """
    tasks: list[Task] = []
    seen: dict[str, Path] = {}
    for path, domain in find_task_files(root, index=index):
        task = load_task_file(path, domain=domain)
        if task.id in seen:
            raise DatasetError(f"duplicate task id, also in {seen[task.id]}", path=str(path), item=task.id,
                               field="id")
        seen[task.id] = path
        tasks.append(task)
    return tasks
