"""The pause after a 429 or a 503 with Retry-After: honoured, escalating, and never a second short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tray_app.core.backoff import next_backoff, rate_limit_pause, usage_endpoint_pause
from tray_app.core.models import Backoff

NOW = datetime(2026, 11, 26, 9, 0, 0, 250_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retry_after", "previous_strikes", "at_least"),
    [
        (120.0, 0, 120.0),  # the server's word
        (0.0, 0, 60.0),  # "0" gets a floor
        (None, 0, 300.0),  # no header: five minutes
        (30.0, 2, 240.0),  # a third refusal in a row: the floor has doubled twice
        (0.4, 0, 60.0),
    ],
)
def test_the_pause_ends_on_a_whole_second_never_before_it_is_due(
    retry_after: float | None, previous_strikes: int, at_least: float
) -> None:
    previous = None if previous_strikes == 0 else Backoff(NOW, "earlier", previous_strikes)
    backoff = next_backoff(previous, retry_after, "HTTP 429", NOW)
    # Stored as whole seconds: a fraction would be dropped and the retry would come early.
    assert backoff.until.microsecond == 0
    assert NOW + timedelta(seconds=at_least) <= backoff.until < NOW + timedelta(seconds=at_least + 1)
    assert backoff.strikes == previous_strikes + 1


@pytest.mark.parametrize(
    ("retry_after", "strikes", "seconds"),
    [
        # No Retry-After: 180 s, doubling with each refusal in a row, up to an hour.
        (None, 1, 180.0),
        (None, 2, 360.0),
        (None, 3, 720.0),
        (None, 5, 2880.0),
        (None, 6, 3600.0),
        (None, 40, 3600.0),
        (None, 5000, 3600.0),  # a very long run of refusals neither overflows nor grows
        # Retry-After: the server's figure, up to two hours; 0 or a tiny one meets the escalating floor.
        (3600.0, 1, 3600.0),
        (5000.0, 1, 5000.0),
        (7200.0, 1, 7200.0),
        (86400.0, 1, 7200.0),
        (0.0, 1, 60.0),
        (20.0, 4, 480.0),
        (0.0, 5000, 3600.0),
    ],
)
def test_the_usage_endpoint_rule(retry_after: float | None, strikes: int, seconds: float) -> None:
    assert usage_endpoint_pause(retry_after, strikes) == seconds


def test_console_keeps_its_own_rule() -> None:
    # The Admin API is another server with documented limits: five minutes without Retry-After, as before.
    assert [rate_limit_pause(None, n) for n in (1, 4, 5, 7, 40)] == [300.0, 480.0, 960.0, 3600.0, 3600.0]
    assert rate_limit_pause(10 * 3600.0, 1) == 6 * 3600.0


def test_next_backoff_follows_the_rule_it_is_given() -> None:
    first = next_backoff(None, None, "HTTP 429", NOW, usage_endpoint_pause)
    second = next_backoff(first, None, "HTTP 429", NOW, usage_endpoint_pause)
    assert (first.until - NOW).total_seconds() == pytest.approx(180.75)
    assert (second.until - NOW).total_seconds() == pytest.approx(360.75)
