"""Execution accuracy: run the predicted and the gold query, compare their results.

:class:`ExecutionScorer` is built for throughput: it keeps one read-only connection
per database file (``mode=ro&immutable=1``: no locking, no journal) instead of
opening one per query, and caches gold results per (database, gold query), so
scoring many predictions for the same questions runs each gold query once.
Verdicts are exactly those of the official scripts' comparison rules
(see :mod:`steadyhand.environments.sql.scoring.compare`).

Not thread-safe: use one scorer per thread.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from steadyhand.core.errors import ConfigurationError
from steadyhand.environments.sql.results import QueryResult
from steadyhand.environments.sql.scoring.compare import bird_match, gold_is_ordered, spider_match
from steadyhand.environments.sql.sqlite_backend import connect_readonly, run_sqlite

Metric = Literal["bird", "spider"]
METRICS: tuple[str, ...] = ("bird", "spider")

#: Runs one query on one database: ``runner(database, sql)``.
QueryRunner = Callable[[str, str], QueryResult]

#: Gold results with more rows than this are not cached (memory).
MAX_CACHED_ROWS = 100_000


@dataclass(frozen=True)
class Verdict:
    """Whether a predicted query is right, and what was seen on the way.

    Attributes:
        correct: the metric says the predicted results equal the gold results.
        metric: ``bird`` or ``spider``.
        predicted: the predicted query's result on the main database.
        databases: per database checked, whether the results agreed (``spider``
            stops at the first disagreement); a database where the gold query
            failed is left out and named in ``skipped``.
        error: scoring itself failed (the gold query failed on the main database).
        ordered: row order was compared (the gold query has a top-level ORDER BY).
    """

    correct: bool
    metric: str
    predicted: QueryResult
    databases: dict[str, bool] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    ordered: bool = False


class ReadOnlyPool:
    """Read-only SQLite connections, one per database file, reused; the least recently used is closed."""

    def __init__(self, *, max_open: int = 32) -> None:
        self.max_open = max_open
        self._conns: OrderedDict[str, sqlite3.Connection] = OrderedDict()

    def get(self, database: str) -> sqlite3.Connection:
        """The open connection for ``database`` (opened on first use).

        Raises:
            sqlite3.OperationalError: the file cannot be opened.
        """
        conn = self._conns.get(database)
        if conn is not None:
            self._conns.move_to_end(database)
            return conn
        conn = connect_readonly(database)
        self._conns[database] = conn
        while len(self._conns) > self.max_open:
            _, old = self._conns.popitem(last=False)
            old.close()
        return conn

    def close(self) -> None:
        while self._conns:
            _, conn = self._conns.popitem()
            conn.close()


class ExecutionScorer:
    """Scores predicted queries by execution against SQLite files (or any ``runner``).

    Args:
        timeout_s: limit per query execution (BIRD uses 30 s); a timeout is an error.
        max_open_databases: read-only connections kept open.
        gold_cache_size: gold results kept (least recently used dropped).
    """

    def __init__(self, *, timeout_s: float = 30.0, max_open_databases: int = 32,
                 gold_cache_size: int = 4096) -> None:
        self.timeout_s = timeout_s
        self.pool = ReadOnlyPool(max_open=max_open_databases)
        self.gold_cache_size = gold_cache_size
        self._gold: OrderedDict[tuple[str, str], QueryResult] = OrderedDict()
        self.gold_cache_hits = 0

    # --- running queries ---------------------------------------------------------------

    def run(self, database: str, sql: str) -> QueryResult:
        """Run ``sql`` read-only on the SQLite file ``database``, with the time limit."""
        try:
            conn = self.pool.get(database)
        except sqlite3.Error as exc:
            return QueryResult.failure(f"cannot open database {database}: {exc}")
        return run_sqlite(conn, sql, timeout_s=self.timeout_s)

    def gold(self, database: str, sql: str) -> QueryResult:
        """Like :meth:`run`, cached per (database, query) for gold queries."""
        key = (database, sql)
        cached = self._gold.get(key)
        if cached is not None:
            self._gold.move_to_end(key)
            self.gold_cache_hits += 1
            return cached
        result = self.run(database, sql)
        if result.ok and result.row_count <= MAX_CACHED_ROWS and self.gold_cache_size > 0:
            self._gold[key] = result
            while len(self._gold) > self.gold_cache_size:
                self._gold.popitem(last=False)
        return result

    # --- verdicts ------------------------------------------------------------------------

    def score(self, predicted: str, *, gold: str, database: str, metric: str = "bird",
              test_suite: Sequence[str] | None = None, dialect: str = "sqlite",
              runner: QueryRunner | None = None) -> Verdict:
        """The verdict of ``metric`` on ``predicted`` against ``gold``.

        ``bird`` compares result sets on ``database``. ``spider`` compares multisets
        (ordered when the gold query orders) on ``database`` and then on every other
        database of ``test_suite``; all must agree. ``runner`` replaces the read-only
        SQLite execution (gold results are then not cached).

        Raises:
            ConfigurationError: unknown metric.
        """
        if metric not in METRICS:
            raise ConfigurationError(f"unknown SQL metric {metric!r}; known: {', '.join(METRICS)}")
        run_pred = runner or self.run
        run_gold = runner or self.gold
        databases = [database] + [d for d in (test_suite or ()) if d != database]
        if metric == "bird":
            databases = databases[:1]
        ordered = metric == "spider" and gold_is_ordered(gold, dialect)
        checked: dict[str, bool] = {}
        skipped: dict[str, str] = {}
        main_prediction = QueryResult.failure("not executed")
        for i, db in enumerate(databases):
            pred = run_pred(db, predicted)
            if i == 0:
                main_prediction = pred
            if not pred.ok:
                checked[db] = False
                return Verdict(False, metric, main_prediction, checked, skipped, ordered=ordered)
            expected = run_gold(db, gold)
            if not expected.ok:
                if i == 0:
                    return Verdict(False, metric, main_prediction, checked, skipped,
                                   error=f"gold query failed on {_name(db)}: {expected.error}", ordered=ordered)
                skipped[db] = expected.error or "failed"
                continue
            if metric == "bird":
                agree = bird_match(pred.rows, expected.rows)
            else:
                agree = spider_match(pred.rows, expected.rows, ordered=ordered)
            checked[db] = agree
            if not agree:
                return Verdict(False, metric, main_prediction, checked, skipped, ordered=ordered)
        return Verdict(True, metric, main_prediction, checked, skipped, ordered=ordered)

    def close(self) -> None:
        """Close every pooled connection and drop the gold cache."""
        self.pool.close()
        self._gold.clear()

    def __enter__(self) -> ExecutionScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _name(database: str) -> str:
    return Path(database).name if "://" not in database else database.rsplit("/", 1)[-1]
