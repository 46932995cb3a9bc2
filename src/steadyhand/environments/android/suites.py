"""Built-in Android suites.

``android-mini``: 11 tasks on the simulated device's apps (Settings toggles and
choices, one behind a scroll; creating and deleting notes; adding a contact;
reading a phone number back as an answer; one infeasible request), each with an
oracle in ``data/android_mini.oracles.json``. The tasks use the simulated apps'
packages (``com.example.notes``) and provider URIs, so they are written for the
simulated device; the settings tasks' setup and checks are plain ``settings``
commands that work on any device.
"""

from __future__ import annotations

import json
from pathlib import Path

from steadyhand.core.errors import DatasetError
from steadyhand.core.task import Suite, Task
from steadyhand.environments.android.tasks import AndroidTask

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_android_tasks(path: Path) -> list[Task]:
    """Tasks from a JSON list of :class:`AndroidTask` objects (``id, instruction, complexity, apps, setup, checks``).

    Raises:
        DatasetError: unreadable JSON, or an item that does not validate (named).
    """
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read Android tasks: {exc}", path=str(path)) from exc
    if not isinstance(items, list):
        raise DatasetError("an Android task file is a JSON list", path=str(path))
    tasks = []
    for i, item in enumerate(items):
        try:
            spec = AndroidTask.model_validate(item)
        except ValueError as exc:
            raise DatasetError(str(exc).splitlines()[0] + ": " + str(exc).splitlines()[-1], path=str(path),
                               item=str(item.get("id", i)) if isinstance(item, dict) else str(i)) from exc
        tasks.append(spec.to_task(source=str(path.name)))
    return tasks


def load_android_mini() -> list[Task]:
    """The android-mini tasks, in file order."""
    return load_android_tasks(DATA_DIR / "android_mini.json")


android_mini = Suite(
    name="android-mini",
    environment="android",
    load=load_android_mini,
    description="11 AndroidWorld-style tasks on the simulated ADB device: Settings, notes, contacts, an answer, "
                "an infeasible request",
    environment_options={"provider": "simulated"},
    requirements=("adbutils", "pillow"),
)

__all__ = ["android_mini", "load_android_mini", "load_android_tasks"]
