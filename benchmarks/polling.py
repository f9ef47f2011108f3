"""A simulated day of polling on a fake clock: requests per hour to each API, and CPU per poll cycle by part.

The real Poller, CodeMonitor, ConsoleMonitor, WebMonitor and alert rules, wired by tray_app.wiring as for
`run` with the settings a user gets by default (plus an admin key and claude.ai switched on, so that
every API is asked), poll a loopback DemoServer. Every one of them, and the server, reads one fake clock
(tests.fakes.FakeClock), which jumps to whenever the poller next wants to wake: a day takes seconds and
the counts are exact.

The database starts with the day before (30 s polls of the same account, six times denser than the 180 s
default gives now, which keeps the CPU figures on the safe side), so the history a poll reads is at least
as full as from the second day on. Hours 1-2 are active: the 5-hour window rises on every poll (the
demo's "rising" account, in real time). From hour 3 on nothing is used: the figures stay the same and
the poller slows down as designed. The profile is asked once a day, so a day is simulated.

CPU per poll cycle is the polling thread's own CPU time (time.thread_time) for each part of a tick, so
neither the time spent waiting for the network nor the server's work (other threads) is in it. The
real tray draws the icon and menu on its main thread instead; the icon image is drawn here too, shown
apart, and benchmarks.running_tray measures the whole process. --profile adds cProfile's view of the
polling thread over the active hours.

Run from the repository root: .venv/bin/python -m benchmarks.polling [--idle-hours 22]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import pstats
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from benchmarks.harness import APIS, account_env, machine_line, per_api, write_account
from tests.fakes import FakeClock
from tray_app.alerts import AlertCenter, NotificationSwitch
from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport
from tray_app.core.parse import parse_usage
from tray_app.core.reports import Reports, TickResult
from tray_app.core.rules import Alert
from tray_app.core.timeparse import from_epoch
from tray_app.core.viewmodel import ViewModel
from tray_app.core.web_report import WebReport
from tray_app.demo import DemoServer, rising_usage_body
from tray_app.environment import Environment
from tray_app.poller import ConsoleSource, Poller, PollTiming, Sources, UsageSource, WebSource
from tray_app.store import Store
from tray_app.ui.icon import ICON_SIZE_DEFAULT, IconRenderer
from tray_app.wiring.app import open_app, poll_timing, settings_for, sources_of
from tray_app.wiring.tray import tray_view

# A Monday in the middle of a month: Console mode's first refresh fetches the month so far (15 days).
START = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
HOUR = 3600.0
ACTIVE_HOURS = 2
TICK = "tick, all parts"

_T = TypeVar("_T")


@dataclass
class CpuMeter:
    """The polling thread's CPU seconds per (phase, part of a tick), and how often each part ran."""

    phase: str = "active"
    seconds: dict[tuple[str, str], float] = field(default_factory=lambda: collections.defaultdict(float))
    calls: dict[tuple[str, str], int] = field(default_factory=lambda: collections.defaultdict(int))

    def timed(self, part: str, action: Callable[[], _T]) -> _T:
        started = time.thread_time()
        try:
            return action()
        finally:
            self.seconds[self.phase, part] += time.thread_time() - started
            self.calls[self.phase, part] += 1


class MeteredCode:
    def __init__(self, monitor: UsageSource, meter: CpuMeter) -> None:
        self._monitor, self._meter = monitor, meter

    def poll(self, force: bool = False) -> CodeReport:
        return self._meter.timed("Code poll", lambda: self._monitor.poll(force))

    def stored_report(self, stale_after: timedelta) -> CodeReport:
        return self._monitor.stored_report(stale_after)

    def backoff_until(self) -> datetime | None:
        return self._monitor.backoff_until()

    def restated(self, previous: CodeReport) -> CodeReport:
        return self._meter.timed("Code restated", lambda: self._monitor.restated(previous))


