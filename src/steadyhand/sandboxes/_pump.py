"""Feed a child's stdin and collect its stdout/stderr under a deadline and a size limit."""

from __future__ import annotations

import contextlib
import os
import selectors
import time
from dataclasses import dataclass, field

_CHUNK = 65536


@dataclass
class Capture:
    """Bytes kept from one stream, and whether some were dropped."""

    limit: int
    data: bytearray = field(default_factory=bytearray)
    truncated: bool = False

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        if len(chunk) > room:
            self.truncated = True


def pump(stdin_fd: int | None, stdout_fd: int, stderr_fd: int, stdin_data: bytes, *,
         deadline: float, limit: int) -> tuple[Capture, Capture, bool]:
    """Write ``stdin_data`` then close stdin; read both outputs until EOF or ``deadline``.

    Returns the two captures and whether both outputs reached EOF before the deadline.
    The caller owns the descriptors (this closes only stdin).
    """
    out, err = Capture(limit), Capture(limit)
    sel = selectors.DefaultSelector()
    sel.register(stdout_fd, selectors.EVENT_READ, out)
    sel.register(stderr_fd, selectors.EVENT_READ, err)
    pending = memoryview(stdin_data)
    if stdin_fd is not None:
        if pending:
            os.set_blocking(stdin_fd, False)
            sel.register(stdin_fd, selectors.EVENT_WRITE, None)
        else:
            os.close(stdin_fd)
            stdin_fd = None
    open_outputs = 2
    try:
        while open_outputs:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return out, err, False
            for key, _ in sel.select(remaining):
                if key.data is None:  # stdin is writable
                    try:
                        written = os.write(key.fd, pending[:_CHUNK])
                    except (BrokenPipeError, OSError):
                        written = len(pending)  # the program stopped reading: drop the rest
                    pending = pending[written:]
                    if not pending:
                        sel.unregister(key.fd)
                        os.close(key.fd)
                        stdin_fd = None
                    continue
                chunk = os.read(key.fd, _CHUNK)
                if chunk:
                    key.data.add(chunk)
                else:
                    sel.unregister(key.fd)
                    open_outputs -= 1
        return out, err, True
    finally:
        sel.close()
        if stdin_fd is not None:
            with contextlib.suppress(OSError):
                os.close(stdin_fd)
