"""An oracle script: a scripted model that answers every task with its gold SQL.

With ``scripted:<file>`` built from :func:`oracle_script`, :class:`SQLAgent` solves
every task deterministically - the way to test environments, evaluators and the
agent's plumbing end to end with no model at all::

    path = write_oracle_script(suites.get("sql-mini").load(), tmp / "oracle.json")
    model = steadyhand.models.load(f"scripted:{path}")

The script follows :mod:`steadyhand.models.scripted`: one rule per task matches the
task prompt the agent writes (its ``Database:`` and ``Question:`` lines, regex-escaped)
and replies with the gold query in a ```sql block; one rule replies SUBMIT to any
query result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from steadyhand.core import Task
from steadyhand.core.errors import DatasetError

#: Matches the agent's result messages (``prompts/result.j2``).
RESULT_PATTERN = r"\AQuery (?:result|error):"


def task_pattern(task: Task) -> str:
    """A regex matching the task prompt the agent writes for ``task`` and no other."""
    question = re.escape(task.instruction.strip())
    db_id = task.metadata.get("db_id")
    if db_id:
        return rf"Database: {re.escape(str(db_id))}\n.*Question: {question}(?:\n|\Z)"
    return rf"Question: {question}(?:\n|\Z)"


def oracle_script(tasks: Iterable[Task]) -> dict[str, Any]:
    """A scripted-model script that replies with each task's gold SQL, then SUBMIT.

    Raises:
        DatasetError: a task has no ``evaluator["gold"]``, or two tasks with the same
            question on the same database have different gold queries.
    """
    rules: list[dict[str, str]] = [{"when": RESULT_PATTERN, "reply": "SUBMIT"}]
    seen: dict[str, tuple[str, str]] = {}
    for task in tasks:
        gold = task.evaluator.get("gold")
        if not isinstance(gold, str) or not gold.strip():
            raise DatasetError("task has no gold SQL", item=task.id, field="evaluator.gold")
        pattern = task_pattern(task)
        if pattern in seen:
            other, other_gold = seen[pattern]
            if other_gold.strip() != gold.strip():
                raise DatasetError(f"same question and database as task {other} but a different gold "
                                   "query; the oracle cannot tell them apart", item=task.id)
            continue
        seen[pattern] = (task.id, gold)
        rules.append({"when": pattern, "reply": f"```sql\n{gold.strip()}\n```"})
    return {"rules": rules}


def write_oracle_script(tasks: Iterable[Task], path: str | Path) -> Path:
    """Write :func:`oracle_script` of ``tasks`` as JSON to ``path``; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(oracle_script(tasks), indent=1))
    return path
