"""Every benchmark once, with its default (short) settings: .venv/bin/python -m benchmarks

About five and a half minutes on a 2-core machine. Each runs in its own process, one after another, so none
competes with another for the CPU; extra arguments are not passed on (run one module for that).
"""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks.harness import REPO, machine_line

# Cheapest first; the three that need the headless desktop last.
BENCHMARKS = (
    "icon_render",
    "statusline",
    "history_queries",
    "polling",
    "idle_tray",
    "bare_icon",
    "running_tray",
    "details_memory",
)


def main() -> int:
    print(machine_line())
    began = time.perf_counter()
    failed = []
    for name in BENCHMARKS:
        print(f"\n== benchmarks.{name}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=REPO, check=False)
        print(
            f"== {name}: {time.perf_counter() - started:.0f} s"
            + (f", exit {done.returncode}" if done.returncode else "")
        )
        if done.returncode:
            failed.append(name)
    print(f"\nall benchmarks: {time.perf_counter() - began:.0f} s")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
