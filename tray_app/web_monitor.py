"""Opt-in claude.ai session: extra-usage limit, prepaid credits, usage without a Claude Code login.

Cloudflare answers scripts with a browser check now and then. That is not a logout: it is said in
plain words and the session is left alone for at least an hour, never retried in a loop.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tray_app.core.errors import (
    AuthError,
    ChallengeError,
    NetworkError,
    RateLimited,
    ServerError,
    UsageError,
)
from tray_app.core.models import Backoff, CodeReport, CodeStatus
from tray_app.core.parse import reject_empty_answer
from tray_app.core.report import format_age
from tray_app.core.state import Refusal, WebLast
from tray_app.core.web_report import WebReport
from tray_app.poller import CodeMonitor
from tray_app.sources.claude_web import ClaudeWebClient
from tray_app.sources.web_api import CookieSearch, SessionCookie
from tray_app.store import BackoffScope, RefusalSource, Store

logger = logging.getLogger(__name__)

BACKOFF_SCOPE = BackoffScope.WEB
CHALLENGE_PAUSE = timedelta(hours=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class WebMonitor:
    """Refreshes the claude.ai figures; remembers the last good ones without the session key."""

    def __init__(
        self,
        store: Store,
        find_cookie: Callable[[], CookieSearch],
        client_for: Callable[[str], ClaudeWebClient],
        organization: str | None,
        fetch_usage: bool = False,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        self._find_cookie = find_cookie
        self._client_for = client_for
        self._organization = organization
        # Set when Claude Code is not logged in here: claude.ai's usage stands in for it.
        self._fetch_usage = fetch_usage
        self.last: WebReport | None = None
        self._clock = clock
        self._cookie: SessionCookie | None = None
        self._client: ClaudeWebClient | None = None

    def search_cookie(self) -> CookieSearch:
        """Look for the session cookie now, as a refresh would (for `doctor`)."""
        return self._find_cookie()

    @property
    def cookie(self) -> SessionCookie | None:
        return self._cookie

    def stored_report(self) -> WebReport:
        return self._report(CodeStatus.STALE, "figures from the database")

    def refresh(self) -> WebReport:
        """Fetch the claude.ai figures unless paused; the report keeps the last good ones on failure."""
        self.last = self._refresh()
        return self.last

    def backoff_until(self) -> datetime | None:
        backoff = self._store.backoffs.get(BACKOFF_SCOPE)
        return None if backoff is None or backoff.until <= self._clock() else backoff.until

    def _refresh(self) -> WebReport:
        now = self._clock()
        backoff = self._store.backoffs.get(BACKOFF_SCOPE)
        if backoff is not None and backoff.until > now:
            return self._report(
                CodeStatus.BLOCKED if "browser check" in backoff.reason else CodeStatus.RATE_LIMITED,
                f"{backoff.reason}; next try at {backoff.until:%H:%M} UTC",
            )
        client = self._session(now)
        if client is None:
            return self._report(CodeStatus.LOGIN_NEEDED, self._no_cookie_message())
        try:
            return self._fetch(client, now)
        except UsageError as exc:
            return self._failure(exc, now)

    def _no_cookie_message(self) -> str:
        return "no claude.ai session found: log in to claude.ai in Firefox or Chrome, or set web.session_key"

    def _session(self, now: datetime) -> ClaudeWebClient | None:
        if self._client is not None:
            return self._client
        search = self._find_cookie()
        for problem in search.problems:
            logger.info("browser cookies: %s", problem)
        cookie = search.found
        if cookie is None:
            return None
        refused = self._store.refusals.get(RefusalSource.WEB_SESSION)
        if refused is not None and refused.fingerprint == _fingerprint(cookie.value):
            return None  # the same session claude.ai already refused: wait for a new login
        self._cookie = cookie
        self._client = self._client_for(cookie.value)
        return self._client

    def _fetch(self, client: ClaudeWebClient, now: datetime) -> WebReport:
        organizations = client.organizations()
        org = client.pick_organization(organizations, self._organization)
        if org is None:
            return self._report(CodeStatus.ERROR, "this claude.ai account has no organization")
        overage = client.overage(org.uuid)
        prepaid = client.prepaid(org.uuid)
        if self._fetch_usage:
            last_good = self._store.last_code_usage()
            usage = reject_empty_answer(client.usage(org.uuid), None if last_good is None else last_good[1])
            self._store.add_windows(now, usage.windows)
            self._store.save_code_usage(now, usage)
        browser = None if self._cookie is None else self._cookie.browser
        self._store.web_cache.set_last(WebLast(org.name, browser, overage, prepaid, now), now)
        self._store.backoffs.clear(BACKOFF_SCOPE)
        return self._report(CodeStatus.OK, None)

    def _failure(self, exc: UsageError, now: datetime) -> WebReport:
        browser = self._cookie.browser if self._cookie is not None else "your browser"
        if isinstance(exc, ChallengeError):
            # Whole seconds are stored: round up so the pause is never a moment short of the hour.
            until = (now + CHALLENGE_PAUSE + timedelta(seconds=1)).replace(microsecond=0)
            reason = "claude.ai is asking for a browser check; showing Claude Code figures only"
            self._store.backoffs.set(BACKOFF_SCOPE, Backoff(until, reason, 1))
            logger.warning("claude.ai answered with a Cloudflare browser check; pausing until %s", until)
            return self._report(CodeStatus.BLOCKED, f"{reason}; next try at {until:%H:%M} UTC")
        if isinstance(exc, AuthError):
            if self._cookie is not None:
                refusal = Refusal(_fingerprint(self._cookie.value))
                self._store.refusals.set(RefusalSource.WEB_SESSION, refusal, now)
            self._client = None
            if self._cookie is not None and self._cookie.browser == "config file":
                advice = "paste a new web.session_key into the settings"
            else:
                advice = f"log in to claude.ai in {browser} again"
            return self._report(CodeStatus.LOGIN_NEEDED, f"the claude.ai session has expired: {advice}")
        if isinstance(exc, RateLimited) or (isinstance(exc, ServerError) and exc.retry_after is not None):
            # A 429, or a 503 that says when to come back: every process stays away at least that long.
            until = now + timedelta(seconds=max(exc.retry_after or 0, CHALLENGE_PAUSE.total_seconds() / 4))
            self._store.backoffs.set(BACKOFF_SCOPE, Backoff(until, str(exc), 1))
            return self._report(CodeStatus.RATE_LIMITED, f"{exc}; next try at {until:%H:%M} UTC")
        if isinstance(exc, NetworkError):
            return self._report(CodeStatus.OFFLINE, f"offline: {exc}")
        logger.warning("claude.ai refresh failed: %s", exc)
        return self._report(CodeStatus.ERROR, str(exc))

    def _report(self, status: CodeStatus, message: str | None) -> WebReport:
        last = self._store.web_cache.last()
        if last is None:
            return WebReport(
                status,
                message,
                None if self._cookie is None else self._cookie.browser,
                None,
                None,
                None,
                None,
            )
        if status is not CodeStatus.OK:
            message = f"{message} (showing figures from {format_age(self._clock() - last.fetched_at)})"
        return WebReport(
            status=status,
            message=message,
            browser=last.browser,
            organization=last.organization,
            overage=last.overage,
            prepaid=last.prepaid,
            updated_at=last.fetched_at,
        )


class WebUsageMonitor:
    """Code mode's figures from claude.ai, for machines where Claude Code is not logged in.

    It answers the poller like CodeMonitor does; the forecasts come from the same stored history.
    """

    def __init__(self, web: WebMonitor, code: CodeMonitor) -> None:
        self._web = web
        self._code = code

    def poll(self, force: bool = False) -> CodeReport:
        report = self._web.refresh()
        stored = self._code.stored_usage()
        message = None if report.status is CodeStatus.OK else report.message
        return self._code.report_from(report.status, message, stored)

    def stored_report(self, stale_after: timedelta) -> CodeReport:
        return self._code.stored_report(stale_after)

    def backoff_until(self) -> datetime | None:
        return self._web.backoff_until()


class LastWebReport:
    """The web side of the menu when WebUsageMonitor already refreshes claude.ai: no second request."""

    def __init__(self, web: WebMonitor) -> None:
        self._web = web

    def refresh(self) -> WebReport:
        return self._web.last or self._web.stored_report()

    def stored_report(self) -> WebReport:
        return self._web.stored_report()


class WebSwitch:
    """On/off for the claude.ai session: the menu's choice (kept in the database) over the config's."""

    def __init__(self, store: Store, configured: bool) -> None:
        self._store = store
        self._configured = configured

    @property
    def enabled(self) -> bool:
        chosen = self._store.switches.web_session_on()
        return self._configured if chosen is None else chosen

    def set(self, enabled: bool, now: datetime) -> None:
        self._store.switches.set_web_session_on(enabled, now)


class SwitchedWeb:
    """The poller's web source: refreshes only while the session is switched on."""

    def __init__(self, source: WebMonitor | LastWebReport, switch: WebSwitch) -> None:
        self._source = source
        self._switch = switch

    def refresh(self) -> WebReport | None:
        return self._source.refresh() if self._switch.enabled else None

    def stored_report(self) -> WebReport | None:
        return self._source.stored_report() if self._switch.enabled else None
