"""Hostile code is contained by every provider, and the host is unaffected afterwards.

Each case gets a fresh sandbox (512 MiB, 256 MiB disk) so one abuse cannot mask another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from steadyhand.sandboxes import Sandbox
from steadyhand.sandboxes.escape import CASES, HostProbe

# Bombs, floods and timeouts take ~30 s per provider: out of the quick unit tier, in CI's full run.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProbe]:
    # Under /root (not /tmp): a host folder the sandbox has no business seeing.
    base = Path.home() / ".cache" / "steadyhand-escape-tests"
    probe = HostProbe.start(base / tmp_path_factory.mktemp("bait").name)
    yield probe
    probe.stop()


@pytest.mark.parametrize("case", sorted(CASES))
def test_attack_is_contained(factory: Callable[..., Sandbox], probe: HostProbe, case: str) -> None:
    box = factory(memory_mb=512, disk_mb=256)
    verdict = CASES[case](box, probe)
    assert verdict.contained, f"{case}: {verdict.detail}"
    assert probe.problems(box) == []
    assert box.exec(["echo", "still usable"]).stdout == b"still usable\n"


def test_the_probe_notices_a_breach(factory: Callable[..., Sandbox], probe: HostProbe) -> None:
    """The host checks can fail: a file written into the bait folder is reported."""
    box = factory()
    intruder = probe.folder / "intruder"
    intruder.write_text("x")
    try:
        assert any("files appeared" in p for p in probe.problems(box))
    finally:
        intruder.unlink()
    assert probe.problems(box) == []
