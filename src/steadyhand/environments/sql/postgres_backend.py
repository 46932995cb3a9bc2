"""PostgreSQL: one episode runs inside one transaction that is rolled back at its end.

:class:`PostgresEpisodeDatabase` opens a connection from a SQLAlchemy URL
(``postgresql+psycopg://user:pass@host:port/db``), begins a transaction and marks a
``pristine`` savepoint. Each agent statement runs inside its own savepoint, so a
failing statement does not abort the episode; scoring rolls back to ``pristine``
and so sees the data as it was before the agent acted; ``close`` rolls everything
back. The agent cannot end the transaction: transaction-control statements
(``BEGIN``, ``COMMIT``, ``ROLLBACK``, ``SAVEPOINT``...) and ``COPY`` are refused,
and statements are sent with the extended protocol, which the server accepts only
one statement at a time.

Time limits: ``SET LOCAL statement_timeout`` on the server, plus a client-side
watchdog that cancels the statement shortly after the limit if the server has not
(a statement may change ``statement_timeout``). Use a role without superuser
rights: a superuser can reach the server's files and programs through SQL.

Results are fetched in full by the driver before truncation; the time limit bounds
how large they can grow. Locks an agent's statements take (``DROP``, ``ALTER``,
``UPDATE``) are held until the episode ends, so episodes running at the same time
against one database can block each other until their time limits: give parallel
workers separate databases.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from steadyhand.core.errors import ConfigurationError, EnvironmentFault
from steadyhand.environments.sql.results import QueryResult, timeout_message
from steadyhand.environments.sql.sqlite_backend import format_sample

#: Extra seconds the client-side watchdog waits past the limit before cancelling.
WATCHDOG_GRACE_S = 1.0

_PRISTINE = "steadyhand_pristine"
_STEP = "steadyhand_step"
_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_REFUSED = re.compile(
    r"^(begin|start|commit|end|rollback|abort|savepoint|release|copy|prepare\s+transaction)\b", re.IGNORECASE)


def connection_kwargs(url: str) -> dict[str, Any]:
    """psycopg connection keywords for a SQLAlchemy PostgreSQL URL (query parameters included).

    Raises:
        ConfigurationError: the URL is not a PostgreSQL URL.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"invalid database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(f"not a PostgreSQL URL: {parsed.render_as_string()}")
    kwargs: dict[str, Any] = {"host": parsed.host, "port": parsed.port, "user": parsed.username,
                              "password": parsed.password, "dbname": parsed.database}
    for key, value in parsed.query.items():
        kwargs[key] = value if isinstance(value, str) else value[-1]
    return {k: v for k, v in kwargs.items() if v is not None}


def refused_statement(sql: str) -> str | None:
    """Why ``sql`` may not run inside an episode's transaction, or None when it may."""
    head = _LEADING_NOISE.sub("", sql, count=1)
    match = _REFUSED.match(head)
    if match is None:
        return None
    word = " ".join(match.group(1).upper().split())
    return (f"{word} is not allowed here: the episode runs inside one transaction that the "
            "environment manages (and COPY could reach the server's files)")


