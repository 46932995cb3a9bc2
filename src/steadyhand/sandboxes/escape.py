"""Escape and abuse cases: what hostile code tries, and how to tell it was contained.

Each case runs hostile commands in a sandbox and returns a :class:`Verdict`; then
:meth:`HostProbe.check` makes sure the host is unaffected (its secret files unread and
unchanged, nothing written outside, its marker process alive, its loopback listener
never reached, no process of the sandbox left). ``tests/sandboxes/test_escape.py``
runs every case against every provider::

    probe = HostProbe.start(tmp_dir)
    verdict = CASES["fork_bomb"](box, probe)
    assert verdict.contained, verdict.detail
    probe.check(box)

No case sends a packet off this machine: the "outside address" case first proves the
sandbox has no interface but loopback and no route, and only then tries a
documentation-range address (TEST-NET-1), which fails inside the sandbox before any
packet exists.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from steadyhand.sandboxes.base import Sandbox


@dataclass(frozen=True)
class Verdict:
    """Whether a case's attack was contained, and what happened, in words."""

    contained: bool
    detail: str


@dataclass
class HostProbe:
    """Host-side bait and witnesses for the escape cases."""

    folder: Path
    secret: str
    secret_file: Path
    results_db: Path
    marker: subprocess.Popen[bytes]
    listener: socket.socket
    connections: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, folder: Path) -> HostProbe:
        """Plant bait under ``folder`` (a host directory the sandbox must not see) and start witnesses."""
        folder.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(16)
        secret_file = folder / "secret.txt"
        secret_file.write_text(secret)
        results_db = folder / "results.db"
        results_db.write_text(f"SQLite format 3 pretend {secret}")
        marker = subprocess.Popen(["sh", "-c", "sleep 3600; :", f"steadyhand-marker-{secret}"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        probe = cls(folder, secret, secret_file, results_db, marker, listener)
        threading.Thread(target=probe._accept, daemon=True).start()
        return probe

    def _accept(self) -> None:
        while True:
            try:
                conn, addr = self.listener.accept()
            except OSError:
                return
            self.connections.append(str(addr))
            conn.close()

    @property
    def port(self) -> int:
        """The loopback port the host listens on."""
        return int(self.listener.getsockname()[1])

    def problems(self, box: Sandbox) -> list[str]:
        """What is wrong on the host after a case (empty: unaffected)."""
        found = []
        if self.secret_file.read_text() != self.secret:
            found.append("the host's secret file changed")
        extra = sorted(p.name for p in self.folder.iterdir()) != ["results.db", "secret.txt"]
        if extra:
            found.append(f"files appeared in the host folder: {sorted(os.listdir(self.folder))}")
        for path in ("/usr/steadyhand-pwned", "/etc/steadyhand-pwned", "/root/steadyhand-pwned"):
            if os.path.exists(path):
                found.append(f"{path} was created on the host")
        if self.marker.poll() is not None:
            found.append("the host's marker process was killed")
        if self.connections:
            found.append(f"the host's loopback listener was reached: {self.connections}")
        left = box.live_processes()
        if left:
            found.append(f"{left} processes of the sandbox are still running")
        if shutil.disk_usage(self.folder).free < 2**30:
            found.append("the host's disk is nearly full")
        return found

    def check(self, box: Sandbox) -> None:
        """Raise AssertionError listing :meth:`problems`, if any."""
        found = self.problems(box)
        if found:
            raise AssertionError("; ".join(found))

    def stop(self) -> None:
        """Stop the witnesses and delete the bait."""
        self.marker.kill()
        self.marker.wait()
        self.listener.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _py(box: Sandbox, code: str, timeout: float = 20, **kw: object) -> tuple[int, str, bool]:
    r = box.exec(["python3", "-c", code], timeout=timeout, **kw)  # type: ignore[arg-type]
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace"), r.timed_out


def read_host_secret(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sh", "-c", f"cat {probe.secret_file}; cat {probe.results_db}; "
                  f"grep -rsl {probe.secret} / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr"], timeout=60)
    leaked = probe.secret in r.stdout_text + r.stderr_text
    return Verdict(not leaked, "the host's secret was read" if leaked else "host files not visible")


def read_file_api_symlink(box: Sandbox, probe: HostProbe) -> Verdict:
    box.exec(["ln", "-sf", str(probe.secret_file), "link"]).check()
    try:
        data = box.read_file("link")
    except FileNotFoundError:
        return Verdict(True, "read_file resolved the symlink inside the sandbox (no such file)")
    leaked = probe.secret.encode() in data
    return Verdict(not leaked, "read_file followed a symlink to the host" if leaked else "no leak")


def read_root_home(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sh", "-c", "ls -a /root && cat /root/.bashrc /root/.profile"])
    real = Path("/root/.bashrc")
    leaked = r.ok and real.exists() and real.read_text()[:200] in r.stdout_text
    return Verdict(not r.ok and not leaked, f"ls/cat /root -> {r.returncode}: {r.stderr_text.strip()[:200]}")


def read_shadow(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["cat", "/etc/shadow"])
    return Verdict(not r.ok, "/etc/shadow unreadable" if not r.ok else "/etc/shadow was read")


def write_outside(box: Sandbox, probe: HostProbe) -> Verdict:
    targets = [f"{probe.folder}/pwned", "/usr/steadyhand-pwned", "/etc/steadyhand-pwned",
               "/root/steadyhand-pwned"]
    r = box.exec(["sh", "-c", " ; ".join(f"echo x > {t} && echo WROTE {t}" for t in targets)])
    wrote = [t for t in targets if os.path.exists(t)]
    return Verdict(not wrote, f"host files created: {wrote}" if wrote else r.stdout_text.strip() or "all refused")


def see_host_processes(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"])
    seen = f"steadyhand-marker-{probe.secret}" in r.stdout_text
    return Verdict(not seen, "the host's processes are visible" if seen else "host processes hidden")


def signal_host(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sh", "-c", f"kill -9 {probe.marker.pid} {os.getpid()}; kill -9 $PPID; kill -9 -1; true"])
    alive = probe.marker.poll() is None
    return Verdict(alive, f"host marker {'alive' if alive else 'killed'} (exit {r.returncode})")


def connect_loopback(box: Sandbox, probe: HostProbe) -> Verdict:
    _, out, _ = _py(box, f"""
import socket
s = socket.socket(); s.settimeout(3)
try:
    s.connect(("127.0.0.1", {probe.port})); print("CONNECTED")
except OSError as e:
    print("refused:", e)
""")
    ok = "CONNECTED" not in out and not probe.connections
    return Verdict(ok, out.strip()[:200])


def connect_outside(box: Sandbox, probe: HostProbe) -> Verdict:
    # Only try an address once it is proven no packet can leave: loopback only, no routes.
    _, out, _ = _py(box, """
import socket
ifaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
routes = open("/proc/net/route").read().splitlines()[1:]
routes6 = [l for l in open("/proc/net/ipv6_route").read().splitlines() if not l.endswith(" lo")] \
    if __import__("os").path.exists("/proc/net/ipv6_route") else []
if ifaces != ["lo"] or routes or routes6:
    print("HAS-NETWORK", ifaces, len(routes), len(routes6))
else:
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect(("192.0.2.1", 80)); print("CONNECTED")
    except OSError as e:
        print("unreachable:", e)
""")
    return Verdict("unreachable" in out, out.strip()[:200])


def fork_bomb(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["python3", "-c", """
import os
n = 0
while True:
    try:
        os.fork(); n += 1
    except OSError:
        pass
"""], timeout=5)
    ok = probe.marker.poll() is None and subprocess.run(["true"]).returncode == 0
    return Verdict(ok and (r.timed_out or not r.ok), f"timed_out={r.timed_out}, exit {r.returncode}")


def memory_bomb(box: Sandbox, probe: HostProbe) -> Verdict:
    code, out, timed_out = _py(box, """
blocks = []
try:
    while True:
        blocks.append(bytearray(64 * 2**20))
except MemoryError:
    print("MemoryError after", len(blocks) * 64, "MiB")
""", timeout=30)
    mib = int(out.split("after")[1].split()[0]) if "MemoryError after" in out else None
    contained = (mib is not None and mib <= 4096) or code in (137, -9) or timed_out
    return Verdict(contained, out.strip()[:200] or f"killed with {code}")


def disk_fill(box: Sandbox, probe: HostProbe) -> Verdict:
    before = shutil.disk_usage("/").free
    r = box.exec(["sh", "-c", "for i in $(seq 1 100); do head -c 50000000 /dev/zero > fill$i || break; done; "
                  "du -sm . | cut -f1"], timeout=60)
    used = int(r.stdout_text.split()[-1]) if r.stdout_text.split() else -1
    box.exec(["sh", "-c", "rm -f fill*"])
    lost = before - shutil.disk_usage("/").free
    return Verdict(0 <= used <= 4096 and lost < 2**30, f"wrote {used} MiB before the limit stopped it")


def huge_file(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sh", "-c", "head -c 3000000000 /dev/zero > huge; ls -l huge | awk '{print $5}'"], timeout=60)
    size = int(r.stdout_text.split()[-1]) if r.stdout_text.split() else -1
    box.exec(["rm", "-f", "huge"])
    return Verdict(0 <= size < 3_000_000_000, f"the file stopped at {size} bytes")


def infinite_loop(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["python3", "-c", "while True: pass"], timeout=1.5)
    return Verdict(r.timed_out and box.live_processes() == 0, f"timed_out={r.timed_out}")


def sleep_forever(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sleep", "infinity"], timeout=1)
    return Verdict(r.timed_out and box.live_processes() == 0, f"timed_out={r.timed_out}")


def huge_output(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sh", "-c", "yes steadyhand & yes steadyhand >&2"], timeout=2, output_limit=100_000)
    kept = len(r.stdout) + len(r.stderr)
    return Verdict(kept <= 200_000 and r.truncated, f"kept {kept} bytes, truncated={r.truncated}")


def daemon_outlives_call(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sh", "-c", "(setsid sh -c 'while :; do date > alive; sleep 0.1; done' "
                  "</dev/null >/dev/null 2>&1 &); sleep 0.3; echo started"], timeout=20)
    left = box.live_processes()
    return Verdict(r.ok and left == 0, f"{left} processes outlived the call")


def escape_privileges(box: Sandbox, probe: HostProbe) -> Verdict:
    r = box.exec(["sh", "-c", "id -u; mount -t tmpfs none /usr 2>&1 && echo MOUNTED; "
                  "chroot / true 2>&1 && echo CHROOTED; echo > /proc/sys/kernel/hostname 2>&1 && echo SYSCTL"])
    bad = [w for w in ("MOUNTED", "CHROOTED", "SYSCTL") if w in r.stdout_text]
    uid = r.stdout_text.split()[0] if r.stdout_text.split() else "?"
    return Verdict(not bad and uid != "0", f"uid {uid}; privileged operations that worked: {bad or 'none'}")


#: Every case by name.
CASES: dict[str, Callable[[Sandbox, HostProbe], Verdict]] = {
    fn.__name__: fn for fn in (
        read_host_secret, read_file_api_symlink, read_root_home, read_shadow, write_outside,
        see_host_processes, signal_host, connect_loopback, connect_outside, fork_bomb, memory_bomb,
        disk_fill, huge_file, infinite_loop, sleep_forever, huge_output, daemon_outlives_call,
        escape_privileges,
    )
}
