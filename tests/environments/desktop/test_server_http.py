"""The control server's HTTP layer and PNG encoder, without an X server (routes that need none)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from steadyhand.environments.desktop.client import DesktopClient
from steadyhand.environments.desktop.server.app import ControlServer, HTTPControlServer
from steadyhand.environments.desktop.server.screen import encode_png

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = HTTPControlServer(("127.0.0.1", 0), ControlServer(display=":no-such-display"))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_png_encoder_round_trips_through_pillow() -> None:
    from PIL import Image

    width, height = 7, 3
    rgb = bytes((x * 30 + y * 7 + c * 50) % 256 for y in range(height) for x in range(width) for c in range(3))
    image = Image.open(io.BytesIO(encode_png(rgb, width, height)))
    assert image.size == (width, height) and image.mode == "RGB"
    assert image.tobytes() == rgb


def test_execute_files_and_listing_over_http(server: str, tmp_path: Path) -> None:
    with DesktopClient(server) as client:
        assert client.is_steadyhand()
        assert client.execute(["echo", "hi"]) == {"status": "success", "output": "hi\n", "error": "",
                                                   "returncode": 0}
        assert client.execute("exit 7", shell=True)["returncode"] == 7
        missing = client.execute(["/no/such/program"])
        assert missing["status"] == "error" and missing["returncode"] == -1
        assert client.execute(["sleep", "5"], timeout_s=0.5)["error"].startswith("timed out")
        target = tmp_path / "deep" / "file.bin"
        client.upload_file(str(target), bytes(range(256)) * 10)
        assert target.read_bytes() == bytes(range(256)) * 10
        assert client.get_file(str(target)) == bytes(range(256)) * 10
        with pytest.raises(FileNotFoundError):
            client.get_file(str(tmp_path / "nope"))
        assert client.list_directory(str(tmp_path))["children"][0]["name"] == "deep"
        assert client.run_bash_script("echo $((6*7))")["output"] == "42\n"
        assert client.platform() == "Linux"


def test_bad_requests_get_clear_errors(server: str) -> None:
    assert httpx.get(f"{server}/nowhere").status_code == 404
    assert httpx.get(f"{server}/execute").status_code == 405
    bad = httpx.post(f"{server}/execute", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and "not JSON" in bad.json()["message"]
    assert httpx.post(f"{server}/execute", json={"command": []}).status_code == 400
    assert httpx.post(f"{server}/setup/upload", data={"file_path": "/tmp/x"}).status_code == 400
    assert httpx.post(f"{server}/pyautogui", json={"code": 5}).status_code == 400
    assert "syntax error" in httpx.post(f"{server}/pyautogui", json={"code": "pyautogui.click("}).json()["error"]
    # X is unavailable: an error answer, and the server keeps serving.
    assert httpx.get(f"{server}/screenshot").status_code == 500
    assert httpx.post(f"{server}/execute", json={"command": ["true"]}).status_code == 200
