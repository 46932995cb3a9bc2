"""Schema text for prompts: the environment's DDL or a compact listing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from steadyhand.agents.sql.schema import compact_schema, schema_for_prompt
from steadyhand.core import Task, suites
from steadyhand.environments.sql import SQLEnvironment


def test_compact_listing_of_every_sql_mini_database() -> None:
    env = SQLEnvironment()
    seen: dict[str, str] = {}
    try:
        for task in suites.get("sql-mini").load():  # type: ignore[attr-defined]
            db_id = task.metadata["db_id"]
            if db_id not in seen:
                seen[db_id] = env.reset(task).info["schema"]
    finally:
        env.close()
    assert len(seen) >= 3
    for db_id, ddl in seen.items():
        database = next(t for t in suites.get("sql-mini").load()  # type: ignore[attr-defined]
                        if t.metadata["db_id"] == db_id).evaluator["database"]
        conn = sqlite3.connect(database)
        tables = {name: [c[1] for c in conn.execute(f'PRAGMA table_info("{name}")')]
                  for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.close()
        expected = {f"{name}({', '.join(cols)})" for name, cols in tables.items()}
        assert set(compact_schema(ddl).splitlines()) == expected
        assert len(compact_schema(ddl)) < len(ddl) / 2


def test_quoted_identifiers_stay_quoted() -> None:
    ddl = ('CREATE TABLE "public"."Big Table" (\n  "First Name" text NOT NULL,\n  id integer,\n'
           '  PRIMARY KEY (id)\n);\n/* 2 example rows from Big Table: ... */')
    assert compact_schema(ddl, "postgresql") == '"public"."Big Table"("First Name", id)'


@pytest.mark.parametrize(("style", "small", "max_chars", "compact"), [
    ("ddl", True, 4000, False),
    ("compact", False, 4000, True),
    ("auto", True, 4000, True),       # small in-process models get the listing
    ("auto", False, 4000, False),     # others get the DDL when it fits
    ("auto", False, 120, True),       # ... and the listing when it does not
])
def test_schema_styles(style: Any, small: bool, max_chars: int, compact: bool) -> None:
    ddl = "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT);\n" * 2
    text = schema_for_prompt(ddl, dialect="sqlite", style=style, max_chars=max_chars, small_model=small)
    assert text.startswith("singer(singer_id, name, country)") == compact
    assert len(text) <= max_chars


def test_unparseable_schema_text_is_shown_as_it_is() -> None:
    text = schema_for_prompt("tables: a, b", dialect="sqlite", style="compact", max_chars=1000, small_model=True)
    assert text == "tables: a, b"


def test_the_agent_shows_the_compact_listing_when_asked(music_task: Task, run_episode: Any,
                                                        write_script: Any, music_db: Path) -> None:
    spec = write_script({"rules": [
        {"when": r"\AQuery result:", "reply": "SUBMIT"},
        {"when": r"(?s)singer\(singer_id, name, country, age\)\nconcert\(.*Question:",
         "reply": "```sql\nSELECT count(*) FROM singer WHERE country = 'France'\n```"},
    ]})
    ep = run_episode(music_task, spec, schema_style="compact")
    assert ep.score.value == 1.0
