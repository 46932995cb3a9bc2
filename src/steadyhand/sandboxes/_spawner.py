"""A tiny fork server each local sandbox keeps, so a call costs one fork of a small process.

Run as ``python3 -I -S _spawner.py FD`` (no steadyhand imports). It sits in the
sandbox's cgroups (its children inherit them without a costly migration), and for each
request received on the SOCK_SEQPACKET socket FD — a JSON object ``{argv, env, uid,
rlimits, cwd}`` plus descriptors (stdin, stdout, stderr, and any more the command should
inherit as 3, 4...) — it forks a child that starts a new session, takes the descriptors
as 0, 1, 2..., drops to ``uid`` with no groups,
applies the rlimits and execs ``argv``. It answers ``{"pid": N}`` at once and
``{"status": S}`` (``os.waitstatus_to_exitcode``) when the child ends; one request at a
time. It exits when the socket closes, and dies with the process that started it.
"""

import json
import os
import resource
import signal
import socket
import sys
import warnings  # noqa: F401  (os.execvpe imports it lazily, and after setuid it may be unreadable)

_MAX_MESSAGE = 4 << 20
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:  # best effort: without it the socket's EOF still ends the loop
        pass


def _child(req: dict, fds: list) -> None:
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(len(fds), 1 << 16)
        for name, value in req.get("rlimits", []):
            limit = getattr(resource, name)
            resource.setrlimit(limit, (value, value))
        uid = req.get("uid")
        if uid is not None and uid != os.geteuid():
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        if req.get("cwd"):
            os.chdir(req["cwd"])
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.execvpe(req["argv"][0], req["argv"], req["env"])
    except FileNotFoundError as exc:
        os.write(2, f"steadyhand: {exc}\n".encode())
        os._exit(127 if exc.filename == req["argv"][0] else 125)
    except PermissionError as exc:
        os.write(2, f"steadyhand: {exc}\n".encode())
        os._exit(126 if exc.filename == req["argv"][0] else 125)
    except BaseException as exc:
        os.write(2, f"steadyhand: cannot start the command: {exc!r}\n".encode())
        os._exit(125)


def main() -> None:
    _die_with_parent()
    sock = socket.socket(fileno=int(sys.argv[1]))
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 8)
        except OSError:
            return
        if not msg:
            return
        req = json.loads(msg)
        pid = os.fork()
        if pid == 0:
            _child(req, fds)
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())
        _, status = os.waitpid(pid, 0)
        sock.send(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode())


if __name__ == "__main__":
    main()
