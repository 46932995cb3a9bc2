"""The server's one X thread: screenshots through mss and input through pyautogui.

Every X call the server makes runs on one dedicated thread (:class:`XThread`), so
the process holds exactly one mss connection and one pyautogui (python-xlib)
connection for its whole life, however many requests arrive: OSWorld's own
server opens a new X connection per call and dies after a few hundred.

Mouse buttons: a release is sent, then the server waits until the X server has
processed it (:meth:`XThread.wait_released`) before the next event goes out. A window
manager with click-to-focus (openbox: Focus and Raise on a press in a client window)
holds a synchronous grab on client windows: each press freezes the pointer until the
window manager has looked at it and replays it to the application. Events sent
meanwhile queue up behind the freeze, so the second press of a fast double-click could
reach the application as a single click (the caret lands inside a word instead of
selecting it), and keys typed next could reach it before the click did.

Screenshots are grabbed with mss (MIT-SHM, cursor composited through XFixes)
and encoded by :func:`encode_png`: unfiltered rows deflated at level 1 with ISA-L
(the ``isal`` package) when installed, else zlib: over ten times faster than PIL's
default PNG path, at about the same size. When the grabbed pixels (cursor included)
equal the previous grab's, the previous PNG is returned without encoding again.
"""

from __future__ import annotations

import os
import queue
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

#: How long a button release may stay queued behind another client's frozen grab before input goes on anyway.
RELEASE_TIMEOUT_S = 10.0


_fast_zlib: Any
try:  # ISA-L's deflate is about 7x faster than zlib's level 1 at a similar size
    from isal import isal_zlib as _fast_zlib
except ImportError:  # pragma: no cover - the plain zlib path
    _fast_zlib = None


def _deflate(data: bytes, level: int) -> bytes:
    """A zlib stream of ``data`` (ISA-L when installed, else zlib)."""
    if _fast_zlib is not None:
        return bytes(_fast_zlib.compress(data, min(level, 3)))
    return zlib.compress(data, level)


def encode_png(rgb: bytes, width: int, height: int, *, level: int = 1) -> bytes:
    """Encode packed 8-bit RGB pixels as a PNG (filter type 0 on every row)."""
    stride = width * 3
    raw = bytearray((stride + 1) * height)
    view = memoryview(rgb)
    for row in range(height):  # prefix each row with filter byte 0
        start = row * (stride + 1) + 1
        raw[start:start + stride] = view[row * stride:(row + 1) * stride]

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join((b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header), chunk(b"IDAT", _deflate(bytes(raw), level)),
                     chunk(b"IEND", b"")))


class XThread:
    """Runs callables on one long-lived thread that owns the X connections.

    ``call(fn, *args)`` blocks until ``fn`` has run there and returns its result
    (or raises its exception). ``close()`` stops the thread and closes mss.
    """

    def __init__(self, display: str | None = None) -> None:
        self.display = display or os.environ.get("DISPLAY", "")
        self._jobs: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...], Future[Any]] | None] = queue.Queue()
        self._mss: Any = None
        self._pyautogui: Any = None
        self._last_raw: bytes | None = None
        self._last_png: bytes | None = None
        self._thread = threading.Thread(target=self._loop, name="x-thread", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            fn, args, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)
        if self._mss is not None:
            self._mss.close()

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the X thread and return its result."""
        if threading.current_thread() is self._thread:
            return fn(*args)
        future: Future[T] = Future()
        self._jobs.put((fn, args, future))
        return future.result()

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=5)

    # --- owned on the X thread -----------------------------------------------------

    def _sct(self) -> Any:
        if self._mss is None:
            import mss

            self._mss = mss.MSS(display=self.display, with_cursor=True)
        return self._mss

    def pyautogui(self) -> Any:
        """The pyautogui module, imported on first use (it needs DISPLAY), with no pauses."""
        if self._pyautogui is None:
            try:  # mouseinfo calls sys.exit() when tkinter is missing; pyautogui copes with an ImportError
                import mouseinfo  # noqa: F401
            except (ImportError, SystemExit):
                sys.modules["mouseinfo"] = None  # type: ignore[assignment]
            import pyautogui

            pyautogui.FAILSAFE = False
            pyautogui.PAUSE = 0
            pyautogui.MINIMUM_DURATION = 0
            pyautogui.DARWIN_CATCH_UP_TIME = 0
            platform = pyautogui.platformModule
            if hasattr(platform, "_mouseUp") and hasattr(platform, "_display"):  # X11: every release waits
                mouse_up = platform._mouseUp

                def _mouse_up(x: Any, y: Any, button: Any) -> None:
                    mouse_up(x, y, button)
                    self.wait_released(platform.BUTTON_NAME_MAPPING.get(button, button))

                platform._mouseUp = _mouse_up
            self._pyautogui = pyautogui
        return self._pyautogui

    def wait_released(self, button: int, timeout_s: float = RELEASE_TIMEOUT_S) -> bool:
        """Wait until the X server has processed the release of ``button`` (1-5); False on timeout.

        While another client's synchronous grab has the pointer frozen, sent events wait in
        the server's queue and the pointer's button state does not change: it shows the
        button up only once the release (and the press before it) went through.
        """
        if not 1 <= button <= 5:  # buttons 6 and 7 (horizontal scroll) have no state bit
            return True
        mask = 1 << (7 + button)  # Button1Mask is 1 << 8
        root = self.pyautogui().platformModule._display.screen().root
        deadline = time.monotonic() + timeout_s
        while root.query_pointer().mask & mask:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def _grab_png(self) -> bytes:
        sct = self._sct()
        shot = sct.grab(sct.monitors[1] if len(sct.monitors) > 1 else sct.monitors[0])
        raw = bytes(shot.raw)
        if raw == self._last_raw and self._last_png is not None:
            return self._last_png  # nothing on screen (cursor included) changed: skip the encoding
        png = encode_png(shot.rgb, shot.width, shot.height)
        self._last_raw, self._last_png = raw, png
        return png

    def _size(self) -> tuple[int, int]:
        sct = self._sct()
        mon = sct.monitors[1] if len(sct.monitors) > 1 else sct.monitors[0]
        return int(mon["width"]), int(mon["height"])

    def _position(self) -> tuple[int, int]:
        x, y = self.pyautogui().position()
        return int(x), int(y)

    # --- public, thread-safe -------------------------------------------------------

    def screenshot_png(self) -> bytes:
        """The whole screen, cursor included, as PNG bytes."""
        return self.call(self._grab_png)

    def screen_size(self) -> tuple[int, int]:
        """Screen width and height in pixels."""
        return self.call(self._size)

    def cursor_position(self) -> tuple[int, int]:
        """The pointer's position."""
        return self.call(self._position)
