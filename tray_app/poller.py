"""One Code-mode poll: credentials -> back-off check -> fetch -> store -> report. Errors become states."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tray_app.clock import SYSTEM_CLOCK, Clock
from tray_app.core.backoff import next_backoff
from tray_app.core.console import ConsoleReport
from tray_app.core.errors import (
    AuthError,
    AuthKind,
    CredentialsError,
    NetworkError,
    RateLimited,
    ServerError,
    UsageError,
)
from tray_app.core.forecast import MIN_SPAN
from tray_app.core.models import (
    Account,
    CodeReport,
    CodeStatus,
    CodeUsage,
    Status,
)
from tray_app.core.parse import expires_soon, plan_name, reject_empty_answer
from tray_app.core.report import build_code_report, format_age
from tray_app.core.reports import Reports, TickResult
from tray_app.core.rules import Alert
from tray_app.core.state import Refusal
from tray_app.core.viewmodel import ViewModel
from tray_app.core.web_report import WebReport
from tray_app.sources.code_api import CodeApi, TokenEndpoint
from tray_app.sources.credentials import ClaudeCredentialStore, LoadedCredentials
from tray_app.store import BackoffScope, RefusalSource, Store

logger = logging.getLogger(__name__)

BACKOFF_SCOPE = BackoffScope.CODE
# Another process (a second `status`, the tray) fetched this recently: share its answer.
SHARED_FRESHNESS = timedelta(seconds=10)
PROFILE_MAX_AGE = timedelta(hours=24)
REFRESH_MARGIN = timedelta(minutes=5)
# The longest lookback of the forecast short of a day (see core.forecast.LOOKBACKS). Reading more first
# changes no forecast: longer lookbacks only count when these have too few points, and then the second
# pass below reads the whole period anyway. A poll reads a quarter of what a day would cost.
RECENT_HISTORY = timedelta(hours=6)
HISTORY_SPAN = timedelta(days=8)
_AUTH_MESSAGES = {
    AuthKind.SCOPE: "this login lacks the user:profile scope: log in again with `claude`",
    AuthKind.EXPIRED: "expired: run `claude` to refresh the login",
    AuthKind.INVALID: "the server refused this login: log in again with `claude`",
    AuthKind.FORBIDDEN: "the server denied access to usage for this login: log in again with `claude`",
    AuthKind.REFRESH_REJECTED: "the refresh token was refused: log in again with `claude`",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _fingerprint(token: str) -> str:
    # A short one-way digest lets every process remember a refused token without storing it.
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class CodeMonitor:
    """Polls Code mode politely, shares back-off and last good figures with other processes."""

    def __init__(
        self,
        store: Store,
        credentials: ClaudeCredentialStore,
        api: CodeApi,
        token_endpoint: TokenEndpoint | None = None,
        clock: Callable[[], datetime] = _utcnow,
        forecast_min_span: timedelta = MIN_SPAN,
        shared_freshness: timedelta = SHARED_FRESHNESS,
    ) -> None:
        self._store = store
        self._min_span = forecast_min_span
        self._shared_freshness = shared_freshness
        self._credentials = credentials
        self._api = api
        self._token_endpoint = token_endpoint  # None unless token_refresh = "self"
        self._clock = clock

    def stored_report(self, stale_after: timedelta) -> CodeReport:
        """The last stored figures without any network: `status --offline`, and the tray at start-up."""
        now = self._clock()
        stored = self._store.last_code_usage()
        if stored is None:
            return self._report(
                CodeStatus.STALE, "no figures stored yet: run `claude-usage-tray status`", None
            )
        age = now - stored[0]
        status = CodeStatus.OK if age <= stale_after else CodeStatus.STALE
        return self._report(status, f"stored figures from {format_age(age)}", stored)

    def backoff_until(self) -> datetime | None:
        """When the shared back-off ends, if one is in force."""
        backoff = self._store.backoffs.get(BACKOFF_SCOPE)
        return None if backoff is None or backoff.until <= self._clock() else backoff.until

    def poll(self, force: bool = False) -> CodeReport:
        """Fetch now unless a shared back-off or a very recent fetch says not to.

        force (the user's "Refresh now") skips the sharing of a very recent answer, never a back-off.
        """
        now = self._clock()
        stored = self._store.last_code_usage()
        try:
            loaded = self._credentials.load()
            self._check_usable(loaded, now)
        except CredentialsError as exc:
            return self._failure(CodeStatus.LOGIN_NEEDED, str(exc), stored, now)
        except AuthError as exc:
            return self._failure(CodeStatus.LOGIN_NEEDED, str(exc), stored, now)
        backoff = self._store.backoffs.get(BACKOFF_SCOPE)
        if backoff is not None and backoff.until > now:
            wait = f"next try at {backoff.until:%H:%M:%S} UTC"
            return self._failure(CodeStatus.RATE_LIMITED, f"{backoff.reason}; {wait}", stored, now)
        fresh = stored is not None and now - stored[0] < self._shared_freshness
        if not force and fresh and self._recently_attempted(now):
            return self._report(CodeStatus.OK, None, stored)
        self._store.code_cache.set_last_attempt(now)
        try:
            return self._fetch(loaded, now, None if stored is None else stored[1])
        except UsageError as exc:
            return self._handle_failure(exc, loaded, stored, now)

    def _check_usable(self, loaded: LoadedCredentials, now: datetime) -> None:
        creds = loaded.credentials
        if creds.scopes is not None and "user:profile" not in creds.scopes:
            hint = (
                "the CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token` cannot read usage"
                if loaded.source == "environment"
                else "this Claude Code login cannot read usage (no user:profile scope)"
            )
            raise AuthError(AuthKind.SCOPE, f"{hint}: log in again with `claude`")
        refused = self._store.refusals.get(RefusalSource.CODE_TOKEN) or Refusal("")
        fingerprint, kind = refused.fingerprint, refused.reason
        retry_by_refresh = kind == AuthKind.EXPIRED and self._token_endpoint is not None
        if fingerprint == _fingerprint(creds.access_token) and kind in set(AuthKind) and not retry_by_refresh:
            raise AuthError(AuthKind(kind), _AUTH_MESSAGES[AuthKind(kind)])
        if expires_soon(creds, now, timedelta(0)) and self._token_endpoint is None:
            raise AuthError(AuthKind.EXPIRED, "expired: run `claude` to refresh the login")

    def _recently_attempted(self, now: datetime) -> bool:
        attempted = self._store.code_cache.last_attempt()
        return attempted is not None and now - attempted < self._shared_freshness

    def _fetch(self, loaded: LoadedCredentials, now: datetime, last_good: CodeUsage | None) -> CodeReport:
        if self._token_endpoint is not None and expires_soon(loaded.credentials, now, REFRESH_MARGIN):
            loaded = self._refresh(loaded, now)
        try:
            usage = self._api.usage(loaded.credentials.access_token)
        except AuthError as exc:
            if exc.kind is not AuthKind.EXPIRED or self._token_endpoint is None:
                raise
            loaded = self._refresh(loaded, now)
            usage = self._api.usage(loaded.credentials.access_token)
        reject_empty_answer(usage, last_good)
        fetched_at = self._clock()
        self._store.add_windows(fetched_at, usage.windows)
        self._store.save_code_usage(fetched_at, usage)
        self._store.backoffs.clear(BACKOFF_SCOPE)
        self._refresh_profile(loaded, fetched_at)
        self._store.prune(fetched_at)
        return self._report(CodeStatus.OK, None, (fetched_at, usage))

    def _refresh(self, loaded: LoadedCredentials, now: datetime) -> LoadedCredentials:
        """Opt-in refresh: new pair from the token endpoint, written back only if nobody else did."""
        assert self._token_endpoint is not None
        refresh_token = loaded.credentials.refresh_token
        if refresh_token is None:
            raise AuthError(AuthKind.EXPIRED, "expired, and the login has no refresh token: run `claude`")
        grant = self._token_endpoint.refresh(refresh_token)
        if self._credentials.save_refreshed(loaded, grant, now):
            logger.info("refreshed the Claude Code access token and wrote it back to %s", loaded.location)
        else:
            logger.info("credentials changed while refreshing; using the ones Claude Code wrote")
        return self._credentials.load()

    def _refresh_profile(self, loaded: LoadedCredentials, now: datetime) -> None:
        known = self._store.account()
        if known is not None and now - known[0] < PROFILE_MAX_AGE:
            return
        try:
            account = self._api.profile(loaded.credentials.access_token)
        except UsageError as exc:
            # The account line is a nicety; usage figures matter more than a failed profile call.
            logger.warning("profile not available: %s", exc)
            return
        if account.email is None and known is not None:
            # A profile without an email is garbled, not a new account: keep showing who we know (and
            # ask again in a day, as usual).
            logger.warning("the profile answer names no account; keeping the known one")
            account = known[1]
        if account.plan is None:
            creds = loaded.credentials
            account = Account(
                account.email, plan_name(creds.subscription_type, creds.rate_limit_tier), account.organization
            )
        self._store.save_account(now, account)

    def _handle_failure(
        self,
        exc: UsageError,
        loaded: LoadedCredentials,
        stored: tuple[datetime, CodeUsage] | None,
        now: datetime,
    ) -> CodeReport:
        if isinstance(exc, RateLimited):
            return self._rate_limited(exc.retry_after, str(exc), stored, now)
        if isinstance(exc, AuthError):
            # A refused token stays refused: remember it (as a digest) so no process resends it;
            # a new token written by Claude Code is tried at once.
            fingerprint = _fingerprint(loaded.credentials.access_token)
            self._store.refusals.set(RefusalSource.CODE_TOKEN, Refusal(fingerprint, exc.kind.value), now)
            return self._failure(CodeStatus.LOGIN_NEEDED, _AUTH_MESSAGES[exc.kind], stored, now)
        if isinstance(exc, ServerError) and exc.retry_after is not None:
            return self._rate_limited(exc.retry_after, str(exc), stored, now)
        if isinstance(exc, NetworkError):
            return self._failure(CodeStatus.OFFLINE, f"offline: {exc}", stored, now)
        logger.warning("usage fetch failed: %s", exc)
        return self._failure(CodeStatus.ERROR, str(exc), stored, now)

    def _rate_limited(
        self, retry_after: float | None, reason: str, stored: tuple[datetime, CodeUsage] | None, now: datetime
    ) -> CodeReport:
        backoff = next_backoff(self._store.backoffs.get(BACKOFF_SCOPE), retry_after, reason, now)
        self._store.backoffs.set(BACKOFF_SCOPE, backoff)
        pause = (backoff.until - now).total_seconds()
        logger.warning("%s; pausing %d s (strike %d)", reason, pause, backoff.strikes)
        return self._failure(
            CodeStatus.RATE_LIMITED, f"{reason}; next try at {backoff.until:%H:%M:%S} UTC", stored, now
        )

    def _failure(
        self, status: CodeStatus, message: str, stored: tuple[datetime, CodeUsage] | None, now: datetime
    ) -> CodeReport:
        if stored is not None:
            message = f"{message} (showing figures from {format_age(now - stored[0])})"
        return self._report(status, message, stored)

    def stored_usage(self) -> tuple[datetime, CodeUsage] | None:
        return self._store.last_code_usage()

    def report_from(
        self, status: CodeStatus, message: str | None, stored: tuple[datetime, CodeUsage] | None
    ) -> CodeReport:
        """A report of given figures with their stored history's forecasts (the claude.ai fallback)."""
        return self._report(status, message, stored)

    def _report(
        self, status: CodeStatus, message: str | None, stored: tuple[datetime, CodeUsage] | None
    ) -> CodeReport:
        known = self._store.account()
        account = None if known is None else known[1]
        if stored is None:
            return build_code_report(status, message, account, None, {}, self._min_span)
        # Six hours of history are enough for almost every forecast; the rare window with too little
        # recent data gets its whole period read in a second pass, so a normal poll stays cheap.
        recent = {
            w.id: self._store.window_history(w.id, stored[0] - RECENT_HISTORY) for w in stored[1].windows
        }
        report = build_code_report(status, message, account, stored, recent, self._min_span)
        thin = [
            item.window.id
            for item in report.windows
            if item.forecast.rate_per_hour is None and item.window.resets_at is not None
        ]
        if not thin:
            return report
        full = {**recent, **{wid: self._store.window_history(wid, stored[0] - HISTORY_SPAN) for wid in thin}}
        return build_code_report(status, message, account, stored, full, self._min_span)


@dataclass(frozen=True)
class PollTiming:
    """How often the poller asks; defaults follow the settings (30 s), never faster."""

    interval: float = 30.0
    idle_interval: float = 300.0  # slowest pace while nothing changes
    unchanged_before_slowing: int = 4  # polls with identical figures before each doubling
    repaint: float = 30.0  # countdowns in the menu are redrawn at least this often
    suspend_jump: float = 60.0  # wall clock ahead of the monotonic clock by this much: we slept
    console_interval: float = 120.0  # Console mode: the cost report, which is polite at once a minute
    web_interval: float = 300.0  # claude.ai sits behind Cloudflare: ask rarely

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


class ConsoleSource(Protocol):
    """What the poller needs of Console mode (tray_app.console_monitor.ConsoleMonitor)."""

    def refresh(self) -> ConsoleReport: ...

    def stored_report(self) -> ConsoleReport: ...


class WebSource(Protocol):
    """What the poller needs of the claude.ai session (tray_app.web_monitor)."""

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

    def stored(self) -> Reports:
        """The last stored figures of each source, without any network (shown until the first poll)."""
        return Reports(
            None if self.code is None else self.code.stored_report(timedelta(0)),
            None if self.console is None else self.console.stored_report(),
            None if self.web is None else self.web.stored_report(),
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
    ) -> None:
        self._sources = sources
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
        if code is not None and (forced or slept or now >= self._next_poll):
            alerts += self._poll(code, forced, now)
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
        if report.status is Status.RATE_LIMITED:
            until = monitor.backoff_until()
            if until is not None:
                # The database keeps whole seconds; a back-off whose fraction was dropped on the way (an
                # older version wrote it) must not let the retry into the server's Retry-After window.
                return max(timing.interval, math.floor(until.timestamp()) + 1 - self._clock.wall())
        if report.status in (Status.OFFLINE, Status.ERROR, Status.RATE_LIMITED):
            self._failures += 1
            return float(min(timing.idle_interval, timing.interval * 2 ** (self._failures - 1)))
        self._failures = 0
        if report.status is not Status.OK:
            return timing.interval  # login needed: only the credentials file is read, no request
        if previous is not None and _figures(previous) == _figures(report):
            self._unchanged += 1
        else:
            self._unchanged = 0
        # Unchanged figures mean Claude is not being used right now: ask less often, up to 5 min.
        slower = 2.0 ** (self._unchanged // timing.unchanged_before_slowing)
        return min(timing.idle_interval, timing.interval * slower)

    def run(self) -> None:
        """The thread's body: tick, then sleep until due or woken."""
        while not self._stopped.is_set():
            # Cleared before the tick, so a wake-up that arrives during it is not lost.
            self._wake.clear()
            delay = self.tick()
            self._clock.wait(self._wake, delay)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
