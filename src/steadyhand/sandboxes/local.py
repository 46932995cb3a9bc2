"""The ``local`` provider: every call runs in a fresh bubblewrap sandbox on this machine.

Per sandbox (made at construction):
- a private writable file system (``/work``, ``/home/sandbox``, ``/tmp``), on a tmpfs of
  ``disk_mb`` when running as root, persisting across calls until :meth:`close`;
- as root, a host uid of its own (so process limits and kills are per sandbox and
  sandboxes cannot read each other's files) and cgroups bounding memory and processes.

Per call: ``bwrap`` with new user, PID, network, IPC, UTS and cgroup namespaces (the
network namespace has only a loopback interface), the host's ``/usr`` and ``/etc``
read-only and nothing else of the host visible; rlimits on CPU time, address space,
file size, open files and processes. The call's processes live in their own PID
namespace, so all of them, daemons included, die when the call ends or times out.

Without bubblewrap it refuses to start unless ``allow_unsandboxed=True`` (or
``STEADYHAND_ALLOW_UNSANDBOXED=1``): then commands run as plain subprocesses with
the same rlimits and (as root) uid and cgroups, but see the host's file system and
network. A loud warning says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from steadyhand.sandboxes import _host
from steadyhand.sandboxes._pump import pump
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

log = logging.getLogger(__name__)

SANDBOX_UID = 1000
HOME = "/home/sandbox"
WORKDIR = "/work"
_FAULT = 125  # the spawner's own failure status
_MARKER = "STEADYHAND_SANDBOX_ID"
_SPAWNER = Path(__file__).with_name("_spawner.py")


@lru_cache(maxsize=1)
def _bwrap_features(bwrap: str) -> frozenset[str]:
    text = subprocess.run([bwrap, "--help"], capture_output=True, text=True).stdout
    return frozenset(opt for opt in ("--disable-userns", "--unshare-cgroup-try", "--size") if opt in text)


def bwrap_path() -> str | None:
    """The bubblewrap executable, or None when it is not installed."""
    return shutil.which("bwrap")


class LocalSandbox(Sandbox):
    """A sandbox on this machine, isolated with bubblewrap; see the module docstring.

    Args:
        memory_mb: memory for the whole sandbox (cgroup, as root) and address space per process.
        cpu_seconds: CPU time per process (RLIMIT_CPU); wall-clock limits are ``exec``'s timeout.
        max_processes: processes (and threads) alive at once in the sandbox.
        max_file_mb: the largest file a process may write (RLIMIT_FSIZE).
        disk_mb: size of the writable file system (a tmpfs; enforced as root only).
        max_open_files: RLIMIT_NOFILE per process.
        allow_unsandboxed: without bubblewrap, run plain subprocesses instead of refusing.
        extra_ro_binds: more host paths to show read-only at the same place inside.
        init_process: keep bubblewrap's own init as PID 1 of each call. By default the
            command itself is PID 1 (one process fewer per call, markedly faster under
            load); as PID 1 it ignores signals it has no handler for when they come from
            inside the sandbox (``kill $$``). Either way everything dies with the call.

    Raises:
        SandboxUnavailableError: bubblewrap is missing and unsandboxed mode was not chosen,
            or the state directory cannot be made.
    """

    provider = "local"

    def __init__(
        self,
        *,
        memory_mb: int = 1024,
        cpu_seconds: int = 120,
        max_processes: int = 128,
        max_file_mb: int = 64,
        disk_mb: int = 256,
        max_open_files: int = 256,
        allow_unsandboxed: bool = False,
        extra_ro_binds: Sequence[str] = (),
        init_process: bool = False,
    ) -> None:
        self._bwrap = bwrap_path()
        if self._bwrap is None:
            if not (allow_unsandboxed or os.environ.get("STEADYHAND_ALLOW_UNSANDBOXED") == "1"):
                raise SandboxUnavailableError(
                    "bubblewrap (bwrap) is not installed, so the local sandbox cannot isolate "
                    "anything; install it (apt-get install bubblewrap) or pass "
                    "allow_unsandboxed=True to run commands as plain host subprocesses"
                )
            message = ("UNSANDBOXED local sandbox: bubblewrap is missing, so commands run as plain "
                       "host processes that can read the host's files and use its network")
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            log.warning(message)
        self.memory_mb, self.cpu_seconds, self.max_processes = memory_mb, cpu_seconds, max_processes
        self.max_file_mb, self.disk_mb, self.max_open_files = max_file_mb, disk_mb, max_open_files
        self.extra_ro_binds = tuple(extra_ro_binds)
        self.init_process = init_process
        self.id = f"sbx-{os.getpid()}-{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._closed = False
        self._root = _host.state_root()
        self._dir = self._root / self.id
        self._is_root = os.geteuid() == 0
        self.uid = os.geteuid()
        self._cgroup = _host.Cgroup(self.id)
        self._spawner: subprocess.Popen[bytes] | None = None
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            self._dir.mkdir(mode=0o711)
            if self._is_root:
                self.uid = _host.reserve_uid(self._root, self.id)
            self._write_owner()
            self._make_filesystem()
            if self._is_root:
                problem = self._cgroup.create(memory_bytes=memory_mb * 2**20,
                                              max_pids=max_processes)
                if problem:
                    log.warning("local sandbox %s without cgroups: %s", self.id, problem)
            self._write_owner()
        except OSError as exc:
            self.close()
            raise SandboxUnavailableError(f"cannot set up a local sandbox under {self._root}: {exc}") from exc

    # -- set-up -----------------------------------------------------------------------------

    def _write_owner(self) -> None:
        (self._dir / "owner.json").write_text(json.dumps({
            "pid": os.getpid(), "start": _host.process_start_time(os.getpid()), "uid": self.uid,
            "cgroups": [str(p) for p in self._cgroup.paths], "created": time.time(),
        }))

    def _make_filesystem(self) -> None:
        fs = self._dir / "fs"
        fs.mkdir(mode=0o755)
        self._tmpfs = _host.mount_tmpfs(fs, size_mb=self.disk_mb, uid=self.uid)
        if self._is_root and not self._tmpfs:
            log.warning("local sandbox %s: no tmpfs, so its disk use is not bounded", self.id)
        for sub in ("home", "tmp", "work"):
            (fs / sub).mkdir(mode=0o700, exist_ok=True)
            if self._is_root:
                os.chown(fs / sub, self.uid, self.uid)
        etc = self._dir / "etc"
        etc.mkdir()
        (etc / "passwd").write_text(
            f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{HOME}:/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        (etc / "group").write_text(f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\nnogroup:x:65534:\n")
        for item in etc.iterdir():
            item.chmod(0o644)

    @property
    def sandboxed(self) -> bool:
        """False in the unsandboxed (plain subprocess) mode."""
        return self._bwrap is not None

    @property
    def workdir(self) -> str:
        return WORKDIR if self.sandboxed else str(self._dir / "fs" / "work")

    def _home(self) -> str:
        return HOME if self.sandboxed else str(self._dir / "fs" / "home")

    def _tmp(self) -> str:
        return "/tmp" if self.sandboxed else str(self._dir / "fs" / "tmp")

    def _bwrap_prefix(self, cwd: str, env: Mapping[str, str]) -> list[str]:
        assert self._bwrap is not None
        features = _bwrap_features(self._bwrap)
        fs = self._dir / "fs"
        args = [self._bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                "--unshare-uts", "--die-with-parent", "--new-session",
                "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
        if "--unshare-cgroup-try" in features:
            args.append("--unshare-cgroup-try")
        if "--disable-userns" in features:
            args.append("--disable-userns")
        if not self.init_process:
            args.append("--as-pid-1")
        args += ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        args += ["--ro-bind", "/etc", "/etc",
                 "--ro-bind", str(self._dir / "etc" / "passwd"), "/etc/passwd",
                 "--ro-bind", str(self._dir / "etc" / "group"), "/etc/group"]
        for path in self.extra_ro_binds:
            args += ["--ro-bind", path, path]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--bind", str(fs / "home"), HOME, "--bind", str(fs / "tmp"), "/tmp",
                 "--bind", str(fs / "work"), WORKDIR, "--chdir", cwd, "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        return [*args, "--"]

    def _rlimits(self) -> list[tuple[str, int]]:
        # RLIMIT_NPROC counts per uid and also counts processes that exited moments ago
        # (PID namespace teardown is deferred), so it is a generous backstop; the pids
        # cgroup holds the exact limit where it exists.
        nproc = max(4 * self.max_processes, 512) if self._cgroup.paths else max(2 * self.max_processes, 256)
        return [("RLIMIT_CPU", self.cpu_seconds), ("RLIMIT_AS", self.memory_mb * 2**20),
                ("RLIMIT_FSIZE", self.max_file_mb * 2**20), ("RLIMIT_NOFILE", self.max_open_files),
                ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", nproc)]

    def _start_spawner(self) -> None:
        """Start the fork server, inside the cgroups and safe from the OOM killer."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with contextlib.suppress(OSError):
            parent.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        proc = subprocess.Popen([sys.executable, "-I", "-S", str(_SPAWNER), str(child.fileno())],
                                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                                env={"PATH": "/usr/bin:/bin"}, start_new_session=True)
        child.close()
        for procs in self._cgroup.procs_files:
            Path(procs).write_text(str(proc.pid))
        if self._is_root:
            with contextlib.suppress(OSError):
                Path(f"/proc/{proc.pid}/oom_score_adj").write_text("-1000")
        self._spawner, self._sock = proc, parent

    def _stop_spawner(self) -> None:
        if self._spawner is None:
            return
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(ProcessLookupError):
            self._spawner.kill()
        self._spawner.wait()
        self._spawner = None

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
        with self._lock:
            if self._closed:
                raise SandboxClosedError(f"local sandbox {self.id} is closed")
            workdir = self.workdir
            cwd = cwd or workdir
            if not os.path.isabs(cwd):
                cwd = os.path.join(workdir, cwd)
            full_env = {**BASE_ENV, "HOME": self._home(), "TMPDIR": self._tmp(), _MARKER: self.id,
                        **(env or {})}
            if self.sandboxed:
                cmd, spawn_env, spawn_cwd = [*self._bwrap_prefix(cwd, full_env), *args], {}, None
            else:
                if not os.path.isdir(cwd):
                    raise FileNotFoundError(f"working directory {cwd} does not exist")
                cmd, spawn_env, spawn_cwd = args, full_env, cwd
            data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
            if self._spawner is None or self._spawner.poll() is not None:
                self._stop_spawner()
                self._start_spawner()
            started = time.monotonic()
            deadline = started + timeout
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            try:
                try:
                    socket.send_fds(self._sock, [json.dumps({
                        "argv": cmd, "env": spawn_env, "cwd": spawn_cwd, "rlimits": self._rlimits(),
                        "uid": self.uid if self._is_root else None}).encode()], [in_r, out_w, err_w])
                    pid = int(self._request_reply(None)["pid"])
                finally:
                    for fd in (in_r, out_w, err_w):
                        os.close(fd)
                out, err, finished = pump(in_w, out_r, err_r, data, deadline=deadline, limit=output_limit)
                in_w = -1
                timed_out = not finished
                status: int | None = None
                if finished:
                    try:
                        status = int(self._request_reply(deadline)["status"])
                    except TimeoutError:
                        timed_out = True
                if timed_out:
                    self._kill_call(pid)
                    status = int(self._request_reply(None)["status"])
            finally:
                for fd in (in_w, out_r, err_r):
                    if fd >= 0:
                        with contextlib.suppress(OSError):
                            os.close(fd)
            duration = time.monotonic() - started
            assert status is not None
            if not self.sandboxed and self._is_root:
                _host.kill_uid(self.uid)  # without a PID namespace, reap what the call left
        return self._result(args, cwd, status, bytes(out.data), bytes(err.data), timed_out,
                            out.truncated, err.truncated, duration)

    def _kill_call(self, pid: int) -> None:
        # SIGKILL to the call's session reaches the outer bwrap; --die-with-parent then kills
        # the PID namespace's init, and with it every process of the call.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        if self._is_root:
            _host.kill_uid(self.uid)

    def _request_reply(self, deadline: float | None) -> dict[str, Any]:
        self._sock.settimeout(None if deadline is None else max(0.001, deadline - time.monotonic()))
        try:
            reply = self._sock.recv(65536)
        finally:
            self._sock.settimeout(None)
        if not reply:
            self._stop_spawner()
            raise SandboxFault(f"local sandbox {self.id}: its spawner process died")
        result: dict[str, Any] = json.loads(reply)
        return result

    def _result(self, argv: list[str], cwd: str, code: int, out: bytes, err: bytes, timed_out: bool,
                out_trunc: bool, err_trunc: bool, duration: float) -> ExecResult:
        if timed_out:
            code = -signal.SIGKILL
        elif code == _FAULT and err.startswith(b"steadyhand: "):
            raise SandboxFault(err.decode(errors="replace").strip())
        elif code == 1 and err.startswith(b"bwrap: ") and err.count(b"\n") <= 1:
            message = err.decode(errors="replace").strip()
            if "chdir" in message:
                if "Not a directory" in message:
                    raise NotADirectoryError(f"working directory {cwd} is not a directory in the sandbox")
                raise FileNotFoundError(f"working directory {cwd} does not exist in the sandbox")
            if "execvp" in message:
                code = 127 if "No such file" in message else 126
            else:
                raise SandboxFault(f"bubblewrap failed: {message}")
        elif code < 0:
            code = 128 - code  # a signal reached the launcher itself: report it as a shell would
        return ExecResult(returncode=code, stdout=out, stderr=err, timed_out=timed_out,
                          stdout_truncated=out_trunc, stderr_truncated=err_trunc, duration_s=duration)

    def live_processes(self) -> int:
        # A call's PID namespace is torn down by the kernel just after the call returns:
        # processes already sent SIGKILL may still show for a moment, so allow a short grace.
        if self._closed:
            return 0
        count = 0
        for _ in range(50):
            count = len(_host.pids_of_uid(self.uid)) if self._is_root else len(self._cgroup.pids())
            if count == 0:
                return 0
            time.sleep(0.01)
        return count

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop_spawner()
            teardown(self._dir)


