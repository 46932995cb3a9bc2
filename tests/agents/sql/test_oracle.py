"""The oracle script solves every sql-mini task through the real environment."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from steadyhand.agents.sql import oracle_script, write_oracle_script
from steadyhand.agents.sql.parsing import first_statement
from steadyhand.agents.sql.prompts import task_prompt
from steadyhand.core import Task, suites
from steadyhand.core.errors import DatasetError


def _task(tid: str, question: str, gold: str, db_id: str = "music") -> Task:
    return Task(id=tid, instruction=question, environment="sql",
                evaluator={"gold": gold, "database": "x.sqlite"}, metadata={"db_id": db_id})


def test_each_rule_matches_its_own_prompt_only() -> None:
    tasks = [_task("a", "How many singers are there?", "SELECT 1"),
             _task("b", "How many singers are there? Count them twice.", "SELECT 2"),
             _task("c", "How many singers are there?", "SELECT 3", db_id="concerts")]
    rules = oracle_script(tasks)["rules"]
    assert rules[0] == {"when": r"\AQuery (?:result|error):", "reply": "SUBMIT"}
    for task, rule in zip(tasks, rules[1:], strict=True):
        for other in tasks:
            prompt = task_prompt(db_id=other.metadata["db_id"], schema="CREATE TABLE singer (x)",
                                 question=other.instruction + "\nEvidence: none")
            assert bool(re.search(rule["when"], prompt, flags=re.DOTALL)) == (other is task)
        assert rule["reply"] == f"```sql\n{task.evaluator['gold']}\n```"


def test_tasks_the_oracle_cannot_tell_apart_are_refused() -> None:
    with pytest.raises(DatasetError, match="cannot tell them apart"):
        oracle_script([_task("a", "Q?", "SELECT 1"), _task("b", "Q?", "SELECT 2")])
    with pytest.raises(DatasetError, match="gold"):
        oracle_script([Task(id="a", instruction="Q?", environment="sql")])


def test_oracle_solves_every_sql_mini_task(tmp_path: Path, run_episode: Any) -> None:
    from steadyhand.models import load

    tasks = list(suites.get("sql-mini").load())  # type: ignore[attr-defined]
    assert len(tasks) >= 40
    path = write_oracle_script(tasks, tmp_path / "oracle.json")
    assert json.loads(path.read_text())["rules"]
    model = load(f"scripted:{path}")
    failures = []
    for task in tasks:
        ep = run_episode(task, "", model=model, thread_id=task.id)
        if ep.score.value != 1.0 or ep.outcome.final_answer != first_statement(task.evaluator["gold"]):
            failures.append((task.id, ep.outcome, ep.score))
        assert [s.action["kind"] for s in ep.steps] == ["sql.execute", "sql.submit"], task.id
    assert failures == []
