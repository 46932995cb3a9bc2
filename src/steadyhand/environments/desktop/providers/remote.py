"""Remote desktops: an existing OSWorld VM (or any compatible server) given by URL.

The provider does not own the VM: ``start`` checks the server answers and hands
back the same desktop each time, and ``close`` leaves the VM running. Resetting
a VM between episodes (OSWorld reverts a snapshot) is the VM owner's job.

Pointing at OSWorld's own image: run OSWorld's Docker/QEMU image (it needs KVM)
with the VM's port 5000 published, then use ``provider="remote",
url="http://HOST:5000"``.
"""

from __future__ import annotations

import contextlib

import httpx

from steadyhand.core.errors import ConfigurationError, EnvironmentFault
from steadyhand.environments.desktop.client import DesktopClient
from steadyhand.environments.desktop.providers import Desktop


class RemoteDesktop(Desktop):
    """A desktop somebody else runs, reachable at ``url``."""

    def __init__(self, url: str, width: int, height: int) -> None:
        self.url = url.rstrip("/")
        self.width = width
        self.height = height

    def __repr__(self) -> str:
        return f"RemoteDesktop({self.url})"

    def alive(self) -> bool:
        try:
            return httpx.get(f"{self.url}/platform", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        """Nothing to stop: the VM is not ours."""


class RemoteProvider:
    """Hands out the desktop at ``url``.

    Args:
        url: the control server, e.g. ``http://192.168.1.20:5000``.
        ready_timeout_s: how long ``start`` waits for the server to answer.
    """

    name = "remote"

    def __init__(self, *, url: str, ready_timeout_s: float = 120.0) -> None:
        if not url or not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"remote desktop url must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.ready_timeout_s = ready_timeout_s

    def start(self, *, width: int = 1280, height: int = 720) -> RemoteDesktop:
        """Wait for the server and return it; the screen size is the VM's own.

        Raises:
            EnvironmentFault: the server does not answer within ``ready_timeout_s``.
        """
        with DesktopClient(self.url, timeout_s=30.0) as client:
            client.wait_ready(timeout_s=self.ready_timeout_s)
            with contextlib.suppress(EnvironmentFault):  # an old server without /screen_size: keep the size
                width, height = client.screen_size()
        return RemoteDesktop(self.url, width, height)

    def close(self) -> None:
        """Nothing to stop."""
