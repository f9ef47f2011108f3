"""Code mode: one poll of Claude Code's usage endpoint (credentials -> back-off check -> fetch -> store ->
report). Errors become states."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo

from tray_app.clock import utc_now
from tray_app.core.backoff import usage_endpoint_pause
from tray_app.core.errors import (
    AuthError,
    AuthKind,
    CredentialsError,
    UsageError,
)
from tray_app.core.forecast import MIN_SPAN
from tray_app.core.limit_names import unknown_keys
from tray_app.core.models import Account, CodeReport, CodeUsage, Snapshot, Source, Status
from tray_app.core.parse import expires_soon, plan_name, reject_empty_answer
from tray_app.core.report import build_code_report, format_age
from tray_app.core.state import Refusal
from tray_app.monitors.grants import ResetGrantsCheck
from tray_app.monitors.limit_hits import RecentLimitHits
from tray_app.monitors.policy import SharedPause, fingerprint, showing_older, status_of
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
    AuthKind.SCOPE: "this login lacks the user:profile scope: run `claude auth login`",
    AuthKind.EXPIRED: "expired: run `claude auth login` to log in again",
    AuthKind.INVALID: "the server refused this login: run `claude auth login`",
    AuthKind.FORBIDDEN: "the server denied access to usage for this login: run `claude auth login`",
    AuthKind.REFRESH_REJECTED: "the refresh token was refused: run `claude auth login`",
}


class CodeMonitor:
    """Polls Code mode politely, shares back-off and last good figures with other processes."""

    def __init__(
        self,
        store: Store,
        credentials: ClaudeCredentialStore,
        api: CodeApi,
        token_endpoint: TokenEndpoint | None = None,
        clock: Callable[[], datetime] = utc_now,
        forecast_min_span: timedelta = MIN_SPAN,
        shared_freshness: timedelta = SHARED_FRESHNESS,
        local_tz: Callable[[], tzinfo] = lambda: UTC,
        ask_reset_grants: bool = False,
    ) -> None:
        """ask_reset_grants: also ask hourly for the free limit resets (the wiring turns it on; a stored
        answer of another process is shown either way)."""
        self._store = store
        self._min_span = forecast_min_span
        self._shared_freshness = shared_freshness
        self._credentials = credentials
        self._api = api
        self._token_endpoint = token_endpoint  # None unless token_refresh = "self"
        self._clock = clock
        self._local_tz = local_tz  # read at each pause: a laptop travels
        self._pause = SharedPause(store, BACKOFF_SCOPE, clock, usage_endpoint_pause)
        self._limit_hits = RecentLimitHits(store)  # the week's, for the menu: read on a change, else hourly
        self._reported_keys: set[str] = set()  # one monitor per process: see _log_unknown_keys
        self._grants = ResetGrantsCheck(store, api, clock)
        self._ask_grants = ask_reset_grants

    def stored_report(self, stale_after: timedelta, source: Source = Source.ANTHROPIC) -> CodeReport:
        """The last stored figures without any network: `status --offline`, and the tray at start-up."""
        now = self._clock()
        stored = self._store.last_code_usage()
        if stored is None:
            return self._report(Status.STALE, "no figures stored yet: run `claude-usage-tray status`", None)
        age = now - stored[0]
        status = Status.OK if age <= stale_after else Status.STALE
        return self._report(status, f"stored figures from {format_age(age)}", stored, source)

    def backoff_until(self) -> datetime | None:
        """When the shared back-off ends, if one is in force."""
        return self._pause.until()

    def poll(self, force: bool = False) -> CodeReport:
        """Fetch now unless a shared back-off or a very recent fetch says not to.

        force (the user's "Refresh now") skips the sharing of a very recent answer, never a back-off.
        """
        now = self._clock()
        stored = self._store.last_code_usage()
        try:
            loaded = self._credentials.load()
            self._check_usable(loaded, now)
        except (CredentialsError, AuthError) as exc:
            return self._failure(Status.LOGIN_NEEDED, str(exc), stored, now)
        backoff = self._pause.holding(now)
        if backoff is not None:
            return self._paused(backoff.reason, backoff.until, stored, now)
        fresh = stored is not None and now - stored[0] < self._shared_freshness
        if not force and fresh and self._recently_attempted(now):
            return self._report(Status.OK, None, stored)
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
            raise AuthError(AuthKind.SCOPE, f"{hint}: run `claude auth login`")
        refused = self._store.refusals.get(RefusalSource.CODE_TOKEN) or Refusal("")
        kind = refused.reason
        retry_by_refresh = kind == AuthKind.EXPIRED and self._token_endpoint is not None
        same_token = refused.fingerprint == fingerprint(creds.access_token)
        if same_token and kind in set(AuthKind) and not retry_by_refresh:
            raise AuthError(AuthKind(kind), _AUTH_MESSAGES[AuthKind(kind)])
        if expires_soon(creds, now, timedelta(0)) and self._token_endpoint is None:
            raise AuthError(AuthKind.EXPIRED, _AUTH_MESSAGES[AuthKind.EXPIRED])

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
        self._log_unknown_keys(usage)
        fetched_at = self._clock()
        self._store.add_windows(fetched_at, usage.windows)
        self._store.save_code_usage(fetched_at, usage)
        self._pause.clear()
        self._refresh_profile(loaded, fetched_at)
        if self._ask_grants:
            self._grants.refresh(loaded.credentials.access_token, fetched_at)
        self._store.prune(fetched_at)
        return self._report(Status.OK, None, (fetched_at, usage))

    def _log_unknown_keys(self, usage: CodeUsage) -> None:
        """Once per key and process: a new codename is news for the maintainers, not for every poll."""
        for key in unknown_keys(usage.windows):
            if key not in self._reported_keys:
                self._reported_keys.add(key)
                logger.info(
                    "the usage answer has a limit our table does not name: %s (shown under its key)", key
                )

    def _refresh(self, loaded: LoadedCredentials, now: datetime) -> LoadedCredentials:
        """Opt-in refresh: new pair from the token endpoint, written back only if nobody else did."""
        assert self._token_endpoint is not None
        refresh_token = loaded.credentials.refresh_token
        if refresh_token is None:
            raise AuthError(
                AuthKind.EXPIRED, "expired, and the login has no refresh token: run `claude auth login`"
            )
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
        status = status_of(exc)
        message = f"offline: {exc}" if status is Status.OFFLINE else str(exc)
        if status is Status.RATE_LIMITED:
            backoff = self._pause.lengthen(exc, now)
            pause = (backoff.until - now).total_seconds()
            logger.warning("%s; pausing %d s (strike %d)", exc, pause, backoff.strikes)
            return self._paused(str(exc), backoff.until, stored, now)
        if isinstance(exc, AuthError):
            # A refused token stays refused: remember it (as a digest) so no process resends it;
            # a new token written by Claude Code is tried at once.
            digest = fingerprint(loaded.credentials.access_token)
            self._store.refusals.set(RefusalSource.CODE_TOKEN, Refusal(digest, exc.kind.value), now)
            message = _AUTH_MESSAGES[exc.kind]
        elif status is Status.ERROR:
            logger.warning("usage fetch failed: %s", exc)
        return self._failure(status, message, stored, now)

    def _paused(
        self, reason: str, until: datetime, stored: tuple[datetime, CodeUsage] | None, now: datetime
    ) -> CodeReport:
        # Until when, in the user's own time and named (the menu, `status` and its JSON show this line):
        # a pause can now last two hours, and "next try at 14:10:00 UTC" made the user do the sums.
        wait = f"next try at {until.astimezone(self._local_tz()):%H:%M:%S %Z}"
        return self._failure(Status.RATE_LIMITED, f"{reason}; {wait}", stored, now)

    def _failure(
        self, status: Status, message: str, stored: tuple[datetime, CodeUsage] | None, now: datetime
    ) -> CodeReport:
        fetched_at = None if stored is None else stored[0]
        return self._report(status, showing_older(message, fetched_at, now), stored)

    def stored_usage(self) -> tuple[datetime, CodeUsage] | None:
        return self._store.last_code_usage()

    def report_from(
        self,
        status: Status,
        message: str | None,
        stored: tuple[datetime, CodeUsage] | None,
        source: Source = Source.ANTHROPIC,
    ) -> CodeReport:
        """A report of given figures with their stored history's forecasts (the claude.ai fallback)."""
        return self._report(status, message, stored, source)

    def restated(self, previous: CodeReport, source: Source = Source.ANTHROPIC) -> CodeReport:
        """previous (the last poll's outcome) again with the readings stored since: new figures from
        Claude Code's status line reach the tray without a request."""
        return self._report(previous.status, previous.message, self._store.last_code_usage(), source)

    def _report(
        self,
        status: Status,
        message: str | None,
        stored: tuple[datetime, CodeUsage] | None,
        source: Source = Source.ANTHROPIC,
    ) -> CodeReport:
        known = self._store.account()
        account = None if known is None else known[1]
        fed = self._store.readings.fed()
        now = self._clock()
        grants = self._grants.current(now)

        def build(histories: Mapping[str, Sequence[Snapshot]]) -> CodeReport:
            return build_code_report(
                status, message, account, stored, histories, self._min_span, fed=fed, now=now, source=source
            )

        def finished(report: CodeReport) -> CodeReport:
            # Once per report, on the figures shown: the grants and the week's limit hits.
            return replace(report, reset_grants=grants, limit_hits=self._limit_hits.for_report(report, now))

        polled = () if stored is None else stored[1].windows
        ids = list(dict.fromkeys([*(w.id for w in polled), *(r.window.id for r in fed)]))
        if not ids:
            return finished(build({}))
        # Six hours of history are enough for almost every forecast; the rare window with too little
        # recent data gets its whole period read in a second pass, so a normal poll stays cheap. The
        # store keeps those hours in memory between polls and reads only the rows written since.
        newest = max([*([stored[0]] if stored else []), *(r.observed_at for r in fed)])
        recent = self._store.recent_window_histories(ids, newest - RECENT_HISTORY)
        report = build(recent)
        thin = [
            item.window.id
            for item in report.windows
            if item.forecast.rate_per_hour is None and item.window.resets_at is not None
        ]
        if not thin:
            return finished(report)
        full = {**recent, **{wid: self._store.window_history(wid, newest - HISTORY_SPAN) for wid in thin}}
        return finished(build(full))
