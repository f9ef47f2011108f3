"""The polling thread's tick() with a fake clock: real demo servers, real SQLite, real credentials."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tray_app.core.models import CodeReport, Status
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import Badge, ViewModel
from tray_app.demo import DemoServer
from tray_app.monitors.code import CodeMonitor
from tray_app.poller import Poller, PollTiming, Sources
from tray_app.sources.code_api import CodeApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import Store

from ..fakes import FakeClock

USAGE = "/api/oauth/usage"


class Harness:
    def __init__(
        self, server: DemoServer, poller: Poller, clock: FakeClock, published: list[ViewModel]
    ) -> None:
        self.server, self.poller, self.clock, self.published = server, poller, clock, published

    def requests(self) -> int:
        return len(self.server.requests(USAGE))

    def run_until(self, seconds: float) -> list[float]:
        """Tick like the thread would (sleeping exactly the returned delays) for `seconds` of fake time."""
        delays = []
        end = self.clock.monotonic() + seconds
        while self.clock.monotonic() < end:
            delay = self.poller.tick()
            delays.append(delay)
            self.clock.advance(max(delay, 0.001))
        return delays


@pytest.fixture
def harness(tmp_path: Path, claude_dir: Path) -> Iterator[Harness]:
    clock = FakeClock(datetime.now(UTC))
    published: list[ViewModel] = []
    http = HttpClient(5)
    with DemoServer("full", clock=clock.epoch) as server, Store.open(tmp_path / "h.db") as store:
        monitor = CodeMonitor(
            store, ClaudeCredentialStore(claude_dir), CodeApi(http, server.base_url, "2.1.0"), None, clock.now
        )
        poller = Poller(
            Sources(monitor),
            lambda reports: present(reports, clock.now(), UTC, ViewOptions()),
            lambda result: published.append(result.view),
            PollTiming(),
            clock=clock,
        )
        yield Harness(server, poller, clock, published)
    http.close()


def status_of(harness: Harness) -> Status | None:
    report = harness.poller.report
    return None if report is None else report.status


def test_first_tick_polls_and_publishes(harness: Harness) -> None:
    delay = harness.poller.tick()
    assert harness.requests() == 1
    assert harness.published[-1].icon.percent == 10
    assert delay == pytest.approx(30.0)  # a repaint of the countdowns; the next poll is 180 s away
    harness.clock.advance(delay)
    harness.run_until(179 - delay)
    assert harness.requests() == 1
    harness.run_until(2)
    assert harness.requests() == 2


def test_startup_shows_stored_figures_as_stale_before_polling(harness: Harness) -> None:
    harness.poller.tick()
    harness.clock.advance(60)
    harness.poller.show_stored()
    assert harness.requests() == 1
    assert harness.published[-1].icon.badge is Badge.STALE and harness.published[-1].icon.percent == 10


def test_countdown_repaints_between_polls_without_requests(harness: Harness) -> None:
    harness.server.set_scenario("rising")
    harness.poller.tick()
    harness.clock.advance(20)
    harness.poller.tick()
    assert harness.requests() == 1
    assert len(harness.published) == 2
    menu_before = [r.text for r in harness.published[0].menu]
    menu_after = [r.text for r in harness.published[1].menu]
    assert menu_before != menu_after  # "Updated 20 s ago", the reset countdown moved


def test_refresh_now_polls_at_once(harness: Harness) -> None:
    harness.poller.tick()
    harness.clock.advance(2)
    harness.poller.refresh_now()
    harness.poller.tick()
    assert harness.requests() == 2


def test_refresh_now_never_inside_a_back_off(harness: Harness) -> None:
    harness.server.set_scenario("rate_limited")
    harness.poller.tick()
    assert harness.poller.report is not None and harness.poller.report.status is Status.RATE_LIMITED
    for _ in range(3):
        harness.clock.advance(5)
        harness.poller.refresh_now()
        harness.poller.tick()
    assert harness.requests() == 1


def test_next_poll_waits_for_the_back_off(harness: Harness) -> None:
    harness.server.set_scenario("rate_limited")
    harness.poller.tick()
    harness.server.set_scenario("full")
    harness.run_until(299)
    assert harness.requests() == 1
    harness.run_until(3)
    assert harness.requests() == 2
    assert harness.poller.report is not None and harness.poller.report.status is Status.OK


def test_slows_down_while_nothing_changes(harness: Harness) -> None:
    harness.run_until(3 * 3600)
    polls = [r.at for r in harness.server.requests(USAGE)]
    gaps = [round(b - a) for a, b in zip(polls, polls[1:], strict=False)]
    assert gaps[:4] == [180, 180, 180, 180]
    assert 360 in gaps and 720 in gaps and max(gaps) == 900
    assert gaps[-4:] == [900, 900, 900, 900]  # standing still: four requests an hour
    assert harness.requests() < 30  # versus 60 at a fixed 180 s


def test_speeds_up_again_when_usage_moves(harness: Harness) -> None:
    harness.run_until(2 * 3600)
    harness.server.set_scenario("rising")
    harness.poller.refresh_now()
    harness.run_until(600)
    polls = [r.at for r in harness.server.requests(USAGE)]
    assert round(polls[-1] - polls[-2]) == 180


def test_polls_at_once_after_a_suspend(harness: Harness) -> None:
    harness.poller.tick()
    harness.clock.suspend(2 * 3600)  # the laptop slept: wall time moved, monotonic did not
    harness.clock.advance(1)
    harness.poller.tick()
    assert harness.requests() == 2


def test_failures_back_off_exponentially_and_recover(harness: Harness) -> None:
    harness.poller.tick()
    harness.server.set_scenario("server_error")
    harness.run_until(4000)
    polls = [r.at for r in harness.server.requests(USAGE)]
    gaps = [round(b - a) for a, b in zip(polls, polls[1:], strict=False)]
    assert gaps[:6] == [180, 180, 360, 720, 900, 900]
    assert harness.published[-1].icon.badge is Badge.STALE and harness.published[-1].icon.percent == 10
    harness.server.set_scenario("full")
    harness.run_until(901)
    assert harness.poller.report is not None and harness.poller.report.status is Status.OK


def test_offline_keeps_the_last_figure_and_says_so(harness: Harness) -> None:
    harness.poller.tick()
    harness.server.stop()
    harness.clock.advance(181)
    harness.poller.tick()
    assert harness.poller.report is not None and harness.poller.report.status is Status.OFFLINE
    assert harness.published[-1].icon.badge is Badge.OFFLINE
    assert harness.published[-1].icon.percent == 10


def test_an_unexpected_error_changes_state_and_the_thread_goes_on(harness: Harness) -> None:
    harness.poller.tick()
    broken = harness.poller._sources.code  # noqa: SLF001
    assert broken is not None
    original = broken.poll

    def explode(force: bool = False) -> CodeReport:
        raise RuntimeError("bug")

    broken.poll = explode  # type: ignore[method-assign]
    harness.clock.advance(181)
    harness.poller.tick()
    assert status_of(harness) is Status.ERROR
    assert harness.published[-1].icon.percent == 10
    broken.poll = original  # type: ignore[method-assign]
    harness.clock.advance(181)
    harness.poller.tick()
    assert status_of(harness) is Status.OK


def test_thread_starts_polls_and_stops_quickly(tmp_path: Path, claude_dir: Path) -> None:
    published: list[ViewModel] = []
    http = HttpClient(5)
    with DemoServer("full") as server, Store.open(tmp_path / "t.db") as store:
        monitor = CodeMonitor(
            store, ClaudeCredentialStore(claude_dir), CodeApi(http, server.base_url, "2.1.0")
        )
        poller = Poller(
            Sources(monitor),
            lambda reports: present(reports, datetime.now(UTC), UTC, ViewOptions()),
            lambda result: published.append(result.view),
            PollTiming(),
        )
        poller.start()
        deadline = time.monotonic() + 10
        while not published and time.monotonic() < deadline:
            time.sleep(0.01)
        poller.refresh_now()
        while len(server.requests(USAGE)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        poller.stop()
        stopped_in = time.monotonic() - started
    http.close()
    assert published and published[0].icon.percent == 10
    assert len(server.requests(USAGE)) == 2
    assert stopped_in < 5  # a bound for a hung thread, not a speed figure
