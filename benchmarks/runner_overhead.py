"""The runner's per-episode overhead, with a scripted model, excluding query time.

Both sides run the same sql-mini episodes with the same scripted oracle model:

* baseline: a bare loop - ``env.reset``, ``agent.run``, ``env.evaluate`` - with no
  store, no checkpointer and no bookkeeping;
* runner: :func:`steadyhand.evals.run_suite` (store on a SQLite file, LangGraph
  checkpoints, per-step rows, progress accounting), one process.

The overhead per episode is the difference of the mean episode times, so query
and model time (identical on both sides) cancel out. Target: at most 20 ms.

    python benchmarks/runner_overhead.py [--episodes 200]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200, help="episodes per side (suite cycled)")
    args = parser.parse_args()
    suite = resolve_suite("sql-mini")
    base_tasks = list(suite.load())
    tasks = [base_tasks[i % len(base_tasks)] for i in range(args.episodes)]
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"scripted:{write_oracle_script(base_tasks, Path(tmp) / 'oracle.json')}"
        bare_loop(tasks[:5], spec)  # warm imports and caches for both sides
        bare = bare_loop(tasks, spec)
        # The runner runs each task id once per run, so run the suite as many times as needed.
        runner_time = 0.0
        done = 0
        url = f"sqlite:///{Path(tmp) / 'results.db'}"
        while done < args.episodes:
            n = min(len(base_tasks), args.episodes - done)
            started = time.perf_counter()
            result = run_suite(RunConfig(suite="sql-mini", model=spec, limit=n), store_url=url, progress=False)
            runner_time += time.perf_counter() - started
            assert all(r.status == "done" and r.score == 1.0 for r in result.results), result.results
            done += n
    bare_ms = 1000 * bare / args.episodes
    runner_ms = 1000 * runner_time / args.episodes
    overhead = runner_ms - bare_ms
    table = Table(title=f"runner overhead over {args.episodes} sql-mini episodes (scripted oracle)")
    for column in ("path", "ms / episode"):
        table.add_column(column)
    table.add_row("bare loop (baseline)", f"{bare_ms:.2f}")
    table.add_row("run_suite (store, checkpoints, steps)", f"{runner_ms:.2f}")
    table.add_row("overhead", f"{overhead:.2f}  (target <= 20)")
    Console().print(table)
    print(json.dumps({"overhead_ms_per_episode": round(overhead, 2), "baseline_ms_per_episode": round(bare_ms, 2),
                      "runner_ms_per_episode": round(runner_ms, 2), "ratio": round(runner_ms / bare_ms, 3),
                      "episodes": args.episodes}))


if __name__ == "__main__":
    main()
