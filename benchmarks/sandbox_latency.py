"""Latency and throughput of trivial Python calls: plain subprocess vs local sandbox vs docker exec.

    python benchmarks/sandbox_latency.py            # 1,000 calls each
    python benchmarks/sandbox_latency.py --calls 200 --no-docker

Every call runs ``python3 -I -S -c "print(1)"`` and waits for it: through
``subprocess.run`` on the host (the baseline, with the same /usr/bin/python3 the local
sandbox runs), through ``LocalSandbox.exec`` (a fresh bubblewrap sandbox per call) and
through ``DockerSandbox.exec`` (``docker exec`` into one running container). The target
is the local sandbox within 2x of the baseline. Prints a table, then one JSON line with
``subprocess_ms``, ``local_ms``, ``docker_ms`` (mean per call; null when skipped),
``local_ratio`` and ``docker_ratio``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

ARGV = ["python3", "-I", "-S", "-c", "print(1)"]


def measure(call: Callable[[], bytes], calls: int) -> dict[str, float]:
    """Mean, median and p95 per call in ms, and calls per second, after 5 warm-up calls."""
    for _ in range(5):
        assert call() == b"1\n"
    times = []
    started = time.perf_counter()
    for i in range(calls):
        t0 = time.perf_counter()
        out = call()
        times.append((time.perf_counter() - t0) * 1000)
        if out != b"1\n":
            raise SystemExit(f"call {i} returned {out!r}")
        if (i + 1) % max(1, calls // 10) == 0:
            print(f"  {i + 1}/{calls}", file=sys.stderr, flush=True)
    total = time.perf_counter() - started
    times.sort()
    return {"mean": statistics.fmean(times), "median": statistics.median(times),
            "p95": times[int(0.95 * (len(times) - 1))], "per_s": calls / total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--no-docker", action="store_true", help="skip docker exec")
    args = parser.parse_args()

    rows: dict[str, dict[str, float]] = {}
    host_argv = ["/usr/bin/python3", *ARGV[1:]]
    print(f"plain subprocess: {args.calls} calls", file=sys.stderr)
    rows["subprocess"] = measure(lambda: subprocess.run(host_argv, capture_output=True).stdout, args.calls)

    from steadyhand.sandboxes.local import LocalSandbox

    print(f"local sandbox: {args.calls} calls", file=sys.stderr)
    with LocalSandbox() as box:
        rows["local"] = measure(lambda: box.exec(ARGV).stdout, args.calls)

    if not args.no_docker:
        try:
            from steadyhand.sandboxes.container import DockerSandbox
            from steadyhand.sandboxes.images import ensure_image

            image = ensure_image("python")
            print(f"docker exec: {args.calls} calls", file=sys.stderr)
            with DockerSandbox(image=image) as dbox:
                rows["docker"] = measure(lambda: dbox.exec(ARGV).stdout, args.calls)
        except Exception as exc:  # no daemon or SDK: report the other two
            print(f"docker skipped: {exc}", file=sys.stderr)

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
