"""A simulated day of polling on a fake clock: requests per hour to each API, and CPU per poll cycle by part.

The real Poller, CodeMonitor, ConsoleMonitor and WebMonitor, wired as tray_app.wiring wires them for `run`
with the settings a user gets by default (plus an admin key and claude.ai switched on, so that every API
is asked), poll a loopback DemoServer. Every one of them, and the server, reads one fake clock, which
jumps to whenever the poller next wants to wake: a day takes seconds and the counts are exact.

The database starts with the day before (30 s polls of the same account), so every poll reads a full
24 h of history, as from the second day on. Hours 1-2 are active: the 5-hour window rises on every poll
(the demo's "rising" account, in real time). From hour 3 on nothing is used: the figures stay the same
and the poller slows down as designed. The profile is asked once a day, so a day is simulated.

CPU per poll cycle is the polling thread's own CPU time (time.thread_time) for each part of a tick, so
neither the time spent waiting for the network nor the server's work (other threads) is in it. The
real tray adds the toolkit's redraw on its main thread; benchmarks.running_tray measures the whole.

Run from the repository root: .venv/bin/python -m benchmarks.polling [--idle-hours 22]
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from benchmarks.harness import APIS, account_env, machine_line, per_api, write_account
from tray_app import __version__
from tray_app.config import Settings, load_settings
from tray_app.console_monitor import ConsoleMonitor
from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport
from tray_app.core.parse import parse_usage
from tray_app.core.timeparse import from_epoch
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import ViewModel
from tray_app.core.web_report import WebReport
from tray_app.demo import DemoServer, rising_usage_body
from tray_app.poller import CodeMonitor, Poller, PollTiming
from tray_app.sources.admin_key import find_admin_key
from tray_app.sources.claude_web import ClaudeWebClient
from tray_app.sources.code_api import DEFAULT_CLAUDE_VERSION, CodeApi
from tray_app.sources.console_api import ConsoleApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.sources.web_api import CookieSearch, find_session_cookie
from tray_app.store import Store
from tray_app.ui.icon import ICON_SIZE_DEFAULT, IconRenderer
from tray_app.web_monitor import SwitchedWeb, WebMonitor, WebSwitch

# A Monday in the middle of a month: Console mode's first refresh fetches the month so far (15 days).
START = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
HOUR = 3600.0
ACTIVE_HOURS = 2
TICK = "tick, all parts"

_T = TypeVar("_T")


class FakeClock:
    """Seconds since the epoch that move only when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def wall(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


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
    def __init__(self, monitor: CodeMonitor, meter: CpuMeter) -> None:
        self._monitor, self._meter = monitor, meter

    def poll(self, force: bool = False) -> CodeReport:
        return self._meter.timed("Code poll", lambda: self._monitor.poll(force))

    def stored_report(self, stale_after: timedelta) -> CodeReport:
        return self._monitor.stored_report(stale_after)

    def backoff_until(self) -> datetime | None:
        return self._monitor.backoff_until()


class MeteredConsole:
    def __init__(self, monitor: ConsoleMonitor, meter: CpuMeter) -> None:
        self._monitor, self._meter = monitor, meter

    def refresh(self) -> ConsoleReport:
        return self._meter.timed("Console refresh", self._monitor.refresh)

    def stored_report(self) -> ConsoleReport:
        return self._monitor.stored_report()


class MeteredWeb:
    def __init__(self, web: SwitchedWeb, meter: CpuMeter) -> None:
        self._web, self._meter = web, meter

    def refresh(self) -> WebReport | None:
        return self._meter.timed("claude.ai refresh", self._web.refresh)

    def stored_report(self) -> WebReport | None:
        return self._web.stored_report()


@dataclass
class Simulation:
    clock: FakeClock
    server: DemoServer
    poller: Poller
    meter: CpuMeter
    store: Store
    http: HttpClient


def seed_day(store: Store, start: float) -> None:
    """The day before: 30 s polls of the same account, so each poll reads a full 24 h as on day two."""
    for back in range(int(HOUR * 24), 0, -30):
        # The demo server's account reads 2 h of virtual time when it starts, at `start`.
        body = rising_usage_body(2 * HOUR - back, started_at=start, speed=1.0)
        store.add_windows(from_epoch(start - back), parse_usage(body).windows)


def build(home: Path, server: DemoServer, clock: FakeClock, meter: CpuMeter) -> Simulation:
    """The parts tray_app.wiring builds for `run`, each given the fake clock."""
    write_account(home)
    env = account_env(home, server)
    settings: Settings = load_settings(env)
    store = Store.open(settings.paths.database, settings.retention_days)
    seed_day(store, clock.now)
    http = HttpClient(settings.http_timeout_seconds, clock=clock.utc)
    credentials = ClaudeCredentialStore(settings.claude_config_dir, environ=env)
    monitor = CodeMonitor(
        store, credentials, CodeApi(http, settings.api_base, DEFAULT_CLAUDE_VERSION), clock=clock.utc
    )
    admin_key = find_admin_key(env, settings.console.admin_api_key, settings.paths.credentials_file)
    assert admin_key is not None
    console_api = ConsoleApi(http, settings.api_base, admin_key.value, __version__)

    def code_email() -> str | None:
        known = store.account()
        return None if known is None else known[1].email

    console = ConsoleMonitor(store, console_api, settings.console, code_email, clock=clock.utc)
    web_settings = settings.web

    def find_cookie() -> CookieSearch:
        return find_session_cookie(
            home=home, platform="linux", manual_key=web_settings.session_key, now=clock.utc(), environ=env
        )

    def client_for(session_key: str) -> ClaudeWebClient:
        return ClaudeWebClient(http, settings.web_base, session_key, __version__)

    switch = WebSwitch(store, web_settings.enabled)
    web = SwitchedWeb(
        WebMonitor(store, find_cookie, client_for, web_settings.organization, clock=clock.utc), switch
    )
    options = ViewOptions(
        thresholds=settings.thresholds,
        style=settings.icon_style,
        web_enabled=switch.enabled,
        stale_after=PollTiming(interval=float(settings.code_poll_seconds)).stale_after,
    )
    renderer = IconRenderer(ICON_SIZE_DEFAULT)

    def presented(code: CodeReport | None, con: ConsoleReport | None, w: WebReport | None) -> ViewModel:
        return meter.timed("present (view model)", lambda: present(code, clock.utc(), UTC, options, con, w))

    def publish(vm: ViewModel) -> None:
        # Tray.publish draws the icon image on the polling thread (cached); pystray then hands image and
        # menu to the toolkit's thread, which benchmarks.running_tray measures.
        meter.timed("icon image (cached renderer)", lambda: renderer.image(vm.icon))

    timing = PollTiming(
        interval=float(settings.code_poll_seconds), console_interval=settings.console.poll_seconds
    )
    poller = Poller(
        MeteredCode(monitor, meter),
        presented,
        publish,
        timing,
        console=MeteredConsole(console, meter),
        web=MeteredWeb(web, meter),
        monotonic=clock.wall,
        wall=clock.wall,
    )
    return Simulation(clock, server, poller, meter, store, http)


def run_until(sim: Simulation, end: float) -> int:
    """Tick the poller, jumping the clock to each wake-up, until `end`; returns the ticks."""
    ticks = 0
    while sim.clock.now < end:
        delay = sim.meter.timed(TICK, sim.poller.tick)
        ticks += 1
        # A zero delay would tick again at the same instant; a millisecond on is still "due now".
        sim.clock.now = min(end, sim.clock.now + max(delay, 0.001))
    return ticks


def count(sim: Simulation, since: float, until: float) -> dict[str, int]:
    return per_api([r.path for r in sim.server.requests() if since <= r.at < until])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--idle-hours", type=int, default=22, help="idle hours after the 2 active ones")
    args = parser.parse_args(argv)
    clock = FakeClock(START)
    meter = CpuMeter()
    hours: list[tuple[str, dict[str, int], int]] = []
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-polling-") as scratch,
        DemoServer("rising", clock=clock.wall) as server,
    ):
        sim = build(Path(scratch), server, clock, meter)
        try:
            for hour in range(ACTIVE_HOURS + args.idle_hours):
                if hour == ACTIVE_HOURS:
                    server.set_scenario("full")  # fixed figures: nobody is using Claude now
                    meter.phase = "idle"
                begin = clock.now
                ticks = run_until(sim, begin + HOUR)
                kind = "active" if hour < ACTIVE_HOURS else "idle"
                hours.append((f"hour {hour + 1} ({kind})", count(sim, begin, clock.now), ticks))
            day = count(sim, START.timestamp(), clock.now)
        finally:
            sim.http.close()
            sim.store.close()
    print(machine_line())
    print(
        f"simulated {len(hours)} h of polling in {time.perf_counter() - started:.1f} s, "
        f"from {START:%Y-%m-%d %H:%M} UTC"
    )
    _requests_table(hours, day)
    _cpu_table(meter, {"active": ACTIVE_HOURS, "idle": args.idle_hours})
    return 0


def _requests_table(hours: list[tuple[str, dict[str, int], int]], day: dict[str, int]) -> None:
    shown = hours[:4]
    print("requests per hour at default settings (Code 30 s, Console 120 s, claude.ai 300 s):")
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


if __name__ == "__main__":
    raise SystemExit(main())
