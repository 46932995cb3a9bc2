"""Turn Spider- and BIRD-layout benchmark folders into :class:`~steadyhand.core.Task` lists.

Spider layout::

    <root>/dev.json                      [{"db_id", "question", "query", ("difficulty", "evidence")}, ...]
    <root>/tables.json                   [{"db_id", "table_names_original", ...}, ...]
    <root>/database/<db_id>/<db_id>.sqlite   (+ any variant *.sqlite for test-suite scoring)

BIRD layout::

    <root>/dev.json                      [{"db_id", "question", "evidence", "SQL", "difficulty"}, ...]
    <root>/dev_databases/<db_id>/<db_id>.sqlite

Each item becomes ``Task(id="<dataset>-<index>", instruction=question, environment="sql",
evaluator={"gold", "database", "test_suite", "metric"}, metadata={"db_id", "difficulty",
"evidence", "dataset", "source", "index"})`` with absolute paths. Malformed input raises
:class:`~steadyhand.core.errors.DatasetError` naming the file, the item index and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from steadyhand.core.errors import DatasetError
from steadyhand.core.task import Task
from steadyhand.environments.sql.hardness import spider_hardness


def read_json_list(path: Path) -> list[Any]:
    """The JSON array in ``path``.

    Raises:
        DatasetError: the file is missing, is not valid JSON, or does not hold an array.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DatasetError("file not found", path=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read: {exc}", path=str(path)) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", path=str(path)) from exc
    if not isinstance(data, list):
        raise DatasetError(f"expected a JSON array of items, found {type(data).__name__}", path=str(path))
    return data


def _field(item: Any, name: str, *, path: Path, index: int, required: bool = True) -> str | None:
    if not isinstance(item, dict):
        raise DatasetError(f"expected an object, found {type(item).__name__}", path=str(path), item=str(index))
    if name not in item or item[name] is None:
        if required:
            raise DatasetError("missing field", path=str(path), item=str(index), field=name)
        return None
    value = item[name]
    if not isinstance(value, str):
        raise DatasetError(f"expected a string, found {type(value).__name__}", path=str(path), item=str(index),
                           field=name)
    if required and not value.strip():
        raise DatasetError("empty field", path=str(path), item=str(index), field=name)
    return value


class _Databases:
    """Finds ``<root>/<folder>/<db_id>/<db_id>.sqlite`` once per db_id, with clear errors."""

    def __init__(self, folder: Path, known: set[str] | None, known_from: Path | None) -> None:
        self.folder = folder
        self.known = known
        self.known_from = known_from
        self._found: dict[str, tuple[str, list[str]]] = {}

    def find(self, db_id: str, *, path: Path, index: int) -> tuple[str, list[str]]:
        if db_id in self._found:
            return self._found[db_id]
        if self.known is not None and db_id not in self.known:
            raise DatasetError(f"unknown db_id {db_id!r}: not in {self.known_from}", path=str(path),
                               item=str(index), field="db_id")
        db_dir = self.folder / db_id
        if not db_dir.is_dir():
            raise DatasetError(f"unknown db_id {db_id!r}: no folder {db_dir}", path=str(path), item=str(index),
                               field="db_id")
        main = db_dir / f"{db_id}.sqlite"
        if not main.is_file():
            raise DatasetError(f"missing database file {main}", path=str(path), item=str(index), field="db_id")
        variants = sorted(str(p.resolve()) for p in db_dir.glob("*.sqlite") if p.resolve() != main.resolve())
        found = (str(main.resolve()), [str(main.resolve()), *variants])
        self._found[db_id] = found
        return found


def _spider_db_ids(tables: Path) -> set[str]:
    db_ids = set()
    for index, entry in enumerate(read_json_list(tables)):
        db_id = _field(entry, "db_id", path=tables, index=index)
        assert db_id is not None
        db_ids.add(db_id)
    return db_ids


def _root(path: str | Path) -> Path:
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise DatasetError("benchmark folder not found", path=str(root))
    return root


def load_spider(path: str | Path, *, split: str = "dev.json", dataset: str = "spider", metric: str = "spider",
                database_dir: str = "database", tables: str = "tables.json") -> list[Task]:
    """Tasks from a Spider-layout folder.

    ``difficulty`` is the item's own field when it has one, otherwise Spider's
    hardness computed from the gold query (:func:`~steadyhand.environments.sql.hardness.spider_hardness`).
    When ``tables.json`` exists, every ``db_id`` must be listed in it. ``test_suite``
    lists every ``.sqlite`` file of the database's folder, the main one first.

    Raises:
        DatasetError: a missing or malformed file, a missing field, an unknown db_id,
            a missing database file.
    """
    root = _root(path)
    source = root / split
    items = read_json_list(source)
    tables_path = root / tables
    known = _spider_db_ids(tables_path) if tables_path.is_file() else None
    databases = _Databases(root / database_dir, known, tables_path)
    tasks = []
    for index, item in enumerate(items):
        db_id = _field(item, "db_id", path=source, index=index)
        question = _field(item, "question", path=source, index=index)
        gold = _field(item, "query", path=source, index=index)
        difficulty = _field(item, "difficulty", path=source, index=index, required=False)
        evidence = _field(item, "evidence", path=source, index=index, required=False)
        assert db_id is not None and question is not None and gold is not None
        database, suite = databases.find(db_id, path=source, index=index)
        tasks.append(_task(dataset, index, question, gold, database, suite, metric, db_id,
                           difficulty or spider_hardness(gold), evidence or "", source))
    return tasks


def load_bird(path: str | Path, *, split: str = "dev.json", dataset: str = "bird", metric: str = "bird",
              database_dir: str = "dev_databases") -> list[Task]:
    """Tasks from a BIRD-layout folder (``evidence`` and ``difficulty`` may be absent: "" and ``unknown``).

    Raises:
        DatasetError: a missing or malformed file, a missing field, an unknown db_id,
            a missing database file.
    """
    root = _root(path)
    source = root / split
    items = read_json_list(source)
    databases = _Databases(root / database_dir, None, None)
    tasks = []
    for index, item in enumerate(items):
        db_id = _field(item, "db_id", path=source, index=index)
        question = _field(item, "question", path=source, index=index)
        gold = _field(item, "SQL", path=source, index=index)
        evidence = _field(item, "evidence", path=source, index=index, required=False)
        difficulty = _field(item, "difficulty", path=source, index=index, required=False)
        assert db_id is not None and question is not None and gold is not None
        database, suite = databases.find(db_id, path=source, index=index)
        tasks.append(_task(dataset, index, question, gold, database, suite, metric, db_id,
                           difficulty or "unknown", evidence or "", source))
    return tasks


def _task(dataset: str, index: int, question: str, gold: str, database: str, test_suite: list[str], metric: str,
          db_id: str, difficulty: str, evidence: str, source: Path) -> Task:
    return Task(
        id=f"{dataset}-{index}",
        instruction=question,
        environment="sql",
        evaluator={"gold": gold, "database": database, "test_suite": test_suite, "metric": metric},
        metadata={"db_id": db_id, "difficulty": difficulty, "evidence": evidence, "dataset": dataset,
                  "source": str(source), "index": index},
    )
