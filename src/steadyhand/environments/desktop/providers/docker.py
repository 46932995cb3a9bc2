"""Docker desktops: one container of the offline-built ``steadyhand/desktop`` image per episode.

The image (Xvfb, openbox, xterm, mousepad, LibreOffice Calc with the gtk3 plugin,
tesseract, xdotool/wmctrl/xclip, python3 with pyatspi) is built without a registry
by :mod:`steadyhand.sandboxes.images` (``steadyhand images build desktop``). The
control server is not baked into it: the provider assembles a *server bundle* (the
session and server modules of this checkout plus their pure-Python dependencies:
mss, pyautogui, python-xlib...) under ``~/.cache/steadyhand/desktop-server/<hash>``
and mounts it read-only, so a server change needs no image rebuild.

Each container runs with host networking; the server binds ``127.0.0.1:<port>``
with a free port per container, Xvfb picks a free display itself. ``close()``
removes the container (``docker rm -f``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import socket
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

from steadyhand.core.errors import ConfigurationError, EnvironmentFault
from steadyhand.environments.desktop.client import DesktopClient
from steadyhand.environments.desktop.providers import Desktop

#: Pure-Python modules the server needs besides the standard library (Pillow comes from Debian).
SERVER_DEPENDENCIES = ("mss", "pyautogui", "Xlib", "six", "pymsgbox", "pytweening", "pyscreeze", "pyperclip")
#: Used when installed: ISA-L's fast deflate (a cp311 extension, matching Debian bookworm's python3).
OPTIONAL_DEPENDENCIES = ("isal",)
BUNDLE_MOUNT = "/opt/steadyhand-server"
LABEL = "org.steadyhand.desktop"
CONTAINER_HOME = "/home/user"


def _package_root() -> Path:
    return Path(__file__).resolve().parents[3]  # .../steadyhand


def _bundle_sources() -> list[tuple[Path, str]]:
    """(source path, path inside the bundle) of everything the server imports."""
    pkg = _package_root()
    desktop = pkg / "environments" / "desktop"
    files = [(pkg / "__init__.py", "steadyhand/__init__.py")]
    for name in ("__init__.py", "actions.py", "launcher.py", "session.py"):
        files.append((desktop / name, f"steadyhand/environments/desktop/{name}"))
    for path in sorted((desktop / "server").glob("*.py")):
        files.append((path, f"steadyhand/environments/desktop/server/{path.name}"))
    for module in (*SERVER_DEPENDENCIES, *OPTIONAL_DEPENDENCIES):
        spec = importlib.util.find_spec(module)
        if (spec is None or spec.origin is None) and module in OPTIONAL_DEPENDENCIES:
            continue
        if spec is None or spec.origin is None:
            raise ConfigurationError(f"the desktop server bundle needs the Python package {module!r} "
                                     "(install steadyhand's 'desktop' extra)")
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            for path in sorted(p for p in origin.parent.rglob("*") if p.suffix in (".py", ".so", ".pyi")):
                files.append((path, f"{module}/{path.relative_to(origin.parent)}"))
        else:
            files.append((origin, origin.name))
    return files


def server_bundle(cache: Path | None = None) -> Path:
    """The folder to mount at ``/opt/steadyhand-server``, made once per content hash."""
    sources = _bundle_sources()
    digest = hashlib.sha256()
    for path, rel in sources:
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    root = cache or Path(os.environ.get("STEADYHAND_CACHE", Path.home() / ".cache" / "steadyhand"))
    bundle = root / "desktop-server" / digest.hexdigest()[:16]
    if bundle.is_dir():
        return bundle
    partial = bundle.with_name(bundle.name + f".partial-{os.getpid()}")
    for path, rel in sources:
        target = partial / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    try:
        partial.replace(bundle)
    except OSError:  # another process made it first
        shutil.rmtree(partial, ignore_errors=True)
    return bundle


def free_port() -> int:
    """A TCP port nobody listens on at the moment (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _docker() -> str:
    exe = shutil.which("docker")
    if exe is None:
        raise ConfigurationError("the docker desktop provider needs the docker CLI (apt-get install docker.io)")
    return exe


class DockerDesktop(Desktop):
    """One desktop container."""

    def __init__(self, name: str, url: str, width: int, height: int) -> None:
        self.name = name
        self.url = url
        self.width = width
        self.height = height
        self._closed = False

    def __repr__(self) -> str:
        return f"DockerDesktop({self.name}, {self.url})"

    def alive(self) -> bool:
        if self._closed:
            return False
        proc = subprocess.run([_docker(), "inspect", "-f", "{{.State.Running}}", self.name], capture_output=True,
                              text=True, timeout=30)
        return proc.stdout.strip() == "true"

    def stats(self) -> dict[str, Any]:
        proc = subprocess.run([_docker(), "stats", "--no-stream", "--format", "{{.MemUsage}}", self.name],
                              capture_output=True, text=True, timeout=60)
        return {"memory": proc.stdout.strip()}

    def logs(self) -> str:
        """The container's output (the session's log)."""
        proc = subprocess.run([_docker(), "logs", "--tail", "50", self.name], capture_output=True, text=True,
                              timeout=30)
        return proc.stdout + proc.stderr

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        subprocess.run([_docker(), "rm", "-f", self.name], capture_output=True, timeout=120)


class DockerProvider:
    """Starts desktop containers.

    Args:
        image: image tag; default: build or reuse ``steadyhand/desktop`` with
            :func:`steadyhand.sandboxes.images.ensure_image`.
        startup_timeout_s: how long a container may take to answer.
        memory: ``docker run --memory`` limit (e.g. ``"2g"``), or None.
    """

    name = "docker"

    def __init__(self, *, image: str | None = None, startup_timeout_s: float = 90.0,
                 memory: str | None = "2g") -> None:
        self.image = image
        self.startup_timeout_s = startup_timeout_s
        self.memory = memory
        self._desktops: list[DockerDesktop] = []
        self._lock = threading.Lock()

    def _image(self) -> str:
        if self.image is None:
            from steadyhand.sandboxes.images import ensure_image

            self.image = ensure_image("desktop")
        return self.image

    def start(self, *, width: int = 1280, height: int = 720) -> DockerDesktop:
        """Run a container and wait for its server.

        Raises:
            ConfigurationError: no docker CLI, no daemon, or the image cannot be built.
            EnvironmentFault: the container did not come up (the message has its log).
        """
        image = self._image()
        bundle = server_bundle()
        last = ""
        for _ in range(3):  # a port taken between choosing and binding: choose again
            port = free_port()
            name = f"steadyhand-desktop-{uuid.uuid4().hex[:12]}"
            argv = [
                _docker(), "run", "-d", "--network", "host", "--init", "--name", name, "--label", f"{LABEL}=1",
                "--shm-size", "512m", "-v", f"{bundle}:{BUNDLE_MOUNT}:ro", "-w", CONTAINER_HOME,
                "-e", f"HOME={CONTAINER_HOME}", "-e", f"PYTHONPATH={BUNDLE_MOUNT}", "-e", "PYTHONDONTWRITEBYTECODE=1",
                "-e", "XDG_RUNTIME_DIR=/tmp/runtime-user", "--entrypoint", "python3",
                *(["--memory", self.memory] if self.memory else []),
                image, "-m", "steadyhand.environments.desktop.session", "--host", "127.0.0.1", "--port", str(port),
                "--width", str(width), "--height", str(height),
            ]
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            if proc.returncode != 0:
                raise ConfigurationError(f"docker run failed: {proc.stderr.strip()[-1000:]}")
            desktop = DockerDesktop(name, f"http://127.0.0.1:{port}", width, height)
            try:
                with DesktopClient(desktop.url, timeout_s=10.0) as client:
                    client.wait_ready(timeout_s=self.startup_timeout_s)
            except EnvironmentFault as exc:
                last = f"{exc}\n{desktop.logs()[-2000:]}"
                desktop.close()
                if "Address already in use" in last:
                    continue
                raise EnvironmentFault(f"desktop container did not start: {last}") from exc
            with self._lock:
                self._desktops.append(desktop)
            return desktop
        raise EnvironmentFault(f"desktop container did not start: {last}")

    def close(self) -> None:
        """Remove every container this provider started."""
        with self._lock:
            desktops, self._desktops = self._desktops, []
        for desktop in desktops:
            desktop.close()
