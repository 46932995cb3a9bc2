"""Offline Docker images for the sandboxes: a debootstrap base plus the definitions under ``docker/``.

No registry is reachable, so nothing is pulled. :func:`build_image` makes

1. a Debian root file system with ``debootstrap`` from the mirror apt already uses
   (read from ``/etc/apt/sources.list*``), cached as a tarball under
   ``~/.cache/steadyhand/images``, imported with ``docker import`` as
   ``steadyhand/debian-base:<hash>``;
2. ``steadyhand/<name>:<hash>`` from ``docker/<name>/Dockerfile`` with the classic
   builder (``DOCKER_BUILDKIT=0 docker build --network host``), on top of that base.

Every tag carries a content hash of its inputs (the base recipe; the definition's
files and the base hash), also stored as the label ``org.steadyhand.content-hash``.
Building again reuses an image whose hash tag exists, so a second build is a no-op;
``steadyhand/<name>:latest`` always points at the newest build.

Building needs root (debootstrap), the ``docker`` CLI and a running daemon
(``scripts/dockerd.sh``). Progress goes to stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from steadyhand.sandboxes.base import SandboxUnavailableError

#: Images the project defines (``docker/<name>/Dockerfile``).
IMAGE_NAMES: tuple[str, ...] = ("python", "postgres", "desktop")
REPOSITORY = "steadyhand"
HASH_LABEL = "org.steadyhand.content-hash"
# Bump when the base recipe changes in a way the inputs below do not capture.
_BASE_RECIPE_VERSION = "1"
_BASE_INCLUDE = ("ca-certificates",)


def _log(message: str) -> None:
    print(f"images: {message}", file=sys.stderr, flush=True)


def docker_dir() -> Path:
    """The folder holding the image definitions.

    ``STEADYHAND_DOCKER_DIR`` wins; otherwise the ``docker/`` folder of the source
    checkout this package is installed from.

    Raises:
        SandboxUnavailableError: no such folder (a non-editable install without the sources).
    """
    env = os.environ.get("STEADYHAND_DOCKER_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "docker")
    for path in candidates:
        if (path / "python" / "Dockerfile").is_file():
            return path
    raise SandboxUnavailableError(
        f"no image definitions found (looked in {', '.join(map(str, candidates))}); "
        "set STEADYHAND_DOCKER_DIR to the repository's docker/ folder"
    )


def cache_dir() -> Path:
    """Where base tarballs are cached (``STEADYHAND_CACHE`` or ``~/.cache/steadyhand``)."""
    root = Path(os.environ.get("STEADYHAND_CACHE", Path.home() / ".cache" / "steadyhand"))
    return root / "images"


@dataclass(frozen=True)
class DebianSource:
    """The Debian release and mirrors the host's apt uses."""

    codename: str
    mirror: str
    security: str | None


def host_debian_source() -> DebianSource:
    """Read the host's Debian codename and mirror URLs from apt's configuration.

    Raises:
        SandboxUnavailableError: the host is not Debian-like or no Debian mirror is configured.
    """
    codename = ""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                codename = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    if not codename:
        raise SandboxUnavailableError("cannot tell the Debian release from /etc/os-release")
    entries: list[tuple[str, list[str]]] = []  # (uri, suites)
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(
                    (key.strip().lower(), value.strip())
                    for key, _, value in (
                        line.partition(":") for line in stanza.splitlines() if ":" in line
                        and not line.lstrip().startswith("#")
                    )
                )
                if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
                    for uri in fields.get("uris", "").split():
                        entries.append((uri, fields.get("suites", "").split()))
        elif path.suffix == ".list" or path.name == "sources.list":
            for line in text.splitlines():
                parts = re.sub(r"\[[^]]*\]", "", line).split()
                if len(parts) >= 3 and parts[0] == "deb":
                    entries.append((parts[1], [parts[2]]))
    mirror = next((u for u, suites in entries if codename in suites), None)
    security = next((u for u, suites in entries if f"{codename}-security" in suites), None)
    if mirror is None:
        raise SandboxUnavailableError(f"no Debian mirror for {codename!r} in /etc/apt/sources.list*")
    return DebianSource(codename=codename, mirror=mirror.rstrip("/"), security=security)


