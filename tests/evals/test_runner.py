"""The runner end to end: the real sql-mini suite, SQL environment and SQL agent.

The model is the scripted oracle (gold SQL for every question), so scores are
exact and every failure is the runner's.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from steadyhand.agents.sql import write_oracle_script
from steadyhand.core import ConfigurationError
from steadyhand.evals import ResultStore, RunConfig, resolve_suite, run_suite, summarize_run


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("oracle") / "oracle.json"
    write_oracle_script(resolve_suite("sql-mini").load(), path)
    return f"scripted:{path}"


def test_oracle_run_scores_every_episode(oracle: str, store_url: str) -> None:
    result = run_suite(RunConfig(suite="sql-mini", model=oracle, limit=6), store_url=store_url, progress=False)
    assert [r.status for r in result.results] == ["done"] * 6
    store = ResultStore(store_url)
    episodes = store.episodes(result.run_id)
    assert len(episodes) == 6
    for e in episodes:
        assert e["scores"]["score"] == 1.0 and e["scores"]["partial_reward"] > 0.5
        steps = store.steps(e["id"])
        assert [s.index for s in steps] == list(range(len(steps))) and steps[-1].action["kind"] == "sql.submit"
        assert e["input_tokens"] > 0 and e["output_tokens"] > 0
    summary = summarize_run(store, result.run_id)
    assert summary.overall.score == 1.0 and summary.overall.episodes == 6
    assert sum(g.episodes for g in summary.groups) == 6 and summary.group_by == "difficulty"
    assert store.get_run(result.run_id).status == "finished"
    store.close()


def test_worker_processes_give_the_same_scores(oracle: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    one = run_suite(RunConfig(suite="sql-mini", model=oracle, limit=8), store_url=url, progress=False)
    two = run_suite(RunConfig(suite="sql-mini", model=oracle, limit=8, concurrency=2), store_url=url,
                    progress=False)
    store = ResultStore(url)
    scores = [{e["task_id"]: e["scores"] for e in store.episodes(r.run_id)} for r in (one, two)]
    assert scores[0] == scores[1] and len(scores[0]) == 8
    store.close()


def test_model_garbage_never_crashes_the_run(tmp_path: Path) -> None:
    script = tmp_path / "garbage.yaml"
    script.write_text(yaml.safe_dump({"default": "I refuse to write SQL. DROP everything!!"}))
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = run_suite(RunConfig(suite="sql-mini", model=f"scripted:{script}", limit=3), store_url=url,
                       progress=False)
    assert len(result.results) == 3
    store = ResultStore(url)
    for e in store.episodes(result.run_id):
        assert e["scores"]["score"] == 0.0
    store.close()


def test_unknown_names_fail_before_a_run_is_created(tmp_path: Path, oracle: str) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with pytest.raises(ConfigurationError, match="unknown suite"):
        run_suite(RunConfig(suite="no-such-suite", model=oracle), store_url=url, progress=False)
    with pytest.raises(ConfigurationError, match="unknown agent"):
        run_suite(RunConfig(suite="sql-mini", agent="nobody", model=oracle), store_url=url, progress=False)
    with pytest.raises(ConfigurationError, match="no task"):
        run_suite(RunConfig(suite="sql-mini", model=oracle, task_ids=["nope"]), store_url=url, progress=False)
    assert ResultStore(url).list_runs() == []


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored and children inherit that (so a suite run
    # as `cmd &` would see no Ctrl-C at all); the CLI is run here as a user runs it, in the foreground.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "steadyhand.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=_default_sigint, **kwargs)  # type: ignore[call-overload]


@pytest.fixture
def python_sigint() -> Iterator[None]:
    """Python's own SIGINT handler in this process, whatever the shell that started pytest left."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _done_count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM episodes WHERE status = 'done'").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def _wait_for_done(db: Path, proc: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.monotonic() + 300
    while _done_count(db) < at_least:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "the runner made no progress"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", [1, 2])
