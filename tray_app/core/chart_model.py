"""The history chart's model: what it shows and every word it says; ui/chart.py only paints it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from types import MappingProxyType

from tray_app.core.console import month_start, next_month_start
from tray_app.core.forecast import SAME_PERIOD_TOLERANCE
from tray_app.core.models import Forecast, LimitHit, Snapshot
from tray_app.core.money import format_money

__all__ = [
    "GAP_LIMITS",
    "GUIDE_PERCENTS",
    "MAX_RESET_AHEAD",
    "PERCENT_TICKS",
    "SPANS",
    "SPAN_LENGTHS",
    "TITLES",
    "ChartInput",
    "Legend",
    "Projection",
    "Shape",
    "clock",
    "cost_legend",
    "cost_summary",
    "cost_title",
    "history",
    "latest",
    "limit_hit_spans",
    "money",
    "money_ticks",
    "month_days",
    "pace_label",
    "percent_label",
    "projected_daily_rate",
    "projection",
    "reset_labels",
    "shape",
    "usage_legend",
    "usage_summary",
    "utc_day",
    "weekday_label",
    "when",
]

SPANS = ("24h", "7d")
# About three poll intervals: a longer silence is a sleeping laptop, not a flat line.
GAP_LIMITS: Mapping[str, timedelta] = MappingProxyType(
    {"24h": timedelta(minutes=15), "7d": timedelta(hours=2)}
)
SPAN_LENGTHS: Mapping[str, timedelta] = MappingProxyType(
    {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
)
TITLES: Mapping[str, str] = MappingProxyType(
    {"24h": "5-hour limit  ·  last 24 hours", "7d": "Weekly limit  ·  last 7 days"}
)
# The API reports the 5-hour window's reset at most 5 h ahead; anything further is not trusted.
MAX_RESET_AHEAD = timedelta(hours=5, minutes=10)
_SHARP_DROP = 10.0  # percentage points: usage never falls inside a period, so this is a reset
GUIDE_PERCENTS = (50.0, 75.0, 90.0, 100.0)
PERCENT_TICKS = (0.0, 25.0, 50.0, 75.0, 90.0, 100.0, 125.0, 150.0)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

Legend = list[tuple[str, str]]  # (swatch kind, label): line, dashed, vline, band or bar


@dataclass(frozen=True)
class ChartInput:
    """Everything the chart shows; the renderer reads no clock and no store."""

    now: datetime  # aware UTC
    tz: tzinfo  # labels are in this local time
    five_hour: Sequence[Snapshot]  # oldest first, the last 24 h (may be empty)
    five_hour_forecast: Forecast | None  # the current 5-hour window's forecast
    five_hour_resets_at: datetime | None  # the current 5-hour window's reset time
    weekly: Sequence[Snapshot]  # the last 7 days of the weekly window, oldest first
    console_daily: Sequence[tuple[date, Decimal]]  # this month's cost per UTC day; empty without Console
    console_projection: Decimal | None  # month-end projection
    currency: str = "USD"
    limit_hits: Sequence[LimitHit] = ()  # every window's, of the last 7 days: marked on both views


@dataclass(frozen=True)
class Projection:
    """The dashed line of the 5-hour view: from the last point to the projected value at the reset."""

    last: Snapshot
    reset: datetime
    percent: float


@dataclass(frozen=True)
class Shape:
    """A history cut where the line must not run straight on: at window resets and at silences."""

    runs: tuple[tuple[Snapshot, ...], ...]
    resets: tuple[datetime, ...]
    gaps: tuple[tuple[datetime, datetime], ...]


# ---------------------------------------------------------------------------------------- usage data


def history(data: ChartInput, span: str) -> Sequence[Snapshot]:
    """The snapshots the usage panel of `span` draws."""
    return data.five_hour if span == "24h" else data.weekly


def latest(snapshots: Sequence[Snapshot]) -> Snapshot:
    """The newest snapshot by time, so a shuffled list is harmless (the store hands them oldest first)."""
    return max(snapshots, key=lambda s: s.at)


def projection(data: ChartInput, span: str) -> Projection | None:
    """The projection to the 5-hour window's reset, when the `span` view has one to draw."""
    forecast, reset = data.five_hour_forecast, data.five_hour_resets_at
    if span != "24h" or not data.five_hour or reset is None:
        return None
    if forecast is None or forecast.projected_at_reset is None:
        return None
    last = latest(data.five_hour)
    if not last.at < reset <= data.now + MAX_RESET_AHEAD:
        return None
    return Projection(last, reset, forecast.projected_at_reset)


