"""Desktop control-server speed and stability at 1280x720, against a local desktop.

Measured, each as median and p95 over ``--rounds`` calls through :class:`DesktopClient`:

* screenshot: capture (mss, cursor composited) + PNG encoding + HTTP transfer, of a
  static screen (the server then reuses its last PNG) and of a screen that changed
  since the previous shot (the pointer moved: a full capture and encoding);
* action: one pyautogui call's round trip (``pyautogui.moveTo``), run in the server process;
* step: an action followed by a new screenshot (what an agent's step costs).

Baselines in the same run, on the same desktop, the way OSWorld's own server works:

* screenshot: pyautogui's own screenshot path (pyscreeze: ``scrot`` to a file, or PIL's
  ``ImageGrab`` when only gnome-screenshot exists), saved as a default-settings PNG;
* action: a new ``python3 -c "import pyautogui; ..."`` process per action.

Soak: ``--soak-screenshots`` screenshots (each after a pointer move, so each is a full
capture) and ``--soak-actions`` click actions against one server; its RSS, open
descriptors and the X server's client count are read before and after (they must stay
flat). Memory: RSS of one idle local desktop (every process of the session: Xvfb,
openbox, D-Bus, server) and with an xterm and mousepad open, and how many desktops fit
in this machine's available memory; ``--side-by-side N`` also starts N at once.

    python benchmarks/desktop_step.py [--rounds 200] [--soak-screenshots 10000] [--soak-actions 2000]

Targets: screenshot <= 25 ms, action <= 30 ms, step <= 60 ms, <= 300 MB per desktop.
The last line is a JSON object of the headline figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from steadyhand.environments.desktop.client import DesktopClient
from steadyhand.environments.desktop.providers.local import LocalDesktop, LocalProvider


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    """Milliseconds per call."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def baseline_screenshot(display: str) -> Callable[[], bytes]:
    """pyautogui's screenshot path as OSWorld's server uses it: grab, save a PNG file, read it back."""
    import os

    os.environ["DISPLAY"] = display
    os.environ.setdefault("XDG_SESSION_TYPE", "x11")  # pyscreeze picks scrot only on a known X11 session
    import pyautogui

    folder = Path(tempfile.mkdtemp(prefix="desktop-bench-"))

    def shot() -> bytes:
        path = folder / "screenshot.png"
        image = pyautogui.screenshot()
        image.save(path)  # PIL defaults, as OSWorld's server
        return path.read_bytes()

    return shot


def x_clients(display: str) -> int:
    from Xlib.display import Display

    d = Display(display)
    try:
        return len(d.res_query_clients().clients) - 1  # not counting this connection
    finally:
        d.close()


def decorate(client: DesktopClient) -> None:
    """Put realistic content on screen: an xterm with output and a text editor with text."""
    client.launch(["xterm", "-geometry", "90x30+20+20", "-e", "bash", "-c", "ls -la /usr/bin | head -40; exec bash"])
    if shutil.which("mousepad"):
        client.upload_file("~/bench.txt", ("The quick brown fox jumps over the lazy dog. 0123456789\n" * 30).encode())
        client.open_file("~/bench.txt")
    time.sleep(2)


