"""The simulated device (a test double) in a child process, stopped by PID."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from typing import IO

from steadyhand.core.errors import EnvironmentFault
from steadyhand.environments.android.device import Endpoint


class SimulatedProvider:
    """Starts ``python -m steadyhand.environments.android.simulator`` on a free loopback port.

    The child prints ``READY <host> <port> <serial>`` when it accepts connections;
    ``close`` sends SIGTERM to that PID and SIGKILL after ``grace_s``.

    Args:
        serial: the simulated device's serial.
        width, height: its screen size.
        startup_timeout_s: how long the child may take to print READY.
        grace_s: how long ``close`` waits after SIGTERM.
    """

    name = "simulated"

    def __init__(self, *, serial: str = "emulator-5554", width: int = 1080, height: int = 2400,
                 startup_timeout_s: float = 60.0, grace_s: float = 5.0) -> None:
        self.serial = serial
        self.width = width
        self.height = height
        self.startup_timeout_s = startup_timeout_s
        self.grace_s = grace_s
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.endpoint: Endpoint | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> Endpoint:
        """Start the child (once; later calls return the same endpoint).

        Raises:
            EnvironmentFault: it exited or stayed silent past ``startup_timeout_s``
                (the message has its output).
        """
        if self.endpoint is not None and self.process is not None and self.process.poll() is None:
            return self.endpoint
        self.close()
        argv = [sys.executable, "-m", "steadyhand.environments.android.simulator", "--port", "0",
                "--serial", self.serial, "--width", str(self.width), "--height", str(self.height)]
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the child's stderr, closed in close()
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout_s
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                seen += line
                if line.startswith(b"READY "):
                    _, host, port, serial = line.decode().split()
                    self.endpoint = Endpoint(host, int(port), serial)
                    return self.endpoint
                if not line and self.process.poll() is not None:
                    break
            elif self.process.poll() is not None:
                break
        log = self.log()
        self.close()
        raise EnvironmentFault("the simulated Android device did not start: "
                               f"{(seen.decode(errors='replace') + log)[-2000:]}")

    def log(self) -> str:
        """What the child wrote to stderr so far (tracebacks of simulator bugs)."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def close(self) -> None:
        """Stop the child by PID: SIGTERM, then SIGKILL after ``grace_s`` (idempotent)."""
        process, self.process, self.endpoint = self.process, None, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=self.grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
