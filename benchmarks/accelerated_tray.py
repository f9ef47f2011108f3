"""The real program with its clock-driven timings compressed: `claude-usage-tray` at N times the pace.

Usage (from the repository root): .venv/bin/python -m benchmarks.accelerated_tray --speed 1500 run

Nothing of the program's code is changed or stubbed: the same command line, composition, HTTP client,
database, forecasts, icon and menu run. Only the durations that set its pace are divided by --speed
before it starts, the same way --demo-speed compresses the demo: the poll intervals (180 s Code, 120 s
Console, 300 s claude.ai, the 15-minute idle ceiling, the 30 s repaint), and the spans that decide
what a poll reads (24 h of history, the forecast's minimum span, the 10 s sharing of a fresh answer,
the daily profile and hourly Admin API lists). So at 1500 a 180 s poll comes every 120 ms, and each
poll reads as many history rows as it would at the real pace. Point it at a DemoServer running at the
same speed and every poll sees what a 180 s poll would see.

Left at their real values: the suspend detector (a real jump of the wall clock), back-off after
failures (none happen here), the retention of history and calendar days of the Admin API.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import tray_app.cli
import tray_app.config
import tray_app.monitors.code
import tray_app.monitors.console
import tray_app.wiring.app
import tray_app.wiring.tray  # imports no pystray, so it may come before the backend is pinned
from tray_app.config import Settings
from tray_app.poller import PollTiming

# Module globals the program reads each time it uses them, so replacing them here takes effect.
_SPANS = (
    (tray_app.wiring.app, "SHARED_FRESHNESS"),
    (tray_app.wiring.app, "MIN_SPAN"),
    (tray_app.monitors.code, "RECENT_HISTORY"),
    (tray_app.monitors.code, "HISTORY_SPAN"),
    (tray_app.monitors.code, "PROFILE_MAX_AGE"),
    (tray_app.monitors.console, "SLOW_REFRESH"),
    (tray_app.monitors.console, "TOKENS_REFRESH"),
    (tray_app.monitors.console, "CROSS_CHECK"),
)


def compress(speed: float) -> None:
    """Divide the program's pacing durations by speed, before it reads any of them."""
    load_settings = tray_app.config.load_settings

    def scaled_settings(*args: Any, **kwargs: Any) -> Settings:
        settings = load_settings(*args, **kwargs)
        console = dataclasses.replace(settings.console, poll_seconds=settings.console.poll_seconds / speed)
        return dataclasses.replace(
            settings, code_poll_seconds=settings.code_poll_seconds / speed, console=console
        )

    poll_timing = tray_app.wiring.app.poll_timing

    def scaled_timing(app: tray_app.wiring.app.App) -> PollTiming:
        # interval and console_interval arrive already scaled, from the settings above. The once-a-second
        # check for Claude Code's readings is not pacing but latency: it stays in real time.
        timing = poll_timing(app)
        return dataclasses.replace(
            timing,
            idle_interval=timing.idle_interval / speed,
            repaint=timing.repaint / speed,
            web_interval=timing.web_interval / speed,
            fed_interval=timing.fed_interval / speed,
        )

    replacements: list[tuple[ModuleType, str, object]] = [
        (tray_app.wiring.app, "load_settings", scaled_settings),
        # Where the tray takes its timing from (wiring.tray imported the name).
        (tray_app.wiring.tray, "poll_timing", scaled_timing),
    ]
    replacements += [(module, name, getattr(module, name) / speed) for module, name in _SPANS]
    for module, name, value in replacements:
        if not hasattr(module, name):
            raise RuntimeError(f"{module.__name__}.{name} is gone: update benchmarks/accelerated_tray.py")
        setattr(module, name, value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--speed", type=float, required=True, help="how many times faster than real time")
    args, rest = parser.parse_known_args(argv)
    if not args.speed >= 1:
        parser.error("--speed must be at least 1")
    compress(args.speed)
    return tray_app.cli.main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
