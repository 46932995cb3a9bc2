"""The SQL environment: an agent runs queries against a database, then submits one.

Isolation: a SQLite task's database file is copied into a private temp directory
and the episode works on the copy; a PostgreSQL task runs inside one transaction
that is rolled back when the episode ends. Either way the task's data is the same
after the episode, whatever the agent ran.

Scoring (:meth:`SQLEnvironment.evaluate`) never looks at the agent's changes: on
SQLite it runs read-only against the original files (every database of the test
suite for the ``spider`` metric), on PostgreSQL after rolling back to the state at
reset.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from steadyhand.core.actions import ActionBase, ExecuteSQL, SubmitSQL
from steadyhand.core.errors import ConfigurationError, DatasetError, EnvironmentFault
from steadyhand.core.observation import Observation, StepResult
from steadyhand.core.registry import environments
from steadyhand.core.score import Score
from steadyhand.core.task import Task
from steadyhand.environments.sql.postgres_backend import PostgresEpisodeDatabase
from steadyhand.environments.sql.results import QueryResult, json_safe
from steadyhand.environments.sql.scoring.execution import METRICS, ExecutionScorer, Verdict
from steadyhand.environments.sql.scoring.partial import (
    PartialRewardConfig,
    SQLJudge,
    combine,
    judge_term,
    partial_terms,
)
from steadyhand.environments.sql.sqlite_backend import SQLiteEpisodeDatabase

#: The metric used when a task's evaluator names none.
DEFAULT_METRIC = "spider"


def open_episode_database(database: str, *, timeout_s: float) -> SQLiteEpisodeDatabase | PostgresEpisodeDatabase:
    """A private episode view of ``database``: a SQLite file path (or ``sqlite:///`` URL) or a PostgreSQL URL.

    Raises:
        DatasetError: the SQLite file is missing or unreadable.
        ConfigurationError: a URL of a database kind this environment does not support.
        EnvironmentFault: the PostgreSQL server cannot be reached.
    """
    if "://" not in database:
        return SQLiteEpisodeDatabase(database)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(database)
    except ArgumentError as exc:
        raise ConfigurationError(f"invalid database URL {database!r}: {exc}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database:
        return SQLiteEpisodeDatabase(url.database)
    if backend == "postgresql":
        return PostgresEpisodeDatabase(database, timeout_s=timeout_s)
    raise ConfigurationError(f"unsupported database {url.render_as_string()}: use a SQLite file or a PostgreSQL URL")


class SQLEnvironment:
    """Text-to-SQL episodes: ``execute_sql`` to explore, ``submit_sql`` to answer.

    Args:
        row_limit: rows shown per query result (the full count is in ``row_count``).
        timeout_s: time limit of each agent query; a query over it is interrupted and
            comes back as the error ``query timed out after N s``.
        partial_rewards: weights and bands of the partial-reward terms
            (:class:`PartialRewardConfig`, or a dict of its fields).
        judge: an optional LLM judge (:class:`SQLJudge`) adding the ``judge`` term.
        sample_rows: example rows shown per table in the schema text.
        scoring_timeout_s: time limit of each query run while scoring (BIRD: 30 s).

    Observations: ``reset`` returns the question (plus ``Evidence: ...`` when the task
    has evidence) with ``info = {db_id, dialect, schema}``; a query returns
    ``columns``/``rows`` (JSON-safe, at most ``row_limit``)/``row_count``/``truncated``,
    or ``error``. Bad SQL, timeouts and unsupported actions are observation errors,
    never exceptions; infrastructure failures raise
    :class:`~steadyhand.core.errors.EnvironmentFault`.
    """

    def __init__(self, *, row_limit: int = 50, timeout_s: float = 30.0,
                 partial_rewards: PartialRewardConfig | Mapping[str, Any] | None = None,
                 judge: SQLJudge | None = None, sample_rows: int = 3, scoring_timeout_s: float = 30.0) -> None:
        if row_limit < 1:
            raise ConfigurationError(f"row_limit must be at least 1, got {row_limit}")
        if timeout_s <= 0 or scoring_timeout_s <= 0:
            raise ConfigurationError("timeout_s and scoring_timeout_s must be positive")
        self.row_limit = row_limit
        self.timeout_s = timeout_s
        self.scoring_timeout_s = scoring_timeout_s
        self.sample_rows = sample_rows
        if partial_rewards is None:
            partial_rewards = PartialRewardConfig()
        elif not isinstance(partial_rewards, PartialRewardConfig):
            partial_rewards = PartialRewardConfig.model_validate(dict(partial_rewards))
        self.partial_rewards = partial_rewards
        self.judge = judge
        self._scorer: ExecutionScorer | None = None
        self._db: SQLiteEpisodeDatabase | PostgresEpisodeDatabase | None = None
        self._task: Task | None = None
        self._schema = ""
        self._submitted: str | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        """Open a private view of the task's database and show the question and schema.

        ``seed`` is accepted for the protocol; SQL episodes are deterministic.

        Raises:
            DatasetError: the task's evaluator lacks ``database``/``gold`` or names an
                unknown metric; the database file is missing.
            EnvironmentFault: a PostgreSQL server cannot be reached.
        """
        self._close_episode()
        for name in ("database", "gold"):
            if not isinstance(task.evaluator.get(name), str) or not task.evaluator[name]:
                raise DatasetError("the SQL evaluator needs this field", item=task.id, field=f"evaluator.{name}")
        metric = task.evaluator.get("metric", DEFAULT_METRIC)
        if metric not in METRICS:
            raise DatasetError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}", item=task.id,
                               field="evaluator.metric")
        self._db = open_episode_database(task.evaluator["database"], timeout_s=self.timeout_s)
        self._task = task
        self._submitted = None
        self._schema = self._db.schema_text(sample_rows=self.sample_rows)
        text = task.instruction
        if task.metadata.get("evidence"):
            text += f"\nEvidence: {task.metadata['evidence']}"
        return Observation(text=text, info={"db_id": self._db_id(task), "dialect": self._db.dialect,
                                            "schema": self._schema})

    def schema_text(self) -> str:
        """The current database's DDL with a few example rows per table ("" before ``reset``)."""
        return self._schema

    def close(self) -> None:
        """End the episode (delete the copy / roll back) and close scoring connections; idempotent."""
        self._close_episode()
        if self._scorer is not None:
            self._scorer.close()
            self._scorer = None

    def _close_episode(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            db.close()

    @staticmethod
    def _db_id(task: Task) -> str:
        return str(task.metadata.get("db_id") or Path(str(task.evaluator["database"])).stem)

    # --- acting --------------------------------------------------------------------------

    def step(self, action: ActionBase) -> StepResult:
        """Run an ``ExecuteSQL`` or ``SubmitSQL`` action (submitting ends the episode).

        Raises:
            EnvironmentFault: called before ``reset``, or the database connection died.
        """
        if self._db is None or self._task is None:
            raise EnvironmentFault("step() called before reset(): no database is open")
        if self._submitted is not None:
            return StepResult(observation=Observation(error="the episode is over: a query was already submitted"),
                              terminated=True)
        if not isinstance(action, ExecuteSQL | SubmitSQL):
            return StepResult(observation=Observation(
                error=f"action {action.kind!r} is not available here; use execute_sql or submit_sql"))
        started = time.perf_counter()
        if not action.query.strip():
            result = QueryResult.failure("empty query: write one SQL statement")
        else:
            result = self._db.execute(action.query, timeout_s=self.timeout_s, max_rows=self.row_limit)
        info = {"elapsed_s": round(time.perf_counter() - started, 6), "timed_out": result.timed_out}
        submitted = isinstance(action, SubmitSQL)
        if submitted:
            self._submitted = action.query
        return StepResult(observation=self._observe(result), terminated=submitted, info=info)

    def _observe(self, result: QueryResult) -> Observation:
        if not result.ok:
            return Observation(error=result.error)
        text = None
        if not result.columns:
            affected = f": {result.affected} row(s) affected" if result.affected is not None else ""
            text = f"statement executed{affected}"
        return Observation(text=text, columns=result.columns, rows=[[json_safe(v) for v in r] for r in result.rows],
                           row_count=result.row_count, truncated=result.truncated)

    # --- scoring ---------------------------------------------------------------------------

    @property
    def scorer(self) -> ExecutionScorer:
        """The execution scorer (read-only connections and gold results are kept across episodes)."""
        if self._scorer is None:
            self._scorer = ExecutionScorer(timeout_s=self.scoring_timeout_s)
        return self._scorer

    def evaluate(self) -> Score:
        """Execution accuracy of the submitted query, with every partial-reward term.

        ``value`` is 1 when the task's metric says the submitted query is right, else 0
        (also when nothing was submitted). ``components`` holds ``execution``, the
        shaping terms and their total ``partial_reward``; ``details`` the difficulty,
        db_id, gold and predicted queries and the metric. When the gold query itself
        fails, ``error`` says so and the value is 0.

        Raises:
            EnvironmentFault: called before ``reset``, or the database connection died.
        """
        if self._db is None or self._task is None:
            raise EnvironmentFault("evaluate() called before reset(): no episode to score")
        task = self._task
        evaluator = task.evaluator
        metric = str(evaluator.get("metric", DEFAULT_METRIC))
        details: dict[str, Any] = {"difficulty": task.difficulty, "db_id": self._db_id(task),
                                   "gold": evaluator["gold"], "predicted": self._submitted, "metric": metric,
                                   "dialect": self._db.dialect, "submitted": self._submitted is not None}
        with_judge = self.judge is not None
        if self._submitted is None:
            terms = partial_terms(None, evaluator["gold"], correct=False, executed=False)
            if with_judge:
                terms["judge"] = 0.0
            details["reason"] = "no query was submitted"
            components = {**terms, "partial_reward": 0.0}
            return Score(value=0.0, components=components, details=details)
        verdict = self._verdict(metric)
        terms = partial_terms(self._submitted, evaluator["gold"], correct=verdict.correct,
                              executed=verdict.predicted.ok, dialect=self._db.dialect)
        if self.judge is not None:
            terms["judge"], judge_error = judge_term(self.judge, question=task.instruction, schema=self._schema,
                                                     gold=evaluator["gold"], predicted=self._submitted)
            if judge_error:
                details["judge_error"] = judge_error
        total = combine(terms, correct=verdict.correct, config=self.partial_rewards, with_judge=with_judge)
        details.update({
            "ordered": verdict.ordered,
            "databases_checked": len(verdict.databases),
            "database_results": {Path(k).name if "://" not in k else "main": v for k, v in verdict.databases.items()},
        })
        if verdict.skipped:
            details["skipped_databases"] = {Path(k).name: v for k, v in verdict.skipped.items()}
        if verdict.predicted.error:
            details["predicted_error"] = verdict.predicted.error
        return Score(value=float(verdict.correct), components={**terms, "partial_reward": total}, details=details,
                     error=verdict.error)

    def _verdict(self, metric: str) -> Verdict:
        assert self._task is not None and self._db is not None and self._submitted is not None
        evaluator = self._task.evaluator
        db = self._db
        if isinstance(db, PostgresEpisodeDatabase):
            def runner(database: str, sql: str) -> QueryResult:
                return db.run_pristine(sql, timeout_s=self.scoring_timeout_s)

            return self.scorer.score(self._submitted, gold=evaluator["gold"], database=evaluator["database"],
                                     metric=metric, dialect=db.dialect, runner=runner)
        main = str(db.source.resolve())
        suite = [str(Path(p).resolve()) for p in evaluator.get("test_suite") or [main]]
        return self.scorer.score(self._submitted, gold=evaluator["gold"], database=main, metric=metric,
                                 test_suite=suite, dialect=db.dialect)


environments.register("sql", SQLEnvironment)
