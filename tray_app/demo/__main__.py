"""`python -m tray_app.demo`: serve the simulated endpoints on loopback until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from types import FrameType

import tray_app.demo
from tray_app.demo.admin import ADMIN_SCENARIOS
from tray_app.demo.claude_web import WEB_SCENARIOS
from tray_app.demo.oauth import SCENARIOS
from tray_app.demo.server import DemoServer


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m tray_app.demo`: serve until SIGTERM/SIGINT, after printing the base URL on one line."""
    # The package's docstring, not this module's: --help describes what is being served.
    parser = argparse.ArgumentParser(prog="python -m tray_app.demo", description=tray_app.demo.__doc__)
    parser.add_argument("--scenario", choices=SCENARIOS, default="rising")
    parser.add_argument("--admin-scenario", choices=ADMIN_SCENARIOS, default="normal")
    parser.add_argument("--web-scenario", choices=WEB_SCENARIOS, default="normal")
    parser.add_argument("--speed", type=_positive_float, default=1.0, help="virtual seconds per real second")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with DemoServer(
        args.scenario,
        speed=args.speed,
        port=args.port,
        admin_scenario=args.admin_scenario,
        web_scenario=args.web_scenario,
    ) as server:
        print(server.base_url, flush=True)
        # A short timeout keeps the main thread responsive to signals on every platform.
        while not stopping.wait(0.5):
            pass


if __name__ == "__main__":
    main()
