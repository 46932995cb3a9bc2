"""The knowledge base: what agents learned in past episodes, found again by similarity.

Two kinds of experience, as in Agent S2:

* **narrative** - task level: a task's instruction and a summary of how the episode
  went (the plan, the actions, how it ended). Retrieved when the manager plans.
* **episodic** - subgoal level: a subgoal and the actions that completed (or failed)
  it. Retrieved when the worker starts a subgoal.

Rows live in the SQL store (``$STEADYHAND_DB`` by default, any SQLAlchemy URL) in two
tables with their own prefix, beside the result store's:

* ``kb_experiences``: kind, key (the instruction or subgoal), content, outcome, source
  (the episode's thread id); one row per (kind, source, key), so writing an episode
  twice updates instead of duplicating;
* ``kb_vectors``: one vector per (experience, embedder) with the **embedder's name**
  and dimension beside it. A search embeds the query with the knowledge base's
  embedder and compares it only with vectors of that same name; experiences with no
  vector of that name are embedded on the fly (and stored), never compared across
  models.

A hit must reach ``threshold`` cosine similarity; below it the base returns nothing,
so an unrelated past episode never steers a new one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from steadyhand.core.errors import ConfigurationError
from steadyhand.memory.embeddings import DEFAULT_EMBEDDER, load_embedder

if TYPE_CHECKING:
    from steadyhand.evals.sea.embed import Embedder

__all__ = ["Experience", "ExperienceKind", "KnowledgeBase"]

ExperienceKind = Literal["narrative", "episodic"]
KINDS: tuple[ExperienceKind, ...] = ("narrative", "episodic")
MAX_KEY_CHARS = 2000
MAX_CONTENT_CHARS = 8000


def _now() -> datetime:
    return datetime.now(UTC)


class KBBase(DeclarativeBase):
    """The knowledge base's own declarative base (its tables never touch the result store's)."""


class ExperienceRow(KBBase):
    """One remembered experience."""

    __tablename__ = "kb_experiences"
    __table_args__ = (UniqueConstraint("kind", "source", "key", name="uq_kb_experience"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    key: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class VectorRow(KBBase):
    """The vector of an experience's key under one embedder."""

    __tablename__ = "kb_vectors"
    __table_args__ = (UniqueConstraint("experience_id", "embedder", name="uq_kb_vector"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("kb_experiences.id", ondelete="CASCADE"), index=True)
    embedder: Mapped[str] = mapped_column(String(256), index=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class Experience:
    """A retrieved experience with its cosine similarity to the query, under ``embedder``."""

    id: int
    kind: str
    key: str
    content: str
    outcome: str
    source: str
    similarity: float
    embedder: str


class KnowledgeBase:
    """Narrative and episodic experience in a SQL database, retrieved by embedding similarity.

    Args:
        url: SQLAlchemy URL; default ``$STEADYHAND_DB`` or the default result store.
        embedder: an embedder name for :func:`~steadyhand.memory.embeddings.load_embedder`
            (``minilm``, ``hashing``) or an embedder object (with ``name``, ``dim``, ``embed``).
        threshold: the least cosine similarity a hit needs, in [-1, 1].
        top_k: hits returned at most per search.

    Thread-safe; open one per process.

    Raises:
        ConfigurationError: the database cannot be opened, an unknown embedder, or a bad threshold.
    """

    def __init__(self, url: str | None = None, *, embedder: str | Embedder = DEFAULT_EMBEDDER,
                 threshold: float = 0.6, top_k: int = 1) -> None:
        from steadyhand.evals.store import default_url, make_engine

        if not -1.0 <= threshold <= 1.0 or top_k < 1:
            raise ConfigurationError(f"knowledge base: need -1 <= threshold <= 1 and top_k >= 1 "
                                     f"(got {threshold}, {top_k})")
        self.url = url or default_url()
        self.threshold = threshold
        self.top_k = top_k
        self._embedder_spec = embedder
        self._embedder: Embedder | None = None if isinstance(embedder, str) else embedder
        self.engine = make_engine(self.url)
        try:
            KBBase.metadata.create_all(self.engine)
        except Exception as exc:
            raise ConfigurationError(f"cannot open the knowledge base in {self.url!r}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KnowledgeBase({self.url!r}, embedder={self.embedder_name!r}, threshold={self.threshold})"

    @property
    def embedder(self) -> Embedder:
        """The embedder (loaded on first use)."""
        if self._embedder is None:
            assert isinstance(self._embedder_spec, str)
            self._embedder = load_embedder(self._embedder_spec)
        return self._embedder

    @property
    def embedder_name(self) -> str:
        """The exact name stored with every vector this base writes and compares."""
        return self.embedder.name

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # --- writing -------------------------------------------------------------------------------

    def add(self, kind: ExperienceKind, key: str, content: str, *, outcome: str = "", source: str = "") -> int:
        """Remember an experience (replacing one with the same kind, source and key); returns its id.

        Raises:
            ConfigurationError: an unknown kind or an empty key.
        """
        if kind not in KINDS:
            raise ConfigurationError(f"unknown experience kind {kind!r}; known: {', '.join(KINDS)}")
        key, content = key.strip()[:MAX_KEY_CHARS], content.strip()[:MAX_CONTENT_CHARS]
        if not key:
            raise ConfigurationError("an experience needs a non-empty key (the task or subgoal)")
        vector = self._embed([key])[0]
        with self._lock, self._sessions.begin() as s:
            row = s.scalars(select(ExperienceRow).where(
                ExperienceRow.kind == kind, ExperienceRow.source == source, ExperienceRow.key == key)).one_or_none()
            if row is None:
                row = ExperienceRow(kind=kind, key=key, content=content, outcome=outcome, source=source)
                s.add(row)
                s.flush()
            else:
                row.content, row.outcome, row.created_at = content, outcome, _now()
                for old in s.scalars(select(VectorRow).where(VectorRow.experience_id == row.id,
                                                             VectorRow.embedder == self.embedder_name)):
                    s.delete(old)
                s.flush()
            s.add(self._vector_row(row.id, vector))
            return row.id

    def add_narrative(self, task: str, content: str, *, outcome: str = "", source: str = "") -> int:
        """Remember how a task went (see :meth:`add`)."""
        return self.add("narrative", task, content, outcome=outcome, source=source)

    def add_episodic(self, subgoal: str, content: str, *, outcome: str = "", source: str = "") -> int:
        """Remember how a subgoal went (see :meth:`add`)."""
        return self.add("episodic", subgoal, content, outcome=outcome, source=source)

    # --- reading -------------------------------------------------------------------------------

    def search(self, kind: ExperienceKind, query: str, *, top_k: int | None = None,
               threshold: float | None = None, exclude_source: str | None = None) -> list[Experience]:
        """The experiences of ``kind`` most similar to ``query``, best first, all at or above the threshold.

        Args:
            exclude_source: leave out experiences written by this source (the running episode).
        """
        import numpy as np

        if not query.strip():
            return []
        self.reindex(kind)
        name = self.embedder_name
        with self._sessions() as s:
            rows = s.execute(select(ExperienceRow, VectorRow.vector, VectorRow.dim).join(
                VectorRow, VectorRow.experience_id == ExperienceRow.id).where(
                ExperienceRow.kind == kind, VectorRow.embedder == name)).all()
        dim = self.embedder.dim
        rows = [r for r in rows if r[2] == dim and len(r[1]) == 4 * dim
                and (exclude_source is None or r[0].source != exclude_source)]
        if not rows:
            return []
        matrix = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        scores = matrix @ self._embed([query.strip()[:MAX_KEY_CHARS]])[0]
        floor = self.threshold if threshold is None else threshold
        order = [i for i in np.argsort(-scores) if scores[i] >= floor][: top_k or self.top_k]
        return [Experience(id=rows[i][0].id, kind=rows[i][0].kind, key=rows[i][0].key, content=rows[i][0].content,
                           outcome=rows[i][0].outcome, source=rows[i][0].source, similarity=float(scores[i]),
                           embedder=name) for i in order]

    def retrieve_narrative(self, task: str, **kwargs: Any) -> list[Experience]:
        """Past tasks like ``task`` (see :meth:`search`)."""
        return self.search("narrative", task, **kwargs)

    def retrieve_episodic(self, subgoal: str, **kwargs: Any) -> list[Experience]:
        """Past subgoals like ``subgoal`` (see :meth:`search`)."""
        return self.search("episodic", subgoal, **kwargs)

    def reindex(self, kind: ExperienceKind | None = None) -> int:
        """Embed, with this base's embedder, every experience that has no vector of its name; returns how many."""
        name = self.embedder_name
        with self._sessions() as s:
            have = select(VectorRow.experience_id).where(VectorRow.embedder == name)
            query = select(ExperienceRow.id, ExperienceRow.key).where(ExperienceRow.id.not_in(have))
            if kind is not None:
                query = query.where(ExperienceRow.kind == kind)
            missing = s.execute(query).all()
        if not missing:
            return 0
        vectors = self._embed([key for _, key in missing])
        with self._lock, self._sessions.begin() as s:
            for (exp_id, _), vector in zip(missing, vectors, strict=True):
                exists = s.scalar(select(VectorRow.id).where(VectorRow.experience_id == exp_id,
                                                             VectorRow.embedder == name))
                if exists is None:
                    s.add(self._vector_row(exp_id, vector))
        return len(missing)

    def count(self, kind: ExperienceKind | None = None) -> int:
        """How many experiences (of ``kind``) the base holds."""
        from sqlalchemy import func

        with self._sessions() as s:
            query = select(func.count()).select_from(ExperienceRow)
            if kind is not None:
                query = query.where(ExperienceRow.kind == kind)
            return int(s.scalar(query) or 0)

    def embedders(self) -> dict[str, int]:
        """Vectors stored per embedder name."""
        from sqlalchemy import func

        with self._sessions() as s:
            return {name: int(n) for name, n in s.execute(
                select(VectorRow.embedder, func.count()).group_by(VectorRow.embedder)).all()}

    # --- internals -----------------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> Any:
        vectors = self.embedder.embed(texts)
        if vectors.shape != (len(texts), self.embedder.dim):
            raise ConfigurationError(f"embedder {self.embedder_name!r} returned shape {vectors.shape}, "
                                     f"expected ({len(texts)}, {self.embedder.dim})")
        return vectors

    def _vector_row(self, experience_id: int, vector: Any) -> VectorRow:
        import numpy as np

        data = np.asarray(vector, dtype=np.float32)
        return VectorRow(experience_id=experience_id, embedder=self.embedder_name, dim=int(data.shape[0]),
                         vector=data.tobytes())

    def session(self) -> Session:
        """A plain session on the base's database (for inspection and tests)."""
        return self._sessions()
