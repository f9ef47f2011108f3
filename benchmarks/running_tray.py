"""Measure the running tray: time from start to the icon on screen, and memory and CPU over 100 polls.

Runs the real `claude-usage-tray run --demo` on a private headless desktop (Xvfb, trayer, dunst, a
private session bus: the same harness as the end-to-end tests) and reads /proc. Linux only.
Run from the repository root: .venv/bin/python -m benchmarks.running_tray [--runs 5] [--polls 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.desktop import ChildProcesses, Desktop, find_docked_icon, wait_for_stable_pixels, wait_until

REPO = Path(__file__).resolve().parents[1]
# At this speed the demo polls every 0.2 s, so 100 polls take about 20 s instead of 50 min.
BENCH_DEMO_SPEED = "1500"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def start_app(
    desktop: Desktop, processes: ChildProcesses, home: Path, speed: str
) -> tuple[subprocess.Popen[bytes], float]:
    env = desktop.child_env(CLAUDE_USAGE_TRAY_HOME=str(home), HOME=str(home))
    env.pop("PYSTRAY_BACKEND", None)
    argv = [sys.executable, "-m", "tray_app.cli", "-v", "run", "--demo", "--demo-speed", speed]
    started = time.perf_counter()
    proc = processes.start(argv, env=env, name=f"tray-{home.name}", cwd=REPO)
    icon = find_docked_icon(desktop, proc.pid, timeout=30)
    wait_for_stable_pixels(desktop, icon, timeout=10)  # drawn, not just an empty socket
    return proc, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="start-up measurements")
    parser.add_argument("--polls", type=int, default=100, help="polls to measure memory and CPU over")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-tray-") as scratch,
        Desktop.start(Path(scratch)) as desktop,
    ):
        processes = ChildProcesses(desktop, Path(scratch) / "logs")
        try:
            startups = []
            for run in range(args.runs):
                proc, seconds = start_app(desktop, processes, Path(scratch) / f"home{run}", "60")
                startups.append(seconds)
                proc.terminate()
                processes.wait(proc, timeout=15)
            proc, _ = start_app(desktop, processes, Path(scratch) / "home-polls", BENCH_DEMO_SPEED)
            pid = proc.pid
            rss_start, cpu_start, wall_start = rss_mib(pid), cpu_seconds(pid), time.perf_counter()
            polls_at_start = processes.output(proc).count("polled:")

            def polls() -> int:
                return processes.output(proc).count("polled:") - polls_at_start

            wait_until(lambda: polls() >= args.polls or None, timeout=600, what=f"{args.polls} polls")
            done = polls()
            rss_end, cpu_end, wall_end = rss_mib(pid), cpu_seconds(pid), time.perf_counter()
        finally:
            processes.stop_all()
    cpu = cpu_end - cpu_start
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"start to icon on screen: median {statistics.median(startups):.2f} s over {len(startups)} runs "
        f"(min {min(startups):.2f}, max {max(startups):.2f})"
    )
    print(f"resident memory: {rss_start:.1f} MiB after start, {rss_end:.1f} MiB after {done} polls")
    print(
        f"CPU time over {done} polls: {cpu:.2f} s ({cpu / done * 1000:.1f} ms per poll cycle, "
        f"including the demo server in the same process; wall {wall_end - wall_start:.1f} s)"
    )


if __name__ == "__main__":
    main()
