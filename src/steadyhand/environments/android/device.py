"""One Android device over ADB (through adbutils), with the queries tasks and observations need.

:class:`AndroidDevice` wraps an ``adbutils`` device on a given ADB server:
shell commands with their exit status, screenshots (``exec:screencap -p``, raw
bytes), the UI dump (``uiautomator dump`` then a ``sync:`` pull), settings,
content-provider queries, files, packages and the app in front.

Errors: a failed command raises :class:`AdbCommandError` (its status and
output); a server or device that does not answer raises
:class:`~steadyhand.core.errors.EnvironmentFault`. The client never starts an
ADB server by itself (adbutils would run ``adb start-server`` on a failed
connection, leaving a daemon behind): the provider decides where the server is.
"""

from __future__ import annotations

import re
import shlex
import socket
from dataclasses import dataclass
from typing import Any

import adbutils
from adbutils.errors import AdbError

from steadyhand.core.errors import EnvironmentFault

SHELL_TIMEOUT_S = 60.0
_ROW = re.compile(r"^Row: \d+ (.*)$")
_FOCUS = re.compile(r"mCurrentFocus=Window\{[^ ]+ [^ ]+ ([^/ }]+)(?:/([^ }]+))?\}")
_SIZE = re.compile(r"(?:Override|Physical) size: (\d+)x(\d+)")


class AdbCommandError(Exception):
    """A shell command on the device exited non-zero."""

    def __init__(self, command: str, status: int, output: str) -> None:
        super().__init__(f"'{command}' failed on the device (status {status}): {output.strip()[-500:]}")
        self.command = command
        self.status = status
        self.output = output


class _Connection(adbutils.AdbConnection):
    """An adbutils connection that fails instead of starting an ADB server."""

    def _safe_connect(self) -> Any:
        return self._create_socket()


class _Client(adbutils.AdbClient):
    def __init__(self, host: str, port: int, socket_timeout: float | None) -> None:
        super().__init__(host=host, port=port, socket_timeout=socket_timeout)
        self._timeout = socket_timeout

    def make_connection(self, timeout: float | None = None) -> adbutils.AdbConnection:
        conn = _Connection(self.host, self.port)
        if timeout or self._timeout:
            conn.conn.settimeout(timeout or self._timeout)
        return conn


@dataclass(frozen=True)
class Endpoint:
    """Where a device is reached: an ADB server (host, port) and the device's serial there."""

    host: str
    port: int
    serial: str

    def __str__(self) -> str:
        return f"{self.serial}@{self.host}:{self.port}"


def server_answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def adb_client(host: str, port: int, *, timeout_s: float = SHELL_TIMEOUT_S) -> adbutils.AdbClient:
    """An adbutils client for the ADB server at ``host:port`` that never starts a server itself."""
    return _Client(host, port, timeout_s)


