"""What the control server does besides screenshots and input: commands, files,
windows, the accessibility tree, recording.

Everything here runs inside the desktop. Functions return plain data (dicts,
bytes, strings) and raise :class:`OpError` with an HTTP status for bad requests.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ATSPI_SCRIPT = Path(__file__).with_name("atspi_dump.py")
#: Interpreters tried, in order, for the AT-SPI reader (it needs Debian's python3-pyatspi).
ATSPI_PYTHONS = ("/usr/bin/python3", sys.executable)
COMMAND_TIMEOUT_S = 120.0


class OpError(Exception):
    """A request the server cannot carry out; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def expand(path: str) -> str:
    """Expand ``~`` and environment variables as OSWorld's server does."""
    return os.path.expandvars(os.path.expanduser(path))


def _argv(command: Any, shell: bool) -> str | list[str]:
    if shell:
        if isinstance(command, list):
            return " ".join(shlex.quote(str(c)) for c in command)
        return str(command)
    if isinstance(command, str):
        command = shlex.split(command)
    if not isinstance(command, list) or not command:
        raise OpError(400, "command must be a non-empty list of strings or a string")
    return [expand(str(arg)) if str(arg).startswith("~/") else str(arg) for arg in command]


def execute(command: Any, *, shell: bool = False, timeout: float | None = None) -> dict[str, Any]:
    """Run a command to completion: ``{status, output, error, returncode}``."""
    argv = _argv(command, shell)
    try:
        proc = subprocess.run(argv, shell=shell, capture_output=True, text=True, errors="replace",
                              timeout=timeout or COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        def text(value: Any) -> str:
            return value.decode(errors="replace") if isinstance(value, bytes) else value or ""

        return {"status": "error", "output": text(exc.stdout), "error": f"timed out after {exc.timeout:g} s",
                "returncode": -1, "message": f"timed out after {exc.timeout:g} s"}
    except OSError as exc:
        return {"status": "error", "output": "", "error": str(exc), "returncode": -1, "message": str(exc)}
    return {"status": "success", "output": proc.stdout, "error": proc.stderr, "returncode": proc.returncode}


class Launcher:
    """Starts detached programs and reaps them, so launches leave no zombies."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    def launch(self, command: Any, *, shell: bool = False) -> subprocess.Popen[bytes]:
        argv = _argv(command, shell)
        with self._lock:
            self._children = [c for c in self._children if c.poll() is None]
            try:
                child = subprocess.Popen(argv, shell=shell, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
            except OSError as exc:
                raise OpError(400, f"cannot launch {command!r}: {exc}") from exc
            self._children.append(child)
            return child

    def close(self) -> None:
        with self._lock:
            for child in self._children:
                if child.poll() is None:
                    with contextlib.suppress(OSError):
                        os.killpg(child.pid, signal.SIGTERM)
            self._children.clear()


_OPENERS = {
    (".txt", ".md", ".py", ".sh", ".json", ".log", ".conf", ".ini", ".html", ".xml"): ["mousepad"],
    (".xlsx", ".xls", ".ods", ".csv"): ["libreoffice", "--calc"],
    (".docx", ".doc", ".odt"): ["libreoffice", "--writer"],
    (".pptx", ".ppt", ".odp"): ["libreoffice", "--impress"],
}


def open_command(path: Path) -> list[str]:
    """The command that opens ``path``: xdg-open when installed, else by extension."""
    for suffixes, argv in _OPENERS.items():
        if path.suffix.lower() in suffixes and shutil.which(argv[0]):
            return [*argv, str(path)]
    if shutil.which("xdg-open"):
        return ["xdg-open", str(path)]
    return ["mousepad", str(path)]


def window_titles() -> list[tuple[str, str]]:
    """``(wm_class, title)`` of every managed window (needs wmctrl)."""
    out = subprocess.run(["wmctrl", "-lx"], capture_output=True, text=True, timeout=10).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 4)
        if len(parts) >= 4:
            rows.append((parts[2], parts[4] if len(parts) == 5 else ""))
    return rows


def wait_for_window(fragment: str, timeout_s: float) -> bool:
    """Poll until a window whose title contains ``fragment`` exists."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(fragment.lower() in title.lower() for _, title in window_titles()):
            return True
        time.sleep(0.25)
    return False


def window_action(flag: str, name: str, *, strict: bool, by_class: bool) -> str:
    """Activate (``flag='a'``) or close (``'c'``) a window with wmctrl."""
    if not name:
        raise OpError(400, "window_name required")
    option = "-" + ("x" if by_class else "") + ("F" if strict else "") + flag
    proc = subprocess.run(["wmctrl", option, name], capture_output=True, text=True, timeout=10)
    if proc.returncode != 0:
        raise OpError(404, f"window {name!r} not found")
    return "Window activated successfully" if flag == "a" else "Window closed successfully"


def list_directory(path: str) -> dict[str, Any]:
    """OSWorld's directory tree: ``{type, name, children}`` recursively."""
    def walk(directory: str) -> dict[str, Any]:
        tree: dict[str, Any] = {"type": "directory", "name": os.path.basename(directory), "children": []}
        try:
            for entry in sorted(os.listdir(directory)):
                full = os.path.join(directory, entry)
                if os.path.isdir(full) and not os.path.islink(full):
                    tree["children"].append(walk(full))
                else:
                    tree["children"].append({"type": "file", "name": entry})
        except OSError as exc:
            return {"error": str(exc)}
        return tree

    start = expand(path)
    if not os.path.isdir(start):
        raise OpError(400, "The provided path is not a directory")
    return {"directory_tree": walk(start)}


def _atspi(mode: str, timeout_s: float = 60.0) -> str:
    errors = []
    for python in ATSPI_PYTHONS:
        if not Path(python).exists():
            continue
        env = {**os.environ, "NO_AT_BRIDGE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        env.pop("PYTHONHOME", None)
        try:
            proc = subprocess.run([python, "-I", str(ATSPI_SCRIPT), mode], capture_output=True, text=True,
                                  timeout=timeout_s, env=env, errors="replace")
        except subprocess.TimeoutExpired:
            raise OpError(500, f"reading the accessibility tree took over {timeout_s:g} s") from None
        if proc.returncode == 0:
            return proc.stdout
        errors.append(f"{python}: {proc.stderr.strip()[-500:]}")
        if proc.returncode != 3:  # 3: no pyatspi in that interpreter, try the next
            break
    raise OpError(500, "accessibility tree unavailable: " + "; ".join(errors or ["no interpreter with pyatspi"]))


def accessibility_tree() -> str:
    """The desktop's accessibility tree in OSWorld's XML form."""
    return _atspi("tree")


def terminal_output() -> str | None:
    """Text of the focused terminal in the active window (AT-SPI), or None."""
    output = json.loads(_atspi("terminal", 30.0)).get("output")
    return output if isinstance(output, str) else None


def run_python(code: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """Run Python code in a fresh interpreter inside the desktop."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(code)
    try:
        result = execute([sys.executable, handle.name], timeout=timeout_s)
    finally:
        os.unlink(handle.name)
    if result["returncode"] != 0 and result["status"] == "success":
        result["status"] = "error"
        result["message"] = result["error"]
    return result


def run_bash_script(script: str, timeout_s: float = 30.0, working_dir: str | None = None) -> dict[str, Any]:
    """Run a bash script inside the desktop: ``{status, output, error, returncode}``."""
    cwd = expand(working_dir) if working_dir else None
    if cwd and not os.path.isdir(cwd):
        raise OpError(400, f"working_dir {working_dir!r} is not a directory")
    try:
        proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=timeout_s,
                              cwd=cwd, errors="replace", stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"status": "error", "output": "", "error": f"timed out after {timeout_s:g} s", "returncode": -1}
    return {"status": "success" if proc.returncode == 0 else "error", "output": proc.stdout,
            "error": proc.stderr, "returncode": proc.returncode}


class Recorder:
    """Screen recording with ffmpeg's x11grab, one at a time."""

    def __init__(self, display: str, size: tuple[int, int]) -> None:
        self.display = display
        self.size = size
        self.path = Path(tempfile.gettempdir()) / f"steadyhand-recording-{os.getpid()}.mp4"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise OpError(501, "recording needs ffmpeg inside the desktop")
        if self._proc is not None and self._proc.poll() is None:
            raise OpError(400, "Recording is already in progress.")
        self.path.unlink(missing_ok=True)
        width, height = self.size
        self._proc = subprocess.Popen(
            [ffmpeg, "-y", "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "1", "-framerate", "10",
             "-video_size", f"{width}x{height}", "-i", self.display, "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", str(self.path)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def end(self) -> bytes:
        proc, self._proc = self._proc, None
        if proc is None:
            raise OpError(400, "No recording in progress to stop.")
        try:
            assert proc.stdin is not None
            proc.stdin.write(b"q")
            proc.stdin.close()
            proc.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        if not self.path.is_file() or self.path.stat().st_size == 0:
            raise OpError(500, "recording failed: ffmpeg wrote no video")
        data = self.path.read_bytes()
        self.path.unlink(missing_ok=True)
        return data

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
