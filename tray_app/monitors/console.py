"""One Console-mode refresh: fetch only the days that can still change, cache them, summarize the month."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from tray_app.clock import utc_now
from tray_app.config import ConsoleSettings
from tray_app.core.console import (
    Budgets,
    ClaudeCodeLine,
    ConsoleReport,
    CostLine,
    TokenLine,
    Workspace,
    month_start,
    summarize,
)
from tray_app.core.console_codec import lines_from_json, lines_to_json
from tray_app.core.errors import AuthError, ServerError, ShapeError, UsageError
from tray_app.core.models import Status
from tray_app.core.state import CachedOrganization, CachedWorkspaces, Refusal
from tray_app.monitors.policy import SharedPause, showing_older, status_of
from tray_app.sources.console_api import ConsoleApi
from tray_app.store import BackoffScope, RefusalSource, Store

logger = logging.getLogger(__name__)

BACKOFF_SCOPE = BackoffScope.CONSOLE
# A day's figures are final once a full day has passed after it ended (late usage has arrived).
SETTLED_AFTER = timedelta(days=1)
# Users, workspaces and the Claude Code report change slowly (the last lags an hour anyway).
SLOW_REFRESH = timedelta(hours=1)
# A refused Admin API key (401/403) is not sent again for this long; a different key is tried at once.
REFUSED_KEY_PAUSE = timedelta(hours=1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _by_day(lines: Iterable[CostLine | TokenLine | ClaudeCodeLine], days: Sequence[date]) -> dict[date, str]:
    grouped: dict[date, list[CostLine | TokenLine | ClaudeCodeLine]] = {day: [] for day in days}
    for line in lines:
        grouped.setdefault(line.day, []).append(line)
    return {day: json.dumps(lines_to_json(rows)) for day, rows in grouped.items()}


def _check_days(lines: Sequence[CostLine | TokenLine], first: date, last: date, kind: str) -> None:
    # Rows of a day not asked for mean the answer's days are not what they say: storing them would file
    # costs under the wrong day, and leave the day they belong to stored empty.
    stray = next((line.day for line in lines if not first <= line.day <= last), None)
    if stray is not None:
        raise ShapeError(f"the Admin API's {kind} report has a day ({stray}) that was not asked for")


class ConsoleMonitor:
    """Refreshes Console figures with few requests and keeps the last good ones through failures."""

    def __init__(
        self,
        store: Store,
        api: ConsoleApi,
        settings: ConsoleSettings,
        fallback_email: Callable[[], str | None] = lambda: None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._api = api
        self._settings = settings
        self._fallback_email = fallback_email
        self._clock = clock
        self._pause = SharedPause(store, BACKOFF_SCOPE, clock)
        # (kind, day) -> (when that day was fetched, its rows parsed). Every report sums the month's
        # cached days, but only the days that can still change are fetched again: a day with the same
        # fetched_at holds the same text, so a settled day is parsed once, not on every refresh. (Two
        # fetches of one day within one second could differ; the day's next fetch replaces the rows.)
        self._parsed: dict[tuple[str, date], tuple[datetime, tuple[object, ...]]] = {}

    @property
    def my_email(self) -> str | None:
        return self._settings.user_email or self._fallback_email()

    def refresh(self) -> ConsoleReport:
        """Fetch what may have changed (unless a shared back-off holds), then report the month."""
        now = self._clock()
        backoff = self._pause.holding(now)
        if backoff is not None:
            return self._report(
                Status.RATE_LIMITED, f"{backoff.reason}; next try at {backoff.until:%H:%M} UTC"
            )
        refused = self._refused_until(now)
        if refused is not None:
            until, message = refused
            return self._report(Status.LOGIN_NEEDED, f"{message}; next try at {until:%H:%M} UTC")
        try:
            self._refresh_slow_parts(now)
            self._refresh_reports(now)
            self._refresh_claude_code(now)
        except UsageError as exc:
            return self._failure(exc, now)
        self._pause.clear()
        report = self._report(Status.OK, None, updated_at=now)
        if report.figures is not None:
            figures = report.figures
            costs = {w.id or "default": w.cost for w in figures.workspaces}
            self._store.add_console_snapshot(now, figures.month, figures.mtd_cost, costs)
        return report

    def stored_report(self) -> ConsoleReport:
        """The month from the cache alone: no network (start-up, `status --offline`)."""
        return self._report(Status.STALE, "figures from the database")

    def _due(self, cached: CachedOrganization | CachedWorkspaces | None, now: datetime) -> bool:
        return cached is None or cached.fetched_at is None or now - cached.fetched_at >= SLOW_REFRESH

    def _refresh_slow_parts(self, now: datetime) -> None:
        cache = self._store.console_cache
        if self._due(cache.organization(), now):
            cache.set_organization(CachedOrganization(self._api.organization(), now), now)
        if self._due(cache.workspaces(), now):
            cache.set_workspaces(CachedWorkspaces(tuple(self._api.workspaces()), now), now)

    def _unsettled_from(self, kind: str, now: datetime) -> date:
        """The first day of the month whose cached rows may still change."""
        first, today = month_start(now).date(), now.astimezone(UTC).date()
        cached = self._store.console_days(kind, first)
        for day in _days(first, today):
            fetched = cached.get(day)
            day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
            if fetched is None or fetched[0] < day_end + SETTLED_AFTER:
                return day
        return today

    def _refresh_reports(self, now: datetime) -> None:
        today = now.astimezone(UTC).date()
        for kind in ("cost", "tokens"):
            start_day = self._unsettled_from(kind, now)
            start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
            lines: Sequence[CostLine | TokenLine] = (
                self._api.cost_report(start, now) if kind == "cost" else self._api.usage_by_model(start, now)
            )
            _check_days(lines, start_day, today, kind)
            self._store.save_console_days(kind, _by_day(lines, _days(start_day, today)), now)

    def _refresh_claude_code(self, now: datetime) -> None:
        if self.my_email is None:
            return  # nobody to look up: the report is per user
        fetched_at = self._store.console_cache.claude_code_fetched_at()
        if fetched_at is not None and now - fetched_at < SLOW_REFRESH:
            return
        today = now.astimezone(UTC).date()
        for day in _days(self._unsettled_from("claude_code", now), today):
            self._store.save_console_days("claude_code", _by_day(self._api.claude_code_day(day), [day]), now)
        self._store.console_cache.set_claude_code_fetched_at(now)

    def _failure(self, exc: UsageError, now: datetime) -> ConsoleReport:
        status = status_of(exc)
        if status is Status.RATE_LIMITED:
            backoff = self._pause.lengthen(exc, now)
            return self._report(status, f"{exc}; next try at {backoff.until:%H:%M} UTC")
        if isinstance(exc, AuthError):
            # Shared through the database, like a back-off: no process resends the refused key for a while.
            refusal = Refusal(self._api.key_fingerprint, str(exc), now)
            self._store.refusals.set(RefusalSource.CONSOLE_KEY, refusal, now)
        if status is Status.OFFLINE:
            return self._report(status, f"offline: {exc}")
        if isinstance(exc, ServerError | ShapeError):
            logger.warning("console refresh failed: %s", exc)
        return self._report(status, str(exc))

    def _refused_until(self, now: datetime) -> tuple[datetime, str] | None:
        """When this key, refused lately, may be tried again, and why it was refused; None: try it now."""
        refused = self._store.refusals.get(RefusalSource.CONSOLE_KEY)
        if refused is None or refused.fingerprint != self._api.key_fingerprint or refused.at is None:
            return None
        until = refused.at + REFUSED_KEY_PAUSE
        return (until, refused.reason) if now < until else None

    def _cached(self, kind: str, first: date) -> tuple[list[object], datetime | None]:
        """The rows of a kind's cached days from `first` on, and when the latest of those days was fetched."""
        rows: list[object] = []
        stored = self._store.console_days(kind, first)
        for day, (fetched, raw) in sorted(stored.items()):
            rows += self._parsed_day(kind, day, fetched, raw)
        for gone in [key for key in self._parsed if key[0] == kind and key[1] not in stored]:
            del self._parsed[gone]  # last month's days, or days no longer stored
        return rows, max((at for at, _ in stored.values()), default=None)

    def _parsed_day(self, kind: str, day: date, fetched: datetime, raw: str) -> tuple[object, ...]:
        known = self._parsed.get((kind, day))
        if known is not None and known[0] == fetched:
            return known[1]
        try:
            lines = tuple(lines_from_json(kind, json.loads(raw)))
        except (ValueError, ShapeError) as exc:
            logger.warning("cached %s rows of %s unreadable (%s); they will be fetched again", kind, day, exc)
            return ()
        self._parsed[(kind, day)] = (fetched, lines)
        return lines

    def _workspaces(self) -> list[Workspace]:
        cached = self._store.console_cache.workspaces()
        return [] if cached is None else list(cached.workspaces)

    def _organization(self) -> str | None:
        cached = self._store.console_cache.organization()
        return None if cached is None else cached.organization.name

    def _report(
        self, status: Status, message: str | None, updated_at: datetime | None = None
    ) -> ConsoleReport:
        now = self._clock()
        first = month_start(now).date()
        costs, last_fetch = self._cached("cost", first)
        if updated_at is None:
            updated_at = last_fetch
        if not costs and last_fetch is None:
            return ConsoleReport(status, message, self._organization(), None, None)
        if status is not Status.OK:
            message = showing_older(message, last_fetch, now)
        figures = summarize(
            now,
            [c for c in costs if isinstance(c, CostLine)],
            [t for t in self._cached("tokens", first)[0] if isinstance(t, TokenLine)],
            [c for c in self._cached("claude_code", first)[0] if isinstance(c, ClaudeCodeLine)],
            self._workspaces(),
            self.my_email,
            Budgets(self._settings.budget, self._settings.workspace_budgets),
            self._store.console_snapshots(now - timedelta(days=1)),
        )
        return ConsoleReport(status, message, self._organization(), updated_at, figures)
