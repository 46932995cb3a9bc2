"""Prompt templates of the model-backed experts (files beside this module, strict variables)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

_DIR = Path(__file__).with_name("prompts")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_DIR)), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=False, autoescape=False)


def render(name: str, **values: Any) -> str:
    """Render ``prompts/<name>.j2``; a missing variable raises ``jinja2.UndefinedError``."""
    return _environment().get_template(f"{name}.j2").render(**values).strip()