def teardown(folder: Path) -> None:
    """Kill, unmount and delete what the local sandbox whose state is ``folder`` left; never raises."""
    try:
        owner = json.loads((folder / "owner.json").read_text())
    except (OSError, ValueError):
        owner = {}
    uid = owner.get("uid")
    if isinstance(uid, int) and uid >= _host.UID_BASE and os.geteuid() == 0:
        _host.kill_uid(uid)
    _host.Cgroup.existing(folder.name).remove()
    _host.unmount(folder / "fs")
    shutil.rmtree(folder, ignore_errors=True)
    if isinstance(uid, int) and uid >= _host.UID_BASE:
        _host.release_uid(folder.parent, uid)


def cleanup_local(*, everything: bool = False) -> list[str]:
    """Tear down local sandboxes whose owning process is gone (all of them with ``everything``).

    Returns the ids of the sandboxes removed.
    """
    root = _host.state_root()
    removed: list[str] = []
    if not root.is_dir():
        return removed
    for folder in sorted(root.glob("sbx-*")):
        try:
            owner = json.loads((folder / "owner.json").read_text())
        except (OSError, ValueError):
            owner = {}
        pid = owner.get("pid")
        start = _host.process_start_time(pid) if isinstance(pid, int) else None
        alive = start is not None and start == owner.get("start")
        if everything or not alive:
            teardown(folder)
            removed.append(folder.name)
    return removed
