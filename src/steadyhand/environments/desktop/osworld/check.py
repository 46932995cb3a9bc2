"""Decide, without running anything, whether OSWorld tasks can run on a desktop, and why not.

:func:`check_task` looks at every setup and postconfig step, every getter and metric of
one task: unknown names, missing parameters, remote files with no cached copy, programs
and apps that are not installed, a missing browser. Those are *problems* (the task cannot
run). *Warnings* flag what may still fail at run time: a task that expects a proxy or
the internet, an app name this module does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import steadyhand.environments.desktop.osworld.getters
import steadyhand.environments.desktop.osworld.metrics
import steadyhand.environments.desktop.osworld.steps  # noqa: F401 - registers the built-in components
from steadyhand.core.errors import DatasetError
from steadyhand.core.task import Task
from steadyhand.environments.desktop.osworld.components import find, getters, metrics, steps
from steadyhand.environments.desktop.osworld.context import BROWSERS, Capabilities, StaticContext, as_bool
from steadyhand.environments.desktop.osworld.loader import find_task_files, load_task_file
from steadyhand.environments.desktop.osworld.sources import is_loopback
from steadyhand.environments.desktop.osworld.steps import programs_in

#: OSWorld ``related_apps`` names -> programs, any of which provides the app.
APPS: dict[str, tuple[str, ...]] = {
    "os": (),
    "terminal": ("xterm", "gnome-terminal", "x-terminal-emulator"),
    "chrome": BROWSERS,
    "calc": ("soffice", "libreoffice"),
    "libreoffice_calc": ("soffice", "libreoffice"),
    "writer": ("soffice", "libreoffice"),
    "libreoffice_writer": ("soffice", "libreoffice"),
    "impress": ("soffice", "libreoffice"),
    "libreoffice_impress": ("soffice", "libreoffice"),
    "gimp": ("gimp",),
    "vlc": ("vlc",),
    "thunderbird": ("thunderbird",),
    "vs_code": ("code",),
    "vscode": ("code",),
    "mousepad": ("mousepad",),
    "gedit": ("gedit",),
}
_URL = re.compile(r"https?://([^/\s:'\"]+)")
_NETWORK_WORDS = ("apt-get install", "apt install", "pip install", "git clone", "curl ", "wget ")


@dataclass(frozen=True)
class Item:
    """One metric of an evaluator with its getters and options (``func`` lists are split)."""

    func: str
    result: dict[str, Any] | None
    expected: dict[str, Any] | None
    options: dict[str, Any]


def evaluator_items(evaluator: dict[str, Any]) -> list[Item]:
    """The evaluator's metrics as items, whether ``func`` is one name or a list."""
    func = evaluator["func"]
    if isinstance(func, str):
        return [Item(func, evaluator.get("result"), evaluator.get("expected") or None,
                     dict(evaluator.get("options") or {}))]
    n = len(func)
    results = evaluator.get("result") or [None] * n
    expected = evaluator.get("expected") or [None] * n
    options = evaluator.get("options") or [{}] * n
    return [Item(f, results[i], expected[i] or None, dict(options[i] or {})) for i, f in enumerate(func)]


@dataclass(frozen=True)
class TaskSupport:
    """The verdict on one task (or one task file that failed to load)."""

    task_id: str
    domain: str | None
    path: str | None
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def runnable(self) -> bool:
        """True when nothing stops the task from running here."""
        return not self.problems


def missing_components(task: Task) -> list[tuple[str, str]]:
    """``(kind, name)`` of every setup step, getter and metric of ``task`` nothing implements."""
    missing: list[tuple[str, str]] = []
    evaluator = task.evaluator
    for step in [*task.setup, *(evaluator.get("postconfig") or [])]:
        if find(steps, str(step.get("type"))) is None:
            missing.append(("setup step", str(step.get("type"))))
    if evaluator.get("func") == "infeasible":
        return missing
    for item in evaluator_items(evaluator):
        if find(metrics, item.func) is None:
            missing.append(("metric", item.func))
        for getter in (item.result, item.expected):
            if getter is not None and find(getters, str(getter.get("type"))) is None:
                missing.append(("getter", str(getter.get("type"))))
    return missing


def _network_warnings(task: Task) -> list[str]:
    warnings = []
    if task.metadata.get("proxy"):
        warnings.append("the task expects a proxy (internet access)")
    text = repr([task.setup, task.evaluator.get("postconfig")])
    hosts = sorted({h for h in _URL.findall(text) if not is_loopback(h)})
    if hosts:
        warnings.append(f"setup mentions remote hosts ({', '.join(hosts[:3])}); it may need the internet")
    elif any(word in text for word in _NETWORK_WORDS):
        warnings.append("setup installs or fetches software; it may need the internet")
    return warnings


def check_task(task: Task, capabilities: Capabilities) -> TaskSupport:
    """Whether ``task`` can run on a desktop with ``capabilities``, and why not."""
    ctx = StaticContext(task, capabilities)
    problems: list[str] = [f"{kind} {name!r} is not supported here" for kind, name in missing_components(task)]
    warnings = _network_warnings(task)
    for app in task.metadata.get("related_apps", []):
        programs = APPS.get(app)
        if programs is None:
            warnings.append(f"unknown app {app!r}: not checked")
        elif programs and not any(capabilities.has(p) for p in programs):
            problems.append(f"app {app!r} is not installed on {capabilities.where} (none of {', '.join(programs)})")
    for where, step_list in (("config", task.setup), ("postconfig", task.evaluator.get("postconfig") or [])):
        for i, step in enumerate(step_list):
            component = find(steps, str(step.get("type")))
            params = dict(step.get("parameters") or {})
            if component is not None:
                problems += [f"{where}[{i}] {p}" for p in component.problems(params, ctx)]
            if step.get("type") in ("execute", "command") and "command" in params:
                warnings += [f"{where}[{i}] runs {p!r}, not installed on {capabilities.where}"
                             for p in programs_in(params["command"], as_bool(params.get("shell", False)))
                             if not capabilities.has(p)]
    if task.evaluator.get("func") != "infeasible":
        for item in evaluator_items(task.evaluator):
            metric = find(metrics, item.func)
            if metric is not None:
                problems += metric.problems(item.options, ctx)
            for getter in (item.result, item.expected):
                component = find(getters, str(getter.get("type"))) if getter is not None else None
                if component is not None and getter is not None:
                    problems += component.problems(getter, ctx)
    unique = tuple(dict.fromkeys(problems))
    return TaskSupport(task.id, task.metadata.get("domain"), task.metadata.get("path"), unique,
                       tuple(dict.fromkeys(warnings)))


def check_tasks(root: str | Path, capabilities: Capabilities, *, index: str | Path | None = None) -> list[TaskSupport]:
    """:func:`check_task` for every task file under ``root``; a malformed file is reported, not raised.

    Raises:
        DatasetError: ``root`` itself or its index is missing or malformed.
    """
    out = []
    for path, domain in find_task_files(root, index=index):
        try:
            task = load_task_file(path, domain=domain)
        except DatasetError as exc:
            out.append(TaskSupport(path.stem, domain, str(path), (f"malformed task file: {exc}",)))
            continue
        out.append(check_task(task, capabilities))
    return out
