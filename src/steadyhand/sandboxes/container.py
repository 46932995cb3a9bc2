"""The ``docker`` provider: one container per sandbox, driven with the Docker SDK.

The container runs an idle init (``docker-init`` + ``sleep infinity``, or a service
``command`` such as a database server) as the unprivileged user ``1000:1000``, with:
- a read-only root file system and size-limited tmpfs mounts for ``/work`` (the work
  dir), ``/home/sandbox``, ``/tmp`` and ``/run``;
- memory (no swap), CPU and pids limits; all capabilities dropped; no-new-privileges;
  rlimits on file size, open files and core dumps;
- ``network="none"`` (only loopback, the default) or ``network="host"`` for a service
  that must be reached from the host, which then must bind to 127.0.0.1;
- labels (``org.steadyhand.sandbox``, the owner's PID and host) so
  :func:`cleanup_docker` (``steadyhand sandbox cleanup``) removes leftovers of a crashed run.

Each :meth:`DockerSandbox.exec` is a ``docker exec``. When it returns (or times out),
every process it started that is still running is killed; the container's main
command and its children are kept. Killing works from the host through the container's
cgroup when this process can read it (the usual case: root next to a local daemon);
otherwise only after a timeout, from inside, and daemons may outlive a call.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import signal
import socket
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import docker.errors
from docker.client import DockerClient
from docker.types import Ulimit

from steadyhand.sandboxes import _host
from steadyhand.sandboxes._pump import Capture
from steadyhand.sandboxes.base import (
    BASE_ENV,
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_TIMEOUT_S,
    ExecResult,
    Sandbox,
    SandboxClosedError,
    SandboxFault,
    SandboxUnavailableError,
    validate_exec_args,
)

LABEL = "org.steadyhand.sandbox"
OWNER_PID = "org.steadyhand.owner-pid"
OWNER_START = "org.steadyhand.owner-start"
OWNER_HOST = "org.steadyhand.owner-host"
DEFAULT_IMAGE = "steadyhand/python:latest"
USER = "1000:1000"
HOME = "/home/sandbox"
WORKDIR = "/work"


def docker_client() -> DockerClient:
    """A client for the daemon of ``DOCKER_HOST`` (or the local socket), API version negotiated.

    Raises:
        SandboxUnavailableError: no daemon answers.
    """
    try:
        client = DockerClient.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        raise SandboxUnavailableError(
            f"no Docker daemon answers ({exc}); start one with `bash scripts/dockerd.sh`") from exc
    return client


class DockerSandbox(Sandbox):
    """A sandbox in its own container; see the module docstring.

    Args:
        image: the image to run (build steadyhand's with ``steadyhand images build python``).
        memory_mb: memory for the whole container, swap excluded.
        cpus: CPU share (1.0 = one core).
        max_processes: processes and threads alive at once (pids limit).
        disk_mb: size of each writable tmpfs (``/work``, ``/home/sandbox``, ``/tmp``).
        max_file_mb: the largest file a process may write.
        network: ``"none"`` (loopback only) or ``"host"`` (for a service on 127.0.0.1).
        command: the container's main process (a service); default an idle ``sleep``.
        environment: variables for the main process and every call.
        client: a Docker client to use instead of :func:`docker_client`.

    Raises:
        SandboxUnavailableError: no daemon, or the image does not exist here.
        SandboxFault: the container would not start.
    """

    provider = "docker"

    def __init__(
        self,
        *,
        image: str = DEFAULT_IMAGE,
        memory_mb: int = 1024,
        cpus: float = 1.0,
        max_processes: int = 128,
        disk_mb: int = 256,
        max_file_mb: int = 64,
        max_open_files: int = 1024,
        network: Literal["none", "host"] = "none",
        command: Sequence[str] | None = None,
        environment: Mapping[str, str] | None = None,
        client: DockerClient | None = None,
    ) -> None:
        if network not in ("none", "host"):
            raise ValueError(f"network must be 'none' or 'host', got {network!r}")
        self.client = client or docker_client()
        self.image, self.network = image, network
        self.id = f"sbx-{os.getpid()}-{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._closed = False
        tmpfs_opts = f"size={disk_mb}m,exec,uid=1000,gid=1000"
        try:
            found = self.client.images.get(image)
        except docker.errors.ImageNotFound as exc:
            name = image.split("/")[-1].split(":")[0]
            raise SandboxUnavailableError(
                f"Docker image {image!r} is not here; build it with `steadyhand images build {name}`"
            ) from exc
        # The image's own variables (its PATH, say) win over the base environment.
        image_env = dict(item.split("=", 1) for item in (found.attrs.get("Config") or {}).get("Env") or []
                         if "=" in item)
        self._env = {**BASE_ENV, **image_env, "HOME": HOME, "TMPDIR": "/tmp", **(environment or {})}
        try:
            self.container = self.client.containers.run(
                image, command=list(command) if command else ["sleep", "infinity"],
                name=f"steadyhand-{self.id}", detach=True, init=True, user=USER,
                working_dir=WORKDIR, read_only=True, network_mode=network, hostname="sandbox",
                mem_limit=f"{memory_mb}m", memswap_limit=f"{memory_mb}m",
                nano_cpus=int(cpus * 1e9), pids_limit=max_processes,
                tmpfs={WORKDIR: f"{tmpfs_opts},mode=0700", HOME: f"{tmpfs_opts},mode=0700",
                       "/tmp": f"size={disk_mb}m,exec,mode=1777", "/run": "size=16m,exec,mode=1777"},
                cap_drop=["ALL"], security_opt=["no-new-privileges"],
                ulimits=[Ulimit(name="fsize", soft=max_file_mb * 2**20, hard=max_file_mb * 2**20),
                         Ulimit(name="nofile", soft=max_open_files, hard=max_open_files),
                         Ulimit(name="core", soft=0, hard=0)],
                environment=self._env, labels={
                    LABEL: "1", OWNER_PID: str(os.getpid()),
                    OWNER_START: _host.process_start_time(os.getpid()) or "",
                    OWNER_HOST: socket.gethostname()},
            )
            self.container.reload()
        except docker.errors.APIError as exc:
            self.close()
            raise SandboxFault(f"cannot start a container from {image!r}: {exc}") from exc
        if self.container.status != "running":
            logs = self.container.logs(tail=20).decode(errors="replace")
            self.close()
            raise SandboxFault(f"container from {image!r} exited at once: {logs}")
        self._init_pid = int(self.container.attrs["State"]["Pid"])
        self._procs_file = _cgroup_procs_file(self._init_pid)
        self._main: tuple[int, str] | None = None  # (host PID, start time) of the main command
        self._leftovers()  # records the main command before any call can add processes

    @property
    def workdir(self) -> str:
        return WORKDIR

    # -- processes ----------------------------------------------------------------------------

    def _leftovers(self) -> list[int] | None:
        """Host PIDs in the container that are not init and not the main command's tree.

        None when the host's view of the container is not readable.
        """
        if self._procs_file is None:
            return None
        try:
            pids = [int(x) for x in Path(self._procs_file).read_text().split()]
        except OSError:
            return None
        parents: dict[int, int] = {}
        for pid in pids:
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[pid] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        # The main command is init's oldest child; it and everything below it are kept.
        keep = {self._init_pid}
        if self._main is None:
            children = [(int(start), pid) for pid, parent in parents.items() if parent == self._init_pid
                        for start in [_host.process_start_time(pid)] if start is not None]
            if children:
                start, pid = min(children)
                self._main = (pid, str(start))
        if self._main is not None and _host.process_start_time(self._main[0]) == self._main[1]:
            keep.add(self._main[0])
            changed = True
            while changed:
                changed = False
                for pid, parent in parents.items():
                    if parent in keep and pid not in keep:
                        keep.add(pid)
                        changed = True
        return [p for p in pids if p not in keep]

    def _kill_leftovers(self, *, from_inside: bool) -> None:
        for round_ in range(100):
            left = self._leftovers()
            if left is None:
                if from_inside:  # no host view: kill every sandbox-user process but init's tree
                    with contextlib.suppress(docker.errors.APIError):
                        self.container.exec_run(["kill", "-KILL", "-1"], user=USER)
                return
            if not left:
                return
            # A fork bomb can outrun one pass of kills: from the second pass on, freeze the
            # container (cgroup freezer) so nothing forks while the kills land.
            frozen = round_ > 0 and self._pause(True)
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if frozen:
                self._pause(False)
            time.sleep(0.01)

    def _pause(self, pause: bool) -> bool:
        try:
            self.container.pause() if pause else self.container.unpause()
        except docker.errors.APIError:
            return False
        return True

    def live_processes(self) -> int:
        if self._closed:
            return 0
        left: list[int] | None = []
        for _ in range(50):  # killed processes may show for a moment before they are gone
            left = self._leftovers()
            if left is None:
                top = self.container.top(ps_args="-e -o pid")
                return max(0, len(top.get("Processes") or []) - 2)
            if not left:
                return 0
            time.sleep(0.01)
        return len(left or [])

    # -- the contract -----------------------------------------------------------------------

    def exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | str | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
    ) -> ExecResult:
        args = validate_exec_args(argv, timeout, output_limit)
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        with self._lock:
            if self._closed:
                raise SandboxClosedError(f"docker sandbox {self.id} is closed")
            cwd = cwd or WORKDIR
            if not cwd.startswith("/"):
                cwd = f"{WORKDIR}/{cwd}"
            api = self.client.api
            started = time.monotonic()
            deadline = started + timeout
            try:
                exec_id = api.exec_create(self.container.id, args, stdin=stdin is not None, stdout=True,
                                          stderr=True, environment={**self._env, **(env or {})},
                                          workdir=cwd, user=USER)["Id"]
                raw = api.exec_start(exec_id, socket=True)
            except docker.errors.NotFound as exc:
                raise SandboxFault(f"docker sandbox {self.id}: its container is gone") from exc
            except docker.errors.APIError as exc:
                self._check_alive()
                raise SandboxFault(f"docker exec failed: {exc}") from exc
            sock: socket.socket = getattr(raw, "_sock", raw)
            try:
                out, err, finished = _pump_docker(sock, data if stdin is not None else None,
                                                  deadline=deadline, limit=output_limit)
            finally:
                with contextlib.suppress(OSError):
                    sock.close()
                with contextlib.suppress(Exception):
                    raw.close()
            timed_out = not finished
            code = self._exit_code(exec_id, deadline) if finished else None
            if code is None:
                timed_out = True
                self._kill_leftovers(from_inside=True)
                code = self._exit_code(exec_id, time.monotonic() + 10) or -9
            else:
                self._kill_leftovers(from_inside=False)
            duration = time.monotonic() - started
        return _result(code, out, err, timed_out, duration, cwd)

    def _exit_code(self, exec_id: str, deadline: float) -> int | None:
        """The exec's exit code once docker knows it (it may lag the stream's end)."""
        delay = 0.002
        while True:
            info = self.client.api.exec_inspect(exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            if time.monotonic() > deadline:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _check_alive(self) -> None:
        try:
            self.container.reload()
        except docker.errors.NotFound as exc:
            raise SandboxFault(f"docker sandbox {self.id}: its container is gone") from exc
        if self.container.status != "running":
            raise SandboxFault(f"docker sandbox {self.id}: its container is {self.container.status}")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            container = getattr(self, "container", None)
            if container is not None:
                with contextlib.suppress(docker.errors.APIError):
                    container.remove(force=True, v=True)


def _cgroup_procs_file(pid: int) -> str | None:
    """The host's ``cgroup.procs`` of the container whose init is ``pid``, if readable here."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        base = None
        if controllers == "" and (_host.CGROUP_ROOT / "cgroup.controllers").exists():
            base = _host.CGROUP_ROOT
        elif "pids" in controllers.split(","):
            base = _host.CGROUP_ROOT / "pids"
        if base is not None:
            candidate = base / path.lstrip("/") / "cgroup.procs"
            if os.access(candidate, os.R_OK) and str(pid) in candidate.read_text().split():
                return str(candidate)
    return None


