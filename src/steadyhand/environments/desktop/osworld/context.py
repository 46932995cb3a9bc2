"""What the OSWorld layer needs from a desktop, the options it runs with, and its errors.

:class:`ControlClient` lists the calls of :class:`steadyhand.environments.desktop.client.DesktopClient`
that setup steps, getters and metrics use; any object with these methods will do (the
client of our own desktops, or the same client pointed at a real OSWorld VM).
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.task import Task


class ControlClient(Protocol):
    """The desktop control-server calls the OSWorld layer makes.

    Transport failures raise :class:`~steadyhand.core.errors.EnvironmentFault`;
    ``get_file`` raises ``FileNotFoundError`` for a missing file.
    """

    def execute(self, command: str | list[str], *, shell: bool = False,
                timeout_s: float | None = None) -> dict[str, Any]: ...

    def get_file(self, path: str) -> bytes: ...

    def upload_file(self, path: str, data: bytes) -> None: ...

    def launch(self, command: str | list[str], *, shell: bool = False) -> None: ...

    def open_file(self, path: str) -> None: ...

    def activate_window(self, window_name: str, *, strict: bool = False, by_class: bool = False) -> None: ...

    def close_window(self, window_name: str, *, strict: bool = False, by_class: bool = False) -> None: ...

    def screen_size(self) -> tuple[int, int]: ...

    def terminal(self) -> str | None: ...

    def accessibility_tree(self) -> str: ...

    def list_directory(self, path: str) -> dict[str, Any]: ...


class UnsupportedTask(ConfigurationError):
    """A task needs a setup step, getter, metric or file that is not available here.

    Attributes:
        kind: what is missing (``setup step``, ``getter``, ``metric``, ``table rule``, ``file``).
        name: its name in the task file (``googledrive``, ``get_vm_screen``, a URL).
    """

    def __init__(self, kind: str, name: str, why: str = "") -> None:
        super().__init__(f"{kind} {name!r} is not supported here" + (f": {why}" if why else ""))
        self.kind = kind
        self.name = name


@dataclass(frozen=True)
class OSWorldOptions:
    """Settings for running OSWorld-format tasks.

    Attributes:
        client_password: replaces ``{CLIENT_PASSWORD}`` (OSWorld's VMs use ``password``).
        file_cache: a directory holding copies of remote files (setup downloads and
            ``cloud_file`` getters), since nothing is fetched from the internet. A file is
            looked up as ``<file_cache>/<task id>/<name>`` (OSWorld's own cache layout, with
            ``name`` the file's ``dest``/target name or ``<uuid5(url)>_<name>``) or as
            ``<file_cache>/<last part of the URL path>``.
        work_dir: where files fetched from the desktop are kept while a task is scored;
            a temporary directory, removed afterwards, when None.
        command_timeout_s: limit for one setup command or command getter.
    """

    client_password: str = "password"
    file_cache: Path | None = None
    work_dir: Path | None = None
    command_timeout_s: float = 120.0

    @classmethod
    def from_env(cls) -> OSWorldOptions:
        """Options from ``STEADYHAND_OSWORLD_CACHE`` and ``STEADYHAND_OSWORLD_PASSWORD`` when set."""
        cache = os.environ.get("STEADYHAND_OSWORLD_CACHE")
        return cls(client_password=os.environ.get("STEADYHAND_OSWORLD_PASSWORD", "password"),
                   file_cache=Path(cache) if cache else None)


def as_bool(value: Any) -> bool:
    """OSWorld files write flags as booleans and sometimes as strings (``"shell": "true"``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no", "off", ""}:
        return False
    if value is None:
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


#: Programs that can play the browser for ``chrome_open_tabs``, most OSWorld-like first.
BROWSERS = ("google-chrome", "chromium", "chromium-browser")


class Capabilities:
    """What a desktop offers, for deciding statically whether a task can run there.

    ``has(program)`` answers whether an executable is on the desktop's PATH; answers
    are cached. Build it with :meth:`local` (the desktop runs on this machine, as the
    ``local`` provider does) or :meth:`of_desktop` (ask a running desktop's server).
    """

    def __init__(self, which: Callable[[str], bool], *, file_cache: Path | None = None,
                 where: str = "this machine") -> None:
        self._which = which
        self._known: dict[str, bool] = {}
        self.file_cache = file_cache
        self.where = where

    def has(self, program: str) -> bool:
        """Whether ``program`` can be started on the desktop."""
        if program not in self._known:
            self._known[program] = self._which(program)
        return self._known[program]

    @property
    def browser(self) -> str | None:
        """The first browser found, or None."""
        return next((b for b in BROWSERS if self.has(b)), None)

    @classmethod
    def local(cls, *, file_cache: Path | None = None) -> Capabilities:
        """Capabilities of desktops started on this machine."""
        return cls(lambda program: shutil.which(program) is not None, file_cache=file_cache)

    @classmethod
    def of_desktop(cls, client: ControlClient, *, file_cache: Path | None = None) -> Capabilities:
        """Capabilities of the desktop behind ``client`` (one ``command -v`` per program asked)."""
        def which(program: str) -> bool:
            result = client.execute(["sh", "-c", f"command -v {shlex.quote(program)}"])
            return result.get("returncode") == 0 and bool(str(result.get("output") or "").strip())

        return cls(which, file_cache=file_cache, where="the desktop")


@dataclass(frozen=True)
class StaticContext:
    """What a static check of one task may look at: the task and the desktop's capabilities."""

    task: Task
    capabilities: Capabilities

    @property
    def base_dir(self) -> Path | None:
        """The folder of the task's file, against which relative file names resolve."""
        return task_dir(self.task)


def task_dir(task: Task) -> Path | None:
    """The folder holding ``task``'s file, when it was loaded from one."""
    path = task.metadata.get("path")
    return Path(path).parent if path else None
