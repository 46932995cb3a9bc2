"""The runner's per-episode overhead, with a scripted model, excluding query time.

Both sides run the same sql-mini episodes with the same scripted oracle model:

* baseline: a bare loop - ``env.reset``, ``agent.run``, ``env.evaluate`` - with no
  store, no checkpointer and no bookkeeping;
* runner: :func:`steadyhand.evals.run_suite` (store on a SQLite file, LangGraph
  checkpoints, per-step rows, progress accounting), one process.

The overhead per episode is the difference of the mean episode times, so query
and model time (identical on both sides) cancel out. Target: at most 20 ms.

The runner's cost per episode is the slope between a full run and a one-task run,
so its fixed start-up cost (reported separately) is not spread over the episodes.

    python benchmarks/runner_overhead.py [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from steadyhand.agents.base import EpisodeContext
from steadyhand.agents.sql import SQLAgent, write_oracle_script
from steadyhand.core.registry import environments
from steadyhand.evals import RunConfig, resolve_suite, run_suite
from steadyhand.models import load


def bare_loop(tasks: list, model_spec: str) -> float:
    env = environments.get("sql")()
    model = load(model_spec)
    agent = SQLAgent()
    started = time.perf_counter()
    for i, task in enumerate(tasks):
        first = env.reset(task)
        agent.run(EpisodeContext(task=task, env=env, model=model, thread_id=f"bare/{i}"), first)
        env.evaluate()
    elapsed = time.perf_counter() - started
    env.close()
    return elapsed


def timed_run(spec: str, url: str, limit: int | None) -> tuple[float, int]:
    started = time.perf_counter()
    result = run_suite(RunConfig(suite="sql-mini", model=spec, limit=limit), store_url=url, progress=False)
    elapsed = time.perf_counter() - started
    assert all(r.status == "done" and r.score == 1.0 for r in result.results), result.results
    return elapsed, len(result.results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="rounds of (bare loop, full run, one-task run)")
    args = parser.parse_args()
    tasks = list(resolve_suite("sql-mini").load())
    bare = full = single = 0.0
    n_full = 0
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"scripted:{write_oracle_script(tasks, Path(tmp) / 'oracle.json')}"
        url = f"sqlite:///{Path(tmp) / 'results.db'}"
        bare_loop(tasks[:5], spec)  # warm imports and caches for both sides
        timed_run(spec, url, 2)
        # Interleaved rounds, so drifting machine load hits both sides alike.
        for _ in range(args.rounds):
            bare += bare_loop(tasks, spec)
            elapsed, n_full = timed_run(spec, url, None)
            full += elapsed
            single += timed_run(spec, url, 1)[0]
    episodes = args.rounds * len(tasks)
    bare_ms = 1000 * bare / episodes
    # A run's fixed cost (store, suite, model, checkpointer, worker set-up) is what a
    # one-task run costs beyond one episode; the per-episode cost is the slope.
    runner_ms = 1000 * (full - single) / (args.rounds * (n_full - 1))
    fixed_ms = 1000 * single / args.rounds - runner_ms
    overhead = runner_ms - bare_ms
    table = Table(title=f"runner overhead, {args.rounds} rounds of {len(tasks)} sql-mini episodes (scripted oracle)")
    for column in ("measure", "ms"):
        table.add_column(column)
    table.add_row("bare loop per episode (baseline)", f"{bare_ms:.2f}")
    table.add_row("run_suite per episode (store, checkpoints, steps)", f"{runner_ms:.2f}")
    table.add_row("overhead per episode", f"{overhead:.2f}  (target <= 20)")
    table.add_row("fixed cost per run (start-up)", f"{fixed_ms:.1f}")
    Console().print(table)
    print(json.dumps({"overhead_ms_per_episode": round(overhead, 2), "baseline_ms_per_episode": round(bare_ms, 2),
                      "runner_ms_per_episode": round(runner_ms, 2), "ratio": round(runner_ms / bare_ms, 3),
                      "fixed_ms_per_run": round(fixed_ms, 1), "episodes": episodes}))


if __name__ == "__main__":
    main()
