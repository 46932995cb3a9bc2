"""A SIMULATED Android device that speaks the real ADB wire protocol — for tests, not a phone.

No Android system image can be obtained on the machines steadyhand is developed
and tested on, so the Android environment is exercised end to end against this
simulation instead of an emulator. It is an ADB *server* on ``127.0.0.1`` (the
service adbutils and the ``adb`` command line connect to, port 5037 by default)
with one device attached, ``emulator-5554``. Behind the protocol there is no
Android: a small Python model of a phone, with

* a shell (``sh`` syntax subset) whose commands imitate Android's output formats:
  ``screencap -p``, ``uiautomator dump``, ``input tap|swipe|text|keyevent``,
  ``am start|force-stop``, ``monkey -p``, ``settings get|put``, ``content
  query|insert|delete``, ``pm list packages``, ``wm size``, ``dumpsys window``,
  ``getprop``, ``cat``/``ls``/``rm``/``mkdir``/``echo``, redirections;
* ``sync:`` for pulls and pushes;
* four apps drawn with Pillow and dumped as uiautomator XML: a launcher,
  Settings, a notes app (files in ``/sdcard/Notes``) and a contacts app (the
  contacts provider), whose state changes with input events.

What it does not do: run APKs, render real Android views, IMEs, animations,
multi-touch, the accessibility service, the ADB *device* protocol (``adb
connect`` to it is refused), or anything a real Android build would do that is
not listed above. Passing tests against it show that steadyhand's environment
drives ADB correctly; they do not show that a task is solvable on a real phone.

Run one in the foreground::

    python -m steadyhand.environments.android.simulator --port 5037
"""

from __future__ import annotations

import threading

from steadyhand.environments.android.simulator.apps import default_apps
from steadyhand.environments.android.simulator.phone import Phone
from steadyhand.environments.android.simulator.server import AdbServer
from steadyhand.environments.android.simulator.state import DeviceState


class SimulatedDevice:
    """A simulated device and its ADB server, run on a thread of this process.

    Args:
        host: address to listen on (keep it on loopback).
        port: TCP port; 0 picks a free one (read :attr:`port` after :meth:`start`).
        serial: the device's serial number.
        width, height: screen size in pixels.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, serial: str = "emulator-5554",
                 width: int = 1080, height: int = 2400) -> None:
        self.state = DeviceState(serial=serial, width=width, height=height)
        self.phone = Phone(self.state, default_apps())
        self._server = AdbServer((host, port), self.state, self.phone)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def serial(self) -> str:
        return self.state.serial

    def start(self) -> SimulatedDevice:
        """Serve on a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="adb-simulator", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until ``host:kill`` or :meth:`stop`."""
        self._server.serve_forever()

    def request_stop(self) -> None:
        """Ask :meth:`serve_forever` to return, from any thread (a signal handler), without waiting."""
        threading.Thread(target=self._server.shutdown, daemon=True).start()

    def close(self) -> None:
        """Close the listening socket (after serving has stopped)."""
        self._server.server_close()

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SimulatedDevice:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["SimulatedDevice"]
