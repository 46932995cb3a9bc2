"""Leftovers of a crashed run (killed with SIGKILL, so no close()) are removed by cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steadyhand.sandboxes import _host
from steadyhand.sandboxes.cli import images_app, sandbox_app
from steadyhand.sandboxes.local import bwrap_path, cleanup_local

CRASH = """
import json, os, sys, time
from steadyhand.sandboxes import open_sandbox
options = json.loads(sys.argv[2])
box = open_sandbox(sys.argv[1], **options)
box.write_file("x.txt", "left behind")
print(json.dumps({"id": box.id, "name": getattr(getattr(box, "container", None), "name", None)}), flush=True)
time.sleep(600)
"""


def _crash(provider: str, **options: object) -> dict[str, str]:
    proc = subprocess.Popen([sys.executable, "-c", CRASH, provider, json.dumps(options)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    info: dict[str, str] = json.loads(line)
    return info


def test_local_leftovers_are_removed() -> None:
    if bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    info = _crash("local")
    folder = _host.state_root() / info["id"]
    assert folder.is_dir()
    owner = json.loads((folder / "owner.json").read_text())
    removed = cleanup_local()
    assert info["id"] in removed
    assert not folder.exists() and not os.path.ismount(folder / "fs")
    assert not any(Path(p).exists() for p in owner["cgroups"])
    assert _host.pids_of_uid(owner["uid"]) == []


def test_cleanup_keeps_sandboxes_whose_owner_lives() -> None:
    if bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    from steadyhand.sandboxes import open_sandbox

    with open_sandbox("local") as box:
        assert box.id not in cleanup_local()  # type: ignore[attr-defined]
        assert box.exec(["true"]).ok


@pytest.mark.docker
def test_docker_leftovers_are_removed(python_image: str) -> None:
    from steadyhand.sandboxes.container import cleanup_docker, docker_client

    info = _crash("docker", image=python_image)
    client = docker_client()
    assert client.containers.get(info["name"]).status == "running"
    for _ in range(100):  # the owner's death is seen through /proc at once; be patient anyway
        removed = cleanup_docker()
        if info["name"] in removed:
            break
        time.sleep(0.05)
    assert info["name"] in removed
    assert not client.containers.list(all=True, filters={"name": info["name"]})


def test_cli_cleanup_and_image_listing() -> None:
    runner = CliRunner()
    result = runner.invoke(sandbox_app, ["cleanup", "--provider", "local"])
    assert result.exit_code == 0 and result.output.startswith("local: removed")
    bad = runner.invoke(sandbox_app, ["cleanup", "--provider", "nowhere"])
    assert bad.exit_code != 0
    listing = runner.invoke(images_app, ["list"])
    assert listing.exit_code == 0 and "python" in listing.output
    unknown = runner.invoke(images_app, ["build", "nonesuch"])
    assert unknown.exit_code != 0 and "unknown image" in unknown.output
