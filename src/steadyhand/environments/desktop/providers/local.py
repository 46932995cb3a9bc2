"""Local desktops: an Xvfb session on this machine, in bubblewrap when available.

Each desktop is one :mod:`~steadyhand.environments.desktop.session` process
(D-Bus session bus with the accessibility bus on demand, Xvfb on a display it
picks itself, openbox, the control server on a free 127.0.0.1 port) started
with a private HOME. With bubblewrap the session gets a read-only view of the
system, a private ``/tmp`` and ``/dev/shm``, its own PID namespace (everything
in it dies with it) and HOME at ``/home/user`` as in OSWorld's VM; without
bubblewrap HOME is a fresh folder under the desktop's temporary directory.

Several desktops run side by side; ``close()`` kills every process the desktop
started, by PID, and deletes its folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from steadyhand.core.errors import ConfigurationError, EnvironmentFault
from steadyhand.environments.desktop.providers import Desktop, descendants, kill_pids, rss_mb

SANDBOX_HOME = "/home/user"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask the kernel to SIGTERM the child if the process that started it dies."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_BWRAP_OK: bool | None = None
_BWRAP_LOCK = threading.Lock()


def bubblewrap_works() -> bool:
    """Whether ``bwrap`` exists and can make a PID namespace here (checked once)."""
    global _BWRAP_OK
    with _BWRAP_LOCK:
        if _BWRAP_OK is None:
            exe = shutil.which("bwrap")
            _BWRAP_OK = bool(exe) and subprocess.run(
                [str(exe), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "true"],
                capture_output=True, timeout=30).returncode == 0
        return _BWRAP_OK


def missing_programs() -> list[str]:
    """Programs a local desktop needs that are not installed."""
    return [name for name in ("Xvfb", "openbox", "dbus-run-session", "xdotool", "wmctrl", "xclip")
            if shutil.which(name) is None]


class LocalDesktop(Desktop):
    """One local desktop session (see the module docstring)."""

    def __init__(self, proc: subprocess.Popen[bytes], root: Path, url: str, display: str, width: int, height: int,
                 home: str, sandboxed: bool) -> None:
        self.proc = proc
        self.root = root
        self.url = url
        self.display = display
        self.width = width
        self.height = height
        self.home = home
        self.sandboxed = sandboxed
        self._closed = False

    def __repr__(self) -> str:
        return f"LocalDesktop({self.url}, DISPLAY={self.display}, pid={self.proc.pid})"

    def pids(self) -> list[int]:
        """The session process and every descendant still running."""
        if self.proc.poll() is not None:
            return descendants(self.proc.pid)
        return [self.proc.pid, *descendants(self.proc.pid)]

    def alive(self) -> bool:
        return not self._closed and self.proc.poll() is None

    def stats(self) -> dict[str, Any]:
        pids = self.pids()
        return {"rss_mb": rss_mb(pids), "pids": len(pids), "display": self.display}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        pids = self.pids()  # collect before anything exits and reparents
        kill_pids([self.proc.pid], grace_s=5.0)
        kill_pids([p for p in pids if p != self.proc.pid], grace_s=2.0)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class LocalProvider:
    """Starts desktops on this machine.

    Args:
        sandbox: ``"auto"`` (bubblewrap when it works), ``"bwrap"`` (required) or ``"none"``.
        python: interpreter that runs the session and server (default: this one).
        startup_timeout_s: how long a desktop may take to answer.
        base_dir: where desktop folders go (default: the system temporary folder).
    """

    name = "local"

    def __init__(self, *, sandbox: str = "auto", python: str | None = None, startup_timeout_s: float = 60.0,
                 base_dir: str | None = None) -> None:
        if sandbox not in ("auto", "bwrap", "none"):
            raise ConfigurationError(f"sandbox must be auto, bwrap or none, not {sandbox!r}")
        self.sandbox = sandbox
        self.python = python or sys.executable
        self.startup_timeout_s = startup_timeout_s
        self.base_dir = base_dir
        self._desktops: list[LocalDesktop] = []
        self._lock = threading.Lock()

    def _use_bwrap(self) -> bool:
        if self.sandbox == "none":
            return False
        works = bubblewrap_works()
        if self.sandbox == "bwrap" and not works:
            raise ConfigurationError("sandbox='bwrap' but bubblewrap is missing or cannot create namespaces here")
        return works

    def _argv(self, root: Path, ready: Path, width: int, height: int, bwrap: bool) -> tuple[list[str], str]:
        session = [self.python, "-m", "steadyhand.environments.desktop.session", "--port", "0",
                   "--ready-file", str(ready), "--width", str(width), "--height", str(height)]
        if not bwrap:
            return session, str(root / "home")
        sandbox = [
            str(shutil.which("bwrap")), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--bind", str(root), str(root),
            "--tmpfs", "/home",
        ]
        for path in self._code_paths():  # the interpreter and steadyhand, when /tmp or /home hides them
            sandbox += ["--ro-bind", path, path]
        sandbox += ["--bind", str(root / "home"), SANDBOX_HOME,
                    "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--chdir", SANDBOX_HOME, "--"]
        return sandbox + session, SANDBOX_HOME

    def _code_paths(self) -> list[str]:
        """Folders under /tmp or /home that the session's Python needs (a venv, pyenv, a source checkout)."""
        import steadyhand

        python = Path(self.python)
        venv = python.parent.parent if (python.parent.parent / "pyvenv.cfg").is_file() else python.parent
        candidates = {venv, python.resolve().parent.parent, Path(sys.prefix), Path(sys.base_prefix),
                      Path(steadyhand.__file__).resolve().parents[1]}
        hidden = sorted(str(p) for p in candidates if p.is_dir() and p.parts[1:2] in (("tmp",), ("home",)))
        return [p for p in hidden if not any(p != q and p.startswith(q + "/") for q in hidden)]

    def start(self, *, width: int = 1280, height: int = 720) -> LocalDesktop:
        """Start a desktop and wait until its server answers.

        Raises:
            ConfigurationError: Xvfb or another required program is missing.
            EnvironmentFault: the session did not come up (the message has its log).
        """
        missing = missing_programs()
        if missing:
            raise ConfigurationError(f"a local desktop needs {', '.join(missing)} (see scripts/apt-extra.txt)")
        bwrap = self._use_bwrap()
        root = Path(tempfile.mkdtemp(prefix="steadyhand-desktop-", dir=self.base_dir))
        (root / "home").mkdir()
        (root / "run").mkdir(mode=0o700)
        ready, log_path = root / "ready.json", root / "session.log"
        argv, home = self._argv(root, ready, width, height, bwrap)
        env = {key: value for key, value in os.environ.items()
               if key not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XAUTHORITY", "WAYLAND_DISPLAY",
                              "STEADYHAND_IN_DBUS", "SESSION_MANAGER", "AT_SPI_BUS_ADDRESS")}
        env.update(HOME=home, XDG_RUNTIME_DIR=str(root / "run"), USER=env.get("USER", "root"),
                   TMPDIR="/tmp", PYTHONUNBUFFERED="1")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, preexec_fn=_die_with_parent, cwd=str(root))
        desktop: LocalDesktop | None = None
        try:
            info = self._wait_ready_file(proc, ready, log_path)
            desktop = LocalDesktop(proc, root, f"http://127.0.0.1:{info['port']}", str(info["display"]), width,
                                   height, home, bwrap)
            with desktop.client(timeout_s=10.0) as client:
                client.wait_ready(timeout_s=self.startup_timeout_s)
        except BaseException:
            if desktop is not None:
                desktop.close()
            else:
                kill_pids([proc.pid, *descendants(proc.pid)])
                proc.wait()
                shutil.rmtree(root, ignore_errors=True)
            raise
        with self._lock:
            self._desktops = [d for d in self._desktops if d.alive()]
            self._desktops.append(desktop)
        return desktop

    def _wait_ready_file(self, proc: subprocess.Popen[bytes], ready: Path, log_path: Path) -> dict[str, Any]:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if ready.is_file():
                return dict(json.loads(ready.read_text()))
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = log_path.read_text(errors="replace")[-2000:] if log_path.is_file() else ""
        state = f"exited with {proc.returncode}" if proc.poll() is not None else "timed out"
        raise EnvironmentFault(f"local desktop did not start ({state}); session log:\n{tail}")

    def close(self) -> None:
        """Stop every desktop this provider started."""
        with self._lock:
            desktops, self._desktops = self._desktops, []
        for desktop in desktops:
            desktop.close()
