"""The polling thread: when to ask each source, what a tick publishes, and menu actions' way in."""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from tray_app.clock import SYSTEM_CLOCK, Clock
from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport, Source, Status
from tray_app.core.reports import Reports, TickResult
from tray_app.core.rules import FAILING, Alert
from tray_app.core.viewmodel import ViewModel
from tray_app.core.web_report import WebReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollTiming:
    """How often the poller asks; defaults follow the settings (180 s), never faster.

    The usage endpoint throttles per token, with Retry-After seen as long as an hour, and 180 s is the
    interval reported as safe (api-2026.md section 5): hence 180 s while the figures move and 15 minutes
    while they stand still.
    """

    interval: float = 180.0
    idle_interval: float = 900.0  # slowest pace while nothing changes
    unchanged_before_slowing: int = 4  # polls with identical figures before each doubling
    repaint: float = 30.0  # countdowns in the menu are redrawn at least this often
    suspend_jump: float = 60.0  # wall clock ahead of the monotonic clock by this much: we slept
    console_interval: float = 120.0  # Console mode: the cost report, which is polite at once a minute
    web_interval: float = 300.0  # claude.ai sits behind Cloudflare: ask rarely
    # While Claude Code's own readings of the 5-hour and weekly windows are fresher than one interval,
    # the endpoint is asked only for what they lack (model-scoped windows, extra usage), this often.
    fed_interval: float = 600.0
    follow: float = 1.0  # how often the database is checked for new readings between polls

    @property
    def stale_after(self) -> timedelta:
        """Older figures are shown grey: the slowest healthy pace (idle) plus two regular polls of slack.

        Anything shorter would grey a perfectly healthy tray while usage stands still.
        """
        return timedelta(seconds=max(self.interval, self.idle_interval) + 2 * self.interval)


def _figures(report: CodeReport) -> tuple[tuple[str, float], ...]:
    return tuple((item.window.id, item.window.utilization) for item in report.windows)


class UsageSource(Protocol):
    """What the poller needs of Code mode: CodeMonitor, or claude.ai standing in for it."""

    def poll(self, force: bool = False) -> CodeReport: ...

    def stored_report(self, stale_after: timedelta) -> CodeReport: ...

    def backoff_until(self) -> datetime | None: ...

    def restated(self, previous: CodeReport) -> CodeReport:
        """previous again with the readings stored since (Claude Code's feed), without a request."""
        ...


class Feed(Protocol):
    """Claude Code's readings, written by the statusline process (tray_app.monitors.feed)."""

    def changed(self) -> bool:
        """Whether the database changed since last asked (cheap: asked every `follow` seconds)."""
        ...

    def fresh(self, within: timedelta) -> bool:
        """Whether the 5-hour and weekly readings were both heard within the last `within`."""
        ...


class ConsoleSource(Protocol):
    """What the poller needs of Console mode (tray_app.monitors.console.ConsoleMonitor)."""

    def refresh(self) -> ConsoleReport: ...

    def stored_report(self) -> ConsoleReport: ...


class WebSource(Protocol):
    """What the poller needs of the claude.ai session (tray_app.monitors.web)."""

    def refresh(self) -> WebReport | None: ...

    def stored_report(self) -> WebReport | None: ...


class AlertRules(Protocol):
    """The alert rules, stepped once per fresh answer (never on repaints); they return what to deliver."""

    def process(self, report: CodeReport) -> Sequence[Alert]: ...

    def process_console(self, report: ConsoleReport) -> Sequence[Alert]: ...


@dataclass(frozen=True)
class Sources:
    """The monitors the poller drives; None where a source is not set up."""

    code: UsageSource | None = None
    console: ConsoleSource | None = None
    web: WebSource | None = None

    def stored(self, stale_after: timedelta = timedelta(0)) -> Reports:
        """The last stored figures of each source, without any network (shown until the first poll)."""
        return Reports(
            None if self.code is None else self.code.stored_report(stale_after),
            None if self.console is None else self.console.stored_report(),
            None if self.web is None else self.web.stored_report(),
        )

    def ask_all(self) -> Reports:
        """Every source asked once, now (`status`, and `watch` when no tray polls)."""
        return Reports(
            None if self.code is None else self.code.poll(),
            None if self.console is None else self.console.refresh(),
            None if self.web is None else self.web.refresh(),
        )


