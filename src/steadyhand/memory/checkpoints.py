"""LangGraph checkpointers that live beside the result store.

A SQLite store at ``path.db`` keeps its checkpoints in ``path.checkpoints.db``
(langgraph-checkpoint-sqlite); a PostgreSQL store keeps them in the same database
(langgraph-checkpoint-postgres, the ``postgres`` extra). Threads are keyed
``<run id>/<task id>/<attempt>`` by the runner, so every episode attempt has its own.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from steadyhand.core.errors import ConfigurationError


def checkpoint_path_for(store_url: str) -> Path | None:
    """The checkpoint file of a SQLite store URL; None for other databases or in-memory stores."""
    if not store_url.startswith("sqlite") or ":memory:" in store_url:
        return None
    path = Path(store_url.split("///", 1)[-1]).expanduser()
    return path.with_name(path.stem + ".checkpoints" + (path.suffix or ".db"))


@contextmanager
def open_checkpointer(store_url: str) -> Iterator[Any]:
    """Yield a checkpointer for runs recorded in ``store_url`` (closed on exit).

    Raises:
        ConfigurationError: a PostgreSQL URL without the ``postgres`` extra installed.
    """
    if store_url.startswith("postgresql"):
        try:
            from langgraph.checkpoint.postgres import PostgresSaver
        except ImportError as exc:
            raise ConfigurationError("PostgreSQL checkpoints need: pip install 'steadyhand[postgres]'") from exc
        conninfo = store_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with PostgresSaver.from_conn_string(conninfo) as saver:
            saver.setup()
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = checkpoint_path_for(store_url)
    conn = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, timeout=60)
    try:
        sqlite_saver = SqliteSaver(conn)
        _prepare(conn, sqlite_saver)
        yield sqlite_saver
    finally:
        conn.close()


def _prepare(conn: sqlite3.Connection, saver: Any, *, attempts: int = 50) -> None:
    """Switch the file to WAL and create the tables, waiting out other processes doing the same.

    Several runner workers open the same file at once; SQLite answers "database is
    locked" at once (without its busy handler) to a journal-mode change racing
    another, so the switch is retried here.
    """
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # crash-safe with WAL; see evals.store
            saver.setup()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
