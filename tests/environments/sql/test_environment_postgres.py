"""SQLEnvironment on a real PostgreSQL server (the ``postgres_url`` fixture starts one).

The sql-mini school database is loaded into a fresh PostgreSQL database; episodes run
in a transaction that must leave every table exactly as it was.
"""

from __future__ import annotations

import json
import secrets
import socket
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from steadyhand.core import ExecuteSQL, SubmitSQL, Task
from steadyhand.core.errors import EnvironmentFault
from steadyhand.environments.sql import SQLEnvironment
from steadyhand.environments.sql.postgres_backend import connection_kwargs

psycopg = pytest.importorskip("psycopg")

FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def _connect(url: str, **kwargs: Any) -> Any:
    return psycopg.connect(**connection_kwargs(url), **kwargs)


@pytest.fixture(scope="module")
def school_url(postgres_url: str, sql_mini_tasks: tuple[Task, ...]) -> Iterator[str]:
    """A new PostgreSQL database holding sql-mini's school tables and rows."""
    name = "sqlenv_" + secrets.token_hex(4)
    with _connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    source = next(t for t in sql_mini_tasks if t.metadata["db_id"] == "school").evaluator["database"]
    lite = sqlite3.connect(source)
    with _connect(url) as conn:
        for table, ddl in lite.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid"):
            conn.execute(ddl)
            rows = lite.execute(f"SELECT * FROM {table}").fetchall()
            marks = ", ".join(["%s"] * len(rows[0]))
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    lite.close()
    yield url
    with _connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def checksum(url: str) -> dict[str, str]:
    """Every table's columns and an md5 of its sorted rows."""
    with _connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        digest = {}
        for table in tables:
            columns = conn.execute("SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) "
                                   "FROM information_schema.columns WHERE table_name = %s", (table,)).fetchone()
            rows = conn.execute(f'SELECT md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')), count(*) '
                                f'FROM "{table}" t').fetchone()
            digest[table] = f"{columns[0]} {rows[0]} {rows[1]}"
        return digest


def pg_task(url: str, gold: str, task_id: str = "pg-0") -> Task:
    return Task(id=task_id, instruction="question", environment="sql",
                evaluator={"gold": gold, "database": url, "metric": "spider"},
                metadata={"db_id": "school", "difficulty": "easy"})


@pytest.mark.postgres
def test_destructive_queries_are_rolled_back(school_url: str) -> None:
    before = checksum(school_url)
    assert set(before) == {"courses", "departments", "enrollments", "students", "teachers"}
    env = SQLEnvironment(timeout_s=5)
    obs = env.reset(pg_task(school_url, "SELECT 1"))
    assert obs.info["dialect"] == "postgresql"
    for query in ("DROP TABLE enrollments", "DELETE FROM students WHERE city = 'Riverton'",
                  "UPDATE teachers SET salary = 0", "CREATE TABLE junk (x int)", "INSERT INTO junk VALUES (1)",
                  "ALTER TABLE courses DROP COLUMN credits", "TRUNCATE departments CASCADE"):
        result = env.step(ExecuteSQL(query=query))
        assert result.observation.error is None, (query, result.observation.error)
    seen = env.step(ExecuteSQL(query="SELECT count(*) FROM students WHERE city = 'Riverton'")).observation
    assert seen.rows == [[0]]  # the agent sees its own changes
    env.close()  # no evaluate(): closing alone must undo everything
    assert checksum(school_url) == before


@pytest.mark.postgres
def test_scoring_sees_the_data_as_it_was_at_reset(school_url: str) -> None:
    before = checksum(school_url)
    gold = "SELECT count(*) FROM students WHERE city = 'Riverton'"
    env = SQLEnvironment(timeout_s=5)
    env.reset(pg_task(school_url, gold))
    env.step(ExecuteSQL(query="DELETE FROM students WHERE city = 'Riverton'"))
    env.step(SubmitSQL(query="SELECT 0"))  # right only on the agent's damaged data
    assert env.evaluate().value == 0.0
    env.reset(pg_task(school_url, gold))
    env.step(ExecuteSQL(query="DROP TABLE students CASCADE"))
    env.step(SubmitSQL(query=gold))
    assert env.evaluate().value == 1.0
    env.close()
    assert checksum(school_url) == before


