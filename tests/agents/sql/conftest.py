"""Fixtures for the SQL agent tests: a small real SQLite database and its tasks."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from steadyhand.core import ExecuteSQL, Observation, Score, StepResult, SubmitSQL, Task
from steadyhand.core.actions import ActionBase


class StandInSQLEnvironment:
    """TEMPORARY stand-in following the SQLEnvironment spec until it lands."""

    def __init__(self, row_limit: int = 50, timeout_s: float = 30.0) -> None:
        self.row_limit, self.timeout_s = row_limit, timeout_s
        self.submitted: str | None = None

    def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.task, self.submitted = task, None
        self.conn = sqlite3.connect(task.evaluator["database"])
        schema = "\n".join(r[0] for r in self.conn.execute("SELECT sql FROM sqlite_master WHERE type='table'"))
        text = task.instruction + (f"\nEvidence: {task.metadata['evidence']}" if task.metadata.get("evidence") else "")
        return Observation(text=text, info={"db_id": task.metadata.get("db_id"), "dialect": "sqlite",
                                            "schema": schema})

    def _run(self, query: str) -> tuple[list[str], list[list[Any]]]:
        deadline = time.monotonic() + self.timeout_s
        self.conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        try:
            cur = self.conn.execute(query)
            return [d[0] for d in cur.description or []], [list(r) for r in cur.fetchall()]
        finally:
            self.conn.set_progress_handler(None, 0)

    def step(self, action: ActionBase) -> StepResult:
        assert isinstance(action, ExecuteSQL | SubmitSQL)
        if isinstance(action, SubmitSQL):
            self.submitted = action.query
            return StepResult(observation=Observation(text="submitted"), terminated=True)
        try:
            cols, rows = self._run(action.query)
        except sqlite3.Error as exc:
            msg = "query timed out" if "interrupted" in str(exc) else str(exc)
            return StepResult(observation=Observation(error=msg))
        return StepResult(observation=Observation(columns=cols, rows=rows[: self.row_limit], row_count=len(rows),
                                                  truncated=len(rows) > self.row_limit))

    def evaluate(self) -> Score:
        if not self.submitted:
            return Score(value=0.0)
        try:
            got = Counter(map(tuple, self._run(self.submitted)[1]))
        except sqlite3.Error as exc:
            return Score(value=0.0, error=str(exc))
        want = Counter(map(tuple, self._run(self.task.evaluator["gold"])[1]))
        return Score(value=float(got == want))

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def env_class() -> Any:
    """The SQL environment class under test (the real one once it exists)."""
    try:
        from steadyhand.environments.sql import SQLEnvironment
    except ImportError:
        return StandInSQLEnvironment
    return SQLEnvironment


@pytest.fixture
def music_db(tmp_path: Path) -> Path:
    """A real SQLite database: singers and their concerts."""
    path = tmp_path / "music.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);
        CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, singer_id INTEGER REFERENCES singer,
                              year INTEGER, venue TEXT);
        INSERT INTO singer VALUES (1, 'Ana', 'France', 30), (2, 'Ben', 'Spain', 41),
                                  (3, 'Chloe', 'France', 25), (4, 'Dan', 'Norway', 52);
        INSERT INTO concert VALUES (1, 1, 2019, 'Olympia'), (2, 1, 2021, 'Zenith'),
                                   (3, 2, 2021, 'Palau'), (4, 4, 2020, 'Spektrum');
    """)
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def music_task(music_db: Path) -> Task:
    """How many singers are from France? (gold answer: 2)."""
    return Task(id="music-1", instruction="How many singers are from France?", environment="sql",
                evaluator={"gold": "SELECT count(*) FROM singer WHERE country = 'France'",
                           "database": str(music_db)},
                metadata={"db_id": "music", "difficulty": "simple"})


@pytest.fixture
def write_script(tmp_path: Path) -> Any:
    """Write a scripted-model script and return its ``scripted:`` spec."""
    def write(script: dict[str, Any] | list[str], name: str = "script.json") -> str:
        path = tmp_path / name
        path.write_text(json.dumps(script))
        return f"scripted:{path}"
    return write


class Episode:
    """What :func:`run_episode` saw: the outcome, the score, the steps and the model."""

    def __init__(self, outcome: Any, score: Score, steps: list[Any], model: Any) -> None:
        self.outcome, self.score, self.steps, self.model = outcome, score, steps, model

    @property
    def model_calls(self) -> int:
        from steadyhand.models import usage

        return len(usage(self.model).calls)

    @property
    def queries(self) -> list[str]:
        return [s.action["query"] for s in self.steps if s.action["kind"] == "sql.execute"]


@pytest.fixture
def run_episode(env_class: Any) -> Any:
    """Run one task through the real environment and the SQL agent with a model spec."""
    from steadyhand.agents import EpisodeContext
    from steadyhand.agents.sql import SQLAgent
    from steadyhand.models import load

    def run(task: Task, spec: str, *, env_options: dict[str, Any] | None = None,
            checkpointer: Any = None, thread_id: str = "thread-1", model: Any = None,
            **agent_options: Any) -> Episode:
        env = env_class(**(env_options or {}))
        model = model if model is not None else load(spec)
        steps: list[Any] = []
        try:
            first = env.reset(task)
            ctx = EpisodeContext(task=task, env=env, model=model, thread_id=thread_id,
                                 checkpointer=checkpointer, record_step=steps.append)
            outcome = SQLAgent(**agent_options).run(ctx, first)
            score = env.evaluate()
        finally:
            env.close()
        return Episode(outcome, score, steps, model)

    return run