class Poller:
    """The polling thread: poll when due, present every tick, publish view and alerts in one piece.

    It is also where menu actions that need the database or the network run (submit()), so the UI thread
    never waits on a slow disk or server.
    """

    def __init__(
        self,
        sources: Sources,
        present: Callable[[Reports], ViewModel],
        publish: Callable[[TickResult], None],
        timing: PollTiming,
        *,
        alerts: AlertRules | None = None,
        clock: Clock = SYSTEM_CLOCK,
        feed: Feed | None = None,
    ) -> None:
        self._sources = sources
        self._feed = feed
        self._feed_news = False  # the sleep saw new readings; the next tick shows them
        self._paced_by_feed = False  # the next poll waits fed_interval because the feed is fresh
        self._unpaced_poll = 0.0  # when it would be due without the feed
        self._present = present
        self._publish = publish
        self._alerts = alerts
        self._timing = timing
        self._clock = clock
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._force = False
        self._commands: deque[Callable[[], None]] = deque()
        self._reports = Reports()
        start = clock.monotonic()
        self._next_poll = self._next_console = self._next_web = start  # the first tick asks everyone
        self._unchanged = 0
        self._failures = 0
        self._clocks = (start, clock.wall())
        self._show_failing = False
        self._last_view: ViewModel | None = None
        self._thread: threading.Thread | None = None

    @property
    def reports(self) -> Reports:
        return self._reports

    @property
    def report(self) -> CodeReport | None:
        return self._reports.code

    @property
    def console_report(self) -> ConsoleReport | None:
        return self._reports.console

    def show_stored(self) -> None:
        """Publish the last stored figures (marked stale) before the first poll answers."""
        self._reports = self._sources.stored()
        self._show(())

    def refresh_now(self) -> None:
        """Poll at once (a shared back-off still holds: the monitor answers from the database)."""
        with self._lock:
            self._force = True
        self._wake.set()

    def repaint(self) -> None:
        """Present again without polling (a setting that changes the view was toggled)."""
        self._wake.set()

    def submit(self, command: Callable[[], None]) -> None:
        """Run a command on the polling thread at once (or after the poll in progress), then present.

        Safe from any thread; this is how menu actions reach the database and the network.
        """
        with self._lock:
            self._commands.append(command)
        self._wake.set()

    def tick(self) -> float:
        """One step: run waiting commands, poll what is due, present and publish. Returns the seconds to
        the next step."""
        now = self._clock.monotonic()
        with self._lock:
            forced, self._force = self._force, False
            commands, self._commands = list(self._commands), deque()
        for command in commands:
            self._run_command(command)
        slept = self._slept(now)
        code, console, web = self._sources.code, self._sources.console, self._sources.web
        alerts: list[Alert] = []
        news = self._take_feed_news()
        if self._paced_by_feed and not self._feed_fresh():
            # The Claude Code session went quiet: back to the pace the endpoint alone would get.
            self._paced_by_feed = False
            self._next_poll = min(self._next_poll, self._unpaced_poll)
        if code is not None and (forced or slept or now >= self._next_poll):
            alerts += self._poll(code, forced, now)
        elif code is not None and news:
            alerts += self._follow(code)
        if console is not None and (forced or slept or now >= self._next_console):
            alerts += self._refresh_console(console, now)
        if web is not None and (forced or slept or now >= self._next_web):
            self._refresh_web(web, now)
        self._show(tuple(alerts))
        return self._next_step()

    def _next_step(self) -> float:
        due = [self._timing.repaint]
        for source, at in (
            (self._sources.code, self._next_poll),
            (self._sources.console, self._next_console),
            (self._sources.web, self._next_web),
        ):
            if source is not None:
                due.append(at - self._clock.monotonic())
        return max(0.0, min(due))

    def _take_feed_news(self) -> bool:
        news, self._feed_news = self._feed_news, False
        return self._feed_changed() or news

    def _feed_changed(self) -> bool:
        if self._feed is None:
            return False
        try:
            return self._feed.changed()
        except Exception:
            logger.exception("checking for Claude Code's readings failed")
            return False

    def _feed_fresh(self) -> bool:
        if self._feed is None:
            return False
        try:
            return self._feed.fresh(timedelta(seconds=self._timing.interval))
        except Exception:
            logger.exception("checking for Claude Code's readings failed")
            return False

    def _follow(self, monitor: UsageSource) -> Sequence[Alert]:
        """Show new readings from Claude Code's status line at once, and step the alerts with them."""
        previous = self._reports.code
        if previous is None:
            return ()  # the first poll has not answered yet; its report will include them
        try:
            report = monitor.restated(previous)
        except Exception:
            logger.exception("showing Claude Code's readings failed")
            return ()
        self._reports = replace(self._reports, code=report)
        if self._alerts is None or report.status in FAILING:  # old figures: the view changes, no alert steps
            return ()
        if report.status is not Status.OK:
            # Rate limited or stale endpoint: Claude Code's own figures are fresh all the same, and are
            # what the threshold alerts should see (the endpoint's older ones were seen already).
            fed = tuple(item for item in report.windows if item.source is Source.CLAUDE_CODE)
            report = replace(report, status=Status.OK, message=None, windows=fed, extra_usage=None)
        return self._alerts.process(report)

    def _run_command(self, command: Callable[[], None]) -> None:
        try:
            command()
        except Exception:
            # A menu action that fails must not end the polling; the log has the details.
            logger.exception("a menu action failed")

    def _show(self, alerts: tuple[Alert, ...]) -> None:
        try:
            view = self._present(self._reports)
        except Exception:
            # A view that cannot be drawn must not end the polling (figures, history and alerts go on);
            # logged once, with the traceback, until a view is shown again. Alerts still go out, beside
            # the last view that could be drawn.
            if not self._show_failing:
                logger.exception("the tray could not show the figures")
            self._show_failing = True
            if alerts and self._last_view is not None:
                self._publish(TickResult(self._last_view, alerts))
            return
        if self._show_failing:
            logger.info("the tray shows the figures again")
        self._show_failing = False
        self._last_view = view
        self._publish(TickResult(view, alerts))

    def _refresh_web(self, web: WebSource, now: float) -> None:
        try:
            self._reports = replace(self._reports, web=web.refresh())
        except Exception:
            logger.exception("claude.ai refresh failed unexpectedly")
        self._next_web = now + self._timing.web_interval

    def _refresh_console(self, console: ConsoleSource, now: float) -> Sequence[Alert]:
        try:
            report = console.refresh()
        except Exception:
            logger.exception("console refresh failed unexpectedly")
            previous = self._reports.console
            report = ConsoleReport(Status.ERROR, "internal error: see the log file", None, None, None)
            if previous is not None:
                report = replace(previous, status=Status.ERROR, message=report.message)
        self._reports = replace(self._reports, console=report)
        self._next_console = now + self._timing.console_interval
        return () if self._alerts is None else self._alerts.process_console(report)

    def _slept(self, now: float) -> bool:
        # Across a suspend the monotonic clock stands still while the wall clock moves on.
        last_mono, last_wall = self._clocks
        wall = self._clock.wall()
        self._clocks = (now, wall)
        return (wall - last_wall) - (now - last_mono) > self._timing.suspend_jump

    def _poll(self, monitor: UsageSource, forced: bool, now: float) -> Sequence[Alert]:
        previous = self._reports.code
        try:
            report = monitor.poll(force=forced)
        except Exception:
            # The thread must outlive any bug in one poll; the state shows it, the log has the details.
            logger.exception("poll failed unexpectedly")
            report = CodeReport(Status.ERROR, "internal error: see the log file", None, None, (), None)
            if previous is not None:
                report = replace(previous, status=Status.ERROR, message=report.message)
        self._reports = replace(self._reports, code=report)
        self._next_poll = now + self._delay(monitor, report, previous)
        logger.debug("polled: %s; next in %.1f s", report.status.value, self._next_poll - now)
        return () if self._alerts is None else self._alerts.process(report)

    def _delay(self, monitor: UsageSource, report: CodeReport, previous: CodeReport | None) -> float:
        timing = self._timing
        # Only a healthy poll is paced by the feed; a pause or a failure keeps its own time, which the
        # feed's going quiet must not bring forward.
        self._paced_by_feed = False
        if report.status is Status.RATE_LIMITED:
            until = monitor.backoff_until()
            if until is not None:
                # The database keeps whole seconds; a back-off whose fraction was dropped on the way (an
                # older version wrote it) must not let the retry into the server's Retry-After window.
                return max(timing.interval, math.floor(until.timestamp()) + 1 - self._clock.wall())
        if report.status in (Status.OFFLINE, Status.ERROR, Status.RATE_LIMITED):
            self._failures += 1
            # The exponent is capped only so that days of failures cannot overflow a float.
            return float(min(timing.idle_interval, timing.interval * 2.0 ** min(self._failures - 1, 16)))
        self._failures = 0
        if report.status is not Status.OK:
            return timing.interval  # login needed: only the credentials file is read, no request
        if previous is not None and _figures(previous) == _figures(report):
            self._unchanged += 1
        else:
            self._unchanged = 0
        # Unchanged figures mean Claude is not being used right now: ask less often, up to 15 min.
        # (The exponent is capped, as above, so that weeks of standing still cannot overflow a float.)
        slower = 2.0 ** min(self._unchanged // timing.unchanged_before_slowing, 16)
        delay = min(timing.idle_interval, timing.interval * slower)
        # While Claude Code tells us the 5-hour and weekly figures, the endpoint is needed only for what
        # its status line lacks (model-scoped windows, extra usage, the account), and those move slowly.
        self._paced_by_feed = self._feed_fresh() and delay < timing.fed_interval
        self._unpaced_poll = self._clock.monotonic() + delay
        return timing.fed_interval if self._paced_by_feed else delay

    def run(self) -> None:
        """The thread's body: tick, then sleep until due or woken."""
        while not self._stopped.is_set():
            # Cleared before the tick, so a wake-up that arrives during it is not lost.
            self._wake.clear()
            self._sleep(self.tick())

    def _sleep(self, delay: float) -> None:
        """Until the next step is due or someone wakes us; with a feed, also until new readings arrive.

        The database is asked every `follow` seconds (PRAGMA data_version: no file read when nothing
        changed), so the icon follows Claude Code within that and the idle thread wakes once a second.
        """
        if self._feed is None:
            self._clock.wait(self._wake, delay)
            return
        end = self._clock.monotonic() + delay
        while not self._stopped.is_set():
            left = end - self._clock.monotonic()
            if left <= 0 or self._clock.wait(self._wake, min(left, self._timing.follow)):
                return
            if self._feed_changed():
                self._feed_news = True
                return
            if self._paced_by_feed and not self._feed_fresh():
                return  # the next tick brings the poll forward

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
