"""The pause after a 429 or a 503 with Retry-After: honoured, escalating, and never a second short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tray_app.core.backoff import next_backoff
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
