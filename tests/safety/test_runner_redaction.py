"""The runner redacts steps before storing them (real sql-mini suite and result store)."""

from __future__ import annotations

from pathlib import Path

from steadyhand.agents.base import AgentOutcome, EpisodeContext, StepRecord
from steadyhand.agents.sql import write_oracle_script
from steadyhand.core import Observation
from steadyhand.core.registry import agents
from steadyhand.evals import ResultStore, RunConfig, resolve_suite, run_suite


class LeakyAgent:
    """Records one step full of personal data, then stops."""

    name = "test-leaky"

    def run(self, ctx: EpisodeContext, first: Observation) -> AgentOutcome:
        ctx.record_step(StepRecord(index=0, action={"kind": "wait", "note": "mail carol@example.com"},
                                   rationale="card 4111 1111 1111 1111, password: hunter2"))
        return AgentOutcome(status="terminated", steps=1)


agents.register("test-leaky", LeakyAgent, replace=True)


def test_stored_steps_are_redacted_unless_switched_off(tmp_path: Path) -> None:
    script = tmp_path / "oracle.json"
    write_oracle_script(resolve_suite("sql-mini").load()[:1], script)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    stored = {}
    for mode in ("text", "off"):
        result = run_suite(RunConfig(suite="sql-mini", agent="test-leaky", model=f"scripted:{script}", limit=1,
                                     redact=mode), store_url=url, progress=False)
        store = ResultStore(url)
        (episode,) = store.episodes(result.run_id)
        (step,) = store.steps(episode["id"])
        stored[mode] = repr([step.action, step.rationale])
        store.close()
    for secret in ("carol@example.com", "4111 1111", "hunter2"):
        assert secret not in stored["text"] and secret in stored["off"]
    assert "[REDACTED:email]" in stored["text"]
