"""How clustered a testee's errors are: the ceiling on what any search by similarity can gain.

SEA beats random sampling only as far as a paragraph's neighbours tell whether the
testee gets it wrong. These functions measure that on paragraphs already tested
(from any runs with the same testee, questions and knowledge base), before anyone
spends budget on tuning a search:

- :func:`error_lift_by_similarity`: for pairs of tested paragraphs in each band of
  cosine similarity, how often a paragraph is wrong when its neighbour is wrong,
  and when its neighbour is right. A search that draws next to known errors finds
  errors at about the first rate, so its ratio to random sampling is bounded near
  that rate over the base error share.
- :func:`leave_one_out_top_shares`: each paragraph's error predicted from every
  other tested paragraph (a similarity kernel); the error share among the top-ranked
  paragraphs. This knows far more than a search does mid-run, so it is an optimistic
  bound, and it shows whether dense pockets of errors exist at all.
- :func:`paragraph_errors`: the question-level error share of every paragraph tested in
  a store, checking that the runs measured the same thing.

``benchmarks/sea_error_structure.py`` prints both tables for a store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from steadyhand.core.errors import ConfigurationError
from steadyhand.evals.sea.store import SeaRun, SeaStore

__all__ = ["DEFAULT_EDGES", "SimilarityBand", "error_lift_by_similarity", "leave_one_out_top_shares",
           "paragraph_errors", "run_identity"]

#: Band edges of cosine similarity (the last band includes 1.0).
DEFAULT_EDGES: tuple[float, ...] = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)
#: Run settings that change what a paragraph's label means; runs pooled together must agree on them.
_IDENTITY = ("kb_fingerprint", "testee", "question_cache", "answer")


@dataclass(frozen=True)
class SimilarityBand:
    """Ordered pairs of distinct tested paragraphs whose cosine similarity lies in ``[low, high)``."""

    low: float
    high: float
    pairs: int
    error_given_wrong_neighbour: float | None
    error_given_right_neighbour: float | None


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def _check(vectors: np.ndarray, errors: np.ndarray) -> None:
    if vectors.ndim != 2 or len(vectors) != len(errors):
        raise ValueError(f"need one vector per label: got vectors of shape {vectors.shape} and {len(errors)} labels")
    if len(errors) < 2:
        raise ValueError("need at least two tested paragraphs")
    if np.any((errors < 0) | (errors > 1)):
        raise ValueError("error labels must lie in [0, 1]")


def _similarity_rows(unit: np.ndarray, chunk: int) -> Iterable[tuple[int, np.ndarray]]:
    """Blocks of the similarity matrix, each paragraph's similarity to itself set to -inf."""
    for start in range(0, len(unit), chunk):
        sims = unit[start:start + chunk] @ unit.T
        rows = np.arange(len(sims))
        sims[rows, start + rows] = -np.inf
        yield start, sims


def error_lift_by_similarity(vectors: np.ndarray, errors: Sequence[float] | np.ndarray, *,
                             edges: Sequence[float] = DEFAULT_EDGES, chunk: int = 2048) -> list[SimilarityBand]:
    """Error rates of paragraphs by their neighbours' outcome, per similarity band.

    Args:
        vectors: one embedding per tested paragraph (normalised here).
        errors: each paragraph's share of questions answered wrongly, in [0, 1]; a
            neighbour counts as wrong when its share exceeds 0.5.
        edges: increasing band edges; pairs below the first edge are not counted.

    Raises:
        ValueError: mismatched or too few inputs, labels outside [0, 1], or edges not increasing.
    """
    y = np.asarray(errors, dtype=np.float64)
    vectors = np.asarray(vectors)
    _check(vectors, y)
    bounds = np.asarray(edges, dtype=np.float64)
    if len(bounds) < 2 or np.any(np.diff(bounds) <= 0):
        raise ValueError(f"edges must be at least two increasing numbers, got {list(edges)}")
    wrong = y > 0.5
    n_bands = len(bounds) - 1
    pairs = np.zeros(n_bands, dtype=np.int64)
    wrong_nb = np.zeros(n_bands)
    wrong_nb_errors = np.zeros(n_bands)
    right_nb = np.zeros(n_bands)
    right_nb_errors = np.zeros(n_bands)
    for start, sims in _similarity_rows(_unit(vectors), chunk):
        own = y[start:start + len(sims)]
        # Row i is the paragraph, column j its neighbour; the last band is closed at its top.
        band = np.searchsorted(bounds, sims, side="right") - 1
        band[(sims >= bounds[-1]) & np.isfinite(sims)] = n_bands - 1
        for b in range(n_bands):
            inside = band == b
            pairs[b] += int(inside.sum())
            by_wrong = inside & wrong[None, :]
            by_right = inside & ~wrong[None, :]
            wrong_nb[b] += by_wrong.sum()
            right_nb[b] += by_right.sum()
            wrong_nb_errors[b] += (by_wrong * own[:, None]).sum()
            right_nb_errors[b] += (by_right * own[:, None]).sum()
    return [SimilarityBand(low=float(bounds[b]), high=float(bounds[b + 1]), pairs=int(pairs[b]),
                           error_given_wrong_neighbour=float(wrong_nb_errors[b] / wrong_nb[b]) if wrong_nb[b] else None,
                           error_given_right_neighbour=float(right_nb_errors[b] / right_nb[b]) if right_nb[b] else None)
            for b in range(n_bands)]


