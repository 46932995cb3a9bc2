"""Fixtures for the SQL agent tests: the real SQL environment, a small real SQLite database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from steadyhand.core import Score, Task
from steadyhand.environments.sql import SQLEnvironment


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
def run_episode() -> Any:
    """Run one task through a real :class:`SQLEnvironment` and the SQL agent.

    The model is ``model`` if given, else built from the spec string.
    """
    from steadyhand.agents import EpisodeContext
    from steadyhand.agents.sql import SQLAgent
    from steadyhand.models import load

    def run(task: Task, spec: str, *, env_options: dict[str, Any] | None = None,
            checkpointer: Any = None, thread_id: str = "thread-1", model: Any = None,
            **agent_options: Any) -> Episode:
        env = SQLEnvironment(**(env_options or {}))
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
