"""Polite polling of the usage endpoint (issue 14, item 3) on a fake clock, against the demo server: the
default pace, the settings floor, the pause after a 429 with and without Retry-After, and "Refresh now"
inside and outside a pause."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tray_app.config import load_settings
from tray_app.core.errors import ConfigError
from tray_app.core.models import Status
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import ViewModel
from tray_app.demo import DemoResponse, DemoServer
from tray_app.demo.common import json_response
from tray_app.monitors.code import CodeMonitor
from tray_app.poller import Poller, PollTiming, Sources
from tray_app.sources.code_api import CodeApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import BackoffScope, Store

from ..conftest import CliEnv
from ..fakes import FakeClock

USAGE = "/api/oauth/usage"
HOUR = 3600.0
# Not UTC, so that a time shown in UTC instead of the user's own would be caught. A fraction of a second
# past the whole one, as a real clock reads: the pauses are rounded up to whole seconds.
LOCAL = timezone(timedelta(hours=-5))
START = datetime(2026, 12, 3, 9, 0, 0, 250_000, tzinfo=UTC)


@dataclass
class Rig:
    server: DemoServer
    store: Store
    monitor: CodeMonitor
    poller: Poller
    clock: FakeClock
    published: list[ViewModel]

    def run_until(self, seconds: float) -> None:
        """Tick as the thread does (sleeping exactly the returned delays) for `seconds` of fake time."""
        end = self.clock.monotonic() + seconds
        while self.clock.monotonic() < end:
            self.clock.advance(max(self.poller.tick(), 0.001))

    def requests(self) -> int:
        return len(self.server.requests(USAGE))

    def gaps(self) -> list[float]:
        at = [r.at for r in self.server.requests(USAGE)]
        return [b - a for a, b in zip(at, at[1:], strict=False)]

    def status_row(self) -> str:
        # The menu's first row (nothing is blocked here): how fresh the figures are, or what is wrong.
        return self.published[-1].menu[0].text


Build = Callable[..., Rig]


@pytest.fixture
def build(tmp_path: Path, claude_dir: Path) -> Iterator[Build]:
    """Rigs of the real poller and CodeMonitor, one fake clock shared with the demo server."""
    http = HttpClient(5)
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(Store.open(tmp_path / "h.db"))

        def make(scenario: str, timing: PollTiming | None = None) -> Rig:
            clock = FakeClock(START, LOCAL)
            server = stack.enter_context(DemoServer(scenario, clock=clock.epoch))
            api = CodeApi(http, server.base_url, "2.1.0")
            credentials = ClaudeCredentialStore(claude_dir)
            monitor = CodeMonitor(store, credentials, api, None, clock.now, local_tz=clock.local_tz)
            published: list[ViewModel] = []
            poller = Poller(
                Sources(monitor),
                lambda reports: present(reports, clock.now(), clock.local_tz(), ViewOptions()),
                lambda result: published.append(result.view),
                timing or PollTiming(),
                clock=clock,
            )
            return Rig(server, store, monitor, poller, clock, published)

        yield make
    http.close()


def limited(retry_after: int | None = None) -> DemoResponse:
    headers = () if retry_after is None else (("retry-after", str(retry_after)),)
    return json_response(429, {"error": {"type": "rate_limit_error", "message": "slow down"}}, headers)


def close_to(gaps: list[float], expected: list[float]) -> bool:
    # The pause ends on a whole second and the poller wakes a second after it (never early): up to 2 s on.
    return len(gaps) >= len(expected) and all(e <= g <= e + 2 for g, e in zip(gaps, expected, strict=False))


# -- the pace ----------------------------------------------------------------------------------------


def test_the_defaults_are_180_s_while_figures_move_and_15_min_while_idle(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "absent.toml", home=tmp_path)
    assert settings.code_poll_seconds == 180
    timing = PollTiming(interval=settings.code_poll_seconds)
    assert (timing.interval, timing.idle_interval) == (180.0, 900.0)
    # Grey only after the idle pace plus two regular polls: 15 + 2 * 3 minutes.
    assert timing.stale_after == timedelta(minutes=21)


def test_an_active_hour_asks_twenty_times(build: Build) -> None:
    rig = build("rising")  # the 5-hour window rises on every poll
    rig.run_until(HOUR)
    assert rig.requests() == 20
    assert {round(gap) for gap in rig.gaps()} == {180}


def test_an_idle_hour_asks_four_times_once_slowed(build: Build) -> None:
    rig = build("full")  # the same figures on every poll
    rig.run_until(3 * HOUR)
    gaps = [round(gap) for gap in rig.gaps()]
    assert gaps[:4] == [180] * 4 and gaps[4:8] == [360] * 4 and 720 in gaps
    assert max(gaps) == 900
    before = rig.requests()
    rig.run_until(HOUR)
    assert rig.requests() - before == 4


# -- the settings floor ------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [1, 15, 30, 59])
def test_a_poll_interval_under_60_s_is_refused_naming_the_floor(tmp_path: Path, seconds: int) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"code_poll_seconds = {seconds}\n")
    with pytest.raises(ConfigError) as refused:
        load_settings({}, config, home=tmp_path)
    message = str(refused.value)
    assert message == f"{config}: code_poll_seconds must be a whole number from 60 to 3600 (got {seconds})"
    assert "\n" not in message


def test_the_floor_itself_is_accepted_and_followed(tmp_path: Path, build: Build) -> None:
    config = tmp_path / "config.toml"
    config.write_text("code_poll_seconds = 60\n")
    settings = load_settings({}, config, home=tmp_path)
    rig = build("rising", PollTiming(interval=settings.code_poll_seconds))
    rig.run_until(HOUR)
    assert rig.requests() == 60
    assert {round(gap) for gap in rig.gaps()} == {60}


# -- 429s ------------------------------------------------------------------------------------------


def test_a_429_without_retry_after_doubles_the_pause_from_180_s_up_to_an_hour(build: Build) -> None:
    rig = build("rate_limited_none")
    rig.run_until(16_000)
    assert close_to(rig.gaps(), [180, 360, 720, 1440, 2880, 3600, 3600])
    # Every process honours it: the pause is in the database, and a second monitor does not ask.
    backoff = rig.store.backoffs.get(BackoffScope.CODE)
    assert backoff is not None and backoff.strikes == rig.requests()
    asked = rig.requests()
    assert rig.monitor.poll(force=True).status is Status.RATE_LIMITED
    assert rig.requests() == asked


def test_retry_after_is_honoured_up_to_two_hours(build: Build) -> None:
    rig = build("full")
    rig.server.queue(USAGE, limited(3600), limited(5000), limited(10_000), limited(20))
    rig.run_until(6 * HOUR)
    # The server's word each time (an hour, 5,000 s), cut to two hours. A short one after three refusals
    # in a row meets the floor that keeps a Retry-After of 0 or 20 from hammering the server: a minute,
    # doubled for each refusal before it (480 s). Then the figures come, at the regular pace.
    assert close_to(rig.gaps(), [3600, 5000, 7200, 480, 180])
    assert rig.poller.report is not None and rig.poller.report.status is Status.OK


def test_the_pause_ends_on_time_and_polling_goes_on_at_the_regular_pace(build: Build) -> None:
    rig = build("rising")
    rig.server.queue(USAGE, limited())
    rig.run_until(HOUR)
    gaps = [round(gap) for gap in rig.gaps()]
    assert 180 <= gaps[0] <= 182 and set(gaps[1:]) == {180}
    assert rig.store.backoffs.get(BackoffScope.CODE) is None  # cleared by the answer


# -- Refresh now ---------------------------------------------------------------------------------------


def test_refresh_now_asks_at_once_outside_a_pause(build: Build) -> None:
    rig = build("full")
    rig.poller.tick()
    rig.clock.advance(5)
    rig.poller.refresh_now()
    rig.poller.tick()
    assert rig.requests() == 2


def test_refresh_now_inside_a_pause_says_until_when_in_local_time(build: Build) -> None:
    rig = build("full")
    rig.poller.tick()  # figures to show
    rig.server.queue(USAGE, limited(1200))
    rig.run_until(181)
    assert rig.requests() == 2
    report, backoff = rig.poller.report, rig.store.backoffs.get(BackoffScope.CODE)
    assert report is not None and report.status is Status.RATE_LIMITED and backoff is not None
    local_end = backoff.until.astimezone(LOCAL)
    rig.clock.advance(240)
    rig.poller.refresh_now()
    rig.poller.tick()
    assert rig.requests() == 2  # not inside the server's pause
    assert rig.status_row().endswith(
        f"is rate limiting us (HTTP 429): slow down; next try at {local_end:%H:%M:%S} UTC-05:00"
        " (showing figures from 7 min ago)"
    )
    assert f"{backoff.until:%H:%M:%S}" not in rig.status_row()  # not the UTC time
    # Once the pause is over, "Refresh now" asks again at once.
    rig.clock.advance((backoff.until - rig.clock.now()).total_seconds() + 1)
    rig.poller.refresh_now()
    rig.poller.tick()
    assert rig.requests() == 3 and rig.status_row() == "Updated just now"


@pytest.mark.skipif(sys.platform == "win32", reason="the TZ variable sets the local time zone on POSIX only")
def test_status_in_a_terminal_says_until_when_in_local_time(cli: CliEnv, server: DemoServer) -> None:
    # The real program, as a subprocess: the wiring hands the monitor the system's time zone (here New
    # York's, through TZ), and a second process inside the pause asks nothing.
    server.set_scenario("rate_limited")  # Retry-After: 300
    first = cli.run("status", "--json", TZ="America/New_York")
    assert first.code == 4 and first.json()["code"]["status"] == "rate_limited"
    sent = len(server.requests(USAGE))
    second = cli.run("status", TZ="America/New_York")
    assert len(server.requests(USAGE)) == sent
    until = datetime.fromtimestamp(server.requests(USAGE)[-1].at, UTC) + timedelta(seconds=300)
    local = until.astimezone(ZoneInfo("America/New_York"))
    shown = re.search(rf"next try at (\d\d:\d\d:\d\d) {local:%Z}\b", second.stdout)
    assert shown is not None, second.stdout
    hours, minutes, seconds = (int(part) for part in shown[1].split(":"))
    late = (hours * 3600 + minutes * 60 + seconds) - (local.hour * 3600 + local.minute * 60 + local.second)
    assert 0 <= late % 86400 <= 3  # the end of the server's pause, rounded up to a whole second
