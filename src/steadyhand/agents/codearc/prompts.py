"""The CodeARC agent's prompts, rendered from the jinja2 templates in ``prompts/``.

Templates use ``StrictUndefined`` (a missing variable is an error, never an empty
string). The wording follows CodeARC's reasoning-guided prompts (INVOCATIONS /
IMPLEMENTATION with ```` ```python ```` blocks), shortened for small models; the
action listing is generated from the action definitions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from steadyhand.core.actions import ActionBase, CheckCandidate, QueryFunction, SubmitCandidate, render_action_api

PROMPTS_DIR = Path(__file__).with_name("prompts")
ACTIONS: list[type[ActionBase]] = [QueryFunction, CheckCandidate, SubmitCandidate]


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(PROMPTS_DIR), undefined=jinja2.StrictUndefined,
                              autoescape=False, keep_trailing_newline=False)  # plain text, not HTML


def render(template: str, **variables: Any) -> str:
    """Render ``prompts/<template>.j2``.

    Raises:
        jinja2.UndefinedError: the template uses a variable not given.
    """
    return _templates().get_template(f"{template}.j2").render(**variables).strip()


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 20)].rstrip() + "\n… (clipped)"


def budget(io_left: int, oracle_left: int) -> str:
    """The budgets left and what they allow next."""
    return render("budget", io_left=io_left, oracle_left=oracle_left)


def system_prompt(name: str, *, tools: bool) -> str:
    """The system message: the protocol and the action listing."""
    return render("system_tools" if tools else "system", name=name, action_api=render_action_api(ACTIONS))


def task_prompt(invocations: list[str], outputs: list[str], *, io_left: int, oracle_left: int) -> str:
    """The first user message: the initial examples and the budgets."""
    return render("task", invocations="\n".join(invocations), outputs="\n".join(outputs),
                  budget=budget(io_left, oracle_left))


def result_prompt(outputs: str, *, io_left: int, oracle_left: int, limit: int = 4000) -> str:
    """The user message after invocations ran."""
    return render("result", outputs=clip(outputs, limit), budget=budget(io_left, oracle_left))


def feedback_prompt(verdict: str, *, io_left: int, oracle_left: int) -> str:
    """The user message after a failed check: the counterexample."""
    return render("feedback", verdict=clip(verdict, 3000), budget=budget(io_left, oracle_left))


def format_prompt(problem: str, *, name: str, tools: bool) -> str:
    """The user message after a reply that could not be used."""
    return render("format", problem=problem, name=name, tools=tools)


def tool_schemas() -> list[dict[str, Any]]:
    """OpenAI-style tool definitions of the actions, for models with native tool calls."""
    tools = []
    for cls in ACTIONS:
        schema = cls.model_json_schema()
        properties = {k: v for k, v in schema.get("properties", {}).items() if k != "kind"}
        tools.append({"type": "function", "function": {
            "name": cls.api_name, "description": (cls.__doc__ or "").strip().splitlines()[0],
            "parameters": {"type": "object", "properties": properties,
                           "required": [r for r in schema.get("required", []) if r != "kind"]}}})
    return tools
