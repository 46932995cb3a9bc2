"""Android providers: where a device comes from.

An :class:`AndroidProvider` hands out one :class:`~steadyhand.environments.android.device.Endpoint`
(an ADB server and a serial) for the environment's lifetime; tasks reset the
device's state themselves, so one device serves many episodes, as in AndroidWorld.

* ``serial`` (:class:`~.connected.ConnectedProvider`) — a device or emulator already
  attached to an ADB server (``adb devices`` lists it);
* ``docker`` (:class:`~.docker.DockerEmulatorProvider`) — an Android emulator in a
  container from an image the user provides; needs KVM;
* ``simulated`` (:class:`~.simulated.SimulatedProvider`) — the simulated device of
  :mod:`steadyhand.environments.android.simulator`, in a child process (tests).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from steadyhand.core.errors import ConfigurationError
from steadyhand.environments.android.device import Endpoint


@runtime_checkable
class AndroidProvider(Protocol):
    """Makes a device available.

    ``start`` returns the endpoint of a device that answers ADB shell commands, or
    raises :class:`ConfigurationError` (something this machine lacks: an ADB server,
    KVM, an image) or :class:`~steadyhand.core.errors.EnvironmentFault` (it was
    there but did not come up; the message has its log). ``close`` releases what
    the provider started and nothing else (idempotent).
    """

    name: str

    def start(self) -> Endpoint: ...

    def close(self) -> None: ...


PROVIDERS = ("serial", "docker", "simulated")


def get_provider(name: str, **options: Any) -> AndroidProvider:
    """The provider called ``name`` built with ``options``.

    Raises:
        ConfigurationError: unknown provider name.
    """
    if name in ("serial", "connected"):
        from steadyhand.environments.android.providers.connected import ConnectedProvider

        return ConnectedProvider(**options)
    if name == "docker":
        from steadyhand.environments.android.providers.docker import DockerEmulatorProvider

        return DockerEmulatorProvider(**options)
    if name == "simulated":
        from steadyhand.environments.android.providers.simulated import SimulatedProvider

        return SimulatedProvider(**options)
    raise ConfigurationError(f"unknown Android provider {name!r}; known: {', '.join(PROVIDERS)}")


__all__ = ["PROVIDERS", "AndroidProvider", "get_provider"]
