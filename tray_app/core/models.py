"""Frozen value types shared by every layer: usage windows, credentials, forecasts, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

FIVE_HOUR = "five_hour"
SEVEN_DAY = "seven_day"


@dataclass(frozen=True)
class UsageWindow:
    """One limit window as the server reported it: utilization is percent 0-100.

    locked: the server says the window is locked (`locked_reason`), whatever its figure; binding: the
    limit that binds now (`limits[].is_active`); other: a key our table of names does not know, shown
    under "Other limits" with the key as its label.
    """

    id: str
    label: str
    utilization: float
    resets_at: datetime | None
    locked: bool = False
    binding: bool = False
    other: bool = False

    @property
    def blocked(self) -> bool:
        """At the limit or locked: the user is stopped until it resets."""
        return self.locked or self.utilization >= 100.0


@dataclass(frozen=True)
class ExtraUsage:
    """Pay-as-you-go extra usage, money already converted to major units (dollars, euros)."""

    enabled: bool
    used: float
    limit: float | None
    currency: str
    utilization: float | None


@dataclass(frozen=True)
class CodeUsage:
    """Everything /api/oauth/usage told us, in display order (5-hour first)."""

    windows: tuple[UsageWindow, ...]
    extra_usage: ExtraUsage | None

    def window(self, window_id: str) -> UsageWindow | None:
        return next((w for w in self.windows if w.id == window_id), None)


@dataclass(frozen=True)
class Account:
    """Who is logged in, from /api/oauth/profile (or the credentials when the profile is unknown)."""

    email: str | None
    plan: str | None
    organization: str | None


@dataclass(frozen=True)
class OAuthCredentials:
    """Claude Code's OAuth login. The tokens are excluded from repr so they cannot leak by printing."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    scopes: tuple[str, ...] | None
    subscription_type: str | None
    rate_limit_tier: str | None


@dataclass(frozen=True)
class TokenGrant:
    """A successful answer of the OAuth token endpoint."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int | None


@dataclass(frozen=True)
class Snapshot:
    """One stored observation of a window: when it was seen, its utilization and its reset time."""

    at: datetime
    utilization: float
    resets_at: datetime | None
    locked: bool = False  # the server said the window was locked (stored since schema version 4)


@dataclass(frozen=True)
class Forecast:
    """Where a window is heading. Every field is None when there is too little data to say."""

    rate_per_hour: float | None
    projected_at_reset: float | None
    limit_at: datetime | None


class Status(StrEnum):
    OK = "ok"
    STALE = "stale"
    LOGIN_NEEDED = "login_needed"
    RATE_LIMITED = "rate_limited"
    OFFLINE = "offline"
    ERROR = "error"
    BLOCKED = "blocked"  # claude.ai's Cloudflare browser check: not a logout, just not for scripts


class Source(StrEnum):
    """Where a window's figure came from; the values are the stable names in `status --json`."""

    CLAUDE_CODE = "claude_code"  # the status-line feed (core.readings)
    ANTHROPIC = "anthropic"  # our own poll of the usage endpoint
    CLAUDE_AI = "claude_ai"  # the claude.ai session standing in for the endpoint

    @property
    def display(self) -> str:
        return {"claude_code": "Claude Code", "anthropic": "Anthropic", "claude_ai": "claude.ai"}[self.value]


@dataclass(frozen=True)
class WindowReport:
    """A window with its forecast, and where and when its figure was heard (None: not known)."""

    window: UsageWindow
    forecast: Forecast
    source: Source = Source.ANTHROPIC
    observed_at: datetime | None = None


@dataclass(frozen=True)
class LimitHit:
    """One episode in which a window stood at 100 % or locked, from our own history."""

    window_id: str
    label: str
    started_at: datetime
    ended_at: datetime | None  # None: it still does

    def duration(self, now: datetime) -> timedelta:
        return (self.ended_at or now) - self.started_at


@dataclass(frozen=True)
class ResetGrant:
    """A free usage-limit reset the account may use (read-only: we never redeem one)."""

    label: str
    resets_left: int
    resets_total: int
    starts_at: datetime | None
    ends_at: datetime | None
    usable_now: bool
    paused: bool
    clears: tuple[str, ...]
    # True: Claude Code offers it only while a limit is hit (the CLI's default when the field is omitted).
    use_requires_limit: bool = True


@dataclass(frozen=True)
class ResetGrants:
    """The `cedar_ember` block of the usage answer: eligibility and the grants (never their ids)."""

    eligible: bool
    grants: tuple[ResetGrant, ...]
    checked_at: datetime
    ineligible_reason: str | None = None  # only "surface" seen: asked with another agent than the CLI's

    def available(self, now: datetime) -> tuple[int, int]:
        """(resets left, resets in all) over grants that have started, not ended and are not paused."""
        live = [
            grant
            for grant in self.grants
            if not grant.paused
            and (grant.starts_at is None or grant.starts_at <= now)
            and (grant.ends_at is None or now < grant.ends_at)
        ]
        return sum(g.resets_left for g in live), sum(g.resets_total for g in live)


@dataclass(frozen=True)
class CodeReport:
    """The outcome of one Code-mode poll (or database read), ready to present."""

    status: Status
    message: str | None
    account: Account | None
    updated_at: datetime | None
    windows: tuple[WindowReport, ...]
    extra_usage: ExtraUsage | None
    # Filled by the monitor from our history and the grants cache (issue 15); empty when not known.
    limit_hits: tuple[LimitHit, ...] = ()
    reset_grants: ResetGrants | None = None


@dataclass(frozen=True)
class Backoff:
    """A server-imposed pause shared by every process through the database."""

    until: datetime
    reason: str
    strikes: int
