"""SQLite: time-limited query execution, read-only scoring connections, and episode copies.

An episode never touches the task's database file: :class:`SQLiteEpisodeDatabase`
copies it into a private temp directory and opens the copy, so ``DROP``/``DELETE``
/``UPDATE`` change only the copy. ``ATTACH`` of a file (and ``VACUUM INTO``) is refused
on every connection made here, so a query cannot reach another file (the original
included); temporary and in-memory databases may still be attached.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from steadyhand.core.errors import DatasetError
from steadyhand.environments.sql.results import QueryResult, Row, timeout_message

#: VM instructions between two checks of the deadline (cheap; about a few µs apart).
PROGRESS_INTERVAL = 1000
#: The longest string or blob one value may have on episode connections.
MAX_VALUE_BYTES = 64 * 1024 * 1024

#: ATTACH targets that are no file: temporary and in-memory databases (VACUUM attaches one itself).
_HARMLESS_ATTACH = {"", ":memory:"}


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    if action == sqlite3.SQLITE_ATTACH and (arg1 or "") not in _HARMLESS_ATTACH:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _decode_replacing(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _guard(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.set_authorizer(_authorizer)
    return conn


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to ``path`` (``mode=ro&immutable=1``: no locks, no writes, no journal).

    Raises:
        sqlite3.OperationalError: the file cannot be opened.
    """
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    return _guard(conn)


def run_sqlite(conn: sqlite3.Connection, sql: str, *, timeout_s: float, max_rows: int | None = None) -> QueryResult:
    """Run one statement on ``conn`` and return its rows or its error; never raises for bad SQL.

    The time limit really interrupts the query (a progress handler aborts the VM once
    the deadline has passed, also while rows are fetched). ``max_rows`` keeps only
    the first rows while still counting all of them. Text that is not valid UTF-8 is
    decoded with replacement characters rather than failing the query.
    """
    result = _run_once(conn, sql, timeout_s=timeout_s, max_rows=max_rows)
    if result.error and "Could not decode to UTF-8" in result.error and conn.text_factory is str:
        conn.text_factory = _decode_replacing
        try:
            result = _run_once(conn, sql, timeout_s=timeout_s, max_rows=max_rows)
        finally:
            conn.text_factory = str
    return result


def _run_once(conn: sqlite3.Connection, sql: str, *, timeout_s: float, max_rows: int | None) -> QueryResult:
    deadline = time.monotonic() + timeout_s
    expired = False

    def check() -> int:
        nonlocal expired
        if time.monotonic() > deadline:
            expired = True
            return 1
        return 0

    conn.set_progress_handler(check, PROGRESS_INTERVAL)
    try:
        cursor = conn.execute(sql)
        if cursor.description is None:
            affected = cursor.rowcount if cursor.rowcount >= 0 else None
            return QueryResult(columns=[], rows=[], row_count=0, affected=affected)
        columns = [d[0] for d in cursor.description]
        if max_rows is None:
            rows: list[Row] = cursor.fetchall()
            return QueryResult(columns=columns, rows=rows, row_count=len(rows))
        rows = cursor.fetchmany(max_rows)
        count = len(rows)
        if count == max_rows:
            while batch := cursor.fetchmany(1024):
                count += len(batch)
        return QueryResult(columns=columns, rows=rows, row_count=count, truncated=count > len(rows))
    except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError) as exc:
        if expired:
            return QueryResult.failure(timeout_message(timeout_s), timed_out=True)
        message = str(exc) or type(exc).__name__
        if message in ("not authorized", "authorization denied"):
            message = f"{message}: attaching or writing other database files is disabled in this environment"
        return QueryResult.failure(message)
    finally:
        conn.set_progress_handler(None, 0)


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def format_sample(columns: list[str], rows: list[Row], *, cell_chars: int = 40) -> str:
    """Rows as a small ``a | b`` table, cells clipped to ``cell_chars``."""
    def cell(value: object) -> str:
        text = "NULL" if value is None else (f"<{len(value)} bytes>" if isinstance(value, bytes) else str(value))
        text = " ".join(text.split())
        return text if len(text) <= cell_chars else text[: cell_chars - 1] + "…"

    lines = [" | ".join(columns)]
    lines += [" | ".join(cell(v) for v in row) for row in rows]
    return "\n".join(lines)


def sqlite_schema_text(conn: sqlite3.Connection, *, sample_rows: int = 3, timeout_s: float = 5.0) -> str:
    """Every table's ``CREATE TABLE`` text, each followed by its first ``sample_rows`` rows."""
    tables = run_sqlite(
        conn, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
              "AND sql IS NOT NULL ORDER BY rowid", timeout_s=timeout_s)
    if not tables.ok:
        return f"-- schema unavailable: {tables.error}"
    blocks = []
    for name, ddl in tables.rows:
        block = str(ddl).strip().rstrip(";") + ";"
        if sample_rows > 0:
            sample = run_sqlite(conn, f"SELECT * FROM {quote_identifier(name)} LIMIT {int(sample_rows)}",
                                timeout_s=timeout_s)
            if sample.ok and sample.rows and sample.columns:
                block += (f"\n/* {len(sample.rows)} example rows from {name}:\n"
                          f"{format_sample(sample.columns, sample.rows)}\n*/")
        blocks.append(block)
    return "\n\n".join(blocks)


class SQLiteEpisodeDatabase:
    """A private, writable copy of a SQLite database for one episode.

    Raises (constructor):
        DatasetError: the source file does not exist or is not a SQLite database.
    """

    dialect = "sqlite"

    def __init__(self, source: str | Path) -> None:
        self.source = Path(source)
        if not self.source.is_file():
            raise DatasetError("database file not found", path=str(self.source))
        self._dir = Path(tempfile.mkdtemp(prefix="steadyhand-sql-"))
        self.path = self._dir / self.source.name
        try:
            shutil.copyfile(self.source, self.path)
            self._conn = _guard(sqlite3.connect(self.path, isolation_level=None, check_same_thread=False))
            self._conn.text_factory = _decode_replacing
            self._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
            self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise DatasetError(f"cannot open as a SQLite database: {exc}", path=str(self.source)) from exc

    def execute(self, sql: str, *, timeout_s: float, max_rows: int | None) -> QueryResult:
        """Run one statement on the copy (see :func:`run_sqlite`)."""
        return run_sqlite(self._conn, sql, timeout_s=timeout_s, max_rows=max_rows)

    def schema_text(self, *, sample_rows: int = 3) -> str:
        """DDL plus sample rows of the copy (see :func:`sqlite_schema_text`)."""
        return sqlite_schema_text(self._conn, sample_rows=sample_rows)

    def close(self) -> None:
        """Close the connection and delete the copy; safe to call twice."""
        conn: sqlite3.Connection | None = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None  # type: ignore[assignment]
        shutil.rmtree(self._dir, ignore_errors=True)
