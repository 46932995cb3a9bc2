"""OSWorld getters: what an evaluator's ``result`` and ``expected`` entries fetch.

A getter entry is ``{"type": <name>, ...}``; ``vm_file`` becomes OSWorld's
``get_vm_file``. Files are copied from the desktop into the scoring work folder and
metrics receive their local paths. A file missing on the desktop raises
``FileNotFoundError`` (the evaluator scores that item 0).

Implemented: ``vm_file``, ``cloud_file``, ``cache_file``, ``vm_command_line``,
``vm_command_error``, ``vm_terminal_output``, ``accessibility_tree``, ``list_directory``
and ``rule``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from steadyhand.core.task import Task
from steadyhand.environments.desktop.osworld.components import getters, register
from steadyhand.environments.desktop.osworld.context import (
    ControlClient,
    OSWorldOptions,
    StaticContext,
    UnsupportedTask,
    as_bool,
    task_dir,
)
from steadyhand.environments.desktop.osworld.placeholders import Placeholders
from steadyhand.environments.desktop.osworld.sources import fetch, locate
from steadyhand.environments.desktop.osworld.steps import programs_in


@dataclass
class EvalContext:
    """What a getter may use while a task is scored."""

    client: ControlClient
    task: Task
    options: OSWorldOptions
    placeholders: Placeholders
    work_dir: Path

    @property
    def base_dir(self) -> Path | None:
        """The folder of the task's file."""
        return task_dir(self.task)

    def local_path(self, dest: str) -> Path:
        """Where a fetched file called ``dest`` is kept (always inside the work folder)."""
        name = PurePosixPath(dest).name
        if not name or name in (".", ".."):
            raise ValueError(f"bad destination file name {dest!r}")
        return self.work_dir / name


def _files(config: dict[str, Any]) -> tuple[list[str], list[str], set[int]]:
    """OSWorld's single/multi file convention: (sources, dests, indexes given to the metric)."""
    if as_bool(config.get("multi", False)):
        paths, dests = [str(p) for p in config["path"]], [str(d) for d in config["dest"]]
        if len(paths) != len(dests):
            raise ValueError("'path' and 'dest' must have the same length")
    else:
        paths, dests = [str(config["path"])], [str(config["dest"])]
    return paths, dests, set(config.get("gives", [0]))


