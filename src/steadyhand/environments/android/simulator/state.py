"""What the simulated device remembers: settings, files, contacts, properties.

Everything the apps show and everything a task checks lives here, behind one
re-entrant lock (the ADB server answers connections on several threads). The
shell commands (``settings``, ``content``, ``cat``...) and the apps read and write
the same objects, so a change made through the UI is what ``adb shell`` sees.
"""

from __future__ import annotations

import posixpath
import threading
import time
from dataclasses import dataclass, field

#: Settings a fresh simulated device starts with, by namespace.
DEFAULT_SETTINGS: dict[str, dict[str, str]] = {
    "global": {
        "wifi_on": "1",
        "airplane_mode_on": "0",
        "bluetooth_on": "0",
        "auto_time": "1",
        "device_name": "Pixel 6",
        "mobile_data": "1",
    },
    "secure": {"ui_night_mode": "1", "location_mode": "3"},
    "system": {
        "screen_off_timeout": "60000",
        "time_12_24": "12",
        "screen_brightness": "128",
        "screen_brightness_mode": "0",
    },
}

#: Read-only system properties (``getprop``).
DEFAULT_PROPS: dict[str, str] = {
    "ro.product.model": "Pixel 6 (simulated)",
    "ro.product.name": "steadyhand_sim",
    "ro.product.device": "steadyhand_sim",
    "ro.product.manufacturer": "steadyhand",
    "ro.build.version.release": "14",
    "ro.build.version.sdk": "34",
    "ro.kernel.qemu": "1",
    "sys.boot_completed": "1",
    "ro.steadyhand.simulated": "1",
}

#: Folders that exist on a fresh device.
DEFAULT_DIRS = ("/", "/sdcard", "/sdcard/Download", "/sdcard/Notes", "/data", "/data/local", "/data/local/tmp",
                "/system", "/storage", "/storage/emulated")

_ALIASES = ("/storage/emulated/0", "/storage/self/primary", "/mnt/sdcard")


def normalize_path(path: str, cwd: str = "/") -> str:
    """An absolute, normalised device path; external-storage aliases map to ``/sdcard``."""
    full = posixpath.normpath(posixpath.join(cwd, path)) if path else cwd
    if full.startswith("//"):
        full = full[1:]
    for alias in _ALIASES:
        if full == alias or full.startswith(alias + "/"):
            return "/sdcard" + full[len(alias):]
    return full


@dataclass
class Contact:
    """One row of the simulated contacts provider."""

    id: int
    display_name: str
    number: str


@dataclass
class DeviceState:
    """The simulated device's persistent state (survives app restarts, not the process)."""

    serial: str = "emulator-5554"
    width: int = 1080
    height: int = 2400
    density: int = 420
    settings: dict[str, dict[str, str]] = field(
        default_factory=lambda: {ns: dict(values) for ns, values in DEFAULT_SETTINGS.items()})
    props: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PROPS))
    files: dict[str, bytes] = field(default_factory=dict)
    mtimes: dict[str, int] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: set(DEFAULT_DIRS))
    contacts: list[Contact] = field(default_factory=list)
    next_contact_id: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # --- settings ------------------------------------------------------------------------------

    def get_setting(self, namespace: str, key: str) -> str | None:
        with self.lock:
            return self.settings.get(namespace, {}).get(key)

    def put_setting(self, namespace: str, key: str, value: str) -> None:
        with self.lock:
            self.settings.setdefault(namespace, {})[key] = value

    def flag(self, namespace: str, key: str) -> bool:
        """A 0/1 setting as a bool (missing or unparsable counts as off)."""
        return self.get_setting(namespace, key) == "1"

    # --- files ---------------------------------------------------------------------------------

    def is_dir(self, path: str) -> bool:
        return normalize_path(path) in self.dirs

    def is_file(self, path: str) -> bool:
        return normalize_path(path) in self.files

    def read_file(self, path: str) -> bytes:
        """Raises FileNotFoundError or IsADirectoryError, as a real file system would."""
        full = normalize_path(path)
        with self.lock:
            if full in self.dirs:
                raise IsADirectoryError(full)
            if full not in self.files:
                raise FileNotFoundError(full)
            return self.files[full]

    def write_file(self, path: str, data: bytes, *, append: bool = False) -> None:
        """Write (or append to) a file whose folder exists.

        Raises:
            FileNotFoundError: the parent folder does not exist.
            IsADirectoryError: ``path`` is a folder.
        """
        full = normalize_path(path)
        with self.lock:
            if full in self.dirs:
                raise IsADirectoryError(full)
            if posixpath.dirname(full) not in self.dirs:
                raise FileNotFoundError(posixpath.dirname(full))
            self.files[full] = (self.files.get(full, b"") + data) if append else data
            self.mtimes[full] = int(time.time())

    def remove(self, path: str, *, recursive: bool = False) -> None:
        """Remove a file, or a folder with ``recursive``.

        Raises:
            FileNotFoundError: nothing there.
            IsADirectoryError: a folder without ``recursive``.
        """
        full = normalize_path(path)
        with self.lock:
            if full in self.files:
                del self.files[full]
                self.mtimes.pop(full, None)
                return
            if full not in self.dirs:
                raise FileNotFoundError(full)
            if not recursive:
                raise IsADirectoryError(full)
            prefix = full.rstrip("/") + "/"
            for name in [f for f in self.files if f.startswith(prefix)]:
                del self.files[name]
            self.dirs = {d for d in self.dirs if not d.startswith(prefix) and d != full}

    def make_dirs(self, path: str, *, parents: bool = True) -> None:
        """Create a folder (and its parents with ``parents``).

        Raises:
            FileNotFoundError: the parent is missing and ``parents`` is False.
            FileExistsError: a file is in the way.
        """
        full = normalize_path(path)
        with self.lock:
            if full in self.files:
                raise FileExistsError(full)
            if not parents and posixpath.dirname(full) not in self.dirs:
                raise FileNotFoundError(posixpath.dirname(full))
            while full not in self.dirs:
                if full in self.files:
                    raise FileExistsError(full)
                self.dirs.add(full)
                full = posixpath.dirname(full)

    def list_dir(self, path: str) -> list[tuple[str, bool, int]]:
        """(name, is_dir, size) of each entry of a folder, sorted by name.

        Raises:
            FileNotFoundError: no such folder.
        """
        full = normalize_path(path)
        with self.lock:
            if full not in self.dirs:
                raise FileNotFoundError(full)
            prefix = full.rstrip("/") + "/"
            entries: dict[str, tuple[bool, int]] = {}
            for d in self.dirs:
                if d.startswith(prefix) and "/" not in d[len(prefix):] and d != full:
                    entries[d[len(prefix):]] = (True, 0)
            for f, data in self.files.items():
                if f.startswith(prefix) and "/" not in f[len(prefix):]:
                    entries[f[len(prefix):]] = (False, len(data))
            return [(name, *entries[name]) for name in sorted(entries)]

    # --- contacts --------------------------------------------------------------------------------

    def add_contact(self, display_name: str, number: str) -> Contact:
        with self.lock:
            contact = Contact(self.next_contact_id, display_name, number)
            self.next_contact_id += 1
            self.contacts.append(contact)
            return contact

    def sorted_contacts(self) -> list[Contact]:
        with self.lock:
            return sorted(self.contacts, key=lambda c: (c.display_name.lower(), c.id))
