"""The program that runs *inside* a sandbox: load source, call one function on many inputs.

This file is sent as the ``-c`` program of a sandboxed ``python3`` (standard library
only, so any Python 3.10+ runs it). The host imports it only for :func:`encode` and
:func:`decode`, which are pure data transformations; nothing in here ever executes
hidden or model-written code on the host.

Protocol: one JSON object on stdin, one result line per item on the original stdout,
each line prefixed with the request's ``nonce`` so that whatever the loaded code
writes (it is redirected anyway) can never be taken for a result.

``{"mode": "call", "source", "name", "calls": [{"args", "kwargs", "timeout"}], ...}``
    Load ``source`` once (module-level code gets ``load_timeout`` seconds), then run
    each call in a forked child of the loaded process: every call starts from the
    state right after loading, is killed at its own ``timeout`` (even inside C code),
    and a crash, ``os._exit`` or memory exhaustion ends only that call. With
    ``"isolation": "worker"`` one forked worker runs the calls in turn instead (an
    alarm per call; a worker that hangs past a call's deadline or dies is replaced
    by a fresh fork of the loaded state, going on with the next call): much cheaper
    per call, at the price of module state carrying over between calls. Lines:
    ``{"load": "ok"}`` or ``{"load": "error", "type", "message"}``, then per call
    ``{"i", "status": "ok", "value", "text", "repr", "stdout", "s"}``,
    ``{"i", "status": "error" | "crash", "type", "message", "stdout", "s"}`` or
    ``{"i", "status": "timeout", "s"}``. After ``max_timeouts`` timeouts, or once
    ``budget_s`` seconds have passed, it stops with ``{"stop": why}``. Last:
    ``{"done": true}``.
``{"mode": "eval", "exprs": [...], "timeout"}``
    Evaluate each expression in a forked child (no hidden code is loaded in this
    mode) and return its encoded value: ``{"i", "status": "ok", "value"}`` or an
    error, crash or timeout line.

Values travel as tagged JSON (see :func:`encode`): plain JSON for None, bools,
finite floats, strings and lists; ``{"$": tag, "v": ...}`` for the rest. Objects
that are not plain data travel as their type name and ``repr`` and compare by those.
"""

from __future__ import annotations
import __future__

import base64
import builtins
import hashlib
import json
import math
import os
import signal
import sys
import time
from typing import Any

#: Structures with more nodes than this travel as a digest of their repr.
MAX_NODES = 200_000
MAX_DEPTH = 60
BIG_INT = 10 ** 18


class Opaque:
    """A value that is not plain data: known by its type name and repr (or digest)."""

    __slots__ = ("repr", "type")

    def __init__(self, type_name: str, text: str) -> None:
        self.type = type_name
        self.repr = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and (self.type, self.repr) == (other.type, other.repr)

    def __hash__(self) -> int:
        return hash((self.type, self.repr))

    def __repr__(self) -> str:
        return self.repr


class _TooBig(Exception):
    pass


