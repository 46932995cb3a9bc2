"""Desktop providers: where a desktop comes from.

A :class:`DesktopProvider` hands out :class:`Desktop` handles, one per episode:

* ``local`` (:class:`~.local.LocalProvider`) — an Xvfb session on this machine,
  in bubblewrap when available;
* ``docker`` (:class:`~.docker.DockerProvider`) — a container of the offline-built
  desktop image, host networking on 127.0.0.1;
* ``remote`` (:class:`~.remote.RemoteProvider`) — an existing OSWorld VM's server.

Every desktop speaks OSWorld's control protocol at ``Desktop.url``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from steadyhand.core.errors import ConfigurationError
from steadyhand.environments.desktop.client import DesktopClient


class Desktop(ABC):
    """A running desktop reachable at :attr:`url`.

    ``alive()`` says whether it still answers; ``close()`` stops it and releases
    everything it holds (idempotent). ``stats()`` reports what it costs.
    """

    url: str
    width: int
    height: int

    def client(self, *, timeout_s: float = 30.0, retries: int = 3) -> DesktopClient:
        """A new client for this desktop."""
        return DesktopClient(self.url, timeout_s=timeout_s, retries=retries)

    @abstractmethod
    def alive(self) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...

    def stats(self) -> dict[str, Any]:
        """Resource figures (``rss_mb``, ``pids``) where the provider can measure them."""
        return {}

    def __enter__(self) -> Desktop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@runtime_checkable
class DesktopProvider(Protocol):
    """Makes desktops.

    ``start`` returns a ready desktop (its server answers ``GET /screenshot``) or
    raises :class:`~steadyhand.core.errors.EnvironmentFault` (it could not start;
    the message carries the log tail) or :class:`ConfigurationError` (a missing
    program or image). ``close`` stops every desktop it started.
    """

    name: str

    def start(self, *, width: int = 1280, height: int = 720) -> Desktop: ...

    def close(self) -> None: ...


def get_provider(name: str, **options: Any) -> DesktopProvider:
    """The provider called ``name`` (``local``, ``docker`` or ``remote``) built with ``options``.

    Raises:
        ConfigurationError: unknown provider name or bad options.
    """
    if name == "local":
        from steadyhand.environments.desktop.providers.local import LocalProvider

        return LocalProvider(**options)
    if name == "docker":
        from steadyhand.environments.desktop.providers.docker import DockerProvider

        return DockerProvider(**options)
    if name == "remote":
        from steadyhand.environments.desktop.providers.remote import RemoteProvider

        return RemoteProvider(**options)
    raise ConfigurationError(f"unknown desktop provider {name!r}; known: local, docker, remote")


# --- process helpers shared by the providers ------------------------------------------------


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children first-level first), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def rss_mb(pids: list[int]) -> float:
    """Summed resident memory of ``pids`` in MiB (processes that vanished count 0)."""
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kb / 1024


def kill_pids(pids: list[int], *, grace_s: float = 5.0) -> None:
    """SIGTERM each pid, wait up to ``grace_s`` for them to go, then SIGKILL the rest."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _exists(p)]
        if alive:
            time.sleep(0.05)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _exists(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone for our purposes


__all__ = ["Desktop", "DesktopProvider", "descendants", "get_provider", "kill_pids", "rss_mb"]
