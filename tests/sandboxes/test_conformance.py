"""Every provider passes the shared conformance suite; a provider that breaks a promise fails it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from steadyhand.sandboxes import DEFAULT_OUTPUT_LIMIT, DEFAULT_TIMEOUT_S, ExecResult, Sandbox
from steadyhand.sandboxes.conformance import CHECKS, Conformance, ConformanceError
from steadyhand.sandboxes.local import LocalSandbox, bwrap_path


@pytest.fixture
def suite(factory: Callable[..., Sandbox]) -> Conformance:
    return Conformance(factory)


@pytest.mark.parametrize("check", CHECKS)
def test_provider_conforms(suite: Conformance, check: str) -> None:
    suite.run(check)


class _LeakyEnvSandbox(LocalSandbox):
    """A deliberately broken provider: it passes the host's environment through."""

    def exec(self, argv: Sequence[str], *, stdin: bytes | str | None = None, cwd: str | None = None,
             env: Mapping[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT_S,
             output_limit: int = DEFAULT_OUTPUT_LIMIT) -> ExecResult:
        import os

        return super().exec(argv, stdin=stdin, cwd=cwd, env={**os.environ, **(env or {})},
                            timeout=timeout, output_limit=output_limit)


class _NoTimeoutKillSandbox(LocalSandbox):
    """A deliberately broken provider: it reports a timeout but pretends processes live on."""

    def live_processes(self) -> int:
        return 1


def test_suite_catches_broken_providers() -> None:
    if bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    with pytest.raises(ConformanceError, match="host's environment leaked"):
        Conformance(_LeakyEnvSandbox).run("env")
    with pytest.raises(ConformanceError, match="survived the timeout"):
        Conformance(_NoTimeoutKillSandbox).run("timeout")
    failures = Conformance(_LeakyEnvSandbox).run_all()
    assert "env" in failures and "timeout" not in failures and "file_round_trip" not in failures
