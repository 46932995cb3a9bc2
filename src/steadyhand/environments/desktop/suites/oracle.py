"""Oracle action scripts: a known solution for each desk-mini task, replayed through the environment.

A task file ``<id>.json`` has its oracle in ``<id>.oracle.json`` beside it: a JSON list of
actions in any form :meth:`DesktopEnvironment.step` accepts - pyautogui code strings,
Action-union objects (``{"kind": "desktop.typing", "text": "..."}``, ``{"kind": "wait"}``,
``{"kind": "fail"}``), computer_13 dictionaries, or ``"FAIL"``/``"DONE"``.

:func:`run_oracle` replays one at an agent's pace: it waits until the screen stops
changing before the first action and pauses between actions, since GUI applications
(LibreOffice above all) drop or reorder keys sent while they are still busy.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any, Protocol

from steadyhand.core.errors import DatasetError
from steadyhand.core.observation import StepResult
from steadyhand.core.score import Score
from steadyhand.core.task import Task

ORACLE_SUFFIX = ".oracle.json"


class _Env(Protocol):
    def reset(self, task: Task, *, seed: int | None = None) -> Any: ...

    def step(self, action: Any) -> StepResult: ...

    def evaluate(self) -> Score: ...


class _Screen(Protocol):
    def screenshot(self) -> bytes: ...


def oracle_path(task: Task) -> Path:
    """Where ``task``'s oracle script lies (next to its task file)."""
    path = task.metadata.get("path")
    if not path:
        raise DatasetError("the task was not loaded from a file, so it has no oracle", item=task.id)
    return Path(path).with_suffix(ORACLE_SUFFIX)


def load_oracle(task: Task) -> list[Any]:
    """The oracle actions of ``task``.

    Raises:
        DatasetError: no oracle file, or it is not a JSON list.
    """
    path = oracle_path(task)
    try:
        actions = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError("no oracle script", path=str(path), item=task.id) from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"not valid JSON: {exc}", path=str(path), item=task.id) from exc
    if not isinstance(actions, list) or not actions:
        raise DatasetError("an oracle script must be a non-empty JSON list of actions", path=str(path), item=task.id)
    return actions


def wait_until_still(screen: _Screen, *, timeout_s: float = 30.0, still_s: float = 1.0, interval_s: float = 0.25,
                     tolerance_px: int = 600) -> bool:
    """Wait until the screen has not changed (beyond a blinking caret) for ``still_s``.

    Returns:
        True when it settled, False when ``timeout_s`` passed first.
    """
    from PIL import Image, ImageChops

    def grab() -> Image.Image:
        return Image.open(io.BytesIO(screen.screenshot())).convert("L")

    deadline = time.monotonic() + timeout_s
    previous, since = grab(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(interval_s)
        current = grab()
        box = ImageChops.difference(previous, current).getbbox()
        changed = box is not None and (box[2] - box[0]) * (box[3] - box[1]) > tolerance_px
        if changed:
            since = time.monotonic()
        elif time.monotonic() - since >= still_s:
            return True
        previous = current
    return False


def run_oracle(env: _Env, task: Task, *, screen: _Screen | None = None, pause_s: float = 0.5) -> list[StepResult]:
    """Replay ``task``'s oracle on an environment that ``reset`` has prepared for it.

    Args:
        env: the desktop environment, already reset to ``task``.
        task: a task loaded from a file that has an oracle beside it.
        screen: where to watch the screen settle before the first action (the env's client).
        pause_s: pause between actions, as an agent's thinking time would give.

    Raises:
        DatasetError: the oracle is missing, or one of its actions is rejected by the
            environment (the message names the action).
    """
    actions = load_oracle(task)
    if screen is not None:
        wait_until_still(screen)
    results = []
    for i, action in enumerate(actions):
        if i:
            time.sleep(pause_s)
        result = env.step(action)
        if result.observation.error:
            raise DatasetError(f"oracle action {i} ({action!r}) failed: {result.observation.error}",
                               path=str(oracle_path(task)), item=task.id)
        results.append(result)
    return results