def _reset_between(a: Snapshot, b: Snapshot) -> datetime | None:
    moved = a.resets_at is not None and (
        b.resets_at is None or abs(b.resets_at - a.resets_at) > SAME_PERIOD_TOLERANCE
    )
    if not moved and b.utilization > a.utilization - _SHARP_DROP:
        return None
    if a.resets_at is not None:
        # The old period's own reset time is exact; the server may have moved it, so keep it in between.
        return min(max(a.resets_at, a.at), b.at)
    return a.at + (b.at - a.at) / 2


def shape(snapshots: Sequence[Snapshot], gap: timedelta) -> Shape:
    """The history in runs of one line each, cut at every window reset and every silence over `gap`."""
    runs: list[tuple[Snapshot, ...]] = []
    resets: list[datetime] = []
    gaps: list[tuple[datetime, datetime]] = []
    run: list[Snapshot] = []
    for snapshot in sorted(snapshots, key=lambda s: s.at):
        if run:
            previous = run[-1]
            reset = _reset_between(previous, snapshot)
            if reset is not None:
                resets.append(reset)
            if snapshot.at - previous.at > gap:
                gaps.append((previous.at, snapshot.at))
            if reset is not None or snapshot.at - previous.at > gap:
                runs.append(tuple(run))
                run = []
        run.append(snapshot)
    if run:
        runs.append(tuple(run))
    return Shape(tuple(runs), tuple(resets), tuple(gaps))


# ---------------------------------------------------------------------------------------- usage words


def percent_label(percent: float) -> str:
    """'90 %' on the percent axis."""
    return f"{percent:g} %"


def weekday_label(local: datetime) -> str:
    """'Fri 14': the day a midnight gridline or a day of the weekly view stands for."""
    return f"{_WEEKDAYS[local.weekday()]} {local.day}"


def clock(at: datetime, tz: tzinfo) -> str:
    """'16:20' in local time."""
    return f"{at.astimezone(tz):%H:%M}"


def when(at: datetime, data: ChartInput) -> str:
    """'16:20' today, 'Thu 16:20' on another day."""
    local, today = at.astimezone(data.tz), data.now.astimezone(data.tz).date()
    if local.date() == today:
        return clock(at, data.tz)
    return f"{_WEEKDAYS[local.weekday()]} {local:%H:%M}"


def reset_labels(data: ChartInput, cuts: Shape, axis_end: datetime) -> list[tuple[datetime, str]]:
    """Each reset line's time and words, with the coming reset when the axis runs on to it."""
    labels = [(reset, f"reset {when(reset, data)}") for reset in cuts.resets]
    if axis_end > data.now:
        labels.append((axis_end, f"reset {clock(axis_end, data.tz)}"))
    return labels


def usage_summary(data: ChartInput, span: str, ahead: Projection | None) -> str:
    """The line under the usage panel's title: now, where it is heading, and how fresh the figures are."""
    snapshots = history(data, span)
    if not snapshots:
        return "Nothing recorded yet: the chart fills in as the app polls."
    last = latest(snapshots)
    parts = [f"Now {last.utilization:.0f} %"]
    if ahead is not None:
        parts.append(f"heading for {ahead.percent:.0f} % at the {clock(ahead.reset, data.tz)} reset")
        limit_at = data.five_hour_forecast.limit_at if data.five_hour_forecast else None
        if limit_at is not None:
            parts.append(f"100 % around {clock(limit_at, data.tz)}")
    elif last.resets_at is not None and last.resets_at > data.now:
        parts.append(f"resets {when(last.resets_at, data)}")
    if last.at < data.now - GAP_LIMITS[span]:
        parts.append(f"last seen {when(last.at, data)}")
    return "  ·  ".join(parts)


