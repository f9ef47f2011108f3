"""Soak: one simulated week of the real poller, alert rules, view and icon against the loopback demo server.

The program is the one `run` wires (tray_app.wiring), every part reading one fake clock (tests.fakes);
only the tray icon is left out. A seeded random week: a user who works in bursts (so the poller runs at
its own adaptive cadence, 180 s while the figures move and up to 15 min while they do not), 5-hour and
weekly windows that reset, a laptop that sleeps at night and now and then by day (the wall clock jumps,
the monotonic clock does not), the network going away, 500s, malformed answers, 429s and 503s with
Retry-After, a few "Refresh now" clicks and snoozes, one restart of the program, and Console mode
alongside, crossing a month end. The usage figures come over real HTTP from the demo server, which
answers from a scripted account at the moment each request arrives; history goes into a real SQLite
file; each tick's alerts are what it publishes for the notifier (snoozed ones are left out, and logged).
Then:

1. every successful poll's figures are rows of the history, and nothing else is; the only gaps are
   faults and sleeps;
2. every notification, and every one a snooze muted, is one the rules call for, worked out here from
   the scripted figures, once;
3. nothing reached the server inside a Retry-After window it had sent;
4. threads, open descriptors and memory did not grow from the end of day 1 to the end of day 7.

SOAK_SEED=<n> replays another week; the seed in use is printed with the summary.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import json
import logging
import math
import os
import random
import re
import sys
import threading
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from tray_app.alert_settings import NotificationSettings
from tray_app.alerts import NotificationSwitch
from tray_app.app import TrayView
from tray_app.config import ConsoleSettings
from tray_app.core.console import ConsoleReport, MonthFigures
from tray_app.core.models import CodeReport, Forecast, Status, UsageWindow, WindowReport
from tray_app.core.reports import Reports, TickResult
from tray_app.core.rules import Alert, AlertKind, RulesState, step
from tray_app.core.viewmodel import Badge, ViewModel
from tray_app.demo import PROFILE_PATH, USAGE_PATH, DemoResponse, DemoServer
from tray_app.demo.grants import asks_for_grants
from tray_app.environment import Environment
from tray_app.poller import PollTiming, UsageSource
from tray_app.sources.admin_key import ENV_ADMIN_KEY
from tray_app.store import Store
from tray_app.ui.icon import ICON_SIZE_DEFAULT, ICON_SIZE_MACOS, IconRenderer
from tray_app.wiring.app import App, open_app, poll_timing, settings_for
from tray_app.wiring.tray import build_poller, tray_view

from ..conftest import write_login
from ..fakes import FakeClock
from .demo_helpers import app_environment

SEED = int(os.environ.get("SOAK_SEED", "20260827"))
# A Thursday: the week holds a weekend, a weekly reset and the end of a month (Console budgets re-arm).
START = datetime(2026, 8, 27, tzinfo=UTC)
START_TS = START.timestamp()
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
DAYS = 7
END_TS = START_TS + DAYS * DAY
# Console mode refreshes every 15 min (poll_seconds = 900, a valid setting) rather than the default 2 min:
# each refresh re-reads the month's cached days (~20 ms of CPU), and a week of them every 2 min would
# double the run time while adding nothing the slower cadence does not already exercise.
TIMING = PollTiming(console_interval=900.0)
# When the view greys the figures, as the wiring computes it for the view (wiring/tray.py).
STALE_AFTER = TIMING.stale_after
SETTINGS = NotificationSettings()  # the defaults: thresholds 50/75/90/100, pace, reset, failures
RULES = SETTINGS.rules
CONSOLE = ConsoleSettings(  # what the [console] table of SETTINGS_FILE says
    user_email="jane@example.com",
    budget=Decimal(1750),
    workspace_budgets={"Research": Decimal(40)},
    poll_seconds=TIMING.console_interval,
)
# 180, 360, 720 and 900 s: the regular interval doubling while the figures stand still, up to the idle one.
CADENCE = {TIMING.interval * 2**n for n in range(4) if TIMING.interval * 2**n < TIMING.idle_interval} | {
    TIMING.idle_interval
}

# The scripted account. The 5-hour window starts with the first use after the last one ended and
# lasts five hours; the weekly windows are fixed weeks. Using 1 % of the 5-hour window uses
# WEEK_SHARE % of the week, and FABLE_SHARE % of the model-scoped week when that model is in use.
FIVE_HOURS = 5 * HOUR
WEEK = 7 * DAY
WEEK_START_USED, FABLE_START_USED = 62.0, 40.0
FIRST_WEEKLY_RESET = START_TS + 2 * DAY + 19 * HOUR  # Saturday 19:00
WEEK_SHARE, FABLE_SHARE = 0.15, 0.25
# No faults, sleeps or clicks from 23:00 to 01:00, so each midnight's measurement sees the same state.
QUIET_FROM, QUIET_UNTIL = 23 * HOUR, 1 * HOUR

FAILED = (Status.OFFLINE, Status.ERROR)  # what the rules count as trouble (no login faults here)
EXPECTED_STATUS = {
    "ok": Status.OK,
    "500": Status.ERROR,
    "truncated": Status.ERROR,
    "captive_portal": Status.ERROR,
    "not_an_object": Status.ERROR,
    "429": Status.RATE_LIMITED,
    "503": Status.RATE_LIMITED,
    "429_again": Status.RATE_LIMITED,
}
MALFORMED = ("truncated", "captive_portal", "not_an_object")
WINDOW_NAMES = {"five_hour": "5-hour", "seven_day": "weekly", "seven_day_fable": "weekly (Fable)"}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%a %H:%M:%S")


def at_day(day: int, hours: float) -> float:
    return START_TS + day * DAY + hours * HOUR


# -- the scripted account ------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """One window as the scripted account reports it."""

    id: str
    label: str
    utilization: float
    period_end: float | None  # the true end of the period: its identity
    resets_at: datetime | None  # what the server sends: that end plus the real server's sub-second wobble


class Account:
    """Minute by minute usage for the week, drawn once from the seed."""

    def __init__(self, rng: random.Random) -> None:
        minutes = DAYS * 1440 + 180
        rate = [0.0] * minutes  # 5-hour window percent per hour the user burns in each minute
        fable = [0.0] * minutes  # share of that spent on the scoped model
        for day in range(DAYS + 1):
            weekday = (START + timedelta(days=day)).weekday()
            for _ in range(rng.choice((1, 2, 2, 3) if weekday < 5 else (0, 0, 1))):
                first = day * 1440 + rng.randint(8 * 60, 21 * 60)
                speed, share = rng.uniform(8, 40), rng.choice((0.0, 0.3, 1.0))
                for minute in range(first, min(minutes, first + rng.randint(30, 180))):
                    rate[minute] += speed
                    fable[minute] = max(fable[minute], share)
        # Friday afternoon's crunch runs the 5-hour window to its limit whatever the seed, so every week
        # has a full ladder of thresholds and a reset to announce.
        for minute in range(1440 + 14 * 60, 1440 + 17 * 60):
            rate[minute] += 40.0
        self._states = self._simulate(rate, fable)

    @staticmethod
    def _simulate(
        rate: list[float], fable: list[float]
    ) -> list[tuple[float, float | None, float, float, float]]:
        five, five_end = 0.0, None
        week, fable_used, week_end = WEEK_START_USED, FABLE_START_USED, FIRST_WEEKLY_RESET
        states: list[tuple[float, float | None, float, float, float]] = []
        for minute, speed in enumerate(rate):
            now = START_TS + minute * MINUTE
            if five_end is not None and now >= five_end:
                five, five_end = 0.0, None
            if now >= week_end:
                week, fable_used, week_end = 0.0, 0.0, week_end + WEEK
            if speed > 0:
                five_end = five_end or now + FIVE_HOURS
                # Either limit blocks further use.
                used = min(speed / 60, 100 - five, (100 - week) / WEEK_SHARE)
                five, week = five + used, week + used * WEEK_SHARE
                fable_used = min(100.0, fable_used + used * FABLE_SHARE * fable[minute])
            states.append((five, five_end, week, week_end, fable_used))
        return states

    def resets(self) -> tuple[int, int]:
        """How many 5-hour periods and weekly periods ended during the week."""
        ends = [(five_end, week_end) for _, five_end, _, week_end, _ in self._states[: DAYS * 1440]]
        five = {end for end, _ in ends if end is not None and end < END_TS}
        return len(five), len({end for _, end in ends}) - 1

    def windows_at(self, ts: float) -> tuple[Served, ...]:
        five, five_end, week, week_end, fable_used = self._states[int((ts - START_TS) // MINUTE)]
        wobble = (int(ts) * 7919) % 400  # microseconds; differs from poll to poll as the real server's

        def sent(end: float | None, micro: int) -> datetime | None:
            return None if end is None else datetime.fromtimestamp(end, UTC) + timedelta(microseconds=micro)

        return (
            Served("five_hour", "5-hour", _whole(five), five_end, sent(five_end, 1100 + wobble)),
            Served("seven_day", "Weekly", _whole(week), week_end, sent(week_end, 1127 + wobble)),
            Served("seven_day_fable", "Weekly · Fable", _whole(fable_used), week_end, sent(week_end, 1438)),
        )

    def body_at(self, ts: float) -> dict[str, Any]:
        """The /api/oauth/usage answer: flat windows, limits[] with the model-scoped one, as the server."""
        five, week, fable = self.windows_at(ts)

        def flat(window: Served) -> dict[str, Any]:
            reset = None if window.resets_at is None else window.resets_at.isoformat()
            return {"utilization": window.utilization, "resets_at": reset}

        def limit(kind: str, window: Served, scope: dict[str, Any] | None) -> dict[str, Any]:
            percent = round(window.utilization)
            reset = None if window.resets_at is None else window.resets_at.isoformat()
            return {"kind": kind, "percent": percent, "resets_at": reset, "scope": scope, "is_active": False}

        scope = {"model": {"id": None, "display_name": "Fable"}, "surface": None}
        return {
            "five_hour": flat(five),
            "seven_day": flat(week),
            "seven_day_oauth_apps": None,
            "seven_day_opus": None,
            "seven_day_sonnet": None,
            "limits": [
                limit("session", five, None),
                limit("weekly_all", week, None),
                limit("weekly_scoped", fable, scope),
            ],
            "extra_usage": {
                "is_enabled": False,
                "monthly_limit": None,
                "used_credits": None,
                "utilization": None,
            },
        }


def _whole(used: float) -> float:
    # The server reports whole percents; the small epsilon keeps 99.9999999 from a float sum at 100.
    return float(math.floor(used + 1e-6))


# -- the week's events -------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: float
    end: float

    def __contains__(self, ts: float) -> bool:
        return self.start <= ts < self.end


@dataclass(frozen=True)
class Shot:
    """A one-off answer armed at `at`: the next request (of its bucket) after that gets it."""

    at: float
    kind: str  # one of MALFORMED, "429", "503", or "admin_429"
    retry_after: int = 0
    http_date: bool = False


@dataclass
class Week:
    outages: list[Span] = field(default_factory=list)
    errors: list[Span] = field(default_factory=list)
    shots: list[Shot] = field(default_factory=list)
    sleeps: list[Span] = field(default_factory=list)
    clicks: list[float] = field(default_factory=list)
    snoozes: list[float] = field(default_factory=list)
    restart: float = 0.0


def _place(rng: random.Random, taken: list[Span], earliest: float, latest: float, length: float) -> Span:
    """A span of `length` starting in [earliest, latest - length] that overlaps nothing in `taken`."""
    for _ in range(200):
        start = rng.uniform(earliest, latest - length)
        span = Span(start, start + length)
        if all(span.end + 300 < other.start or other.end + 300 < span.start for other in taken):
            taken.append(span)
            return span
    raise AssertionError("the schedule is too crowded to place a span")


def _awake(rng: random.Random, week: Week, earliest: float, latest: float) -> float:
    while True:
        moment = rng.uniform(earliest, latest)
        if not any(moment in sleep for sleep in week.sleeps):
            return moment


def _draw_faults(rng: random.Random, week: Week, day: int) -> None:
    taken: list[Span] = []
    first, last = at_day(day, QUIET_UNTIL / HOUR), at_day(day, QUIET_FROM / HOUR)
    if day == 3:  # one long outage: a train ride, a dead router
        week.outages.append(_place(rng, taken, at_day(day, 9), at_day(day, 20), rng.uniform(2, 4) * HOUR))
    for _ in range(rng.randint(2, 4)):
        week.outages.append(_place(rng, taken, first, last, rng.uniform(1, 40) * MINUTE))
    for _ in range(rng.randint(1, 2)):
        week.errors.append(_place(rng, taken, first, last, rng.uniform(1, 20) * MINUTE))
    late = at_day(day, 21)  # a back-off must be over before the quiet hours
    for kind in rng.sample(MALFORMED, 2):
        week.shots.append(Shot(rng.uniform(first, last), kind))
    seconds = rng.choice((0, 30, 120, 600, 1500))
    week.shots.append(Shot(rng.uniform(first, late), "429", seconds))
    week.shots.append(Shot(rng.uniform(first, late), "429", rng.randint(90, 900), http_date=True))
    if day % 2:
        week.shots.append(Shot(rng.uniform(first, late), "503", rng.randint(60, 600)))
        week.shots.append(Shot(rng.uniform(first, late), "admin_429", rng.randint(60, 900)))


def draw_week(rng: random.Random) -> Week:
    week = Week()
    for day in range(DAYS):
        night = rng.uniform(1, 2.5)
        week.sleeps.append(Span(at_day(day, night), at_day(day, night + rng.uniform(5, 8))))
        naps: list[Span] = [week.sleeps[-1]]
        for _ in range(rng.randint(0, 2)):
            week.sleeps.append(
                _place(rng, naps, at_day(day, 11), at_day(day, 22.5), rng.uniform(10, 90) * MINUTE)
            )
        _draw_faults(rng, week, day)
    week.sleeps.sort(key=lambda span: span.start)
    for day in range(DAYS):
        week.clicks += [_awake(rng, week, at_day(day, 8), at_day(day, 22.5)) for _ in range(3)]
    week.snoozes = [_awake(rng, week, at_day(day, 9), at_day(day, 20)) for day in (2, 5)]
    week.restart = _awake(rng, week, at_day(4, 10), at_day(4, 20))
    for spans in (week.outages, week.errors):
        spans.sort(key=lambda span: span.start)
    week.shots.sort(key=lambda shot: shot.at)
    return week


# -- the server side ---------------------------------------------------------------------------


class ServerSide:
    """What the (possibly restarted) server knows: the script, the armed faults, the Retry-After windows
    it has sent, and what it answered. Kept outside DemoServer so it outlives a restart."""

    def __init__(self, account: Account, week: Week, clock: Callable[[], float]) -> None:
        self.account, self.week, self.clock = account, week, clock
        self._shots = deque(shot for shot in week.shots if shot.kind != "admin_429")
        self._admin_shots = deque(shot for shot in week.shots if shot.kind == "admin_429")
        self._error_starts = [span.start for span in week.errors]
        self.quiet_until: dict[str, float] = {}  # bucket -> end of the Retry-After window it was sent
        self.violations: list[str] = []
        self.last_usage: tuple[float, str] | None = None
        self.served: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.wrong_agents = 0

    def down(self, ts: float) -> bool:
        return any(ts in span for span in self.week.outages)

    def arrived(self, bucket: str, ts: float) -> None:
        self.requests[bucket] += 1
        until = self.quiet_until.get(bucket, 0.0)
        if ts < until:
            self.violations.append(f"{bucket} request at {iso(ts)}, inside Retry-After until {iso(until)}")

    def usage(self, ts: float, headers: dict[str, str]) -> DemoResponse:
        if not headers.get("user-agent", "").startswith("claude-code/"):
            self.wrong_agents += 1
        if ts < self.quiet_until.get("oauth", 0.0):
            kind, response = (
                "429_again",
                self._limited(429, ts, int(self.quiet_until["oauth"] - ts) + 1, False),
            )
        elif self._shots and self._shots[0].at <= ts:
            shot = self._shots.popleft()
            kind, response = shot.kind, self._shot(shot, ts)
        elif self._in_error(ts):
            kind, response = (
                "500",
                _json(500, {"type": "error", "error": {"type": "api_error", "message": "boom"}}),
            )
        else:
            kind, response = "ok", _json(200, self.account.body_at(ts))
        self.last_usage = (ts, kind)
        self.served[kind] += 1
        return response

    def admin(self, ts: float) -> DemoResponse | None:
        if self._admin_shots and self._admin_shots[0].at <= ts:
            shot = self._admin_shots.popleft()
            self.served["admin_429"] += 1
            return self._limited(429, ts, shot.retry_after, False, bucket="admin")
        return None

    def _in_error(self, ts: float) -> bool:
        index = bisect.bisect_right(self._error_starts, ts) - 1
        return index >= 0 and ts in self.week.errors[index]

    def _shot(self, shot: Shot, ts: float) -> DemoResponse:
        if shot.kind in ("429", "503"):
            return self._limited(int(shot.kind), ts, shot.retry_after, shot.http_date)
        full = json.dumps(self.account.body_at(ts)).encode()
        if shot.kind == "truncated":
            return DemoResponse(200, full[: len(full) // 2], (("Content-Type", "application/json"),))
        if shot.kind == "captive_portal":
            page = (
                b"<!DOCTYPE html><html><head><title>Sign in to Hotel WiFi</title></head><body></body></html>"
            )
            return DemoResponse(200, page, (("Content-Type", "text/html"),))
        return _json(200, [])

    def _limited(
        self, status: int, ts: float, seconds: int, http_date: bool, bucket: str = "oauth"
    ) -> DemoResponse:
        # An HTTP date has whole seconds: the window it asks for ends at the second it names.
        until = math.floor(ts + seconds) if http_date else ts + seconds
        self.quiet_until[bucket] = max(self.quiet_until.get(bucket, 0.0), until)
        value = formatdate(ts + seconds, usegmt=True) if http_date else str(seconds)
        kind = "rate_limit_error" if status == 429 else "overloaded_error"
        body = {"type": "error", "error": {"type": kind, "message": "Slow down."}}
        return _json(status, body, (("retry-after", value),))


def _json(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> DemoResponse:
    return DemoResponse(
        status, json.dumps(payload).encode(), (("Content-Type", "application/json"), *headers)
    )


class ScriptedServer(DemoServer):
    """The demo server, with the usage endpoint answering from the script at the moment a request
    arrives (and the armed faults in between); profile and Admin API answers are the demo's own."""

    def __init__(self, side: ServerSide, port: int) -> None:
        super().__init__("full", clock=side.clock, port=port)
        self._side = side
        # No free resets: the script's alerts are the limits' own (the resets have tests of their own).
        self.grants_scenario = "absent"

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes, query: str = ""
    ) -> DemoResponse:
        ts = self._side.clock()
        # The hourly free-resets request is the demo's own answer, outside the script of the polls.
        grants = asks_for_grants(query)
        bucket = "grants" if grants else "oauth" if path in (USAGE_PATH, PROFILE_PATH) else "admin"
        self._side.arrived(bucket, ts)
        if path == USAGE_PATH and not grants:
            self.queue(path, self._side.usage(ts, headers))
        elif bucket == "admin" and (shot := self._side.admin(ts)) is not None:
            self.queue(path, shot)
        return super().answer(method, path, headers, body, query)


