"""Embeddings of a knowledge base's pages and paragraphs, and the neighbourhoods SEA uses.

Page vectors (title and abstract) are computed for the whole knowledge base once and
cached on disk; paragraph vectors are computed on demand, when a search first needs
them, and cached too. Both caches are keyed by the embedder's name and the knowledge
base's fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from steadyhand.evals.sea.embed import Embedder, VectorCache
from steadyhand.evals.sea.index import PageIndex
from steadyhand.evals.sea.kb import KnowledgeBase, Paragraph

__all__ = ["Retriever", "default_vector_dir"]

#: Similarities computed at once when counting near-duplicates (floats; 128 MiB).
_SIMILARITY_BLOCK = 1 << 25


def default_vector_dir() -> Path:
    """Where vectors are cached (under the steadyhand cache directory)."""
    from steadyhand.models.transformers_chat import cache_dir

    return cache_dir() / "sea" / "vectors"


class Retriever:
    """Vectors for one knowledge base under one embedder.

    Args:
        progress: called as ``progress(done, total)`` while page vectors are computed, and
            while paragraph vectors are, the first time :meth:`all_paragraph_vectors` runs.
    """

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, *, cache_dir: Path | None = None,
                 progress: Callable[[int, int], None] | None = None, chunk: int = 2048) -> None:
        self.kb = kb
        self.embedder = embedder
        directory = cache_dir or default_vector_dir()
        self._pages = VectorCache(directory, embedder, kb.fingerprint, "pages")
        self._paragraphs = VectorCache(directory, embedder, kb.fingerprint, "paragraphs")
        self.progress = progress
        self._chunk = chunk
        ids = [p.id for p in kb.pages]
        self.page_vectors = self._fill(self._pages, ids, kb.page_text)
        self._all_paragraphs: tuple[list[str], np.ndarray] | None = None
        self._positions: dict[str, int] = {}
        self._near_duplicates: dict[float, np.ndarray] = {}

    def new_page_index(self) -> PageIndex:
        """A fresh, full page index (each search run owns one and removes pages from it)."""
        return PageIndex(self.page_vectors)

    def paragraph_vectors(self, paragraphs: list[Paragraph]) -> np.ndarray:
        """Vectors of these paragraphs (computed now for those not seen before)."""
        if not paragraphs:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return self._paragraphs.get([p.id for p in paragraphs], [p.display for p in paragraphs])

    def all_paragraph_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every paragraph's id and vector, in the knowledge base's order (embedded once, then cached).

        The first call embeds the paragraphs not on disk yet, reporting to ``progress``.
        """
        if self._all_paragraphs is None:
            ids = self.kb.paragraph_ids()
            self._all_paragraphs = (ids, self._fill(self._paragraphs, ids, lambda pid: self.kb.paragraph(pid).display))
            self._positions = {pid: i for i, pid in enumerate(ids)}
        return self._all_paragraphs

    def paragraph_position(self, paragraph_id: str) -> int:
        """A paragraph's row in :meth:`all_paragraph_vectors`."""
        self.all_paragraph_vectors()
        return self._positions[paragraph_id]

    def near_duplicate_counts(self, threshold: float) -> np.ndarray:
        """For every paragraph (in :meth:`all_paragraph_vectors` order), how many others lie at cosine >= ``threshold``.

        Quadratic in the number of paragraphs (a few seconds for 20k on two cores); kept in memory.
        """
        if threshold not in self._near_duplicates:
            _, vectors = self.all_paragraph_vectors()
            counts = np.zeros(len(vectors), dtype=np.int64)
            rows = max(1, _SIMILARITY_BLOCK // max(len(vectors), 1))
            for start in range(0, len(vectors), rows):
                counts[start:start + rows] = (vectors[start:start + rows] @ vectors.T >= threshold).sum(axis=1)
            self._near_duplicates[threshold] = counts - (np.einsum("ij,ij->i", vectors, vectors) >= threshold)
        return self._near_duplicates[threshold]

    def _fill(self, cache: VectorCache, ids: list[str], text: Callable[[str], str]) -> np.ndarray:
        """Vectors of ``ids``, embedding the missing ones chunk by chunk and reporting to ``progress``."""
        chunk = self._chunk
        for start in range(0, len(ids), chunk):
            missing = [key for key in ids[start:start + chunk] if key not in cache]
            if missing:
                cache.get(missing, [text(key) for key in missing])
                if (start // chunk) % 8 == 7:  # keep progress across a kill, without rewriting every chunk
                    cache.flush()
            if self.progress:
                self.progress(min(start + chunk, len(ids)), len(ids))
        cache.flush()
        return cache.get(ids)

    def flush(self) -> None:
        """Persist newly computed paragraph vectors."""
        self._paragraphs.flush()

    def nearest_pages(self, vector: np.ndarray, k: int, *, exclude: str | None = None) -> list[str]:
        """Ids of the ``k`` pages nearest ``vector`` in the whole knowledge base."""
        scores = self.page_vectors @ vector
        if exclude is not None:
            scores[self.kb.page_position(exclude)] = -np.inf
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [self.kb.pages[i].id for i in top]

    def related(self, paragraph: Paragraph, k: int) -> list[Paragraph]:
        """Paragraphs about nearby topics: the same section of the nearest pages (any section as fallback).

        Uses page vectors only, so question generation costs no paragraph embeddings.
        """
        vector = self.page_vectors[self.kb.page_position(paragraph.page_id)]
        out: list[Paragraph] = []
        for page_id in self.nearest_pages(vector, 3 * k, exclude=paragraph.page_id):
            siblings = self.kb.paragraphs(page_id)
            same = [p for p in siblings if p.heading == paragraph.heading]
            out.extend(same or siblings[:1])
            if len(out) >= k:
                break
        return out[:k]
