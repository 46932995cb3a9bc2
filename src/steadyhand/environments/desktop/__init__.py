"""Desktop environments that speak OSWorld's HTTP control protocol.

One client (:class:`DesktopClient`) and one environment (:class:`DesktopEnvironment`,
registered as ``desktop``) drive three kinds of desktop, chosen by provider:

* ``local`` — Xvfb, openbox, a D-Bus session with the accessibility bus and the
  control server, in bubblewrap with a private HOME (``/home/user``);
* ``docker`` — one container per episode from the offline-built desktop image,
  host networking on 127.0.0.1 with a port per container;
* ``remote`` — an existing OSWorld VM's control server, by URL.

The control server itself lives in :mod:`.server` and runs inside the desktop.
Names are imported lazily so that the server, which imports this package inside
desktop images, needs none of the client's dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DesktopClient": "steadyhand.environments.desktop.client",
    "DesktopEnvironment": "steadyhand.environments.desktop.environment",
    "DesktopConfig": "steadyhand.environments.desktop.environment",
    "Desktop": "steadyhand.environments.desktop.providers",
    "DesktopProvider": "steadyhand.environments.desktop.providers",
    "get_provider": "steadyhand.environments.desktop.providers",
    "ActionCodeError": "steadyhand.environments.desktop.actions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
