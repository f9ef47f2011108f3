"""Database figures at scale: opening, a poll's history reads and forecasts, and `statusline`, at 7 days
and at 1,000,000 rows.

The database is filled through the program's own Store (one add_windows per simulated 30 s poll, three
windows each, polls back from now), so its layout is what a user's would be. Then, each the median of
several runs:
- open: Store.open, with its integrity check, as every start of the tray or a command does;
- a poll's reads: the recent history of every window (RECENT_HISTORY), which CodeMonitor reads after
  each fetch;
- forecasts: tray_app.core.forecast for every window from those rows;
- statusline: `python -m tray_app statusline` in a fresh process against that database.

Run from the repository root: .venv/bin/python -m benchmarks.history_queries [--rows 1000000]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.harness import REPO, machine_line, with_bytecode
from tray_app.core.forecast import forecast
from tray_app.core.models import CodeUsage, UsageWindow
from tray_app.monitors.code import RECENT_HISTORY
from tray_app.paths import ENV_HOME
from tray_app.store import Store

WINDOWS = ("five_hour", "seven_day", "seven_day_fable")
RECENT = RECENT_HISTORY  # what a poll reads first
WEEK_OF_ROWS = len(WINDOWS) * 7 * 2880  # a week of 30 s polls


def fill(path: Path, rows: int, now: datetime) -> None:
    """rows window snapshots, three windows per poll, polls 30 s apart back from now."""
    polls = rows // len(WINDOWS)
    with Store.open(path, retention_days=3650) as store:
        for index in range(polls):
            at = now - timedelta(seconds=30 * (polls - index))
            reset = at + timedelta(hours=5) - timedelta(seconds=(at.timestamp() % (5 * 3600)))
            windows = [UsageWindow(w, w, float(index % 100), reset) for w in WINDOWS]
            store.add_windows(at, windows)
        store.save_code_usage(now, CodeUsage(tuple(windows), None))


def timed(action: Callable[[], object], runs: int = 5) -> float:
    """Median milliseconds of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(rows: int, now: datetime) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "usage_history.db"
        started = time.perf_counter()
        fill(path, rows, now)
        filled = time.perf_counter() - started
        opened = timed(lambda: Store.open(path, retention_days=3650).close(), runs=3)
        with Store.open(path, retention_days=3650) as store:

            def poll_reads() -> list[list[object]]:
                return [list(store.window_history(w, now - RECENT)) for w in WINDOWS]

            reads = timed(poll_reads)
            histories = {w: store.window_history(w, now - RECENT) for w in WINDOWS}
            windows = [UsageWindow(w, w, 50.0, histories[w][-1].resets_at) for w in WINDOWS]

            def forecasts() -> None:
                for window in windows:
                    forecast(window, histories[window.id], now)

            predicted = timed(forecasts)
        env = with_bytecode({**os.environ, ENV_HOME: scratch}, Path(scratch) / "pycache")
        command = [sys.executable, "-m", "tray_app", "statusline"]
        # The first run compiles the modules; the timed ones use that bytecode, as an installed program does.
        line = subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, text=True)
        if "5h" not in line.stdout:
            raise RuntimeError(f"statusline showed no figures: {line.stdout!r} {line.stderr!r}")
        run = functools.partial(subprocess.run, command, env=env, cwd=REPO, check=True, capture_output=True)
        statusline = timed(run, runs=11)
        size = path.stat().st_size / 2**20
    per_window = len(histories[WINDOWS[0]])
    return (
        f"{rows:>9,} rows ({size:.0f} MiB, filled in {filled:.0f} s): open {opened:.0f} ms; "
        f"a poll's {RECENT.total_seconds() / 3600:g} h reads {reads:.1f} ms"
        f" ({len(WINDOWS)} x {per_window:,} rows); "
        f"forecasts {predicted:.1f} ms; statusline {statusline:.0f} ms"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="the large database (default 1,000,000)")
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(microsecond=0)
    print(machine_line())
    for rows in (WEEK_OF_ROWS, args.rows):
        print(measure(rows, now), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
