"""Database figures at scale: opening, a poll's history read and the forecast, at 7 days and 1,000,000 rows.

Run from the repository root: .venv/bin/python -m benchmarks.history_queries [--rows 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tray_app.core.forecast import forecast
from tray_app.core.models import UsageWindow
from tray_app.store import Store

WINDOWS = ("five_hour", "seven_day", "seven_day_fable")


def fill(path: Path, rows: int, now: datetime) -> None:
    """rows window snapshots, three windows per poll, polls 30 s apart back from now."""
    polls = rows // len(WINDOWS)
    with Store.open(path, retention_days=3650) as store:
        for start in range(0, polls, 5000):
            batch = range(start, min(start + 5000, polls))
            for index in batch:
                at = now - timedelta(seconds=30 * (polls - index))
                reset = at + timedelta(hours=5) - timedelta(seconds=(at.timestamp() % (5 * 3600)))
                windows = [UsageWindow(w, w, float(index % 100), reset) for w in WINDOWS]
                store.add_windows(at, windows)


def timed(action: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(rows: int, now: datetime) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bench.db"
        started = time.perf_counter()
        fill(path, rows, now)
        filled = time.perf_counter() - started
        opened = timed(lambda: Store.open(path, retention_days=3650).close(), runs=3)
        with Store.open(path, retention_days=3650) as store:
            day = timed(lambda: store.window_history("five_hour", now - timedelta(hours=24)))
            history = store.window_history("five_hour", now - timedelta(hours=24))
            window = UsageWindow("five_hour", "5-hour", 50.0, history[-1].resets_at)
            fc = timed(lambda: forecast(window, history, now))
        size = path.stat().st_size / 2**20
    return (
        f"{rows:>9,} rows ({size:.0f} MiB, filled in {filled:.0f} s): open {opened:.0f} ms, "
        f"24 h history {day:.1f} ms ({len(history)} rows), forecast {fc:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    for rows in (3 * 7 * 2880, args.rows):  # a week of 30 s polls, then the large figure
        print(measure(rows, now))


if __name__ == "__main__":
    main()
