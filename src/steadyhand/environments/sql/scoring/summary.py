"""Aggregate SQL scores by difficulty, as BIRD and Spider report them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from steadyhand.core.score import Score

#: Report order of the difficulty labels Spider, BIRD and sql-mini use; others follow, sorted.
DIFFICULTY_ORDER = ("easy", "simple", "medium", "moderate", "hard", "challenging", "extra")


def _rank(name: str) -> tuple[int, str]:
    return (DIFFICULTY_ORDER.index(name), name) if name in DIFFICULTY_ORDER else (len(DIFFICULTY_ORDER), name)


def _group(scores: list[Score]) -> dict[str, Any]:
    n = len(scores)
    components: dict[str, list[float]] = defaultdict(list)
    for score in scores:
        for key, value in score.components.items():
            components[key].append(value)
    return {
        "count": n,
        "score": sum(s.value for s in scores) / n if n else 0.0,
        "components": {k: sum(v) / n for k, v in sorted(components.items())},
    }


def summarize(scores_with_difficulty: Iterable[tuple[str, Score | float]]) -> dict[str, Any]:
    """Mean score (and mean of each component) per difficulty and overall.

    Args:
        scores_with_difficulty: ``(difficulty, score)`` pairs; a plain float is a score
            with that value and no components. A component missing from some scores
            counts 0 for them (means are over every score of the group).

    Returns:
        ``{"overall": group, "by_difficulty": {difficulty: group, ...}}`` where a group
        is ``{"count": n, "score": mean value, "components": {name: mean}}``;
        difficulties come in report order (easy/simple, medium/moderate,
        hard/challenging, extra, then any other label).
    """
    groups: dict[str, list[Score]] = defaultdict(list)
    everything: list[Score] = []
    for difficulty, score in scores_with_difficulty:
        item = score if isinstance(score, Score) else Score(value=float(score))
        groups[str(difficulty)].append(item)
        everything.append(item)
    return {
        "overall": _group(everything),
        "by_difficulty": {name: _group(groups[name]) for name in sorted(groups, key=_rank)},
    }
