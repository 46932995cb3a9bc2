"""A device or emulator already attached to an ADB server, by serial."""

from __future__ import annotations

import os

from adbutils.errors import AdbError

from steadyhand.core.errors import ConfigurationError
from steadyhand.environments.android.device import Endpoint, adb_client, server_answers


class ConnectedProvider:
    """Uses a device the ADB server at ``host:port`` already lists; starts and stops nothing.

    Args:
        serial: the device (``emulator-5554``, ``R58M12345``, ``192.168.1.5:5555``);
            default ``$ANDROID_SERIAL``, else the only device the server lists.
        host, port: the ADB server (default ``$ANDROID_ADB_SERVER_HOST``/``PORT``,
            else 127.0.0.1:5037; start one with ``adb start-server``).
    """

    name = "serial"

    def __init__(self, *, serial: str | None = None, host: str | None = None, port: int | None = None) -> None:
        self.serial = serial or os.environ.get("ANDROID_SERIAL") or None
        self.host = host or os.environ.get("ANDROID_ADB_SERVER_HOST", "127.0.0.1")
        self.port = port if port is not None else int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037"))

    def start(self) -> Endpoint:
        """The endpoint of the chosen device.

        Raises:
            ConfigurationError: no ADB server answers, the serial is not attached (or
                not in the ``device`` state), or no serial was given and the server
                lists none or several.
        """
        if not server_answers(self.host, self.port):
            raise ConfigurationError(f"no ADB server answers at {self.host}:{self.port}; start one with "
                                     "'adb start-server' (or pass host=/port=)")
        try:
            listed = {info.serial: info.state for info in adb_client(self.host, self.port, timeout_s=10).list()}
        except (AdbError, OSError) as exc:
            raise ConfigurationError(f"the ADB server at {self.host}:{self.port} did not list devices: {exc}") from exc
        serial = self.serial
        if serial is None:
            ready = [s for s, state in listed.items() if state == "device"]
            if len(ready) != 1:
                raise ConfigurationError(f"pass serial=: the ADB server at {self.host}:{self.port} lists "
                                         f"{len(ready)} ready devices ({', '.join(ready) or 'none'})")
            serial = ready[0]
        if listed.get(serial) != "device":
            state = listed.get(serial, "not attached")
            raise ConfigurationError(f"device {serial} is {state} on the ADB server at {self.host}:{self.port}; "
                                     f"attached: {', '.join(f'{s} ({st})' for s, st in listed.items()) or 'none'}")
        return Endpoint(self.host, self.port, serial)

    def close(self) -> None:
        """Nothing to release: the device and its server belong to the user."""
