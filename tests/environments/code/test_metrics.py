"""CodeARC's per-variant metrics from a real (SQLite) result store."""

from __future__ import annotations

from pathlib import Path

import pytest

from steadyhand.core import Score
from steadyhand.environments.code.metrics import VariantMetrics, codearc_metrics, variant_of
from steadyhand.evals import ResultStore


def test_failures_and_unscored_episodes_count_as_the_budget_maxima(tmp_path: Path) -> None:
    store = ResultStore(f"sqlite:///{tmp_path / 'r.db'}")
    tasks = ["s-0-annotated", "s-0-anonymous", "s-1-annotated", "s-1-anonymous"]
    run = store.create_run(suite="s", agent="codearc", model="m", task_ids=tasks,
                           config={"environment_options": {"io_budget": 20, "oracle_budget": 3}})
    scores = {
        "s-0-annotated": Score(value=1.0, components={"io_calls": 12.0, "oracle_calls": 1.0}),
        "s-0-anonymous": Score(value=0.0, components={"io_calls": 20.0, "oracle_calls": 3.0}),
        "s-1-annotated": Score(value=1.0, components={"io_calls": 10.0, "oracle_calls": 2.0}),
        "s-1-anonymous": None,  # the agent crashed before scoring
    }
    for task, score in scores.items():
        episode, _ = store.start_episode(run, task)
        store.finish_episode(episode, status="done" if score else "error", score=score, outcome=None)
    try:
        annotated, anonymous, overall = codearc_metrics(store, run)
    finally:
        store.close()
    assert annotated == VariantMetrics("annotated", 2, 1.0, 11.0, 1.5)
    assert anonymous == VariantMetrics("anonymous", 2, 0.0, 20.0, 3.0)
    assert overall.episodes == 4 and overall.success == 0.5 and overall.mean_io == pytest.approx(15.5)


def test_variants_come_from_task_ids() -> None:
    assert variant_of("codearc-mini-7-anonymous") == "anonymous"
    assert variant_of("codearc-3-annotated") == "annotated" and variant_of("other") == "unknown"
