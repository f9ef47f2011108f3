"""The tray's memory before and after the details window opened and closed (issue 16).

The real tray on a headless desktop (Code, Console and claude.ai on, loopback servers in this process);
once its first poll has settled, its resident memory is read from /proc, then `claude-usage-tray details`
is started as a user would from a terminal (the menu's Details… starts the same command), its window is
waited for, read too, closed with Escape, and the tray is read again. The window is a process of its own,
so the tray should not move.

Run from the repository root: .venv/bin/python -m benchmarks.details_memory
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import (
    REPO,
    account_env,
    machine_line,
    sample,
    warm_display,
    with_bytecode,
    write_account,
)
from tests.e2e.desktop import ChildProcesses, Desktop, find_docked_icon, wait_until
from tray_app.demo import USAGE_PATH, DemoServer

SETTLE_SECONDS = 10.0  # after the first poll: the first Console and claude.ai answers are stored too
TITLE = "Claude usage"


def _windows(desktop: Desktop) -> list[str]:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", f"^{TITLE}$"],
        env=desktop.env,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return found.stdout.split()


def measure() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="bench-details-") as scratch,
        Desktop.start(Path(scratch) / "desktop", width=1024, height=768) as desktop,
        DemoServer("rising") as server,
    ):
        processes = ChildProcesses(desktop, Path(scratch) / "logs")
        try:
            home = Path(scratch) / "home"
            write_account(home)
            env = with_bytecode(desktop.child_env(**account_env(home, server)), Path(scratch) / "pycache")
            env.pop("PYSTRAY_BACKEND", None)
            warm_display(env)
            tray = processes.start([sys.executable, "-m", "tray_app", "run"], env=env, name="tray", cwd=REPO)
            find_docked_icon(desktop, tray.pid, timeout=30)
            wait_until(lambda: len(server.requests(USAGE_PATH)) > 0, timeout=30, what="the first poll")
            time.sleep(SETTLE_SECONDS)
            before = sample(tray.pid)
            details = processes.start(
                [sys.executable, "-m", "tray_app", "details"], env=env, name="details", cwd=REPO
            )
            window = wait_until(lambda: _windows(desktop) or None, timeout=30, what="the details window")
            time.sleep(2.0)  # its first redraw and chart are done
            shown = sample(details.pid)
            subprocess.run(
                ["xdotool", "windowfocus", "--sync", window[0]], env=desktop.env, timeout=10, check=False
            )
            subprocess.run(["xdotool", "key", "Escape"], env=desktop.env, timeout=10, check=False)
            code = processes.wait(details, timeout=15)
            time.sleep(2.0)
            after = sample(tray.pid)
        finally:
            processes.stop_all()
    print(f"details window: exit {code}; its own process RSS {shown.rss:.1f} MiB (USS {shown.uss:.1f})")
    print(
        f"tray before/after the window opened and closed: RSS {before.rss:.1f} -> {after.rss:.1f} MiB "
        f"({after.rss - before.rss:+.1f}), USS {before.uss:.1f} -> {after.uss:.1f} MiB"
    )


def main() -> int:
    print(machine_line())
    measure()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
