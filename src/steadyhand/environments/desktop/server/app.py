"""The HTTP control server: OSWorld's protocol over the standard library's HTTP server.

Routes follow OSWorld's in-VM server (see DESIGN.md), so one client drives our
desktops and real OSWorld VMs. Two additions, which the client probes for:

* ``GET /steadyhand`` — ``{"server": "steadyhand", "protocol": 1, "pid": ...}``;
* ``POST /pyautogui`` — ``{"code": "..."}``: validated pyautogui code executed
  in this process (no interpreter start), ``{"status": "success"}`` or a 400
  with ``{"status": "error", "error": "line 2: ..."}``;
* ``GET /stats`` — this process's RSS, open descriptors and threads (the soak
  benchmark reads it).

Connections are HTTP/1.1 keep-alive; each runs on its own thread, and every X
call funnels through the one :class:`~.screen.XThread`.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import os
import platform
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from steadyhand.environments.desktop.actions import ActionCodeError
from steadyhand.environments.desktop.server import ops
from steadyhand.environments.desktop.server.inputs import ActionRunner
from steadyhand.environments.desktop.server.screen import XThread

PROTOCOL_VERSION = 1
MAX_BODY = 512 * 2**20


class Response:
    """A status, a content type and a body."""

    def __init__(self, body: bytes | str | dict[str, Any] | list[Any], status: int = 200,
                 content_type: str | None = None) -> None:
        if isinstance(body, dict | list):
            self.body = json.dumps(body).encode()
            self.content_type = content_type or "application/json"
        elif isinstance(body, str):
            self.body = body.encode()
            self.content_type = content_type or "text/html; charset=utf-8"
        else:
            self.body = body
            self.content_type = content_type or "application/octet-stream"
        self.status = status


class Request:
    """A parsed request: JSON body, form fields and uploaded files."""

    def __init__(self, method: str, path: str, headers: Any, body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self._json: Any = None
        self.form: dict[str, str] = {}
        self.files: dict[str, bytes] = {}
        ctype = headers.get("Content-Type", "") or ""
        if ctype.startswith("application/x-www-form-urlencoded"):
            self.form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        elif ctype.startswith("multipart/form-data"):
            self._multipart(ctype)

    def _multipart(self, ctype: str) -> None:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            if part.get_filename() is not None:
                self.files[str(name)] = payload
            else:
                self.form[str(name)] = payload.decode("utf-8", "replace")

    def json(self) -> dict[str, Any]:
        if self._json is None:
            try:
                self._json = json.loads(self.body or b"{}")
            except json.JSONDecodeError as exc:
                raise ops.OpError(400, f"request body is not JSON: {exc}") from exc
            if not isinstance(self._json, dict):
                raise ops.OpError(400, "request body must be a JSON object")
        return dict(self._json)


class ControlServer:
    """The desktop's control API, independent of the HTTP plumbing.

    Args:
        display: the X display to drive (default ``$DISPLAY``).
    """

    def __init__(self, display: str | None = None) -> None:
        self.display = display or os.environ.get("DISPLAY", ":0")
        self.x = XThread(self.display)
        self.runner = ActionRunner(self.x)
        self.launcher = ops.Launcher()
        self._recorder: ops.Recorder | None = None
        self.routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/screenshot"): lambda r: Response(self.x.screenshot_png(), content_type="image/png"),
            ("POST", "/execute"): self.execute,
            ("POST", "/setup/execute"): self.execute,
            ("GET", "/accessibility"): lambda r: Response({"AT": ops.accessibility_tree()}),
            ("GET", "/terminal"): lambda r: Response({"output": ops.terminal_output(), "status": "success"}),
            ("POST", "/screen_size"): self.screen_size,
            ("GET", "/screen_size"): self.screen_size,
            ("GET", "/platform"): lambda r: Response(platform.system(), content_type="text/plain"),
            ("GET", "/cursor_position"): lambda r: Response(list(self.x.cursor_position())),
            ("POST", "/file"): self.get_file,
            ("POST", "/setup/upload"): self.upload,
            ("POST", "/setup/launch"): self.launch,
            ("POST", "/setup/open_file"): self.open_file,
            ("POST", "/setup/activate_window"): lambda r: self.window(r, "a"),
            ("POST", "/setup/close_window"): lambda r: self.window(r, "c"),
            ("POST", "/list_directory"): lambda r: Response(ops.list_directory(str(r.json().get("path", "")))),
            ("POST", "/start_recording"): self.start_recording,
            ("POST", "/end_recording"): self.end_recording,
            ("POST", "/run_python"): self.run_python,
            ("POST", "/run_bash_script"): self.run_bash_script,
            ("POST", "/pyautogui"): self.pyautogui,
            ("GET", "/steadyhand"): lambda r: Response({"server": "steadyhand", "protocol": PROTOCOL_VERSION,
                                                         "pid": os.getpid(), "display": self.display}),
            ("GET", "/stats"): lambda r: Response(process_stats()),
        }

    def handle(self, request: Request) -> Response:
        """Answer one request; errors become JSON error responses, never exceptions."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            known = any(path == request.path for _, path in self.routes)
            return Response({"status": "error", "message": f"no route {request.method} {request.path}"},
                            405 if known else 404)
        try:
            return route(request)
        except ops.OpError as exc:
            return Response({"status": "error", "message": str(exc), "error": str(exc)}, exc.status)
        except ActionCodeError as exc:
            return Response({"status": "error", "message": str(exc), "error": str(exc)}, 400)
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            return Response({"status": "error", "message": message, "error": message}, 500)

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()
        self.launcher.close()
        self.x.close()

    # --- routes ------------------------------------------------------------------------

    def execute(self, request: Request) -> Response:
        data = request.json()
        shell = bool(data.get("shell", False))
        timeout = data.get("timeout")
        result = ops.execute(data.get("command", "" if shell else []), shell=shell,
                             timeout=float(timeout) if timeout else None)
        return Response(result, 200 if result["status"] == "success" else 500)

    def screen_size(self, request: Request) -> Response:
        width, height = self.x.screen_size()
        return Response({"width": width, "height": height})

    def get_file(self, request: Request) -> Response:
        raw = request.form.get("file_path") or (request.json().get("file_path") if request.body[:1] == b"{" else None)
        if not raw:
            raise ops.OpError(400, "file_path is required")
        path = Path(ops.expand(raw))
        if not path.is_file():
            return Response({"error": "File not found"}, 404)
        return Response(path.read_bytes())

    def upload(self, request: Request) -> Response:
        raw = request.form.get("file_path")
        if not raw or "file_data" not in request.files:
            raise ops.OpError(400, "file_path and file_data are required")
        path = Path(ops.expand(raw))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(request.files["file_data"])
        return Response("File Uploaded")

    def launch(self, request: Request) -> Response:
        data = request.json()
        shell = bool(data.get("shell", False))
        command = data.get("command", "" if shell else [])
        self.launcher.launch(command, shell=shell)
        return Response(f"{command} launched successfully")

    def open_file(self, request: Request) -> Response:
        raw = request.json().get("path")
        if not raw:
            raise ops.OpError(400, "Path not supplied!")
        path = Path(ops.expand(str(raw)))
        if not path.exists():
            raise ops.OpError(404, f"File not found: {path}")
        self.launcher.launch(ops.open_command(path))
        timeout = float(request.json().get("timeout", 30))
        if not ops.wait_for_window(path.stem or path.name, timeout):
            return Response(f"File opened but no window titled {path.name!r} appeared within {timeout:g} s")
        return Response("File opened successfully")

    def window(self, request: Request, flag: str) -> Response:
        data = request.json()
        message = ops.window_action(flag, str(data.get("window_name") or ""), strict=bool(data.get("strict")),
                                    by_class=bool(data.get("by_class")))
        return Response(message)

    def start_recording(self, request: Request) -> Response:
        if self._recorder is None:
            self._recorder = ops.Recorder(self.display, self.x.screen_size())
        self._recorder.start()
        return Response({"status": "success", "message": "Started recording."})

    def end_recording(self, request: Request) -> Response:
        if self._recorder is None:
            raise ops.OpError(400, "No recording in progress to stop.")
        return Response(self._recorder.end(), content_type="video/mp4")

    def run_python(self, request: Request) -> Response:
        data = request.json()
        result = ops.run_python(str(data.get("code", "")), float(data.get("timeout", 30)))
        return Response(result, 200 if result["status"] == "success" else 500)

    def run_bash_script(self, request: Request) -> Response:
        data = request.json()
        result = ops.run_bash_script(str(data.get("script", "")), float(data.get("timeout", 30)),
                                     data.get("working_dir"))
        return Response(result, 200 if result["status"] == "success" else 500)

    def pyautogui(self, request: Request) -> Response:
        code = request.json().get("code")
        if not isinstance(code, str):
            raise ops.OpError(400, "'code' must be a string of pyautogui code")
        self.runner.run_code(code)
        return Response({"status": "success"})


