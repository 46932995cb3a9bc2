"""The agent's prompts, rendered from the jinja2 templates in ``prompts/``.

Templates use ``StrictUndefined``: a variable a template needs and the code does
not pass is an error, never a silently empty string. The action listing in the
system prompt is generated from the action definitions
(:func:`steadyhand.core.render_action_api`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from steadyhand.core import ExecuteSQL, SubmitSQL, render_action_api

PROMPTS_DIR = Path(__file__).with_name("prompts")

#: Rows of a result shown to the model, and the longest a cell may be.
RESULT_ROWS = 10
CELL_CHARS = 60
RESULT_CHARS = 1500


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        keep_trailing_newline=False,
    )


def render(name: str, **variables: Any) -> str:
    """Render ``prompts/<name>.j2`` with ``variables``.

    Raises:
        jinja2.UndefinedError: the template uses a variable not given.
    """
    return _templates().get_template(f"{name}.j2").render(**variables).strip()


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 20)].rstrip() + "\n… (clipped)"


def system_prompt(dialect: str) -> str:
    """The system message: the action listing and the reply format."""
    return render("system", dialect=dialect, action_api=render_action_api([ExecuteSQL, SubmitSQL]))


def task_prompt(*, db_id: str, schema: str, question: str) -> str:
    """The first user message: the schema (already clipped) and the question."""
    return render("task", db_id=db_id, schema=schema, question=question)


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def result_table(columns: list[str], rows: list[list[Any]]) -> str:
    """Rows as ``a | b`` lines under a header line; at most :data:`RESULT_ROWS`."""
    lines = [" | ".join(columns)] if columns else []
    lines += [" | ".join(_cell(v) for v in row) for row in rows[:RESULT_ROWS]]
    return clip("\n".join(lines), RESULT_CHARS)


def result_prompt(digest: dict[str, Any], *, remaining: int) -> str:
    """The user message showing a query's outcome (see :func:`digest` in ``graph``)."""
    rows = digest.get("rows") or []
    shown = min(len(rows), RESULT_ROWS)
    row_count = digest.get("row_count")
    return render(
        "result",
        error=digest.get("error") or "",
        row_count=row_count if row_count is not None else len(rows),
        shown=shown,
        table=result_table(digest.get("columns") or [], rows),
        remaining=remaining,
    )


def format_prompt(problem: str, *, has_query: bool) -> str:
    """The user message shown after a reply with neither a query nor SUBMIT."""
    return render("format", problem=problem, has_query=has_query)
