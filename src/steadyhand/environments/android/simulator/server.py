"""An ADB server on TCP that serves one simulated device, speaking the real wire protocol.

ADB clients (adbutils, the ``adb`` command line) talk to the ADB server in
*smart-socket* requests: four hex digits of length, then the request; the answer
starts with ``OKAY`` or with ``FAIL`` and a length-prefixed message. This server
implements what clients send:

* host services — ``host:version`` (41), ``host:devices``, ``host:devices-l``,
  ``host:features``, ``host:kill``, ``host:connect:``/``host:disconnect:``,
  ``host:wait-for-*``, ``host-serial:<serial>:{get-state,get-serialno,get-devpath,features}``;
* transport selection — ``host:transport:<serial>``, ``host:transport-any``,
  ``host:tport:serial:<serial>``/``host:tport:any`` (answered with the 8-byte transport id);
* device services, after a transport — ``shell:`` (v1: raw output, then the socket
  closes), ``shell,v2,...:`` (packets: id, 4-byte length, data; exit code last),
  ``exec:``, ``sync:`` (``STAT``, ``LIST``, ``RECV``, ``SEND``, ``QUIT``).

Protocol reference: AOSP ``packages/modules/adb`` (``SERVICES.TXT``, ``SYNC.TXT``,
``shell_protocol.h``).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import stat
import struct
import threading
import time

from steadyhand.environments.android.simulator.commands import COMMANDS
from steadyhand.environments.android.simulator.phone import Phone
from steadyhand.environments.android.simulator.shell import Shell
from steadyhand.environments.android.simulator.state import DeviceState, normalize_path

ADB_VERSION = 41
TRANSPORT_ID = 1
FEATURES = "shell_v2,cmd,fixed_push_mkdir,sendrecv_v2_brotli"
SYNC_CHUNK = 64 * 1024
_SHELL_STDOUT, _SHELL_STDERR, _SHELL_EXIT = 1, 2, 3


class ProtocolError(Exception):
    """The client sent something that is not ADB protocol."""


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def _block(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return f"{len(data):04x}".encode() + data


class _Handler(socketserver.BaseRequestHandler):
    server: AdbServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._serve(sock)
        except (EOFError, ConnectionError, ProtocolError, TimeoutError):
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _request(self, sock: socket.socket) -> str:
        header = _read_exact(sock, 4)
        try:
            size = int(header, 16)
        except ValueError as exc:
            raise ProtocolError(f"bad length {header!r}") from exc
        return _read_exact(sock, size).decode("utf-8", "replace")

    def _serve(self, sock: socket.socket) -> None:
        device = self.server.device
        transported = False
        while True:
            request = self._request(sock)
            if not transported:
                answer = self._host(request)
                if answer is None:  # a transport was selected: a device service follows
                    transported = True
                    continue
                sock.sendall(answer)
                if request == "host:kill":
                    threading.Thread(target=self.server.shutdown, daemon=True).start()
                return
            self._device_service(sock, request, device.serial)
            return

    # --- host services --------------------------------------------------------------------------

    def _host(self, request: str) -> bytes | None:
        """The answer to a host request, or None after a transport switch (OKAY already sent)."""
        serial = self.server.device.serial
        okay = b"OKAY"
        if request == "host:version":
            return okay + _block(f"{ADB_VERSION:04x}")
        if request == "host:devices":
            return okay + _block(f"{serial}\tdevice\n")
        if request == "host:devices-l":
            return okay + _block(f"{serial:<22} device product:steadyhand_sim model:Pixel_6_simulated "
                                 f"device:steadyhand_sim transport_id:{TRANSPORT_ID}\n")
        if request in ("host:features", "host:host-features"):
            return okay + _block(FEATURES)
        if request == "host:kill":
            return okay
        if request.startswith("host:connect:"):
            address = request.removeprefix("host:connect:")
            if address == serial:
                return okay + _block(f"already connected to {serial}")
            return okay + _block(f"failed to connect to '{address}': Connection refused")
        if request.startswith("host:disconnect:"):
            return okay + _block(f"no such device '{request.removeprefix('host:disconnect:')}'")
        if request.startswith("host:wait-for-") or request.startswith(f"host-serial:{serial}:wait-for-"):
            return okay + okay
        if request.startswith("host-serial:") or request.startswith("host-transport-id:") or request.startswith(
                "host-local:") or request.startswith("host-usb:"):
            return self._device_query(request)
        transports = {f"host:transport:{serial}": b"", "host:transport-any": b"", "host:transport-local": b"",
                      f"host:transport-id:{TRANSPORT_ID}": b"",
                      f"host:tport:serial:{serial}": struct.pack("<Q", TRANSPORT_ID),
                      "host:tport:any": struct.pack("<Q", TRANSPORT_ID),
                      "host:tport:local": struct.pack("<Q", TRANSPORT_ID),
                      f"host:tport:transport-id:{TRANSPORT_ID}": struct.pack("<Q", TRANSPORT_ID)}
        if request in transports:
            self.request.sendall(okay + transports[request])
            return None
        if request.startswith(("host:transport", "host:tport")):
            return b"FAIL" + _block(f"device '{request.rsplit(':', 1)[-1]}' not found")
        return b"FAIL" + _block(f"unknown host service '{request}'")

    def _device_query(self, request: str) -> bytes:
        serial = self.server.device.serial
        prefix = next((p for p in (f"host-serial:{serial}:", f"host-transport-id:{TRANSPORT_ID}:", "host-local:",
                                   "host-usb:") if request.startswith(p)), None)
        if prefix is None:
            return b"FAIL" + _block(f"device '{request.split(':')[1]}' not found")
        query = request.removeprefix(prefix)
        answers = {"get-state": "device", "get-serialno": serial, "get-devpath": "virtual:steadyhand-simulator",
                   "features": FEATURES}
        if query in answers:
            return b"OKAY" + _block(answers[query])
        if query == "list-forward":
            return b"OKAY" + _block("")
        return b"FAIL" + _block(f"the simulated device does not support '{query}'")

    # --- device services ------------------------------------------------------------------------

    def _device_service(self, sock: socket.socket, request: str, serial: str) -> None:
        name, _, argument = request.partition(":")
        base = name.split(",")[0]
        if base == "shell" and not argument:
            sock.sendall(b"FAIL" + _block("the simulated device has no interactive shell; pass a command"))
            return
        if base in ("shell", "exec"):
            result = self.server.shell().run(argument)
            sock.sendall(b"OKAY")
            if base == "shell" and "v2" in name.split(","):
                packets = b""
                if result.stdout:
                    packets += struct.pack("<BI", _SHELL_STDOUT, len(result.stdout)) + result.stdout
                if result.stderr:
                    packets += struct.pack("<BI", _SHELL_STDERR, len(result.stderr)) + result.stderr
                packets += struct.pack("<BIB", _SHELL_EXIT, 1, result.status & 0xFF)
                sock.sendall(packets)
            else:
                sock.sendall(result.stdout + result.stderr)
            _finish(sock)
        elif request == "sync:":
            sock.sendall(b"OKAY")
            self._sync(sock)
        elif request == "root:":
            sock.sendall(b"OKAY" + b"adbd cannot run as root in production builds\n")
            _finish(sock)
        else:
            sock.sendall(b"FAIL" + _block(f"the simulated device does not support the service '{request}'"))

    def _sync(self, sock: socket.socket) -> None:
        state = self.server.device
        while True:
            header = _read_exact(sock, 8)
            verb, size = header[:4], struct.unpack("<I", header[4:])[0]
            if verb == b"QUIT":
                return
            path = _read_exact(sock, size).decode("utf-8", "replace")
            if verb == b"STAT":
                sock.sendall(b"STAT" + struct.pack("<III", *_stat(state, path)))
            elif verb == b"LIST":
                out = bytearray()
                with contextlib.suppress(FileNotFoundError):
                    for entry, is_dir, length in state.list_dir(path):
                        mode = (stat.S_IFDIR | 0o771) if is_dir else (stat.S_IFREG | 0o660)
                        raw = entry.encode()
                        out += b"DENT" + struct.pack("<IIII", mode, length, int(time.time()), len(raw)) + raw
                sock.sendall(bytes(out) + b"DONE" + bytes(16))
            elif verb == b"RECV":
                try:
                    data = state.read_file(path)
                except (FileNotFoundError, IsADirectoryError) as exc:
                    message = b"No such file or directory" if isinstance(exc, FileNotFoundError) else b"Is a directory"
                    sock.sendall(b"FAIL" + struct.pack("<I", len(message)) + message)
                    continue
                out = bytearray()
                for start in range(0, len(data), SYNC_CHUNK):
                    chunk = data[start:start + SYNC_CHUNK]
                    out += b"DATA" + struct.pack("<I", len(chunk)) + chunk
                sock.sendall(bytes(out) + b"DONE" + bytes(4))
            elif verb == b"SEND":
                self._receive_file(sock, path.rsplit(",", 1)[0])
            else:
                raise ProtocolError(f"unknown sync request {verb!r}")

    def _receive_file(self, sock: socket.socket, path: str) -> None:
        data = bytearray()
        while True:
            header = _read_exact(sock, 8)
            verb, size = header[:4], struct.unpack("<I", header[4:])[0]
            if verb == b"DATA":
                data += _read_exact(sock, size)
            elif verb == b"DONE":
                break
            else:
                raise ProtocolError(f"unexpected {verb!r} while receiving a file")
        try:
            self.server.device.write_file(normalize_path(path), bytes(data))
        except (FileNotFoundError, IsADirectoryError) as exc:
            message = f"couldn't create file: {type(exc).__name__}".encode()
            sock.sendall(b"FAIL" + struct.pack("<I", len(message)) + message)
            return
        sock.sendall(b"OKAY" + bytes(4))


def _stat(state: DeviceState, path: str) -> tuple[int, int, int]:
    full = normalize_path(path)
    now = int(time.time())
    if state.is_dir(full):
        return stat.S_IFDIR | 0o771, 4096, now
    if state.is_file(full):
        return stat.S_IFREG | 0o660, len(state.read_file(full)), state.mtimes.get(full, now)
    return 0, 0, 0


def _finish(sock: socket.socket) -> None:
    """Half-close, then wait briefly for the client to close, so no unread input turns into a reset."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2.0)
        while sock.recv(4096):
            pass


class AdbServer(socketserver.ThreadingTCPServer):
    """The TCP server; ``device`` and ``phone`` are the simulated device it serves."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], device: DeviceState, phone: Phone) -> None:
        self.device = device
        self.phone = phone
        super().__init__(address, _Handler)

    def shell(self) -> Shell:
        """A fresh shell (its own ``$?``) over the device."""
        return Shell(self.device, self.phone, COMMANDS)

    @property
    def port(self) -> int:
        return int(self.server_address[1])
