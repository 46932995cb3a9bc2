"""Fixtures for the Android environment tests.

No Android system image can be obtained on these machines, so the device is the
simulated one (:mod:`steadyhand.environments.android.simulator`): a real ADB server
process on a free 127.0.0.1 port, driven through adbutils as a real device would be.
The fixtures start it and stop it by PID.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steadyhand.environments.android.device import AndroidDevice, Endpoint
from steadyhand.environments.android.environment import AndroidEnvironment
from steadyhand.environments.android.providers.simulated import SimulatedProvider


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatedProvider]:
    """A simulated device in a child process (one per test module), stopped by PID."""
    provider = SimulatedProvider()
    provider.start()
    try:
        yield provider
    finally:
        pid = provider.pid
        provider.close()
        assert pid is None or not Path(f"/proc/{pid}").exists()


@pytest.fixture(scope="module")
def endpoint(sim: SimulatedProvider) -> Endpoint:
    assert sim.endpoint is not None
    return sim.endpoint


@pytest.fixture
def device(endpoint: Endpoint) -> AndroidDevice:
    """The simulated device through adbutils, on its home screen with no app running."""
    dev = AndroidDevice(endpoint, timeout_s=30)
    for package in ("com.android.settings", "com.example.notes", "com.android.contacts"):
        dev.shell(["am", "force-stop", package])
    return dev


@pytest.fixture(scope="module")
def env() -> Iterator[AndroidEnvironment]:
    """An android environment on its own simulated device (one per test module)."""
    environment = AndroidEnvironment(provider="simulated")
    try:
        yield environment
    finally:
        environment.close()
