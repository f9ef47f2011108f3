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

A second simulation, in the same run, puts a Claude Code session beside it: every 20-30 s of fake time
it pipes its status line the demo server's own 5-hour and weekly figures of that moment (whole percents
and epoch reset times, as Claude Code passes them), recorded through the statusline's own path
(parse_rate_limits, record_fed: a connection of its own, so the tray's PRAGMA data_version moves). The
poller gets the tray's ClaudeCodeFeed and is driven as its thread drives it (tick, then the _sleep loop,
which checks the database once a second); the session writes between those checks. Its two active hours
are printed beside the same hours without it, then two hours after the session ended (the figures stand
still, as in the first run's idle hours).

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
import functools
import io
import pstats
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Event
from typing import Any, TypeVar

from benchmarks.harness import APIS, account_env, machine_line, per_api, request_name, write_account
from tests.fakes import FakeClock
from tray_app.alerts import AlertCenter, NotificationSwitch
from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport
from tray_app.core.parse import parse_usage
from tray_app.core.readings import parse_rate_limits
from tray_app.core.reports import Reports, TickResult
from tray_app.core.rules import Alert
from tray_app.core.timeparse import from_epoch
from tray_app.core.viewmodel import ViewModel
from tray_app.core.web_report import WebReport
from tray_app.demo import USAGE_PATH, DemoServer, rising_usage_body
from tray_app.environment import Environment
from tray_app.monitors.console import ConsoleMonitor
from tray_app.monitors.feed import ClaudeCodeFeed
from tray_app.poller import Poller, PollTiming, Sources, UsageSource, WebSource
from tray_app.store import Store
from tray_app.store.readings import Recorded, record_fed
from tray_app.ui.icon import ICON_SIZE_DEFAULT, IconRenderer
from tray_app.wiring.app import open_app, poll_timing, settings_for, sources_of
from tray_app.wiring.tray import tray_view

# A Monday in the middle of a month: Console mode's first refresh fetches the month so far (15 days).
START = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
HOUR = 3600.0
ACTIVE_HOURS = 2
FED_IDLE_HOURS = 2  # after the Claude Code session ended
TICK = "tick, all parts"
BETWEEN = "between ticks (data_version)"
RENDER_EVERY = (20.0, 30.0)  # seconds between two status-line renders of the simulated session

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
    def __init__(self, monitor: ConsoleMonitor, meter: CpuMeter) -> None:
        self._monitor, self._meter = monitor, meter
        self.per_refresh: list[int] = []  # HTTP requests each refresh made

    def refresh(self) -> ConsoleReport:
        before = self._monitor.requests_made
        try:
            return self._meter.timed("Console refresh", self._monitor.refresh)
        finally:
            self.per_refresh.append(self._monitor.requests_made - before)

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


class SessionClock(FakeClock):
    """A FakeClock whose waits let a simulated Claude Code session run in between, as the real one
    runs in its own process while the polling thread sleeps."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.between: Callable[[], None] | None = None

    def wait(self, event: Event, timeout: float) -> bool:
        woken = super().wait(event, timeout)
        if self.between is not None:
            self.between()
        return woken


def _fed_limit(window: object) -> dict[str, int] | None:
    if not isinstance(window, dict) or not isinstance(window.get("resets_at"), str):
        return None
    resets_at = datetime.fromisoformat(window["resets_at"]).timestamp()
    # Claude Code passes whole percents (rounded as JavaScript's Math.round) and whole epoch seconds.
    return {"used_percentage": int(float(window["utilization"]) + 0.5), "resets_at": int(resets_at)}


def status_line_json(usage_body: dict[str, Any]) -> dict[str, Any]:
    """What Claude Code pipes to its status-line command, with the figures of a usage endpoint body."""
    limits = {key: fed for key in ("five_hour", "seven_day") if (fed := _fed_limit(usage_body.get(key)))}
    return {
        "hook_event_name": "Status",
        "session_id": "bench-session",
        "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
        "workspace": {"current_dir": "/tmp/project", "project_dir": "/tmp/project"},
        "version": "2.1.221",
        "rate_limits": limits,
    }


@dataclass
class ClaudeCodeSession:
    """A Claude Code session rendering its status line every 20-30 s while active; each render goes
    through the statusline's own path into the database. Its CPU is its process's, not the tray's."""

    database: Path
    server: DemoServer
    clock: FakeClock
    rng: random.Random = field(default_factory=lambda: random.Random(14))
    active: bool = True
    next_render: float = 0.0
    outcomes: dict[Recorded, int] = field(default_factory=lambda: collections.defaultdict(int))
    seconds: float = 0.0  # its CPU time, taken out of the polling thread's

    def __call__(self) -> None:
        if not self.active or self.clock.wall() < self.next_render:
            return
        started = time.thread_time()
        now = self.clock.now()
        # The figures the demo server answers with at this moment (the "rising" account).
        document = status_line_json(self.server.rising_body())
        self.outcomes[record_fed(self.database, parse_rate_limits(document, now), now)] += 1
        self.next_render = self.clock.wall() + self.rng.uniform(*RENDER_EVERY)
        self.seconds += time.thread_time() - started


class CountedFeed:
    """The tray's ClaudeCodeFeed, counting how often the poller asks whether the database changed."""

    def __init__(self, feed: ClaudeCodeFeed) -> None:
        self._feed = feed
        self.checks = 0

    def changed(self) -> bool:
        self.checks += 1
        return self._feed.changed()

    def fresh(self, within: timedelta) -> bool:
        return self._feed.fresh(within)


@dataclass
class Shown:
    """What the poller published last (the tray would show it)."""

    view: ViewModel | None = None


@dataclass
class Simulation:
    clock: FakeClock
    server: DemoServer
    poller: Poller
    meter: CpuMeter
    database: Path
    shown: Shown
    feed: CountedFeed | None
    console: MeteredConsole


def seed_day(store: Store, start: float) -> None:
    """The day before: 30 s polls of the same account, so the history is as full as from day two on."""
    for back in range(int(HOUR * 24), 0, -30):
        # The demo server's account reads 2 h of virtual time when it starts, at `start`.
        body = rising_usage_body(2 * HOUR - back, started_at=start, speed=1.0)
        store.add_windows(from_epoch(start - back), parse_usage(body).windows)


@contextlib.contextmanager
def build(
    home: Path, server: DemoServer, clock: FakeClock, meter: CpuMeter, fed: bool = False
) -> Iterator[Simulation]:
    """The program `run` wires (tray_app.wiring), every part given the fake clock; only the tray icon
    itself is left out: its image is drawn here, as Tray draws it for each new view. fed: the poller
    follows Claude Code's readings, as the tray's does (tray_app.wiring.tray)."""
    write_account(home)
    env = Environment(account_env(home, server), "linux", home)
    with open_app(settings_for("run", env), env, clock) as app:
        seed_day(app.store, clock.wall())
        switch = NotificationSwitch(app.store, clock.now)
        view = tray_view(app, switch, False, clock)
        alerts = AlertCenter(app.store, app.settings.notifications, switch, clock.now, clock.local_tz)
        wired = sources_of(app)
        assert wired.code is not None and wired.console is not None and wired.web is not None
        assert isinstance(wired.console, ConsoleMonitor)
        console = MeteredConsole(wired.console, meter)
        sources = Sources(MeteredCode(wired.code, meter), console, MeteredWeb(wired.web, meter))
        renderer = IconRenderer(ICON_SIZE_DEFAULT)
        shown = Shown()

        def present(reports: Reports) -> ViewModel:
            return meter.timed("present (view model)", lambda: view.present(reports))

        def publish(result: TickResult) -> None:
            # Tray.publish hands the result to the UI thread, which draws the icon (cached) when it
            # changed; benchmarks.running_tray measures that thread. Drawn here to show its cost.
            meter.timed("icon image (tray's UI thread)", lambda: renderer.image(result.view.icon))
            shown.view = result.view

        feed = CountedFeed(ClaudeCodeFeed(app.store, clock.now)) if fed else None
        poller = Poller(
            sources,
            present,
            publish,
            poll_timing(app),
            alerts=MeteredAlerts(alerts, meter),
            clock=clock,
            feed=feed,
        )
        yield Simulation(clock, server, poller, meter, app.settings.paths.database, shown, feed, console)


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


@dataclass
class FedHour:
    label: str
    counts: dict[str, int]
    ticks: int
    checks: int  # the _sleep loop's one-second waits, each followed by a data_version check
    followed: int  # ticks that showed new readings without a request to the usage endpoint
    icon_changed: int  # ... of which the icon changed


def run_fed_until(sim: Simulation, end: float, session: ClaudeCodeSession) -> tuple[int, int, int, int]:
    """As the poller's thread runs (tick, then _sleep) until `end`, the session writing between the
    waits; returns the ticks, the database checks, the ticks that showed readings without a request and
    those of them that changed the icon."""
    ticks = followed = icon_changed = 0
    poller, meter = sim.poller, sim.meter
    checked = sim.feed.checks if sim.feed is not None else 0
    while sim.clock.wall() < end:
        asked = len(sim.server.requests(USAGE_PATH))
        restated = meter.calls[meter.phase, "Code restated"]
        icon = None if sim.shown.view is None else sim.shown.view.icon
        delay = meter.timed(TICK, poller.tick)
        ticks += 1
        if (
            meter.calls[meter.phase, "Code restated"] > restated
            and len(sim.server.requests(USAGE_PATH)) == asked
        ):
            followed += 1
            icon_changed += sim.shown.view is not None and sim.shown.view.icon != icon
        session_before = session.seconds
        meter.timed(BETWEEN, functools.partial(poller._sleep, min(end - sim.clock.wall(), max(delay, 0.001))))
        meter.seconds[meter.phase, BETWEEN] -= session.seconds - session_before  # the session's own work
    checks = (sim.feed.checks if sim.feed is not None else 0) - checked
    return ticks, checks, followed, icon_changed


def count(sim: Simulation, since: float, until: float) -> dict[str, int]:
    return per_api([request_name(r.path, r.query) for r in sim.server.requests() if since <= r.at < until])


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
        per_refresh = sim.console.per_refresh
    simulated = time.perf_counter() - started
    fed_meter = CpuMeter(phase="active, fed")
    fed_hours, session = simulate_fed(fed_meter)
    print(machine_line())
    print(
        f"simulated {len(hours)} h of polling in {simulated:.1f} s, then {len(fed_hours)} h with a Claude "
        f"Code session in {time.perf_counter() - started - simulated:.1f} s, from {START:%Y-%m-%d %H:%M} UTC"
    )
    _requests_table(hours, day)
    later = per_refresh[1:]
    print(
        f"  Admin API requests per Console refresh: the month's first {per_refresh[0]}; after it at most "
        f"{max(later)}, {sum(later) / len(later):.2f} on average over {len(later)} refreshes "
        "(target: at most 3)"
    )
    _fed_table(fed_hours, hours, session)
    _cpu_table(meter, {"active": ACTIVE_HOURS, "idle": args.idle_hours})
    _cpu_table(fed_meter, {"active, fed": ACTIVE_HOURS, "idle, fed": FED_IDLE_HOURS})
    if profiler is not None:
        _profile_table(profiler, args.profile, meter.calls["active", TICK])
    return 0


def simulate_fed(meter: CpuMeter) -> tuple[list[FedHour], ClaudeCodeSession]:
    """The first hours again, with a Claude Code session feeding readings while they are active."""
    clock = SessionClock(START)
    hours = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-polling-fed-") as scratch,
        DemoServer("rising", clock=clock.epoch) as server,
        build(Path(scratch), server, clock, meter, fed=True) as sim,
    ):
        session = ClaudeCodeSession(sim.database, server, clock)
        clock.between = session
        for hour in range(ACTIVE_HOURS + FED_IDLE_HOURS):
            if hour == ACTIVE_HOURS:
                session.active = False  # the session ended; nobody uses Claude now
                server.set_scenario("full")
                meter.phase = "idle, fed"
            begin = clock.wall()
            ticks, checks, followed, icon_changed = run_fed_until(sim, begin + HOUR, session)
            kind = "active" if hour < ACTIVE_HOURS else "idle"
            counts = count(sim, begin, clock.wall())
            hours.append(FedHour(f"hour {hour + 1} ({kind})", counts, ticks, checks, followed, icon_changed))
    return hours, session