class MeteredConsole:
    def __init__(self, monitor: ConsoleSource, meter: CpuMeter) -> None:
        self._monitor, self._meter = monitor, meter

    def refresh(self) -> ConsoleReport:
        return self._meter.timed("Console refresh", self._monitor.refresh)

    def stored_report(self) -> ConsoleReport:
        return self._monitor.stored_report()


class MeteredWeb:
    def __init__(self, web: WebSource, meter: CpuMeter) -> None:
        self._web, self._meter = web, meter

    def refresh(self) -> WebReport | None:
        return self._meter.timed("claude.ai refresh", self._web.refresh)

    def stored_report(self) -> WebReport | None:
        return self._web.stored_report()


class MeteredAlerts:
    def __init__(self, alerts: AlertCenter, meter: CpuMeter) -> None:
        self._alerts, self._meter = alerts, meter

    def process(self, report: CodeReport) -> Sequence[Alert]:
        return self._meter.timed("alert rules", lambda: self._alerts.process(report))

    def process_console(self, report: ConsoleReport) -> Sequence[Alert]:
        return self._meter.timed("alert rules", lambda: self._alerts.process_console(report))


@dataclass
class Simulation:
    clock: FakeClock
    server: DemoServer
    poller: Poller
    meter: CpuMeter


def seed_day(store: Store, start: float) -> None:
    """The day before: 30 s polls of the same account, so the history is as full as from day two on."""
    for back in range(int(HOUR * 24), 0, -30):
        # The demo server's account reads 2 h of virtual time when it starts, at `start`.
        body = rising_usage_body(2 * HOUR - back, started_at=start, speed=1.0)
        store.add_windows(from_epoch(start - back), parse_usage(body).windows)


@contextlib.contextmanager
def build(home: Path, server: DemoServer, clock: FakeClock, meter: CpuMeter) -> Iterator[Simulation]:
    """The program `run` wires (tray_app.wiring), every part given the fake clock; only the tray icon
    itself is left out: its image is drawn here, as Tray draws it for each new view."""
    write_account(home)
    env = Environment(account_env(home, server), "linux", home)
    with open_app(settings_for("run", env), env, clock) as app:
        seed_day(app.store, clock.wall())
        switch = NotificationSwitch(app.store, clock.now)
        view = tray_view(app, switch, False, clock)
        alerts = AlertCenter(app.store, app.settings.notifications, switch, clock.now, clock.local_tz)
        wired = sources_of(app)
        assert wired.code is not None and wired.console is not None and wired.web is not None
        sources = Sources(
            MeteredCode(wired.code, meter), MeteredConsole(wired.console, meter), MeteredWeb(wired.web, meter)
        )
        renderer = IconRenderer(ICON_SIZE_DEFAULT)

        def present(reports: Reports) -> ViewModel:
            return meter.timed("present (view model)", lambda: view.present(reports))

        def publish(result: TickResult) -> None:
            # Tray.publish hands the result to the UI thread, which draws the icon (cached) when it
            # changed; benchmarks.running_tray measures that thread. Drawn here to show its cost.
            meter.timed("icon image (tray's UI thread)", lambda: renderer.image(result.view.icon))

        poller = Poller(
            sources, present, publish, poll_timing(app), alerts=MeteredAlerts(alerts, meter), clock=clock
        )
        yield Simulation(clock, server, poller, meter)


def run_until(sim: Simulation, end: float, profiler: cProfile.Profile | None = None) -> int:
    """Tick the poller, jumping the clock to each wake-up, until `end`; returns the ticks."""
    ticks = 0
    tick = sim.poller.tick if profiler is None else lambda: profiler.runcall(sim.poller.tick)
    while sim.clock.wall() < end:
        delay = sim.meter.timed(TICK, tick)
        ticks += 1
        # A zero delay would tick again at the same instant; a millisecond on is still "due now".
        sim.clock.advance(min(end - sim.clock.wall(), max(delay, 0.001)))
    return ticks


