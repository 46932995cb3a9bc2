"""Checks that any :class:`~steadyhand.sandboxes.base.Sandbox` provider keeps the contract.

A third-party provider proves itself with::

    from steadyhand.sandboxes.conformance import Conformance

    suite = Conformance(lambda: MySandbox())
    failures = suite.run_all()      # {check name: message} for the checks that failed

or, in pytest, one test per check (see ``tests/sandboxes/test_conformance.py``)::

    @pytest.mark.parametrize("check", CHECKS)
    def test_conformance(suite, check):
        suite.run(check)

Each check raises :class:`ConformanceError` naming what the provider did wrong. Most
share one sandbox; those that close or exhaust a sandbox open their own.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from steadyhand.sandboxes.base import (
    FileTooLargeError,
    Sandbox,
    SandboxClosedError,
)


class ConformanceError(AssertionError):
    """A provider broke a promise of the Sandbox contract."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


def _raises(exc_type: type[BaseException], action: Callable[[], object], what: str) -> None:
    try:
        action()
    except exc_type:
        return
    except Exception as exc:  # the wrong error is a failure too
        raise ConformanceError(f"{what}: expected {exc_type.__name__}, got {exc!r}") from exc
    raise ConformanceError(f"{what}: expected {exc_type.__name__}, nothing was raised")


# -- checks on a shared sandbox ------------------------------------------------------------------

def check_exit_status_and_streams(box: Sandbox) -> None:
    r = box.exec(["sh", "-c", "printf out; printf err >&2; exit 3"])
    _expect(r.returncode == 3, f"exit status 3 reported as {r.returncode}")
    _expect(r.stdout == b"out" and r.stderr == b"err", f"streams mixed up: {r.stdout!r} / {r.stderr!r}")
    _expect(not r.timed_out and not r.truncated and not r.ok, "flags wrong for a plain failure")
    _expect(box.exec(["true"]).ok, "true did not succeed")


def check_stdin(box: Sandbox) -> None:
    data = bytes(range(256)) * 8
    r = box.exec(["cat"], stdin=data)
    _expect(r.stdout == data, "binary stdin did not come back unchanged through cat")
    big = b"x" * 3_000_000
    r = box.exec(["wc", "-c"], stdin=big)
    _expect(r.stdout.split() == [b"3000000"], f"3 MB of stdin arrived as {r.stdout!r}")
    r = box.exec(["cat"], stdin="héllo")
    _expect(r.stdout == "héllo".encode(), "str stdin is not sent as UTF-8")


def check_no_stdin_is_eof(box: Sandbox) -> None:
    r = box.exec(["cat"], timeout=20)
    _expect(not r.timed_out and r.stdout == b"", "without stdin, cat did not read end-of-file")


def check_cwd(box: Sandbox) -> None:
    _expect(box.exec(["pwd"]).stdout.strip().decode() == box.workdir, "default cwd is not workdir")
    box.exec(["mkdir", "-p", "sub/dir"]).check()
    r = box.exec(["pwd"], cwd="sub/dir")
    _expect(r.stdout.strip().decode() == f"{box.workdir}/sub/dir", f"relative cwd gave {r.stdout!r}")
    r = box.exec(["pwd"], cwd=f"{box.workdir}/sub")
    _expect(r.stdout.strip().decode() == f"{box.workdir}/sub", f"absolute cwd gave {r.stdout!r}")
    _raises(FileNotFoundError, lambda: box.exec(["true"], cwd="no/such/dir"), "missing cwd")


def check_env(box: Sandbox) -> None:
    os.environ["STEADYHAND_HOST_ONLY"] = "leak"
    try:
        r = box.exec(["sh", "-c", 'echo "$A|$STEADYHAND_HOST_ONLY|$HOME"'], env={"A": "b c"})
    finally:
        del os.environ["STEADYHAND_HOST_ONLY"]
    a, leaked, home = r.stdout_text.strip().split("|")
    _expect(a == "b c", f"env var arrived as {a!r}")
    _expect(leaked == "", "the host's environment leaked into the sandbox")
    _expect(bool(home) and box.exec(["sh", "-c", 'touch "$HOME/probe"']).ok, "HOME is missing or read-only")


