"""How long to stay away from a server that said 429 (or 503 with Retry-After)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tray_app.core.models import Backoff

DEFAULT_RATE_LIMIT_PAUSE = 300.0
MAX_SERVER_PAUSE = 6 * 3600.0


def rate_limit_pause(retry_after: float | None, strikes: int) -> float:
    """Seconds to stay away after the strikes-th 429 in a row.

    Retry-After is honoured; 0 (what the server sends to agents it distrusts) and repeated 429s
    get an escalating floor so we never hammer it.
    """
    floor = min(60.0 * 2 ** (strikes - 1), 3600.0)
    asked = DEFAULT_RATE_LIMIT_PAUSE if retry_after is None else retry_after
    return float(min(max(asked, floor), MAX_SERVER_PAUSE))


def next_backoff(previous: Backoff | None, retry_after: float | None, reason: str, now: datetime) -> Backoff:
    """The pause after one more refusal in a row (a previous pause counts as the earlier strikes)."""
    strikes = 1 if previous is None else previous.strikes + 1
    until = now + timedelta(seconds=rate_limit_pause(retry_after, strikes))
    # The database keeps whole seconds and drops the fraction: round up, or a retry could come early.
    if until.microsecond:
        until = until.replace(microsecond=0) + timedelta(seconds=1)
    return Backoff(until, reason, strikes)
