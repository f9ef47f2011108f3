"""Time `claude-usage-tray statusline` as Claude Code runs it: a fresh process per prompt, database only.

The command runs as `python -m tray_app statusline` from the repository, which is what the installed
claude-usage-tray script does (tray_app.entry) but with this checkout's code rather than the copy
installed in the venv, and with its compiled bytecode cached as an installed program's is (see
benchmarks.harness.with_bytecode). A bare `python -c pass` is timed alongside: that much is the
interpreter's; and the command once more without cached bytecode.

Run from the repository root: .venv/bin/python -m benchmarks.statusline [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.harness import REPO, account_env, machine_line, with_bytecode, write_account
from tray_app.demo import DemoServer


def timed(command: Sequence[str], env: dict[str, str], runs: int) -> tuple[list[float], str]:
    """Milliseconds per run, and the last run's output."""
    times, out = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, text=True)
        times.append((time.perf_counter() - started) * 1000)
        out = done.stdout.strip()
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
    print(machine_line())
    print(f"statusline: {line}")
    print(f"start-up + query, fresh process, {len(times)} runs: {spread(times)}")
    print(f"of which the bare interpreter (python -c pass): {spread(bare)}")
    print(f"without cached bytecode (PYTHONDONTWRITEBYTECODE=1, compiling every module): {spread(compiling)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
