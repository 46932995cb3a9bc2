"""Fixtures for the sandbox tests: provider factories that skip, with the reason, where unavailable.

- ``local``: needs bubblewrap (CI installs it; ``apt-get install bubblewrap``).
- ``docker``: needs a Docker daemon (``bash scripts/dockerd.sh``) and builds, or reuses,
  the ``steadyhand/python`` image offline on first use (``steadyhand images build python``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from steadyhand.sandboxes import Sandbox, SandboxUnavailableError, open_sandbox
from steadyhand.sandboxes.local import bwrap_path

Factory = Callable[..., Sandbox]


def _docker_reason() -> str | None:
    try:
        import docker  # noqa: F401

        from steadyhand.sandboxes.container import docker_client
    except ImportError as exc:
        return f"the docker SDK is not installed ({exc}); pip install 'steadyhand[docker]'"
    try:
        docker_client().close()
    except SandboxUnavailableError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def python_image() -> str:
    """The tag of the steadyhand/python image (built offline on first use)."""
    reason = _docker_reason()
    if reason:
        pytest.skip(reason)
    from steadyhand.sandboxes.images import ensure_image

    return ensure_image("python")


@pytest.fixture(scope="session")
def postgres_image() -> str:
    """The tag of the steadyhand/postgres image (built offline on first use)."""
    reason = _docker_reason()
    if reason:
        pytest.skip(reason)
    from steadyhand.sandboxes.images import ensure_image

    return ensure_image("postgres")


def local_factory() -> Factory:
    """A factory of local sandboxes, or a skip when bubblewrap is missing."""
    if bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")

    def make(**options: Any) -> Sandbox:
        return open_sandbox("local", **options)

    return make


@pytest.fixture(params=["local", "local-per-call", pytest.param("docker", marks=pytest.mark.docker)])
def provider(request: pytest.FixtureRequest) -> str:
    """Each provider (and the local one's per-call mode), the docker one marked ``docker``."""
    return str(request.param)


@pytest.fixture
def factory(request: pytest.FixtureRequest, provider: str) -> Iterator[Factory]:
    """A factory of sandboxes of ``provider`` that closes whatever it made at teardown."""
    made: list[Sandbox] = []
    if provider.startswith("local"):
        plain = local_factory()

        def base(**options: Any) -> Sandbox:
            return plain(**({"reuse_namespaces": False} if provider == "local-per-call" else {}), **options)
    else:
        image = request.getfixturevalue("python_image")

        def base(**options: Any) -> Sandbox:
            return open_sandbox("docker", **{"image": image, **options})

    def make(**options: Any) -> Sandbox:
        box = base(**options)
        made.append(box)
        return box

    yield make
    for box in made:
        box.close()


@pytest.fixture(scope="session", autouse=True)
def _remove_orphans() -> None:
    """Clear sandboxes a crashed earlier run left (only those whose owner process is gone)."""
    from steadyhand.sandboxes.local import cleanup_local

    cleanup_local()
    if _docker_reason() is None:
        from steadyhand.sandboxes.container import cleanup_docker

        cleanup_docker()
