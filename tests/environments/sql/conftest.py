"""Fixtures for the SQL environment tests: real SQLite files, benchmark folders, sql-mini tasks."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from steadyhand.core import Task
from steadyhand.environments.sql import SQL_MINI_PATH, SQLEnvironment, load_sql_mini


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def checksum() -> Callable[[Path], str]:
    """sha256 of a file's bytes."""
    return sha256


@pytest.fixture(scope="session")
def sql_mini_tasks() -> tuple[Task, ...]:
    return load_sql_mini()


@pytest.fixture
def env() -> Iterator[SQLEnvironment]:
    environment = SQLEnvironment(row_limit=5, timeout_s=2.0)
    yield environment
    environment.close()


def make_db(path: Path, script: str) -> Path:
    """A SQLite file built by ``script``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()
    return path


SINGERS = """
CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER, photo BLOB);
INSERT INTO singer VALUES (1, 'Ana', 'France', 30, x'89504e47'), (2, 'Ben', 'Spain', 41, NULL),
                          (3, 'Chloe', 'France', 25, NULL), (4, 'Dan', 'Norway', 52, NULL);
"""


@pytest.fixture
def singer_task(tmp_path: Path) -> Task:
    """A one-table database; gold: the names of French singers (Ana, Chloe)."""
    db = make_db(tmp_path / "singers" / "singers.sqlite", SINGERS)
    return Task(id="singers-0", instruction="Which singers are from France?", environment="sql",
                evaluator={"gold": "SELECT name FROM singer WHERE country = 'France'", "database": str(db),
                           "test_suite": [str(db)], "metric": "spider"},
                metadata={"db_id": "singers", "difficulty": "easy", "evidence": "France is a country"})


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


@pytest.fixture
def spider_folder(tmp_path: Path) -> Path:
    """A small, well-formed Spider-layout folder (one db with a variant)."""
    root = tmp_path / "spider"
    make_db(root / "database" / "singers" / "singers.sqlite", SINGERS)
    make_db(root / "database" / "singers" / "singers_b.sqlite", SINGERS.replace("'Spain'", "'France'"))
    write_json(root / "tables.json", [{"db_id": "singers", "table_names_original": ["singer"]}])
    write_json(root / "dev.json", [
        {"db_id": "singers", "question": "How many singers are there?", "query": "SELECT count(*) FROM singer"},
        {"db_id": "singers", "question": "Names of singers by age.", "query": "SELECT name FROM singer ORDER BY age",
         "difficulty": "medium"},
    ])
    return root


@pytest.fixture
def bird_folder(tmp_path: Path) -> Path:
    """A small, well-formed BIRD-layout folder."""
    root = tmp_path / "bird"
    make_db(root / "dev_databases" / "singers" / "singers.sqlite", SINGERS)
    write_json(root / "dev.json", [
        {"question_id": 0, "db_id": "singers", "question": "How old is the oldest singer?",
         "evidence": "oldest refers to MAX(age)", "SQL": "SELECT MAX(age) FROM singer", "difficulty": "simple"},
        {"question_id": 1, "db_id": "singers", "question": "List French singers.", "evidence": "",
         "SQL": "SELECT name FROM singer WHERE country = 'France'", "difficulty": "moderate"},
    ])
    return root


@pytest.fixture
def sql_mini_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged sql-mini folder."""
    target = tmp_path / "sql_mini"
    shutil.copytree(SQL_MINI_PATH, target)
    return target


@pytest.fixture
def db_factory() -> Callable[[Path, str], Path]:
    """``make(path, script)``: a SQLite file built by a SQL script."""
    return make_db
