"""Time `claude-usage-tray statusline` as Claude Code runs it: a fresh process per prompt, database only.

The command runs as `python -m tray_app statusline` from the repository, which is what the installed
claude-usage-tray script does (tray_app.entry) but with this checkout's code rather than the copy
installed in the venv, and with its compiled bytecode cached as an installed program's is (see
benchmarks.harness.with_bytecode). A bare `python -c pass` is timed alongside: that much is the
interpreter's; and the command once more without cached bytecode.

Then as Claude Code calls it, with its status-line JSON on stdin: with `rate_limits` whose 5-hour figure
rises by one on every call, so every call writes its reading to the database (record_fed), beside the
same JSON without `rate_limits` (nothing to write), in alternation so that both see the same machine;
and once more with the figures changing while another connection holds the database's write lock
(BEGIN IMMEDIATE), as a tray in the middle of a poll would: the write gives up after FEED_WAIT_MS and
the line is printed all the same.

Run from the repository root: .venv/bin/python -m benchmarks.statusline [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmarks.harness import REPO, account_env, machine_line, with_bytecode, write_account
from tray_app.demo import DemoServer
from tray_app.environment import Environment
from tray_app.store.readings import FEED_WAIT_MS

HOUR = 3600


def status_json(five_hour: int | None, resets_at: int) -> bytes:
    """What Claude Code pipes to its status-line command; no rate_limits when five_hour is None."""
    document: dict[str, object] = {
        "hook_event_name": "Status",
        "session_id": "3d1f6a2e-7b4c-4e0a-9f51-2c8d0e6b7a10",
        "version": "2.1.289",
        "model": {"id": "claude-sonnet-5", "display_name": "Sonnet 5"},
        "workspace": {"current_dir": str(REPO), "project_dir": str(REPO)},
        "context_window": {"used_percentage": 21, "remaining_percentage": 79},
    }
    if five_hour is not None:
        document["rate_limits"] = {
            "five_hour": {"used_percentage": five_hour, "resets_at": resets_at},
            "seven_day": {"used_percentage": 40, "resets_at": resets_at + 4 * 24 * HOUR},
        }
    return json.dumps(document).encode()


@contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """Another connection holding the database's write lock (as the tray does while it stores a poll)."""
    connection = sqlite3.connect(str(database), isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def timed(
    command: Sequence[str], env: dict[str, str], runs: int, stdin: Callable[[int], bytes] | None = None
) -> tuple[list[float], str]:
    """Milliseconds per run, and the last run's output; stdin(n) is what run n gets on its stdin."""
    times, out = [], ""
    for n in range(runs):
        data = b"" if stdin is None else stdin(n)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, input=data)
        times.append((time.perf_counter() - started) * 1000)
        out = done.stdout.decode(errors="replace").strip()
    return times, out


def spread(times: list[float]) -> str:
    return f"median {statistics.median(times):.0f} ms, min {min(times):.0f} ms, max {max(times):.0f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch, DemoServer("rising") as server:
        home = Path(scratch)
        write_account(home)
        plain = {**os.environ, **account_env(home, server)}
        env = with_bytecode(plain, home / "pycache")
        # One real poll first, so there are figures (and Console's month) in the database to show.
        subprocess.run(
            [sys.executable, "-m", "tray_app", "status"], env=env, cwd=REPO, check=True, capture_output=True
        )
        statusline = [sys.executable, "-m", "tray_app", "statusline"]
        timed(statusline, env, 1)  # compiles what `status` did not import
        bare, _ = timed([sys.executable, "-c", "pass"], env, args.runs)
        times, line = timed(statusline, env, args.runs)
        uncompiled = {**plain, "PYTHONDONTWRITEBYTECODE": "1"}
        compiling, _ = timed(statusline, uncompiled, args.runs)
        fed = fed_runs(statusline, env, home, server, args.runs)
    print(machine_line())
    print(f"statusline: {line}")
    print(f"start-up + query, fresh process, {len(times)} runs: {spread(times)}")
    print(f"of which the bare interpreter (python -c pass): {spread(bare)}")
    print(f"without cached bytecode (PYTHONDONTWRITEBYTECODE=1, compiling every module): {spread(compiling)}")
    writing, reading, locked, lines = fed
    print("with Claude Code's status-line JSON on stdin, fresh process each time:")
    print(f"  rate_limits changing on every call (each call writes its reading): {spread(writing)}")
    print(f"  the same JSON without rate_limits (nothing written): {spread(reading)}")
    print(
        f"  the write costs {statistics.median(writing) - statistics.median(reading):+.0f} ms at the median; "
        f"the bare interpreter {statistics.median(bare):.0f} ms (target: under 100 ms with the write)"
    )
    print(
        f"  the database write-locked by another connection (BEGIN IMMEDIATE; the write waits "
        f"{FEED_WAIT_MS} ms at most, then the line is printed): {spread(locked)}"
    )
    print(f"  lines: {lines[0]!r} (written), {lines[1]!r} (locked)")
    return 0


def fed_runs(
    statusline: Sequence[str], env: dict[str, str], home: Path, server: DemoServer, runs: int
) -> tuple[list[float], list[float], list[float], tuple[str, str]]:
    """Milliseconds per run: writing (alternated with) not writing, then with the file write-locked."""
    resets_at = int(time.time() + 3 * HOUR)
    figures = iter(range(1, 3 * runs + 10))  # strictly rising in one period: every call is news

    def rising(_n: int) -> bytes:
        return status_json(next(figures), resets_at)

    def without(_n: int) -> bytes:
        return status_json(None, resets_at)

    timed(statusline, env, 1, rising)  # compiles the writing path
    writing: list[float] = []
    reading: list[float] = []
    line = ""
    for _ in range(runs):
        once, line = timed(statusline, env, 1, rising)
        writing += once
        reading += timed(statusline, env, 1, without)[0]
    database = Environment(account_env(home, server), "linux", home).paths.database
    sent = stored_five_hour(database)
    with write_locked(database):
        locked, locked_line = timed(statusline, env, runs, rising)
    # Every call should have written, and none while the file was locked.
    if sent != runs + 1 or stored_five_hour(database) != sent:
        raise RuntimeError(
            f"the readings were not written as expected: {sent}, then {stored_five_hour(database)}"
        )
    return writing, reading, locked, (line, locked_line)


def stored_five_hour(database: Path) -> float | None:
    """The 5-hour figure the statusline stored last, as the tray would read it."""
    with sqlite3.connect(str(database)) as connection:
        row = connection.execute("SELECT utilization FROM readings WHERE window_id = 'five_hour'").fetchone()
    return None if row is None else float(row[0])


if __name__ == "__main__":
    raise SystemExit(main())
