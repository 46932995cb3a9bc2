"""HTTP client for an OSWorld-compatible desktop control server.

:class:`DesktopClient` speaks the protocol of OSWorld's in-VM server, so it drives
steadyhand's own desktops (local and docker providers) and real OSWorld VMs alike.
Where our server offers more (``POST /pyautogui`` runs action code in-process),
the client uses it; against other servers it falls back to OSWorld's way
(``python3 -c`` through ``/execute``). Action code always runs inside the
desktop, never on the host.

Errors: a server that cannot be reached after ``retries`` attempts, or answers
with a server error where an answer was required, raises
:class:`~steadyhand.core.errors.EnvironmentFault`. A missing file raises
:class:`FileNotFoundError`; action code the server rejects raises
:class:`~steadyhand.environments.desktop.actions.ActionCodeError`.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx

from steadyhand.core.errors import EnvironmentFault
from steadyhand.environments.desktop.actions import ActionCodeError, validate_pyautogui

_PYAUTOGUI_PRELUDE = "import pyautogui; import time; pyautogui.FAILSAFE = False; pyautogui.PAUSE = 0\n"


class DesktopClient:
    """Talks to one OSWorld-compatible control server over HTTP (keep-alive).

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:5000``.
        timeout_s: per-request timeout (long commands pass their own).
        retries: attempts per request when the connection fails (with a short backoff).
    """

    def __init__(self, base_url: str, *, timeout_s: float = 30.0, retries: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = max(1, retries)
        # TCP_NODELAY: a request's headers and body are separate writes; without it each
        # POST can stall on a delayed ACK (40 ms on Linux).
        transport = httpx.HTTPTransport(retries=0, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport,
                                  limits=httpx.Limits(max_keepalive_connections=4))
        self._steadyhand: bool | None = None

    def __repr__(self) -> str:
        return f"DesktopClient({self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> DesktopClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------

    def _request(self, method: str, path: str, *, timeout_s: float | None = None, retries: int | None = None,
                 **kwargs: Any) -> httpx.Response:
        attempts = self.retries if retries is None else max(1, retries)
        last: Exception | None = None
        for attempt in range(attempts):
            try:
                return self._http.request(method, path, timeout=timeout_s or self.timeout_s, **kwargs)
            except httpx.TimeoutException as exc:
                raise EnvironmentFault(f"desktop server {self.base_url} did not answer {method} {path} "
                                       f"within {timeout_s or self.timeout_s:g} s") from exc
            except httpx.TransportError as exc:
                last = exc
                if attempt + 1 < attempts:
                    time.sleep(min(0.2 * 2**attempt, 2.0))
        raise EnvironmentFault(f"desktop server {self.base_url} is unreachable ({method} {path}): {last}") from last

    def _ok(self, response: httpx.Response, what: str) -> httpx.Response:
        if response.status_code >= 400:
            raise EnvironmentFault(f"{what} failed: HTTP {response.status_code}: {_message(response)}")
        return response

    def _json(self, response: httpx.Response, what: str) -> Any:
        self._ok(response, what)
        try:
            return response.json()
        except json.JSONDecodeError as exc:
            raise EnvironmentFault(f"{what}: the server answered non-JSON: {response.text[:200]!r}") from exc

    # --- readiness and observations ----------------------------------------------------

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until ``GET /screenshot`` answers 200.

        Raises:
            EnvironmentFault: not ready within ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                response = self._http.get("/screenshot", timeout=min(10.0, self.timeout_s))
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = str(exc) or type(exc).__name__
            time.sleep(0.2)
        raise EnvironmentFault(f"desktop server {self.base_url} not ready after {timeout_s:g} s ({last})")

    def is_steadyhand(self) -> bool:
        """Whether the server is steadyhand's own (it then runs action code in-process)."""
        if self._steadyhand is None:
            try:
                response = self._request("GET", "/steadyhand")
                self._steadyhand = response.status_code == 200 and response.json().get("server") == "steadyhand"
            except (EnvironmentFault, ValueError):
                self._steadyhand = False
        return self._steadyhand

    def screenshot(self) -> bytes:
        """The screen as PNG bytes (cursor included)."""
        response = self._ok(self._request("GET", "/screenshot"), "screenshot")
        if not response.content.startswith(b"\x89PNG"):
            raise EnvironmentFault("screenshot: the server did not answer a PNG")
        return response.content

    def accessibility_tree(self) -> str:
        """The accessibility tree as OSWorld's XML."""
        return str(self._json(self._request("GET", "/accessibility", timeout_s=max(self.timeout_s, 90.0)),
                              "accessibility tree")["AT"])

    def terminal(self) -> str | None:
        """The focused terminal's text, or None when no terminal is active."""
        response = self._request("GET", "/terminal")
        if response.status_code >= 400:
            return None
        output = response.json().get("output")
        return output if isinstance(output, str) else None

    def screen_size(self) -> tuple[int, int]:
        """Screen width and height in pixels."""
        data = self._json(self._request("POST", "/screen_size"), "screen size")
        return int(data["width"]), int(data["height"])

    def platform(self) -> str:
        """The desktop's operating system (``Linux``)."""
        return self._ok(self._request("GET", "/platform"), "platform").text.strip()

    def cursor_position(self) -> tuple[int, int]:
        """The pointer's position."""
        response = self._ok(self._request("GET", "/cursor_position"), "cursor position")
        try:
            data = response.json()
        except ValueError:
            data = [int(v) for v in response.text.replace("(", "").replace(")", "").split(",")]
        if isinstance(data, dict):
            return int(data["x"]), int(data["y"])
        return int(data[0]), int(data[1])

    # --- commands and files ----------------------------------------------------------------

    def execute(self, command: str | list[str], *, shell: bool = False,
                timeout_s: float | None = None) -> dict[str, Any]:
        """Run a command inside the desktop: ``{status, output, error, returncode}``.

        A command that fails (non-zero exit, cannot start) is not an exception: read
        ``returncode`` and ``status``.
        """
        body: dict[str, Any] = {"command": command, "shell": shell}
        if timeout_s is not None:
            body["timeout"] = timeout_s
        response = self._request("POST", "/execute", json=body, timeout_s=(timeout_s or 120.0) + 10.0, retries=1)
        try:
            data = response.json()
        except ValueError as exc:
            raise EnvironmentFault(f"execute: HTTP {response.status_code}: {response.text[:200]!r}") from exc
        data.setdefault("output", "")
        data.setdefault("error", data.get("message", ""))
        data.setdefault("returncode", 0 if data.get("status") == "success" else -1)
        return dict(data)

    def get_file(self, path: str) -> bytes:
        """The bytes of a file inside the desktop.

        Raises:
            FileNotFoundError: no such file.
        """
        response = self._request("POST", "/file", data={"file_path": path})
        if response.status_code == 404:
            raise FileNotFoundError(path)
        return self._ok(response, f"reading {path}").content

    def upload_file(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` inside the desktop (parent folders are created)."""
        self._ok(self._request("POST", "/setup/upload", data={"file_path": path},
                               files={"file_data": ("file", data)}), f"uploading {path}")

    def launch(self, command: str | list[str], *, shell: bool = False) -> None:
        """Start a program inside the desktop without waiting for it."""
        self._ok(self._request("POST", "/setup/launch", json={"command": command, "shell": shell}),
                 f"launching {command!r}")

    def open_file(self, path: str) -> None:
        """Open a file with its application and wait (up to 30 s) for its window.

        Raises:
            FileNotFoundError: no such file in the desktop.
        """
        response = self._request("POST", "/setup/open_file", json={"path": path}, timeout_s=max(self.timeout_s, 60))
        if response.status_code == 404:
            raise FileNotFoundError(path)
        self._ok(response, f"opening {path}")

    def activate_window(self, window_name: str, *, strict: bool = False, by_class: bool = False) -> None:
        """Raise and focus a window by title (or class).

        Raises:
            EnvironmentFault: no such window (the server answers 404).
        """
        self._ok(self._request("POST", "/setup/activate_window",
                               json={"window_name": window_name, "strict": strict, "by_class": by_class}),
                 f"activating window {window_name!r}")

    def close_window(self, window_name: str, *, strict: bool = False, by_class: bool = False) -> None:
        """Close a window by title (or class).

        Raises:
            EnvironmentFault: no such window.
        """
        self._ok(self._request("POST", "/setup/close_window",
                               json={"window_name": window_name, "strict": strict, "by_class": by_class}),
                 f"closing window {window_name!r}")

    def list_directory(self, path: str) -> dict[str, Any]:
        """OSWorld's directory tree of ``path``: ``{type, name, children}``.

        Raises:
            FileNotFoundError: ``path`` is not a directory in the desktop.
        """
        response = self._request("POST", "/list_directory", json={"path": path})
        if response.status_code == 400:
            raise FileNotFoundError(path)
        data = self._json(response, f"listing {path}")
        return dict(data.get("directory_tree", data))

    def run_python(self, code: str) -> dict[str, Any]:
        """Run Python code in a fresh interpreter inside the desktop."""
        response = self._request("POST", "/run_python", json={"code": code}, timeout_s=max(self.timeout_s, 60))
        try:
            return dict(response.json())
        except ValueError as exc:
            raise EnvironmentFault(f"run_python: HTTP {response.status_code}: {response.text[:200]!r}") from exc

    def run_bash_script(self, script: str, *, timeout_s: float = 30.0) -> dict[str, Any]:
        """Run a bash script inside the desktop: ``{status, output, error, returncode}``."""
        response = self._request("POST", "/run_bash_script", json={"script": script, "timeout": timeout_s},
                                 timeout_s=timeout_s + 10.0, retries=1)
        try:
            return dict(response.json())
        except ValueError as exc:
            raise EnvironmentFault(f"run_bash_script: HTTP {response.status_code}: {response.text[:200]!r}") from exc

    # --- actions ---------------------------------------------------------------------------------

    def run_pyautogui(self, code: str) -> dict[str, Any]:
        """Run pyautogui code inside the desktop.

        The code is checked here first (:func:`validate_pyautogui`); steadyhand's
        server runs it in-process, other servers through ``python3 -c``.

        Raises:
            ActionCodeError: the code is malformed or outside the allowed subset,
                or it failed inside the desktop (bad key name, bad argument).
        """
        validate_pyautogui(code)
        if self.is_steadyhand():
            response = self._request("POST", "/pyautogui", json={"code": code}, timeout_s=max(self.timeout_s, 90))
            if response.status_code == 400:
                raise ActionCodeError(_message(response))
            return dict(self._json(response, "pyautogui action"))
        result = self.execute(["python3", "-c", _PYAUTOGUI_PRELUDE + code], timeout_s=90)
        if result.get("returncode") not in (0, None):
            raise ActionCodeError((result.get("error") or result.get("message") or "action failed").strip()[-1000:])
        return result

    # --- recording ---------------------------------------------------------------------------------

    def start_recording(self) -> None:
        """Start recording the screen (needs ffmpeg in the desktop)."""
        self._ok(self._request("POST", "/start_recording"), "start recording")

    def end_recording(self) -> bytes:
        """Stop recording and return the MP4 bytes."""
        return self._ok(self._request("POST", "/end_recording", timeout_s=max(self.timeout_s, 60)),
                        "end recording").content


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(data, dict):
        return str(data.get("error") or data.get("message") or data)
    return str(data)