class Network:
    """Brings the server down for each outage and back (on the same port), and restarts it at midnight."""

    def __init__(self, side: ServerSide) -> None:
        self.side = side
        first = ScriptedServer(side, 0)
        first.start()
        self.server: ScriptedServer | None = first
        self.port = int(first.base_url.rsplit(":", 1)[1])
        self.base_url = first.base_url
        self.outages = 0

    def sync(self, ts: float) -> None:
        down = self.side.down(ts)
        if down and self.server is not None:
            self.stop()
            self.outages += 1
        elif not down and self.server is None:
            self.start()

    def restart(self) -> None:
        self.stop()
        self.start()

    def start(self) -> None:
        server = ScriptedServer(self.side, self.port)
        server.start()
        self.server = server

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.stop()
        self.server = None
        # Each connection has its own handler thread, which ends once stop() has hung up on it.
        for thread in threading.enumerate():
            if thread.name.endswith("(process_request_thread)"):
                thread.join(5)


# -- the program under test ----------------------------------------------------------------------


SETTINGS_FILE = """\
http_timeout_seconds = 5

[console]
user_email = "jane@example.com"
budget = 1750
workspace_budgets = { Research = 40 }
poll_seconds = 900
"""


class Tray:
    """The program `run` wires (tray_app.wiring: open_app, then build_poller with the tray's view and
    notification switch), every part on the fake clock. Only the tray icon is left out: publish keeps
    each tick's result and draws its icon image, as the tray does with it on the UI thread."""

    def __init__(self, env: Environment, clock: FakeClock) -> None:
        self.clock = clock
        self._running = contextlib.ExitStack()
        self.app = self._running.enter_context(open_app(settings_for("run", env), env, clock))
        # The cadence, Console settings and rules the checks work with are the ones the settings give.
        assert poll_timing(self.app) == TIMING and self.app.settings.console == CONSOLE
        assert self.app.settings.notifications == SETTINGS
        assert self.app.monitor is not None and self.app.console is not None
        self.monitor: UsageSource = self.app.monitor
        self.switch = NotificationSwitch(self.app.store, clock.now)
        self.view = tray_view(self.app, self.switch, None, clock)
        self.renderer = IconRenderer(ICON_SIZE_MACOS if sys.platform == "darwin" else ICON_SIZE_DEFAULT)
        self.last: TickResult | None = None
        self.published = 0
        self.poller = build_poller(self.app, clock, self.publish, self.view, self.switch)

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def shown(self) -> ViewModel | None:
        return None if self.last is None else self.last.view

    def publish(self, result: TickResult) -> None:
        self.last = result
        self.published += 1
        self.renderer.image(result.view.icon)  # what the tray does with each published view

    def snooze_hour(self) -> datetime:
        """The menu's "Snooze for an hour", which TrayApp runs on the polling thread (at the next tick)."""
        until = self.clock.now() + timedelta(hours=1)

        def snooze() -> None:
            self.switch.snooze(until)
            options = self.view.options
            self.view.options = replace(
                options, notifications_on=self.switch.enabled, snoozed_until=self.switch.snoozed_until
            )

        self.poller.submit(snooze)
        return until

    def close(self) -> None:
        self._running.close()


