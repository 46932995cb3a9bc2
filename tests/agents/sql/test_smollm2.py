"""The SQL agent end to end with the bundled local model (SmolLM2-135M on the CPU).

Answer quality is not asserted: a 135M model is here to prove the plumbing with a
real model - prompts fit its context, its replies are parsed, steps are recorded.
"""

from __future__ import annotations

from typing import Any

import pytest

from steadyhand.core import suites

pytestmark = [pytest.mark.model, pytest.mark.timeout(1800)]


def test_smollm2_runs_sql_mini_tasks_end_to_end(run_episode: Any) -> None:
    from steadyhand.models import load

    tasks = list(suites.get("sql-mini").load())[:2]  # type: ignore[attr-defined]
    model = load("local:smollm2")
    for task in tasks:
        # Small budgets bound the CPU time: at most 4 replies of 96 tokens per task.
        ep = run_episode(task, "", model=model, thread_id=task.id, max_steps=2, max_format_retries=1,
                         max_new_tokens=96)
        assert ep.outcome.status in ("terminated", "truncated"), ep.outcome
        assert ep.outcome.final_answer
        assert ep.steps and ep.steps[-1].action == {"kind": "sql.submit", "query": ep.outcome.final_answer}
        executed = [s for s in ep.steps if s.action["kind"] == "sql.execute"]
        assert executed and all(s.output_tokens > 0 and s.model_latency_s > 0 for s in executed)
        assert 0.0 <= ep.score.value <= 1.0
