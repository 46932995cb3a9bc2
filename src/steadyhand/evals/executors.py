"""The Ray executor: episodes of a run as Ray actor calls on whichever node has room.

``RunConfig(executor="ray", ray_address="127.0.0.1:6379")`` sends a run here from
:func:`steadyhand.evals.run_suite`. Each actor (one CPU, placed by Ray) builds one
:class:`~steadyhand.evals.runner.EpisodeWorker` - environment, model, agent - and
runs episodes one after another, writing them straight to the run's store URL, so
the store must be reachable from every node (a shared SQLite file on one machine,
PostgreSQL across machines). Scores are the same as with the local executor: the
same worker code runs each episode.

At most ``concurrency`` episodes are in flight (one per actor). An actor that dies
(its node lost, the process killed) is infrastructure: the episode is reported as
``infra_error`` - retried by the runner like any other - and the actor replaced.
On Ctrl-C the actors are killed and the episodes in flight stay ``running``,
which ``--resume`` reruns.

Ray is optional (``pip install 'steadyhand[ray]'``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steadyhand.core.errors import ConfigurationError
from steadyhand.core.task import Task

if TYPE_CHECKING:
    from steadyhand.evals.runner import EpisodeResult, RunConfig


class EpisodeActor:
    """A Ray actor body: one :class:`EpisodeWorker`, built once, used for many episodes."""

    def __init__(self, config: dict[str, Any], store_url: str, run_id: str) -> None:
        from steadyhand.evals.runner import EpisodeWorker, RunConfig

        self.worker = EpisodeWorker(RunConfig.from_dict(config), store_url, run_id)

    def run(self, task_json: str) -> EpisodeResult:
        """Run one episode of the task given as JSON; returns its result."""
        return self.worker.run_episode(Task.model_validate_json(task_json))

    def close(self) -> None:
        """Close the environment, the checkpointer and the store connection."""
        self.worker.close()


def _connect(address: str | None) -> tuple[Any, bool]:
    """The ``ray`` module, connected; True when this call started the connection."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigurationError("--executor ray needs Ray: pip install 'steadyhand[ray]'") from exc
    if ray.is_initialized():
        return ray, False
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 configure_logging=False)
    except ConnectionError as exc:
        raise ConfigurationError(f"cannot reach the Ray cluster at {address!r}: {exc}") from exc
    return ray, True


def execute_ray(config: RunConfig, store_url: str, run_id: str, tasks: list[Task],
                account: Callable[[Task, EpisodeResult], bool]) -> None:
    """Run ``tasks`` on Ray actors, reporting each result to ``account``.

    ``account`` returns True when a task must be queued again (an infrastructure
    retry). Raises ConfigurationError when Ray is missing or the cluster unreachable;
    KeyboardInterrupt propagates after the actors are killed.
    """
    from steadyhand.evals.runner import EpisodeResult

    ray, started = _connect(config.ray_address)
    remote = ray.remote(num_cpus=1, max_restarts=0)(EpisodeActor)
    settings = asdict(config)

    def spawn() -> Any:
        return remote.remote(settings, store_url, run_id)

    actors = [spawn() for _ in range(max(1, min(config.concurrency, len(tasks))))]
    idle = list(actors)
    in_flight: dict[Any, tuple[Task, Any]] = {}
    queue = list(tasks)
    try:
        while queue or in_flight:
            while queue and idle:
                task, actor = queue.pop(0), idle.pop()
                in_flight[actor.run.remote(task.model_dump_json())] = (task, actor)
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                task, actor = in_flight.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayActorError as exc:  # the actor's process or node is gone
                    result = EpisodeResult(task.id, "infra_error", None, f"Ray actor died: {exc}", stored=False)
                    actors.remove(actor)
                    actor = spawn()
                    actors.append(actor)
                except ray.exceptions.RayTaskError as exc:  # run_episode itself raised: a bug, not infra
                    result = EpisodeResult(task.id, "error", None, f"{type(exc.cause).__name__}: {exc.cause}")
                idle.append(actor)
                if account(task, result):
                    queue.append(task)
        closing = [a.close.remote() for a in actors]
        with contextlib.suppress(Exception):  # closing is best effort; the actors are killed anyway
            ray.get(closing, timeout=60)
    finally:
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)
        if started:
            ray.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_node(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a ``ray start --block`` process group (it stops its services), then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            time.sleep(1.0)  # its services leave after it; then the group gets the hard kill


@contextmanager
def local_ray_cluster(nodes: int = 2, cpus_per_node: int = 1, timeout_s: float = 120.0) -> Iterator[str]:
    """A Ray cluster on 127.0.0.1 - a head and ``nodes - 1`` worker nodes - for tests and benchmarks.

    Yields the head's ``HOST:PORT``. Each node is a ``ray start --block`` process in its
    own process group, stopped by that id on exit (never ``ray stop``, which stops every
    Ray process of the user). No dashboard, no usage statistics.

    Raises:
        ConfigurationError: the ``ray`` command is missing, or a node did not come up in time.
    """
    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.exists():
        raise ConfigurationError(f"no ray command next to {sys.executable}: pip install 'steadyhand[ray]'")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    temp = tempfile.mkdtemp(prefix="sh-ray-", dir="/tmp")  # short: Ray puts Unix sockets in it
    common = [f"--num-cpus={cpus_per_node}", "--node-ip-address=127.0.0.1", "--object-store-memory=100000000",
              "--disable-usage-stats", "--block"]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    started: list[subprocess.Popen[bytes]] = []
    log_path = Path(temp) / "nodes.log"
    with open(log_path, "wb") as log:
        try:
            started.append(subprocess.Popen(
                [str(ray_cli), "start", "--head", f"--port={port}", "--include-dashboard=false",
                 f"--temp-dir={temp}", *common], stdout=log, stderr=log, env=env, start_new_session=True))
            _wait_until(lambda: _port_open(port), started, timeout_s, log_path, "the Ray head did not open its port")
            for _ in range(nodes - 1):
                started.append(subprocess.Popen([str(ray_cli), "start", f"--address={address}", *common],
                                                stdout=log, stderr=log, env=env, start_new_session=True))
            _wait_until(lambda: _alive_nodes(ray_cli, address) >= nodes, started, timeout_s, log_path,
                        "the Ray worker nodes did not join")
            yield address
        finally:
            for process in reversed(started):
                _stop_node(process)
            shutil.rmtree(temp, ignore_errors=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive_nodes(ray_cli: Path, address: str) -> int:
    code = ("import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False, logging_level=40); "
            "print(sum(n['Alive'] for n in ray.nodes()))")
    result = subprocess.run([sys.executable, "-c", code, address], capture_output=True,
                            text=True, timeout=60)
    return int(result.stdout.strip() or 0) if result.returncode == 0 else 0


def _wait_until(ready: Callable[[], bool], nodes: list[subprocess.Popen[bytes]], timeout_s: float,
                log: Path, message: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline or any(n.poll() is not None for n in nodes):
            raise ConfigurationError(f"{message}: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)
