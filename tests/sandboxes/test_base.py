"""The contract's plain parts: results, argument checks, the provider registry, refusals."""

from __future__ import annotations

import pytest

from steadyhand.core.errors import ConfigurationError
from steadyhand.sandboxes import (
    CommandFailedError,
    ExecResult,
    SandboxUnavailableError,
    open_sandbox,
    providers,
)
from steadyhand.sandboxes import local as local_mod
from steadyhand.sandboxes.base import validate_exec_args

pytestmark = pytest.mark.unit


def test_exec_result_flags_and_check() -> None:
    ok = ExecResult(returncode=0, stdout=b"hi\xff", stderr=b"")
    assert ok.ok and not ok.truncated and ok.stdout_text == "hi\ufffd"
    assert ok.check() is ok
    failed = ExecResult(returncode=2, stdout=b"", stderr=b"boom\n", stderr_truncated=True)
    assert not failed.ok and failed.truncated
    with pytest.raises(CommandFailedError, match="exited with 2: boom"):
        failed.check()
    with pytest.raises(CommandFailedError, match="timed out"):
        ExecResult(returncode=-9, stdout=b"", stderr=b"", timed_out=True).check()


@pytest.mark.parametrize(("argv", "timeout", "limit", "message"), [
    ([], 1, 1, "empty"),
    ("echo hi", 1, 1, "one string"),
    (["echo", 3], 1, 1, "strings"),
    (["a\0b"], 1, 1, "NUL"),
    (["true"], 0, 1, "timeout"),
    (["true"], 1, 0, "output_limit"),
])
def test_exec_arguments_are_checked(argv: object, timeout: float, limit: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_exec_args(argv, timeout, limit)  # type: ignore[arg-type]


def test_registry_knows_both_providers_and_names_unknown_ones() -> None:
    assert {"local", "docker"} <= set(providers.names())
    with pytest.raises(ConfigurationError, match=r"unknown sandbox provider 'nope'.*docker, local"):
        open_sandbox("nope")


def test_local_refuses_without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_mod, "bwrap_path", lambda: None)
    monkeypatch.delenv("STEADYHAND_ALLOW_UNSANDBOXED", raising=False)
    with pytest.raises(SandboxUnavailableError, match="allow_unsandboxed=True"):
        open_sandbox("local")


def test_unsandboxed_mode_warns_loudly_and_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_mod, "bwrap_path", lambda: None)
    with pytest.warns(RuntimeWarning, match="UNSANDBOXED"), open_sandbox("local", allow_unsandboxed=True) as box:
        assert not box.sandboxed  # type: ignore[attr-defined]
        result = box.exec(["sh", "-c", "cat; pwd"], stdin="in\n", cwd=".")
        assert result.stdout_text == f"in\n{box.workdir}\n"
        box.write_file("f.txt", "x")
        assert box.read_text("f.txt") == "x"
        assert box.exec(["sleep", "30"], timeout=0.3).timed_out
        assert box.live_processes() == 0


@pytest.mark.parametrize(("options", "self_signal_kills"), [
    ({"reuse_namespaces": False, "init_process": False}, False),
    ({"reuse_namespaces": False, "init_process": True}, True),
    ({"reuse_namespaces": True}, True),
])
def test_local_pid1_choice(options: dict[str, bool], self_signal_kills: bool) -> None:
    """As documented: only a per-call command running as PID 1 ignores its own SIGTERM."""
    if local_mod.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    with open_sandbox("local", **options) as box:
        r = box.exec(["sh", "-c", "kill $$; echo survived"])
        assert (r.returncode == 128 + 15 and r.stdout == b"") is self_signal_kills
        assert box.exec(["sh", "-c", "sleep 60 & setsid sleep 61 & wait"], timeout=0.3).timed_out
        assert box.live_processes() == 0


def test_persistent_sandbox_survives_the_death_of_its_call_server() -> None:
    """If the persistent bwrap dies (here: killed from the host), the next call restarts it; files stay."""
    import os
    import signal
    import time

    from steadyhand.sandboxes import _host

    if local_mod.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    with open_sandbox("local", reuse_namespaces=True) as box:
        box.write_file("kept.txt", "still here")
        first = box._inner_pid  # type: ignore[attr-defined]
        os.killpg(first, signal.SIGKILL)
        for _ in range(500):  # the call server dies with its bwrap a moment later
            if not _host.pids_of_uid(box.uid):  # type: ignore[attr-defined]
                break
            time.sleep(0.01)
        assert box.read_text("kept.txt") == "still here"
        assert box._inner_pid != first  # type: ignore[attr-defined]
        # Calls cannot take the call server down: PID 1 ignores SIGKILL from inside its namespace.
        assert box.exec(["sh", "-c", "kill -9 1; kill -9 -1; echo alive"]).stdout == b"alive\n"
        assert box.exec(["echo", "ok"]).stdout == b"ok\n"
        assert box._inner_pid != first and box.live_processes() == 0  # type: ignore[attr-defined]
