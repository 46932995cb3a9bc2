"""The result store: runs, episodes, steps and scores as SQLAlchemy 2 rows.

SQLite file by default (``sqlite:///path``), any SQLAlchemy URL otherwise
(``postgresql+psycopg://user@host/db``). The schema is versioned in the
``steadyhand_meta`` table; :class:`ResultStore` upgrades older stores in place and
refuses stores written by a newer steadyhand.

Invariants the runner relies on:

* one episode row per (run, task) - a unique constraint, not a convention;
* an episode's steps and scores always belong to its latest attempt: starting an
  attempt deletes what an interrupted earlier attempt left behind, in the same
  transaction that marks the episode running;
* finishing an episode writes its status and scores in one transaction.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from steadyhand.agents.base import StepRecord
from steadyhand.core.errors import ConfigurationError
from steadyhand.core.score import Score

SCHEMA_VERSION = 2


def _now() -> datetime:
    return datetime.now(UTC)


def steadyhand_home() -> Path:
    """Where steadyhand keeps its default store and checkpoints (``$STEADYHAND_HOME``)."""
    return Path(os.environ.get("STEADYHAND_HOME", Path.home() / ".local" / "share" / "steadyhand"))


def default_url() -> str:
    """``$STEADYHAND_DB`` if set, else a SQLite file under :func:`steadyhand_home`."""
    return os.environ.get("STEADYHAND_DB") or f"sqlite:///{steadyhand_home() / 'results.db'}"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    __tablename__ = "steadyhand_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class Run(Base):
    """One invocation of a suite with an agent and a model."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    suite: Mapped[str] = mapped_column(String(128))
    agent: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(512))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|finished|interrupted
    total_tasks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    episodes: Mapped[list[Episode]] = relationship(back_populates="run", cascade="all, delete-orphan")


class Episode(Base):
    """One task within a run. ``status``: pending | running | done | error | infra_error."""

    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("run_id", "task_id", name="uq_episode_run_task"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(256))
    difficulty: Mapped[str] = mapped_column(String(32), default="unknown")
    #: The suite's summary group of the task (its difficulty unless the suite says otherwise).
    report_group: Mapped[str] = mapped_column(String(64), default="unknown")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    steps_taken: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    model_latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    run: Mapped[Run] = relationship(back_populates="episodes")
    steps: Mapped[list[Step]] = relationship(back_populates="episode", cascade="all, delete-orphan",
                                             order_by="Step.index")
    scores: Mapped[list[ScoreRow]] = relationship(back_populates="episode", cascade="all, delete-orphan")


class Step(Base):
    """One executed action of an episode."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("episode_id", "index", name="uq_step_episode_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    action: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rationale: Mapped[str] = mapped_column(Text, default="")
    observation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reward: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    model_latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    guard_verdicts: Mapped[list[Any]] = mapped_column(default=list)
    grounding: Mapped[list[Any]] = mapped_column(default=list)
    screenshot: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    episode: Mapped[Episode] = relationship(back_populates="steps")


class ScoreRow(Base):
    """A named score of an episode: ``value`` is the headline, components get their own rows."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("episode_id", "name", name="uq_score_episode_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    episode: Mapped[Episode] = relationship(back_populates="scores")


class InfraFault(Base):
    """One infrastructure fault that ended an attempt of an episode (kept across attempts)."""

    __tablename__ = "infra_faults"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


def _add_infra_faults(conn: Any) -> None:
    InfraFault.__table__.create(conn)  # type: ignore[attr-defined]


