"""Idle CPU: the real tray at its default pace on a headless desktop, CPU time and wake-ups over minutes.

`python -m tray_app run` with Code mode, Console mode and the claude.ai session switched on and every
other setting at its default (a Code poll every 180 s, Console every 120 s, claude.ai every 300 s),
against loopback servers in this benchmark's process whose 5-hour figure rises in real time, so
every poll brings a change and the poller keeps its fastest pace. Once the first poll has settled,
/proc is read every second for --minutes:

- CPU: user + system seconds of every thread, divided by the wall time: the average load it puts on
  one core, polls included;
- between polls: the same over the seconds with no request to any server in or next to them;
- wake-ups: voluntary context switches summed over its threads (a thread gives up the CPU when it
  goes back to sleep, so each one ends a wake-up). The polling thread checks the database for Claude
  Code's readings once a second between polls (PRAGMA data_version), so about one a second is its floor.

A bare pystray icon (benchmarks.bare_pystray, on the backend the tray chooses) runs beside it on the same
desktop and is read the same way, every second: what any icon on this desktop costs when idle.

Run from the repository root: .venv/bin/python -m benchmarks.idle_tray [--minutes 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bare_icon import start_bare
from benchmarks.harness import (
    REPO,
    ProcSample,
    account_env,
    machine_line,
    sample,
    wakeups,
    warm_display,
    with_bytecode,
    write_account,
)
from tests.e2e.desktop import ChildProcesses, Desktop, find_docked_icon, wait_until
from tray_app.demo import USAGE_PATH, DemoServer
from tray_app.ui.backend import ENV_BACKEND, detect_backend

SETTLE_SECONDS = 10.0  # after the first poll: the first Console and claude.ai answers are stored too
QUIET_MARGIN = 1.0  # a second this close to a request may still hold that request's work


def _wait_for_poll(server: DemoServer, before: int) -> None:
    def probe() -> bool:
        return len(server.requests(USAGE_PATH)) > before

    wait_until(probe, timeout=30, what="the first poll")


Measured = tuple[int, list[ProcSample], list[tuple[float, str]], str, list[ProcSample]]


def measure(minutes: float) -> Measured:
    with (
        tempfile.TemporaryDirectory(prefix="bench-idle-") as scratch,
        Desktop.start(Path(scratch) / "desktop") as desktop,
        DemoServer("rising") as server,
    ):
        processes = ChildProcesses(desktop, Path(scratch) / "logs")
        try:
            # The first start compiles the bytecode (see with_bytecode), and compiling leaves garbage
            # behind in that process's memory: the measured start is the second, in a new home.
            for name in ("compile", "home"):
                home = Path(scratch) / name
                write_account(home)
                env = with_bytecode(desktop.child_env(**account_env(home, server)), Path(scratch) / "pycache")
                env.pop("PYSTRAY_BACKEND", None)
                if name == "compile":
                    warm_display(env)
                else:
                    # The bare icon first, on the backend the tray chooses by itself on this desktop.
                    backend = detect_backend({k: v for k, v in env.items() if k != ENV_BACKEND}, "linux")
                    bare = start_bare(desktop, processes, backend.name, Path(scratch) / "pycache")
                before = len(server.requests(USAGE_PATH))
                proc = processes.start(
                    [sys.executable, "-m", "tray_app", "run"], env=env, name=name, cwd=REPO
                )
                find_docked_icon(desktop, proc.pid, timeout=30)
                _wait_for_poll(server, before)
                if name == "compile":
                    processes.stop_all()
            time.sleep(SETTLE_SECONDS)
            readings, bare_readings = [sample(proc.pid)], [sample(bare)]
            end = readings[0].at + minutes * 60
            while readings[-1].at < end:
                # Sleep to the next whole second after the first reading, so the steps stay even.
                time.sleep(max(0.0, readings[0].at + len(readings) - time.time()))
                readings.append(sample(proc.pid))
                bare_readings.append(sample(bare))
            if proc.poll() is not None:
                raise RuntimeError(f"the tray exited with {proc.returncode}")
        finally:
            processes.stop_all()
        requests = [(r.at, r.path) for r in server.requests()]
        log = home / "app/logs/claude-usage-tray.log"
        logged = log.read_text(errors="replace") if log.exists() else ""
    return proc.pid, readings, requests, logged, bare_readings


def report(
    pid: int,
    readings: list[ProcSample],
    requests: list[tuple[float, str]],
    logged: str,
    bare: list[ProcSample],
) -> None:
    first, last = readings[0], readings[-1]
    wall = last.at - first.at
    inside = [(at, path) for at, path in requests if first.at <= at <= last.at]
    polls = sum(1 for _, path in inside if path == USAGE_PATH)
    quiet_cpu = quiet_wall = 0.0
    woken = quiet_woken = main_woken = 0
    for before, after in zip(readings, readings[1:], strict=False):
        step = wakeups(before, after)
        woken += step
        main_woken += after.switches.get(pid, 0) - before.switches.get(pid, 0)
        busy = any(before.at - QUIET_MARGIN <= at <= after.at + QUIET_MARGIN for at, _ in inside)
        if not busy:
            quiet_cpu += after.cpu - before.cpu
            quiet_wall += after.at - before.at
            quiet_woken += step
    cpu = last.cpu - first.cpu
    print(
        f"idle at the default pace for {wall / 60:.1f} min: {polls} Code polls, "
        f"{len(inside)} requests in all, {last.threads} threads, {last.fds} open files"
    )
    print(f"  CPU: {cpu:.2f} s in {wall:.0f} s = {cpu / wall * 100:.3f} % of one core (polls included)")
    print(
        f"  wake-ups: {woken / wall:.2f} per second ({woken} voluntary context switches; "
        f"{main_woken} of them on the main thread, the toolkit's loop)"
    )
    if quiet_wall > 0:
        print(
            f"  between polls ({quiet_wall:.0f} s with no request near): "
            f"CPU {quiet_cpu / quiet_wall * 100:.3f} %, "
            f"{quiet_woken / quiet_wall:.2f} wake-ups per second"
        )
    print(f"  memory: RSS {first.rss:.1f} -> {last.rss:.1f} MiB, USS {first.uss:.1f} -> {last.uss:.1f} MiB")
    bare_wall = bare[-1].at - bare[0].at
    bare_cpu, bare_woken = bare[-1].cpu - bare[0].cpu, wakeups(bare[0], bare[-1])
    print(
        f"  beside it, a bare pystray icon on the same desktop ({bare[-1].threads} threads): "
        f"CPU {bare_cpu / bare_wall * 100:.3f} %, {bare_woken / bare_wall:.2f} wake-ups per second; "
        f"the tray wakes {(woken - bare_woken) / wall:+.2f} per second more than it"
    )
    for line in logged.splitlines():
        if " WARNING " in line or " ERROR " in line:
            print(f"  logged: {line}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=2.0, help="how long to watch (default 2)")
    args = parser.parse_args(argv)
    print(machine_line())
    report(*measure(args.minutes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
