"""Runner throughput: episodes per minute by suite, executor and concurrency, in one run.

Each configuration runs the same ``--episodes`` tasks of ``sql-mini`` and of
``codearc-mini`` through :func:`steadyhand.evals.run_suite` with the scripted oracle
model and ``delay_s`` per model call (``scripted:<file>?delay_s=0.05``, standing in for
a model server, so concurrency has something to overlap):

* local executor at concurrency 1, 2 and 4 (1 runs in this process, more in a process pool);
* Ray executor at the same concurrencies, on a local cluster this script starts
  (:func:`steadyhand.evals.executors.local_ray_cluster`: a head and one worker node,
  each offering half of ``--ray-cpus`` logical CPUs) and stops.

Reported per configuration, from one run: the wall time of the whole ``run_suite``
call; the active time, from the first episode's start to the last one's end (the
store's timestamps), so that start-up (process pool spawn, Ray actors, imports) and
tear-down are reported on their own rather than spread over the episodes;
episodes per minute over the active time (and over the wall time); speed-up relative
to the same executor at concurrency 1; the mean stored episode duration (it grows
with concurrency when the cores are shared); and the per-episode overhead, the time
each worker slot spends per episode outside an episode (dispatch, result transfer,
bookkeeping): ``active * concurrency / episodes - mean episode duration``.
Every run must score 1.0 on every episode.

    python benchmarks/runner_scale.py [--episodes 16] [--delay-s 0.05] [--no-ray]

The last line is JSON: ``episodes_per_min[suite][executor][concurrency]`` and
``overhead_ms_per_episode`` (same keys), plus ``speedup``, ``episodes_per_min_wall`` and
``startup_s`` (wall minus active time).
"""

from __future__ import annotations

import argparse
import importlib
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from steadyhand.evals import ResultStore, RunConfig, resolve_suite, run_suite
from steadyhand.evals.store import Episode

SUITES = {"sql-mini": "steadyhand.agents.sql", "codearc-mini": "steadyhand.agents.codearc"}
CONCURRENCY = (1, 2, 4)


def measure(suite: str, model: str, url: str, episodes: int, executor: str, concurrency: int,
            address: str | None) -> dict[str, float]:
    """One timed run: wall and active seconds and the mean stored episode duration."""
    config = RunConfig(suite=suite, model=model, limit=episodes, concurrency=concurrency, executor=executor,
                       ray_address=address)
    started = time.perf_counter()
    result = run_suite(config, store_url=url, progress=False)
    wall = time.perf_counter() - started
    bad = [r for r in result.results if r.status != "done" or r.score != 1.0]
    assert not bad and len(result.results) == episodes, bad
    store = ResultStore(url)
    try:
        durations = [e["duration_s"] for e in store.episodes(result.run_id)]
        with store.session() as s:
            first, last = s.execute(select(func.min(Episode.started_at), func.max(Episode.finished_at))
                                    .where(Episode.run_id == result.run_id)).one()
    finally:
        store.close()
    assert first is not None and last is not None
    return {"wall_s": wall, "active_s": (last - first).total_seconds(), "episode_s": sum(durations) / len(durations)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--episodes", type=int, default=16, help="episodes per suite and configuration")
    parser.add_argument("--delay-s", type=float, default=0.05, help="scripted model latency per call")
    parser.add_argument("--ray-cpus", type=int, default=4, help="logical CPUs of the local Ray cluster")
    parser.add_argument("--no-ray", action="store_true", help="measure the local executor only")
    args = parser.parse_args()
    if args.episodes <= max(CONCURRENCY):
        parser.error(f"--episodes must be more than {max(CONCURRENCY)}")
    executors = ["local"] if args.no_ray else ["local", "ray"]
    rows: dict[str, dict[str, dict[int, dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        address = None
        if not args.no_ray:
            from steadyhand.evals.executors import local_ray_cluster

            address = stack.enter_context(local_ray_cluster(nodes=2, cpus_per_node=max(1, args.ray_cpus // 2)))
        for suite, agent_module in SUITES.items():
            oracle = importlib.import_module(agent_module).write_oracle_script(
                resolve_suite(suite).load(), Path(tmp) / f"{suite}.json")
            model = f"scripted:{oracle}?delay_s={args.delay_s}"
            url = f"sqlite:///{Path(tmp) / f'{suite}.db'}"
            measure(suite, model, url, 2, "local", 1, None)  # warm imports and caches
            for executor in executors:
                for c in CONCURRENCY:
                    rows.setdefault(suite, {}).setdefault(executor, {})[c] = measure(
                        suite, model, url, args.episodes, executor, c, address)
    out: dict[str, dict[str, Any]] = {k: {} for k in ("episodes_per_min", "overhead_ms_per_episode", "speedup",
                                                      "episodes_per_min_wall", "startup_s")}
    table = Table(title=f"runner scale: {args.episodes} episodes per run, scripted oracle, "
                        f"delay {args.delay_s}s per model call")
    for column in ("suite", "executor", "conc.", "wall s", "start-up s", "episodes/min", "(over wall)",
                   "speed-up", "episode ms", "overhead ms"):
        table.add_column(column, justify="right")
    for suite, by_executor in rows.items():
        for executor, by_c in by_executor.items():
            base = args.episodes / by_c[1]["active_s"]
            for c, m in by_c.items():
                rate = 60 * args.episodes / m["active_s"]
                figures = {"episodes_per_min": round(rate, 1),
                           "overhead_ms_per_episode": round(1000 * (m["active_s"] * c / args.episodes
                                                                    - m["episode_s"]), 1),
                           "speedup": round(rate / 60 / base, 2),
                           "episodes_per_min_wall": round(60 * args.episodes / m["wall_s"], 1),
                           "startup_s": round(m["wall_s"] - m["active_s"], 2)}
                for key, value in figures.items():
                    out[key].setdefault(suite, {}).setdefault(executor, {})[str(c)] = value
                table.add_row(suite, executor, str(c), f"{m['wall_s']:.1f}", f"{figures['startup_s']:.1f}",
                              f"{rate:.0f}", f"{figures['episodes_per_min_wall']:.0f}", f"{figures['speedup']:.2f}x",
                              f"{1000 * m['episode_s']:.0f}", f"{figures['overhead_ms_per_episode']:.0f}")
    Console(width=150).print(table)
    print(json.dumps({**out, "episodes": args.episodes, "delay_s": args.delay_s}))


if __name__ == "__main__":
    main()