def check_missing_program(box: Sandbox) -> None:
    r = box.exec(["no-such-program-xyz"])
    _expect(r.returncode == 127, f"a missing program gave {r.returncode}, not 127")


def check_bad_arguments(box: Sandbox) -> None:
    _raises(ValueError, lambda: box.exec([]), "empty argv")
    _raises(ValueError, lambda: box.exec("echo hi"), "argv as one string")
    _raises(ValueError, lambda: box.exec(["true"], timeout=0), "zero timeout")
    _raises(ValueError, lambda: box.exec(["true"], output_limit=0), "zero output limit")


def check_timeout(box: Sandbox) -> None:
    r = box.exec(["sleep", "60"], timeout=0.5)
    _expect(r.timed_out and r.returncode == -9, f"sleep 60 with a 0.5 s timeout gave {r!r}")
    _expect(box.live_processes() == 0, "a process survived the timeout")


def check_timeout_kills_tree(box: Sandbox) -> None:
    r = box.exec(["sh", "-c", "sleep 60 & (sleep 61 &) ; setsid sleep 62 & wait"], timeout=0.5)
    _expect(r.timed_out, "the call did not time out")
    _expect(box.live_processes() == 0, f"{box.live_processes()} processes survived the timeout")


def check_output_limit(box: Sandbox) -> None:
    r = box.exec(["sh", "-c", "head -c 200000 /dev/zero; head -c 50 /dev/zero >&2"], output_limit=1000)
    _expect(len(r.stdout) == 1000 and r.stdout_truncated, f"stdout kept {len(r.stdout)} bytes")
    _expect(len(r.stderr) == 50 and not r.stderr_truncated, "stderr was cut though under the limit")
    _expect(r.returncode == 0, "the program was not allowed to finish writing past the limit")
    r = box.exec(["yes"], output_limit=100, timeout=1)
    _expect(r.timed_out and len(r.stdout) == 100 and r.stdout_truncated, "endless output not bounded")


def check_binary_output(box: Sandbox) -> None:
    data = bytes(range(256))
    box.write_file("bytes.bin", data)
    _expect(box.exec(["cat", "bytes.bin"]).stdout == data, "binary stdout was altered")


def check_file_round_trip(box: Sandbox) -> None:
    box.write_file("round/trip.txt", "héllo\nwörld\n")
    _expect(box.read_text("round/trip.txt") == "héllo\nwörld\n", "text changed on the round trip")
    data = os.urandom(300_000)
    box.write_file(f"{box.workdir}/round/blob.bin", data)
    _expect(box.read_file("round/blob.bin") == data, "bytes changed on the round trip")
    box.write_file("round/trip.txt", "short")
    _expect(box.read_text("round/trip.txt") == "short", "overwrite did not replace the file")
    box.write_file("round/empty", b"")
    _expect(box.read_file("round/empty") == b"", "an empty file did not stay empty")


def check_files_shared_with_exec(box: Sandbox) -> None:
    box.write_file("shared.txt", "from host")
    _expect(box.exec(["cat", "shared.txt"]).stdout == b"from host", "exec does not see write_file's file")
    box.exec(["sh", "-c", "echo from sandbox > made.txt; echo tmp > /tmp/t; echo home > ~/h"]).check()
    _expect(box.read_text("made.txt") == "from sandbox\n", "read_file does not see exec's file")
    _expect(box.read_text("/tmp/t") == "tmp\n", "/tmp does not persist between calls")