class AndroidDevice:
    """A device reached through an ADB server (see :class:`Endpoint`).

    Args:
        endpoint: the server and the serial.
        timeout_s: per-command socket timeout.
    """

    def __init__(self, endpoint: Endpoint, *, timeout_s: float = SHELL_TIMEOUT_S) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._client = adb_client(endpoint.host, endpoint.port, timeout_s=timeout_s)
        self._device = self._client.device(endpoint.serial)

    def __repr__(self) -> str:
        return f"AndroidDevice({self.endpoint})"

    def _fault(self, what: str, exc: Exception) -> EnvironmentFault:
        return EnvironmentFault(f"device {self.endpoint}: {what} failed: {type(exc).__name__}: {exc}")

    # --- commands ------------------------------------------------------------------------------

    def run(self, command: list[str] | str) -> tuple[int, str]:
        """Run a shell command; returns (exit status, output with stdout and stderr).

        Raises:
            EnvironmentFault: the server or the device did not answer.
        """
        line = command if isinstance(command, str) else " ".join(shlex.quote(a) for a in command)
        try:
            result = self._device.shell2(line, timeout=self.timeout_s, v2=True)
        except (AdbError, OSError, EOFError) as exc:
            raise self._fault(f"shell {line[:80]!r}", exc) from exc
        return int(result.returncode), str(result.output)

    def shell(self, command: list[str] | str, *, check: bool = True) -> str:
        """Run a shell command; returns its output (stdout and stderr).

        Raises:
            AdbCommandError: it exited non-zero and ``check`` is set.
            EnvironmentFault: the server or the device did not answer.
        """
        status, output = self.run(command)
        if check and status != 0:
            line = command if isinstance(command, str) else " ".join(shlex.quote(a) for a in command)
            raise AdbCommandError(line, status, output)
        return output

    def exec_out(self, command: list[str]) -> bytes:
        """Raw stdout of a command (``adb exec-out``: no terminal, no newline translation).

        Raises:
            EnvironmentFault: the server or the device did not answer.
        """
        line = " ".join(shlex.quote(a) for a in command)
        try:
            conn = self._device.open_transport(timeout=self.timeout_s)
            try:
                conn.send_command("exec:" + line)
                conn.check_okay()
                data = conn.read_until_close(encoding=None)
            finally:
                conn.close()
        except (AdbError, OSError, EOFError) as exc:
            raise self._fault(f"exec {line[:80]!r}", exc) from exc
        assert isinstance(data, bytes)
        return data

    def state(self) -> str:
        """``device``, ``offline``... as the server reports it.

        Raises:
            EnvironmentFault: the server did not answer.
        """
        try:
            return str(self._device.get_state())
        except (AdbError, OSError, EOFError) as exc:
            raise self._fault("get-state", exc) from exc

    # --- observation ---------------------------------------------------------------------------

    def screenshot(self) -> bytes:
        """The screen as PNG bytes.

        Raises:
            EnvironmentFault: no answer, or the answer is not a PNG.
        """
        data = self.exec_out(["screencap", "-p"])
        if not data.startswith(b"\x89PNG"):
            raise EnvironmentFault(f"device {self.endpoint}: screencap returned no PNG: {data[:200]!r}")
        return data

    def ui_dump(self) -> str:
        """The ``uiautomator dump`` XML of the screen.

        Raises:
            AdbCommandError: the dump failed (a busy screen: try again).
            EnvironmentFault: no answer.
        """
        target = "/data/local/tmp/steadyhand_uidump.xml"
        output = self.shell(f"rm -f {target}; uiautomator dump {target}", check=False)
        if "ERROR" in output or "dumped to" not in output:
            raise AdbCommandError(f"uiautomator dump {target}", 1, output)
        return self.read_file(target).decode("utf-8", "replace")

    def screen_size(self) -> tuple[int, int]:
        """(width, height) in pixels, from ``wm size`` (an override wins over the physical size).

        Raises:
            EnvironmentFault: no answer or an unexpected output.
        """
        output = self.shell(["wm", "size"])
        sizes = _SIZE.findall(output)
        if not sizes:
            raise EnvironmentFault(f"device {self.endpoint}: unexpected 'wm size' output {output!r}")
        override = re.search(r"Override size: (\d+)x(\d+)", output)
        width, height = override.groups() if override else sizes[0]
        return int(width), int(height)

    def foreground(self) -> tuple[str, str]:
        """(package, activity) of the focused window; empty strings when none is focused."""
        match = _FOCUS.search(self.shell(["dumpsys", "window", "windows"], check=False))
        if match is None:
            return "", ""
        return match.group(1), match.group(2) or ""

    # --- state tasks check -----------------------------------------------------------------------

    def get_setting(self, namespace: str, key: str) -> str | None:
        """``settings get``; None for an unset key (the command prints ``null``)."""
        value = self.shell(["settings", "get", namespace, key]).strip()
        return None if value == "null" else value

    def put_setting(self, namespace: str, key: str, value: str) -> None:
        self.shell(["settings", "put", namespace, key, value])

    def content_query(self, uri: str, *, projection: list[str] | None = None, where: str | None = None,
                      sort: str | None = None) -> list[dict[str, str]]:
        """Rows of ``content query`` as dicts of strings (``NULL`` stays the string ``NULL``).

        Raises:
            AdbCommandError: the provider refused the query.
        """
        argv = ["content", "query", "--uri", uri]
        if projection:
            argv += ["--projection", ":".join(projection)]
        if where:
            argv += ["--where", where]
        if sort:
            argv += ["--sort", sort]
        output = self.shell(argv)
        if "Error while accessing provider" in output or "Exception" in output:
            raise AdbCommandError(" ".join(argv), 1, output)
        return [parse_row(m.group(1)) for line in output.splitlines() if (m := _ROW.match(line.strip()))]

    def read_file(self, path: str) -> bytes:
        """A file's bytes, pulled over ``sync:``.

        Raises:
            FileNotFoundError: no such file on the device.
            EnvironmentFault: no answer.
        """
        try:
            return self._device.sync.read_bytes(path)
        except AdbError as exc:
            if "No such file" in str(exc) or "not found" in str(exc).lower():
                raise FileNotFoundError(path) from exc
            raise self._fault(f"pull {path}", exc) from exc
        except (OSError, EOFError) as exc:
            raise self._fault(f"pull {path}", exc) from exc

    def file_exists(self, path: str) -> bool:
        """Whether ``path`` exists on the device (a file or a folder)."""
        return self.run(["ls", "-d", path])[0] == 0

    def write_file(self, path: str, data: bytes) -> None:
        """Push bytes to ``path`` over ``sync:``.

        Raises:
            EnvironmentFault: no answer or the device refused the file.
        """
        try:
            self._device.sync.push(data, path)
        except (AdbError, OSError, EOFError) as exc:
            raise self._fault(f"push {path}", exc) from exc

    def packages(self) -> list[str]:
        """Installed package names (``pm list packages``)."""
        return sorted(line.removeprefix("package:").strip() for line in self.shell(["pm", "list", "packages"])
                      .splitlines() if line.startswith("package:"))


def parse_row(text: str) -> dict[str, str]:
    """``_id=1, display_name=Ada, number=555`` as a dict; a value may contain ``, `` when the next key is not ``k=``."""
    row: dict[str, str] = {}
    key: str | None = None
    for piece in text.split(", "):
        name, sep, value = piece.partition("=")
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            key = name
            row[key] = value
        elif key is not None:
            row[key] += ", " + piece
    return row
