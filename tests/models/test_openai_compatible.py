"""The ``openai:`` provider against an OpenAI-compatible HTTP endpoint on 127.0.0.1.

No vLLM or llama.cpp server (and no GPU) exists on these machines, so the server
here is a test double: a minimal stdlib HTTP server that speaks the
``/v1/chat/completions`` wire format, records what it received and answers with a
fixed completion and usage block. The client under test is the real langchain-openai
client built by ``steadyhand.models.load``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from langchain_core.messages import HumanMessage

from steadyhand.models import load, usage


class _Handler(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.received.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        reply = {
            "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "The button is at (10, 20)."}}],
            "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
        }
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"data: [DONE]\n\n")
            return
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_images_travel_and_usage_is_recorded(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEADYHAND_API_KEY", "secret-key")
    model = load(f"openai:ui-tars@{server}")
    png = "iVBORw0KGgo="  # header bytes are enough: the server only relays
    message = HumanMessage(content=[
        {"type": "text", "text": "Where is the OK button?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
    ])
    reply = model.invoke([message])
    assert reply.content == "The button is at (10, 20)."
    sent = _Handler.received[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["auth"] == "Bearer secret-key"
    parts = sent["body"]["messages"][0]["content"]
    assert parts[1]["type"] == "image_url" and parts[1]["image_url"]["url"].endswith(png)
    calls = usage(model).calls
    assert [(c.input_tokens, c.output_tokens) for c in calls] == [(42, 7)]
    assert calls[0].latency_s > 0
