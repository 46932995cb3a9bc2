"""OSWorld setup steps (``config`` and ``evaluator.postconfig`` entries), run against a desktop.

Each step is ``{"type": ..., "parameters": {...}}``; placeholders in the parameters are
substituted first (see :mod:`~steadyhand.environments.desktop.osworld.placeholders`).
Implemented: ``download`` (from local files, loopback servers or the cache folder),
``launch``, ``open``, ``execute`` and ``command`` (with OSWorld's ``until``, ``stdout``,
``stderr``), ``sleep``, ``activate_window``, ``close_window`` and ``chrome_open_tabs``
(when the desktop has a browser). Any other type is unsupported.
"""

from __future__ import annotations

import logging
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from steadyhand.core.errors import DatasetError, EnvironmentFault
from steadyhand.core.task import Task
from steadyhand.environments.desktop.osworld.components import find, register, steps
from steadyhand.environments.desktop.osworld.context import (
    BROWSERS,
    ControlClient,
    OSWorldOptions,
    StaticContext,
    UnsupportedTask,
    as_bool,
    task_dir,
)
from steadyhand.environments.desktop.osworld.placeholders import Placeholders
from steadyhand.environments.desktop.osworld.sources import fetch, locate

log = logging.getLogger(__name__)

#: Attempts of an ``execute`` step whose ``until`` condition is not met.
UNTIL_ATTEMPTS = 10


@dataclass
class SetupContext:
    """What a running setup step may use."""

    client: ControlClient
    task: Task
    options: OSWorldOptions
    placeholders: Placeholders
    work_dir: Path

    @property
    def base_dir(self) -> Path | None:
        """The folder of the task's file."""
        return task_dir(self.task)


def run_steps(ctx: SetupContext, step_list: list[dict[str, Any]], *, where: str = "config") -> None:
    """Run ``step_list`` in order.

    Raises:
        UnsupportedTask: a step type nothing implements, or a file not available offline.
        DatasetError: a step lacks a required parameter.
        EnvironmentFault: the desktop failed (from the client).
    """
    for i, step in enumerate(step_list):
        kind = str(step.get("type"))
        component = find(steps, kind)
        if component is None:
            raise UnsupportedTask("setup step", kind)
        params = ctx.placeholders.substitute(dict(step.get("parameters") or {}))
        for name in component.requires:
            if name not in params:
                raise DatasetError("missing", path=ctx.task.metadata.get("path"), item=ctx.task.id,
                                   field=f"{where}[{i}].parameters.{name}")
        log.debug("setup %s[%d] %s %s", where, i, kind, params)
        component.fn(ctx, params)


# --- files ---------------------------------------------------------------------------


def _check_download(params: dict[str, Any], ctx: StaticContext) -> list[str]:
    problems = []
    for f in params.get("files") or []:
        try:
            where = locate(str(f.get("url", "")), base_dir=ctx.base_dir, file_cache=ctx.capabilities.file_cache,
                           task_id=ctx.task.id, name=PurePosixPath(str(f.get("path", ""))).name)
        except UnsupportedTask as exc:
            problems.append(f"download: {exc}")
            continue
        if isinstance(where, Path) and not where.is_file():
            problems.append(f"download: no file at {where}")
    return problems


@register(steps, "download", check=_check_download, requires=("files",))
def download(ctx: SetupContext, params: dict[str, Any]) -> None:
    """Copy files into the desktop: ``files: [{url, path}]`` (``path`` is in the desktop)."""
    for f in params["files"]:
        url, path = str(f["url"]), str(f["path"])
        data = fetch(url, base_dir=ctx.base_dir, file_cache=ctx.options.file_cache, task_id=ctx.task.id,
                     name=PurePosixPath(path).name)
        ctx.client.upload_file(path, data)


@register(steps, "open", requires=("path",))
def open_file(ctx: SetupContext, params: dict[str, Any]) -> None:
    """Open ``path`` in the desktop with its default application."""
    ctx.client.open_file(str(params["path"]))


# --- programs ------------------------------------------------------------------------


#: Shell words whose whole command starts no program of interest.
_BUILTINS = {"cd", "echo", "export", "printf", "test", "[", "[[", "true", "false", "exit", "source", ".", "set",
             "read", "sleep", "if", "then", "else", "fi", "for", "do", "done", "while", "until", "case", "esac",
             "return", "local", "unset", "wait", "kill", "trap", "shift", "eval", "alias"}
#: Words that run the next word as the program.
_PREFIXES = {"sudo", "env", "exec", "nohup", "time", "!", "command", "xargs", "timeout", "nice"}


def programs_in(command: Any, shell: bool = False) -> list[str]:
    """The programs a command starts, as far as can be told without running it.

    A list command starts its first word (for ``sh -c SCRIPT``, the script's programs); a
    shell string starts the first word of each pipeline part. Shell builtins, variable
    assignments and words built at run time (``$...``) are skipped.
    """
    if isinstance(command, list):
        words = [str(w) for w in command]
        if len(words) >= 3 and PurePosixPath(words[0]).name in ("sh", "bash", "dash") and words[1] == "-c":
            return programs_in(words[2], True)
        if not shell:
            return [PurePosixPath(words[0]).name] if words else []
        command = " ".join(shlex.quote(w) for w in words)
    found: list[str] = []
    for part in re.split(r"\n|\|\||&&|[|;&()`]", str(command)):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        while words and (words[0] in _PREFIXES or "=" in words[0] or words[0].startswith("-")):
            if words.pop(0) == "timeout":
                while words and words[0].startswith("-"):
                    words.pop(0)
                words = words[1:]  # the duration
        if words and words[0] not in _BUILTINS and not any(ch in words[0] for ch in "$*?{}<>"):
            name = PurePosixPath(words[0]).name
            if name and name not in found:
                found.append(name)
    return found


