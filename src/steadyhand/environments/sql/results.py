"""What running one query gives back, and how its values are made safe to show and compare."""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: One result row, with the driver's own value types.
Row = tuple[Any, ...]

#: Blobs longer than this are shown as a hex prefix plus their size.
MAX_BLOB_BYTES = 32


@dataclass(frozen=True)
class QueryResult:
    """The outcome of one statement.

    Attributes:
        columns: result column names; empty for statements that return no rows
            (``UPDATE``, ``CREATE``), None when the statement failed.
        rows: the rows kept (all of them, or the first ``max_rows``), with the driver's
            value types (see :func:`hashable_row` before hashing, :func:`json_safe` before showing).
        row_count: rows the statement produced before truncation.
        truncated: ``rows`` holds fewer rows than ``row_count``.
        error: the database's error text, or ``query timed out after N s``.
        timed_out: the error is the time limit.
        affected: rows changed by a data-modifying statement, when the driver says.
    """

    columns: list[str] | None = None
    rows: list[Row] = field(default_factory=list)
    row_count: int = 0
    truncated: bool = False
    error: str | None = None
    timed_out: bool = False
    affected: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failure(cls, error: str, *, timed_out: bool = False) -> QueryResult:
        return cls(error=error, timed_out=timed_out)


def timeout_message(timeout_s: float) -> str:
    """The error text every backend uses when a query hits its time limit."""
    return f"query timed out after {timeout_s:g} s"


def hashable_value(value: Any) -> Any:
    """A driver value as something hashable that compares like SQLite's own values.

    Lists (PostgreSQL arrays) become tuples, dicts (json) sorted item tuples,
    memoryviews bytes; scalars stay as they are so ``1 == 1.0`` still holds.
    """
    if isinstance(value, list | tuple):
        return tuple(hashable_value(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), hashable_value(v)) for k, v in value.items()))
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def hashable_row(row: Sequence[Any]) -> Row:
    """A row as a tuple of hashable values (see :func:`hashable_value`)."""
    return tuple(hashable_value(v) for v in row)


def json_safe(value: Any) -> Any:
    """A cell as a JSON value an agent can read.

    Blobs become ``0x<hex>`` (clipped, with their size), non-finite floats their
    names, decimals numbers, dates and times ISO strings, anything else ``str``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if len(data) <= MAX_BLOB_BYTES:
            return "0x" + data.hex()
        return f"0x{data[:MAX_BLOB_BYTES].hex()}… ({len(data)} bytes)"
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


def sqlglot_dialect(dialect: str) -> str:
    """sqlglot's name for a dialect as the environment names it (``postgresql`` -> ``postgres``)."""
    return {"postgresql": "postgres", "sqlite3": "sqlite"}.get(dialect, dialect)
