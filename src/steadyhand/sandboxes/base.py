"""The ``Sandbox`` contract: where model-written code runs, never on the host.

A sandbox is a private file system (a work dir, a home and a /tmp that persist for
the sandbox's life) plus a way to run programs in it under limits. Providers
(``local``: bubblewrap; ``docker``: one container) implement :class:`Sandbox`;
:mod:`steadyhand.sandboxes.conformance` proves each one keeps these promises.

Limits every provider applies (constructor options change them):
- each :meth:`Sandbox.exec` has a wall-clock ``timeout``; when it passes, every
  process the call started is killed and the result says ``timed_out``;
- ``stdout`` and ``stderr`` keep at most ``output_limit`` bytes each; the rest is
  read and dropped (the program is never blocked on a full pipe) and the result
  says which stream was truncated;
- memory, CPU time, process count, file size and the writable disk are bounded;
- no network, unless a provider documents an opt-in;
- processes a call started do not outlive it.
"""

from __future__ import annotations

import abc
import errno
import shlex
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

from pydantic import BaseModel, ConfigDict

from steadyhand.core.errors import ConfigurationError, EnvironmentFault, SteadyhandError

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_OUTPUT_LIMIT = 1_000_000
DEFAULT_READ_LIMIT = 16_000_000
#: The environment every command starts from (the host's environment never leaks in).
BASE_ENV: dict[str, str] = {
    "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
}


class SandboxError(SteadyhandError):
    """Base class of the sandbox layer's own errors."""


class SandboxUnavailableError(SandboxError, ConfigurationError):
    """The provider cannot start here: bubblewrap missing, no Docker daemon, image not built."""


class SandboxClosedError(SandboxError):
    """The sandbox was used after :meth:`Sandbox.close`."""


class SandboxFault(SandboxError, EnvironmentFault):
    """The sandbox itself broke (its container vanished, its setup failed), not the command."""


class FileTooLargeError(SandboxError):
    """``read_file`` found a file larger than the caller's ``limit``."""


class CommandFailedError(SandboxError):
    """Raised by :meth:`ExecResult.check` for a non-zero exit or a timeout."""


