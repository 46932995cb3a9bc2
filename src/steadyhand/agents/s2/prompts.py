"""Agent S2's prompts, rendered from the jinja2 templates in ``prompts/``.

Templates use ``StrictUndefined``: a variable a template needs and the code does not
pass is an error, never a silently empty string. The worker's action listing is
generated from the action definitions (:func:`steadyhand.agents.s2.action_api.render_api`).

Each model call is two messages, a system message and one user message that holds
everything the call needs (the screenshot as an image part when the model sees images):
the calls are stateless, so a replayed checkpoint rebuilds them exactly.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from steadyhand.agents.s2.action_api import CompileTarget, api_for, render_api
from steadyhand.core.observation import Observation

PROMPTS_DIR = Path(__file__).with_name("prompts")
#: Characters of text observations (accessibility tree, terminal) shown in place of a screenshot.
SCREEN_TEXT_CHARS = 3000


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
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
    return text[: max(0, limit - 12)].rstrip() + " …(clipped)"


@cache
def manager_system(platform: str = "Linux") -> str:
    """The manager's system message."""
    return render("manager_system", platform=platform)


@cache
def worker_system(platform: str = "Linux", target: CompileTarget = "desktop") -> str:
    """The worker's system message, with the listing of the calls that exist on ``target``."""
    return render("worker_system", platform=platform, action_api=render_api(api_for(target)))


def screen_text(observation: Observation, *, vision: bool) -> str:
    """How the prompt refers to the screen: the attached image, or the observation's text fields."""
    parts = []
    if vision and observation.screenshot:
        parts.append("the screenshot attached to this message.")
    if observation.error:
        parts.append(f"(the last action reported an error: {clip(observation.error, 300)})")
    for label, value in (("Accessibility tree", observation.accessibility_tree), ("Terminal", observation.terminal)):
        if value:
            parts.append(f"{label}:\n{clip(value, SCREEN_TEXT_CHARS)}")
    if not parts:
        parts.append("(no screenshot is shown to you; rely on the task, the plan and the results of your actions)")
    return "\n".join(parts)


def messages(system: str, user: str, observation: Observation | None, *, vision: bool) -> list[BaseMessage]:
    """The two messages of one call; the screenshot rides along as an image part when ``vision``."""
    if vision and observation is not None and observation.screenshot:
        url = "data:image/png;base64," + base64.b64encode(observation.screenshot).decode("ascii")
        content: Any = [{"type": "text", "text": user}, {"type": "image_url", "image_url": {"url": url}}]
        return [SystemMessage(content=system), HumanMessage(content=content)]
    return [SystemMessage(content=system), HumanMessage(content=user)]
