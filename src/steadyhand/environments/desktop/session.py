"""One desktop session, started inside its sandbox or container.

    python -m steadyhand.environments.desktop.session --port 0 --ready-file R --width 1280 --height 720

runs, in order: a D-Bus session bus (by re-executing itself under
``dbus-run-session``; the accessibility bus is started on demand through it),
Xvfb on a free display (``-displayfd``: the X server picks a number nobody
uses, which also holds inside a private ``/tmp`` or a container on the host
network), openbox, and then the control server in this process. Once serving
it writes ``{"port", "display", "pid"}`` as JSON to the ready file. SIGTERM
stops the server, openbox and Xvfb; the provider outside also kills every
process by PID.

Standard library plus the server's own dependencies only: it runs in desktop
images that do not have the rest of steadyhand's dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

#: Environment every program in the desktop gets: accessibility on, LibreOffice on gtk3.
DESKTOP_ENV = {
    "GTK_MODULES": "gail:atk-bridge",
    "SAL_USE_VCLPLUGIN": "gtk3",
    "QT_ACCESSIBILITY": "1",
    "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
    "ACCESSIBILITY_ENABLED": "1",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}


#: LibreOffice settings for a fresh profile: no tip-of-the-day dialog, no "what's new" bar.
LIBREOFFICE_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse">\
<value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse">\
<value>false</value></prop></item>
<item oor:path="/org.openoffice.Setup/Product"><prop oor:name="ooSetupLastVersion" oor:op="fuse">\
<value>{version}</value></prop></item>
</oor:items>
"""


def seed_home(home: Path) -> None:
    """Make the usual folders and a quiet LibreOffice profile in a fresh HOME (existing files are kept)."""
    for sub in ("Desktop", "Documents", "Downloads", ".config"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    profile = home / ".config" / "libreoffice" / "4" / "user" / "registrymodifications.xcu"
    if not profile.exists():
        version = "7.4"
        try:
            out = subprocess.run(["soffice", "--version"], capture_output=True, text=True, timeout=30).stdout
            parts = out.split()
            if len(parts) > 1:
                version = ".".join(parts[1].split(".")[:2])
        except (OSError, subprocess.SubprocessError):
            return  # no LibreOffice here
        profile.parent.mkdir(parents=True, exist_ok=True)
        profile.write_text(LIBREOFFICE_PROFILE.format(version=version))


def seed_launcher(home: Path) -> None:
    """Bind the Super key to the desktop's launcher (:mod:`.launcher`) unless HOME has its own openbox config."""
    from steadyhand.environments.desktop.launcher import openbox_config

    rc = home / ".config" / "openbox" / "rc.xml"
    config = None if rc.exists() else openbox_config()
    if config:
        rc.parent.mkdir(parents=True, exist_ok=True)
        rc.write_text(config, encoding="utf-8")


def start_xvfb(width: int, height: int, timeout_s: float = 30.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb on a display it picks itself; return the process and ``:N``."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
         "-noreset", "-dpi", "96", "+extension", "RANDR"],
        pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    number = b""
    done = threading.Event()

    def read() -> None:
        nonlocal number
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip()
        done.set()

    threading.Thread(target=read, daemon=True).start()
    if not done.wait(timeout_s) or not number:
        proc.kill()
        err = proc.stderr.read().decode(errors="replace")[-1000:] if proc.stderr else ""
        raise RuntimeError(f"Xvfb did not start within {timeout_s:g} s: {err}")
    if proc.stderr is not None:  # keep Xvfb from blocking on a full pipe
        threading.Thread(target=lambda: proc.stderr.read() if proc.stderr else None, daemon=True).start()
    return proc, f":{number.decode()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steadyhand.environments.desktop.session")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument("--no-dbus", action="store_true", help="do not start a D-Bus session bus")
    parser.add_argument("--no-wm", action="store_true", help="do not start openbox")
    args = parser.parse_args(argv)

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        Path(runtime).mkdir(mode=0o700, parents=True, exist_ok=True)
    if not args.no_dbus and "STEADYHAND_IN_DBUS" not in os.environ and shutil.which("dbus-run-session"):
        os.environ["STEADYHAND_IN_DBUS"] = "1"
        os.execvp("dbus-run-session", ["dbus-run-session", "--", sys.executable, "-m",
                                       "steadyhand.environments.desktop.session", *(argv or sys.argv[1:])])
    os.environ.update(DESKTOP_ENV)
    os.environ.pop("NO_AT_BRIDGE", None)
    home = Path(os.environ.get("HOME", "/tmp"))
    seed_home(home)
    seed_launcher(home)

    xvfb, display = start_xvfb(args.width, args.height)
    os.environ["DISPLAY"] = display
    children: list[subprocess.Popen[bytes]] = [xvfb]
    if not args.no_wm and shutil.which("openbox"):
        children.insert(0, subprocess.Popen(["openbox", "--sm-disable"], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    from steadyhand.environments.desktop.server.app import ControlServer, HTTPControlServer

    httpd = HTTPControlServer((args.host, args.port), ControlServer(display))

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ready_file:
        tmp = args.ready_file.with_name(args.ready_file.name + ".tmp")
        tmp.write_text(json.dumps({"port": httpd.server_address[1], "display": display, "pid": os.getpid()}))
        tmp.replace(args.ready_file)
    print(f"desktop session: DISPLAY={display}, control server on {args.host}:{httpd.server_address[1]}",
          file=sys.stderr, flush=True)
    try:
        httpd.serve_forever(poll_interval=0.5)
    finally:
        httpd.server_close()
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
