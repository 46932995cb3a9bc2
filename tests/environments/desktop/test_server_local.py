"""The control server on a real local desktop: Xvfb, openbox, real apps, no mocks."""

from __future__ import annotations

import shutil
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest

from steadyhand.core.errors import EnvironmentFault
from steadyhand.environments.desktop.actions import ActionCodeError
from steadyhand.environments.desktop.client import DesktopClient
from steadyhand.environments.desktop.providers.local import LocalDesktop, LocalProvider, missing_programs

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(bool(missing_programs()), reason=f"local desktops need {', '.join(missing_programs())}"),
]


@pytest.fixture(scope="module")
def desktop() -> Iterator[LocalDesktop]:
    provider = LocalProvider()
    desk = provider.start(width=1280, height=720)
    try:
        yield desk
    finally:
        provider.close()


@pytest.fixture(scope="module")
def client(desktop: LocalDesktop) -> Iterator[DesktopClient]:
    with desktop.client() as c:
        yield c


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw RGB rows (filter bytes removed) of an unfiltered 8-bit RGB PNG."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    return width, height, b"".join(raw[r * stride + 1:(r + 1) * stride] for r in range(height))


def pixel(rgb: bytes, width: int, x: int, y: int) -> tuple[int, ...]:
    i = (y * width + x) * 3
    return tuple(rgb[i:i + 3])


