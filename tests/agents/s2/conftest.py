"""Fixtures for the S2 agent tests.

The fast tier runs the graph on a real (small) screenshot with real OCR grounding and
deterministic scripted models, on paths that never touch an environment; those tests
pass :class:`NoEnvironment`, which fails the test if anything tries to step it. Tests
that act use real local desktops (``desktop`` tier).
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from steadyhand.agents.base import EpisodeContext, StepRecord
from steadyhand.core import Observation, Task
from steadyhand.models import load

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


class NoEnvironment:
    """Stands where an environment would be on paths that must never act: any use fails the test."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("this path of the graph must not touch the environment")

    reset = step = evaluate = close = _refuse


def screenshot(words: list[tuple[str, int, int]], size: tuple[int, int] = (640, 360)) -> bytes:
    """A PNG with black words on white at the given positions (a real image for real OCR)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 22) if Path(FONT).exists() else ImageFont.load_default()
    for text, x, y in words:
        draw.text((x, y), text, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def screen() -> Observation:
    """A small real screenshot showing a Save and a Cancel button label."""
    return Observation(text="Save the note", screenshot=screenshot([("Save", 80, 150), ("Cancel", 400, 150)]))


@pytest.fixture
def task() -> Task:
    return Task(id="note-1", instruction="Save the note in the editor.", environment="desktop")


@pytest.fixture
def write_script(tmp_path: Path) -> Any:
    """Write a scripted-model script and return its ``scripted:`` spec."""
    def write(script: dict[str, Any], name: str = "script.json") -> str:
        path = tmp_path / name
        path.write_text(json.dumps(script))
        return f"scripted:{path}"
    return write


@pytest.fixture
def make_ctx() -> Any:
    """An EpisodeContext over a scripted model; steps recorded into ``ctx.recorded``."""
    def make(spec: str, task: Task, *, env: Any = None, thread_id: str = "t-1",
             checkpointer: Any = None) -> EpisodeContext:
        recorded: list[StepRecord] = []
        ctx = EpisodeContext(task=task, env=env if env is not None else NoEnvironment(),  # type: ignore[arg-type]
                             model=load(spec), thread_id=thread_id, checkpointer=checkpointer,
                             record_step=recorded.append)
        ctx.recorded = recorded  # type: ignore[attr-defined]
        return ctx
    return make


@pytest.fixture
def needs_tesseract() -> None:
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (apt install tesseract-ocr)")
