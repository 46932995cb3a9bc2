"""Reply parsing: fenced blocks, bare statements, SUBMIT, and junk."""

from __future__ import annotations

import pytest

from steadyhand.agents.sql.parsing import first_statement, parse_reply


@pytest.mark.parametrize(("reply", "query"), [
    ("```sql\nSELECT 1;\n```", "SELECT 1"),
    ("Here it is:\n```sql\nSELECT name FROM singer\n```\nThis lists the names.", "SELECT name FROM singer"),
    ("```sql\nSELECT 1\n```\n```sql\nSELECT 2\n```", "SELECT 1"),  # the first block wins
    ("```SQL\nSELECT a FROM t; DROP TABLE t;\n```", "SELECT a FROM t"),  # only the first statement
    ("```sql\nSELECT 'a;b' AS x;\n```", "SELECT 'a;b' AS x"),  # a semicolon in a literal is data
    ("```sql\nSELECT a -- the names;\nFROM t\n```", "SELECT a\nFROM t"),  # comments dropped
    ("```\nWITH x AS (SELECT 1) SELECT * FROM x\n```", "WITH x AS (SELECT 1) SELECT * FROM x"),
    ("```sql\nSELECT a\nFROM t WHERE b >", "SELECT a\nFROM t WHERE b >"),  # generation cut off
    ("```SELECT 1```", "SELECT 1"),
    ("The query:\nSELECT count(*) FROM singer;\nIt counts them.", "SELECT count(*) FROM singer"),
    ("select name from singer\n\nThat gives the names.", "select name from singer"),
    ("```sql\nSELECT 1\n```\nSUBMIT", "SELECT 1"),  # a query is run before anything is submitted
])
def test_queries_are_extracted(reply: str, query: str) -> None:
    parsed = parse_reply(reply)
    assert parsed.kind == "sql"
    assert parsed.query == query


@pytest.mark.parametrize("reply", ["SUBMIT", "SUBMIT.", " submit? no: SUBMIT\n", "I will SUBMIT now."])
def test_submit(reply: str) -> None:
    assert parse_reply(reply).kind == "submit"


@pytest.mark.parametrize(("reply", "problem"), [
    ("", "empty"),
    ("I do not know.", "no ```sql block"),
    ("```python\nprint(1)\n```", "no SQL"),
    ("```sql\n\n```", "no SQL"),
    ("please submit it", "no ```sql block"),  # lower-case submit is prose, not the command
])
def test_replies_without_sql_or_submit_name_the_problem(reply: str, problem: str) -> None:
    parsed = parse_reply(reply)
    assert parsed.kind == "none"
    assert problem in parsed.problem


def test_first_statement_keeps_quoted_text_and_drops_block_comments() -> None:
    assert first_statement("SELECT \"a;b\", [c;d] /* x; */ FROM t; SELECT 2") == 'SELECT "a;b", [c;d]   FROM t'
    assert first_statement("SELECT 'it''s; fine'; x") == "SELECT 'it''s; fine'"
