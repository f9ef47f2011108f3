"""One Console-mode refresh: fetch only what can still change, within a few requests, summarize the month.

The month's spend comes from the Usage & Cost Analytics API (beta) when the admin key may use it, grouped
by API key, actor, model and workspace; from the legacy cost report when it is refused (remembered for a
day, shared through the database) or not configured. Either way past days are cached: only the days that
can still change are asked again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tray_app.clock import utc_now
from tray_app.config import ConsoleSettings
from tray_app.core.analytics import CostRow
from tray_app.core.analytics_codec import rows_from_json, rows_to_json
from tray_app.core.console import (
    SOURCE_ANALYTICS,
    SOURCE_COST_REPORT,
    Budgets,
    ClaudeCodeLine,
    ConsoleReport,
    CostLine,
    TokenLine,
    Workspace,
    key_budget,
    month_start,
    summarize,
)
from tray_app.core.console_codec import lines_from_json, lines_to_json
from tray_app.core.errors import AuthError, ServerError, ShapeError, UsageError
from tray_app.core.models import Status
from tray_app.core.refresh_plan import REFRESH_REQUESTS, Part, plan
from tray_app.core.spenders import cost_lines, differing_days, row_day, spenders
from tray_app.core.state import CachedApiKeys, CachedOrganization, CachedWorkspaces, Refusal
from tray_app.monitors.policy import SharedPause, showing_older, status_of
from tray_app.sources.console_analytics import AnalyticsApi, AnalyticsRefused
from tray_app.sources.console_api import ConsoleApi
from tray_app.store import BackoffScope, RefusalSource, Store

logger = logging.getLogger(__name__)

BACKOFF_SCOPE = BackoffScope.CONSOLE
# A day's figures are final once a full day has passed after it ended (late usage has arrived).
SETTLED_AFTER = timedelta(days=1)
# Users, workspaces, key names and the Claude Code report change slowly (the last lags an hour anyway).
SLOW_REFRESH = timedelta(hours=1)
# Token counts are asked on every refresh the request budget allows (a refresh is 2 minutes apart).
TOKENS_REFRESH = timedelta(minutes=1)
# The settled days of the Analytics API are compared with the cost report's once a day.
CROSS_CHECK = timedelta(days=1)
# A refused Admin API key (401/403) is not sent again for this long; a different key is tried at once.
REFUSED_KEY_PAUSE = timedelta(hours=1)
# After the Analytics API refused the key or organization, the cost report stands in for this long.
ANALYTICS_REFUSED_PAUSE = timedelta(days=1)
# One analytics query gives all four breakdowns; every combination with spend is one row.
ANALYTICS_GROUP_BY = ("api_key_id", "actor", "model", "workspace_id")
ANALYTICS = "analytics"  # the kind of its cached days

Line = CostLine | TokenLine | ClaudeCodeLine


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _by_day(lines: Iterable[Line], days: Sequence[date]) -> dict[date, str]:
    grouped: dict[date, list[Line]] = {day: [] for day in days}
    for line in lines:
        grouped.setdefault(line.day, []).append(line)
    return {day: json.dumps(lines_to_json(rows)) for day, rows in grouped.items()}


def _rows_by_day(rows: Iterable[CostRow], days: Sequence[date]) -> dict[date, str]:
    grouped: dict[date, list[CostRow]] = {day: [] for day in days}
    for row in rows:
        grouped.setdefault(row_day(row), []).append(row)
    return {day: json.dumps(rows_to_json(found)) for day, found in grouped.items()}


def _check_days(found: Iterable[date], first: date, last: date, kind: str) -> None:
    # Rows of a day not asked for mean the answer's days are not what they say: storing them would file
    # costs under the wrong day, and leave the day they belong to stored empty.
    stray = next((day for day in found if not first <= day <= last), None)
    if stray is not None:
        raise ShapeError(f"the Admin API's {kind} report has a day ({stray}) that was not asked for")


def _exact(cents: Decimal) -> str:
    """'$80.40 (8039.6599 cents)': the rounded figure a user knows, and the exact one compared."""
    return f"${cents / 100:,.2f} ({cents.normalize():f} cents)"


def _settled(day: date, fetched: datetime) -> bool:
    return fetched >= _midnight(day) + timedelta(days=1) + SETTLED_AFTER


class ConsoleMonitor:
    """Refreshes Console figures with few requests and keeps the last good ones through failures."""

    def __init__(
        self,
        store: Store,
        api: ConsoleApi,
        settings: ConsoleSettings,
        fallback_email: Callable[[], str | None] = lambda: None,
        clock: Callable[[], datetime] = utc_now,
        analytics: AnalyticsApi | None = None,
    ) -> None:
        self._store = store
        self._api = api
        self._analytics = analytics
        self._settings = settings
        self._fallback_email = fallback_email
        self._clock = clock
        self._pause = SharedPause(store, BACKOFF_SCOPE, clock)
        # (kind, day) -> (when that day was fetched, its rows parsed). Every report sums the month's
        # cached days, but only the days that can still change are fetched again: a day with the same
        # fetched_at holds the same text, so a settled day is parsed once, not on every refresh. (Two
        # fetches of one day within one second could differ; the day's next fetch replaces the rows.)
        self._parsed: dict[tuple[str, date], tuple[datetime, tuple[object, ...]]] = {}
        # Days whose two sources' totals were found to differ, and said so in the log (once each).
        self._told_differences: set[tuple[date, Decimal, Decimal]] = set()

    @property
    def my_email(self) -> str | None:
        return self._settings.user_email or self._fallback_email()

    @property
    def requests_made(self) -> int:
        """HTTP requests made so far by both clients (the refresh budget's witness)."""
        return self._api.requests_made + (self._analytics.requests_made if self._analytics else 0)

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
        before = self.requests_made
        try:
            source = self._refresh_spend(now)
            parts = plan(self._parts(now, source), now, REFRESH_REQUESTS - (self.requests_made - before))
            for part in parts:
                self._fetch(part, now)
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

    # The month's spend: one query (more only when it pages), on every refresh.

    def _refresh_spend(self, now: datetime) -> str:
        """Fetch the month's unsettled days from the Analytics API, or the cost report when refused."""
        if self._analytics is not None and self._analytics_refusal(now) is None:
            try:
                self._refresh_analytics(self._analytics, now)
                return SOURCE_ANALYTICS
            except AnalyticsRefused as exc:
                said = str(exc).rstrip(". ")
                reason = f"the Analytics API refused this key (HTTP {exc.status}, {exc.error_type}): {said}"
                refusal = Refusal(self._analytics.key_fingerprint, reason, now)
                self._store.refusals.set(RefusalSource.CONSOLE_ANALYTICS, refusal, now)
                logger.warning("%s; the cost report stands in for a day", reason)
        self._refresh_days("cost", now)
        return SOURCE_COST_REPORT

    def _refresh_analytics(self, analytics: AnalyticsApi, now: datetime) -> None:
        today = now.astimezone(UTC).date()
        start_day = self._unsettled_from(ANALYTICS, now)
        month = analytics.month_cost(_midnight(start_day), now, ANALYTICS_GROUP_BY)
        if month.skipped:
            logger.warning(
                "the Analytics API sent %d cost rows that could not be read; left out", month.skipped
            )
        if month.incomplete:
            logger.warning(
                "the Analytics API said it had more rows but named no next page; figures may be low"
            )
        _check_days((row_day(row) for row in month.rows), start_day, today, "analytics cost")
        self._store.save_console_days(ANALYTICS, _rows_by_day(month.rows, _days(start_day, today)), now)

    def _refresh_days(self, kind: str, now: datetime, last: date | None = None) -> None:
        """The cost or token report's days from the first unsettled one to last (today when None)."""
        end_day = last or now.astimezone(UTC).date()
        start_day = self._unsettled_from(kind, now)
        if start_day > end_day:
            return
        start = _midnight(start_day)
        end = now if last is None else _midnight(end_day) + timedelta(days=1)
        lines: Sequence[CostLine | TokenLine] = (
            self._api.cost_report(start, end) if kind == "cost" else self._api.usage_by_model(start, end)
        )
        _check_days((line.day for line in lines), start_day, end_day, kind)
        self._store.save_console_days(kind, _by_day(lines, _days(start_day, end_day)), now)

    # The slow parts: within what is left of the refresh's request budget.

    def _parts(self, now: datetime, source: str) -> list[Part]:
        today = now.astimezone(UTC).date()
        cache = self._store.console_cache
        tokens = self._store.console_fetched("tokens", month_start(now).date())
        parts = [Part("tokens", tokens.get(today), TOKENS_REFRESH, not tokens)]
        slow: dict[str, CachedOrganization | CachedWorkspaces | CachedApiKeys | None] = {
            "organization": cache.organization(),
            "workspaces": cache.workspaces(),
        }
        if source == SOURCE_ANALYTICS:
            slow["api_keys"] = cache.api_keys()
        for name, cached in slow.items():
            parts.append(
                Part(name, None if cached is None else cached.fetched_at, SLOW_REFRESH, cached is None)
            )
        if source == SOURCE_ANALYTICS:
            check = self._cross_check_part(now)
            if check is not None:
                parts.append(check)
        if self.my_email is not None:  # nobody to look up otherwise: the Claude Code report is per user
            stored = self._store.console_fetched("claude_code", month_start(now).date())
            for day in _days(self._unsettled_from("claude_code", now, stored), today):
                parts.append(
                    Part(f"claude_code:{day.isoformat()}", stored.get(day), SLOW_REFRESH, not stored)
                )
        return parts

    def _cross_check_part(self, now: datetime) -> Part | None:
        """The daily cost report of settled days, to compare with the Analytics API; None: all compared."""
        checked = self._store.console_fetched("cost", month_start(now).date())
        first_unchecked = self._unsettled_from("cost", now, checked)
        if _midnight(first_unchecked) + timedelta(days=1) + SETTLED_AFTER > now:
            return None  # every settled day of the month has its cost report already
        return Part("cross_check", max(checked.values(), default=None), CROSS_CHECK)

    def _fetch(self, part: Part, now: datetime) -> None:
        cache = self._store.console_cache
        if part.name == "tokens":
            self._refresh_days("tokens", now)
        elif part.name == "organization":
            cache.set_organization(CachedOrganization(self._api.organization(), now), now)
        elif part.name == "workspaces":
            cache.set_workspaces(CachedWorkspaces(tuple(self._api.workspaces()), now), now)
        elif part.name == "api_keys" and self._analytics is not None:
            cache.set_api_keys(CachedApiKeys(self._analytics.api_key_names(), now), now)
        elif part.name == "cross_check":
            last_settled = (now - SETTLED_AFTER).astimezone(UTC).date() - timedelta(days=1)
            self._refresh_days("cost", now, last=last_settled)
            self._tell_differences(now)
        elif part.name.startswith("claude_code:"):
            day = date.fromisoformat(part.name.partition(":")[2])
            self._store.save_console_days("claude_code", _by_day(self._api.claude_code_day(day), [day]), now)

    def _tell_differences(self, now: datetime) -> None:
        """Log each settled day on which the Analytics API and the cost report disagree, with both sums."""
        first = month_start(now).date()
        settled = {
            kind: {day for day, at in self._store.console_fetched(kind, first).items() if _settled(day, at)}
            for kind in (ANALYTICS, "cost")
        }
        analytics = self._cached_rows(first)
        report = [line for line in self._cached("cost", first)[0] if isinstance(line, CostLine)]
        days = settled[ANALYTICS] & settled["cost"]
        for day, from_analytics, from_report in differing_days(analytics, report, days):
            if (day, from_analytics, from_report) in self._told_differences:
                continue
            self._told_differences.add((day, from_analytics, from_report))
            logger.warning(
                "Console spend on %s: the Analytics API says %s, the cost report %s",
                day,
                _exact(from_analytics),
                _exact(from_report),
            )

    def _unsettled_from(
        self, kind: str, now: datetime, fetched: Mapping[date, datetime] | None = None
    ) -> date:
        """The first day of the month whose cached rows may still change (today when all are settled).

        fetched: when each day of the kind was fetched, if already read."""
        first, today = month_start(now).date(), now.astimezone(UTC).date()
        if fetched is None:
            fetched = self._store.console_fetched(kind, first)
        for day in _days(first, today):
            at = fetched.get(day)
            if at is None or not _settled(day, at):
                return day
        return today

    # Failures and refusals.

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

    def _analytics_refusal(self, now: datetime) -> tuple[datetime, str] | None:
        """Until when the cost report stands in, and why; None when the Analytics API is to be asked."""
        if self._analytics is None:
            return None
        refused = self._store.refusals.get(RefusalSource.CONSOLE_ANALYTICS)
        if refused is None or refused.fingerprint != self._analytics.key_fingerprint or refused.at is None:
            return None  # a new key is tried at once
        until = refused.at + ANALYTICS_REFUSED_PAUSE
        return (until, refused.reason) if now < until else None

    def source_state(self) -> str:
        """Where the month's spend comes from, in a line for `doctor`."""
        if self._analytics is None:
            return "the cost report"
        refused = self._analytics_refusal(self._clock())
        if refused is None:
            return "the Analytics API (beta); the cost report if it refuses this key"
        until, reason = refused
        return f"the cost report: {reason}; the Analytics API is asked again after {until:%Y-%m-%d %H:%M} UTC"

    # The report, from the cache.

    def _cached(self, kind: str, first: date) -> tuple[list[object], datetime | None]:
        """The rows of a kind's cached days from `first` on, and when the latest of those days was fetched."""
        rows: list[object] = []
        stored = self._store.console_days(kind, first)
        for day, (fetched, raw) in sorted(stored.items()):
            rows += self._parsed_day(kind, day, fetched, raw)
        for gone in [key for key in self._parsed if key[0] == kind and key[1] not in stored]:
            del self._parsed[gone]  # last month's days, or days no longer stored
        return rows, max((at for at, _ in stored.values()), default=None)

    def _cached_rows(self, first: date) -> list[CostRow]:
        return [row for row in self._cached(ANALYTICS, first)[0] if isinstance(row, CostRow)]

    def _parsed_day(self, kind: str, day: date, fetched: datetime, raw: str) -> tuple[object, ...]:
        known = self._parsed.get((kind, day))
        if known is not None and known[0] == fetched:
            return known[1]
        try:
            data = json.loads(raw)
            lines = tuple(rows_from_json(data) if kind == ANALYTICS else lines_from_json(kind, data))
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

    def _key_budget(self, key_id: str, key_name: str) -> Decimal | None:
        return key_budget(key_id, key_name, self._settings.api_key_budgets)

    def _report(
        self, status: Status, message: str | None, updated_at: datetime | None = None
    ) -> ConsoleReport:
        now = self._clock()
        first = month_start(now).date()
        refused = self._analytics_refusal(now)
        note = None
        if refused is not None:
            until, reason = refused
            note = f"{reason[:1].upper()}{reason[1:]}; the cost report is used until {until:%a %H:%M} UTC"
        analytics_rows, analytics_fetch = ([], None) if refused else self._cached(ANALYTICS, first)
        report_costs, report_fetch = self._cached("cost", first)
        # The Analytics API's days, unless the cost report holds newer figures (asked while it refused).
        from_analytics = analytics_fetch is not None and (
            report_fetch is None or analytics_fetch >= report_fetch
        )
        rows = [row for row in analytics_rows if isinstance(row, CostRow)] if from_analytics else []
        costs = cost_lines(rows) if from_analytics else [c for c in report_costs if isinstance(c, CostLine)]
        last_fetch = analytics_fetch if from_analytics else report_fetch
        if updated_at is None:
            updated_at = last_fetch
        if not costs and last_fetch is None:
            return ConsoleReport(status, message, self._organization(), None, None, note)
        if status is not Status.OK:
            message = showing_older(message, last_fetch, now)
        figures = summarize(
            now,
            costs,
            [t for t in self._cached("tokens", first)[0] if isinstance(t, TokenLine)],
            [c for c in self._cached("claude_code", first)[0] if isinstance(c, ClaudeCodeLine)],
            self._workspaces(),
            self.my_email,
            Budgets(self._settings.budget, self._settings.workspace_budgets),
            self._store.console_snapshots(now - timedelta(days=1)),
        )
        if from_analytics:
            keys = self._store.console_cache.api_keys()
            who = spenders(
                rows,
                None if keys is None else keys.keys,
                self.my_email,
                self._key_budget,
                now,
                figures.currency,
            )
            figures = dataclasses.replace(figures, source=SOURCE_ANALYTICS, spenders=who)
        return ConsoleReport(status, message, self._organization(), updated_at, figures, note)