def test_sigkill_then_resume_stores_every_episode_exactly_once(oracle: str, tmp_path: Path,
                                                              concurrency: int) -> None:
    db = tmp_path / "results.db"
    url = f"sqlite:///{db}"
    # 0.1 s per model call keeps episodes in flight when the kill lands.
    proc = _cli("eval", "sql-mini", "--model", f"{oracle}?delay_s=0.1", "--db", url, "--quiet",
                "--concurrency", str(concurrency), "--limit", "20")
    _wait_for_done(db, proc, at_least=4)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, no chance to clean up
    proc.wait()
    with sqlite3.connect(db) as conn:
        [(run_id,)] = conn.execute("SELECT id FROM runs").fetchall()
        statuses = dict(conn.execute("SELECT status, count(*) FROM episodes GROUP BY status").fetchall())
    assert 4 <= statuses.get("done", 0) < 20, statuses
    done_before = {e["task_id"]: e["attempt"] for e in ResultStore(url).episodes(run_id) if e["status"] == "done"}

    resumed = _cli("eval", "--resume", run_id, "--db", url, "--quiet", "--concurrency", str(concurrency))
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out
    store = ResultStore(url)
    episodes = store.episodes(run_id)
    assert len(episodes) == 20 and {e["status"] for e in episodes} == {"done"}
    assert all(e["scores"]["score"] == 1.0 for e in episodes)
    for e in episodes:
        if e["task_id"] in done_before:  # finished episodes were not rerun
            assert e["attempt"] == done_before[e["task_id"]]
        steps = store.steps(e["id"])  # one attempt's steps only, each once
        assert [s.index for s in steps] == list(range(len(steps))) and sum(
            s.action["kind"] == "sql.submit" for s in steps) == 1
    assert store.get_run(run_id).status == "finished"
    assert f"run {run_id}" in out.replace("\n", " ") or run_id in out
    store.close()


@pytest.mark.slow
def test_ctrl_c_marks_the_run_interrupted_and_resumable(oracle: str, tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    url = f"sqlite:///{db}"
    proc = _cli("eval", "sql-mini", "--model", f"{oracle}?delay_s=0.5", "--db", url, "--quiet", "--limit", "12")
    _wait_for_done(db, proc, at_least=2)
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert "--resume" in out
    with sqlite3.connect(db) as conn:
        [(run_id, status)] = conn.execute("SELECT id, status FROM runs").fetchall()
    assert status == "interrupted"
    resumed = _cli("eval", "--resume", run_id, "--db", url, "--quiet")
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out
    assert {e["status"] for e in ResultStore(url).episodes(run_id)} == {"done"}


def test_a_ctrl_c_that_sqlite_swallows_still_interrupts_the_run(oracle: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               python_sigint: None) -> None:
    """SIGINT handled inside a sqlite3 callback: sqlite3 clears the KeyboardInterrupt, the query just fails.

    The signal is raised while the third episode's reset prepares a statement, from the
    authorizer SQLite calls back into (as when Ctrl-C lands while SQLite works).
    """
    from steadyhand.environments.sql import sqlite_backend
    from steadyhand.environments.sql.environment import SQLEnvironment

    resets: list[str] = []
    authorizer, reset = sqlite_backend._authorizer, SQLEnvironment.reset

    def counting_reset(self: SQLEnvironment, task: Any, **kwargs: Any) -> Any:
        resets.append(task.id)
        return reset(self, task, **kwargs)

    def interrupting_authorizer(*args: Any) -> int:
        if len(resets) == 3 and not fired:
            fired.append(resets[-1])
            signal.raise_signal(signal.SIGINT)  # handled here, in the callback
        return authorizer(*args)

    fired: list[str] = []
    store_url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setattr(SQLEnvironment, "reset", counting_reset)
    monkeypatch.setattr(sqlite_backend, "_authorizer", interrupting_authorizer)
    with pytest.raises(KeyboardInterrupt) as raised:
        run_suite(RunConfig(suite="sql-mini", model=oracle, limit=6), store_url=store_url, progress=False)
    assert fired, "the authorizer was not called during the third reset"
    [run_id] = raised.value.args
    store = ResultStore(store_url)
    assert store.get_run(run_id).status == "interrupted"
    episodes = {e["task_id"]: e["status"] for e in store.episodes(run_id)}
    assert episodes[fired[0]] != "done" and fired[0] in store.pending_tasks(run_id)
    assert list(episodes.values()).count("done") == 2
    store.close()


def test_cli_runs_and_show(oracle: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    proc = _cli("eval", "sql-mini", "--model", oracle, "--db", url, "--quiet", "--limit", "3")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert "partial" in out and "100.0%" in out
    store = ResultStore(url)
    [run] = store.list_runs()
    listing = subprocess.run([sys.executable, "-m", "steadyhand.cli", "runs", "--db", url], capture_output=True,
                             text=True, check=True).stdout
    assert run["id"] in listing
    shown = subprocess.run([sys.executable, "-m", "steadyhand.cli", "show", run["id"], "--db", url],
                           capture_output=True, text=True, check=True).stdout
    task_id = store.episodes(run["id"])[0]["task_id"]
    assert task_id in shown
    steps = subprocess.run([sys.executable, "-m", "steadyhand.cli", "show", run["id"], "--db", url, "--task", task_id],
                           capture_output=True, text=True, check=True).stdout
    assert "sql.submit" in steps
    bad = subprocess.run([sys.executable, "-m", "steadyhand.cli", "show", "nope", "--db", url], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "no run 'nope'" in bad.stderr
    json.dumps(run, default=str)
