"""The poller with Claude Code's status-line feed (issue 14, item 3): the usage endpoint asked less while
Claude Code tells us the figures, back at its own pace when the session goes quiet, and new readings shown
at once without a request. Real demo server and SQLite on a fake clock; the readings are written by
record_fed on a connection of its own, as the statusline process writes them.

The 180 s default, the 60 s floor and the pauses after a 429 are in test_polite_polling.py.

Driven through Poller.run(), the polling thread's own body, on the calling thread: the fake clock's
wait() moves time on instead of blocking, and runs what the test scheduled for that moment (a render of
Claude Code's status line, the end of the run) as if another process did it meanwhile. So the sleep
between polls (asking the database every second) is exercised as it runs in the tray, without a private
call, a real thread or a real-time wait, and every run is the same.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tray_app.core.models import FIVE_HOUR, UsageWindow
from tray_app.core.readings import parse_rate_limits
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import ViewModel
from tray_app.demo import DemoServer
from tray_app.demo.claude_code_session import status_line_document
from tray_app.monitors.code import CodeMonitor
from tray_app.monitors.feed import ClaudeCodeFeed
from tray_app.poller import Poller, PollTiming, Sources
from tray_app.sources.code_api import CodeApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import Store
from tray_app.store.readings import Recorded, record_fed

from ..fakes import FakeClock

USAGE = "/api/oauth/usage"
HOUR = 3600.0
MINUTE = 60.0
START = datetime.fromtimestamp(1_785_000_000, UTC)  # whole seconds: stored times keep whole seconds


class ScriptedClock(FakeClock):
    """A FakeClock on which things happen at set moments: each wait() ends with what fell due in it."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def at(self, offset: float, action: Callable[[], None]) -> None:
        """Run action once the monotonic clock reads `offset` seconds past now."""
        heapq.heappush(self._due, (self.monotonic() + offset, next(self._order), action))

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if event.is_set():
            return True
        self.advance(timeout)
        while self._due and self._due[0][0] <= self.monotonic():
            heapq.heappop(self._due)[2]()
        return event.is_set()


@dataclass(frozen=True)
class Shown:
    at: float  # seconds since the rig started
    asked: int  # usage requests the server had received by then
    view: ViewModel


@dataclass
class Rig:
    server: DemoServer
    poller: Poller
    clock: ScriptedClock
    database: Path
    shown: list[Shown] = field(default_factory=list)
    rendered: list[float] = field(default_factory=list)  # when Claude Code's readings were stored

    def __post_init__(self) -> None:
        self.start = self.clock.monotonic()

    def elapsed(self) -> float:
        return self.clock.monotonic() - self.start

    def requests(self) -> list[float]:
        """When the usage endpoint was asked, in seconds since the start."""
        return [r.at - START.timestamp() for r in self.server.requests(USAGE)]

    def record(self, windows: tuple[UsageWindow, ...]) -> None:
        """What the statusline process does on a render of Claude Code's line."""
        result = record_fed(self.database, windows, self.clock.now())
        assert result in (Recorded.STORED, Recorded.UNCHANGED)
        if result is Recorded.STORED:
            self.rendered.append(self.elapsed())

    def render(self) -> None:
        """A render of a busy Claude Code session: the figures of its own API calls, the server's resets."""
        document = status_line_document(self.server.rising_body(), "session-1")
        self.record(parse_rate_limits(document, self.clock.now()))

    def session(self, start: float, stop: float, every: float = MINUTE) -> None:
        """Renders from `start` to `stop` (seconds from now), every `every` seconds."""
        moment = start
        while moment <= stop:
            self.clock.at(moment, self.render)
            moment += every

    def run(self, seconds: float) -> None:
        """The polling thread's body for `seconds` of fake time."""
        self.clock.at(seconds, self.poller.stop)
        self.poller.run()


@pytest.fixture
def rig(tmp_path: Path, claude_dir: Path) -> Iterator[Rig]:
    clock = ScriptedClock(START)
    database = tmp_path / "h.db"
    http = HttpClient(5)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(DemoServer("rising", clock=clock.epoch))
        store = stack.enter_context(Store.open(database))
        api = CodeApi(http, server.base_url, "2.1.0")
        monitor = CodeMonitor(store, ClaudeCredentialStore(claude_dir), api, None, clock.now)
        shown: list[Shown] = []
        start = clock.monotonic()
        poller = Poller(
            Sources(monitor),
            lambda reports: present(reports, clock.now(), UTC, ViewOptions()),
            lambda result: shown.append(
                Shown(clock.monotonic() - start, len(server.requests(USAGE)), result.view)
            ),
            PollTiming(),
            clock=clock,
            feed=ClaudeCodeFeed(store, clock.now),
        )
        yield Rig(server, poller, clock, database, shown)
    http.close()


