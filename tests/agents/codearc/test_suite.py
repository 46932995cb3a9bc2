"""Every codearc-mini task solved through the real runner path, with the oracle script as the model.

This proves the mechanics end to end - suite, registry, runner, result store,
arena, sandboxes, oracle, agent graph - with no model: the scripted model replies
to each task with its hidden function, so every episode must succeed with one
check and no queries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from steadyhand.agents.codearc import write_oracle_script
from steadyhand.evals import ResultStore, RunConfig, resolve_suite, run_suite, summarize_run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_the_oracle_script_solves_every_codearc_mini_task(tmp_path: Path) -> None:
    tasks = resolve_suite("codearc-mini").load()
    script = write_oracle_script(tasks, tmp_path / "oracle.json")
    url = f"sqlite:///{tmp_path / 'results.db'}"
    result = run_suite(RunConfig(suite="codearc-mini", agent="codearc", model=f"scripted:{script}", concurrency=2),
                       store_url=url, progress=False)
    failed = [r for r in result.results if r.status != "done" or r.score != 1.0]
    assert not failed, failed[:5]
    assert len(result.results) == len(tasks) >= 80
    store = ResultStore(url)
    try:
        summary = summarize_run(store, result.run_id)
    finally:
        store.close()
    assert summary.overall.score == 1.0
    assert summary.overall.components["io_calls"] == 10.0 and summary.overall.components["oracle_calls"] == 1.0
    assert summary.group_by == "variant" and [g.name for g in summary.groups] == ["annotated", "anonymous"]