# -- what the rules should do, worked out independently ----------------------------------------


class RulesModel:
    """The notification rules as the README states them, applied to what the server really sent:
    each threshold once per window period (by the server's true period, not by rounding), the
    highest of several crossed at once; "on pace" once per period unless back under the limit for
    30 min (a day for a weekly window); a reset once, when the ended period got to 90 %; "cannot
    update" at the third failure of an episode five minutes old; budgets once a month."""

    def __init__(self) -> None:
        self.crossed: set[tuple[str, float, float]] = set()
        self.peaks: dict[str, tuple[float, float]] = {}
        self.reset_told: set[tuple[str, float]] = set()
        self.pace_told: set[tuple[str, float]] = set()
        self.pace_clear_since: dict[str, float] = {}
        self.failures = 0
        self.failing_since = 0.0
        self.failure_told = False
        self.budgets: set[tuple[str, str, float]] = set()
        self.projections: set[str] = set()

    def code(self, ts: float, status: Status, served: Sequence[Served], pace: dict[str, bool]) -> list[str]:
        titles: list[str] = []
        if status in FAILED:
            self.failures += 1
            if self.failures == 1:
                self.failing_since = ts
            # Told once an episode: at the third failure in a row, once the outage is five minutes old.
            if not self.failure_told and self.failures >= 3 and ts - self.failing_since >= 5 * MINUTE:
                self.failure_told = True
                titles.append("Claude usage: cannot update")
        elif status is Status.OK:
            self.failures, self.failure_told = 0, False
            for window in served:
                titles += self._window(ts, window, pace[window.id])
        return titles

    def _window(self, ts: float, window: Served, on_pace: bool) -> list[str]:
        name = WINDOW_NAMES[window.id]
        titles: list[str] = []
        period = window.period_end
        if period is not None:
            crossed = [t for t in RULES.ladder if window.utilization >= t]
            new = [t for t in crossed if (window.id, period, t) not in self.crossed]
            self.crossed.update((window.id, period, t) for t in crossed)
            if new:
                percent = f"{window.utilization:.0f} %"
                titles.append(
                    f"Claude {name} limit reached"
                    if max(new) >= 100
                    else f"Claude {name} limit: {percent} used"
                )
            titles += self._pace(ts, window, period, on_pace)
        return titles + self._reset(ts, window)

    def _pace(self, ts: float, window: Served, period: float, on_pace: bool) -> list[str]:
        key = (window.id, period)
        if not on_pace:
            since = self.pace_clear_since.setdefault(window.id, ts)
            # 30 min for the 5-hour window; a whole day for a weekly one, whose pace clears every evening.
            rearm = 30 * MINUTE if window.id == "five_hour" else DAY
            if ts - since >= rearm:
                self.pace_told.discard(key)
            return []
        self.pace_clear_since.pop(window.id, None)
        if key in self.pace_told or window.utilization >= 100:
            return []
        self.pace_told.add(key)
        return [f"Claude {WINDOW_NAMES[window.id]} limit: on pace to run out"]

    def _reset(self, ts: float, window: Served) -> list[str]:
        known = self.peaks.get(window.id)
        if known is None or known[0] == window.period_end:
            if window.period_end is not None:
                self.peaks[window.id] = (
                    window.period_end,
                    max(window.utilization, known[1] if known else 0.0),
                )
            return []
        ended, peak = known
        assert window.period_end is not None or ts >= ended, "the script ends periods only at their end"
        self.peaks[window.id] = (window.period_end or ended, window.utilization)
        if peak < RULES.reset_after_peak or (window.id, ended) in self.reset_told:
            return []
        self.reset_told.add((window.id, ended))
        return [f"Claude {WINDOW_NAMES[window.id]} limit reset"]

    def console(self, figures: MonthFigures) -> list[str]:
        titles: list[str] = []
        if figures.budget:
            titles += self._budget("organization", figures.mtd_cost, figures.budget, figures.month)
            projected = figures.projected_month_end_cost
            passing = projected is not None and projected > figures.budget > figures.mtd_cost
            if passing and figures.month not in self.projections:
                self.projections.add(figures.month)
                titles.append("Claude API spend: on pace to pass the budget")
        for workspace in figures.workspaces:
            if workspace.budget:
                titles += self._budget(workspace.name, workspace.cost, workspace.budget, figures.month)
        return titles

    def _budget(self, name: str, spent: Decimal, budget: Decimal, month: str) -> list[str]:
        share = spent / budget * 100
        crossed = [t for t in RULES.budget_ladder if share >= Decimal(str(t))]
        new = [t for t in crossed if (month, name, t) not in self.budgets]
        self.budgets.update((month, name, t) for t in crossed)
        if not new:
            return []
        whose = "Claude API spend" if name == "organization" else f"Claude API spend of {name}"
        if max(new) >= 100:
            return [f"{whose}: budget reached"]
        return [f"{whose}: {max(new):g} % of the ${budget:,.2f} budget"]


