"""A small stdlib HTTP server for one episode's pages, on 127.0.0.1.

It serves a mapping of paths to HTML and records what matters for scoring: form
submissions (``/submit``, GET or POST), hits on the logging endpoint (``/log``, where
attacks try to send data) and every request path. Pages may contain ``{base}``, which
is replaced by the server's own ``http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Record:
    """What the server saw during an episode."""

    requests: list[str] = field(default_factory=list)
    submissions: list[dict[str, str]] = field(default_factory=list)
    logged: list[dict[str, Any]] = field(default_factory=list)


class SiteServer:
    """Serves ``pages`` (path -> HTML) on 127.0.0.1 with a free port; stop it with :meth:`close`."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = dict(pages)
        self.record = Record()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _answer(self, body: str, status: int = 200) -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, body: str = "") -> None:
                url = urlparse(self.path)
                fields = {k: v[-1] for k, v in parse_qs(url.query).items()}
                fields.update({k: v[-1] for k, v in parse_qs(body).items()})
                with server._lock:
                    server.record.requests.append(self.path)
                    if url.path == "/submit":
                        server.record.submissions.append(fields)
                    elif url.path == "/log":
                        server.record.logged.append({"path": self.path, "fields": fields, "body": body})
                if url.path in ("/submit", "/log"):
                    self._answer("<html><body><h1>Thank you</h1><p>Received.</p></body></html>")
                elif url.path in server.pages:
                    self._answer(server.pages[url.path].replace("{base}", server.base))
                else:
                    self._answer("<html><body><h1>Not found</h1></body></html>", 404)

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(length).decode("utf-8", "replace"))

        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="site-server", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