def check_file_errors(box: Sandbox) -> None:
    _raises(FileNotFoundError, lambda: box.read_file("missing.txt"), "reading a missing file")
    _raises(FileNotFoundError, lambda: box.read_file("missing-dir/x.txt"), "reading in a missing dir")
    box.exec(["mkdir", "-p", "adir"]).check()
    _raises(IsADirectoryError, lambda: box.read_file("adir"), "reading a directory")
    _raises(IsADirectoryError, lambda: box.write_file("adir", "x"), "writing over a directory")
    box.write_file("afile", "x")
    _raises(NotADirectoryError, lambda: box.read_file("afile/child"), "reading below a file")
    _raises(NotADirectoryError, lambda: box.write_file("afile/child", "x"), "writing below a file")
    _raises(FileNotFoundError, lambda: box.write_file("nodir/x", "x", make_parents=False),
            "writing into a missing dir without make_parents")
    _raises(PermissionError, lambda: box.write_file("/usr/steadyhand-probe", "x"), "writing to /usr")


def check_read_limit(box: Sandbox) -> None:
    box.write_file("big.bin", b"z" * 5000)
    _raises(FileTooLargeError, lambda: box.read_file("big.bin", limit=4999), "reading past the limit")
    _expect(len(box.read_file("big.bin", limit=5000)) == 5000, "a file exactly at the limit was refused")


def check_read_only_system(box: Sandbox) -> None:
    r = box.exec(["sh", "-c", "echo x > /etc/steadyhand-probe || echo x > /usr/bin/steadyhand-probe"])
    _expect(not r.ok, "the system directories are writable")


# -- checks that need a sandbox of their own -----------------------------------------------------

def check_close(factory: Callable[[], Sandbox]) -> None:
    box = factory()
    box.write_file("x", "y")
    box.close()
    box.close()  # idempotent
    _raises(SandboxClosedError, lambda: box.exec(["true"]), "exec after close")
    _raises(SandboxClosedError, lambda: box.read_file("x"), "read_file after close")
    _raises(SandboxClosedError, lambda: box.write_file("x", "z"), "write_file after close")
    _expect(box.live_processes() == 0, "processes are left after close")


def check_isolated_from_each_other(factory: Callable[[], Sandbox]) -> None:
    with factory() as a, factory() as b:
        a.write_file("only-in-a.txt", "a")
        _raises(FileNotFoundError, lambda: b.read_file("only-in-a.txt"), "a file leaked to another sandbox")


SHARED_CHECKS: dict[str, Callable[[Sandbox], None]] = {
    name.removeprefix("check_"): fn for name, fn in list(globals().items())
    if name.startswith("check_") and fn.__code__.co_varnames[:1] == ("box",)
}
OWN_CHECKS: dict[str, Callable[[Callable[[], Sandbox]], None]] = {
    "close": check_close, "isolated_from_each_other": check_isolated_from_each_other,
}
#: Every check's name, for ``pytest.mark.parametrize``.
CHECKS: list[str] = sorted([*SHARED_CHECKS, *OWN_CHECKS])


class Conformance:
    """The checks, bound to a provider's factory (a zero-argument callable returning a Sandbox)."""

    def __init__(self, factory: Callable[[], Sandbox]) -> None:
        self.factory = factory
        self._shared: Sandbox | None = None

    def run(self, name: str) -> None:
        """Run one check by name.

        Raises:
            ConformanceError: the provider failed it.
            KeyError: no check of that name.
        """
        if name in OWN_CHECKS:
            OWN_CHECKS[name](self.factory)
            return
        check = SHARED_CHECKS[name]
        if self._shared is None:
            self._shared = self.factory()
        check(self._shared)

    def run_all(self) -> dict[str, str]:
        """Run every check; return ``{name: message}`` for those that failed (empty: all passed)."""
        failures = {}
        try:
            for name in CHECKS:
                try:
                    self.run(name)
                except Exception as exc:
                    failures[name] = f"{type(exc).__name__}: {exc}"
        finally:
            self.close()
        return failures

    def close(self) -> None:
        """Close the shared sandbox."""
        if self._shared is not None:
            self._shared.close()
            self._shared = None
