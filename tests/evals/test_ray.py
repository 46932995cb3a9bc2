"""The Ray executor on a real local Ray cluster (a head and one worker node, 127.0.0.1).

The cluster is started by the fixture (:func:`local_ray_cluster`: ``ray start --block``
in their own process groups) and stopped by those ids. Runs use the real suites, environments and agents
with the scripted oracle models, so scores are exact: Ray must give the same ones as
the local executor.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steadyhand.core import ConfigurationError
from steadyhand.evals import ResultStore, RunConfig, resolve_suite, run_suite
from steadyhand.evals.executors import local_ray_cluster


def test_unknown_executor_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown executor"):
        RunConfig(suite="sql-mini", model="scripted:x", executor="dask")


def test_cli_refuses_an_unknown_executor(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from steadyhand.cli import app

    result = CliRunner().invoke(app, ["eval", "sql-mini", "--model", "scripted:x", "--executor", "dask",
                                      "--db", f"sqlite:///{tmp_path / 'r.db'}"])
    assert result.exit_code == 2 and "unknown executor" in result.output


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """``HOST:PORT`` of a two-node Ray cluster (1 CPU each); this process is connected to it."""
    ray = pytest.importorskip("ray", reason="pip install 'steadyhand[ray]'")
    if not Path(sys.executable).with_name("ray").exists():
        pytest.skip(f"no ray command next to {sys.executable}")
    with local_ray_cluster(nodes=2, cpus_per_node=1) as address:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR", configure_logging=False)
        try:
            assert sum(n["Alive"] for n in ray.nodes()) == 2
            yield address
        finally:
            ray.shutdown()


def _oracle(suite: str, folder: Path) -> str:
    if suite == "sql-mini":
        from steadyhand.agents.sql import write_oracle_script
    else:
        from steadyhand.agents.codearc import write_oracle_script
    return f"scripted:{write_oracle_script(resolve_suite(suite).load(), folder / f'{suite}.json')}"


@pytest.mark.slow
@pytest.mark.parametrize("suite", ["sql-mini", "codearc-mini"])
def test_ray_gives_the_same_scores_as_local(ray_cluster: str, suite: str, tmp_path: Path) -> None:
    import ray

    model = _oracle(suite, tmp_path)
    url = f"sqlite:///{tmp_path / 'results.db'}"
    local = run_suite(RunConfig(suite=suite, model=model, limit=6), store_url=url, progress=False)
    remote = run_suite(RunConfig(suite=suite, model=model, limit=6, executor="ray", ray_address=ray_cluster,
                                 concurrency=2), store_url=url, progress=False)
    assert ray.is_initialized()  # the executor joined the fixture's connection and left it open
    assert sorted(r.task_id for r in remote.results) == sorted(r.task_id for r in local.results)
    assert all(r.status == "done" for r in remote.results)
    store = ResultStore(url)
    try:
        by_task: list[dict[str, Any]] = [{e["task_id"]: (e["status"], e["scores"], e["steps"] > 0)
                                          for e in store.episodes(r.run_id)} for r in (local, remote)]
        assert by_task[0] == by_task[1] and len(by_task[0]) == 6
        assert all(scores["score"] == 1.0 for _, scores, _ in by_task[1].values())
        assert store.get_run(remote.run_id).config["executor"] == "ray"
        assert store.get_run(remote.run_id).status == "finished"
    finally:
        store.close()


@pytest.mark.slow
def test_ray_resume_reruns_only_unfinished_episodes(ray_cluster: str, tmp_path: Path) -> None:
    """A run cut short (episodes left ``running``) is finished on Ray by ``resume``."""
    model = _oracle("sql-mini", tmp_path)
    url = f"sqlite:///{tmp_path / 'results.db'}"
    first = run_suite(RunConfig(suite="sql-mini", model=model, limit=4), store_url=url, progress=False)
    store = ResultStore(url)
    try:
        episodes = store.episodes(first.run_id)
        store.start_episode(first.run_id, episodes[1]["task_id"])  # as if killed mid-episode
        store.set_run_status(first.run_id, "interrupted")
        kept = {e["task_id"]: e["attempt"] for e in episodes}
        again = run_suite(RunConfig(suite="", model="", executor="ray", ray_address=ray_cluster, concurrency=2),
                          store_url=url, resume=first.run_id, progress=False)
        assert [r.task_id for r in again.results] == [episodes[1]["task_id"]]
        after = store.episodes(first.run_id)
        assert all(e["status"] == "done" and e["scores"]["score"] == 1.0 for e in after)
        assert {e["task_id"]: e["attempt"] for e in after} == {**kept, episodes[1]["task_id"]: 3}
    finally:
        store.close()


@pytest.mark.slow
def test_ray_interrupt_leaves_a_resumable_run(ray_cluster: str, tmp_path: Path) -> None:
    """Ctrl-C while episodes are in flight: it propagates, the actors go, and resume finishes the run."""
    import ray

    from steadyhand.core.task import Task
    from steadyhand.evals.executors import execute_ray
    from steadyhand.evals.runner import EpisodeResult, select_tasks

    model = _oracle("sql-mini", tmp_path) + "?delay_s=0.2"
    url = f"sqlite:///{tmp_path / 'results.db'}"
    config = RunConfig(suite="sql-mini", agent="sql", model=model, limit=6, executor="ray",
                       ray_address=ray_cluster, concurrency=2)
    store = ResultStore(url)
    tasks = select_tasks(resolve_suite("sql-mini"), config)
    run_id = store.create_run(suite="sql-mini", agent="sql", model=model, config=config.__dict__,
                              task_ids=[t.id for t in tasks])
    seen: list[str] = []

    def account(task: Task, result: EpisodeResult) -> bool:
        seen.append(result.status)
        raise KeyboardInterrupt  # the user pressed Ctrl-C as the first result came in

    try:
        with pytest.raises(KeyboardInterrupt):
            execute_ray(config, url, run_id, tasks, account)
        assert seen == ["done"] and ray.is_initialized()
        statuses = [e["status"] for e in store.episodes(run_id)]
        assert statuses.count("done") >= 1 and statuses.count("pending") >= 3
        store.set_run_status(run_id, "interrupted")
        again = run_suite(RunConfig(suite="", model="", executor="ray", ray_address=ray_cluster, concurrency=2),
                          store_url=url, resume=run_id, progress=False)
        assert len(again.results) == 6 - statuses.count("done")
        assert all(e["status"] == "done" and e["scores"]["score"] == 1.0 for e in store.episodes(run_id))
    finally:
        store.close()


def _actor_pids() -> list[int]:
    """Pids of processes running a steadyhand episode actor (Ray titles them ``ray::EpisodeActor...``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::EpisodeActor"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.mark.slow
def test_a_killed_actor_is_replaced_and_its_episode_rerun(ray_cluster: str, tmp_path: Path,
                                                         kill_once_mid_episode: Any) -> None:
    """SIGKILL of an actor process mid-run: an infrastructure fault, recorded, retried on a new actor."""
    model = _oracle("sql-mini", tmp_path) + "?delay_s=0.2"  # keeps episodes in flight when the kill lands
    url = f"sqlite:///{tmp_path / 'results.db'}"
    killer, killed = kill_once_mid_episode(tmp_path / "results.db", _actor_pids)
    result = run_suite(RunConfig(suite="sql-mini", model=model, limit=6, executor="ray", ray_address=ray_cluster,
                                 concurrency=2, max_infra_retries=2), store_url=url, progress=False)
    killer.join()
    assert killed, "no actor was seen running an episode"
    assert [r.status for r in result.results] == ["done"] * 6
    store = ResultStore(url)
    try:
        faults = store.infra_faults(result.run_id)
        assert faults and all("Ray actor died" in f["error"] for fs in faults.values() for f in fs)
        assert all(e["scores"]["score"] == 1.0 for e in store.episodes(result.run_id))
    finally:
        store.close()
