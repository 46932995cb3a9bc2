"""Schema text for the prompt: the environment's DDL, or a compact table listing.

Small models (SmolLM2-135M) tend to copy a wall of ``CREATE TABLE`` text back
instead of writing a query; a compact listing - one ``table(col, col, ...)`` line per
table - keeps every table visible in far fewer tokens. Large schemas that do not
fit the character budget as DDL are listed compactly for the same reason.
"""

from __future__ import annotations

from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

SchemaStyle = Literal["auto", "ddl", "compact"]

_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}


def compact_schema(ddl: str, dialect: str = "sqlite") -> str:
    """One ``table(col, col, ...)`` line per ``CREATE TABLE`` in ``ddl``; "" if none parse.

    Identifiers keep the quoting the dialect needs (``"First Name"``); types,
    constraints, comments and sample rows are dropped.
    """
    read = _DIALECTS.get(dialect, dialect)
    try:
        statements = sqlglot.parse(ddl, read=read, error_level=ErrorLevel.IGNORE)
    except sqlglot.errors.SqlglotError:
        return ""
    lines = []
    for statement in statements:
        if not isinstance(statement, exp.Create) or not isinstance(statement.this, exp.Schema):
            continue
        table = statement.this.this
        columns = [c.this.sql(dialect=read) for c in statement.this.expressions if isinstance(c, exp.ColumnDef)]
        if isinstance(table, exp.Table) and columns:
            lines.append(f"{table.sql(dialect=read)}({', '.join(columns)})")
    return "\n".join(lines)


def schema_for_prompt(ddl: str, *, dialect: str, style: SchemaStyle, max_chars: int, small_model: bool) -> str:
    """The schema text the task prompt shows, at most about ``max_chars`` characters.

    ``style``: ``ddl`` shows the environment's text; ``compact`` the table listing
    (falling back to the DDL when nothing parses); ``auto`` is ``compact`` for small
    in-process models and for DDL longer than ``max_chars``, ``ddl`` otherwise.
    """
    from steadyhand.agents.sql.prompts import clip

    if style == "auto":
        style = "compact" if small_model or len(ddl) > max_chars else "ddl"
    text = compact_schema(ddl, dialect) if style == "compact" else ""
    return clip(text or ddl, max_chars)