def stats(client: DesktopClient) -> dict[str, Any]:
    return dict(client._request("GET", "/stats").json())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="calls per latency figure")
    parser.add_argument("--baseline-actions", type=int, default=20, help="calls for the process-per-action baseline")
    parser.add_argument("--soak-screenshots", type=int, default=10_000)
    parser.add_argument("--soak-actions", type=int, default=2_000)
    parser.add_argument("--side-by-side", type=int, default=3, help="desktops to start at once (0 skips)")
    args = parser.parse_args()
    console = Console(stderr=True)

    provider = LocalProvider()
    desktop: LocalDesktop = provider.start(width=1280, height=720)
    results: dict[str, Any] = {}
    try:
        client = desktop.client(timeout_s=60)
        idle_rss = desktop.stats()["rss_mb"]
        decorate(client)
        busy_rss = desktop.stats()["rss_mb"]
        png = client.screenshot()
        console.print(f"desktop {desktop.display} at {desktop.url}; screenshot PNG {len(png) // 1024} KiB; "
                      f"sandboxed={desktop.sandboxed}")

        for _ in range(10):  # warm up: imports, connections, caches
            client.screenshot()
            client.run_pyautogui("pyautogui.moveTo(5, 5)")

        shots = timed(client.screenshot, args.rounds)
        i = [0]
        changed: list[float] = []
        for _ in range(args.rounds):  # the screen changes before every shot: no reuse of the last PNG
            i[0] += 1
            client.run_pyautogui(f"pyautogui.moveTo({200 + i[0] % 400}, {150 + i[0] % 200})")
            changed += timed(client.screenshot, 1)

        def act() -> None:
            i[0] += 1
            client.run_pyautogui(f"pyautogui.moveTo({100 + i[0] % 500}, {100 + i[0] % 300})")

        actions = timed(act, args.rounds)

        def step() -> None:
            act()
            client.screenshot()

        steps = timed(step, args.rounds)

        base_shot = baseline_screenshot(desktop.display)
        base_png = base_shot()
        baseline_shots = timed(base_shot, max(20, args.rounds // 4))
        code = "import pyautogui; pyautogui.FAILSAFE = False; pyautogui.moveTo(300, 300)"
        base_actions = timed(lambda: client.execute([sys.executable, "-c", code]), args.baseline_actions)

        # --- soak ------------------------------------------------------------------------
        before, clients_before = stats(client), x_clients(desktop.display)
        t0 = time.perf_counter()
        for n in range(args.soak_screenshots):
            # move the pointer first so every shot is a full capture and encoding, not a reused PNG
            client.run_pyautogui(f"pyautogui.moveTo({n % 1200}, {n % 700})")
            client.screenshot()
            if n % 1000 == 999:
                console.print(f"  soak: {n + 1}/{args.soak_screenshots} screenshots")
        for n in range(args.soak_actions):
            client.run_pyautogui(f"pyautogui.moveTo({n % 1000}, {n % 700})\npyautogui.click()")
        soak_s = time.perf_counter() - t0
        after, clients_after = stats(client), x_clients(desktop.display)
        client.close()
    finally:
        provider.close()

    # --- side by side ----------------------------------------------------------------------
    started = 0
    together_rss: list[float] = []
    if args.side_by_side:
        many = LocalProvider()
        try:
            desktops = [many.start() for _ in range(args.side_by_side)]
            started = len(desktops)
            together_rss = [d.stats()["rss_mb"] for d in desktops]
        finally:
            many.close()
    available_mb = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available_mb = int(line.split()[1]) / 1024

    table = Table(title="desktop control server at 1280x720 (ms)")
    for column in ("measure", "median", "p95", "baseline median", "target"):
        table.add_column(column)
    table.add_row("screenshot", f"{statistics.median(shots):.1f}", f"{p95(shots):.1f}",
                  f"{statistics.median(baseline_shots):.1f}", "<= 25")
    table.add_row("screenshot, screen changed", f"{statistics.median(changed):.1f}", f"{p95(changed):.1f}", "",
                  "<= 25")
    table.add_row("action", f"{statistics.median(actions):.1f}", f"{p95(actions):.1f}",
                  f"{statistics.median(base_actions):.1f}", "<= 30")
    table.add_row("step", f"{statistics.median(steps):.1f}", f"{p95(steps):.1f}", "", "<= 60")
    console.print(table)
    console.print(f"PNG size: ours {len(png) // 1024} KiB, baseline {len(base_png) // 1024} KiB")
    console.print(f"soak: {args.soak_screenshots} screenshots (each after a pointer move) + {args.soak_actions} "
                  f"clicks in {soak_s:.0f} s; "
                  f"server RSS {before['rss_mb']:.1f} -> {after['rss_mb']:.1f} MB, fds {before['fds']} -> "
                  f"{after['fds']}, threads {before['threads']} -> {after['threads']}, X clients "
                  f"{clients_before} -> {clients_after}")
    console.print(f"RSS per desktop: idle {idle_rss:.0f} MB, with xterm and mousepad open {busy_rss:.0f} MB; "
                  f"{started} started side by side ({', '.join(f'{r:.0f}' for r in together_rss)} MB); "
                  f"{available_mb:.0f} MB available now fits about {int(available_mb // max(busy_rss, 1))}")
    results = {
        "screenshot_ms": round(statistics.median(shots), 2),
        "screenshot_p95_ms": round(p95(shots), 2),
        "screenshot_changed_ms": round(statistics.median(changed), 2),
        "screenshot_changed_p95_ms": round(p95(changed), 2),
        "action_ms": round(statistics.median(actions), 2),
        "action_p95_ms": round(p95(actions), 2),
        "step_ms": round(statistics.median(steps), 2),
        "step_p95_ms": round(p95(steps), 2),
        "baseline_screenshot_ms": round(statistics.median(baseline_shots), 2),
        "baseline_action_ms": round(statistics.median(base_actions), 2),
        "rss_mb_per_desktop": round(busy_rss, 1),
        "rss_mb_idle_desktop": round(idle_rss, 1),
        "desktops_side_by_side": started,
        "desktops_fit_in_memory": int(available_mb // max(busy_rss, 1)),
        "soak_screenshots": args.soak_screenshots,
        "soak_actions": args.soak_actions,
        "soak_fd_growth": after["fds"] - before["fds"],
        "soak_rss_growth_mb": round(after["rss_mb"] - before["rss_mb"], 1),
        "soak_x_client_growth": clients_after - clients_before,
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
