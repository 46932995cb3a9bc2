"""The desktop's launcher: Super, a name, Enter opens that application or file (Agent S2's ``open``)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from steadyhand.agents.s2.action_api import OpenCall
from steadyhand.environments.desktop.launcher import App, main, openbox_config, resolve
from steadyhand.environments.desktop.providers.local import LocalProvider, missing_programs

EDITOR = App(name="Mousepad", exec="mousepad %U", mime_types=("text/plain",))
CALC = App(name="LibreOffice Calc", exec="libreoffice --calc %U", mime_types=("application/vnd.ms-excel",))


def test_names_resolve_to_applications_then_files(tmp_path: Path) -> None:
    (tmp_path / "Documents").mkdir()
    (tmp_path / "Documents" / "notes.txt").write_text("x")
    (tmp_path / "budget.xls").write_text("x")
    apps = [CALC, EDITOR]
    assert resolve("mousepad", home=tmp_path, apps=apps) == ["mousepad"]
    assert resolve("calc", home=tmp_path, apps=apps) == ["libreoffice", "--calc"]
    assert resolve("LibreOffice Calc", home=tmp_path, apps=apps) == ["libreoffice", "--calc"]
    notes = str(tmp_path / "Documents" / "notes.txt")
    assert resolve("notes.txt", home=tmp_path, apps=apps) == ["mousepad", notes]
    assert resolve("notes", home=tmp_path, apps=apps) == ["mousepad", notes]  # by stem too
    assert resolve("budget.xls", home=tmp_path, apps=apps) == ["libreoffice", "--calc", str(tmp_path / "budget.xls")]
    assert resolve("photo.png", home=tmp_path, apps=apps) is None


def test_script_mode_lists_installed_applications(capsys: pytest.CaptureFixture[str]) -> None:
    if not Path("/usr/share/applications/org.xfce.mousepad.desktop").exists() and shutil.which("mousepad") is None:
        pytest.skip("needs mousepad installed")
    assert main([]) == 0
    assert "Mousepad" in capsys.readouterr().out.splitlines()


@pytest.mark.desktop
def test_super_then_a_name_opens_it_on_a_real_desktop() -> None:
    missing = [*missing_programs(), *(p for p in ("rofi", "mousepad") if shutil.which(p) is None)]
    if missing or openbox_config() is None:
        pytest.skip(f"needs {', '.join(missing) or 'openbox defaults'}")
    provider = LocalProvider()
    try:
        with provider.start(width=1280, height=720).client(timeout_s=60) as client:
            client.upload_file("/home/user/Documents/notes.txt", b"hello\n")
            titles = []
            for name in ("Mousepad", "notes.txt"):
                action = OpenCall(app_or_file=name).compile_desktop({})
                assert client.run_pyautogui(action.code)["status"] == "success"
                deadline = time.monotonic() + 30
                while True:
                    windows = client.execute("wmctrl -l", shell=True).get("output", "")
                    if "Mousepad" in windows and (name != "notes.txt" or "notes.txt" in windows):
                        break
                    assert time.monotonic() < deadline, windows
                    time.sleep(0.5)
                titles.append(windows)
    finally:
        provider.close()
    assert "Untitled" in titles[0] and "/home/user/Documents/notes.txt" in titles[1]
