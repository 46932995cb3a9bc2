"""The OSWorld-compatible control server that runs inside a desktop.

Start it inside the desktop (``DISPLAY`` set) with::

    python -m steadyhand.environments.desktop.server --port 5000

It needs only the standard library plus mss, Pillow-free PNG encoding, python-xlib
and pyautogui (imported on first input); the accessibility tree is read by
:mod:`.atspi_dump` under the system interpreter, which has Debian's pyatspi.
Importing this package imports nothing from the rest of steadyhand except the
standard-library action validator, so the server runs in images without
steadyhand's own dependencies.
"""

from steadyhand.environments.desktop.server.app import ControlServer, HTTPControlServer

__all__ = ["ControlServer", "HTTPControlServer"]
