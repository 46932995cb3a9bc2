"""CodeARC's metrics of a stored run, per variant: success %, mean #I/O, mean #oracle.

As in CodeARC, an unsolved episode counts as the budget maxima (the arena's
``io_calls`` / ``oracle_calls`` components already do so); an episode that ended
without a score (the agent or the runner failed) counts as unsolved with the
budgets of the run's environment options::

    from steadyhand.evals import ResultStore
    from steadyhand.environments.code.metrics import codearc_metrics
    print(codearc_metrics(ResultStore(url), run_id))
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from steadyhand.evals.store import ResultStore


@dataclass(frozen=True)
class VariantMetrics:
    """The figures of one variant (``annotated``, ``anonymous``, or ``all``)."""

    variant: str
    episodes: int
    success: float       # share of episodes solved, 0..1
    mean_io: float       # mean #I/O (initial examples included; failures count as the I/O budget)
    mean_oracle: float   # mean #oracle (failures count as the oracle budget)


def variant_of(task_id: str) -> str:
    """The variant named by a task id's suffix (``...-anonymous``), ``unknown`` when there is none."""
    suffix = task_id.rsplit("-", 1)[-1]
    return suffix if suffix in ("annotated", "anonymous") else "unknown"


def _figures(name: str, rows: list[tuple[float, float, float]]) -> VariantMetrics:
    n = len(rows)
    if not n:
        return VariantMetrics(name, 0, 0.0, 0.0, 0.0)
    return VariantMetrics(name, n, sum(r[0] for r in rows) / n, sum(r[1] for r in rows) / n,
                          sum(r[2] for r in rows) / n)


def codearc_metrics(store: ResultStore, run_id: str) -> list[VariantMetrics]:
    """Per-variant figures of run ``run_id``, then ``all``.

    Raises:
        ConfigurationError: unknown run id.
    """
    run = store.get_run(run_id)
    options: dict[str, Any] = dict((run.config or {}).get("environment_options") or {})
    io_budget, oracle_budget = float(options.get("io_budget", 30)), float(options.get("oracle_budget", 2))
    groups: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for episode in store.episodes(run.id):
        if episode["status"] == "infra_error":
            continue
        scores = episode["scores"]
        solved = float(scores.get("score", 0.0) >= 1.0)
        row = (solved, float(scores.get("io_calls", io_budget)), float(scores.get("oracle_calls", oracle_budget)))
        groups[variant_of(episode["task_id"])].append(row)
    result = [_figures(name, rows) for name, rows in sorted(groups.items())]
    return [*result, _figures("all", [r for rows in groups.values() for r in rows])]