def _check_launch(params: dict[str, Any], ctx: StaticContext) -> list[str]:
    return [f"launch: program {program!r} is not installed on {ctx.capabilities.where}"
            for program in programs_in(params["command"], as_bool(params.get("shell", False)))[:1]
            if not ctx.capabilities.has(program)]


def _tolerated(ctx: SetupContext, what: str, call: Callable[[], None]) -> None:
    """Run ``call``; a refusal by a live server is logged and setup goes on, as OSWorld's
    setup does for launch and window steps. A dead server still raises."""
    try:
        call()
    except EnvironmentFault as exc:
        ctx.client.execute(["true"])  # raises in turn when the server itself is gone
        log.warning("setup %s failed, going on: %s", what, exc)


@register(steps, "launch", check=_check_launch, requires=("command",))
def launch(ctx: SetupContext, params: dict[str, Any]) -> None:
    """Start a program and do not wait for it: ``command`` (list or string), ``shell``.
    A program the desktop cannot start is logged, not fatal (as in OSWorld)."""
    _tolerated(ctx, f"launch {params['command']!r}",
               lambda: ctx.client.launch(params["command"], shell=as_bool(params.get("shell", False))))


def _until_met(result: dict[str, Any], until: dict[str, Any]) -> bool:
    if "returncode" in until and result.get("returncode") == until["returncode"]:
        return True
    if "stdout" in until and str(until["stdout"]) in str(result.get("output") or ""):
        return True
    return "stderr" in until and str(until["stderr"]) in str(result.get("error") or "")


def execute(ctx: SetupContext, params: dict[str, Any]) -> None:
    """Run a command and wait for it: ``command`` (list or string), ``shell``; ``until``
    (``{returncode|stdout|stderr: ...}``) repeats it until met; ``stdout``/``stderr`` name
    files in the work folder that receive its output. A failing command does not stop the
    setup, as in OSWorld.
    """
    until = params.get("until") or {}
    shell = as_bool(params.get("shell", False))
    result: dict[str, Any] = {}
    for attempt in range(UNTIL_ATTEMPTS if until else 1):
        if attempt:
            time.sleep(min(0.2 * attempt, 2.0))
        result = ctx.client.execute(params["command"], shell=shell, timeout_s=ctx.options.command_timeout_s)
        if not until or _until_met(result, until):
            break
    if result.get("returncode") not in (0, None):
        log.info("setup command %r exited %s: %s", params["command"], result.get("returncode"),
                 str(result.get("error") or "")[:500])
    for key, field in (("stdout", "output"), ("stderr", "error")):
        if params.get(key):
            (ctx.work_dir / PurePosixPath(str(params[key])).name).write_text(str(result.get(field) or ""))


register(steps, "execute", requires=("command",))(execute)
register(steps, "command", requires=("command",))(execute)


@register(steps, "sleep", requires=("seconds",))
def sleep(ctx: SetupContext, params: dict[str, Any]) -> None:
    """Pause for ``seconds``."""
    time.sleep(float(params["seconds"]))


# --- windows -------------------------------------------------------------------------


@register(steps, "activate_window", requires=("window_name",))
def activate_window(ctx: SetupContext, params: dict[str, Any]) -> None:
    """Raise and focus a window: ``window_name``, ``strict`` (exact title), ``by_class``.
    A window that is not there is logged, not fatal (as in OSWorld)."""
    _tolerated(ctx, f"activate_window {params['window_name']!r}", lambda: ctx.client.activate_window(
        str(params["window_name"]), strict=as_bool(params.get("strict", False)),
        by_class=as_bool(params.get("by_class", False))))


@register(steps, "close_window", requires=("window_name",))
def close_window(ctx: SetupContext, params: dict[str, Any]) -> None:
    """Close a window: ``window_name``, ``strict`` (exact title), ``by_class``.
    A window that is not there is logged, not fatal (as in OSWorld)."""
    _tolerated(ctx, f"close_window {params['window_name']!r}", lambda: ctx.client.close_window(
        str(params["window_name"]), strict=as_bool(params.get("strict", False)),
        by_class=as_bool(params.get("by_class", False))))


def _check_browser(params: dict[str, Any], ctx: StaticContext) -> list[str]:
    if ctx.capabilities.browser is None:
        return [f"chrome_open_tabs: needs a browser ({', '.join(BROWSERS)}), none on {ctx.capabilities.where}"]
    return []


@register(steps, "chrome_open_tabs", check=_check_browser, requires=("urls_to_open",))
def chrome_open_tabs(ctx: SetupContext, params: dict[str, Any]) -> None:
    """Open ``urls_to_open`` in the desktop's browser (a new window of Chrome or Chromium)."""
    probe = " || ".join(f"command -v {b}" for b in BROWSERS)
    found = ctx.client.execute(["sh", "-c", probe])
    browser = str(found.get("output") or "").strip().splitlines()
    if found.get("returncode") != 0 or not browser:
        raise UnsupportedTask("setup step", "chrome_open_tabs", "the desktop has no browser")
    urls = [str(u) for u in params["urls_to_open"]]
    ctx.client.launch([browser[0], "--no-first-run", "--no-default-browser-check",
                       "--disable-background-networking", *urls])