def _sha(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def base_hash(source: DebianSource) -> str:
    """Content hash of the base recipe."""
    return _sha({"v": _BASE_RECIPE_VERSION, "src": source.__dict__, "include": _BASE_INCLUDE,
                 "variant": "minbase"})


def definition_hash(name: str, base: str, root: Path | None = None) -> str:
    """Content hash of ``docker/<name>/`` (every file's path and bytes) plus the base hash."""
    folder = (root or docker_dir()) / name
    digest = hashlib.sha256(base.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _docker() -> str:
    exe = shutil.which("docker")
    if exe is None:
        raise SandboxUnavailableError("the docker CLI is not installed (apt-get install docker.io)")
    return exe


def _run(argv: list[str], *, env: dict[str, str] | None = None, quiet: bool = False) -> str:
    """Run a build step; unless ``quiet``, stream its output to stderr as progress."""
    if quiet:
        proc = subprocess.run(argv, env=env, text=True, capture_output=True)
        if proc.returncode != 0:
            raise SandboxUnavailableError(
                f"{' '.join(argv[:3])} ... failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")
        return proc.stdout
    tail: list[str] = []
    with subprocess.Popen(argv, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          errors="replace") as stream:
        assert stream.stdout is not None
        for line in stream.stdout:
            print(f"  | {line.rstrip()}", file=sys.stderr, flush=True)
            tail = [*tail[-29:], line.rstrip()]
    if stream.returncode != 0:
        raise SandboxUnavailableError(f"{' '.join(argv[:3])} ... failed ({stream.returncode}):\n"
                                      + "\n".join(tail))
    return "\n".join(tail)


def image_exists(tag: str) -> bool:
    """Whether the daemon has an image called ``tag``.

    Raises:
        SandboxUnavailableError: no daemon answers.
    """
    proc = subprocess.run([_docker(), "image", "inspect", "--format", "{{.Id}}", tag],
                          capture_output=True, text=True)
    if proc.returncode == 0:
        return True
    if "No such image" in proc.stderr or "No such object" in proc.stderr:
        return False
    raise SandboxUnavailableError(f"docker image inspect failed: {proc.stderr.strip()}")


def _sources_list(source: DebianSource) -> str:
    lines = [f"deb {source.mirror} {source.codename} main",
             f"deb {source.mirror} {source.codename}-updates main"]
    if source.security:
        lines.append(f"deb {source.security} {source.codename}-security main")
    return "\n".join(lines) + "\n"


def base_tarball(source: DebianSource, *, progress: Callable[[str], None] = _log) -> Path:
    """The cached debootstrap tarball for ``source``, made first if missing.

    Raises:
        SandboxUnavailableError: not root, debootstrap missing, or debootstrap failed.
    """
    tarball = cache_dir() / f"debian-{source.codename}-minbase-{base_hash(source)}.tar"
    if tarball.is_file():
        progress(f"reusing cached base root file system {tarball}")
        return tarball
    if os.geteuid() != 0:
        raise SandboxUnavailableError("building the base image needs root (debootstrap)")
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailableError("debootstrap is not installed (apt-get install debootstrap)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="steadyhand-debootstrap-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        progress(f"debootstrap {source.codename} from {source.mirror} (a few minutes, once)")
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(_BASE_INCLUDE)}",
              source.codename, str(rootfs), source.mirror])
        (rootfs / "etc/apt/sources.list").write_text(_sources_list(source))
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / junk).glob("*"):
                if item.is_file():
                    item.unlink()
        partial = tarball.with_suffix(".partial")
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."])
        partial.replace(tarball)
    progress(f"cached {tarball} ({tarball.stat().st_size // 2**20} MiB)")
    return tarball


def ensure_base(*, progress: Callable[[str], None] = _log) -> str:
    """Make (or reuse) ``steadyhand/debian-base:<hash>`` and return that tag."""
    source = host_debian_source()
    digest = base_hash(source)
    tag = f"{REPOSITORY}/debian-base:{digest}"
    if image_exists(tag):
        progress(f"{tag} exists; reusing it")
        return tag
    tarball = base_tarball(source, progress=progress)
    progress(f"docker import {tarball.name} as {tag}")
    _run([_docker(), "import", "--change", f"LABEL {HASH_LABEL}={digest}",
          "--change", 'CMD ["/bin/bash"]', "--message", f"debootstrap {source.codename} minbase",
          str(tarball), tag], quiet=True)
    _run([_docker(), "tag", tag, f"{REPOSITORY}/debian-base:latest"], quiet=True)
    return tag


def image_tag(name: str) -> str:
    """The tag ``build_image(name)`` produces with the current definitions (built or not)."""
    return f"{REPOSITORY}/{name}:{definition_hash(name, base_hash(host_debian_source()))}"


def build_image(name: str, *, progress: Callable[[str], None] = _log) -> str:
    """Build ``steadyhand/<name>`` (or reuse an identical build) and return its hash tag.

    Raises:
        ConfigurationError: ``name`` is not one of :data:`IMAGE_NAMES` (as SandboxUnavailableError).
        SandboxUnavailableError: no daemon, not root, or a build step failed (the message
            carries the tail of the build log).
    """
    if name not in IMAGE_NAMES:
        raise SandboxUnavailableError(f"unknown image {name!r}; known: {', '.join(IMAGE_NAMES)}")
    root = docker_dir()
    base = ensure_base(progress=progress)
    digest = definition_hash(name, base.rsplit(":", 1)[1], root)
    tag = f"{REPOSITORY}/{name}:{digest}"
    latest = f"{REPOSITORY}/{name}:latest"
    if image_exists(tag):
        progress(f"{tag} exists; reusing it")
    else:
        progress(f"building {tag} from {root / name} (classic builder)")
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        _run([_docker(), "build", "--force-rm", "--network", "host", "--build-arg", f"BASE_IMAGE={base}",
              "--label", f"{HASH_LABEL}={digest}", "-t", tag, str(root / name)], env=env)
    _run([_docker(), "tag", tag, latest], quiet=True)
    progress(f"{latest} -> {tag}")
    return tag


def ensure_image(name: str, *, progress: Callable[[str], None] = _log) -> str:
    """Alias of :func:`build_image` for callers (tests, fixtures) that just need the image."""
    return build_image(name, progress=progress)


def main(argv: list[str] | None = None) -> int:
    """``python -m steadyhand.sandboxes.images [NAME ...]``: build (or reuse) images; print their tags."""
    names = (sys.argv[1:] if argv is None else argv) or ["python"]
    for name in names:
        try:
            print(build_image(name), flush=True)
        except SandboxUnavailableError as exc:
            print(f"images: {name}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