class PostgresEpisodeDatabase:
    """One episode's view of a PostgreSQL database: a transaction rolled back at the end.

    Raises (constructor):
        ConfigurationError: the URL is not a PostgreSQL URL or psycopg is not installed.
        EnvironmentFault: the server cannot be reached.
    """

    dialect = "postgresql"

    def __init__(self, url: str, *, timeout_s: float) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is an optional extra
            raise ConfigurationError("PostgreSQL tasks need psycopg: pip install 'steadyhand[postgres]'") from exc
        self._psycopg = psycopg
        self.url = url
        self.timeout_s = timeout_s
        try:
            self._conn = psycopg.connect(**connection_kwargs(url), autocommit=False)
        except psycopg.Error as exc:
            raise EnvironmentFault(f"cannot connect to PostgreSQL: {exc}") from exc
        self._lock = threading.Lock()
        self._running = False
        with self._conn.cursor() as cur:
            cur.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
            cur.execute(f"SAVEPOINT {_PRISTINE}")

    # --- execution -------------------------------------------------------------------

    @contextmanager
    def _watchdog(self, timeout_s: float) -> Iterator[None]:
        def cancel() -> None:
            with self._lock:
                if self._running:
                    self._conn.cancel_safe()

        timer = threading.Timer(timeout_s + WATCHDOG_GRACE_S, cancel)
        timer.daemon = True
        with self._lock:
            self._running = True
        timer.start()
        try:
            yield
        finally:
            with self._lock:
                self._running = False
            timer.cancel()

    def _command(self, sql: str) -> None:
        try:
            self._conn.execute(sql)
        except self._psycopg.Error as exc:
            raise EnvironmentFault(f"PostgreSQL episode transaction failed: {exc}") from exc

    def execute(self, sql: str, *, timeout_s: float, max_rows: int | None) -> QueryResult:
        """Run one statement in its own savepoint; an error rolls back only that statement."""
        reason = refused_statement(sql)
        if reason is not None:
            return QueryResult.failure(reason)
        if self._conn.closed:
            raise EnvironmentFault("the PostgreSQL connection is closed")
        psycopg = self._psycopg
        self._command(f"SAVEPOINT {_STEP}")
        try:
            with self._conn.cursor() as cur, self._watchdog(timeout_s):
                cur.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
                cur.execute(sql, binary=True)  # extended protocol: one statement only
                if cur.description is None:
                    affected = cur.rowcount if cur.rowcount >= 0 else None
                    result = QueryResult(columns=[], rows=[], row_count=0, affected=affected)
                else:
                    columns = [d.name for d in cur.description]
                    rows = [tuple(r) for r in cur.fetchall()]
                    kept = rows if max_rows is None else rows[:max_rows]
                    result = QueryResult(columns=columns, rows=kept, row_count=len(rows),
                                         truncated=len(kept) < len(rows))
        except psycopg.errors.QueryCanceled:
            self._command(f"ROLLBACK TO SAVEPOINT {_STEP}")
            return QueryResult.failure(timeout_message(timeout_s), timed_out=True)
        except psycopg.Error as exc:
            if self._conn.broken:
                raise EnvironmentFault(f"lost the PostgreSQL connection: {exc}") from exc
            self._command(f"ROLLBACK TO SAVEPOINT {_STEP}")
            return QueryResult.failure(str(exc).strip() or type(exc).__name__)
        self._command(f"RELEASE SAVEPOINT {_STEP}")
        return result

    def run_pristine(self, sql: str, *, timeout_s: float) -> QueryResult:
        """Run ``sql`` on the data as it was at reset (the agent's changes are rolled back first)."""
        self._command(f"ROLLBACK TO SAVEPOINT {_PRISTINE}")
        try:
            return self.execute(sql, timeout_s=timeout_s, max_rows=None)
        finally:
            self._command(f"ROLLBACK TO SAVEPOINT {_PRISTINE}")

    # --- schema ----------------------------------------------------------------------

    def schema_text(self, *, sample_rows: int = 3) -> str:
        """``CREATE TABLE`` text (columns, types, keys) of every user table, with sample rows."""
        tables = self.execute(
            "SELECT c.oid::bigint, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY n.nspname, c.relname", timeout_s=self.timeout_s, max_rows=None)
        if not tables.ok:
            return f"-- schema unavailable: {tables.error}"
        blocks = []
        for oid, schema, table in tables.rows:
            name = table if schema == "public" else f"{schema}.{table}"
            ident = _quote(table) if schema == "public" else f"{_quote(schema)}.{_quote(table)}"
            columns = self.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a "
                f"WHERE a.attrelid = {int(oid)} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                timeout_s=self.timeout_s, max_rows=None)
            constraints = self.execute(
                f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = {int(oid)} "
                "AND contype IN ('p', 'u', 'f') "
                "ORDER BY CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 ELSE 2 END, conname",
                timeout_s=self.timeout_s, max_rows=None)
            lines = [f"  {_quote(col)} {kind}{' NOT NULL' if notnull else ''}" for col, kind, notnull in columns.rows]
            lines += [f"  {definition}" for (definition,) in constraints.rows]
            block = f"CREATE TABLE {ident} (\n" + ",\n".join(lines) + "\n);"
            if sample_rows > 0:
                sample = self.execute(f"SELECT * FROM {ident} LIMIT {int(sample_rows)}", timeout_s=self.timeout_s,
                                      max_rows=None)
                if sample.ok and sample.rows and sample.columns:
                    block += (f"\n/* {len(sample.rows)} example rows from {name}:\n"
                              f"{format_sample(sample.columns, sample.rows)}\n*/")
            blocks.append(block)
        return "\n\n".join(blocks)

    def close(self) -> None:
        """Roll the whole episode back and close the connection; safe to call twice."""
        if not self._conn.closed:
            try:
                self._conn.rollback()
            finally:
                self._conn.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
