"""Fixed histories for the chart's tests: a day heading past the limit, a week with a sleeping laptop."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from tray_app.core.chart_model import ChartInput
from tray_app.core.models import Forecast, Snapshot

NOW = datetime(2025, 11, 14, 15, 20, tzinfo=UTC)  # a Friday
CET = timezone(timedelta(hours=1), "CET")
UTC_RESETS = (datetime(2025, 11, 13, 21, 30, tzinfo=UTC), datetime(2025, 11, 14, 12, 0, tzinfo=UTC))
FIVE_HOUR_RESET = datetime(2025, 11, 14, 17, 0, tzinfo=UTC)
WEEKLY_RESET = datetime(2025, 11, 10, 9, 0, tzinfo=UTC)
SLEEP = (datetime(2025, 11, 12, 18, 0, tzinfo=UTC), datetime(2025, 11, 13, 8, 30, tzinfo=UTC))
# (span, a silence in the history, whether it cuts the line): about three polls' worth is no gap.
GAP_CASES = [
    ("24h", timedelta(minutes=10), False),
    ("24h", timedelta(minutes=45), True),
    ("7d", timedelta(minutes=100), False),
    ("7d", timedelta(hours=4), True),
]


def every(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    at = start
    while at <= end:
        yield at
        at += step


def climb(progress: float, peak: float) -> float:
    """Usage within a period: rises in bursts of work, never falls."""
    wobble = 0.06 * math.sin(progress * 19) + 0.04 * math.sin(progress * 47)
    return round(max(0.0, peak * (progress + wobble * progress)))


def period(start: datetime, reset: datetime, upto: datetime, peak: float) -> list[Snapshot]:
    points, highest = [], 0.0
    length = (reset - start) / timedelta(hours=1)
    for at in every(start, min(upto, reset - timedelta(minutes=5)), timedelta(minutes=5)):
        highest = max(highest, climb((at - start) / timedelta(hours=1) / length, peak))
        points.append(Snapshot(at, highest, reset))
    return points


def idle(start: datetime, end: datetime) -> list[Snapshot]:
    return [Snapshot(at, 0.0, None) for at in every(start, end, timedelta(minutes=5))]


def climbing_day() -> list[Snapshot]:
    """Thursday evening's window, a quiet night, a heavy morning, and an afternoon heading past 100 %."""
    thu = datetime(2025, 11, 13, tzinfo=UTC)
    fri = datetime(2025, 11, 14, tzinfo=UTC)
    return [
        *idle(NOW - timedelta(hours=24), thu.replace(hour=16, minute=25)),
        *period(thu.replace(hour=16, minute=30), UTC_RESETS[0], NOW, 47),
        *idle(UTC_RESETS[0], fri.replace(hour=6, minute=55)),
        *period(fri.replace(hour=7), UTC_RESETS[1], NOW, 86),
        *period(UTC_RESETS[1], FIVE_HOUR_RESET, NOW, 115),
    ]


CLIMB_FORECAST = Forecast(
    rate_per_hour=23.0, projected_at_reset=116.0, limit_at=datetime(2025, 11, 14, 16, 17, tzinfo=UTC)
)


def working(at: datetime) -> float:
    """Share of an hour's work at a local time: weekdays 8-22 h, a little at weekends."""
    local = at.astimezone(CET)
    if not 8 <= local.hour < 22:
        return 0.0
    return 0.25 if local.weekday() >= 5 else 1.0


def weekly_history() -> list[Snapshot]:
    """Seven days of the weekly window: a reset on Monday, the laptop asleep on Wednesday night."""
    points: list[Snapshot] = []
    used = 48.0
    step = timedelta(minutes=10)
    pause = (datetime(2025, 11, 11, 13, 0, tzinfo=UTC), datetime(2025, 11, 11, 13, 50, tzinfo=UTC))
    for at in every(NOW - timedelta(days=7), NOW, step):
        reset = WEEKLY_RESET if at < WEEKLY_RESET else WEEKLY_RESET + timedelta(days=7)
        if at >= WEEKLY_RESET and points and points[-1].resets_at == WEEKLY_RESET:
            used = 0.0
        used += working(at) * (0.14 + 0.06 * math.sin(at.timestamp() / 5000))
        if SLEEP[0] < at < SLEEP[1] or pause[0] < at < pause[1]:
            continue
        points.append(Snapshot(at, round(used, 1), reset))
    return points


def console_days(upto: int = 14) -> list[tuple[date, Decimal]]:
    costs = []
    for day in range(1, upto + 1):
        weekday = date(2025, 11, day).weekday()
        base = 18 if weekday >= 5 else 74
        costs.append((date(2025, 11, day), Decimal(base + (day * 37) % 29) + Decimal("0.45")))
    # Today is only 15 h 20 min old.
    costs[-1] = (costs[-1][0], Decimal("41.80"))
    return costs


def chart_input(
    *,
    five_hour: list[Snapshot] | None = None,
    forecast: Forecast | None = CLIMB_FORECAST,
    resets_at: datetime | None = FIVE_HOUR_RESET,
    weekly: list[Snapshot] | None = None,
    console: bool = False,
) -> ChartInput:
    return ChartInput(
        now=NOW,
        tz=CET,
        five_hour=climbing_day() if five_hour is None else five_hour,
        five_hour_forecast=forecast,
        five_hour_resets_at=resets_at,
        weekly=weekly_history() if weekly is None else weekly,
        console_daily=console_days() if console else [],
        console_projection=Decimal("2087.40") if console else None,
    )


EMPTY = ChartInput(NOW, CET, [], None, None, [], [], None)