def _pump_docker(sock: socket.socket, stdin: bytes | None, *, deadline: float,
                 limit: int) -> tuple[Capture, Capture, bool]:
    """Send stdin over the exec's socket, then demultiplex its stdout/stderr frames."""
    out, err = Capture(limit), Capture(limit)
    if stdin is not None:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            if stdin:
                sock.sendall(stdin)
            sock.shutdown(socket.SHUT_WR)
        except (TimeoutError, OSError):
            pass
    sock.setblocking(False)
    buffer = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return out, err, False
        ready, _, _ = select.select([sock], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            return out, err, True
        buffer += chunk
        while len(buffer) >= 8:
            kind, size = buffer[0], struct.unpack(">I", buffer[4:8])[0]
            if len(buffer) < 8 + size:
                break
            (err if kind == 2 else out).add(bytes(buffer[8:8 + size]))
            del buffer[:8 + size]


def _result(code: int, out: Capture, err: Capture, timed_out: bool, duration: float, cwd: str) -> ExecResult:
    stdout, stderr = bytes(out.data), bytes(err.data)
    if timed_out:
        code = -signal.SIGKILL
    elif code in (126, 127) and b"OCI runtime exec failed" in stdout + stderr:
        message = (stdout + stderr).decode(errors="replace")
        if "chdir to cwd" in message:
            if "not a directory" in message:
                raise NotADirectoryError(f"working directory {cwd} is not a directory in the sandbox")
            raise FileNotFoundError(f"working directory {cwd} does not exist in the sandbox")
        code = 127 if ("not found" in message or "no such file" in message) else 126
        stdout, stderr = b"", message.encode()
    return ExecResult(returncode=code, stdout=stdout, stderr=stderr, timed_out=timed_out,
                      stdout_truncated=out.truncated, stderr_truncated=err.truncated, duration_s=duration)


def cleanup_docker(*, everything: bool = False, client: DockerClient | None = None) -> list[str]:
    """Remove sandbox containers whose owning process is gone (all of them with ``everything``).

    A container made on another host (by its label) is only removed with ``everything``.
    Returns the names of the containers removed.

    Raises:
        SandboxUnavailableError: no daemon answers.
    """
    client = client or docker_client()
    removed = []
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels: dict[str, Any] = container.labels or {}
        pid = labels.get(OWNER_PID, "")
        alive = (labels.get(OWNER_HOST) != host) or (
            pid.isdigit() and _host.process_start_time(int(pid)) == labels.get(OWNER_START))
        if everything or not alive:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True, v=True)
                removed.append(container.name)
    return removed


