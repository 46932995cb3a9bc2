"""The host's side of the local provider's fork servers (``_spawner.py`` on the host,
``_inner.py`` inside a persistent sandbox): same protocol, one request at a time.

A request is one SOCK_SEQPACKET message (JSON) carrying descriptors; the server answers
``{"pid": N}`` at once and ``{"status": S}`` when that process ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from steadyhand.sandboxes._pump import Capture, pump


class ChannelClosed(ConnectionError):
    """The server at the other end is gone; ``before_start``: the request was never taken."""

    def __init__(self, message: str, *, before_start: bool = False) -> None:
        super().__init__(message)
        self.before_start = before_start


class Channel:
    """A client of one fork server."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def start(self, request: dict[str, Any], fds: list[int]) -> int:
        """Send ``request`` with ``fds``; return the PID the server started (in its namespace)."""
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
            return int(self.reply(None)["pid"])
        except (OSError, ChannelClosed) as exc:
            raise ChannelClosed(str(exc), before_start=True) from exc

    def reply(self, deadline: float | None) -> dict[str, Any]:
        """The next answer; TimeoutError once ``deadline`` (monotonic) passes."""
        self.sock.settimeout(None if deadline is None else max(0.001, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            raise
        except OSError as exc:
            raise ChannelClosed(str(exc)) from exc
        finally:
            with contextlib.suppress(OSError):
                self.sock.settimeout(None)
        if not data:
            raise ChannelClosed("the server closed its socket")
        answer: dict[str, Any] = json.loads(data)
        return answer

    def send(self, message: dict[str, Any]) -> None:
        """Send a message without descriptors (a kill order)."""
        with contextlib.suppress(OSError):
            self.sock.send(json.dumps(message).encode())

    def close(self) -> None:
        """Close our end (the server exits when it sees that)."""
        with contextlib.suppress(OSError):
            self.sock.close()


@dataclass
class CallOutput:
    """What :func:`run_call` collected."""

    status: int
    stdout: Capture
    stderr: Capture
    timed_out: bool


def run_call(channel: Channel, request: dict[str, Any], stdin: bytes, *, deadline: float, limit: int,
             kill: Callable[[int], int]) -> CallOutput:
    """Start ``request`` with fresh pipes, feed stdin, collect output until exit or ``deadline``.

    On timeout ``kill(pid)`` must end the call and return its status.
    """
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        try:
            pid = channel.start(request, [in_r, out_w, err_w])
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        out, err, finished = pump(in_w, out_r, err_r, stdin, deadline=deadline, limit=limit)
        in_w = -1  # pump closed it
        if finished:
            with contextlib.suppress(TimeoutError):
                return CallOutput(int(channel.reply(deadline)["status"]), out, err, False)
        return CallOutput(kill(pid), out, err, True)
    finally:
        for fd in (in_w, out_r, err_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
