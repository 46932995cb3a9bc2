"""Sandboxes: where model-written code and agent commands run, never on the host.

One contract, :class:`Sandbox` (exec / read_file / write_file / close, with explicit
timeouts and output limits), and providers found by name::

    from steadyhand.sandboxes import open_sandbox

    with open_sandbox("local") as box:          # bubblewrap on this machine
        print(box.exec(["python3", "-c", "print(6 * 7)"]).stdout_text)
    with open_sandbox("docker", image="steadyhand/python:latest") as box:
        ...

Providers register in :data:`providers` (entry-point group ``steadyhand.sandboxes``);
:mod:`steadyhand.sandboxes.conformance` checks any provider keeps the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from steadyhand.core.registry import Registry
from steadyhand.sandboxes.base import (
    BASE_ENV,
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_READ_LIMIT,
    DEFAULT_TIMEOUT_S,
    CommandFailedError,
    ExecResult,
    FileTooLargeError,
    Sandbox,
    SandboxClosedError,
    SandboxError,
    SandboxFault,
    SandboxUnavailableError,
)

#: Sandbox providers by name; a value is called with the options given to :func:`open_sandbox`.
providers: Registry[Callable[..., Sandbox]] = Registry("sandbox provider", "steadyhand.sandboxes")


def _local(**options: Any) -> Sandbox:
    from steadyhand.sandboxes.local import LocalSandbox

    return LocalSandbox(**options)


def _docker(**options: Any) -> Sandbox:
    from steadyhand.sandboxes.container import DockerSandbox  # imports the docker SDK: lazily

    return DockerSandbox(**options)


providers.register("local", _local)
providers.register("docker", _docker)


def open_sandbox(provider: str = "local", **options: Any) -> Sandbox:
    """Start a sandbox of the named provider with provider-specific ``options``.

    Raises:
        ConfigurationError: no provider of that name (the message lists the known ones).
        SandboxUnavailableError: the provider cannot run here (no bubblewrap, no daemon, no image).
        TypeError: an option the provider does not accept.
    """
    return providers.get(provider)(**options)


__all__ = [
    "BASE_ENV",
    "DEFAULT_OUTPUT_LIMIT",
    "DEFAULT_READ_LIMIT",
    "DEFAULT_TIMEOUT_S",
    "CommandFailedError",
    "ExecResult",
    "FileTooLargeError",
    "Sandbox",
    "SandboxClosedError",
    "SandboxError",
    "SandboxFault",
    "SandboxUnavailableError",
    "open_sandbox",
    "providers",
]
