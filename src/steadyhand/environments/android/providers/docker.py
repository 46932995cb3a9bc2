"""An Android emulator in a Docker container (docker SDK), from an image the user provides.

steadyhand ships no Android system image and cannot download one: bring an image
that boots an emulator (x86_64, hardware-accelerated) and exposes its ``adbd`` on
TCP inside the container — for instance one built from Google's
``android-emulator-container-scripts`` or a ``docker-android``-style image — and
have it on the Docker host (``docker load``/``docker build``; ``pull=True`` lets
the provider pull it from a registry the daemon can reach).

What :meth:`DockerEmulatorProvider.start` does, in order (each failure says which):

1. checks ``/dev/kvm`` exists and is readable and writable (the emulator needs KVM);
2. connects to the Docker daemon and finds the image;
3. runs the container with ``/dev/kvm`` passed through, the emulator's adb port
   published on 127.0.0.1 (``network="bridge"``) or used on the host's network
   (``network="host"``, for daemons without a bridge);
4. makes sure an ADB server answers on ``adb_server_port`` (starting the ``adb``
   that adbutils bundles when none does, and stopping it again in ``close``);
5. ``adb connect``s to the emulator and waits for ``sys.boot_completed=1``.

``close`` disconnects and removes the container. Nothing of this has run in
steadyhand's own CI (no system image exists there); its tests cover only the
clear errors for a missing KVM device, daemon or image.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from steadyhand.core.errors import ConfigurationError, EnvironmentFault
from steadyhand.environments.android.device import AndroidDevice, Endpoint, adb_client, server_answers

LABEL = "org.steadyhand.android-emulator"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_kvm(device: str) -> None:
    """Raise :class:`ConfigurationError` unless ``device`` is a usable KVM device node."""
    path = Path(device)
    if not path.exists():
        raise ConfigurationError(f"the docker Android emulator needs KVM, and {device} does not exist: enable "
                                 "virtualization (and nested virtualization in a VM), load the kvm module, or "
                                 "use a device by serial instead")
    if not os.access(path, os.R_OK | os.W_OK):
        raise ConfigurationError(f"the docker Android emulator needs KVM, and {device} is not readable and writable "
                                 "by this user (add it to the 'kvm' group)")


class DockerEmulatorProvider:
    """Runs one emulator container per provider (the environment's lifetime).

    Args:
        image: the emulator image (required: steadyhand provides none).
        adb_port: the port the emulator's adbd listens on inside the container.
        network: ``bridge`` (publish ``adb_port`` on a free 127.0.0.1 port) or ``host``.
        adb_server_port: the host ADB server to attach the emulator to.
        kvm_device: the KVM device node to pass through.
        boot_timeout_s: how long the emulator may take to finish booting.
        memory: container memory limit (``"4g"``), or None.
        environment: variables for the container (the image's own options).
        pull: pull the image when the daemon does not have it.
        docker_url: the daemon (default ``$DOCKER_HOST`` or the local socket).
    """

    name = "docker"

    def __init__(self, *, image: str | None = None, adb_port: int = 5555, network: str = "bridge",
                 adb_server_port: int = 5037, kvm_device: str = "/dev/kvm", boot_timeout_s: float = 600.0,
                 memory: str | None = "4g", environment: dict[str, str] | None = None, pull: bool = False,
                 docker_url: str | None = None) -> None:
        if network not in ("bridge", "host"):
            raise ConfigurationError(f"network must be 'bridge' or 'host', not {network!r}")
        self.image = image
        self.adb_port = adb_port
        self.network = network
        self.adb_server_port = adb_server_port
        self.kvm_device = kvm_device
        self.boot_timeout_s = boot_timeout_s
        self.memory = memory
        self.environment = dict(environment or {})
        self.pull = pull
        self.docker_url = docker_url
        self.container: Any = None
        self.endpoint: Endpoint | None = None
        self._started_server = False

    def _client(self) -> Any:
        try:
            import docker.errors
            from docker.client import DockerClient
        except ImportError as exc:
            raise ConfigurationError("the docker Android emulator needs the docker SDK: "
                                     "pip install 'steadyhand[docker]'") from exc
        try:
            client = DockerClient(base_url=self.docker_url, timeout=60) if self.docker_url \
                else DockerClient.from_env(timeout=60)
            client.ping()
        except docker.errors.DockerException as exc:
            raise ConfigurationError(f"no Docker daemon answers ({exc}); start one (bash scripts/dockerd.sh)") from exc
        return client

    def _require_image(self, client: Any) -> None:
        import docker.errors

        if not self.image:
            raise ConfigurationError("the docker Android emulator needs image=: an emulator image you built or "
                                     "loaded (steadyhand provides no Android system image)")
        try:
            client.images.get(self.image)
        except docker.errors.ImageNotFound as exc:
            if not self.pull:
                raise ConfigurationError(
                    f"the Docker image {self.image!r} is not on this machine: build or load it (docker load -i ...), "
                    "or pass pull=True to pull it from a registry the daemon can reach") from exc
            try:
                client.images.pull(self.image)
            except docker.errors.DockerException as pull_exc:
                raise ConfigurationError(f"pulling {self.image!r} failed: {pull_exc}") from pull_exc

    def start(self) -> Endpoint:
        """Run the container and wait until the emulator has booted.

        Raises:
            ConfigurationError: no usable KVM device, no docker SDK or daemon, no image.
            EnvironmentFault: the emulator did not boot in time (the message has the container's log).
        """
        if self.endpoint is not None:
            return self.endpoint
        check_kvm(self.kvm_device)
        client = self._client()
        self._require_image(client)
        host_port = _free_port() if self.network == "bridge" else self.adb_port
        options: dict[str, Any] = {
            "detach": True, "name": f"steadyhand-android-{uuid.uuid4().hex[:12]}", "labels": {LABEL: "1"},
            "devices": [f"{self.kvm_device}:/dev/kvm:rwm"], "environment": self.environment,
        }
        if self.memory:
            options["mem_limit"] = self.memory
        if self.network == "host":
            options["network_mode"] = "host"
        else:
            options["ports"] = {f"{self.adb_port}/tcp": ("127.0.0.1", host_port)}
        self.container = client.containers.run(self.image, **options)
        try:
            self._ensure_adb_server()
            serial = f"127.0.0.1:{host_port}"
            self._wait_booted(serial)
        except BaseException:
            self.close()
            raise
        self.endpoint = Endpoint("127.0.0.1", self.adb_server_port, serial)
        return self.endpoint

    def _ensure_adb_server(self) -> None:
        if server_answers("127.0.0.1", self.adb_server_port):
            return
        from adbutils import adb_path

        subprocess.run([adb_path(), "-P", str(self.adb_server_port), "start-server"], capture_output=True,
                       timeout=60, check=False)
        if not server_answers("127.0.0.1", self.adb_server_port):
            raise ConfigurationError(f"could not start an ADB server on port {self.adb_server_port}")
        self._started_server = True

    def _logs(self) -> str:
        with contextlib.suppress(Exception):
            return str(self.container.logs(tail=60).decode("utf-8", "replace"))
        return ""

    def _wait_booted(self, serial: str) -> None:
        adb = adb_client("127.0.0.1", self.adb_server_port, timeout_s=30)
        deadline = time.monotonic() + self.boot_timeout_s
        while time.monotonic() < deadline:
            self.container.reload()
            if self.container.status in ("exited", "dead"):
                raise EnvironmentFault(f"the emulator container stopped:\n{self._logs()}")
            with contextlib.suppress(Exception):
                adb.connect(serial, timeout=10)
                device = AndroidDevice(Endpoint("127.0.0.1", self.adb_server_port, serial), timeout_s=30)
                if device.state() == "device" and device.shell(["getprop", "sys.boot_completed"]).strip() == "1":
                    return
            time.sleep(3)
        raise EnvironmentFault(f"the emulator did not finish booting in {self.boot_timeout_s:.0f} s:\n{self._logs()}")

    def close(self) -> None:
        """Disconnect, remove the container, and stop the ADB server if this provider started it."""
        container, self.container, endpoint, self.endpoint = self.container, None, self.endpoint, None
        if endpoint is not None:
            with contextlib.suppress(Exception):
                adb_client("127.0.0.1", self.adb_server_port, timeout_s=10).disconnect(endpoint.serial)
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)
        if self._started_server:
            self._started_server = False
            with contextlib.suppress(Exception):
                adb_client("127.0.0.1", self.adb_server_port, timeout_s=10).server_kill()
