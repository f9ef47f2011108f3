"""Forecast tables: explicit times, no clock."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from tray_app.core.forecast import current_period, forecast, rate_per_hour
from tray_app.core.models import Snapshot, UsageWindow

NOW = datetime(2026, 8, 4, 12, 0, tzinfo=UTC)
RESET = datetime(2026, 8, 4, 15, 0, tzinfo=UTC)


def series(points: Sequence[tuple[float, float]], resets_at: datetime | None = RESET) -> list[Snapshot]:
    """(minutes before NOW, utilization) pairs -> snapshots."""
    return [Snapshot(NOW - timedelta(minutes=m), u, resets_at) for m, u in points]


def steady(minutes: int, every: int, pct_per_hour: float, end: float) -> list[tuple[float, float]]:
    return [(m, end - pct_per_hour * m / 60) for m in range(minutes, -1, -every)]


@pytest.mark.parametrize(
    ("name", "points", "expected_rate"),
    [
        ("steady 12 %/h over 30 min", steady(30, 1, 12, 50), 12.0),
        ("steady over 2 h: the 30-min lookback is enough", steady(120, 5, 6, 50), 6.0),
        ("flat usage", [(m, 40.0) for m in range(0, 31, 5)], 0.0),
        ("only two points", [(20, 10.0), (0, 20.0)], None),
        ("three points within 5 min: span too short", [(4, 10.0), (2, 11.0), (0, 12.0)], None),
        (
            "one wild point among steady ones",
            [*steady(30, 5, 10, 50)[:3], (15, 95.0), *steady(10, 5, 10, 50)],
            10.0,
        ),
        ("sparse recent data falls back to 3 h", [(170, 10.0), (100, 17.0), (45, 22.5), (0, 27.0)], 6.0),
        ("decreasing noise is not a negative rate", [(30, 50.0), (20, 49.0), (10, 48.5), (0, 48.0)], 0.0),
    ],
)
def test_rate_per_hour(name: str, points: list[tuple[float, float]], expected_rate: float | None) -> None:
    rate = rate_per_hour(series(points), NOW)
    if expected_rate is None:
        assert rate is None, name
    else:
        assert rate == pytest.approx(expected_rate, abs=0.01), name


def test_gap_from_suspend_uses_real_time_not_sample_count() -> None:
    # 10 %/h before a 2-hour suspend and after it: the gap must not distort the pace.
    before = [(m, 50 - 10 * m / 60) for m in (180, 170, 160, 150)]
    after = [(m, 50 - 10 * m / 60) for m in (20, 10, 0)]
    assert rate_per_hour(series(before + after), NOW) == pytest.approx(10.0)


def test_points_after_the_observation_are_ignored() -> None:
    points = series(steady(30, 5, 12, 50)) + [Snapshot(NOW + timedelta(minutes=5), 99.0, RESET)]
    assert rate_per_hour(points, NOW) == pytest.approx(12.0)


def test_current_period_drops_the_previous_period_and_tolerates_jitter() -> None:
    old_reset = RESET - timedelta(hours=5)
    history = [
        Snapshot(NOW - timedelta(minutes=50), 90.0, old_reset),
        Snapshot(NOW - timedelta(minutes=20), 2.0, RESET + timedelta(microseconds=1100)),
        Snapshot(NOW - timedelta(minutes=10), 5.0, RESET - timedelta(seconds=1)),
        Snapshot(NOW - timedelta(minutes=5), 0.0, None),
    ]
    assert [s.utilization for s in current_period(history, RESET)] == [2.0, 5.0]
    assert current_period(history, None) == []


def test_a_reset_restarts_the_series() -> None:
    # The previous period climbed fast; after the reset only two points exist: too little to say.
    old = series(steady(60, 5, 40, 95), resets_at=RESET - timedelta(hours=5))
    new = series([(4, 1.0), (0, 3.0)])
    window = UsageWindow("five_hour", "5-hour", 3.0, RESET)
    assert forecast(window, old + new, NOW).rate_per_hour is None


@pytest.mark.parametrize(
    ("name", "utilization", "rate", "reset_in_h", "projected", "limit_in_h"),
    [
        ("under the limit at reset", 40.0, 10.0, 3.0, 70.0, None),
        ("over the limit before reset", 70.0, 20.0, 3.0, 130.0, 1.5),
        ("reaches exactly at reset", 70.0, 10.0, 3.0, 100.0, None),
        ("already at 100 %", 100.0, 5.0, 2.0, 110.0, None),
        ("no increase", 55.0, 0.0, 2.0, 55.0, None),
    ],
)
def test_forecast_table(
    name: str, utilization: float, rate: float, reset_in_h: float, projected: float, limit_in_h: float | None
) -> None:
    reset = NOW + timedelta(hours=reset_in_h)
    history = series([(m, utilization - rate * m / 60) for m in range(30, -1, -5)], resets_at=reset)
    result = forecast(UsageWindow("five_hour", "5-hour", utilization, reset), history, NOW)
    assert result.rate_per_hour == pytest.approx(rate), name
    assert result.projected_at_reset == pytest.approx(projected), name
    if limit_in_h is None:
        assert result.limit_at is None, name
    else:
        assert result.limit_at == NOW + timedelta(hours=limit_in_h), name


def test_no_reset_time_gives_rate_but_no_projection() -> None:
    # resets_at null means the window has no usage yet: there is no period to project into.
    window = UsageWindow("seven_day_opus", "Weekly · Opus", 0.0, None)
    assert (
        forecast(window, series([(20, 0.0), (10, 0.0), (0, 0.0)], resets_at=None), NOW).rate_per_hour is None
    )


def test_too_little_data_is_none_not_a_guess() -> None:
    window = UsageWindow("five_hour", "5-hour", 30.0, RESET)
    result = forecast(window, series([(0, 30.0)]), NOW)
    assert (result.rate_per_hour, result.projected_at_reset, result.limit_at) == (None, None, None)


def test_many_points_are_thinned_but_keep_the_pace() -> None:
    window = UsageWindow("five_hour", "5-hour", 80.0, RESET)
    history = series([(m / 2, 80 - 8 * (m / 2) / 60) for m in range(0, 600)])
    assert forecast(window, history, NOW).rate_per_hour == pytest.approx(8.0)
