"""Calling functions inside a real bubblewrap sandbox: results, and misbehaviour contained per call."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from steadyhand.environments.code.execution import Call, FunctionRunner

ABUSE = '''
import os
import socket

STATE = []

def f(mode):
    STATE.append(mode)
    if mode == "value":
        return {"s": {"b", "a"}, "t": (1, 2.5), "n": None, "state": len(STATE)}
    if mode == "raise":
        raise KeyError("missing")
    if mode == "loop":
        while True:
            pass
    if mode == "c-loop":
        return sum(range(10 ** 13))
    if mode == "catch-all-loop":
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
    if mode == "exit":
        os._exit(3)
    if mode == "memory":
        return len(bytearray(8 * 1024 ** 3))
    if mode == "print":
        print("x" * 10_000_000)
        return "printed"
    if mode == "write":
        with open(HOST_FILE, "w") as fh:
            fh.write("pwned")
        return "wrote"
    if mode == "read":
        with open(HOST_FILE) as fh:
            return fh.read()
    if mode == "network":
        socket.create_connection(("127.0.0.1", 22), timeout=1)
        return "connected"
    if mode == "fork-bomb":
        while True:
            os.fork()
    return mode
'''


def test_values_and_exceptions_come_back(runner: FunctionRunner) -> None:
    batch = runner.run(ABUSE.replace("HOST_FILE", "'/nonexistent'"), "f",
                       [Call(("value",)), Call(("raise",)), Call(("value",)), Call((), (("mode", "kw"),))])
    value, raised, again, keyword = batch.results
    assert value.status == "ok" and value.value == {"s": {"a", "b"}, "t": (1, 2.5), "n": None, "state": 1}
    assert again.value["state"] == 1  # every call starts from the state right after loading
    assert raised.raised and raised.error_type == "KeyError" and raised.message == "'missing'"
    assert keyword.value == "kw"
    assert batch.processes == 1 and batch.load_error is None


@pytest.mark.parametrize("isolation", ["call", "worker"])
def test_each_kind_of_misbehaviour_ends_only_its_own_call(runner: FunctionRunner, tmp_path: Path,
                                                          isolation: Literal["call", "worker"]) -> None:
    host_file = tmp_path / "host.txt"
    host_file.write_text("secret")
    modes = ["loop", "c-loop", "catch-all-loop", "exit", "memory", "print", "write", "read", "network",
             "fork-bomb", "value"]
    batch = runner.run(ABUSE.replace("HOST_FILE", repr(str(host_file))), "f", [Call((m,)) for m in modes],
                       timeout=0.5, max_timeouts=10, isolation=isolation)
    got = dict(zip(modes, batch.results, strict=True))
    assert got["loop"].status == got["c-loop"].status == got["catch-all-loop"].status == "timeout"
    assert got["exit"].status == "crash" and "status 3" in got["exit"].message
    assert got["memory"].raised
    assert got["print"].status == "ok" and got["print"].text == "printed" and len(got["print"].stdout) <= 2000
    assert got["write"].raised and got["read"].raised       # the host's files are not there
    assert got["network"].raised                             # no network, not even loopback
    assert got["fork-bomb"].status in ("timeout", "error", "crash")
    assert got["value"].status == "ok"                       # and the batch went on
    assert host_file.read_text() == "secret"


def test_code_that_does_not_load_is_reported(runner: FunctionRunner) -> None:
    for source, kind in [("def f(:\n", "SyntaxError"), ("raise RuntimeError('at import')\n", "RuntimeError"),
                         ("def g(x):\n    return x\n", "NameError"), ("while True:\n    pass\n", "TimeoutError")]:
        batch = runner.run(source, "f", [Call((1,))], load_timeout=0.5)
        assert batch.load_error is not None and batch.load_error[0] == kind
        assert [r.status for r in batch.results] == ["skipped"]


@pytest.mark.parametrize("isolation", ["call", "worker"])
def test_a_batch_stops_after_too_many_timeouts(runner: FunctionRunner, isolation: Literal["call", "worker"]) -> None:
    source = "def f(x):\n    while x:\n        pass\n    return x\n"
    batch = runner.run(source, "f", [Call((1,)), Call((0,)), Call((1,)), Call((0,)), Call((1,))], timeout=0.3,
                       max_timeouts=2, isolation=isolation)
    assert [r.status for r in batch.results] == ["timeout", "ok", "timeout", "skipped", "skipped"]
    assert batch.stopped == "timeouts"


def test_a_worker_carries_state_between_calls_and_is_replaced_after_a_crash(runner: FunctionRunner) -> None:
    batch = runner.run(ABUSE.replace("HOST_FILE", "'/nonexistent'"), "f",
                       [Call(("value",)), Call(("value",)), Call(("exit",)), Call(("value",))], isolation="worker")
    states = [r.value["state"] if r.status == "ok" else r.status for r in batch.results]
    assert states == [1, 2, "crash", 1]  # the replacement worker starts from the loaded state


def test_annotations_need_no_imports(runner: FunctionRunner) -> None:
    batch = runner.run("def f(x: List[int]) -> Optional[Foo]:\n    return x\n", "f", [Call(([1],))])
    assert batch.results[0].value == [1]
