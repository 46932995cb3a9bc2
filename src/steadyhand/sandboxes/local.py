"""The ``local`` provider: calls run in bubblewrap sandboxes on this machine.

Per sandbox (made at construction):
- a private writable file system (``/work``, ``/home/sandbox``, ``/tmp``), on a tmpfs of
  ``disk_mb`` when running as root, persisting across calls until :meth:`close`;
- as root, a host uid of its own (so process limits and kills are per sandbox and
  sandboxes cannot read each other's files) and cgroups bounding memory and processes.

Isolation: ``bwrap`` with new user, PID, network, IPC, UTS and cgroup namespaces (the
network namespace has only a loopback interface), the host's ``/usr`` and ``/etc``
read-only and nothing else of the host visible; rlimits on CPU time, address space,
file size, open files and processes. Nothing a call starts outlives it, daemons included.

Two ways to run calls, same guarantees:
- persistent (the default where the host has ``/usr/bin/python3``): one bubblewrap
  sandbox lives as long as the LocalSandbox; a small call server (``_inner.py``) is
  its PID 1, forks each call, and after it kills and reaps every other process of the
  namespace. A call then costs about one fork and exec, close to a plain subprocess.
- per call (``reuse_namespaces=False``): a fresh bubblewrap sandbox, with fresh
  namespaces, for each call; everything dies with its PID namespace.

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

from steadyhand.sandboxes import _channel, _host
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
_INNER = Path(__file__).with_name("_inner.py")
_INNER_PYTHON = "/usr/bin/python3"
_INNER_PATH = "/.steadyhand/inner.py"


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
        reuse_namespaces: persistent mode (see the module docstring); None chooses it
            where ``/usr/bin/python3`` exists.
        init_process: per-call mode only: keep bubblewrap's own init as PID 1 of each
            call. By default the command itself is PID 1 (one process fewer per call);
            as PID 1 it ignores signals it has no handler for when they come from inside
            the sandbox (``kill $$``). Either way everything dies with the call.

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
        reuse_namespaces: bool | None = None,
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
        self.reuse_namespaces = self._bwrap is not None and (
            os.path.exists(_INNER_PYTHON) if reuse_namespaces is None else reuse_namespaces)
        self._inner: _channel.Channel | None = None
        self._inner_pid = 0  # host PID of the persistent bwrap
        self.id = f"sbx-{os.getpid()}-{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._closed = False
        self._root = _host.state_root()
        self._dir = self._root / self.id
        self._is_root = os.geteuid() == 0
        self.uid = os.geteuid()
        self._cgroup = _host.Cgroup(self.id)
        self._spawner: subprocess.Popen[bytes] | None = None
        self._channel: _channel.Channel | None = None
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
        if not self.init_process or self.reuse_namespaces:
            args.append("--as-pid-1")
        if self.reuse_namespaces:
            args += ["--ro-bind", str(_INNER), _INNER_PATH]
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

    def _rlimits(self, *, cpu: bool = True) -> list[tuple[str, int]]:
        # RLIMIT_NPROC counts per uid and also counts processes that exited moments ago
        # (PID namespace teardown is deferred), so it is a generous backstop; the pids
        # cgroup holds the exact limit where it exists.
        nproc = max(4 * self.max_processes, 512) if self._cgroup.paths else max(2 * self.max_processes, 256)
        return [*([("RLIMIT_CPU", self.cpu_seconds)] if cpu else []), ("RLIMIT_AS", self.memory_mb * 2**20),
                ("RLIMIT_FSIZE", self.max_file_mb * 2**20), ("RLIMIT_NOFILE", self.max_open_files),
                ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", nproc)]

    def _spawner_channel(self) -> _channel.Channel:
        """The host fork server (started on first use), inside the cgroups, safe from the OOM killer."""
        if self._spawner is not None and self._spawner.poll() is None and self._channel is not None:
            return self._channel
        self._stop_spawner()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with contextlib.suppress(OSError):
            parent.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        proc = subprocess.Popen([sys.executable, "-I", "-S", str(_SPAWNER), str(child.fileno())],
                                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                                env={"PATH": "/usr/bin:/bin"}, start_new_session=True)
        child.close()
        for procs in self._cgroup.procs_files:
            Path(procs).write_text(str(proc.pid))
        _protect_from_oom(proc.pid)
        self._spawner, self._channel = proc, _channel.Channel(parent)
        return self._channel

    def _stop_spawner(self) -> None:
        self._stop_inner()
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._spawner is not None:
            with contextlib.suppress(ProcessLookupError):
                self._spawner.kill()
            self._spawner.wait()
            self._spawner = None

    def _inner_channel(self) -> _channel.Channel:
        """The persistent sandbox's call server, started (again) when needed."""
        if self._inner is not None and _host.process_start_time(self._inner_pid) is not None:
            return self._inner
        self._stop_inner()
        spawner = self._spawner_channel()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with contextlib.suppress(OSError):
            parent.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        env = {**BASE_ENV, "HOME": HOME, "TMPDIR": "/tmp"}
        log = os.open(self._dir / "inner.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDWR)
        try:
            self._inner_pid = spawner.start({
                "argv": [*self._bwrap_prefix(WORKDIR, env), _INNER_PYTHON, "-I", "-S", _INNER_PATH],
                "env": {}, "cwd": None, "rlimits": self._rlimits(cpu=False),
                "uid": self.uid if self._is_root else None}, [null, null, log, child.fileno()])
        except _channel.ChannelClosed as exc:
            raise SandboxFault(f"local sandbox {self.id}: its spawner process died") from exc
        finally:
            for fd in (log, null, child.fileno()):
                os.close(fd)
            child.detach()
        self._inner = _channel.Channel(parent)
        return self._inner

    def _stop_inner(self) -> None:
        if self._inner is None:
            return
        self._inner.close()
        self._inner = None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._inner_pid, signal.SIGKILL)
        if self._is_root:
            _host.kill_uid(self.uid)
        if self._channel is not None:  # the spawner reports the bwrap's end; take it off the line
            with contextlib.suppress(TimeoutError, _channel.ChannelClosed):
                self._channel.reply(time.monotonic() + 5)

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
                raise SandboxClosedError(f"local sandbox {self.id} is closed")
            workdir = self.workdir
            cwd = os.path.join(workdir, cwd or workdir)
            full_env = {**BASE_ENV, "HOME": self._home(), "TMPDIR": self._tmp(), _MARKER: self.id,
                        **(env or {})}
            started = time.monotonic()
            deadline = started + timeout
            try:
                if self.reuse_namespaces:
                    inner_request: dict[str, Any] = {"argv": args, "env": full_env, "cwd": cwd,
                                                     "rlimits": [("RLIMIT_CPU", self.cpu_seconds)]}
                    try:
                        result = _channel.run_call(self._inner_channel(), inner_request, data,
                                                   deadline=deadline, limit=output_limit,
                                                   kill=self._kill_inner_call)
                    except _channel.ChannelClosed as exc:
                        if not exc.before_start:
                            raise
                        # The persistent sandbox had died between calls: start a new one, once.
                        self._stop_inner()
                        result = _channel.run_call(self._inner_channel(), inner_request, data,
                                                   deadline=deadline, limit=output_limit,
                                                   kill=self._kill_inner_call)
                else:
                    request: dict[str, Any]
                    if self.sandboxed:
                        request = {"argv": [*self._bwrap_prefix(cwd, full_env), *args], "env": {},
                                   "cwd": None}
                    else:
                        if not os.path.isdir(cwd):
                            raise FileNotFoundError(f"working directory {cwd} does not exist")
                        request = {"argv": args, "env": full_env, "cwd": cwd}
                    request.update(rlimits=self._rlimits(), uid=self.uid if self._is_root else None)
                    result = _channel.run_call(self._spawner_channel(), request, data, deadline=deadline,
                                               limit=output_limit, kill=self._kill_call)
                    if not self.sandboxed and self._is_root:
                        _host.kill_uid(self.uid)  # without a PID namespace, reap what the call left
            except _channel.ChannelClosed as exc:
                self._stop_inner()
                raise SandboxFault(f"local sandbox {self.id}: its call server died ({exc})") from exc
            duration = time.monotonic() - started
        return self._result(cwd, result, duration)

    def _kill_call(self, pid: int) -> int:
        # Per-call mode: SIGKILL to the call's session reaches the outer bwrap;
        # --die-with-parent then kills the PID namespace, and with it every process of the call.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        if self._is_root:
            _host.kill_uid(self.uid)
        assert self._channel is not None
        return int(self._channel.reply(None)["status"])

    def _kill_inner_call(self, pid: int) -> int:
        # Persistent mode: the call server kills everything but itself. Should it not answer,
        # the whole persistent sandbox goes (files stay) and is restarted on the next call.
        assert self._inner is not None
        self._inner.send({"kill": True})
        try:
            return int(self._inner.reply(time.monotonic() + 5)["status"])
        except (TimeoutError, _channel.ChannelClosed):
            log.warning("local sandbox %s: call server did not answer a kill; restarting it", self.id)
            self._stop_inner()
            return -signal.SIGKILL

    def _result(self, cwd: str, call: _channel.CallOutput, duration: float) -> ExecResult:
        out, err, code = bytes(call.stdout.data), bytes(call.stderr.data), call.status
        message = err.decode(errors="replace").strip()
        if call.timed_out:
            code = -signal.SIGKILL
        elif code == _FAULT and err.startswith(b"steadyhand: chdir: ") and err.count(b"\n") <= 1:
            if "Not a directory" in message:
                raise NotADirectoryError(f"working directory {cwd} is not a directory in the sandbox")
            raise FileNotFoundError(f"working directory {cwd} does not exist in the sandbox")
        elif code == _FAULT and err.startswith(b"steadyhand: "):
            raise SandboxFault(message)
        elif code == 1 and err.startswith(b"bwrap: ") and err.count(b"\n") <= 1:
            if "chdir" in message:
                if "Not a directory" in message:
                    raise NotADirectoryError(f"working directory {cwd} is not a directory in the sandbox")
                raise FileNotFoundError(f"working directory {cwd} does not exist in the sandbox")
            if "execvp" in message:
                code = 127 if "No such file" in message else 126
            else:
                raise SandboxFault(f"bubblewrap failed: {message}")
        elif code < 0:
            code = 128 - code  # a signal ended the program: report it as a shell would
        return ExecResult(returncode=code, stdout=out, stderr=err, timed_out=call.timed_out,
                          stdout_truncated=call.stdout.truncated, stderr_truncated=call.stderr.truncated,
                          duration_s=duration)

    def live_processes(self) -> int:
        # A call's PID namespace is torn down by the kernel just after the call returns:
        # processes already sent SIGKILL may still show for a moment, so allow a short grace.
        if self._closed:
            return 0
        count = 0
        for _ in range(50):
            if self._is_root:
                pids = set(_host.pids_of_uid(self.uid))
                if self._inner is not None:  # the persistent bwrap and its call server are not the calls'
                    pids -= {self._inner_pid, *_host.children(self._inner_pid)}
                count = len(pids)
            else:
                count = len(self._cgroup.pids())
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


def _protect_from_oom(pid: int) -> None:
    """Make the kernel's OOM killer pick a sandboxed memory hog, never our servers (root only)."""
    if os.geteuid() == 0:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/oom_score_adj").write_text("-1000")