class ExecResult(BaseModel):
    """What one :meth:`Sandbox.exec` call did.

    ``returncode`` is the exit status as a shell reports it: 128+N when signal N ended
    the program, 127 when the program cannot be found, 126 when it cannot be executed,
    and -9 after a timeout (every process of the call was killed with SIGKILL).
    """

    model_config = ConfigDict(frozen=True)

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Exit status 0 and no timeout."""
        return self.returncode == 0 and not self.timed_out

    @property
    def truncated(self) -> bool:
        """Either stream hit the output limit."""
        return self.stdout_truncated or self.stderr_truncated

    @property
    def stdout_text(self) -> str:
        """stdout decoded as UTF-8 (undecodable bytes replaced)."""
        return self.stdout.decode("utf-8", "replace")

    @property
    def stderr_text(self) -> str:
        """stderr decoded as UTF-8 (undecodable bytes replaced)."""
        return self.stderr.decode("utf-8", "replace")

    def check(self) -> ExecResult:
        """Return self if :attr:`ok`, else raise :class:`CommandFailedError` with the stderr tail."""
        if not self.ok:
            why = "timed out" if self.timed_out else f"exited with {self.returncode}"
            raise CommandFailedError(f"command {why}: {self.stderr_text[-2000:].strip()}")
        return self


class Sandbox(abc.ABC):
    """An isolated place to run programs and keep files; use it as a context manager.

    Paths given to the methods are paths inside the sandbox; relative ones are
    relative to :attr:`workdir`. Every method raises :class:`SandboxClosedError`
    after :meth:`close` and :class:`SandboxFault` when the sandbox itself died.
    Methods are safe to call from one thread at a time.
    """

    #: The provider's registered name (``local``, ``docker``).
    provider: str = ""

    @property
    @abc.abstractmethod
    def workdir(self) -> str:
        """The writable directory commands start in by default."""

    @abc.abstractmethod
    def exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | str | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
    ) -> ExecResult:
        """Run ``argv`` (no shell) and wait for it, at most ``timeout`` seconds.

        ``env`` is added to :data:`BASE_ENV` plus HOME and TMPDIR; nothing of the
        host's environment is passed. ``stdin`` (str is sent as UTF-8) is written then
        closed; with None the program reads end-of-file.

        Returns an :class:`ExecResult` also for a non-zero exit, a timeout (every
        process the call started is killed) or output past ``output_limit`` bytes per
        stream (kept up to the limit, the rest dropped).

        Raises:
            ValueError: ``argv`` is empty, or ``timeout`` / ``output_limit`` is not positive.
            FileNotFoundError: ``cwd`` does not exist in the sandbox.
            SandboxClosedError, SandboxFault: see the class docstring.
        """

    @abc.abstractmethod
    def live_processes(self) -> int:
        """How many processes of this sandbox are running now (0 between calls, 0 when closed)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Kill whatever still runs and delete the sandbox's files. Idempotent; never raises."""

    # -- files: implemented once, on top of exec, so every provider resolves paths inside ------

    def read_file(self, path: str, *, limit: int = DEFAULT_READ_LIMIT, timeout: float = 30.0) -> bytes:
        """The bytes of the file at ``path``.

        Raises:
            FileNotFoundError: no such file (or a parent is missing).
            IsADirectoryError: ``path`` is a directory.
            NotADirectoryError: a parent of ``path`` is not a directory.
            PermissionError: the sandbox's user may not read it.
            FileTooLargeError: the file has more than ``limit`` bytes.
        """
        result = self.exec(["/bin/sh", "-c", _READ_SCRIPT, "sh", path, str(limit)],
                           timeout=timeout, output_limit=limit + 1)
        _raise_for_file_status(result, path)
        if len(result.stdout) > limit or result.stdout_truncated:
            raise FileTooLargeError(f"{path}: larger than the read limit of {limit} bytes")
        return result.stdout

    def read_text(self, path: str, *, encoding: str = "utf-8", limit: int = DEFAULT_READ_LIMIT) -> str:
        """The file at ``path`` decoded with ``encoding``; raises as :meth:`read_file`."""
        return self.read_file(path, limit=limit).decode(encoding)

    def write_file(self, path: str, data: bytes | str, *, make_parents: bool = True,
                   timeout: float = 30.0) -> None:
        """Create or replace the file at ``path`` (str is written as UTF-8).

        With ``make_parents`` missing parent directories are created.

        Raises:
            FileNotFoundError: a parent is missing and ``make_parents`` is False.
            IsADirectoryError: ``path`` is a directory.
            NotADirectoryError: a parent of ``path`` is not a directory.
            PermissionError: the location is read-only or not the sandbox user's.
            OSError: the sandbox's disk or file-size limit was hit (errno ENOSPC / EFBIG).
        """
        payload = data.encode() if isinstance(data, str) else bytes(data)
        result = self.exec(["/bin/sh", "-c", _WRITE_SCRIPT, "sh", path, "1" if make_parents else "0"],
                           stdin=payload, timeout=timeout)
        _raise_for_file_status(result, path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def validate_exec_args(argv: Sequence[str], timeout: float, output_limit: int) -> list[str]:
    """Check :meth:`Sandbox.exec` arguments the same way in every provider; return argv as a list."""
    if isinstance(argv, str | bytes):
        raise ValueError(f"argv must be a sequence of strings, not one string: {argv!r}")
    args = list(argv)
    if not args:
        raise ValueError("argv is empty")
    if not all(isinstance(a, str) for a in args):
        raise ValueError(f"argv items must be strings: {args!r}")
    if any("\0" in a for a in args):
        raise ValueError("argv items must not contain NUL bytes")
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    if output_limit <= 0:
        raise ValueError(f"output_limit must be positive, got {output_limit}")
    return args


def command_line(argv: Sequence[str]) -> str:
    """argv as a shell-quoted line, for messages."""
    return shlex.join(argv)


# File operations run inside the sandbox with /bin/sh, so symlinks and paths resolve
# there and never on the host. Exit statuses 70-74 report errno-like failures.
_STATUS = {70: errno.ENOENT, 71: errno.EISDIR, 72: errno.ENOTDIR, 73: errno.EACCES, 74: errno.EIO}
_CLASSIFY = r"""
classify() {  # why can't $1 be used as a file? exits with a status from _STATUS
  p=$1; d=$(dirname -- "$p")
  if [ -d "$p" ]; then exit 71; fi
  while [ "$d" != / ] && [ "$d" != . ] && [ ! -e "$d" ]; do d=$(dirname -- "$d"); done
  if [ -e "$d" ] && [ ! -d "$d" ]; then exit 72; fi
  if [ ! -e "$p" ] && [ "$2" = read ]; then exit 70; fi
  if [ ! -e "$(dirname -- "$p")" ]; then exit 70; fi
  exit 73
}
"""
_READ_SCRIPT = _CLASSIFY + r"""
if [ -f "$1" ] && [ -r "$1" ]; then exec head -c "$(($2 + 1))" -- "$1"; fi
classify "$1" read
"""
_WRITE_SCRIPT = _CLASSIFY + r"""
if [ -d "$1" ]; then exit 71; fi
if [ "$2" = 1 ]; then mkdir -p -- "$(dirname -- "$1")" 2>/dev/null; fi
if [ -d "$(dirname -- "$1")" ] && [ -w "$(dirname -- "$1")" ] || [ -w "$1" ]; then
  cat > "$1" && exit 0
  exit 74
fi
classify "$1" write
"""


def _raise_for_file_status(result: ExecResult, path: str) -> None:
    if result.ok:
        return
    if result.timed_out:
        raise SandboxFault(f"file operation on {path} timed out")
    code = _STATUS.get(result.returncode)
    if code is None:
        raise SandboxFault(f"file operation on {path} failed ({result.returncode}): "
                           f"{result.stderr_text.strip()[-500:]}")
    detail = result.stderr_text.strip()
    if code == errno.EIO:
        if "No space" in detail:
            code = errno.ENOSPC
        elif "too large" in detail.lower():
            code = errno.EFBIG
    raise OSError(code, f"{_MESSAGES[code]}{': ' + detail if detail else ''}", path)


_MESSAGES = {
    errno.ENOENT: "no such file or directory in the sandbox",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a parent is not a directory",
    errno.EACCES: "permission denied in the sandbox",
    errno.EIO: "write failed",
    errno.ENOSPC: "the sandbox's disk is full",
    errno.EFBIG: "the sandbox's file-size limit was hit",
}
