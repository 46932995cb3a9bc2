"""The page index: exact inner-product search over unit vectors, with removal.

FAISS (``IndexFlatIP`` behind an id map) is used when it is installed; otherwise a
numpy matrix with a removed-mask gives the same results. Both are exact, so the
choice changes speed, never what SEA retrieves (ties are broken by row order).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

import numpy as np

__all__ = ["PageIndex"]


class PageIndex:
    """Rows of ``vectors`` (unit length) searchable by a query vector; removed rows never come back."""

    def __init__(self, vectors: np.ndarray, *, use_faiss: bool | None = None) -> None:
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._alive = np.ones(len(self._vectors), dtype=bool)
        if use_faiss is None:
            use_faiss = importlib.util.find_spec("faiss") is not None
        self.backend = "faiss" if use_faiss else "numpy"
        self._faiss = None
        if use_faiss:
            import faiss

            index = faiss.IndexIDMap(faiss.IndexFlatIP(self._vectors.shape[1]))
            index.add_with_ids(self._vectors, np.arange(len(self._vectors), dtype=np.int64))
            self._faiss = index

    def __len__(self) -> int:
        """How many rows are still searchable."""
        return int(self._alive.sum())

    def is_alive(self, row: int) -> bool:
        return bool(self._alive[row])

    def remove(self, rows: Iterable[int]) -> None:
        """Take rows out of the index for good (unknown or already removed rows are ignored)."""
        rows = [r for r in rows if 0 <= r < len(self._alive) and self._alive[r]]
        if not rows:
            return
        self._alive[rows] = False
        if self._faiss is not None:
            self._faiss.remove_ids(np.array(rows, dtype=np.int64))

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` live rows most similar to ``query``, best first, as (row, cosine)."""
        k = min(k, len(self))
        if k <= 0:
            return []
        if self._faiss is not None:
            scores, ids = self._faiss.search(query.reshape(1, -1).astype(np.float32), k)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        scores = self._vectors @ query.astype(np.float32)
        scores = np.where(self._alive, scores, -np.inf)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(i), float(scores[i])) for i in top]
