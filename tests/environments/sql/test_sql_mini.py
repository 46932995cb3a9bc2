"""The built-in sql-mini suite: registered, well-formed, reproducible, and every gold query is right."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from steadyhand.core import SubmitSQL, Suite, Task, suites
from steadyhand.environments.sql import SQL_MINI_PATH, SQLEnvironment, sql_mini

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build_sql_mini.py"


def test_registered_with_the_right_shape(sql_mini_tasks: tuple[Task, ...]) -> None:
    suite = suites.get("sql-mini")
    assert suite is sql_mini and isinstance(suite, Suite)
    assert (suite.environment, suite.default_agent, suite.requirements) == ("sql", "sql", ("sqlite",))
    assert suite.load() == sql_mini_tasks
    assert len(sql_mini_tasks) >= 40
    assert [t.id for t in sql_mini_tasks] == [f"sql-mini-{i}" for i in range(len(sql_mini_tasks))]
    counts = Counter(t.difficulty for t in sql_mini_tasks)
    assert set(counts) == {"easy", "medium", "hard"} and min(counts.values()) >= 10
    assert {t.metadata["db_id"] for t in sql_mini_tasks} == {"school", "store", "concerts"}
    for task in sql_mini_tasks:
        assert task.evaluator["metric"] == "spider" and task.metadata["dataset"] == "sql-mini"
        assert len(task.evaluator["test_suite"]) >= 2  # main database plus variants
        assert task.evaluator["test_suite"][0] == task.evaluator["database"]


def test_packaged_data_is_small_and_in_spider_format() -> None:
    size = sum(p.stat().st_size for p in SQL_MINI_PATH.rglob("*") if p.is_file())
    assert size < 2 * 1024 * 1024
    tables = json.loads((SQL_MINI_PATH / "tables.json").read_text())
    for entry in tables:
        n_columns = len(entry["column_names_original"])
        assert entry["column_names_original"][0] == [-1, "*"]
        assert len(entry["column_names"]) == len(entry["column_types"]) == n_columns
        assert len(entry["table_names"]) == len(entry["table_names_original"])
        assert entry["foreign_keys"] and all(0 < a < n_columns and 0 < b < n_columns for a, b in entry["foreign_keys"])
        assert all(0 < k < n_columns for k in entry["primary_keys"])


def test_every_gold_query_returns_rows_on_the_main_database(sql_mini_tasks: tuple[Task, ...]) -> None:
    for task in sql_mini_tasks:
        conn = sqlite3.connect(f"file:{task.evaluator['database']}?mode=ro", uri=True)
        rows = conn.execute(task.evaluator["gold"]).fetchall()
        conn.close()
        assert rows and any(v is not None for row in rows for v in row), task.id


def test_every_gold_query_scores_one_against_itself(sql_mini_tasks: tuple[Task, ...]) -> None:
    env = SQLEnvironment()
    try:
        for task in sql_mini_tasks:
            env.reset(task)
            result = env.step(SubmitSQL(query=task.evaluator["gold"]))
            assert result.observation.error is None, task.id
            score = env.evaluate()
            assert score.value == 1.0, (task.id, score)
            assert score.components["partial_reward"] == 1.0
            assert score.details["databases_checked"] == len(task.evaluator["test_suite"])
    finally:
        env.close()


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_the_build_script_reproduces_the_packaged_data(tmp_path: Path) -> None:
    out = tmp_path / "sql_mini"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True, timeout=300)
    packaged = sorted(p.relative_to(SQL_MINI_PATH) for p in SQL_MINI_PATH.rglob("*") if p.is_file())
    rebuilt = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert rebuilt == packaged
    for rel in packaged:
        if rel.suffix == ".sqlite":
            assert _dump(out / rel) == _dump(SQL_MINI_PATH / rel), rel
        else:
            assert (out / rel).read_text() == (SQL_MINI_PATH / rel).read_text(), rel