@pytest.mark.postgres
def test_the_agent_cannot_end_the_transaction(school_url: str) -> None:
    before = checksum(school_url)
    env = SQLEnvironment(timeout_s=5)
    env.reset(pg_task(school_url, "SELECT 1"))
    assert env.step(ExecuteSQL(query="DELETE FROM enrollments")).observation.error is None
    for query in ("COMMIT", "  -- sneaky\n commit;", "/* x */ END", "ROLLBACK", "BEGIN", "START TRANSACTION",
                  "SAVEPOINT s", "RELEASE SAVEPOINT steadyhand_pristine", "ABORT",
                  "COPY students TO '/tmp/students.csv'", "PREPARE TRANSACTION 'x'"):
        obs = env.step(ExecuteSQL(query=query)).observation
        assert obs.error is not None and "not allowed" in obs.error, query
    multi = env.step(ExecuteSQL(query="SELECT 1; COMMIT")).observation
    assert multi.error is not None and "multiple commands" in multi.error
    assert env.step(ExecuteSQL(query="SELECT count(*) FROM enrollments")).observation.rows == [[0]]
    env.close()
    assert checksum(school_url) == before


@pytest.mark.postgres
def test_timeout_interrupts_and_the_episode_goes_on(school_url: str) -> None:
    env = SQLEnvironment(timeout_s=1)
    env.reset(pg_task(school_url, "SELECT 1"))
    for query in (FOREVER, "SELECT pg_sleep(30)", "SET statement_timeout = 0"):
        result = env.step(ExecuteSQL(query=query))
        if query.startswith("SET"):
            assert result.observation.error is None  # allowed, but every statement gets the limit again
            continue
        assert result.observation.error == "query timed out after 1 s", query
        assert result.info["timed_out"]
    assert env.step(ExecuteSQL(query="SELECT pg_sleep(30)")).observation.error == "query timed out after 1 s"
    ok = env.step(ExecuteSQL(query="SELECT count(*) FROM departments")).observation
    assert ok.error is None and ok.rows == [[6]]
    bad = env.step(ExecuteSQL(query="SELECT nope FROM departments")).observation
    assert bad.error is not None and 'column "nope" does not exist' in bad.error
    assert env.step(ExecuteSQL(query="SELECT 1")).observation.rows == [[1]]  # the error aborted nothing
    env.close()


@pytest.mark.postgres
def test_schema_rows_and_scoring(school_url: str) -> None:
    env = SQLEnvironment(timeout_s=5, row_limit=2)
    gold = "SELECT first_name, last_name FROM teachers ORDER BY salary DESC LIMIT 3"
    obs = env.reset(pg_task(school_url, gold))
    schema = env.schema_text()
    assert obs.info["schema"] == schema
    assert 'CREATE TABLE "teachers"' in schema and "PRIMARY KEY (teacher_id)" in schema
    assert "FOREIGN KEY (dept_id) REFERENCES departments(dept_id)" in schema
    assert "example rows from teachers" in schema
    truncated = env.step(ExecuteSQL(query="SELECT * FROM students")).observation
    assert truncated.truncated and len(truncated.rows or []) == 2 and (truncated.row_count or 0) > 100
    odd = env.step(ExecuteSQL(query="SELECT 1.50::numeric, 2::numeric, DATE '2024-01-02', ARRAY[1, 2], "
                                    "'{\"a\": 1}'::json, '\\x0102'::bytea, interval '1 day', 'NaN'::float8"))
    assert odd.observation.error is None
    json.dumps(odd.observation.rows, allow_nan=False)
    assert odd.observation.rows == [[1.5, 2, "2024-01-02", [1, 2], {"a": 1}, "0x0102", "1 day, 0:00:00", "nan"]]
    env.step(SubmitSQL(query="SELECT t.first_name, t.last_name FROM teachers t ORDER BY t.salary DESC LIMIT 3"))
    assert env.evaluate().value == 1.0
    env.reset(pg_task(school_url, gold))
    env.step(SubmitSQL(query="SELECT first_name, last_name FROM teachers ORDER BY salary ASC LIMIT 3"))
    wrong = env.evaluate()
    assert wrong.value == 0.0 and wrong.details["dialect"] == "postgresql"
    assert 0 < wrong.components["partial_reward"] < 0.5
    env.close()


def test_unreachable_server_is_an_environment_fault() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = SQLEnvironment()
    with pytest.raises(EnvironmentFault, match="cannot connect"):
        env.reset(pg_task(f"postgresql+psycopg://nobody@127.0.0.1:{port}/db?connect_timeout=2", "SELECT 1"))
