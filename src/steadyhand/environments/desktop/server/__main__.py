"""``python -m steadyhand.environments.desktop.server --port N``: serve until SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from steadyhand.environments.desktop.server.app import ControlServer, HTTPControlServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steadyhand.environments.desktop.server",
                                     description="OSWorld-compatible desktop control server.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind; 0 picks a free one (default 5000)")
    parser.add_argument("--display", default=os.environ.get("DISPLAY"), help="X display (default $DISPLAY)")
    parser.add_argument("--ready-file", type=Path, help="write the bound port here once serving")
    args = parser.parse_args(argv)
    if not args.display:
        parser.error("no X display: set DISPLAY or pass --display")
    os.environ["DISPLAY"] = args.display
    httpd = HTTPControlServer((args.host, args.port), ControlServer(args.display))
    port = httpd.server_address[1]

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ready_file:
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(str(port))
        tmp.replace(args.ready_file)
    print(f"desktop control server on http://{args.host}:{port} (DISPLAY={args.display})", file=sys.stderr,
          flush=True)
    try:
        httpd.serve_forever(poll_interval=0.5)
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