# Upgrades from version N to N+1, in order. Each runs in one transaction.
MIGRATIONS: dict[int, Callable[[Any], None]] = {1: _add_infra_faults}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    # With WAL, NORMAL survives any process crash (SIGKILL included); only a power cut
    # can lose the last commits. It saves an fsync per step.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")  # several runner processes share one file
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite") and ":memory:" not in url:
        path = url.split("///", 1)[-1]
        if path:
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    except Exception as exc:
        raise ConfigurationError(f"cannot open result store {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class ResultStore:
    """Read and write runs. Thread-safe; open one per process.

    Raises:
        ConfigurationError: the URL is invalid, the server is unreachable, or the
            store was written by a newer steadyhand (schema version too high).
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._migrate()

    # --- schema -------------------------------------------------------------------

    def _migrate(self) -> None:
        for tries_left in range(5, -1, -1):
            has_meta = True
            try:
                with self.engine.begin() as conn:
                    has_meta = inspect(conn).has_table(Meta.__tablename__)
                    if not has_meta:
                        Base.metadata.create_all(conn)
                        conn.execute(insert(Meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
                        return
                    version = int(conn.execute(select(Meta.value).where(Meta.key == "schema_version"))
                                  .scalar_one())
                break
            except Exception as exc:
                # Another process is creating the store at this moment (SQLite commits each
                # CREATE TABLE on its own, so the version row can lag behind the tables).
                if tries_left and (not has_meta or isinstance(exc, NoResultFound)):
                    time.sleep(0.2)
                    continue
                raise ConfigurationError(f"cannot open result store {self.url!r}: {exc}") from exc
        if version > SCHEMA_VERSION:
            raise ConfigurationError(
                f"result store {self.url!r} has schema version {version}; this steadyhand reads up to "
                f"{SCHEMA_VERSION}: upgrade steadyhand")
        while version < SCHEMA_VERSION:
            with self.engine.begin() as conn:
                MIGRATIONS[version](conn)
                version += 1
                conn.execute(text("UPDATE steadyhand_meta SET value = :v WHERE key = 'schema_version'"),
                             {"v": str(version)})

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar_one())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # --- runs -----------------------------------------------------------------------

    def create_run(self, *, suite: str, agent: str, model: str, config: dict[str, Any],
                   task_ids: Sequence[str], difficulties: Sequence[str] | None = None,
                   groups: Sequence[str] | None = None, run_id: str | None = None) -> str:
        """Create a run with one pending episode per task; returns the run id.

        ``difficulties`` and ``groups`` (summary groups, see ``Suite.report_group``)
        are given per task, in the order of ``task_ids``; groups default to difficulties.
        """
        run_id = run_id or datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        with self.session() as s:
            s.add(Run(id=run_id, suite=suite, agent=agent, model=model, config=config,
                      total_tasks=len(task_ids)))
            s.flush()
            for i, task_id in enumerate(task_ids):
                difficulty = difficulties[i] if difficulties else "unknown"
                s.add(Episode(run_id=run_id, task_id=task_id, difficulty=difficulty,
                              report_group=groups[i] if groups else difficulty))
        return run_id

    def get_run(self, run_id: str) -> Run:
        """Raises ConfigurationError when there is no such run (prefixes are accepted if unique)."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                matches = s.scalars(select(Run).where(Run.id.startswith(run_id))).all()
                if len(matches) == 1:
                    run = matches[0]
            if run is None:
                raise ConfigurationError(f"no run {run_id!r} in {self.url}")
            return run

    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent runs, newest first, with episode counts and mean score."""
        with self.session() as s:
            runs = s.scalars(select(Run).order_by(Run.created_at.desc()).limit(limit)).all()
            out = []
            for run in runs:
                counts = dict(s.execute(select(Episode.status, func.count()).where(Episode.run_id == run.id)
                                        .group_by(Episode.status)).all())
                mean = s.execute(select(func.avg(ScoreRow.value)).join(Episode)
                                 .where(Episode.run_id == run.id, ScoreRow.name == "score")).scalar()
                out.append({"id": run.id, "suite": run.suite, "agent": run.agent, "model": run.model,
                            "status": run.status, "created_at": run.created_at, "total": run.total_tasks,
                            "done": counts.get("done", 0), "errors": counts.get("error", 0),
                            "infra_errors": counts.get("infra_error", 0), "mean_score": mean})
            return out

    def set_run_status(self, run_id: str, status: str) -> None:
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise ConfigurationError(f"no run {run_id!r}")
            run.status = status
            run.finished_at = _now() if status == "finished" else None

    def pending_tasks(self, run_id: str) -> list[str]:
        """Task ids whose episode has not finished (pending, running, or infrastructure error)."""
        with self.session() as s:
            return list(s.scalars(select(Episode.task_id).where(
                Episode.run_id == run_id, Episode.status.in_(("pending", "running", "infra_error")))
                .order_by(Episode.id)))

    # --- episodes -------------------------------------------------------------------

    # The three calls below run once or more per episode: they use Core statements on
    # one connection, not ORM sessions, to keep the runner's per-episode cost small.

    def start_episode(self, run_id: str, task_id: str) -> tuple[int, int]:
        """Mark an episode running, clearing any earlier attempt's rows. Returns (episode id, attempt)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(Episode.id, Episode.attempt).where(
                Episode.run_id == run_id, Episode.task_id == task_id).with_for_update()).one_or_none()
            if row is None:
                raise ConfigurationError(f"run {run_id} has no task {task_id!r}")
            episode_id, attempt = row[0], row[1] + 1
            conn.execute(delete(Step).where(Step.episode_id == episode_id))
            conn.execute(delete(ScoreRow).where(ScoreRow.episode_id == episode_id))
            conn.execute(update(Episode).where(Episode.id == episode_id).values(
                status="running", attempt=attempt, started_at=_now(), error=None))
            return episode_id, attempt

    def add_step(self, episode_id: int, record: StepRecord) -> None:
        """Append one step (its index must be new for the episode)."""
        with self.engine.begin() as conn:
            conn.execute(insert(Step).values(episode_id=episode_id, created_at=_now(), **record.model_dump()))

    def finish_episode(self, episode_id: int, *, status: str, score: Score | None, outcome: str | None,
                       error: str | None = None, steps: int = 0, input_tokens: int = 0,
                       output_tokens: int = 0, model_latency_s: float = 0.0, duration_s: float = 0.0) -> None:
        """Record the end of an attempt: status and scores in one transaction."""
        with self.engine.begin() as conn:
            updated = conn.execute(update(Episode).where(Episode.id == episode_id).values(
                status=status, outcome=outcome, error=error, steps_taken=steps, input_tokens=input_tokens,
                output_tokens=output_tokens, model_latency_s=model_latency_s, duration_s=duration_s,
                finished_at=_now()))
            if updated.rowcount != 1:
                raise ConfigurationError(f"no episode {episode_id}")
            if status == "infra_error":
                conn.execute(insert(InfraFault).values(
                    episode_id=episode_id, error=error or "infrastructure fault", created_at=_now(),
                    attempt=select(Episode.attempt).where(Episode.id == episode_id).scalar_subquery()))
            conn.execute(delete(ScoreRow).where(ScoreRow.episode_id == episode_id))
            if score is not None:
                rows = [{"episode_id": episode_id, "name": "score", "value": score.value,
                         "details": {"details": score.details, "error": score.error}}]
                rows += [{"episode_id": episode_id, "name": name, "value": float(value), "details": {}}
                         for name, value in score.components.items()]
                conn.execute(insert(ScoreRow), rows)

    def record_infra_fault(self, run_id: str, task_id: str, error: str) -> None:
        """Mark an episode ``infra_error`` when its worker died before it could say so itself."""
        with self.engine.begin() as conn:
            episode_id = conn.execute(select(Episode.id).where(
                Episode.run_id == run_id, Episode.task_id == task_id)).scalar_one_or_none()
            if episode_id is None:
                raise ConfigurationError(f"run {run_id} has no task {task_id!r}")
            conn.execute(update(Episode).where(Episode.id == episode_id).values(
                status="infra_error", error=error, finished_at=_now()))
            conn.execute(insert(InfraFault).values(
                episode_id=episode_id, error=error, created_at=_now(),
                attempt=select(Episode.attempt).where(Episode.id == episode_id).scalar_subquery()))

    def infra_faults(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """Task id -> the infrastructure faults its attempts met (attempt, error, time), oldest first."""
        with self.session() as s:
            rows = s.execute(select(Episode.task_id, InfraFault.attempt, InfraFault.error, InfraFault.created_at)
                             .join(Episode).where(Episode.run_id == run_id).order_by(InfraFault.id)).all()
        out: dict[str, list[dict[str, Any]]] = {}
        for task_id, attempt, error, created_at in rows:
            out.setdefault(task_id, []).append({"attempt": attempt, "error": error, "at": created_at})
        return out

    def episodes(self, run_id: str) -> list[dict[str, Any]]:
        """Every episode of a run with its scores (a dict name -> value), in task order.

        ``infra_faults`` counts the infrastructure faults its attempts met (see
        :meth:`infra_faults` for the messages).
        """
        with self.session() as s:
            rows = s.scalars(select(Episode).where(Episode.run_id == run_id).order_by(Episode.id)).all()
            scores: dict[int, dict[str, float]] = {}
            for ep_id, name, value in s.execute(
                    select(ScoreRow.episode_id, ScoreRow.name, ScoreRow.value).join(Episode)
                    .where(Episode.run_id == run_id)):
                scores.setdefault(ep_id, {})[name] = value
            faults = dict(s.execute(select(InfraFault.episode_id, func.count()).join(Episode)
                                    .where(Episode.run_id == run_id).group_by(InfraFault.episode_id)).all())
            return [{"id": e.id, "task_id": e.task_id, "difficulty": e.difficulty,
                     "group": e.report_group, "status": e.status,
                     "attempt": e.attempt, "outcome": e.outcome, "error": e.error, "steps": e.steps_taken,
                     "input_tokens": e.input_tokens, "output_tokens": e.output_tokens,
                     "model_latency_s": e.model_latency_s, "duration_s": e.duration_s,
                     "infra_faults": faults.get(e.id, 0), "scores": scores.get(e.id, {})} for e in rows]

    def steps(self, episode_id: int) -> list[Step]:
        with self.session() as s:
            return list(s.scalars(select(Step).where(Step.episode_id == episode_id).order_by(Step.index)))