# -- the checks made as the week runs ----------------------------------------------------------


class Checker:
    """Told of every fresh poll once its tick is over, it compares the state, the figures and the alerts
    the tick published with what the server did. Everything it keeps for the end is numbers in arrays
    (and the week's few dozen alerts), so the week's bookkeeping does not itself look like a leak."""

    def __init__(self, side: ServerSide, clock: FakeClock) -> None:
        self.side, self.clock = side, clock
        self.model = RulesModel()
        self.backoff_before: datetime | None = None  # the shared back-off as the tick began
        self.poll_times = array("d")
        self.poll_ok = array("b")
        self.last_ok: tuple[float, float] | None = None  # time and 5-hour figure of the last good poll
        self.status: Status | None = None
        self.on_pace = False
        self.alerts: list[tuple[float, str]] = []  # every alert the rules gave, muted or not
        self.delivered: list[tuple[float, Alert]] = []  # the ones published for the notifier
        self.muted: list[str] = []  # the titles of the rest, in order
        self.statuses: Counter[str] = Counter()
        self.console_statuses: Counter[str] = Counter()
        self.grey_while_ok = 0
        self.console_figures = 0  # good Console refreshes: each should be a row of the Console history

    def expected_status(self, ts: float) -> Status:
        answered = self.side.last_usage is not None and self.side.last_usage[0] == ts
        if self.backoff_before is not None:
            assert not answered, f"{iso(ts)}: a request went out during the shared back-off"
            return Status.RATE_LIMITED
        if self.side.down(ts):
            return Status.OFFLINE
        assert answered and self.side.last_usage is not None, f"{iso(ts)}: polled without asking the server"
        return EXPECTED_STATUS[self.side.last_usage[1]]

    def on_code(self, report: CodeReport) -> list[str]:
        """A fresh Code poll: checked against the server; returns the alerts the rules must give for it."""
        ts = self.clock.wall()
        status = self.expected_status(ts)
        assert report.status is status, f"{iso(ts)}: {report.status} ({report.message}), expected {status}"
        served = self.side.account.windows_at(ts)
        if status is Status.OK:
            shown = [(w.window.id, w.window.utilization, w.window.resets_at) for w in report.windows]
            assert shown == [(w.id, w.utilization, w.resets_at) for w in served], f"{iso(ts)}: {shown}"
            self.last_ok = (ts, served[0].utilization)
        self.poll_times.append(ts)
        self.poll_ok.append(status is Status.OK)
        self.status = report.status
        self.statuses[status.value] += 1
        pace = {w.window.id: w.forecast.limit_at is not None for w in report.windows}
        self.on_pace = pace.get("five_hour", False)
        return self.model.code(ts, status, served, pace)

    def on_console(self, report: ConsoleReport) -> list[str]:
        """A fresh Console refresh; returns the budget alerts the rules must give for it."""
        self.console_statuses[report.status.value] += 1
        ok = report.status is Status.OK and report.figures is not None
        self.console_figures += ok
        return self.model.console(report.figures) if ok and report.figures is not None else []

    def on_alerts(self, published: tuple[Alert, ...], expected: list[str], muted: bool) -> None:
        """A tick's alerts: exactly what the rules give for its polls, unless notifications are muted."""
        ts = self.clock.wall()
        titles = [alert.title for alert in published]
        wanted = [] if muted else expected
        assert titles == wanted, f"{iso(ts)}: the tick published {titles}, expected {wanted}"
        self.alerts += [(ts, title) for title in expected]
        self.delivered += [(ts, alert) for alert in published]
        if muted:
            self.muted += expected

    def check_view(self, view: ViewModel | None) -> None:
        """The icon shows the last good 5-hour figure, and says why it is not fresh when it is not."""
        assert view is not None
        ts = self.clock.wall()
        percent = None if self.last_ok is None else round(self.last_ok[1])
        assert view.icon.percent == percent, f"{iso(ts)}: icon shows {view.icon.percent}, last good {percent}"
        assert view.icon.badge is self.expected_badge(ts), f"{iso(ts)}: {view.icon.badge} after {self.status}"
        if self.status is Status.OK and view.icon.badge is Badge.STALE:
            self.grey_while_ok += 1

    def expected_badge(self, ts: float) -> Badge:
        if self.status is Status.OFFLINE:
            return Badge.OFFLINE
        if self.last_ok is None:
            return Badge.NO_DATA
        if self.status is not Status.OK or ts - self.last_ok[0] > STALE_AFTER.total_seconds():
            return Badge.STALE
        return Badge.PACE if self.on_pace else Badge.NONE