def wait_for(predicate: Callable[[], object], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_protocol_basics(client: DesktopClient) -> None:
    assert client.is_steadyhand()
    assert client.screen_size() == (1280, 720)
    assert client.platform() == "Linux"
    result = client.execute("echo $HOME; printf err >&2; exit 3", shell=True)
    assert result["output"].splitlines()[0] in ("/home/user", result["output"].splitlines()[0])
    assert (result["error"], result["returncode"]) == ("err", 3)
    assert client.execute(["echo", "a b"])["output"] == "a b\n"


def test_screenshot_is_a_png_of_the_screen_with_the_cursor(client: DesktopClient) -> None:
    client.run_pyautogui("pyautogui.moveTo(600, 300)")
    width, height, rgb = decode_png(client.screenshot())
    assert (width, height) == (1280, 720)
    # The background is black; the composited pointer draws non-black pixels at its hotspot.
    near_cursor = [pixel(rgb, width, 600 + dx, 300 + dy) for dx in range(12) for dy in range(18)]
    assert any(p != (0, 0, 0) for p in near_cursor)
    assert all(pixel(rgb, width, 100 + dx, 600) == (0, 0, 0) for dx in range(20))


def test_pointer_actions_run_in_process(client: DesktopClient) -> None:
    client.run_pyautogui("import pyautogui\nfor i in range(3):\n    pyautogui.moveTo(100 + i * 10, 50)")
    assert client.cursor_position() == (120, 50)


def test_a_click_returns_only_once_a_frozen_pointer_let_it_through(client: DesktopClient,
                                                                  desktop: LocalDesktop) -> None:
    """A window manager with click-to-focus (openbox) grabs presses synchronously: the pointer stays
    frozen, later events queued, until it replays the press. A click action must not return before its
    release went through, or the next press of a double-click or the next keys overtake it."""
    from Xlib import X
    from Xlib.display import Display

    wm = Display(desktop.display)  # plays the window manager: a synchronous grab on every left press
    root = wm.screen().root
    root.grab_button(1, X.AnyModifier, True, X.ButtonPressMask, X.GrabModeSync, X.GrabModeAsync, X.NONE, X.NONE)
    wm.sync()
    clicked = threading.Event()
    errors: list[Exception] = []

    def click() -> None:
        try:
            client.run_pyautogui("pyautogui.click(5, 5)")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            clicked.set()

    thread = threading.Thread(target=click)
    thread.start()
    try:
        while not wm.pending_events() and not clicked.is_set():  # the press reaches the grab, or the click failed
            time.sleep(0.01)
        assert not errors
        press = wm.next_event()
        assert press.type == X.ButtonPress and press.detail == 1
        assert not clicked.is_set(), "the click returned while its release was still queued behind the grab"
        wm.allow_events(X.ReplayPointer, X.CurrentTime)  # the press goes on to the window under the pointer
        wm.sync()
        thread.join()
    finally:
        root.ungrab_button(1, X.AnyModifier)
        wm.close()  # also ends the grab if an assertion failed while it was held
        thread.join()
    assert not errors


def test_malformed_code_is_rejected_by_client_and_server(client: DesktopClient, desktop: LocalDesktop) -> None:
    with pytest.raises(ActionCodeError, match="'os'"):
        client.run_pyautogui("import os\nos.system('touch /tmp/pwned')")
    # Bypass the client's own check: the server refuses on its own.
    import httpx

    response = httpx.post(f"{desktop.url}/pyautogui", json={"code": "__import__('os').system('touch /tmp/x')"})
    assert response.status_code == 400 and "only allowed" in response.json()["error"]
    with pytest.raises(ActionCodeError, match="unknown key 'notakey'"):
        client.run_pyautogui("pyautogui.press('notakey')")
    with pytest.raises(ActionCodeError, match="loop at most"):
        client.run_pyautogui("for i in range(5000):\n    pyautogui.position()")


def test_files_upload_download_and_listing(client: DesktopClient) -> None:
    client.upload_file("~/Documents/sub/data.bin", b"\x00\x01binary\xff")
    assert client.get_file("~/Documents/sub/data.bin") == b"\x00\x01binary\xff"
    with pytest.raises(FileNotFoundError):
        client.get_file("~/missing.txt")
    tree = client.list_directory("~/Documents")
    assert tree["children"][0]["name"] == "sub"
    assert tree["children"][0]["children"] == [{"type": "file", "name": "data.bin"}]
    with pytest.raises(FileNotFoundError):
        client.list_directory("~/nope")


def test_run_python_and_bash(client: DesktopClient) -> None:
    assert client.run_python("print(6 * 7)")["output"] == "42\n"
    assert client.run_python("raise SystemExit(4)")["status"] == "error"
    result = client.run_bash_script("cd ~ && pwd && echo $((2+3))")
    assert result["returncode"] == 0 and result["output"].split()[-1] == "5"


@pytest.mark.skipif(shutil.which("xterm") is None, reason="needs xterm")
def test_typing_special_characters_into_a_terminal(client: DesktopClient) -> None:
    client.launch(["xterm", "-geometry", "100x20+0+0", "-title", "typing-test"])
    assert wait_for(lambda: "typing-test" in client.execute(["wmctrl", "-l"])["output"])
    client.activate_window("typing-test")
    client.run_pyautogui("pyautogui.click(200, 100)")
    client.run_pyautogui("pyautogui.write('echo \"<a> & héllo → ok\" > ~/typed.txt\\n')")
    assert wait_for(lambda: client.execute("cat ~/typed.txt", shell=True)["output"] == "<a> & héllo → ok\n")
    client.close_window("typing-test")
    assert wait_for(lambda: "typing-test" not in client.execute(["wmctrl", "-l"])["output"])
    with pytest.raises(EnvironmentFault, match="not found"):
        client.activate_window("no-such-window-anywhere")


@pytest.mark.skipif(shutil.which("mousepad") is None, reason="needs mousepad")
def test_edit_in_mousepad_and_read_its_accessibility_tree(client: DesktopClient) -> None:
    client.upload_file("~/notes.txt", b"")
    client.open_file("~/notes.txt")
    client.activate_window("notes.txt")
    client.run_pyautogui("pyautogui.write('Zürich <tag>\\nline two')\npyautogui.hotkey('ctrl', 's')")
    assert wait_for(lambda: client.get_file("~/notes.txt") == "Zürich <tag>\nline two".encode())
    tree = client.accessibility_tree()
    assert tree.startswith("<desktop-frame") and 'xmlns:st="https://accessibility.ubuntu.example.org/ns/state"' in tree
    assert '<application name="mousepad"' in tree and "Zürich &lt;tag&gt;" in tree
    client.close_window("notes.txt")


def test_many_screenshots_keep_x_clients_and_fds_flat(client: DesktopClient, desktop: LocalDesktop) -> None:
    from Xlib.display import Display

    display = Display(desktop.display)
    try:
        before_clients = len(display.res_query_clients().clients)
        before = client._request("GET", "/stats").json()
        for _ in range(300):
            client.screenshot()
        for i in range(100):
            client.run_pyautogui(f"pyautogui.moveTo({i}, {i})")
        after = client._request("GET", "/stats").json()
        assert after["fds"] <= before["fds"] + 2
        assert len(display.res_query_clients().clients) <= before_clients  # no connection per call
    finally:
        display.close()


def test_recording_makes_an_mp4(client: DesktopClient) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("recording needs ffmpeg")
    client.start_recording()
    client.run_pyautogui("pyautogui.moveTo(10, 10)\ntime.sleep(1)\npyautogui.moveTo(500, 500)")
    video = client.end_recording()
    assert video[4:8] == b"ftyp"


@pytest.mark.skipif(shutil.which("xfce4-terminal") is None, reason="needs a VTE terminal (xfce4-terminal)")
def test_terminal_text_comes_from_the_focused_terminal(client: DesktopClient) -> None:
    assert client.terminal() is None  # no terminal open
    client.launch(["xfce4-terminal", "--disable-server", "--title", "term-test"])
    assert wait_for(lambda: "term-test" in client.execute(["wmctrl", "-l"])["output"])
    client.activate_window("term-test")
    client.run_pyautogui("pyautogui.write('echo $((40 + 2))\\n')")
    assert wait_for(lambda: "\n42" in (client.terminal() or ""))
    client.close_window("term-test")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice Calc")
def test_calc_renders_with_gtk3_and_its_cells_are_not_walked(client: DesktopClient) -> None:
    client.upload_file("~/cells.csv", b"alpha,1\nbeta,2\n")
    client.launch(["soffice", "--calc", "--norestore", "--infilter=CSV:44,34,76,1", "/home/user/cells.csv"])
    assert wait_for(lambda: "cells.csv - LibreOffice Calc" in client.execute(["wmctrl", "-l"])["output"], 90)
    tree = ""

    def has_sheet() -> bool:
        nonlocal tree
        tree = client.accessibility_tree()
        return "<document-spreadsheet" in tree

    assert wait_for(has_sheet, 60)
    assert "<table-cell" not in tree  # the sheet's million cells are never walked
    assert 'attr:toolkit="VCL"' in tree or "LibreOffice Calc" in tree
    client.close_window("cells.csv - LibreOffice Calc")
