"""One failure policy for every source: what an error means for the status, the shared back-off and a
refused credential, and how a report that keeps older figures says so."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from tray_app.core.backoff import PauseRule, next_backoff, rate_limit_pause
from tray_app.core.errors import (
    AuthError,
    CredentialsError,
    NetworkError,
    RateLimited,
    ServerError,
    UsageError,
)
from tray_app.core.models import Backoff, Status
from tray_app.core.report import format_age
from tray_app.store import BackoffScope, Store


def fingerprint(secret: str) -> str:
    """A short one-way digest: every process can remember a refused token, key or session without it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def asks_for_pause(exc: UsageError) -> bool:
    """A 429, or a 5xx that says when to come back: every process stays away at least that long."""
    return isinstance(exc, RateLimited) or (isinstance(exc, ServerError) and exc.retry_after is not None)


def retry_after_of(exc: UsageError) -> float | None:
    """The seconds the server asked us to stay away, if it said."""
    return exc.retry_after if isinstance(exc, RateLimited | ServerError) else None


def status_of(exc: UsageError) -> Status:
    """The state an error puts a source in. A Cloudflare browser check is an error like any other of a
    server for Code and Console mode (their login is fine, and failures slow the polling down); only
    claude.ai's monitor calls it BLOCKED, and pauses for an hour."""
    if isinstance(exc, CredentialsError | AuthError):
        return Status.LOGIN_NEEDED
    if asks_for_pause(exc):
        return Status.RATE_LIMITED
    if isinstance(exc, NetworkError):
        return Status.OFFLINE
    return Status.ERROR


def showing_older(message: str | None, fetched_at: datetime | None, now: datetime) -> str | None:
    """A failure's message, saying how old the figures still shown are."""
    if fetched_at is None:
        return message
    return f"{message} (showing figures from {format_age(now - fetched_at)})"


class SharedPause:
    """One source's back-off, kept in the database so that every process honours it."""

    def __init__(
        self,
        store: Store,
        scope: BackoffScope,
        clock: Callable[[], datetime],
        rule: PauseRule = rate_limit_pause,
    ) -> None:
        self._store = store
        self._scope = scope
        self._clock = clock
        self._rule = rule  # each server has its own idea of politeness (tray_app.core.backoff)

    def holding(self, now: datetime) -> Backoff | None:
        """The back-off in force at now, if any."""
        backoff = self._store.backoffs.get(self._scope)
        return backoff if backoff is not None and backoff.until > now else None

    def until(self) -> datetime | None:
        """When the back-off in force ends (the poller sleeps until then)."""
        backoff = self.holding(self._clock())
        return None if backoff is None else backoff.until

    def lengthen(self, exc: UsageError, now: datetime) -> Backoff:
        """The server's Retry-After, or the next step of the doubling pause; stored and returned."""
        previous = self._store.backoffs.get(self._scope)
        backoff = next_backoff(previous, retry_after_of(exc), str(exc), now, self._rule)
        self._store.backoffs.set(self._scope, backoff)
        return backoff

    def hold(self, span: timedelta, reason: str, now: datetime) -> Backoff:
        """A fixed pause. Whole seconds are stored: rounded up, so it is never a moment short."""
        until = (now + span + timedelta(seconds=1)).replace(microsecond=0)
        backoff = Backoff(until, reason, 1)
        self._store.backoffs.set(self._scope, backoff)
        return backoff

    def clear(self) -> None:
        self._store.backoffs.clear(self._scope)
