"""The desktop's launcher: the Super key opens an application or a file by name.

Agent S2's ``open`` presses Super, types a name and presses Enter, as on OSWorld's
Ubuntu (GNOME's search). The desktop session gives openbox the same: Super runs rofi
with this module as its script mode (:func:`openbox_config`). Listed entries are the
installed applications (``.desktop`` names) and the files in the usual folders of
HOME; what is typed is matched against them, best match first:

1. an application whose name (or executable) equals, starts with, or contains the text;
2. a file with that name (or path) in HOME, Desktop, Documents or Downloads, opened
   with the application whose ``.desktop`` entry handles its MIME type;
3. otherwise nothing happens (the log at ``$XDG_RUNTIME_DIR/launcher.log`` says why).

Run as ``python -m steadyhand.environments.desktop.launcher [TEXT]`` (rofi's script
protocol: no argument lists the entries, one argument launches).
"""

from __future__ import annotations

import configparser
import mimetypes
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

APPLICATION_DIRS = (Path("/usr/share/applications"), Path("~/.local/share/applications"))
FILE_DIRS = ("Desktop", "Documents", "Downloads", ".")


@dataclass(frozen=True)
class App:
    """One launchable application from a ``.desktop`` file."""

    name: str
    exec: str
    mime_types: tuple[str, ...] = field(default=())

    def argv(self, path: str | None = None) -> list[str]:
        """The command line, with the file (if any) in place of the field codes."""
        out: list[str] = []
        for part in shlex.split(self.exec):
            if part in ("%f", "%F", "%u", "%U"):
                out += [path] if path else []
            elif not (len(part) == 2 and part.startswith("%")):
                out.append(part.replace("%%", "%"))
        if path and path not in out:
            out.append(path)
        return out


def applications() -> list[App]:
    """Installed applications that a menu would show, by name."""
    apps: dict[str, App] = {}
    for folder in APPLICATION_DIRS:
        folder = folder.expanduser()
        for entry in sorted(folder.glob("*.desktop")) if folder.is_dir() else []:
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            try:
                parser.read(entry, encoding="utf-8")
                section = parser["Desktop Entry"]
            except (configparser.Error, KeyError, UnicodeDecodeError):
                continue
            if section.get("NoDisplay", "false").lower() == "true" or section.get("Type") != "Application":
                continue
            name, command = section.get("Name"), section.get("Exec")
            if name and command:
                mimes = tuple(m for m in section.get("MimeType", "").split(";") if m)
                apps.setdefault(name, App(name=name, exec=command, mime_types=mimes))
    return sorted(apps.values(), key=lambda a: a.name.lower())


def files(home: Path) -> list[Path]:
    """Files directly inside HOME and its Desktop, Documents and Downloads folders."""
    found: list[Path] = []
    for sub in FILE_DIRS:
        folder = home / sub
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return found


def _app_for(text: str, apps: list[App]) -> App | None:
    wanted = text.strip().lower()
    if not wanted:
        return None
    tests = (lambda a: a.name.lower() == wanted or Path(shlex.split(a.exec)[0]).name.lower() == wanted,
             lambda a: a.name.lower().startswith(wanted),
             lambda a: wanted in a.name.lower())
    for test in tests:
        matches = [a for a in apps if test(a)]
        if matches:
            return min(matches, key=lambda a: len(a.name))
    return None


def _file_for(text: str, home: Path) -> Path | None:
    wanted = text.strip()
    direct = Path(wanted).expanduser()
    if direct.is_absolute() and direct.is_file():
        return direct
    for path in files(home):
        if path.name == wanted:
            return path
    for path in files(home):
        if path.name.lower() == wanted.lower() or path.stem.lower() == wanted.lower():
            return path
    return None


def resolve(text: str, *, home: Path | None = None, apps: list[App] | None = None) -> list[str] | None:
    """The command that opening ``text`` runs, or None when nothing matches."""
    home = home or Path.home()
    apps = applications() if apps is None else apps
    path = _file_for(text, home)
    if path is not None:
        mime, _ = mimetypes.guess_type(path.name)
        handler = next((a for a in apps if mime and mime in a.mime_types), None)
        return handler.argv(str(path)) if handler else ["xdg-open", str(path)]
    app = _app_for(text, apps)
    return app.argv() if app else None


def _log(message: str) -> None:
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    try:
        with open(Path(runtime) / "launcher.log", "a", encoding="utf-8") as log:
            log.write(message + "\n")
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    """rofi's script protocol: list entries with no argument, launch the one given."""
    args = sys.argv[1:] if argv is None else argv
    home = Path.home()
    if not args:
        for app in applications():
            print(app.name)
        for path in files(home):
            print(path.name)
        return 0
    command = resolve(args[0], home=home)
    if command is None:
        _log(f"nothing to open for {args[0]!r}")
        return 0
    _log(f"open {args[0]!r}: {command}")
    subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, cwd=home)
    return 0


def openbox_config(python: str = sys.executable) -> str | None:
    """openbox's ``rc.xml`` with Super bound to the launcher, or None without rofi or openbox's defaults."""
    import shutil

    defaults = Path("/etc/xdg/openbox/rc.xml")
    if shutil.which("rofi") is None or not defaults.is_file():
        return None
    script = f"{python} -m steadyhand.environments.desktop.launcher"
    keybind = ('  <keybind key="Super_L"><action name="Execute"><command>'
               f"rofi -show open -modi 'open:{script}' -i"
               "</command></action></keybind>\n")
    text = defaults.read_text(encoding="utf-8")
    return text.replace("<keyboard>\n", "<keyboard>\n" + keybind, 1) if "<keyboard>\n" in text else None


if __name__ == "__main__":
    sys.exit(main())