def _type_name(value: Any) -> str:
    cls = type(value)
    module = getattr(cls, "__module__", "")
    return cls.__qualname__ if module in ("builtins", "__main__", "__codearc__") else f"{module}.{cls.__qualname__}"


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return {"$": "float", "v": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


def _encode(value: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise _TooBig
    cls = type(value)
    if value is None or cls is bool or cls is str:
        return value
    if cls is int:
        return value if -BIG_INT < value < BIG_INT else {"$": "int", "v": hex(value)}
    if cls is float:
        return _float(value)
    if cls is list:
        return [_encode(v, depth + 1, budget) for v in value]
    if cls is tuple:
        return {"$": "tuple", "v": [_encode(v, depth + 1, budget) for v in value]}
    if cls is dict:
        return {"$": "dict", "v": [[_encode(k, depth + 1, budget), _encode(v, depth + 1, budget)]
                                   for k, v in value.items()]}
    if cls is set or cls is frozenset:
        items = [_encode(v, depth + 1, budget) for v in value]
        items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return {"$": cls.__name__, "v": items}
    if cls is bytes or cls is bytearray:
        return {"$": cls.__name__, "v": base64.b64encode(bytes(value)).decode("ascii")}
    if cls is complex:
        return {"$": "complex", "v": [_float(value.real), _float(value.imag)]}
    if cls is range:
        return {"$": "range", "v": [value.start, value.stop, value.step]}
    if cls is Opaque:
        return {"$": "object", "type": value.type, "v": value.repr}
    return {"$": "object", "type": _type_name(value), "v": _safe_repr(value, 2000)}


def encode(value: Any) -> Any:
    """``value`` as tagged JSON data; structures too big to send become a digest."""
    try:
        return _encode(value, 0, [MAX_NODES])
    except (_TooBig, RecursionError):
        text = _safe_repr(value, None)
        return {"$": "object", "type": _type_name(value),
                "v": "<digest " + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest() + ">"}


def _decode_float(data: Any) -> float:
    return float(data["v"]) if isinstance(data, dict) else float(data)


def decode(data: Any) -> Any:
    """The value :func:`encode` produced ``data`` from (objects come back as :class:`Opaque`).

    Raises:
        ValueError: ``data`` is not tagged JSON of this protocol.
    """
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict) or "$" not in data:
        raise ValueError(f"not an encoded value: {data!r}"[:200])
    tag, v = data["$"], data.get("v", 0)
    if v is None:
        raise ValueError(f"encoded {tag} has no value")
    if tag == "int":
        return int(v, 16)
    if tag == "float":
        return float(v)
    if tag == "tuple":
        return tuple(decode(x) for x in v)
    if tag == "dict":
        return {decode(k): decode(x) for k, x in v}
    if tag == "set":
        return {decode(x) for x in v}
    if tag == "frozenset":
        return frozenset(decode(x) for x in v)
    if tag == "bytes":
        return base64.b64decode(v)
    if tag == "bytearray":
        return bytearray(base64.b64decode(v))
    if tag == "complex":
        return complex(_decode_float(v[0]), _decode_float(v[1]))
    if tag == "range":
        return range(*v)
    if tag == "object":
        return Opaque(str(data.get("type", "object")), str(v))
    raise ValueError(f"unknown value tag {tag!r}")


def _safe_repr(value: Any, limit: int | None, use_str: bool = False) -> str:
    try:
        text = str(value) if use_str else repr(value)
    except BaseException as exc:  # a broken __repr__ must not end the run
        text = f"<{_type_name(value)} whose {'str' if use_str else 'repr'} raised {type(exc).__name__}>"
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


class _LoadTimeout(BaseException):
    """Raised by the alarm while module-level code loads."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _LoadTimeout


class _CappedText:
    """A stand-in for sys.stdout/sys.stderr that keeps the first ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        if self.size < self.limit:
            piece = str(text)[: self.limit - self.size]
            self.parts.append(piece)
            self.size += len(piece)
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.size = [], 0
        return text


def _error(exc: BaseException, chars: int) -> dict[str, Any]:
    return {"status": "error", "type": type(exc).__name__, "message": _safe_repr(exc, chars, use_str=True)}


def _fork() -> int:
    """``os.fork``, retried for a while when the process limit is reached (a fork bomb's leftovers)."""
    for attempt in range(20):
        try:
            return os.fork()
        except BlockingIOError:
            _reap()
            time.sleep(0.02 * min(attempt + 1, 5))
    return os.fork()


def _become_subreaper() -> None:
    """Adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so that they can be reaped here."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reap() -> dict[int, int]:
    """Reap every child that has exited; returns their statuses by pid."""
    reaped: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped[pid] = status


def _end_group(pid: int) -> int:
    """Kill the process group ``pid`` leads (a call and anything it started), reap it all, and
    return the leader's wait status. Orphans come back to this process (a subreaper), so a fork
    bomb's remains are reaped too instead of holding the sandbox's process limit."""
    status: int | None = None
    deadline = time.perf_counter() + 2.0
    while True:
        try:
            os.kill(-pid, signal.SIGKILL)
            gone = False
        except OSError:
            gone = True
        reaped = _reap()
        if pid in reaped:
            status = reaped[pid]
        if (gone and status is not None) or time.perf_counter() > deadline:
            break
        time.sleep(0.002)
    if status is None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = 0
    return status


def _forked(thunk: Any, timeout: float, captured: _CappedText) -> dict[str, Any]:
    """Run ``thunk()`` (which returns a result dict) in a forked child, killed after ``timeout`` s.

    A fresh child per call gives every call the module state right after loading,
    bounds it by a hard deadline (even inside C code), and confines crashes,
    ``os._exit`` and memory exhaustion to that call.
    """
    import selectors

    read_fd, write_fd = os.pipe()
    started = time.perf_counter()
    pid = _fork()
    if pid == 0:  # the child: never returns
        status = 0
        me = os.getpid()
        try:
            os.close(read_fd)
            os.setpgid(0, 0)
            try:
                item = thunk()
            except BaseException as exc:
                item = _error(exc, 2000)
            if os.getpid() != me:  # a process the call forked came back here: it must not report
                os._exit(0)
            item["stdout"] = captured.take()
            try:
                data = json.dumps(item, allow_nan=False).encode()
            except (TypeError, ValueError) as exc:
                data = json.dumps({"status": "error", "type": "UnsendableResult", "message": str(exc)[:200],
                                   "stdout": ""}).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
        except BaseException:
            status = 70
        finally:
            os._exit(status)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = started + timeout
    timed_out = False
    with selectors.DefaultSelector() as selector:
        selector.register(read_fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                timed_out = True
                break
            if not selector.select(left):
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_fd)
    status = _end_group(pid)  # the call's own children too, finished or not
    seconds = time.perf_counter() - started
    if timed_out:
        return {"status": "timeout", "s": seconds}
    try:
        item = json.loads(b"".join(chunks).decode("utf-8"))
    except ValueError:
        if os.WIFSIGNALED(status):
            why = f"the process was killed by signal {os.WTERMSIG(status)}"
        else:
            why = f"the process exited with status {os.WEXITSTATUS(status)} without returning"
        item = {"status": "crash", "type": "Crash", "message": why}
    item["s"] = seconds
    return item


class _CallTimeout(BaseException):
    """Raised by the alarm in a worker; a BaseException so ``except Exception`` does not swallow it."""


def _on_call_alarm(signum: int, frame: Any) -> None:
    raise _CallTimeout


def _send(fd: int, item: dict[str, Any]) -> None:
    try:
        data = json.dumps(item, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        data = json.dumps({"i": item.get("i"), "status": "error", "type": "UnsendableResult",
                           "message": str(exc)[:200], "stdout": "", "s": item.get("s", 0.0)}).encode()
    view = memoryview(data + b"\n")
    while view:
        view = view[os.write(fd, view):]


def _worker(fd: int, calls: list[dict[str, Any]], start: int, call: Any, captured: _CappedText) -> None:
    """In a forked worker: run ``calls[start:]`` in turn, each under an alarm; never returns."""
    status = 0
    me = os.getpid()
    try:
        signal.signal(signal.SIGALRM, _on_call_alarm)
        for i in range(start, len(calls)):
            started = time.perf_counter()
            try:
                signal.setitimer(signal.ITIMER_REAL, max(float(calls[i].get("timeout", 5)), 0.001))
                try:
                    item = call(calls[i])
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _CallTimeout:
                item = {"status": "timeout"}
            except BaseException as exc:
                item = _error(exc, 2000)
            if os.getpid() != me:  # a process the call forked came back here: it must not report
                os._exit(0)
            item.update({"i": i, "stdout": captured.take(), "s": time.perf_counter() - started})
            _send(fd, item)
    except BaseException:
        status = 70
    finally:
        os._exit(status)


def _supervised(calls: list[dict[str, Any]], call: Any, captured: _CappedText, emit: Any,
                max_timeouts: int, budget_end: float, grace: float = 0.25) -> None:
    """Run ``calls`` in forked workers: one worker runs calls in turn until one hangs past its
    deadline (even in C code) or the worker dies; that call is reported and a fresh worker,
    forked from the loaded state, goes on with the next one."""
    import selectors

    i, timeouts = 0, 0
    while i < len(calls):
        read_fd, write_fd = os.pipe()
        pid = _fork()
        if pid == 0:
            os.close(read_fd)
            os.setpgid(0, 0)
            _worker(write_fd, calls, i, call, captured)
        os.close(write_fd)
        pending = b""
        deadline = time.perf_counter() + float(calls[i].get("timeout", 5)) + grace
        failure = ""
        with selectors.DefaultSelector() as selector:
            selector.register(read_fd, selectors.EVENT_READ)
            while i < len(calls):
                if time.perf_counter() > budget_end:
                    failure = "budget"
                    break
                left = deadline - time.perf_counter()
                if left <= 0:
                    failure = "timeout"
                    break
                if not selector.select(left):
                    continue
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    failure = "crash"
                    break
                pending += chunk
                while b"\n" in pending and i < len(calls):
                    line, pending = pending.split(b"\n", 1)
                    try:
                        item = json.loads(line)
                    except ValueError:
                        continue
                    if item.get("i") != i:  # not the answer to the call in progress
                        continue
                    emit(item)
                    timeouts += item.get("status") == "timeout"
                    i += 1
                    if timeouts >= max_timeouts:
                        failure = "timeouts"
                        break
                    if i < len(calls):
                        deadline = time.perf_counter() + float(calls[i].get("timeout", 5)) + grace
                if failure:
                    break
        os.close(read_fd)
        status = _end_group(pid)
        if failure in ("budget", "timeouts"):
            emit({"stop": failure})
            return
        if failure == "timeout":
            emit({"i": i, "status": "timeout", "s": float(calls[i].get("timeout", 5)) + grace})
            timeouts += 1
            i += 1
            if timeouts >= max_timeouts:
                emit({"stop": "timeouts"})
                return
        elif failure == "crash" and i < len(calls):
            why = (f"the process was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"the process exited with status {os.WEXITSTATUS(status)} without returning")
            emit({"i": i, "status": "crash", "type": "Crash", "message": why, "s": 0.0})
            i += 1


def _ok(value: Any, chars: int) -> dict[str, Any]:
    return {"status": "ok", "value": encode(value), "text": _safe_repr(value, chars, use_str=True),
            "repr": _safe_repr(value, chars)}


def main() -> None:  # pragma: no cover - runs inside the sandbox
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    nonce = request["nonce"].encode()
    out_fd = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    chars = int(request.get("value_chars", 2000))
    captured = _CappedText(int(request.get("stdout_chars", 2000)))
    sys.stdout = sys.stderr = captured  # type: ignore[assignment,unused-ignore]
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    try:
        import resource

        limit = int(request.get("memory_mb", 0)) * 1024 * 1024
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass

    def emit(item: dict[str, Any]) -> None:
        os.write(out_fd, nonce + b" " + json.dumps(item, allow_nan=False).encode() + b"\n")

    budget_end = time.perf_counter() + float(request.get("budget_s", 1e9))
    _become_subreaper()
    if request.get("mode") == "eval":
        for i, expr in enumerate(request["exprs"]):
            item = _forked(lambda e=expr: _ok(eval(e, {"__builtins__": builtins}), chars),
                           float(request.get("timeout", 2)), captured)
            emit({"i": i, **item})
        emit({"done": True})
        return

    import typing

    namespace: dict[str, Any] = {"__name__": "__codearc__", "__builtins__": builtins}
    for name in ("Any", "Callable", "Dict", "Iterable", "List", "Optional", "Set", "Tuple", "Union"):
        namespace[name] = getattr(typing, name)
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        code = compile(request["source"], "<source>", "exec", flags=__future__.annotations.compiler_flag)
        signal.setitimer(signal.ITIMER_REAL, float(request.get("load_timeout", 5)))
        try:
            exec(code, namespace)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        fn = namespace.get(request["name"])
        if not callable(fn):
            raise NameError(f"the code defines no function {request['name']!r}")
        emit({"load": "ok"})
    except _LoadTimeout:
        emit({"load": "error", "type": "TimeoutError", "message": "loading the code timed out"})
        emit({"done": True})
        return
    except BaseException as exc:
        emit({"load": "error", **_error(exc, chars)})
        emit({"done": True})
        return
    captured.take()
    timeouts, max_timeouts = 0, int(request.get("max_timeouts", 3))

    def call(spec: dict[str, Any]) -> dict[str, Any]:
        args = decode(spec.get("args", []))
        kwargs = {k: decode(v) for k, v in spec.get("kwargs", {}).items()}
        return _ok(fn(*args, **kwargs), chars)

    if request.get("isolation") == "worker":
        _supervised(request["calls"], call, captured, emit, max_timeouts, budget_end)
        emit({"done": True})
        return
    for i, spec in enumerate(request["calls"]):
        if time.perf_counter() > budget_end:
            emit({"stop": "budget"})
            break
        item = _forked(lambda s=spec: call(s), float(spec.get("timeout", 5)), captured)
        emit({"i": i, **item})
        timeouts += item["status"] == "timeout"
        if timeouts >= max_timeouts:
            emit({"stop": "timeouts"})
            break
    emit({"done": True})


if __name__ == "__main__":  # pragma: no cover - runs inside the sandbox
    main()
