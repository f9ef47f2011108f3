"""How long to stay away from a server that said 429 (or 503 with Retry-After)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tray_app.core.models import Backoff

DEFAULT_RATE_LIMIT_PAUSE = 300.0
MAX_SERVER_PAUSE = 6 * 3600.0
# The usage endpoint throttles per token and has been seen answering Retry-After: 3600 (api-2026.md 5.1):
# without the header we start at the interval reported as safe and double, up to an hour; the server's
# own figure is honoured up to two hours, so a broken header cannot hide the figures for longer.
USAGE_FIRST_PAUSE = 180.0
USAGE_MAX_GUESSED_PAUSE = 3600.0
USAGE_MAX_SERVER_PAUSE = 2 * 3600.0

PauseRule = Callable[[float | None, int], float]


def _floor(strikes: int) -> float:
    # A Retry-After of 0 (what the server sends to agents it distrusts) or a tiny one, repeated, must not
    # let us hammer it: the pause grows from a minute with each refusal in a row. (The exponent is capped
    # only so that a long run of refusals cannot overflow a float; the result is capped far below.)
    return min(60.0 * 2.0 ** min(strikes - 1, 16), 3600.0)


def rate_limit_pause(retry_after: float | None, strikes: int) -> float:
    """Seconds to stay away after the strikes-th 429 in a row (the Admin API's rule: Console mode).

    Retry-After is honoured; 0 and repeated 429s get an escalating floor so we never hammer it.
    """
    asked = DEFAULT_RATE_LIMIT_PAUSE if retry_after is None else retry_after
    return float(min(max(asked, _floor(strikes)), MAX_SERVER_PAUSE))


def usage_endpoint_pause(retry_after: float | None, strikes: int) -> float:
    """Seconds to stay away from Claude Code's usage endpoint after the strikes-th refusal in a row.

    Without Retry-After: 180 s, doubling with each refusal, up to an hour. With it: the server's figure
    (never under the escalating floor above), up to two hours.
    """
    if retry_after is None:
        return float(min(USAGE_FIRST_PAUSE * 2.0 ** min(strikes - 1, 16), USAGE_MAX_GUESSED_PAUSE))
    return float(min(max(retry_after, _floor(strikes)), USAGE_MAX_SERVER_PAUSE))


def next_backoff(
    previous: Backoff | None,
    retry_after: float | None,
    reason: str,
    now: datetime,
    rule: PauseRule = rate_limit_pause,
) -> Backoff:
    """The pause after one more refusal in a row (a previous pause counts as the earlier strikes)."""
    strikes = 1 if previous is None else previous.strikes + 1
    until = now + timedelta(seconds=rule(retry_after, strikes))
    # The database keeps whole seconds and drops the fraction: round up, or a retry could come early.
    if until.microsecond:
        until = until.replace(microsecond=0) + timedelta(seconds=1)
    return Backoff(until, reason, strikes)