def _given(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def _check_time_suffix(config: dict[str, Any], ctx: StaticContext) -> list[str]:
    if as_bool(config.get("time_suffix", False)):
        return ["vm_file: 'time_suffix' is not supported"]
    return []


@register(getters, "vm_file", check=_check_time_suffix, requires=("path", "dest"))
def vm_file(ctx: EvalContext, config: dict[str, Any]) -> Any:
    """Copy ``path`` from the desktop to ``dest``; returns the local path.

    With ``multi``, ``path`` and ``dest`` are lists and ``gives`` (default ``[0]``) picks
    which local paths the metric gets (a list when more than one); a missing file among
    several gives None in its place, as in OSWorld.

    Raises:
        FileNotFoundError: the (single) file does not exist on the desktop.
    """
    if as_bool(config.get("time_suffix", False)):
        raise UnsupportedTask("getter option", "vm_file.time_suffix")
    paths, dests, gives = _files(config)
    multi = len(paths) > 1 or as_bool(config.get("multi", False))
    out: list[str | None] = []
    for i, (path, dest) in enumerate(zip(paths, dests, strict=True)):
        local = ctx.local_path(dest)
        try:
            local.write_bytes(ctx.client.get_file(path))
        except FileNotFoundError:
            if not multi:
                raise
            if i in gives:
                out.append(None)
            continue
        if i in gives:
            out.append(str(local))
    return _given(out)


def _check_cloud(config: dict[str, Any], ctx: StaticContext) -> list[str]:
    problems = []
    try:
        paths, dests, _ = _files(config)
    except (KeyError, TypeError, ValueError) as exc:
        return [f"cloud_file: bad 'path'/'dest': {exc}"]
    for url, dest in zip(paths, dests, strict=True):
        try:
            where = locate(url, base_dir=ctx.base_dir, file_cache=ctx.capabilities.file_cache,
                           task_id=ctx.task.id, name=PurePosixPath(dest).name)
        except UnsupportedTask as exc:
            problems.append(f"cloud_file: {exc}")
            continue
        if isinstance(where, Path) and not where.is_file():
            problems.append(f"cloud_file: no file at {where}")
    return problems


@register(getters, "cloud_file", check=_check_cloud, requires=("path", "dest"))
def cloud_file(ctx: EvalContext, config: dict[str, Any]) -> Any:
    """A reference file named by URL (``path``), saved as ``dest``; returns the local path.

    Served from ``file://`` URLs, paths relative to the task file, loopback servers, or
    the cache folder (see :mod:`~steadyhand.environments.desktop.osworld.sources`);
    ``multi``/``gives`` as for ``vm_file``.

    Raises:
        UnsupportedTask: a remote URL with no local copy.
    """
    paths, dests, gives = _files(config)
    out: list[str | None] = []
    for i, (url, dest) in enumerate(zip(paths, dests, strict=True)):
        local = ctx.local_path(dest)
        local.write_bytes(fetch(url, base_dir=ctx.base_dir, file_cache=ctx.options.file_cache,
                                task_id=ctx.task.id, name=local.name))
        if i in gives:
            out.append(str(local))
    return _given(out)


@register(getters, "cache_file", requires=("path",))
def cache_file(ctx: EvalContext, config: dict[str, Any]) -> str:
    """A file already in the cache folder (``<cache>/<task id>/<path>``) or next to the task file.

    Raises:
        FileNotFoundError: in neither place.
    """
    name = str(config["path"])
    places = []
    if ctx.options.file_cache is not None:
        places.append(ctx.options.file_cache / ctx.task.id / name)
    if ctx.base_dir is not None:
        places.append(ctx.base_dir / name)
    for place in places:
        if place.is_file():
            return str(place)
    raise FileNotFoundError(f"cache_file {name!r}: not in {', '.join(map(str, places)) or 'any cache folder'}")


def _check_command(config: dict[str, Any], ctx: StaticContext) -> list[str]:
    missing = [p for p in programs_in(config["command"], as_bool(config.get("shell", False)))
               if not ctx.capabilities.has(p)]
    return [f"{config.get('type')}: the evaluator runs {p!r}, not installed on {ctx.capabilities.where}"
            for p in missing]


@register(getters, "vm_command_line", check=_check_command, requires=("command",))
def vm_command_line(ctx: EvalContext, config: dict[str, Any]) -> str | None:
    """The standard output of ``command`` (list or string; ``shell``) run in the desktop."""
    result = ctx.client.execute(config["command"], shell=as_bool(config.get("shell", False)),
                                timeout_s=ctx.options.command_timeout_s)
    output = result.get("output")
    return None if output is None else str(output)


@register(getters, "vm_command_error", check=_check_command, requires=("command",))
def vm_command_error(ctx: EvalContext, config: dict[str, Any]) -> str | None:
    """The standard error of ``command`` run in the desktop."""
    result = ctx.client.execute(config["command"], shell=as_bool(config.get("shell", False)),
                                timeout_s=ctx.options.command_timeout_s)
    error = result.get("error")
    return None if error is None else str(error)


@register(getters, "vm_terminal_output")
def vm_terminal_output(ctx: EvalContext, config: dict[str, Any]) -> str | None:
    """The text of the desktop's terminal window, as the control server reports it."""
    return ctx.client.terminal()


@register(getters, "accessibility_tree")
def accessibility_tree(ctx: EvalContext, config: dict[str, Any]) -> str:
    """The desktop's accessibility tree in OSWorld's XML form."""
    return ctx.client.accessibility_tree()


@register(getters, "list_directory", requires=("path",))
def list_directory(ctx: EvalContext, config: dict[str, Any]) -> dict[str, Any]:
    """The directory tree under ``path`` in the desktop, as the control server returns it."""
    return ctx.client.list_directory(str(config["path"]))


@register(getters, "rule", requires=("rules",))
def rule(ctx: EvalContext, config: dict[str, Any]) -> Any:
    """The literal ``rules`` of the entry (the expected value of most metrics)."""
    return config["rules"]