def _fed_table(
    fed: list[FedHour], unfed: list[tuple[str, dict[str, int], int]], session: ClaudeCodeSession
) -> None:
    code = next(iter(APIS))
    timing = PollTiming()
    low, high = RENDER_EVERY
    print(
        f"with a Claude Code session rendering its status line every {low:g}-{high:g} s in the active hours "
        f"(the poller checks the database every {timing.follow:g} s and, while the 5-hour and weekly "
        f"readings are fresh, asks the usage endpoint every {timing.fed_interval:g} s), beside the same "
        "hours without it:"
    )
    print(f"  {'':<44}" + "".join(f"{hour.label:>18}" for hour in fed))
    rows: list[tuple[str, list[int]]] = [
        ("Code usage requests, with the feed", [hour.counts[code] for hour in fed]),
        ("Code usage requests, without (first run)", [counts[code] for _, counts, _ in unfed[: len(fed)]]),
        ("readings shown without a request", [hour.followed for hour in fed]),
        ("  of which the icon changed", [hour.icon_changed for hour in fed]),
        ("database checks (PRAGMA data_version)", [hour.checks for hour in fed]),
        ("poller ticks", [hour.ticks for hour in fed]),
    ]
    rows += [
        (f"{api.split(' (')[0]}, with the feed", [hour.counts[api] for hour in fed])
        for api in APIS
        if api != code
    ]
    for label, values in rows:
        print(f"  {label:<44}" + "".join(f"{value:>18}" for value in values))
    active = [hour.counts[code] for hour in fed[:ACTIVE_HOURS]]
    without = [counts[code] for _, counts, _ in unfed[:ACTIVE_HOURS]]
    print(
        f"  usage requests in the second active hour: {active[-1]} with the feed (target: at most 6), "
        f"{without[-1]} without (target: at most 20)"
    )
    print(
        "  the session's renders: "
        + ", ".join(f"{n} {outcome.value}" for outcome, n in sorted(session.outcomes.items()))
        + f" (record_fed: {session.seconds / max(1, sum(session.outcomes.values())) * 1000:.2f} ms each)"
    )


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
        total = meter.seconds[phase, TICK] + meter.seconds.get((phase, BETWEEN), 0.0)
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
