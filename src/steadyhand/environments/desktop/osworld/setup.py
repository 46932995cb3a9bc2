"""Prepare a desktop for one OSWorld-format task: run its ``config`` steps.

``DesktopEnvironment.reset(task)`` calls :func:`run_setup` after the desktop is ready.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from steadyhand.core.task import Task
from steadyhand.environments.desktop.osworld.check import missing_components
from steadyhand.environments.desktop.osworld.context import ControlClient, OSWorldOptions, UnsupportedTask
from steadyhand.environments.desktop.osworld.placeholders import Placeholders
from steadyhand.environments.desktop.osworld.steps import SetupContext, run_steps


@contextlib.contextmanager
def work_dir(options: OSWorldOptions, task: Task) -> Iterator[Path]:
    """The folder host-side files of ``task`` go to: ``options.work_dir/<task id>``, or a temporary one."""
    if options.work_dir is not None:
        path = options.work_dir / task.id.replace("/", "_")
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="steadyhand-osworld-") as tmp:
        yield Path(tmp)


def ensure_supported(task: Task) -> None:
    """Raise before touching the desktop when a step, getter or metric of ``task`` is unknown.

    Raises:
        UnsupportedTask: naming the first missing component (the message lists all).
    """
    missing = missing_components(task)
    if missing:
        kind, name = missing[0]
        others = "; ".join(f"{k} {n!r}" for k, n in missing[1:])
        raise UnsupportedTask(kind, name, f"task {task.id}" + (f" (also: {others})" if others else ""))


def run_setup(client: ControlClient, task: Task, *, options: OSWorldOptions | None = None) -> None:
    """Run ``task.setup`` (OSWorld ``config`` steps) against the desktop behind ``client``.

    Args:
        client: the desktop's control-server client.
        task: an OSWorld-format task (see :mod:`~steadyhand.environments.desktop.osworld.loader`).
        options: password, cache folder and limits; default :meth:`OSWorldOptions.from_env`.

    Raises:
        UnsupportedTask: the task uses a step, getter or metric not implemented here, or a
            file that is not available offline; nothing has been run on the desktop when a
            name is unknown.
        DatasetError: a step lacks a required parameter.
        EnvironmentFault: the desktop failed.
    """
    options = options or OSWorldOptions.from_env()
    ensure_supported(task)
    with work_dir(options, task) as work:
        ctx = SetupContext(client, task, options, Placeholders(client, password=options.client_password), work)
        run_steps(ctx, task.setup, where="config")
