"""Calling a function from source, many times, inside a sandbox: :class:`FunctionRunner`.

The hidden function and every candidate run only here, never on the host. One
:meth:`FunctionRunner.run` is one sandboxed ``python3`` process running
:mod:`steadyhand.environments.code.driver`: the source is loaded once and each call
runs in a forked child with its own hard timeout, so a batch of a few hundred oracle
inputs costs one sandbox start and well under a millisecond of overhead per input,
while each call still starts from fresh module state (as CodeARC's fresh process per
query does). Arguments go in, and values come back, as tagged JSON data
(:func:`~steadyhand.environments.code.driver.encode`), decoded on the host into plain
Python data that is compared with ``==``.

The sandbox contract (:class:`steadyhand.sandboxes.Sandbox`) has no batch call; this
module is that batch call, built on ``Sandbox.exec``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from steadyhand.environments.code import driver
from steadyhand.sandboxes import Sandbox, SandboxFault

DRIVER_SOURCE = Path(driver.__file__).read_text()

Status = Literal["ok", "error", "crash", "timeout", "skipped"]


@dataclass(frozen=True)
class Call:
    """Arguments of one call, as plain data (what :func:`driver.encode` can carry)."""

    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """A stable identity for de-duplication and caching (equal data, equal key)."""
        return json.dumps([driver.encode(list(self.args)), [[k, driver.encode(v)] for k, v in self.kwargs]],
                          sort_keys=True)

    def render(self, name: str, *, limit: int = 400) -> str:
        """``name(arg, ..., key=value)`` with each argument's repr."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        text = f"{name}({', '.join(parts)})"
        return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class CallResult:
    """What one call did.

    Attributes:
        status: ``ok`` (returned ``value``), ``error`` (raised ``error_type``:
            ``message``), ``crash`` (the process died: killed, ``os._exit``...),
            ``timeout`` (killed at its deadline) or ``skipped`` (not run: the batch
            stopped early or the code did not load).
        value: the decoded return value (plain data; other objects as ``driver.Opaque``).
        text: ``str(value)`` as computed in the sandbox (clipped) - what CodeARC prints.
        repr: ``repr(value)``, clipped.
        stdout: what the call printed (clipped).
    """

    status: Status
    value: Any = None
    text: str = ""
    repr: str = ""
    error_type: str = ""
    message: str = ""
    stdout: str = ""
    seconds: float = 0.0

    @property
    def raised(self) -> bool:
        """The call ended in an exception or a crash (CodeARC's "an exception was raised")."""
        return self.status in ("error", "crash")

    @property
    def conclusive(self) -> bool:
        """It returned or raised; timeouts and skipped calls tell nothing."""
        return self.status in ("ok", "error", "crash")

    def describe(self) -> str:
        """The value's ``str`` or ``raised Type: message``, for people and models."""
        if self.status == "ok":
            return self.text
        if self.raised:
            return f"raised {self.error_type}: {self.message}" if self.message else f"raised {self.error_type}"
        return "timed out" if self.status == "timeout" else "not run"


@dataclass
class BatchResult:
    """All calls of one :meth:`FunctionRunner.run`; ``load_error`` is set when the code did not load."""

    results: list[CallResult]
    load_error: tuple[str, str] | None = None
    processes: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)


