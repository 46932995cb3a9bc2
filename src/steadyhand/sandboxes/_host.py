"""Host-side helpers of the local provider: cgroups, uid reservations, process scans, mounts.

Everything here is best effort where the host does not allow it (not root, a read-only
cgroup file system): callers learn what is available and say so.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Host uids handed to local sandboxes (one per open sandbox, so limits and kills are per sandbox).
UID_BASE = 1_300_000
UID_COUNT = 60_000


def state_root() -> Path:
    """Where local sandboxes keep their state (``STEADYHAND_SANDBOX_STATE`` overrides)."""
    env = os.environ.get("STEADYHAND_SANDBOX_STATE")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/run/steadyhand/local")
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/steadyhand-{os.geteuid()}"
    return Path(runtime) / "steadyhand" / "local"


def reserve_uid(root: Path, owner: str) -> int:
    """Claim a free sandbox uid (an atomic mkdir under ``root/uids``)."""
    uids = root / "uids"
    uids.mkdir(parents=True, exist_ok=True)
    start = random.randrange(UID_COUNT)
    for i in range(UID_COUNT):
        uid = UID_BASE + (start + i) % UID_COUNT
        try:
            (uids / str(uid)).mkdir()
        except FileExistsError:
            continue
        (uids / str(uid) / "owner").write_text(owner)
        return uid
    raise RuntimeError("no free sandbox uid")


def release_uid(root: Path, uid: int) -> None:
    """Give back a uid claimed with :func:`reserve_uid`."""
    folder = root / "uids" / str(uid)
    with contextlib.suppress(OSError):
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()


def pids_of_uid(uid: int) -> list[int]:
    """Host PIDs (zombies aside) whose real, effective or saved uid is ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"State:") and line.split()[1] in (b"Z", b"X"):
                        break
                    if line.startswith(b"Uid:"):
                        if str(uid).encode() in line.split()[1:4]:
                            found.append(int(entry.name))
                        break
        except OSError:
            continue
    return found


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (from /proc), empty if it is gone."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                found += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found


def kill_uid(uid: int, *, rounds: int = 50) -> int:
    """SIGKILL every process running as ``uid`` until none is left; returns how many were hit."""
    if uid == os.geteuid() or uid == 0:
        raise ValueError("refusing to kill every process of our own uid or of root")
    hit = 0
    for _ in range(rounds):
        pids = pids_of_uid(uid)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                hit += 1
        time.sleep(0.01)
    return hit


def process_start_time(pid: int) -> str | None:
    """The start time (in clock ticks since boot) of ``pid``, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


class Cgroup:
    """One sandbox's cgroup(s): memory and pids limits, when the host lets us make them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.paths: list[Path] = []

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its PID into to join."""
        return [str(p / "cgroup.procs") for p in self.paths]

    def create(self, *, memory_bytes: int, max_pids: int) -> str | None:
        """Create the cgroup(s) with limits; returns None or a reason they could not be made."""
        if not os.access(CGROUP_ROOT, os.W_OK) and not os.access(CGROUP_ROOT / "memory", os.W_OK):
            return "the cgroup file system is not writable (not root?)"
        try:
            if (CGROUP_ROOT / "cgroup.controllers").exists():  # cgroup v2
                parent = CGROUP_ROOT / "steadyhand"
                parent.mkdir(exist_ok=True)
                (CGROUP_ROOT / "cgroup.subtree_control").write_text("+memory +pids")
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
                path = parent / self.name
                path.mkdir(exist_ok=True)
                self.paths.append(path)
                (path / "memory.max").write_text(str(memory_bytes))
                with contextlib.suppress(OSError):
                    (path / "memory.swap.max").write_text("0")
                (path / "pids.max").write_text(str(max_pids))
            else:  # cgroup v1: one hierarchy per controller
                for controller, limits in (
                    ("memory", {"memory.limit_in_bytes": memory_bytes}),
                    ("pids", {"pids.max": max_pids}),
                ):
                    path = CGROUP_ROOT / controller / "steadyhand" / self.name
                    path.mkdir(parents=True, exist_ok=True)
                    self.paths.append(path)
                    for key, value in limits.items():
                        (path / key).write_text(str(value))
                    with contextlib.suppress(OSError):
                        if controller == "memory":
                            (path / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        except OSError as exc:
            self.remove()
            return f"cannot create cgroups: {exc}"
        return None

    def pids(self) -> list[int]:
        """PIDs currently in the cgroup(s)."""
        found: set[int] = set()
        for path in self.paths:
            with contextlib.suppress(OSError):
                found.update(int(x) for x in (path / "cgroup.procs").read_text().split())
        return sorted(found)

    def kill_all(self, *, rounds: int = 50) -> None:
        """SIGKILL everything in the cgroup(s) until they are empty."""
        for _ in range(rounds):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        """Kill what is left and delete the cgroup(s); never raises."""
        self.kill_all()
        for path in self.paths:
            for _ in range(100):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)  # exiting tasks still count for a moment
        self.paths = []

    @classmethod
    def existing(cls, name: str) -> Cgroup:
        """The cgroup(s) a crashed sandbox called ``name`` may have left."""
        group = cls(name)
        for path in (CGROUP_ROOT / "steadyhand" / name, CGROUP_ROOT / "memory" / "steadyhand" / name,
                     CGROUP_ROOT / "pids" / "steadyhand" / name):
            if path.is_dir():
                group.paths.append(path)
        return group


def mount_tmpfs(path: Path, *, size_mb: int, uid: int) -> bool:
    """Mount a size-limited tmpfs at ``path`` owned by ``uid``; False where not allowed."""
    if os.geteuid() != 0:
        return False
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755,uid={uid},gid={uid},nosuid,nodev",
         "steadyhand-sandbox", str(path)], capture_output=True, text=True)
    return proc.returncode == 0


def unmount(path: Path) -> None:
    """Lazily unmount ``path`` if something is mounted there; never raises."""
    if os.path.ismount(path):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
