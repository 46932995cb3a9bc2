"""Desktop providers: local desktops side by side with clean teardown, remote by URL, docker containers."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable

import pytest

from steadyhand.core.errors import ConfigurationError, EnvironmentFault
from steadyhand.environments.desktop.providers import get_provider
from steadyhand.environments.desktop.providers.local import LocalProvider, missing_programs
from steadyhand.environments.desktop.providers.remote import RemoteProvider

needs_x = pytest.mark.skipif(bool(missing_programs()), reason=f"local desktops need {', '.join(missing_programs())}")


def wait_for(predicate: Callable[[], object], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.unit
def test_unknown_provider_and_bad_urls_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="unknown desktop provider 'qemu'"):
        get_provider("qemu")
    with pytest.raises(ConfigurationError, match="http://"):
        RemoteProvider(url="localhost:5000")
    with pytest.raises(ConfigurationError, match="sandbox must be"):
        LocalProvider(sandbox="chroot")


@pytest.mark.unit
def test_remote_server_that_never_answers_is_an_environment_fault() -> None:
    with pytest.raises(EnvironmentFault, match="not ready"):
        RemoteProvider(url="http://127.0.0.1:9", ready_timeout_s=1).start()


@pytest.mark.desktop
@needs_x
def test_two_local_desktops_side_by_side_and_teardown_kills_everything() -> None:
    provider = LocalProvider()
    first = provider.start(width=800, height=600)
    second = provider.start(width=1024, height=768)
    try:
        assert first.display != second.display and first.url != second.url
        with first.client() as a, second.client() as b:
            assert a.screen_size() == (800, 600) and b.screen_size() == (1024, 768)
            a.upload_file("~/only-here.txt", b"1")
            with pytest.raises(FileNotFoundError):
                b.get_file("~/only-here.txt")
            a.launch(["xterm"])
            assert wait_for(lambda: "xterm" in a.execute(["wmctrl", "-lx"])["output"].lower())
        pids = first.pids()
        assert len(pids) >= 4  # session, dbus, Xvfb, openbox, xterm...
        assert first.stats()["rss_mb"] > 10
        first.close()
        assert not any(running(pid) for pid in pids)
        assert not first.root.exists()
        assert second.alive()  # the other desktop is untouched
    finally:
        provider.close()
    assert not second.alive()


@pytest.mark.desktop
@needs_x
def test_remote_provider_drives_an_existing_server() -> None:
    local = LocalProvider()
    desktop = local.start()
    try:
        remote = get_provider("remote", url=desktop.url)
        handle = remote.start()
        assert (handle.width, handle.height) == (1280, 720) and handle.alive()
        with handle.client() as client:
            assert client.platform() == "Linux"
        handle.close()  # not ours: the server keeps running
        assert desktop.alive()
    finally:
        local.close()
    assert not handle.alive()


def _docker_ready() -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "no Docker daemon answers (bash scripts/dockerd.sh)"
    return None


@pytest.mark.docker
@pytest.mark.skipif(_docker_ready() is not None, reason=str(_docker_ready()))
def test_docker_desktop_container_runs_the_server_and_is_removed() -> None:
    provider = get_provider("docker")
    desktop = provider.start(width=1280, height=720)
    name = desktop.name  # type: ignore[attr-defined]
    try:
        with desktop.client() as client:
            assert client.is_steadyhand() and client.screen_size() == (1280, 720)
            assert client.execute("echo $HOME", shell=True)["output"] == "/home/user\n"
            client.launch(["xterm", "-geometry", "80x20+0+0", "-title", "docker-typing"])
            assert wait_for(lambda: "docker-typing" in client.execute(["wmctrl", "-l"])["output"])
            client.run_pyautogui("pyautogui.click(100, 100)\npyautogui.write('echo \"<é>\" > ~/d.txt\\n')")
            assert wait_for(lambda: client.execute("cat ~/d.txt", shell=True)["output"] == "<é>\n")
            assert client.screenshot().startswith(b"\x89PNG")
    finally:
        provider.close()
    inspect = subprocess.run(["docker", "inspect", name], capture_output=True)
    assert inspect.returncode != 0  # the container is gone


@pytest.mark.desktop
@needs_x
def test_a_python_under_tmp_or_home_still_runs_the_sandboxed_session(tmp_path_factory: pytest.TempPathFactory) -> None:
    """bubblewrap puts empty tmpfs over /tmp and /home: a venv there must be bound back in."""
    import site
    import sys

    from steadyhand.environments.desktop.providers.local import bubblewrap_works

    if not bubblewrap_works():
        pytest.skip("needs bubblewrap")
    venv = tmp_path_factory.mktemp("venv-under-tmp")
    assert str(venv).startswith("/tmp/")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    [packages] = list(venv.glob("lib/python3*/site-packages"))
    ours = ";".join(f"site.addsitedir({p!r})" for p in site.getsitepackages())
    (packages / "steadyhand-host.pth").write_text(f"import site; {ours}\n")
    provider = LocalProvider(python=str(venv / "bin" / "python"), sandbox="bwrap")
    try:
        desktop = provider.start(width=800, height=600)
        with desktop.client(timeout_s=30) as client:
            assert client.screen_size() == (800, 600)
    finally:
        provider.close()