def icon_percents(rig: Rig) -> list[int | None]:
    return [shown.view.icon.percent for shown in rig.shown]


def gaps(moments: list[float]) -> list[int]:
    return [round(b - a) for a, b in itertools.pairwise(moments)]


def test_while_claude_code_reports_the_endpoint_is_asked_every_10_minutes(rig: Rig) -> None:
    rig.render()  # a session already running when the tray starts
    rig.session(MINUTE, HOUR)
    rig.run(HOUR)
    asked = rig.requests()
    assert len(asked) <= 6 + 1  # versus 20 an hour at 180 s
    assert all(gap >= 600 for gap in gaps(asked))
    # Meanwhile the icon followed Claude Code's figures: it moved far more often than we asked.
    assert len(rig.rendered) > 30
    assert len(set(icon_percents(rig))) > 2 * len(asked)


def test_without_readings_the_endpoint_is_asked_every_180_s_while_figures_move(rig: Rig) -> None:
    rig.run(HOUR)
    asked = rig.requests()
    assert len(asked) == 20 and set(gaps(asked)) == {180}


def test_when_claude_code_goes_quiet_the_poll_comes_back_within_180_s(rig: Rig) -> None:
    rig.render()
    # Readings every minute; the last one just before the third poll (at 20 min), none after.
    rig.session(MINUTE, 19 * MINUTE)
    rig.run(40 * MINUTE)
    asked = rig.requests()
    assert gaps(asked)[:2] == [600, 600]  # paced by the feed while it flowed
    last_reading = rig.rendered[-1]
    assert 0 < asked[2] - last_reading <= MINUTE
    # The next poll: 180 s after the last one, as without a feed, not the 600 s the feed had set.
    assert round(asked[3] - asked[2]) == 180
    assert set(gaps(asked)[3:]) == {180}  # and on at the regular pace


def test_when_claude_code_goes_quiet_mid_interval_the_poll_waits_only_for_staleness(rig: Rig) -> None:
    rig.render()
    rig.session(MINUTE, 25 * MINUTE)  # the last reading 5 min after the poll at 20 min
    rig.run(40 * MINUTE)
    asked, last_reading = rig.requests(), rig.rendered[-1]
    after = next(moment for moment in asked if moment > last_reading)
    # Readings count as fresh for 180 s; then the overdue regular poll goes at once (within the second
    # the sleep takes to notice), not at the 30 min the feed's pace had set.
    assert last_reading + 180 < after <= last_reading + 180 + 2
    assert after - max(moment for moment in asked if moment < after) < 600


def test_a_new_reading_is_shown_within_a_second_without_a_request(rig: Rig) -> None:
    session_reset: list[datetime | None] = []

    def claude_code_says(percent: float) -> Callable[[], None]:
        def render() -> None:
            report = rig.poller.report
            assert report is not None
            (five,) = (item.window for item in report.windows if item.window.id == FIVE_HOUR)
            session_reset.append(five.resets_at)
            rig.record((UsageWindow(FIVE_HOUR, "5-hour", percent, five.resets_at),))

        return render

    rig.clock.at(100.5, claude_code_says(90))
    rig.clock.at(130.5, claude_code_says(5))  # lower, same period: another session's older figure
    rig.run(170)
    before = [shown for shown in rig.shown if shown.at < 100.5]
    assert before and all(shown.view.icon.percent != 90 for shown in before)
    first = next(shown for shown in rig.shown if shown.view.icon.percent == 90)
    # Stored at 100.5 s (seen by the clock at the end of that second's wait): shown at once, within the
    # second the sleep takes to look.
    assert rig.rendered == [101.0] and first.at == 101.0
    assert first.asked == 1  # only the first poll's request: the figure came from the database
    assert len(rig.requests()) == 1
    # The lower figure for the same period stays out of the icon, and out of the database.
    assert len(session_reset) == 2 and rig.rendered == [101.0]
    assert icon_percents(rig)[-1] == 90


def test_a_tick_shows_readings_stored_since_the_last_one(rig: Rig) -> None:
    # The same through tick() alone (the thread woken by the menu, say): news is taken there too.
    rig.poller.tick()
    report = rig.poller.report
    assert report is not None
    (five,) = (item.window for item in report.windows if item.window.id == FIVE_HOUR)
    rig.clock.advance(20)
    rig.record((UsageWindow(FIVE_HOUR, "5-hour", 77, five.resets_at),))
    rig.poller.tick()
    assert icon_percents(rig)[-1] == 77 and len(rig.requests()) == 1
