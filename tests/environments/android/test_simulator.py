"""The simulated device through real ADB clients: adbutils, the adb binary, and raw sockets.

The simulated device stands in for an Android emulator, which cannot run here (no
system image); these tests pin down that it speaks the ADB wire protocol as clients
expect, and that its shell and apps behave as the environment relies on.
"""

from __future__ import annotations

import io
import socket
import struct
import subprocess
from pathlib import Path

import adbutils
import pytest
from PIL import Image

from steadyhand.environments.android.device import AdbCommandError, AndroidDevice, Endpoint, adb_client
from steadyhand.environments.android.providers.simulated import SimulatedProvider
from steadyhand.environments.android.uiautomator import screen_elements


def _raw(endpoint: Endpoint, *requests: str) -> bytes:
    """Send smart-socket requests on one connection and read until it closes."""
    with socket.create_connection((endpoint.host, endpoint.port), timeout=10) as sock:
        for request in requests:
            sock.sendall(f"{len(request):04x}{request}".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_host_services(endpoint: Endpoint) -> None:
    client = adb_client(endpoint.host, endpoint.port)
    assert client.server_version() == 41
    assert [(d.serial, d.state) for d in client.list()] == [(endpoint.serial, "device")]
    assert client.list(extended=True)[0].tags["transport_id"] == "1"
    device = client.device(endpoint.serial)
    assert (device.get_state(), device.get_serialno()) == ("device", endpoint.serial)
    assert "shell_v2" in device.get_features()


def test_protocol_answers_on_the_wire(endpoint: Endpoint) -> None:
    assert _raw(endpoint, "host:version") == b"OKAY00040029"
    assert _raw(endpoint, "host:nonsense").startswith(b"FAIL") and b"unknown host service" in _raw(
        endpoint, "host:nonsense")
    assert _raw(endpoint, "host:transport:nope").startswith(b"FAIL")
    # tport answers OKAY and the 8-byte transport id, then the device service runs on the same socket
    reply = _raw(endpoint, f"host:tport:serial:{endpoint.serial}", "shell,v2,raw:echo hi; exit_is_127")
    assert reply[:4] == b"OKAY" and struct.unpack("<Q", reply[4:12]) == (1,) and reply[12:16] == b"OKAY"
    packets = reply[16:]
    assert packets[:5] == struct.pack("<BI", 1, 3) and packets[5:8] == b"hi\n"
    assert packets[-6:] == struct.pack("<BIB", 3, 1, 127)  # exit packet last: the unknown command's status


def test_shell_v1_v2_and_syntax(device: AndroidDevice) -> None:
    raw = adbutils.AdbClient(host=device.endpoint.host, port=device.endpoint.port).device(device.endpoint.serial)
    assert raw.shell("echo 'a  b' \"c\"; false || echo $?; true && echo ok") == "a  b c\n1\nok"
    assert device.run(["ls", "/no/such"]) == (1, "ls: /no/such: No such file or directory\n")
    with pytest.raises(AdbCommandError, match="status 127"):
        device.shell("frobnicate")
    device.shell("mkdir -p /sdcard/t && echo one > /sdcard/t/f && echo two >> /sdcard/t/f")
    assert device.shell(["cat", "/sdcard/t/f"]) == "one\ntwo\n"
    assert device.shell("cat /sdcard/t/f | grep -c o") == "2\n"
    assert device.run("echo 'unterminated")[0] == 2


def test_sync_push_pull_stat_list(device: AndroidDevice) -> None:
    device.write_file("/sdcard/Download/x.bin", bytes(range(256)) * 1000)
    assert device.read_file("/sdcard/Download/x.bin") == bytes(range(256)) * 1000
    sync = adbutils.AdbClient(host=device.endpoint.host, port=device.endpoint.port).device(
        device.endpoint.serial).sync
    assert sync.stat("/sdcard/Download/x.bin").size == 256000
    assert "x.bin" in [f.path for f in sync.list("/sdcard/Download")]
    with pytest.raises(FileNotFoundError):
        device.read_file("/sdcard/none.txt")


def test_screencap_is_a_png_of_the_screen_and_the_dump_matches_it(device: AndroidDevice) -> None:
    image = Image.open(io.BytesIO(device.screenshot()))
    assert image.format == "PNG" and image.size == device.screen_size() == (1080, 2400)
    labels = {e.label for e in screen_elements(device.ui_dump())}
    assert {"Settings", "Notes", "Contacts"} <= labels  # the launcher's icons


def test_input_changes_the_apps_and_adb_sees_it(device: AndroidDevice) -> None:
    device.shell(["settings", "put", "global", "bluetooth_on", "0"])
    device.shell(["am", "start", "-n", "com.android.settings/.Settings"])
    assert device.foreground() == ("com.android.settings", "com.android.settings.Settings")
    row = next(e for e in screen_elements(device.ui_dump()) if e.text == "Connected devices")
    device.shell(["input", "tap", *map(str, row.center)])
    switch = next(e for e in screen_elements(device.ui_dump()) if e.short_class == "Switch")
    assert not switch.checked
    device.shell(["input", "tap", *map(str, switch.center)])
    assert device.get_setting("global", "bluetooth_on") == "1"
    device.shell(["input", "keyevent", "KEYCODE_HOME"])
    assert device.foreground()[0] == "com.android.launcher3"


def test_input_text_refuses_what_a_virtual_keyboard_cannot_type(device: AndroidDevice) -> None:
    status, output = device.run(["input", "text", "caf\u00e9"])
    assert status == 1 and "no key for 'é'" in output


def test_settings_and_content_providers(device: AndroidDevice) -> None:
    device.shell(["settings", "put", "system", "screen_off_timeout", "30000"])
    assert device.get_setting("system", "screen_off_timeout") == "30000"
    assert device.get_setting("global", "no_such_key") is None
    rows = device.content_query("content://settings/system", where="name='screen_off_timeout'")
    assert [r["value"] for r in rows] == ["30000"]
    uri = "content://com.android.contacts/data/phones"
    device.shell(["content", "delete", "--uri", uri])
    device.shell(["content", "insert", "--uri", uri, "--bind", "display_name:s:Ada, Countess", "--bind",
                  "number:s:555"])
    assert device.content_query(uri, projection=["display_name", "number"]) == [
        {"display_name": "Ada, Countess", "number": "555"}]
    assert device.content_query(uri, where="display_name LIKE 'Bob%'") == []
    with pytest.raises(AdbCommandError, match="Unknown URI"):
        device.content_query("content://nope")
    with pytest.raises(AdbCommandError, match="SQLiteException"):
        device.content_query(uri, where="display_name = = 1")


def test_packages(device: AndroidDevice) -> None:
    assert {"com.android.settings", "com.example.notes", "com.android.contacts"} <= set(device.packages())


def test_the_adb_command_line_client_works_against_it(endpoint: Endpoint) -> None:
    """The adb binary adbutils bundles is an independent client of the same protocol."""
    adb = Path(adbutils.adb_path())
    if not adb.exists():
        pytest.skip("adbutils has no bundled adb binary on this platform")
    base = [str(adb), "-P", str(endpoint.port), "-s", endpoint.serial]
    done = subprocess.run([*base, "shell", "getprop", "ro.product.model", "&&", "ls", "/nope"], capture_output=True,
                          timeout=60)
    assert done.stdout == b"Pixel 6 (simulated)\n" and b"No such file" in done.stderr and done.returncode == 1
    png = subprocess.run([*base, "exec-out", "screencap -p"], capture_output=True, timeout=60).stdout
    assert Image.open(io.BytesIO(png)).size == (1080, 2400)


def test_a_provider_stops_its_child_by_pid() -> None:
    provider = SimulatedProvider(serial="emulator-5556")
    endpoint = provider.start()
    pid = provider.pid
    assert pid is not None and Path(f"/proc/{pid}").exists()
    assert adb_client(endpoint.host, endpoint.port).list()[0].serial == "emulator-5556"
    provider.close()
    assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(OSError):
        socket.create_connection((endpoint.host, endpoint.port), timeout=2)
