"""Providers: a device by serial, and the docker emulator's clear errors.

The docker emulator itself cannot run here (no Android system image can be
obtained), so only its refusals are tested: no KVM device, no daemon, no image.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from steadyhand.core.errors import ConfigurationError
from steadyhand.environments.android.device import Endpoint
from steadyhand.environments.android.providers import get_provider
from steadyhand.environments.android.providers.connected import ConnectedProvider
from steadyhand.environments.android.providers.docker import DockerEmulatorProvider


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unknown_provider() -> None:
    with pytest.raises(ConfigurationError, match="known: serial, docker, simulated"):
        get_provider("usb")


def test_serial_provider_finds_an_attached_device(endpoint: Endpoint) -> None:
    found = ConnectedProvider(serial=endpoint.serial, host=endpoint.host, port=endpoint.port).start()
    assert found == endpoint
    assert ConnectedProvider(host=endpoint.host, port=endpoint.port).start() == endpoint  # the only one
    with pytest.raises(ConfigurationError, match=rf"device R58 is not attached.*attached: {endpoint.serial}"):
        ConnectedProvider(serial="R58", host=endpoint.host, port=endpoint.port).start()


def test_serial_provider_without_a_server_says_how_to_start_one() -> None:
    with pytest.raises(ConfigurationError, match=r"no ADB server answers.*adb start-server"):
        ConnectedProvider(serial="x", port=_free_port()).start()


def test_docker_emulator_needs_kvm_first(tmp_path: Path) -> None:
    provider = DockerEmulatorProvider(image="any", kvm_device=str(tmp_path / "kvm"))
    with pytest.raises(ConfigurationError, match=r"needs KVM, and .*/kvm does not exist"):
        provider.start()
    assert provider.container is None


def test_docker_emulator_without_a_daemon(tmp_path: Path) -> None:
    kvm = tmp_path / "kvm"
    kvm.write_bytes(b"")  # stands in for a usable device node: the check is for existence and access
    provider = DockerEmulatorProvider(image="any", kvm_device=str(kvm),
                                      docker_url=f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(ConfigurationError, match="no Docker daemon answers"):
        provider.start()


@pytest.mark.docker
def test_docker_emulator_without_the_image(tmp_path: Path) -> None:
    """Needs a Docker daemon (the docker tier starts one; skipped when none answers)."""
    docker_client = pytest.importorskip("docker.client")
    try:
        docker_client.DockerClient.from_env(timeout=10).ping()
    except Exception as exc:
        pytest.skip(f"no Docker daemon answers ({exc}); start one with bash scripts/dockerd.sh")
    kvm = tmp_path / "kvm"
    kvm.write_bytes(b"")
    provider = DockerEmulatorProvider(image="steadyhand-test/no-such-android-image:0", kvm_device=str(kvm),
                                      docker_url=os.environ.get("DOCKER_HOST"))
    with pytest.raises(ConfigurationError, match="is not on this machine: build or load it"):
        provider.start()
    with pytest.raises(ConfigurationError, match="needs image="):
        DockerEmulatorProvider(kvm_device=str(kvm), docker_url=os.environ.get("DOCKER_HOST")).start()
    assert provider.container is None
