"""Measure the running tray: start to icon, memory after start and over many accelerated polls, CPU per poll.

Runs the real program on a private headless desktop (Xvfb, trayer, dunst and a private session bus:
the end-to-end tests' harness) with Code mode, Console mode and the claude.ai session all switched on,
against loopback servers (tray_app.demo.DemoServer) that run in this benchmark's process, so every
figure read from /proc is the program's own. Linux only.

1. Start-up: `python -m tray_app run` (what the claude-usage-tray command runs) in a fresh home each
   time: until its icon is docked, until the icon is drawn, and until its first poll's request reaches
   the server; memory 2 s after that request. Two starts come before the --runs measured ones and are
   shown apart: the one that compiles the bytecode, and the first GTK program on the fresh display.
2. Polls: benchmarks.accelerated_tray runs the same program with its pacing divided by --speed (at 600
   a 180 s poll comes every 300 ms; see that module) against a server at the same speed, so the figures
   change on every poll as in active use, and the history a poll reads fills up as in a real day.
   Memory, CPU time, threads and open files are read every --polls/10 polls. CPU per poll is process
   CPU time (user + system of every thread: the polling thread, and the toolkit's loop on the main
   thread redrawing icon and menu), so time spent waiting for the network is not in it; it includes
   the Console and claude.ai refreshes that fall due, in the proportion printed at the end. A program
   that stops polling ends the run with the end of its output.

Run from the repository root: .venv/bin/python -m benchmarks.running_tray [--runs 5] [--polls 1000]
The README's figures: --polls 10000 (about 12 minutes when they were measured, with Code's default of
30 s then; about an hour at the 180 s default now).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import (
    REPO,
    ProcSample,
    account_env,
    machine_line,
    per_api,
    request_name,
    sample,
    warm_display,
    with_bytecode,
    write_account,
)
from tests.e2e.desktop import ChildProcesses, Desktop, find_docked_icon, wait_for_stable_pixels, wait_until
from tray_app.demo import COST_REPORT_PATH, USAGE_PATH, WEB_ORGANIZATIONS_PATH, DemoServer, RecordedRequest
from tray_app.poller import PollTiming

# Console every 200 ms and claude.ai every 500 ms (a 180 s Code poll every 300 ms): slow enough that this
# 2-core machine keeps the pace, so they fall due in their real proportion to Code polls (the run checks
# it). Since Code's default went from 30 s to 180 s, 10,000 polls take about an hour at this speed.
DEFAULT_SPEED = 600.0
TIMING = PollTiming()  # the defaults: the real pace the run compresses
# No request for this long (real seconds) while a poll is due every 300 ms: the program has stopped.
STALL_SECONDS = 15.0
LOG = Path("app/logs/claude-usage-tray.log")


def start(
    desktop: Desktop,
    processes: ChildProcesses,
    home: Path,
    server: DemoServer,
    argv: Sequence[str],
    **extra_env: str,
) -> tuple[subprocess.Popen[bytes], float, float, float]:
    """Start the program; returns it with the seconds until its icon was docked and until it was drawn.

    Every start shares one bytecode cache beside `home`, so only the first compiles the modules.
    """
    write_account(home)
    env = with_bytecode(desktop.child_env(**account_env(home, server), **extra_env), home.parent / "pycache")
    env.pop("PYSTRAY_BACKEND", None)  # let the program choose its backend, as it does for a user
    started = time.time()
    proc = processes.start([sys.executable, *argv], env=env, name=f"tray-{home.name}", cwd=REPO)
    icon = find_docked_icon(desktop, proc.pid, timeout=30)
    docked = time.time() - started
    wait_for_stable_pixels(desktop, icon, timeout=10)
    return proc, started, docked, time.time() - started


def problems(home: Path) -> list[str]:
    """Warnings and errors the program logged: a figure from a run that was failing means nothing."""
    log = home / LOG
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if " WARNING " in line or " ERROR " in line]


def first_request(server: DemoServer, before: int) -> RecordedRequest:
    def probe() -> RecordedRequest | None:
        new = server.requests(USAGE_PATH)[before:]
        return new[0] if new else None

    return wait_until(probe, timeout=30, what="the first poll")


@dataclass(frozen=True)
class StartUp:
    docked: float  # seconds from start until the icon was docked in the tray
    drawn: float  # ... until it was drawn
    polled: float  # ... until the first request of the first poll reached the server
    rss: float  # MiB, 2 s after that first request
    uss: float


def start_once(
    desktop: Desktop, processes: ChildProcesses, home: Path, server: DemoServer, **extra_env: str
) -> tuple[StartUp, list[str]]:
    before = len(server.requests(USAGE_PATH))
    argv = ["-m", "tray_app", "run"]
    proc, started, docked, drawn = start(desktop, processes, home, server, argv, **extra_env)
    first = first_request(server, before)
    time.sleep(2.0)  # the first answer stored, presented and drawn
    after_start = sample(proc.pid)
    processes.stop_all()
    return StartUp(docked, drawn, first.at - started, after_start.rss, after_start.uss), problems(home)


def startups(desktop: Desktop, processes: ChildProcesses, scratch: Path, runs: int) -> None:
    results = []
    with DemoServer("rising") as server:
        # The first start compiles the bytecode. With GDK_GL=disable GTK leaves the display as it
        # found it, so the next start is still the first GTK program there to choose its visuals.
        for run in range(runs + 2):
            extra = {"GDK_GL": "disable"} if run == 0 else {}
            result, logged = start_once(desktop, processes, scratch / f"start{run}", server, **extra)
            results.append(result)
            for line in logged:
                print(f"  logged by start-up run {run}: {line}")
    compiling, cold, warm = results[0], results[1], results[2:]
    print(
        f"first start, compiling the bytecode, GDK_GL=disable: icon drawn after {compiling.drawn:.2f} s, "
        f"RSS {compiling.rss:.1f} MiB (USS {compiling.uss:.1f})"
    )
    print(
        f"first GTK program on the display (where GTK would load Mesa's GL to choose visuals; the tray "
        f"starts it with GL off): icon drawn after {cold.drawn:.2f} s, "
        f"RSS {cold.rss:.1f} MiB (USS {cold.uss:.1f})"
    )
    print(f"start-up over {runs} more runs (median, min-max):")
    for label, values, unit in (
        ("to icon docked", [r.docked for r in warm], "s"),
        ("to icon drawn", [r.drawn for r in warm], "s"),
        ("to the first poll's request", [r.polled for r in warm], "s"),
        ("resident memory (RSS) 2 s after the first poll", [r.rss for r in warm], "MiB"),
        ("of which private to the process (USS)", [r.uss for r in warm], "MiB"),
    ):
        print(f"  {label:<48} {_spread(values, unit)}")


def _spread(values: list[float], unit: str) -> str:
    digits = 2 if unit == "s" else 1
    return (
        f"{statistics.median(values):.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def accelerated(desktop: Desktop, processes: ChildProcesses, scratch: Path, polls: int, speed: float) -> None:
    home = scratch / "polls"
    every = TIMING.interval / speed * 1000
    pace = f"a {TIMING.interval:g} s poll every {every:.0f} ms"
    print(f"{polls:,} polls at {speed:g} times the real pace ({pace}):")
    # "ms/poll" is the CPU per poll since the row before: it grows while the history a poll reads
    # (24 h, compressed like everything else) fills up.
    print(
        f"  {'polls':>7} {'wall s':>7} {'CPU s':>7} {'main':>6} {'ms/poll':>7} {'RSS MiB':>8} "
        f"{'USS MiB':>8} {'threads':>7} {'files':>5}",
        flush=True,
    )
    with DemoServer("rising", speed=speed) as server:
        argv = ["-m", "benchmarks.accelerated_tray", "--speed", f"{speed:g}", "run"]
        proc, _, _, _ = start(desktop, processes, home, server, argv)
        try:
            readings = _read_along(processes, proc, server, polls)
        finally:
            processes.stop_all()
        paths = [request_name(r.path, r.query) for r in server.requests()]
    (start_count, start_reading), (end_count, end_reading) = readings[0], readings[-1]
    cpu = end_reading.cpu - start_reading.cpu
    main_cpu = end_reading.main_cpu - start_reading.main_cpu
    measured = end_count - start_count
    print(
        f"  CPU per poll cycle: {cpu / measured * 1000:.1f} ms, of which {main_cpu / measured * 1000:.1f} ms "
        f"on the main thread (the toolkit's loop: icon and menu redraw) "
        f"({cpu:.2f} s over polls {start_count:,}-{end_count:,}, "
        f"wall {end_reading.at - start_reading.at:.0f} s)"
    )
    print(
        f"  memory: RSS {start_reading.rss:.1f} MiB after {start_count:,} polls, "
        f"{end_reading.rss:.1f} MiB after {end_count:,} "
        f"(USS {start_reading.uss:.1f} -> {end_reading.uss:.1f})"
    )
    print("  requests: " + ", ".join(f"{n:,} {api}" for api, n in per_api(paths).items() if n))
    # At the real pace a Console refresh (one cost report page) comes every console_interval and claude.ai
    # (one organizations list) every web_interval; a run too fast for this machine would crowd them in.
    usage = paths.count(USAGE_PATH)
    console, web = paths.count(COST_REPORT_PATH) / usage, paths.count(WEB_ORGANIZATIONS_PATH) / usage
    print(
        f"  refreshes per Code poll: Console {console:.3f} ({TIMING.interval / TIMING.console_interval:.2f} "
        f"at the real pace), claude.ai {web:.3f} ({TIMING.interval / TIMING.web_interval:.2f})"
    )
    for line in problems(home):
        print(f"  logged: {line}")


def _row(count: int, reading: ProcSample, first: ProcSample, previous: tuple[int, ProcSample]) -> str:
    step = count - previous[0]
    per_poll = f"{(reading.cpu - previous[1].cpu) / step * 1000:.1f}" if step else "-"
    return (
        f"  {count:>7,} {reading.at - first.at:>7.1f} {reading.cpu:>7.2f} {reading.main_cpu:>6.2f} "
        f"{per_poll:>7} {reading.rss:>8.1f} {reading.uss:>8.1f} {reading.threads:>7} {reading.fds:>5}"
    )


def _read_along(
    processes: ChildProcesses, proc: subprocess.Popen[bytes], server: DemoServer, polls: int
) -> list[tuple[int, ProcSample]]:
    """Readings once the icon is up (after some polls already) and at every tenth of `polls`, each
    printed as it is taken."""
    done = len(server.requests(USAGE_PATH))
    readings = [(done, sample(proc.pid))]
    print(_row(done, readings[0][1], readings[0][1], readings[0]), flush=True)
    progress = [done, time.monotonic()]
    for mark in sorted({polls * k // 10 for k in range(1, 11)}):
        if mark <= done:
            continue

        def reached(mark: int = mark) -> int | None:
            count = len(server.requests(USAGE_PATH))
            if count > progress[0]:
                progress[:] = [count, time.monotonic()]
            elif proc.poll() is not None or time.monotonic() - progress[1] > STALL_SECONDS:
                raise SystemExit(
                    f"the program stopped polling after {count} polls; the end of its output:\n"
                    f"{processes.output(proc)[-2500:]}"
                )
            return count if count >= mark else None

        # Reading the server's list copies it: twice a second is plenty.
        done = wait_until(reached, timeout=24 * 3600, what=f"{mark} polls", interval=0.5)
        readings.append((done, sample(proc.pid)))
        print(_row(done, readings[-1][1], readings[0][1], readings[-2]), flush=True)
    return readings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="start-up measurements (default 5)")
    parser.add_argument("--polls", type=int, default=1000, help="accelerated polls (default 1000)")
    parser.add_argument(
        "--speed", type=float, default=DEFAULT_SPEED, help=f"pace of the accelerated run ({DEFAULT_SPEED:g})"
    )
    args = parser.parse_args(argv)
    print(machine_line())
    with (
        tempfile.TemporaryDirectory(prefix="bench-tray-") as scratch,
        Desktop.start(Path(scratch) / "desktop") as desktop,
    ):
        processes = ChildProcesses(desktop, Path(scratch) / "logs")
        try:
            if args.runs > 0:
                startups(desktop, processes, Path(scratch), args.runs)  # its first run warms the display
            else:
                warm_display(desktop.child_env())
            if args.polls > 0:
                accelerated(desktop, processes, Path(scratch), args.polls, args.speed)
        finally:
            processes.stop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
