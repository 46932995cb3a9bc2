from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty result-store URL: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'results.db'}"
        return
    admin_url: str = request.getfixturevalue("postgres_url")
    name = "store_" + secrets.token_hex(4)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    base = admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


KillOnce = Callable[[Path, Callable[[], list[int]]], tuple[threading.Thread, list[int]]]


@pytest.fixture()
def kill_once_mid_episode() -> KillOnce:
    """Start a thread that SIGKILLs the first pid ``find_pids()`` gives once an episode in ``db`` is running.

    Returns the thread (join it after the run) and the list the killed pid is appended to.
    """

    def start(db: Path, find_pids: Callable[[], list[int]]) -> tuple[threading.Thread, list[int]]:
        from steadyhand.evals import ResultStore

        killed: list[int] = []

        def watch() -> None:
            deadline = time.monotonic() + 120
            while not killed and time.monotonic() < deadline:
                if db.exists():
                    store = ResultStore(f"sqlite:///{db}")
                    running = any(e["status"] == "running" for run in store.list_runs()
                                  for e in store.episodes(run["id"]))
                    store.close()
                    pids = find_pids()
                    if running and pids:
                        os.kill(pids[0], signal.SIGKILL)
                        killed.append(pids[0])
                time.sleep(0.05)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        return thread, killed

    return start