def postgres_sandbox(port: int, *, image: str = "steadyhand/postgres:latest", user: str = "postgres",
                     wait_s: float = 60.0, **options: Any) -> tuple[DockerSandbox, str]:
    """A PostgreSQL server in a docker sandbox, listening on ``127.0.0.1:port`` of the host.

    The server runs as the sandbox user with its data in the container's ``/work``
    (gone when the sandbox closes), trust authentication for ``user`` on loopback only.
    Returns the sandbox and a ``postgresql://`` URL; ``options`` go to :class:`DockerSandbox`.

    Raises:
        SandboxUnavailableError: no daemon or no image (``steadyhand images build postgres``).
        SandboxFault: the server did not accept connections within ``wait_s``.
    """
    script = (f"initdb -D /work/pgdata -U {user} --auth=trust >/work/initdb.log 2>&1 && "
              f"exec postgres -D /work/pgdata -c listen_addresses=127.0.0.1 -p {port} "
              "-c unix_socket_directories=/tmp")
    box = DockerSandbox(image=image, network="host", command=["sh", "-c", script], **options)
    deadline = time.monotonic() + wait_s
    while True:
        probe = box.exec(["pg_isready", "-h", "127.0.0.1", "-p", str(port)], timeout=10)
        if probe.ok:
            return box, f"postgresql://{user}@127.0.0.1:{port}/postgres"
        box.container.reload()
        if box.container.status != "running" or time.monotonic() > deadline:
            logs = box.container.logs(tail=20).decode(errors="replace")
            box.close()
            raise SandboxFault(f"PostgreSQL in {image!r} did not start on port {port}: {logs}")
        time.sleep(0.2)
