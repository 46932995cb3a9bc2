"""Latency and throughput of trivial Python calls: plain subprocess vs local sandbox vs docker exec.

    python benchmarks/sandbox_latency.py            # 1,000 calls each
    python benchmarks/sandbox_latency.py --calls 200 --no-docker

Every call runs ``python3 -I -S -c "print(1)"`` and waits for it: through
``subprocess.run`` on the host (the baseline, with the same /usr/bin/python3 the local
sandbox runs), through ``LocalSandbox.exec`` (a fresh bubblewrap sandbox per call) and
through ``DockerSandbox.exec`` (``docker exec`` into one running container), the three
interleaved in rounds so that the machine's load weighs on each alike. The target
is the local sandbox within 2x of the baseline. Prints a table, then one JSON line with
``subprocess_ms``, ``local_ms``, ``docker_ms`` (mean per call; null when skipped),
``local_ratio`` and ``docker_ratio``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

ARGV = ["python3", "-I", "-S", "-c", "print(1)"]


def stats(times: list[float], total_s: float) -> dict[str, float]:
    """Mean, median and p95 per call in ms, and calls per second of the time spent on this path."""
    ordered = sorted(times)
    return {"mean": statistics.fmean(ordered), "median": statistics.median(ordered),
            "p95": ordered[int(0.95 * (len(ordered) - 1))], "per_s": len(ordered) / total_s}


def measure(paths: dict[str, Callable[[], bytes]], calls: int, rounds: int) -> dict[str, dict[str, float]]:
    """Run ``calls`` calls per path, interleaved in ``rounds`` so load changes hit every path alike."""
    times: dict[str, list[float]] = {name: [] for name in paths}
    spent = dict.fromkeys(paths, 0.0)
    for call in paths.values():  # warm-up
        for _ in range(5):
            assert call() == b"1\n"
    per_round = max(1, calls // rounds)
    for r in range(rounds):
        for name, call in paths.items():
            started = time.perf_counter()
            for _ in range(per_round):
                t0 = time.perf_counter()
                out = call()
                times[name].append((time.perf_counter() - t0) * 1000)
                if out != b"1\n":
                    raise SystemExit(f"{name}: a call returned {out!r}")
            spent[name] += time.perf_counter() - started
        print(f"  round {r + 1}/{rounds}: {(r + 1) * per_round} calls per path", file=sys.stderr, flush=True)
    return {name: stats(times[name], spent[name]) for name in paths}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10, help="interleaving rounds")
    parser.add_argument("--no-docker", action="store_true", help="skip docker exec")
    args = parser.parse_args()

    from steadyhand.sandboxes.local import LocalSandbox

    host_argv = ["/usr/bin/python3", *ARGV[1:]]
    paths: dict[str, Callable[[], bytes]] = {
        "subprocess": lambda: subprocess.run(host_argv, capture_output=True).stdout}
    with contextlib.ExitStack() as stack:
        box = stack.enter_context(LocalSandbox())
        paths["local"] = lambda: box.exec(ARGV).stdout
        if not args.no_docker:
            try:
                from steadyhand.sandboxes.container import DockerSandbox
                from steadyhand.sandboxes.images import ensure_image

                dbox = stack.enter_context(DockerSandbox(image=ensure_image("python")))
                paths["docker"] = lambda: dbox.exec(ARGV).stdout
            except Exception as exc:  # no daemon or SDK: report the other two
                print(f"docker skipped: {exc}", file=sys.stderr)
        print(f"{args.calls} calls per path: {', '.join(paths)}", file=sys.stderr)
        rows = measure(paths, args.calls, args.rounds)

    base = rows["subprocess"]["mean"]
    print(f"\n{'path':12s} {'mean ms':>9s} {'median':>9s} {'p95':>9s} {'calls/s':>9s} {'ratio':>7s}")
    for name, row in rows.items():
        print(f"{name:12s} {row['mean']:9.2f} {row['median']:9.2f} {row['p95']:9.2f} "
              f"{row['per_s']:9.1f} {row['mean'] / base:7.2f}")
    local = rows["local"]["mean"]
    docker_ms = rows["docker"]["mean"] if "docker" in rows else None
    print(f"\ntarget: local within 2x of subprocess -> {'met' if local <= 2 * base else 'NOT met'}")
    print(json.dumps({
        "calls": args.calls,
        "subprocess_ms": round(base, 3),
        "local_ms": round(local, 3),
        "docker_ms": round(docker_ms, 3) if docker_ms is not None else None,
        "local_ratio": round(local / base, 3),
        "docker_ratio": round(docker_ms / base, 3) if docker_ms is not None else None,
    }))


if __name__ == "__main__":
    main()