def usage_legend(cuts: Shape, projected: bool, hits: bool = False) -> Legend:
    """The usage panel's legend; none over an empty plot."""
    if not cuts.runs:
        return []
    legend = [("line", "usage"), ("vline", "window reset")]
    if projected:
        legend.insert(1, ("dashed", "projection"))
    if hits:
        legend.append(("hit", "limit reached"))
    if cuts.gaps:
        legend.append(("band", "no data"))
    return legend


def limit_hit_spans(data: ChartInput, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The stretches of [start, end] in which some window was at its limit or locked, merged where
    they overlap: the user was stopped then, whichever window did it (the menu and `history --limits`
    name the window)."""
    spans = sorted(
        (max(hit.started_at, start), min(hit.ended_at or data.now, end))
        for hit in data.limit_hits
        if hit.started_at < end and (hit.ended_at or data.now) > start
    )
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        elif finish > begin:
            merged.append((begin, finish))
    return merged


# ---------------------------------------------------------------------------------------------- spend


def utc_day(data: ChartInput) -> date:
    """Today as the Console counts days: in UTC."""
    return data.now.astimezone(UTC).date()


def month_days(now: datetime) -> tuple[date, ...]:
    """Every UTC day of the month of `now`."""
    first = month_start(now).date()
    count = (next_month_start(now).date() - first).days
    return tuple(first + timedelta(days=n) for n in range(count))


def projected_daily_rate(data: ChartInput) -> float | None:
    """Cost per day for the rest of the month that the month-end projection stands for."""
    if data.console_projection is None or not data.console_daily:
        return None
    spent = sum((cost for _, cost in data.console_daily), Decimal(0))
    days_left = (next_month_start(data.now) - data.now) / timedelta(days=1)
    if days_left <= 0:
        return None
    return max(0.0, float(data.console_projection - spent) / days_left)


def money(amount: float | Decimal, currency: str, cents: bool = False) -> str:
    """'$1,234' or, with cents, '$1,234.56'; only '$' as a sign, since the chart's font has no other."""
    return format_money(amount, currency, 2 if cents else 0, ascii_sign=True)


def money_ticks(top: float, step: float, currency: str) -> list[tuple[float, str]]:
    """The spend axis from 0 to `top` every `step`, each with its label."""
    # Steps of 2.50 or 0.25 would round to uneven whole labels; show their cents.
    cents = step != math.floor(step)
    return [(n * step, money(n * step, currency, cents)) for n in range(round(top / step) + 1)]


def cost_title(data: ChartInput) -> str:
    """'API spend  ·  November 2025, per UTC day'."""
    first = month_start(data.now)
    return f"API spend  ·  {_MONTH_NAMES[first.month - 1]} {first.year}, per UTC day"


def _projection_words(data: ChartInput) -> str:
    assert data.console_projection is not None
    last = next_month_start(data.now) - timedelta(days=1)
    amount = money(data.console_projection, data.currency, cents=data.console_projection < 100)
    return f"projected {amount} by {_MONTHS[last.month - 1]} {last.day}"


def pace_label(data: ChartInput, rate: float) -> str:
    """The words on the dashed level of the month-end projection, with the daily pace it needs."""
    return f"{_projection_words(data)}  ({money(rate, data.currency, cents=rate < 10)}/day)"


def cost_summary(data: ChartInput) -> str:
    """The line under the spend panel's title: spent so far and the month-end projection."""
    spent = sum((cost for _, cost in data.console_daily), Decimal(0))
    parts = [f"{money(spent, data.currency, cents=True)} so far this month"]
    if data.console_projection is not None:
        parts.append(_projection_words(data))
    else:
        parts.append("too few days yet for a projection")
    return "  ·  ".join(parts)


def cost_legend(data: ChartInput) -> Legend:
    """The spend panel's legend."""
    legend = [("bar", "cost per day")]
    if data.console_projection is not None:
        legend.append(("dashed", "projected pace"))
    return legend
