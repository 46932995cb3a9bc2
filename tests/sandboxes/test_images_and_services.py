"""Offline images: hashes, reuse on rebuild, and the PostgreSQL image serving on 127.0.0.1."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from steadyhand.sandboxes import images


@pytest.mark.unit
def test_definition_hash_follows_every_file(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "Dockerfile").write_text("FROM x\n")
    first = images.definition_hash("demo", "base1", tmp_path)
    assert images.definition_hash("demo", "base1", tmp_path) == first
    assert images.definition_hash("demo", "base2", tmp_path) != first
    (tmp_path / "demo" / "extra.sh").write_text("echo\n")
    assert images.definition_hash("demo", "base1", tmp_path) != first


@pytest.mark.unit
def test_the_mirror_comes_from_apt_configuration() -> None:
    if not Path("/etc/apt").is_dir():
        pytest.skip("not a Debian-like host")
    source = images.host_debian_source()
    assert source.codename and source.mirror.startswith(("http://", "https://", "file:"))
    configured = "".join(p.read_text() for p in Path("/etc/apt").rglob("*.sources")) + \
        (Path("/etc/apt/sources.list").read_text() if Path("/etc/apt/sources.list").exists() else "")
    assert source.mirror in configured


@pytest.mark.unit
def test_every_image_has_a_definition() -> None:
    root = images.docker_dir()
    for name in images.IMAGE_NAMES:
        text = (root / name / "Dockerfile").read_text()
        assert "FROM ${BASE_IMAGE}" in text and "useradd -u 1000" in text


@pytest.mark.docker
def test_building_twice_reuses_the_image(python_image: str) -> None:
    said: list[str] = []
    assert images.build_image("python", progress=said.append) == python_image
    assert any("exists; reusing" in line for line in said)
    assert not any(line.startswith("building") for line in said)
    assert images.image_exists("steadyhand/python:latest")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.docker
def test_postgres_image_serves_on_loopback(postgres_image: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    from steadyhand.sandboxes.container import postgres_sandbox

    port = _free_port()
    box, url = postgres_sandbox(port, image=postgres_image)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            assert conn.execute("select 6 * 7").fetchone() == (42,)
            assert conn.execute("show listen_addresses").fetchone() == ("127.0.0.1",)
        assert box.read_text("pgdata/PG_VERSION").strip().isdigit()
        # The server is the container's main command: a call's clean-up leaves it running.
        assert box.exec(["pg_isready", "-h", "127.0.0.1", "-p", str(port)]).ok
    finally:
        box.close()


@pytest.mark.docker
def test_a_failing_definition_names_the_step(python_image: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "python").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "python" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "broken" / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo about-to-fail && false\n")
    monkeypatch.setenv("STEADYHAND_DOCKER_DIR", str(tmp_path))
    monkeypatch.setattr(images, "IMAGE_NAMES", (*images.IMAGE_NAMES, "broken"))
    with pytest.raises(images.SandboxUnavailableError, match=r"(?s)failed.*about-to-fail"):
        images.build_image("broken")
    with pytest.raises(images.SandboxUnavailableError, match="unknown image 'nope'"):
        images.build_image("nope")
