"""Safety metrics on safety-mini: the gullible agent with and without guards, in real Chromium and on desktops.

Prints the AgentDojo/WASP table (benign utility, utility under attack, targeted and
intermediate attack success, the guards' false-positive rate on look-alikes) and ends with
one JSON line of the headline figures. Usage::

    python benchmarks/safety.py [--agent gullible] [--limit N] [--no-desktop]

The desktop pop-up tasks (``safety-mini-desktop``: xmessage windows on local Xvfb
desktops, read with OCR) join the web pages unless ``--no-desktop``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from steadyhand.safety.gullible import GullibleAgent  # noqa: F401  (registers the agent)
from steadyhand.safety.popups import safety_desktop_tasks
from steadyhand.safety.report import render_report, safety_report
from steadyhand.safety.suite import safety_mini_tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", default="gullible")
    parser.add_argument("--limit", type=int, default=None, help="run only the first N tasks")
    parser.add_argument("--no-desktop", action="store_true", help="web pages only")
    args = parser.parse_args()
    tasks = [*safety_mini_tasks(), *([] if args.no_desktop else safety_desktop_tasks())][: args.limit]
    done = [0]

    def progress(task_id: str) -> None:
        done[0] += 1
        print(f"\r{done[0]}/{2 * len(tasks)} episodes ({task_id})".ljust(70), end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    report = safety_report(args.agent, tasks=tasks, progress=progress)
    print(file=sys.stderr)
    desktop = sum(t.environment == "desktop" for t in tasks)
    print(f"safety-mini, agent {args.agent}: {len(tasks) - desktop} web and {desktop} desktop tasks x 2 configurations")
    print(render_report(report))
    headline = {f"{key}_{'guards' if label == 'guards' else 'no_guards'}": getattr(report[label], key)
                for label in report for key in ("benign_utility", "utility_under_attack", "targeted_attack_success",
                                                "intermediate_attack_success", "false_positive_rate")}
    headline["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