def count(sim: Simulation, since: float, until: float) -> dict[str, int]:
    return per_api([r.path for r in sim.server.requests() if since <= r.at < until])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--idle-hours", type=int, default=22, help="idle hours after the 2 active ones")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print cProfile's N costliest functions"
    )
    args = parser.parse_args(argv)
    # cProfile's own clock: with time.thread_time as its timer the profile would leave the network waits
    # out, but that clock is a system call per event and swells the many small calls fivefold.
    profiler = cProfile.Profile() if args.profile else None
    clock = FakeClock(START)
    meter = CpuMeter()
    hours: list[tuple[str, dict[str, int], int]] = []
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-polling-") as scratch,
        DemoServer("rising", clock=clock.epoch) as server,
        build(Path(scratch), server, clock, meter) as sim,
    ):
        for hour in range(ACTIVE_HOURS + args.idle_hours):
            if hour == ACTIVE_HOURS:
                server.set_scenario("full")  # fixed figures: nobody is using Claude now
                meter.phase = "idle"
            begin = clock.wall()
            ticks = run_until(sim, begin + HOUR, profiler if hour < ACTIVE_HOURS else None)
            kind = "active" if hour < ACTIVE_HOURS else "idle"
            hours.append((f"hour {hour + 1} ({kind})", count(sim, begin, clock.wall()), ticks))
        day = count(sim, START.timestamp(), clock.wall())
    print(machine_line())
    print(
        f"simulated {len(hours)} h of polling in {time.perf_counter() - started:.1f} s, "
        f"from {START:%Y-%m-%d %H:%M} UTC"
    )
    _requests_table(hours, day)
    _cpu_table(meter, {"active": ACTIVE_HOURS, "idle": args.idle_hours})
    if profiler is not None:
        _profile_table(profiler, args.profile, meter.calls["active", TICK])
    return 0


def _requests_table(hours: list[tuple[str, dict[str, int], int]], day: dict[str, int]) -> None:
    shown = hours[:4]
    timing = PollTiming()
    print(
        f"requests per hour at default settings (Code {timing.interval:g} s, slowing to "
        f"{timing.idle_interval:g} s while idle; Console {timing.console_interval:g} s, "
        f"claude.ai {timing.web_interval:g} s):"
    )
    print(
        f"  {'':<36}"
        + "".join(f"{label:>18}" for label, _, _ in shown)
        + f"{'all ' + str(len(hours)) + ' h':>12}"
    )
    for api in APIS:
        print(f"  {api:<36}" + "".join(f"{counts[api]:>18}" for _, counts, _ in shown) + f"{day[api]:>12}")
    print(f"  {'poller wake-ups (ticks)':<36}" + "".join(f"{ticks:>18}" for _, _, ticks in shown))
    if len(hours) > 4:
        last_label, last, _ = hours[-1]
        print(f"  {last_label}: " + ", ".join(f"{n} {api.split(' (')[0]}" for api, n in last.items()))


def _cpu_table(meter: CpuMeter, hours: dict[str, int]) -> None:
    print("CPU time of the polling thread (no network wait, no server work), mean per call:")
    for phase, count in hours.items():
        if not count:
            continue
        total = meter.seconds[phase, TICK]
        print(
            f"  {phase} hours: {total / count:.2f} s per hour, {total / count / HOUR * 100:.4f} % of one core"
        )
        parts = [part for p, part in meter.seconds if p == phase]
        for part in sorted(parts, key=lambda part: -meter.seconds[phase, part]):
            calls = meter.calls[phase, part]
            print(f"    {part:<30} {meter.seconds[phase, part] / calls * 1000:7.2f} ms x {calls:>5} calls")


def _profile_table(profiler: cProfile.Profile, shown: int, ticks: int) -> None:
    print(
        f"cProfile of the polling thread over the active hours ({ticks} ticks), by own time and then by "
        "cumulative time; its clock is the wall clock, so waits for the server are in it (socket reads), "
        "and its overhead is in the CPU figures above:"
    )
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(shown)
        text = out.getvalue()
        print(text[text.index("   ncalls") :].rstrip())  # the table, without pstats' own preamble


if __name__ == "__main__":
    raise SystemExit(main())
