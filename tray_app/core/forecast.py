"""Where a limit window is heading: rate per hour, projection at reset, and when 100 % is reached."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from tray_app.core.models import Forecast, Snapshot, UsageWindow
from tray_app.core.readings import SAME_PERIOD_TOLERANCE as SAME_PERIOD_TOLERANCE  # the chart's too
from tray_app.core.readings import same_period

# Shortest first: the recent pace is what the user is doing now; longer spans only when the
# recent one has too few points (just started, or the machine slept through it).
LOOKBACKS: tuple[timedelta | None, ...] = (
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=24),
    None,  # the whole current period
)
MIN_POINTS = 3
MIN_SPAN = timedelta(minutes=10)
# Theil-Sen is quadratic in the number of points; an even subsample keeps a poll cheap.
MAX_POINTS = 60


def current_period(history: Sequence[Snapshot], resets_at: datetime | None) -> list[Snapshot]:
    """The snapshots that belong to the period ending at resets_at, oldest first.

    Usage within a period only rises, so a point below an earlier one is older news heard late (an idle
    Claude Code session re-sending its last figure, or the endpoint behind the status-line feed): it
    counts as the highest figure seen so far, not as a drop.
    """
    if resets_at is None:
        return []
    points = sorted(
        (s for s in history if s.resets_at is not None and same_period(s.resets_at, resets_at)),
        key=lambda s: s.at,
    )
    highest = float("-inf")
    rising = []
    for point in points:
        if point.utilization < highest:
            point = Snapshot(point.at, highest, point.resets_at)
        highest = max(highest, point.utilization)
        rising.append(point)
    return rising


def _thin(points: Sequence[Snapshot]) -> Sequence[Snapshot]:
    if len(points) <= MAX_POINTS:
        return points
    step = (len(points) - 1) / (MAX_POINTS - 1)
    return [points[round(i * step)] for i in range(MAX_POINTS)]


def _theil_sen_per_hour(points: Sequence[Snapshot]) -> float:
    """Median of pairwise slopes: one wild point or a long gap cannot swing it."""
    # Float hours, each point's once: subtracting datetimes for every one of the n * (n - 1) / 2 pairs
    # cost more than all the rest of a forecast. Counted from the first point rather than the epoch,
    # so the differences keep a float's precision: the slopes match datetime arithmetic to ~1e-13.
    origin = points[0].at
    hours = [((p.at - origin).total_seconds() / 3600, p.utilization) for p in points]
    slopes = [
        (utilization - first_utilization) / (at - first_at)
        for i, (first_at, first_utilization) in enumerate(hours)
        for at, utilization in hours[i + 1 :]
        if at > first_at
    ]
    return statistics.median(slopes)


def rate_per_hour(period: Sequence[Snapshot], at: datetime, min_span: timedelta = MIN_SPAN) -> float | None:
    """Percentage points per hour up to `at`, from the first lookback with enough data; else None.

    Enough data is MIN_POINTS spanning min_span (only the sped-up demo passes a shorter one).
    """
    upto = sorted((s for s in period if s.at <= at), key=lambda s: s.at)
    for lookback in LOOKBACKS:
        points = upto if lookback is None else [s for s in upto if s.at >= at - lookback]
        if len(points) >= MIN_POINTS and points[-1].at - points[0].at >= min_span:
            # Usage inside a period never goes down; a negative median is noise, not a refund.
            return max(0.0, _theil_sen_per_hour(_thin(points)))
    return None


def forecast(
    window: UsageWindow, history: Sequence[Snapshot], observed_at: datetime, min_span: timedelta = MIN_SPAN
) -> Forecast:
    """Rate, projection at reset and time of 100 % for a window observed at observed_at."""
    rate = rate_per_hour(current_period(history, window.resets_at), observed_at, min_span)
    if rate is None or window.resets_at is None or window.resets_at <= observed_at:
        return Forecast(rate, None, None)
    hours_left = (window.resets_at - observed_at).total_seconds() / 3600
    projected = window.utilization + rate * hours_left
    limit_at = None
    if rate > 0 and window.utilization < 100:
        reached = observed_at + timedelta(hours=(100 - window.utilization) / rate)
        limit_at = reached if reached < window.resets_at else None
    return Forecast(rate, projected, limit_at)