def leave_one_out_top_shares(vectors: np.ndarray, errors: Sequence[float] | np.ndarray, *,
                             shares: Sequence[float] = (0.05, 0.1, 0.2, 0.3), floor: float = 0.8,
                             prior: float = 2.0, chunk: int = 2048) -> dict[float, float]:
    """The error share among the paragraphs ranked highest by their neighbours' errors.

    Each paragraph's error is predicted without its own label: every other tested
    paragraph above cosine ``floor`` counts with weight ``(sim - floor) / (1 - floor)``,
    shrunk toward the base error share with weight ``prior``. Returns, for each share
    ``s``, the mean error of the top ``s`` of paragraphs by that prediction.

    Raises:
        ValueError: mismatched or too few inputs, labels outside [0, 1], ``floor`` not
            in [0, 1), a negative ``prior`` or a share outside (0, 1].
    """
    y = np.asarray(errors, dtype=np.float64)
    vectors = np.asarray(vectors)
    _check(vectors, y)
    if not 0 <= floor < 1 or prior < 0:
        raise ValueError(f"floor must be in [0, 1) and prior >= 0, got floor={floor}, prior={prior}")
    if any(not 0 < s <= 1 for s in shares):
        raise ValueError(f"shares must lie in (0, 1], got {list(shares)}")
    base = float(y.mean())
    predicted = np.empty(len(y))
    for start, sims in _similarity_rows(_unit(vectors), chunk):
        weights = np.clip((sims - floor) / (1.0 - floor), 0.0, None)
        predicted[start:start + len(sims)] = (prior * base + weights @ y) / (prior + weights.sum(axis=1))
    order = np.argsort(-predicted, kind="stable")
    return {s: float(y[order[:max(1, round(s * len(y)))]].mean()) for s in shares}


def run_identity(run: SeaRun) -> tuple[str, ...]:
    """What a run's labels mean: its knowledge base's fingerprint, testee, question cache and answering mode."""
    return tuple(str(run.config.get(key)) for key in _IDENTITY)


def paragraph_errors(store: SeaStore, run_ids: Sequence[str] | None = None) -> dict[str, float]:
    """Each tested paragraph's share of questions answered wrongly, over the given runs (default: all).

    A paragraph tested in several runs gets the mean of its results (a deterministic
    testee gives the same one each time).

    Raises:
        ConfigurationError: no runs, or runs that differ in knowledge base, testee,
            question cache or answering mode (their labels would not be comparable).
    """
    runs = store.studies(limit=None)
    if run_ids is not None:
        wanted = set(run_ids)
        runs = [r for r in runs if r.id in wanted]
        missing = wanted - {r.id for r in runs}
        if missing:
            raise ConfigurationError(f"no SEA run {sorted(missing)[0]!r} in {store.url}")
    if not runs:
        raise ConfigurationError(f"no SEA runs in {store.url}")
    identities = {run_identity(r) for r in runs}
    if len(identities) > 1:
        listed = "; ".join(", ".join(f"{k}={v}" for k, v in zip(_IDENTITY, i, strict=True))
                           for i in sorted(identities)[:3])
        raise ConfigurationError(f"runs in {store.url} differ in what they measured ({listed}); "
                                 "pick runs of one testee, question cache and knowledge base")
    totals: dict[str, list[float]] = {}
    for run in runs:
        for result in store.paragraph_results(run.id):
            if result.questions:
                totals.setdefault(result.paragraph_id, []).append(result.error_questions / result.questions)
    return {pid: sum(v) / len(v) for pid, v in totals.items()}
