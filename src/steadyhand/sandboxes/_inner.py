"""The in-sandbox call server of the local provider's persistent mode (no steadyhand imports).

Runs as ``python3 -I -S /.steadyhand/inner.py`` as PID 1 of a long-lived bubblewrap
sandbox, talking to the host over the SOCK_SEQPACKET socket on descriptor 3. For each
request (JSON ``{argv, env, cwd, rlimits}`` plus stdin/stdout/stderr descriptors) it forks a child
that execs ``argv``, answers ``{"pid": N}``, and when the child ends (or the host sends
``{"kill": true}``) kills every other process of the sandbox — as PID 1, ``kill(-1)``
reaches all of them and nothing outside — reaps them, and answers ``{"status": S}``.
So nothing a call starts outlives it. It makes itself non-dumpable, so code running as
the same user cannot ptrace it or read its memory.
"""

import contextlib
import json
import os
import resource
import select
import signal
import socket
import sys

_MAX_MESSAGE = 4 << 20
_PR_SET_DUMPABLE = 4


def _harden() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0)
    except Exception:
        sys.stderr.write("steadyhand inner server: cannot make itself non-dumpable\n")


def _child(req: dict, fds: list) -> None:
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, 1 << 16)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        for name, value in req.get("rlimits", []):
            resource.setrlimit(getattr(resource, name), (value, value))
        try:
            os.chdir(req["cwd"])
        except OSError as exc:
            os.write(2, f"steadyhand: chdir: {exc.strerror}\n".encode())
            os._exit(125)
        os.execvpe(req["argv"][0], req["argv"], req["env"])
    except FileNotFoundError as exc:
        os.write(2, f"steadyhand: {req['argv'][0]}: {exc.strerror}\n".encode())
        os._exit(127)
    except PermissionError as exc:
        os.write(2, f"steadyhand: {req['argv'][0]}: {exc.strerror}\n".encode())
        os._exit(126)
    except BaseException as exc:
        os.write(2, f"steadyhand: cannot start the command: {exc!r}\n".encode())
        os._exit(125)


def _reap_everything() -> None:
    """Kill every process but this one, and wait until all are reaped."""
    while True:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def main() -> None:
    _harden()
    sock = socket.socket(fileno=3)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 3)
        except OSError:
            return
        if not msg:
            return
        req = json.loads(msg)
        if "argv" not in req:
            continue  # a late kill for a call that already ended
        pid = os.fork()
        if pid == 0:
            _child(req, fds)
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())
        pidfd = os.pidfd_open(pid)
        status = None
        while status is None:
            ready, _, _ = select.select([pidfd, sock.fileno()], [], [])
            if sock.fileno() in ready:
                order = sock.recv(_MAX_MESSAGE)
                if not order:
                    _reap_everything()
                    return
                os.kill(-1, signal.SIGKILL)
            if pidfd in ready:
                _, raw = os.waitpid(pid, 0)
                status = os.waitstatus_to_exitcode(raw)
        os.close(pidfd)
        _reap_everything()
        sock.send(json.dumps({"status": status}).encode())


if __name__ == "__main__":
    main()
