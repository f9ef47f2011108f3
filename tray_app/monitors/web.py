"""Opt-in claude.ai session: extra-usage limit, prepaid credits, usage without a Claude Code login.

Cloudflare answers scripts with a browser check now and then. That is not a logout: it is said in
plain words and the session is left alone for at least an hour, never retried in a loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tray_app.clock import utc_now
from tray_app.core.errors import (
    AuthError,
    ChallengeError,
    UsageError,
)
from tray_app.core.models import CodeReport, Source, Status
from tray_app.core.parse import reject_empty_answer
from tray_app.core.state import Refusal, WebLast
from tray_app.core.web_report import WebReport
from tray_app.monitors.code import CodeMonitor
from tray_app.monitors.policy import SharedPause, fingerprint, retry_after_of, showing_older, status_of
from tray_app.sources.claude_web import ClaudeWebClient
from tray_app.store import BackoffScope, RefusalSource, Store

if TYPE_CHECKING:  # only annotations: the module is imported by the cookie search itself (wiring)
    from tray_app.sources.browser_cookies import CookieSearch, SessionCookie

logger = logging.getLogger(__name__)

BACKOFF_SCOPE = BackoffScope.WEB
CHALLENGE_PAUSE = timedelta(hours=1)


class WebMonitor:
    """Refreshes the claude.ai figures; remembers the last good ones without the session key."""

    def __init__(
        self,
        store: Store,
        find_cookie: Callable[[], CookieSearch],
        client_for: Callable[[str], ClaudeWebClient],
        organization: str | None,
        fetch_usage: bool = False,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._find_cookie = find_cookie
        self._client_for = client_for
        self._organization = organization
        # Set when Claude Code is not logged in here: claude.ai's usage stands in for it.
        self._fetch_usage = fetch_usage
        self.last: WebReport | None = None
        self._clock = clock
        self._pause = SharedPause(store, BACKOFF_SCOPE, clock)
        self._cookie: SessionCookie | None = None
        self._client: ClaudeWebClient | None = None

    def search_cookie(self) -> CookieSearch:
        """Look for the session cookie now, as a refresh would (for `doctor`)."""
        return self._find_cookie()

    @property
    def cookie(self) -> SessionCookie | None:
        return self._cookie

    def stored_report(self) -> WebReport:
        return self._report(Status.STALE, "figures from the database")

    def refresh(self) -> WebReport:
        """Fetch the claude.ai figures unless paused; the report keeps the last good ones on failure."""
        self.last = self._refresh()
        return self.last

    def backoff_until(self) -> datetime | None:
        return self._pause.until()

    def _refresh(self) -> WebReport:
        now = self._clock()
        backoff = self._pause.holding(now)
        if backoff is not None:
            return self._report(
                Status.BLOCKED if "browser check" in backoff.reason else Status.RATE_LIMITED,
                f"{backoff.reason}; next try at {backoff.until:%H:%M} UTC",
            )
        client = self._session(now)
        if client is None:
            return self._report(Status.LOGIN_NEEDED, self._no_cookie_message())
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
        if refused is not None and refused.fingerprint == fingerprint(cookie.value):
            return None  # the same session claude.ai already refused: wait for a new login
        self._cookie = cookie
        self._client = self._client_for(cookie.value)
        return self._client

    def _fetch(self, client: ClaudeWebClient, now: datetime) -> WebReport:
        organizations = client.organizations()
        org = client.pick_organization(organizations, self._organization)
        if org is None:
            return self._report(Status.ERROR, "this claude.ai account has no organization")
        overage = client.overage(org.uuid)
        prepaid = client.prepaid(org.uuid)
        if self._fetch_usage:
            last_good = self._store.last_code_usage()
            usage = reject_empty_answer(client.usage(org.uuid), None if last_good is None else last_good[1])
            self._store.add_windows(now, usage.windows)
            self._store.save_code_usage(now, usage)
        browser = None if self._cookie is None else self._cookie.browser
        self._store.web_cache.set_last(WebLast(org.name, browser, overage, prepaid, now), now)
        self._pause.clear()
        return self._report(Status.OK, None)

    def _failure(self, exc: UsageError, now: datetime) -> WebReport:
        browser = self._cookie.browser if self._cookie is not None else "your browser"
        status = Status.BLOCKED if isinstance(exc, ChallengeError) else status_of(exc)
        if status is Status.BLOCKED:
            reason = "claude.ai is asking for a browser check; showing Claude Code figures only"
            until = self._pause.hold(CHALLENGE_PAUSE, reason, now).until
            logger.warning("claude.ai answered with a Cloudflare browser check; pausing until %s", until)
            return self._report(status, f"{reason}; next try at {until:%H:%M} UTC")
        if isinstance(exc, AuthError):
            if self._cookie is not None:
                refusal = Refusal(fingerprint(self._cookie.value))
                self._store.refusals.set(RefusalSource.WEB_SESSION, refusal, now)
            self._client = None
            if self._cookie is not None and self._cookie.browser == "config file":
                advice = "paste a new web.session_key into the settings"
            else:
                advice = f"log in to claude.ai in {browser} again"
            return self._report(status, f"the claude.ai session has expired: {advice}")
        if status is Status.RATE_LIMITED:
            # claude.ai is asked rarely: whatever the server says, at least a quarter of an hour.
            span = timedelta(seconds=max(retry_after_of(exc) or 0, CHALLENGE_PAUSE.total_seconds() / 4))
            until = self._pause.hold(span, str(exc), now).until
            return self._report(status, f"{exc}; next try at {until:%H:%M} UTC")
        if status is Status.OFFLINE:
            return self._report(status, f"offline: {exc}")
        logger.warning("claude.ai refresh failed: %s", exc)
        return self._report(Status.ERROR, str(exc))

    def _report(self, status: Status, message: str | None) -> WebReport:
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
        if status is not Status.OK:
            message = showing_older(message, last.fetched_at, self._clock())
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
        message = None if report.status is Status.OK else report.message
        return self._code.report_from(report.status, message, stored, Source.CLAUDE_AI)

    def stored_report(self, stale_after: timedelta) -> CodeReport:
        return self._code.stored_report(stale_after, Source.CLAUDE_AI)

    def restated(self, previous: CodeReport) -> CodeReport:
        return self._code.restated(previous, Source.CLAUDE_AI)

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
