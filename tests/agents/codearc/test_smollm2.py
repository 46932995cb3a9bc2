"""The CodeARC agent end to end with the bundled local model (SmolLM2-135M on the CPU).

Quality is not asserted: a 135M model is here to prove the plumbing with a real
model through the real runner path - the prompts fit its context, its replies are
parsed (or shown back as format errors), steps and tokens are recorded, the arena
scores the episode.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from steadyhand.evals import ResultStore, RunConfig, run_suite

pytestmark = [pytest.mark.model, pytest.mark.timeout(1800)]


def test_smollm2_runs_a_codearc_mini_task_end_to_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    # Small budgets bound the CPU time: a few replies of at most 160 tokens.
    config = RunConfig(suite="codearc-mini", agent="codearc", model="local:smollm2", limit=1,
                       agent_options={"max_format_retries": 1, "max_new_tokens": 160},
                       environment_options={"io_budget": 14, "oracle_inputs": 60})
    result = run_suite(config, store_url=url, progress=False)
    (episode,) = result.results
    assert episode.status == "done", episode
    assert episode.score in (0.0, 1.0)
    store = ResultStore(url)
    try:
        (stored,) = store.episodes(result.run_id)
    finally:
        store.close()
    assert stored["output_tokens"] > 0 and stored["input_tokens"] > 0
    assert set(stored["scores"]) >= {"score", "io_calls", "oracle_calls"}
