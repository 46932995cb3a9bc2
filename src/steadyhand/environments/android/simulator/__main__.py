"""Run a simulated device's ADB server in the foreground (see the package docstring).

Prints one line, ``READY <host> <port> <serial>``, once it accepts connections;
stops on SIGTERM, SIGINT or an ADB ``host:kill``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from steadyhand.environments.android.simulator import SimulatedDevice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steadyhand.environments.android.simulator",
                                     description="A simulated Android device behind an ADB server (a test double).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5037, help="0 picks a free port")
    parser.add_argument("--serial", default="emulator-5554")
    parser.add_argument("--width", type=int, default=1080)
    parser.add_argument("--height", type=int, default=2400)
    args = parser.parse_args(argv)
    device = SimulatedDevice(host=args.host, port=args.port, serial=args.serial, width=args.width,
                             height=args.height)

    def stop(signum: int, frame: FrameType | None) -> None:
        device.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"READY {device.host} {device.port} {device.serial}", flush=True)
    try:
        device.serve_forever()
    finally:
        device.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