def process_stats() -> dict[str, Any]:
    """This process's resident memory (MiB), open descriptors and thread count."""
    rss_kb = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        fds = len(os.listdir("/proc/self/fd"))
    except OSError:
        fds = -1
    return {"rss_mb": rss_kb / 1024, "fds": fds, "threads": threading.active_count(), "pid": os.getpid()}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "steadyhand-desktop"
    disable_nagle_algorithm = True
    control: ControlServer

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("STEADYHAND_SERVER_LOG"):
            super().log_message(format, *args)

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(Response({"status": "error", "message": "request body too large"}, 413))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(self.path).path.rstrip("/") or "/"
        try:
            request = Request(method, path, self.headers, body)
        except Exception as exc:
            self._send(Response({"status": "error", "message": f"malformed request: {exc}"}, 400))
            return
        self._send(self.control.handle(request))

    def _send(self, response: Response) -> None:
        # Status line, headers and body leave in one write: separate small writes would
        # wait on delayed ACKs.
        phrase = self.responses.get(response.status, ("",))[0]
        head = (f"{self.protocol_version} {response.status} {phrase}\r\n"
                f"Server: {self.version_string()}\r\nDate: {self.date_time_string()}\r\n"
                f"Content-Type: {response.content_type}\r\nContent-Length: {len(response.body)}\r\n\r\n")
        self.log_request(response.status)
        self.wfile.write(head.encode("latin-1") + response.body)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class HTTPControlServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one :class:`ControlServer`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], control: ControlServer) -> None:
        handler = type("Handler", (_Handler,), {"control": control})
        super().__init__(address, handler)
        self.control = control

    def server_close(self) -> None:
        super().server_close()
        self.control.close()
