"""A stand-in for a GPU vision-language model server, for the visual expert's tests.

The real thing — a grounding model (UI-TARS, Qwen2.5-VL) served by vLLM behind an
OpenAI-compatible API on a GPU — cannot run on this machine: there are no VLM
weights and no GPU. This server speaks the same wire format (``POST
/v1/chat/completions``, the screenshot as a base64 ``image_url`` part) on
127.0.0.1, decodes the image it was actually sent, and answers where a target lies
in that image, written in a configured coordinate space and reply style, so the
expert's whole real client path (``steadyhand.models.load("openai:...")``, resizing,
parsing, mapping back to the screen) is exercised.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

from steadyhand.tools.grounding.coordinates import CoordinateSpace


@dataclass
class Behaviour:
    """What the double answers: the target as fractions of the image, a space and a reply template."""

    target: tuple[float, float] = (0.5, 0.5)
    space: str = "pixels"
    template: str = '{{"x": {a}, "y": {b}}}'
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)


class VLMDouble:
    """The server; ``url`` is its OpenAI base URL, ``behaviour`` is read on every request."""

    def __init__(self) -> None:
        self.behaviour = Behaviour()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply, status = double.answer(body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        b = self.behaviour
        parts = body["messages"][-1]["content"]
        image_part = next(p for p in parts if p.get("type") == "image_url")
        encoded = image_part["image_url"]["url"].split(",", 1)[1]
        size = Image.open(io.BytesIO(base64.b64decode(encoded))).size
        text = next(p["text"] for p in parts if p.get("type") == "text")
        b.requests.append({"model": body.get("model"), "image_size": size, "prompt": text})
        if b.status != 200:
            return {"error": {"message": "model overloaded", "type": "server_error"}}, b.status
        fx, fy = b.target
        a, c = CoordinateSpace.parse(b.space).from_image(fx * size[0], fy * size[1], size)
        content = b.template.format(a=round(a, 4), b=round(c, 4))
        return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}, 200

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
