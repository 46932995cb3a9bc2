"""SEA's tables, in the same database as the result store (``$STEADYHAND_DB`` by default).

The tables have their own declarative base and their own prefix (``sea_``), so they
live beside :mod:`steadyhand.evals.store` without touching it. Everything a search
needs to resume is here:

* ``sea_runs``: one row per method (``sea`` or ``random``) of a study; ``study`` is the
  id the user sees, shared by a SEA run and its random baseline;
* ``sea_steps``: the batch chosen at each step (with the pages it took out of the page
  index), written before any question of the step is asked;
* ``sea_asks``: one testee call each, written as answers arrive: a killed run loses
  at most the batch in flight, and never pays twice for an answer it has;
* ``sea_paragraphs``: a tested paragraph with its error rate and the source that led
  to it (the relation DAG's edge), written when its step completes;
* ``sea_questions``: the question cache, per generator and paragraph, shared by runs.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea.questions import Question
from steadyhand.evals.store import default_url, make_engine

__all__ = ["Ask", "ParagraphResult", "SeaRun", "SeaStore", "StepRow"]


#: Settings a resumed run may change: a budget can be extended.
_EXTENSIBLE = frozenset({"budget", "token_budget"})
# Settings added after runs were first stored, with the value older runs had.
_ADDED: dict[str, Any] = {"answer": "box", "selection": "uniform", "carry_candidates": False, "retrieval": "pages",
                           "min_similarity": 0.85, "fill": "uniform"}


def _now() -> datetime:
    return datetime.now(UTC)


class SeaBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class SeaRun(SeaBase):
    """One search (SEA or random) within a study."""

    __tablename__ = "sea_runs"
    __table_args__ = (UniqueConstraint("study", "method", name="uq_sea_run_study_method"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    study: Mapped[str] = mapped_column(String(48), index=True)
    method: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | finished
    calls: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StepRow(SeaBase):
    """A step's batch: ``batch`` is ``[[paragraph id, parent id or null], ...]``."""

    __tablename__ = "sea_steps"
    __table_args__ = (UniqueConstraint("run_id", "step", name="uq_sea_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[int] = mapped_column(Integer)
    batch: Mapped[list[Any]] = mapped_column(default=list)
    removed_pages: Mapped[list[Any]] = mapped_column(default=list)
    pruned: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="selected")  # selected | done
    calls: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Ask(SeaBase):
    """One testee call: a form of a question, the reply, and whether it was right."""

    __tablename__ = "sea_asks"
    __table_args__ = (UniqueConstraint("run_id", "question_id", "form", name="uq_sea_ask"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[int] = mapped_column(Integer)
    paragraph_id: Mapped[str] = mapped_column(String(512))
    question_id: Mapped[str] = mapped_column(String(600))
    form: Mapped[int] = mapped_column(Integer)
    reply: Mapped[str] = mapped_column(Text, default="")
    choice: Mapped[int | None] = mapped_column(Integer, nullable=True)
    correct: Mapped[bool] = mapped_column(Boolean)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)


class ParagraphResult(SeaBase):
    """A tested paragraph: error rate over its questions' forms, and the source that found it."""

    __tablename__ = "sea_paragraphs"
    __table_args__ = (UniqueConstraint("run_id", "paragraph_id", name="uq_sea_paragraph"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[int] = mapped_column(Integer)
    paragraph_id: Mapped[str] = mapped_column(String(512))
    parent_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    questions: Mapped[int] = mapped_column(Integer, default=0)
    error_questions: Mapped[int] = mapped_column(Integer, default=0)
    error_rate: Mapped[float] = mapped_column(Float, default=0.0)
    is_source: Mapped[bool] = mapped_column(Boolean, default=False)


class CachedQuestions(SeaBase):
    """Questions for one paragraph from one generator (an empty list: it supports none)."""

    __tablename__ = "sea_questions"

    generator: Mapped[str] = mapped_column(String(300), primary_key=True)
    paragraph_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    questions: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class SeaStore:
    """Reads and writes SEA's tables (created on first use).

    Raises:
        ConfigurationError: the database URL is invalid or unreachable.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = make_engine(self.url)
        try:
            SeaBase.metadata.create_all(self.engine)
        except Exception as exc:
            raise ConfigurationError(f"cannot open SEA tables in {self.url!r}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # --- runs ---------------------------------------------------------------------

    @staticmethod
    def new_study_id() -> str:
        return "sea-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)

    def create_run(self, study: str, method: str, config: dict[str, Any]) -> str:
        """The run of ``method`` in ``study``, created if missing; its config must match on resume."""
        run_id = f"{study}:{method}"
        with self.session() as s:
            run = s.get(SeaRun, run_id)
            if run is None:
                s.add(SeaRun(id=run_id, study=study, method=method, config=config))
            else:
                changed = sorted(k for k in set(run.config) | set(config)
                                 if k not in _EXTENSIBLE
                                 and run.config.get(k, _ADDED.get(k)) != config.get(k, _ADDED.get(k)))
                if changed:
                    raise ConfigurationError(f"run {run_id} was started with other settings ({', '.join(changed)});"
                                             " resume it with the same ones (only the budgets may change)")
                run.config = config
                run.status = "running"
        return run_id

    def runs(self, study: str) -> list[SeaRun]:
        """The runs of a study (a unique prefix of the study id is enough).

        Raises:
            ConfigurationError: no such study, or the prefix is ambiguous.
        """
        with self.session() as s:
            studies = sorted(set(s.scalars(select(SeaRun.study).where(SeaRun.study.startswith(study)))))
            if study in studies:
                studies = [study]
            if len(studies) != 1:
                raise ConfigurationError(f"no SEA run {study!r} in {self.url}" if not studies else
                                         f"{study!r} matches several SEA runs: {', '.join(studies[:5])}")
            return list(s.scalars(select(SeaRun).where(SeaRun.study == studies[0]).order_by(SeaRun.method.desc())))

    def studies(self, limit: int | None = 30) -> list[SeaRun]:
        """Recent runs, newest first (every run when ``limit`` is ``None``)."""
        with self.session() as s:
            return list(s.scalars(select(SeaRun).order_by(SeaRun.created_at.desc()).limit(limit)))

    def finish_run(self, run_id: str) -> None:
        with self.session() as s:
            run = s.get(SeaRun, run_id)
            if run is not None:
                run.status = "finished"
                run.finished_at = _now()

    # --- steps --------------------------------------------------------------------

    def steps(self, run_id: str) -> list[StepRow]:
        with self.session() as s:
            return list(s.scalars(select(StepRow).where(StepRow.run_id == run_id).order_by(StepRow.step)))

    def start_step(self, run_id: str, step: int, batch: Sequence[tuple[str, str | None]],
                   removed_pages: Sequence[str]) -> None:
        with self.session() as s:
            s.add(StepRow(run_id=run_id, step=step, batch=[list(b) for b in batch],
                          removed_pages=list(removed_pages)))

    def asks(self, run_id: str, step: int | None = None) -> list[Ask]:
        with self.session() as s:
            query = select(Ask).where(Ask.run_id == run_id)
            if step is not None:
                query = query.where(Ask.step == step)
            return list(s.scalars(query.order_by(Ask.id)))

    def add_asks(self, run_id: str, rows: Sequence[dict[str, Any]]) -> None:
        """Record answered calls and charge them to the run, in one transaction."""
        with self.session() as s:
            run = s.get(SeaRun, run_id)
            if run is None:
                raise ConfigurationError(f"no SEA run {run_id!r}")
            for row in rows:
                s.add(Ask(run_id=run_id, **row))
            run.calls += len(rows)
            run.input_tokens += sum(int(r.get("input_tokens", 0)) for r in rows)
            run.output_tokens += sum(int(r.get("output_tokens", 0)) for r in rows)

    def finish_step(self, run_id: str, step: int, results: Sequence[dict[str, Any]], *, pruned: Sequence[str],
                    calls: int, errors: int, seconds: float) -> None:
        """Write a step's paragraph results and mark it done, in one transaction."""
        with self.session() as s:
            row = s.scalars(select(StepRow).where(StepRow.run_id == run_id, StepRow.step == step)).one()
            for result in results:
                s.add(ParagraphResult(run_id=run_id, step=step, **result))
            row.status = "done"
            row.pruned = list(pruned)
            row.calls = calls
            row.errors = errors
            row.seconds = row.seconds + seconds
            row.finished_at = _now()

    def add_step_seconds(self, run_id: str, step: int, seconds: float) -> None:
        """Add time spent on an unfinished step (so a resumed step's time is not lost)."""
        with self.session() as s:
            row = s.scalars(select(StepRow).where(StepRow.run_id == run_id, StepRow.step == step)).one()
            row.seconds += seconds

    def paragraph_results(self, run_id: str) -> list[ParagraphResult]:
        with self.session() as s:
            return list(s.scalars(select(ParagraphResult).where(ParagraphResult.run_id == run_id)
                                  .order_by(ParagraphResult.step, ParagraphResult.id)))

    # --- question cache -----------------------------------------------------------

    def cached_questions(self, generator: str, paragraph_ids: Sequence[str]) -> dict[str, list[Question]]:
        """Cached questions for those paragraphs that have an entry."""
        out: dict[str, list[Question]] = {}
        with self.session() as s:
            for start in range(0, len(paragraph_ids), 500):
                part = list(paragraph_ids[start:start + 500])
                for row in s.scalars(select(CachedQuestions).where(CachedQuestions.generator == generator,
                                                                   CachedQuestions.paragraph_id.in_(part))):
                    out[row.paragraph_id] = [Question.model_validate(q) for q in row.questions]
        return out

    def cache_questions(self, generator: str, paragraph_id: str, questions: Sequence[Question],
                        error: str | None = None) -> None:
        with self.session() as s:
            s.merge(CachedQuestions(generator=generator, paragraph_id=paragraph_id,
                                    questions=[q.model_dump() for q in questions], error=error))
