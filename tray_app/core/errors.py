"""Typed errors raised by the adapters and understood by the poller. Messages never hold secrets."""

from __future__ import annotations

from enum import StrEnum


class UsageError(Exception):
    """Base of every error this program expects and reports in plain words."""


class ConfigError(UsageError):
    """The configuration (file, environment or command line) is wrong."""


class CredentialsError(UsageError):
    """The Claude Code login is missing, unreadable or malformed."""


class AuthKind(StrEnum):
    EXPIRED = "expired"
    INVALID = "invalid"
    SCOPE = "scope"
    FORBIDDEN = "forbidden"
    REFRESH_REJECTED = "refresh_rejected"


class AuthError(UsageError):
    """The server refused the token (401, or 403)."""

    def __init__(self, kind: AuthKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class RateLimited(UsageError):
    """HTTP 429. retry_after is in seconds, None when the server gave no usable Retry-After."""

    def __init__(self, retry_after: float | None, message: str = "rate limited by the server") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(UsageError):
    """HTTP 5xx or another unexpected status."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class NetworkError(UsageError):
    """No answer: connection refused, DNS failure, timeout, TLS failure."""


class ShapeError(UsageError):
    """The server answered, but not with the JSON we know (HTML page, truncated body, wrong types)."""


class ChallengeError(UsageError):
    """claude.ai's Cloudflare front answered with a browser check: not a logout, the session may be fine."""
