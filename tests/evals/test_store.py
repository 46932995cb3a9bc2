from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from steadyhand.agents.base import StepRecord
from steadyhand.core import ConfigurationError, Score
from steadyhand.evals.store import SCHEMA_VERSION, Episode, ResultStore


def test_run_lifecycle_and_attempts(store_url: str) -> None:
    store = ResultStore(store_url)
    assert store.schema_version == SCHEMA_VERSION
    run_id = store.create_run(suite="s", agent="a", model="m", config={"k": 1}, task_ids=["t1", "t2"],
                              difficulties=["easy", "hard"])
    assert store.pending_tasks(run_id) == ["t1", "t2"]

    ep, attempt = store.start_episode(run_id, "t1")
    assert attempt == 1
    store.add_step(ep, StepRecord(index=0, action={"kind": "sql.execute", "query": "SELECT 1"},
                                  screenshot=b"\x89PNG", guard_verdicts=[{"guard": "g", "verdict": "allow"}]))
    store.add_step(ep, StepRecord(index=1, action={"kind": "sql.submit", "query": "SELECT 1"}))
    # the attempt is interrupted; a new attempt must not see its rows
    ep2, attempt = store.start_episode(run_id, "t1")
    assert (ep2, attempt) == (ep, 2)
    assert store.steps(ep) == []
    store.add_step(ep, StepRecord(index=0, action={"kind": "sql.submit", "query": "SELECT 2"}))
    store.finish_episode(ep, status="done", score=Score(value=1.0, components={"partial_reward": 0.9}),
                         outcome="terminated", steps=1, input_tokens=10, output_tokens=3)
    assert store.pending_tasks(run_id) == ["t2"]

    [e1, e2] = store.episodes(run_id)
    assert e1["scores"] == {"score": 1.0, "partial_reward": 0.9} and e1["attempt"] == 2
    assert e2["status"] == "pending" and e2["difficulty"] == "hard"
    [step] = store.steps(ep)
    assert step.action["query"] == "SELECT 2"
    runs = store.list_runs()
    assert runs[0]["id"] == run_id and runs[0]["done"] == 1 and runs[0]["mean_score"] == 1.0
    assert store.get_run(run_id[:12]).id == run_id  # unique prefixes work
    store.close()


def test_one_episode_per_task_is_a_constraint(store_url: str) -> None:
    store = ResultStore(store_url)
    run_id = store.create_run(suite="s", agent="a", model="m", config={}, task_ids=["t1"])
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(Episode(run_id=run_id, task_id="t1"))
    ep, _ = store.start_episode(run_id, "t1")
    store.add_step(ep, StepRecord(index=0, action={}))
    with pytest.raises(IntegrityError):
        store.add_step(ep, StepRecord(index=0, action={}))
    store.close()


def test_unknown_run_and_task(store_url: str) -> None:
    store = ResultStore(store_url)
    with pytest.raises(ConfigurationError, match="no run"):
        store.get_run("nope")
    run_id = store.create_run(suite="s", agent="a", model="m", config={}, task_ids=["t1"])
    with pytest.raises(ConfigurationError, match="no task"):
        store.start_episode(run_id, "t9")
    store.close()


def test_newer_schema_is_refused_and_reopening_keeps_data(store_url: str) -> None:
    store = ResultStore(store_url)
    run_id = store.create_run(suite="s", agent="a", model="m", config={}, task_ids=["t1"])
    store.close()
    again = ResultStore(store_url)
    assert again.get_run(run_id).suite == "s"
    with again.engine.begin() as conn:
        conn.execute(text("UPDATE steadyhand_meta SET value = '999' WHERE key = 'schema_version'"))
    again.close()
    with pytest.raises(ConfigurationError, match="schema version 999"):
        ResultStore(store_url)


def test_unreachable_store_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="cannot open result store"):
        ResultStore("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_a_version_1_store_is_upgraded_in_place(store_url: str) -> None:
    store = ResultStore(store_url)
    run_id = store.create_run(suite="s", agent="a", model="m", config={}, task_ids=["t1"])
    with store.engine.begin() as conn:  # what a version-1 store looked like: no infra_faults table
        conn.execute(text("DROP TABLE infra_faults"))
        conn.execute(text("UPDATE steadyhand_meta SET value = '1' WHERE key = 'schema_version'"))
    store.close()
    upgraded = ResultStore(store_url)
    assert upgraded.schema_version == SCHEMA_VERSION == 2
    episode_id, _ = upgraded.start_episode(run_id, "t1")
    upgraded.finish_episode(episode_id, status="infra_error", score=None, outcome=None, error="desktop died")
    assert upgraded.infra_faults(run_id) == {"t1": [{"attempt": 1, "error": "desktop died",
                                                     "at": upgraded.infra_faults(run_id)["t1"][0]["at"]}]}
    assert [e["infra_faults"] for e in upgraded.episodes(run_id)] == [1]
    upgraded.close()
