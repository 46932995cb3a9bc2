"""An oracle script: a scripted model that answers every CodeARC task with its hidden function.

With ``scripted:<file>`` built from :func:`oracle_script`, :class:`CodeARCAgent` solves
every ``code`` task deterministically with one model call and one check - the way to
test the arena, the oracle and the agent's plumbing end to end with no model::

    path = write_oracle_script(suites.get("codearc-mini")().load(), tmp / "oracle.json")
    model = steadyhand.models.load(f"scripted:{path}")

One rule per task matches the task prompt the agent writes (its initial invocation
lines, regex-escaped, which differ between problems and name the function) and
replies ``IMPLEMENTATION`` with the hidden source in a ```python block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from steadyhand.core.errors import DatasetError
from steadyhand.core.task import Task


def task_pattern(task: Task) -> str:
    """A regex matching the agent's task prompt for ``task``: its initial invocations, in order."""
    examples = task.metadata.get("examples") or []
    lines = [str(e.get("invocation", "")) for e in examples if isinstance(e, dict)]
    if not lines:
        raise DatasetError("task has no initial invocations", item=task.id, field="metadata.examples")
    return re.escape("\n".join(lines))


def oracle_script(tasks: Iterable[Task]) -> dict[str, Any]:
    """A scripted-model script replying to each task with its hidden function as the implementation.

    Raises:
        DatasetError: a task lacks its hidden source or examples, or two tasks with the
            same invocations have different sources.
    """
    rules: list[dict[str, str]] = []
    seen: dict[str, tuple[str, str]] = {}
    for task in tasks:
        source = task.evaluator.get("source")
        if not isinstance(source, str) or not source.strip():
            raise DatasetError("task has no hidden source", item=task.id, field="evaluator.source")
        pattern = task_pattern(task)
        if pattern in seen:
            other, other_source = seen[pattern]
            if other_source.strip() != source.strip():
                raise DatasetError(f"same invocations as task {other} but a different function; the oracle "
                                   "cannot tell them apart", item=task.id)
            continue
        seen[pattern] = (task.id, source)
        rules.append({"when": pattern, "in": "all",
                      "reply": f"The examples fit this function.\nIMPLEMENTATION:\n```python\n{source.strip()}\n```"})
    return {"rules": rules}


def write_oracle_script(tasks: Iterable[Task], path: str | Path) -> Path:
    """Write :func:`oracle_script` of ``tasks`` as JSON to ``path``; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(oracle_script(tasks), indent=1))
    return path