# -- resources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resources:
    threads: int
    fds: int
    blocks: int  # memory blocks Python's allocator has handed out: small objects alive
    rss_kib: int

    @classmethod
    def now(cls) -> Resources:
        gc.collect()
        status = Path("/proc/self/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return cls(threading.active_count(), len(os.listdir("/proc/self/fd")), sys.getallocatedblocks(), rss)

    def __str__(self) -> str:
        return (
            f"{self.threads} threads, {self.fds} fds, {self.blocks} blocks, {self.rss_kib / 1024:.1f} MiB RSS"
        )


# -- the week ------------------------------------------------------------------------------------


@dataclass(order=True)
class Interrupt:
    at: float
    kind: str = field(compare=False)  # click, snooze, restart, midnight


class Soak:
    def __init__(self, folder: Path, seed: int) -> None:
        rng = random.Random(seed)
        self.folder = folder
        self.clock = FakeClock(START)
        self.week = draw_week(rng)
        self.side = ServerSide(Account(rng), self.week, self.clock.epoch)
        self.network = Network(self.side)
        self.checker = Checker(self.side, self.clock)
        # The program's folder is the test's: config.toml, the database and logs beside tray.log.
        (folder / "config.toml").write_text(SETTINGS_FILE)
        assert self.network.server is not None
        admin_key = {ENV_ADMIN_KEY: DemoServer.DEMO_ADMIN_KEY}
        self.env = app_environment(folder, self.network.server, folder / "claude", **admin_key)
        self.tray = Tray(self.env, self.clock)
        self.sleeps = deque(self.week.sleeps)
        interrupts = [Interrupt(at, "click") for at in self.week.clicks]
        interrupts += [Interrupt(at, "snooze") for at in self.week.snoozes]
        interrupts += [Interrupt(self.week.restart, "restart")]
        interrupts += [Interrupt(START_TS + day * DAY, "midnight") for day in range(1, DAYS + 1)]
        self.interrupts = deque(sorted(interrupts))
        self.snoozed: list[Span] = []
        self.clicked: list[float] = []
        self.resources: list[Resources] = []
        self.must_poll = False  # after a wake or a click the next tick polls at once
        self.measure = False
        self.ticks = self.sleeps_done = 0

    def run(self) -> None:
        while True:
            self.network.sync(self.clock.wall())
            delay = self.tick()
            if self.measure:
                self.measure = False
                self.resources.append(Resources.now())
                if self.clock.wall() >= END_TS:
                    return
            self.advance(delay)

    def tick(self) -> float:
        tray, checker = self.tray, self.checker
        checker.backoff_before = tray.monitor.backoff_until()
        polls = len(checker.poll_times)
        before, published = tray.poller.reports, tray.published
        delay = tray.poller.tick()
        self.ticks += 1
        assert tray.published == published + 1 and tray.last is not None, "a tick publishes once"
        # Every poll answers with a report of its own: that is how a tick's polls are told from its
        # repaints. The rules step with each (Code first), and the tick's alerts are theirs.
        after, expected = tray.poller.reports, []
        if after.code is not before.code and after.code is not None:
            expected += checker.on_code(after.code)
        if after.console is not before.console and after.console is not None:
            expected += checker.on_console(after.console)
        checker.on_alerts(tray.last.alerts, expected, _muted(self, self.clock.wall()))
        if self.must_poll:
            assert len(checker.poll_times) == polls + 1, (
                f"{iso(self.clock.wall())}: no poll after a wake or click"
            )
            self.must_poll = False
        checker.check_view(tray.shown)
        return delay

    def advance(self, delay: float) -> None:
        """Move the clocks to the next tick: the poller's wait, cut short by a click, stretched by a sleep."""
        remaining = delay
        while True:
            now = self.clock.wall()
            target = now + remaining
            sleep = self.sleeps[0] if self.sleeps and self.sleeps[0].start <= target else None
            interrupt = self.interrupts[0] if self.interrupts and self.interrupts[0].at <= target else None
            if sleep is not None and (interrupt is None or sleep.start < interrupt.at):
                # The wait counts monotonic time, which stands still while suspended: after the wake it
                # runs on for what was left of it (unless something wakes the poller first).
                self.sleeps.popleft()
                self.clock.advance(sleep.start - now)
                self.clock.suspend(sleep.end - sleep.start)
                remaining -= sleep.start - now
                self.sleeps_done += 1
                self.must_poll = True
                continue
            if interrupt is not None:
                assert interrupt.at >= now, f"{interrupt.kind} at {iso(interrupt.at)} fell inside a sleep"
                self.interrupts.popleft()
                self.clock.advance(interrupt.at - now)
                self.interrupt(interrupt.kind)
                return
            self.clock.advance(remaining)
            return

    def interrupt(self, kind: str) -> None:
        if kind == "click":
            self.tray.poller.refresh_now()
            self.clicked.append(self.clock.wall())
            self.must_poll = True
        elif kind == "snooze":
            until = self.tray.snooze_hour()
            self.snoozed.append(Span(self.clock.wall(), until.timestamp()))
        elif kind == "restart":
            self.tray.close()
            self.tray = Tray(self.env, self.clock)
            self.tray.poller.show_stored()
            self.checker.status = Status.STALE  # stored figures, not yet polled
            self.checker.check_view(self.tray.shown)
        else:
            # Midnight: the server restarts (as a deploy would) and a click makes the connection state
            # the same every night, so the measurements compare like with like.
            self.network.restart()
            self.tray.poller.refresh_now()
            self.must_poll = self.measure = True

    def close(self) -> None:
        self.tray.close()
        self.network.stop()


@pytest.fixture
def soak(tmp_path: Path) -> Iterator[Soak]:
    # The real expiry would pass during the week; the login must outlast it as Claude Code keeps it fresh.
    write_login(tmp_path / "claude", expires_in=END_TS + DAY - datetime.now(UTC).timestamp())
    # The tray logs to a file (and the secrets scan reads it there); see _log_to_file_only.
    logger = logging.getLogger("tray_app")
    handler = logging.FileHandler(tmp_path / "tray.log")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    saved = (logger.level, logger.propagate)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    made = Soak(tmp_path, SEED)
    try:
        yield made
    finally:
        made.close()
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


# -- the checks at the end -----------------------------------------------------------------------


def _expected_rows(soak: Soak) -> Counter[tuple[int, str, str, float, int | None]]:
    rows: Counter[tuple[int, str, str, float, int | None]] = Counter()
    for ts, ok in zip(soak.checker.poll_times, soak.checker.poll_ok, strict=True):
        if ok:
            for w in soak.side.account.windows_at(ts):
                reset = None if w.resets_at is None else int(w.resets_at.timestamp())
                rows[(int(ts), w.id, w.label, w.utilization, reset)] += 1
    return rows


def _stored_rows(store: Store) -> Counter[tuple[int, str, str, float, int | None]]:
    return Counter(
        (int(at.timestamp()), wid, label, util, None if reset is None else int(reset.timestamp()))
        for at, wid, label, util, reset in store.window_rows(START - timedelta(days=1))
    )


def _explained(soak: Soak, start: float, end: float) -> bool:
    """A long wait between two good polls is fine if a failure, a sleep or the restart fell inside it."""
    times, ok = soak.checker.poll_times, soak.checker.poll_ok
    first = bisect.bisect_right(times, start)
    last = bisect.bisect_left(times, end)
    if any(not ok[i] for i in range(first, last)):
        return True
    if any(sleep.start < end and start < sleep.end for sleep in soak.week.sleeps):
        return True
    return start < soak.week.restart <= end


def check_history(soak: Soak) -> tuple[int, Counter[float]]:
    expected, stored = _expected_rows(soak), _stored_rows(soak.tray.store)
    missing, extra = expected - stored, stored - expected
    assert not missing and not extra, (
        f"missing rows {sorted(missing)[:5]}, rows of no good poll {sorted(extra)[:5]}"
    )
    good = [ts for ts, ok in zip(soak.checker.poll_times, soak.checker.poll_ok, strict=True) if ok]
    interrupts = sorted([*soak.clicked, *(START_TS + day * DAY for day in range(1, DAYS + 1))])
    gaps: Counter[float] = Counter()
    for before, after in zip(good, good[1:], strict=False):
        gap = after - before
        assert gap <= TIMING.idle_interval + 1e-6 or _explained(soak, before, after), (
            f"no poll from {iso(before)} to {iso(after)} without a fault or a sleep"
        )
        clicked = bisect.bisect_right(interrupts, before) != bisect.bisect_right(interrupts, after)
        if not clicked and not _explained(soak, before, after):
            gaps[round(gap, 3)] += 1
    assert set(gaps) <= CADENCE, (
        f"good polls apart by {sorted(set(gaps) - CADENCE)} s, not the poller's cadence"
    )
    assert TIMING.interval in gaps and TIMING.idle_interval in gaps, (
        "the cadence never moved between 180 s and 15 min"
    )
    return sum(stored.values()), gaps


def _muted(soak: Soak, ts: float) -> bool:
    return any(ts in span for span in soak.snoozed)


def check_notifications(soak: Soak) -> list[tuple[float, str]]:
    """The alerts published for the notifier over the week, and those the snoozes muted (the tray logs
    each), against what the rules call for."""
    checker = soak.checker
    shown = [(iso(ts), alert.title) for ts, alert in checker.delivered]
    wanted = [(iso(ts), title) for ts, title in checker.alerts if not _muted(soak, ts)]
    assert shown == wanted, f"shown {len(shown)} notifications, expected {len(wanted)}"
    assert len(set(shown)) == len(shown), "a notification was shown twice"
    muted = [title for ts, title in checker.alerts if _muted(soak, ts)]
    logged = _MUTED.findall((soak.folder / "tray.log").read_text())
    assert checker.muted == muted and logged == muted, f"muted {logged}, expected {muted}"
    for ts, alert in checker.delivered:
        if alert.title.endswith("on pace to run out"):
            at = datetime.fromtimestamp(int(ts), UTC).isoformat()
            limit, reset = _pace_times(at, alert.body)
            assert limit < reset, f"{at}: {alert.body!r} puts the limit after the reset"
    return checker.alerts


_MUTED = re.compile(r"^INFO tray_app\.alerts notification muted \(snoozed\): (.*)$", re.MULTILINE)


_PACE_BODY = re.compile(r"at (?:(\w{3}) )?(\d\d):(\d\d), before the (?:(\w{3}) )?(\d\d):(\d\d) reset")


def _pace_times(at: str, body: str) -> tuple[datetime, datetime]:
    """The limit and reset moments a pace notification names, read as a user would: a bare time is
    today, a day name is the next such day."""
    found = _PACE_BODY.search(body)
    assert found is not None, body
    sent = datetime.fromisoformat(at)

    def moment(day: str | None, hour: str, minute: str) -> datetime:
        when = sent.replace(hour=int(hour), minute=int(minute), second=0)
        if day is None:
            return when
        ahead = next(n for n in range(1, 8) if f"{when + timedelta(days=n):%a}" == day)
        return when + timedelta(days=ahead)

    parts = found.groups()
    return moment(*parts[:3]), moment(*parts[3:])


def check_resources(day1: Resources, day7: Resources) -> None:
    assert day7.threads <= day1.threads, f"threads grew: {day1} -> {day7}"
    assert day7.fds <= day1.fds, f"open files grew: {day1} -> {day7}"
    # Days 2 to 7 hold about 700 polls at the 180 s pace and 12,000 repaints: one small object kept per
    # repaint, or three per poll, would break the first bound (seen: a few hundred blocks either way);
    # 4.5 kB kept per poll the second (seen: about 1 MiB, SQLite's page cache following the growing file).
    assert day7.blocks - day1.blocks < 2000, f"Python objects grew: {day1} -> {day7}"
    assert day7.rss_kib - day1.rss_kib < 3072, f"resident memory grew: {day1} -> {day7}"


def _kind(title: str) -> str:
    if title.startswith("Claude API spend"):
        return "budget"
    if title.startswith("Claude usage"):
        return "cannot update"
    for ending, kind in (("on pace to run out", "pace"), ("reset", "reset"), ("reached", "threshold")):
        if title.endswith(ending):
            return kind
    return "threshold"


def print_summary(soak: Soak, rows: int, gaps: Counter[float], alerts: list[tuple[float, str]]) -> None:
    checker, side = soak.checker, soak.side
    shown = sum(1 for ts, _ in alerts if not _muted(soak, ts))
    faults = {kind: count for kind, count in side.served.items() if kind != "ok"}
    five, weekly = side.account.resets()
    print(f"\nsoak seed {SEED} (SOAK_SEED={SEED} replays it): {DAYS} simulated days from {START:%a %Y-%m-%d}")
    print(f"  ticks {soak.ticks}; Code polls {len(checker.poll_times)} {dict(checker.statuses)}")
    print(f"  Console refreshes {sum(checker.console_statuses.values())} {dict(checker.console_statuses)}")
    print(f"  requests {dict(side.requests)}; faults answered {faults}")
    print(
        f"  outages {soak.network.outages}, sleeps {soak.sleeps_done}, clicks {len(soak.clicked)},"
        f" snoozes {len(soak.snoozed)}, restarts 1; resets: 5-hour {five}, weekly {weekly}"
    )
    print(f"  spacing of good polls without interruption (s: count) {dict(sorted(gaps.items()))}")
    print(f"  notifications {len(alerts)} fired, {shown} shown: {dict(Counter(_kind(t) for _, t in alerts))}")
    print(f"  history rows {rows}; icon renders {soak.tray.renderer.renders} for {soak.ticks} views")
    print(f"  ticks grey while the last poll was good: {checker.grey_while_ok}")
    for day, sample in enumerate(soak.resources, start=1):
        print(f"  end of day {day}: {sample}")


def _log_to_file_only() -> None:
    # pytest attaches its capture handlers to non-propagating loggers too, at the start of each phase.
    # Captured records keep their arguments alive (exceptions, with every frame and socket they hold),
    # which would look like a leak of memory and descriptors. The tray logs to a file; so does the soak.
    logger = logging.getLogger("tray_app")
    for handler in list(logger.handlers):
        if type(handler).__module__.startswith("_pytest"):
            logger.removeHandler(handler)


@pytest.mark.slow  # about 40 s of CPU: a week of polls, each a real request and real database work
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts descriptors and RSS in /proc/self")
def test_a_simulated_week(soak: Soak) -> None:
    _log_to_file_only()
    started = time.perf_counter()
    soak.run()
    rows, gaps = check_history(soak)
    alerts = check_notifications(soak)
    print_summary(soak, rows, gaps, alerts)
    print(f"  {time.perf_counter() - started:.1f} s of wall time")
    assert len(soak.tray.store.console_rows(START - timedelta(days=1))) == soak.checker.console_figures
    # A week that never met one of these would prove little about the rules.
    assert {_kind(title) for _, title in alerts} == {"threshold", "pace", "reset", "cannot update", "budget"}
    assert not soak.side.violations, soak.side.violations[:5]
    assert soak.side.wrong_agents == 0
    # Healthy but idle polling (every 15 min) must not grey the icon: grey means old figures.
    assert soak.checker.grey_while_ok == 0
    assert len(soak.resources) == DAYS
    check_resources(soak.resources[0], soak.resources[-1])
    log = (soak.folder / "tray.log").read_text()
    assert "ERROR" not in log, [line for line in log.splitlines() if "ERROR" in line][:5]


# -- what the soak found, each pinned down by a short test of its own -----------------------------


@contextlib.contextmanager
def _program(home: Path, server: DemoServer, claude_dir: Path, clock: FakeClock) -> Iterator[App]:
    """The program `run` wires against the demo server: Code mode, on the fake clock."""
    env = app_environment(home, server, claude_dir)
    with open_app(settings_for("run", env), env, clock) as app:
        yield app


def test_the_retry_after_a_429_waits_out_the_whole_retry_after(tmp_path: Path, claude_dir: Path) -> None:
    """The shared back-off is stored in whole seconds, rounded down; the poller used to wake up on that
    rounded second, up to a second inside the window the server asked for (a strict server answers 429
    again, and the pause after it doubles)."""
    # Mid-second, as real requests are; near the real time, for the login's expiry.
    clock = FakeClock(datetime.fromtimestamp(math.floor(time.time()) + 0.75, UTC))
    # Longer than the regular interval (180 s), which the poller waits at least in any case.
    limited = _json(429, {"type": "error", "error": {"type": "rate_limit_error"}}, (("retry-after", "300"),))
    with DemoServer("full", clock=clock.epoch) as server:
        server.queue(USAGE_PATH, limited)
        with _program(tmp_path / "home", server, claude_dir, clock) as app:
            poller = build_poller(app, clock, lambda result: None)
            while len(server.requests(USAGE_PATH)) < 2 and clock.wall() < server.started_at + 600:
                clock.advance(max(poller.tick(), 0.001))
    first, second = server.requests(USAGE_PATH)[:2]
    assert first.at + 300 <= second.at < first.at + 302


class _BrokenView(TrayView):
    """The tray's view, failing to present while `broken` (as drawing once failed on this thread)."""

    broken = True

    def present(self, reports: Reports) -> ViewModel:
        if self.broken:
            raise ValueError("x1 must be greater than or equal to x0")
        return super().present(reports)


def test_polling_goes_on_when_the_icon_cannot_be_drawn(
    tmp_path: Path, claude_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Drawing the icon raised (a gauge under about 1 % at 22 px: ValueError from Pillow) on the polling
    thread, and the exception ended the thread: no more polls, history or alerts until a restart. The icon
    is drawn on the UI thread now (the tray guards that); what the polling thread still does for the
    screen is present the view, and a view that cannot be presented must not end the polling either."""
    shown: list[TickResult] = []
    clock = FakeClock(datetime.now(UTC))
    with (
        caplog.at_level(logging.INFO, logger="tray_app"),
        DemoServer("full", clock=clock.epoch) as server,
        _program(tmp_path / "home", server, claude_dir, clock) as app,
    ):
        switch = NotificationSwitch(app.store, clock.now)
        wired = tray_view(app, switch, None, clock)
        view = _BrokenView(wired.options, lambda: (), clock)
        poller = build_poller(app, clock, shown.append, view, switch)
        for _ in range(24):  # a tick every 30 s (the countdowns' repaint), a poll every 180 s: four polls
            clock.advance(max(poller.tick(), 0.001))
        # The usage polls: the hourly free-resets request to the same path is not one.
        polls = [r for r in server.requests(USAGE_PATH) if not asks_for_grants(r.query)]
        polled, stored = len(polls), app.store.snapshot_count()
        view.broken = False
        poller.tick()
    assert polled == 4 and stored == 4 * 3  # every 180 s, as if nothing were wrong: three windows a poll
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "the tray could not show the figures"
    ]
    assert shown and shown[-1].view.icon.percent == 10


def test_a_weekly_pace_alert_says_on_which_days() -> None:
    """A week's limit and reset are days apart: "at 04:12, before the 19:00 reset" read as the limit coming
    after the reset."""
    now = datetime(2026, 8, 27, 13, 29, tzinfo=UTC)  # a Thursday
    window = UsageWindow("seven_day", "Weekly", 70.0, datetime(2026, 8, 29, 19, 0, tzinfo=UTC))
    item = WindowReport(window, Forecast(3.0, 150.0, datetime(2026, 8, 28, 4, 12, tzinfo=UTC)))
    _, alerts = step(RulesState(), CodeReport(Status.OK, None, None, now, (item,), None), now, UTC, RULES)
    pace = [alert.body for alert in alerts if alert.kind is AlertKind.PACE]
    assert pace == ["On pace to hit the limit at Fri 04:12, before the Sat 19:00 reset."]
