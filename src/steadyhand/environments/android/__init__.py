"""Android devices driven over ADB with AndroidWorld's action set.

One environment (:class:`AndroidEnvironment`, registered as ``android``) drives a
device through `adbutils <https://github.com/openatx/adbutils>`_; providers decide
where the device comes from:

* ``serial`` — a device or emulator already attached to an ADB server;
* ``docker`` — an emulator container from an image the user provides (needs KVM);
* ``simulated`` — :mod:`.simulator`, a simulated device behind a real ADB wire
  protocol (a test double: no Android runs in it).

Tasks (:class:`AndroidTask`) set state up and check it through ``adb shell``
(settings, files, content providers); ``android-mini`` is the built-in suite.
Names are imported lazily, so importing the simulator needs none of the rest.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AndroidEnvironment": "steadyhand.environments.android.environment",
    "AndroidConfig": "steadyhand.environments.android.environment",
    "AndroidDevice": "steadyhand.environments.android.device",
    "AdbCommandError": "steadyhand.environments.android.device",
    "Endpoint": "steadyhand.environments.android.device",
    "AndroidTask": "steadyhand.environments.android.tasks",
    "AndroidProvider": "steadyhand.environments.android.providers",
    "get_provider": "steadyhand.environments.android.providers",
    "ActionError": "steadyhand.environments.android.actions",
    "KeyboardTextError": "steadyhand.environments.android.actions",
    "UIElement": "steadyhand.environments.android.uiautomator",
    "android_mini": "steadyhand.environments.android.suites",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
