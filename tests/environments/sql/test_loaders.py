"""Spider and BIRD loaders on well-formed and malformed folders; every error names file, item and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steadyhand.core import suites
from steadyhand.core.errors import ConfigurationError, DatasetError
from steadyhand.environments.sql import bird_suite, load_bird, load_spider, spider_suite


def test_spider_layout(spider_folder: Path) -> None:
    tasks = load_spider(spider_folder)
    assert [t.id for t in tasks] == ["spider-0", "spider-1"]
    first, second = tasks
    assert first.instruction == "How many singers are there?"
    assert first.environment == "sql"
    db_dir = spider_folder.resolve() / "database" / "singers"
    assert first.evaluator == {
        "gold": "SELECT count(*) FROM singer",
        "database": str(db_dir / "singers.sqlite"),
        "test_suite": [str(db_dir / "singers.sqlite"), str(db_dir / "singers_b.sqlite")],
        "metric": "spider",
    }
    assert first.metadata == {"db_id": "singers", "difficulty": "easy", "evidence": "", "dataset": "spider",
                              "source": str(spider_folder.resolve() / "dev.json"), "index": 0}
    assert second.metadata["difficulty"] == "medium"  # the explicit field wins over computed hardness
    assert Path(first.evaluator["database"]).is_absolute()


def test_spider_difficulty_is_computed_when_absent(spider_folder: Path) -> None:
    items = json.loads((spider_folder / "dev.json").read_text())
    del items[1]["difficulty"]
    items[1]["query"] = "SELECT name, age FROM singer ORDER BY age"
    (spider_folder / "dev.json").write_text(json.dumps(items))
    tasks = load_spider(spider_folder)
    assert tasks[0].metadata["difficulty"] == "easy"  # one table, no clause
    assert tasks[1].metadata["difficulty"] == "medium"  # ORDER BY and two columns


def test_bird_layout(bird_folder: Path) -> None:
    tasks = load_bird(bird_folder)
    assert [t.id for t in tasks] == ["bird-0", "bird-1"]
    task = tasks[0]
    db = str(bird_folder.resolve() / "dev_databases" / "singers" / "singers.sqlite")
    assert task.evaluator == {"gold": "SELECT MAX(age) FROM singer", "database": db, "test_suite": [db],
                              "metric": "bird"}
    assert task.metadata["evidence"] == "oldest refers to MAX(age)"
    assert task.metadata["difficulty"] == "simple"
    assert task.metadata["dataset"] == "bird"


def _rewrite(folder: Path, name: str, transform: object) -> Path:
    path = folder / name
    items = json.loads(path.read_text())
    transform(items)  # type: ignore[operator]
    path.write_text(json.dumps(items))
    return path


@pytest.mark.parametrize(("edit", "field", "message"), [
    (lambda items: items[1].pop("query"), "query", "missing field"),
    (lambda items: items[1].pop("question"), "question", "missing field"),
    (lambda items: items[1].update(db_id="nowhere"), "db_id", "unknown db_id 'nowhere'"),
    (lambda items: items[1].update(question=42), "question", "expected a string"),
    (lambda items: items[1].update(query="  "), "query", "empty field"),
])
def test_spider_malformed_items_name_file_item_and_field(spider_folder: Path, edit: object, field: str,
                                                         message: str) -> None:
    path = _rewrite(spider_folder, "dev.json", edit)
    with pytest.raises(DatasetError) as caught:
        load_spider(spider_folder)
    error = caught.value
    assert error.path == str(path.resolve()) and error.item == "1" and error.field == field
    assert message in str(error)
    assert str(path.resolve()) in str(error) and "item 1" in str(error) and f"field {field!r}" in str(error)


def test_spider_db_id_missing_from_tables_json(spider_folder: Path, db_factory: object) -> None:
    db_factory(spider_folder / "database" / "extra" / "extra.sqlite", "CREATE TABLE t (x);")  # type: ignore[operator]
    _rewrite(spider_folder, "dev.json", lambda items: items[0].update(db_id="extra"))
    with pytest.raises(DatasetError, match=r"item 0, field 'db_id': unknown db_id 'extra': not in .*tables\.json"):
        load_spider(spider_folder)


def test_spider_missing_database_file(spider_folder: Path) -> None:
    (spider_folder / "database" / "singers" / "singers.sqlite").unlink()
    with pytest.raises(DatasetError, match=r"item 0, field 'db_id': missing database file .*singers\.sqlite"):
        load_spider(spider_folder)


def test_invalid_json_names_file_and_position(spider_folder: Path) -> None:
    (spider_folder / "dev.json").write_text('[{"db_id": "singers",\n "question": }]')
    with pytest.raises(DatasetError, match=r"dev\.json: invalid JSON at line 2 column 14"):
        load_spider(spider_folder)
    (spider_folder / "dev.json").write_text('{"db_id": "singers"}')
    with pytest.raises(DatasetError, match="expected a JSON array"):
        load_spider(spider_folder)
    (spider_folder / "dev.json").write_text('["not an object"]')
    with pytest.raises(DatasetError, match="item 0: expected an object"):
        load_spider(spider_folder)


def test_malformed_tables_json(spider_folder: Path) -> None:
    (spider_folder / "tables.json").write_text('[{"table_names_original": []}]')
    with pytest.raises(DatasetError) as caught:
        load_spider(spider_folder)
    assert caught.value.path is not None and caught.value.path.endswith("tables.json")
    assert caught.value.item == "0" and caught.value.field == "db_id"


def test_missing_files_and_folders(tmp_path: Path, spider_folder: Path) -> None:
    with pytest.raises(DatasetError, match="benchmark folder not found"):
        load_spider(tmp_path / "nope")
    (spider_folder / "dev.json").unlink()
    with pytest.raises(DatasetError, match=r"dev\.json: file not found"):
        load_spider(spider_folder)


@pytest.mark.parametrize(("edit", "field", "message"), [
    (lambda items: items[1].pop("SQL"), "SQL", "missing field"),
    (lambda items: items[1].pop("db_id"), "db_id", "missing field"),
    (lambda items: items[1].update(db_id="nowhere"), "db_id", "unknown db_id 'nowhere': no folder"),
    (lambda items: items[1].update(evidence=["a"]), "evidence", "expected a string"),
    (lambda items: items[1].update(difficulty=3), "difficulty", "expected a string"),
])
def test_bird_malformed_items_name_file_item_and_field(bird_folder: Path, edit: object, field: str,
                                                       message: str) -> None:
    path = _rewrite(bird_folder, "dev.json", edit)
    with pytest.raises(DatasetError) as caught:
        load_bird(bird_folder)
    assert caught.value.path == str(path.resolve()) and caught.value.item == "1" and caught.value.field == field
    assert message in str(caught.value)


def test_bird_missing_database_file(bird_folder: Path) -> None:
    (bird_folder / "dev_databases" / "singers" / "singers.sqlite").unlink()
    with pytest.raises(DatasetError, match="missing database file"):
        load_bird(bird_folder)


def test_bird_optional_fields_default(bird_folder: Path) -> None:
    _rewrite(bird_folder, "dev.json", lambda items: [item.pop(k) for item in items for k in ("evidence", "difficulty")])
    task = load_bird(bird_folder)[0]
    assert task.metadata["evidence"] == "" and task.metadata["difficulty"] == "unknown"


def test_suites_register_user_folders(spider_folder: Path, bird_folder: Path) -> None:
    suite = spider_suite(spider_folder, name="test-spider-suite")
    assert suites.get("test-spider-suite") is suite
    assert suite.environment == "sql" and suite.default_agent == "sql"
    tasks = suite.load()
    assert [t.id for t in tasks] == ["test-spider-suite-0", "test-spider-suite-1"]
    assert suite.load() is tasks  # loaded once
    with pytest.raises(ConfigurationError, match="already registered"):
        spider_suite(spider_folder, name="test-spider-suite")
    assert spider_suite(spider_folder, name="test-spider-suite", replace=True) is not suite

    bird = bird_suite(bird_folder, name="test-bird-suite")
    assert [t.evaluator["metric"] for t in bird.load()] == ["bird", "bird"]
    with pytest.raises(DatasetError, match="not a benchmark folder"):
        bird_suite(spider_folder / "database", name="test-bird-broken")