class FunctionRunner:
    """Runs a named function from source on many argument lists inside ``sandbox``.

    Args:
        sandbox: where the processes run (the runner never closes it).
        python: the interpreter inside the sandbox.
        memory_mb: address-space limit per process (calls that exceed it raise
            MemoryError or crash; either way only that call).
        value_chars: ``str``/``repr`` of values and messages are clipped to this.
        stdout_chars: what a call prints is kept up to this many characters.
    """

    def __init__(self, sandbox: Sandbox, *, python: str = "python3", memory_mb: int = 512,
                 value_chars: int = 2000, stdout_chars: int = 2000) -> None:
        self.sandbox = sandbox
        self.python = python
        self.memory_mb = memory_mb
        self.value_chars = value_chars
        self.stdout_chars = stdout_chars

    def run(self, source: str, name: str, calls: Sequence[Call], *, timeout: float | Sequence[float] = 5.0,
            max_timeouts: int = 3, load_timeout: float = 5.0, budget_s: float | None = None,
            isolation: Literal["call", "worker"] = "call") -> BatchResult:
        """Load ``source`` once and call ``name`` on each of ``calls``; one result per call, in order.

        Args:
            timeout: per-call wall-clock limit in seconds (one for all, or one per call).
            isolation: ``call`` forks a fresh process per call (every call sees the state
                right after loading, as CodeARC's fresh process per query); ``worker`` runs
                the calls in turn in one forked worker, replaced when a call hangs or kills
                it - about a hundred times cheaper per call, for oracle batches.
            max_timeouts: after this many timeouts the remaining calls are ``skipped``.
            load_timeout: limit for the module-level code.
            budget_s: after this many seconds of calls the remaining ones are ``skipped``.

        Raises:
            SandboxFault: the sandbox broke (not the code: code that fails to load,
                crashes or hangs is reported in the result).
        """
        timeouts = [float(timeout)] * len(calls) if isinstance(timeout, int | float) else [float(t) for t in timeout]
        if len(timeouts) != len(calls):
            raise ValueError(f"{len(calls)} calls but {len(timeouts)} timeouts")
        request = {
            "mode": "call", "isolation": isolation, "source": source, "name": name, "load_timeout": load_timeout,
            "max_timeouts": max_timeouts, "budget_s": budget_s if budget_s is not None else 1e9,
            "calls": [{"args": driver.encode(list(c.args)), "kwargs": {k: driver.encode(v) for k, v in c.kwargs},
                       "timeout": t} for c, t in zip(calls, timeouts, strict=True)],
        }
        limit = load_timeout + (min(sum(timeouts), budget_s) if budget_s is not None else sum(timeouts))
        batch = BatchResult(results=[])
        items, load, stop, seconds = self._exec(request, limit + 2.0 + 0.01 * len(calls))
        batch.processes, batch.seconds, batch.stopped = 1, seconds, stop
        if load is not None and load.get("load") == "error":
            batch.load_error = (str(load.get("type", "Error")), str(load.get("message", "")))
            batch.results = [CallResult("skipped")] * len(calls)
            return batch
        batch.results = [self._result(items.get(i)) for i in range(len(calls))]
        if load is None:
            batch.notes.append("the process ended before loading finished")
        return batch

    def evaluate(self, expressions: Sequence[str], *, timeout: float = 2.0) -> list[CallResult]:
        """Evaluate Python expressions (model-written argument lists) in the sandbox.

        Used for invocation arguments that are not plain literals; no hidden code is
        loaded in that process, so an argument expression cannot reach the hidden
        function. Each result's ``value`` is the decoded data.
        """
        if not expressions:
            return []
        request = {"mode": "eval", "exprs": list(expressions), "timeout": timeout}
        items, _, _, _ = self._exec(request, timeout * len(expressions) + 3.0)
        return [self._result(items.get(i)) for i in range(len(expressions))]

    # -- plumbing ------------------------------------------------------------------------

    def _exec(self, request: dict[str, Any], limit: float
              ) -> tuple[dict[int, dict[str, Any]], dict[str, Any] | None, str | None, float]:
        nonce = secrets.token_hex(16)
        payload = json.dumps({**request, "nonce": nonce, "memory_mb": self.memory_mb,
                              "value_chars": self.value_chars, "stdout_chars": self.stdout_chars},
                             allow_nan=False)
        result = self.sandbox.exec([self.python, "-I", "-S", "-c", DRIVER_SOURCE], stdin=payload,
                                   env={"PYTHONHASHSEED": "0"}, timeout=limit,
                                   output_limit=64_000_000)
        if result.returncode == 127:
            raise SandboxFault(f"{self.python} is not available in the sandbox: {result.stderr_text[-300:]}")
        items: dict[int, dict[str, Any]] = {}
        load: dict[str, Any] | None = None
        stop: str | None = None
        prefix = nonce.encode() + b" "
        for line in result.stdout.splitlines():
            if not line.startswith(prefix):
                continue
            try:
                item = json.loads(line[len(prefix):])
            except ValueError:
                continue
            if "load" in item and load is None:
                load = item
            elif "stop" in item:
                stop = str(item["stop"])
            elif isinstance(item.get("i"), int) and item["i"] not in items:
                items[item["i"]] = item
        if result.timed_out and stop is None:
            stop = "the sandboxed process ran out of time"
        return items, load, stop, result.duration_s

    def _result(self, item: dict[str, Any] | None) -> CallResult:
        if item is None:
            return CallResult("skipped")
        status = item.get("status")
        seconds = float(item.get("s", 0.0))
        stdout = str(item.get("stdout", ""))
        if status == "ok":
            try:
                value = driver.decode(item.get("value"))
            except (ValueError, TypeError, KeyError) as exc:
                return CallResult("error", error_type="UndecodableResult", message=str(exc)[:200], seconds=seconds)
            return CallResult("ok", value=value, text=str(item.get("text", "")), repr=str(item.get("repr", "")),
                              stdout=stdout, seconds=seconds)
        if status in ("error", "crash"):
            return CallResult(status, error_type=str(item.get("type", "Error")),
                              message=str(item.get("message", "")), stdout=stdout, seconds=seconds)
        if status == "timeout":
            return CallResult("timeout", stdout=stdout, seconds=seconds)
        return CallResult("skipped")
