"""A bare pystray icon beside the real tray on one headless desktop: both resident sizes and their ratio.

The target (issue 13): the tray at most 1.2 times the resident size of the smallest icon pystray can
show. Both run at once on the end-to-end tests' private desktop (Xvfb, trayer, dunst, a session bus):
benchmarks.bare_pystray (a 64 px Pillow image, a one-item menu) and `python -m tray_app run` with Code
mode, Console mode and the claude.ai session switched on against loopback servers in this process, as
benchmarks.running_tray starts it. Both use the backend the tray chooses on this desktop, both start
GTK with GL off (GDK_GL=disable while pystray starts it), both keep compiled bytecode in one cache (a
first round compiles it and is not counted).

Each round starts the bare icon and waits until it is drawn, starts the tray, waits for its first poll
and --settle seconds more (the first Code, Console and claude.ai answers stored and shown), then reads
both from /proc one right after the other: RSS (shared libraries included) and USS (private to the
process, what quitting it would free). RSS is the figure to compare: a library page both programs use
is shared between them, so side by side each one's USS is lower than alone (benchmarks.running_tray
measures the tray alone). The last round also lists, mapping by mapping, where the tray's extra
resident memory is. Linux only.

Run from the repository root: .venv/bin/python -m benchmarks.bare_icon [--runs 3] [--settle 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import (
    REPO,
    ProcSample,
    machine_line,
    resident_by_mapping,
    sample,
    warm_display,
    with_bytecode,
)
from benchmarks.running_tray import first_request, problems, start
from tests.e2e.desktop import ChildProcesses, Desktop, find_docked_icon, wait_for_stable_pixels
from tray_app.demo import USAGE_PATH, DemoServer
from tray_app.ui.backend import ENV_BACKEND, detect_backend

TRAY = ["-m", "tray_app", "run"]
BARE = ["-m", "benchmarks.bare_pystray"]
TARGET = 1.2
SHOWN_MAPPINGS = 12
TOOLKIT_LIBRARIES = ("libgtk-3", "libayatana-appindicator", "libappindicator", "libX11.")

Mappings = Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class Round:
    bare: ProcSample
    tray: ProcSample
    bare_maps: Mappings
    tray_maps: Mappings
    logged: list[str]


def start_bare(desktop: Desktop, processes: ChildProcesses, backend: str, cache: Path) -> int:
    """The bare icon on `backend`, drawn in the tray; returns its PID."""
    env = with_bytecode(desktop.child_env(**{ENV_BACKEND: backend}), cache)
    proc = processes.start([sys.executable, *BARE], env=env, name="bare", cwd=REPO)
    icon = find_docked_icon(desktop, proc.pid, timeout=30)
    wait_for_stable_pixels(desktop, icon, timeout=10)
    return proc.pid


def one_round(
    desktop: Desktop,
    processes: ChildProcesses,
    server: DemoServer,
    scratch: Path,
    n: int,
    backend: str,
    settle: float,
) -> Round:
    try:
        bare = start_bare(desktop, processes, backend, scratch / "pycache")
        before = len(server.requests(USAGE_PATH))
        home = scratch / f"tray{n}"  # start() keeps its bytecode beside the home: scratch/pycache too
        tray: subprocess.Popen[bytes] = start(desktop, processes, home, server, TRAY)[0]
        first_request(server, before)
        time.sleep(max(0.0, settle))
        readings = sample(bare), sample(tray.pid)
        maps = resident_by_mapping(bare), resident_by_mapping(tray.pid)
    finally:
        processes.stop_all()
    return Round(readings[0], readings[1], maps[0], maps[1], problems(home))


def report(rounds: list[Round], backend: str) -> None:
    print(f"backend: {backend} in both; GDK_GL=disable while pystray starts GTK, in both")
    bare_kit, tray_kit = _toolkit(rounds[-1].bare_maps), _toolkit(rounds[-1].tray_maps)
    if bare_kit != tray_kit:
        # The tray chose its backend itself: the comparison means little unless both run the same toolkit.
        print(
            f"  warning: the toolkits differ: only the bare icon maps {sorted(bare_kit - tray_kit)}, "
            f"only the tray {sorted(tray_kit - bare_kit)}"
        )
    for n, r in enumerate(rounds, 1):
        print(
            f"  round {n}: bare icon RSS {r.bare.rss:.1f} MiB (USS {r.bare.uss:.1f}), "
            f"tray RSS {r.tray.rss:.1f} MiB (USS {r.tray.uss:.1f}): "
            f"{r.tray.rss / r.bare.rss:.2f} x the bare icon (USS {r.tray.uss / r.bare.uss:.2f} x)"
        )
        for line in r.logged:
            print(f"    logged by the tray: {line}")
    bare_rss = statistics.median(r.bare.rss for r in rounds)
    bare_uss = statistics.median(r.bare.uss for r in rounds)
    tray_rss = statistics.median(r.tray.rss for r in rounds)
    tray_uss = statistics.median(r.tray.uss for r in rounds)
    print(
        f"median of {len(rounds)}: bare pystray icon RSS {bare_rss:.1f} MiB (USS {bare_uss:.1f}), "
        f"tray RSS {tray_rss:.1f} MiB (USS {tray_uss:.1f})"
    )
    print(
        f"  tray / bare icon: RSS {tray_rss / bare_rss:.2f} (target: at most {TARGET}), "
        f"USS {tray_uss / bare_uss:.2f}; the tray holds {tray_rss - bare_rss:.1f} MiB more "
        f"({tray_uss - bare_uss:.1f} MiB of it private)"
    )
    _extra_by_mapping(rounds[-1].bare_maps, rounds[-1].tray_maps)


def _toolkit(maps: Mappings) -> set[str]:
    return {name for name in maps if name.startswith(TOOLKIT_LIBRARIES)}


def _extra_by_mapping(bare: Mappings, tray: Mappings) -> None:
    """Where the tray's extra memory is: the mappings whose resident size differs most."""
    extra = {
        name: (rss - bare.get(name, (0.0, 0.0))[0], uss - bare.get(name, (0.0, 0.0))[1])
        for name, (rss, uss) in tray.items()
    }
    for name, (rss, uss) in bare.items():
        if name not in tray:
            extra[name] = (-rss, -uss)
    ranked = sorted(extra.items(), key=lambda item: -abs(item[1][0]))
    print("  the tray's extra resident memory by mapping, last round (MiB, RSS and USS; * only in the tray):")
    for name, (rss, uss) in ranked[:SHOWN_MAPPINGS]:
        mark = "*" if name not in bare else " "
        print(f"    {rss:+6.1f} ({uss:+5.1f}) {mark} {name}")
    rest = ranked[SHOWN_MAPPINGS:]
    only = sum(1 for name, _ in rest if name not in bare)
    print(
        f"    {sum(r for _, (r, _u) in rest):+6.1f} ({sum(u for _, (_r, u) in rest):+5.1f})   "
        f"the other {len(rest)} mappings ({only} of them only in the tray)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds after the tray's first poll (default 10)"
    )
    args = parser.parse_args(argv)
    print(machine_line())
    with (
        tempfile.TemporaryDirectory(prefix="bench-bare-") as scratch,
        Desktop.start(Path(scratch) / "desktop") as desktop,
        DemoServer("rising") as server,
    ):
        processes = ChildProcesses(desktop, Path(scratch) / "logs")
        env = desktop.child_env()
        warm_display(env)  # as any desktop session has; with GL off neither program would notice
        backend = detect_backend({k: v for k, v in env.items() if k != ENV_BACKEND}, "linux").name
        rounds = []
        for n in range(args.runs + 1):
            measured = one_round(desktop, processes, server, Path(scratch), n, backend, args.settle)
            if n:  # round 0 compiled the bytecode of both
                rounds.append(measured)
    report(rounds, backend)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
