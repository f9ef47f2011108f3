"""Where the history chart's parts go: plot boxes, scales and ticks, in output pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

from tray_app.core.chart_model import (
    MAX_RESET_AHEAD,
    PERCENT_TICKS,
    SPAN_LENGTHS,
    SPANS,
    ChartInput,
    history,
    money_ticks,
    month_days,
    percent_label,
    projected_daily_rate,
    projection,
    weekday_label,
)

__all__ = [
    "CHART_SIZE",
    "HEADER",
    "Box",
    "ChartLayout",
    "TextWidths",
    "Tick",
    "TimeAxis",
    "chart_layout",
    "day_labels",
    "money_gridlines",
    "percent_gridlines",
]

Box = tuple[int, int, int, int]  # left, top, right, bottom in output pixels; right and bottom exclusive

CHART_SIZE = (1200, 760)
_MIN_SIZE = (640, 400)
_MARGIN = 22
HEADER = 62  # title row and summary row above each plot
_TICK_BAND = 30  # time or day labels under each plot
_PANEL_GAP = 26
_USAGE_SHARE = 0.6  # of the height, when the spend panel is shown
_TICK_SPACING = 86  # least pixels between two hour labels
_LABEL_SPACING = 20  # least pixels between two axis labels one above the other
_PERCENT_CEILING = 150.0  # a wilder projection is clipped at the top and told in words


class TextWidths(Protocol):
    """How wide the painter sets a text, in output pixels: the plots leave room for their labels."""

    def axis(self, text: str) -> float:
        """The width of an axis label."""
        ...

    def value(self, text: str) -> float:
        """The width of a value written at the end of a line."""
        ...


@dataclass(frozen=True)
class TimeAxis:
    """The x axis of the usage panel: `start` is at pixel `left`, `end` at pixel `right`."""

    start: datetime
    end: datetime
    left: float
    right: float

    def x(self, at: datetime) -> float:
        share = (at - self.start) / (self.end - self.start)
        return self.left + share * (self.right - self.left)


@dataclass(frozen=True)
class Tick:
    """A gridline of the time axis at `at`, and its label centred on `label_at` (local time)."""

    at: datetime
    label: str
    label_at: datetime


@dataclass(frozen=True)
class ChartLayout:
    """Where things go: plot boxes and the scales of both panels, for drawing and for tests."""

    size: tuple[int, int]
    usage_box: Box
    time_axis: TimeAxis
    time_ticks: tuple[Tick, ...]
    percent_max: float
    cost_box: Box | None  # None: no spend panel (Console mode is off)
    cost_days: tuple[date, ...]  # every UTC day of the month, one slot each
    cost_max: float  # money at the top of the spend plot
    cost_step: float  # between money gridlines

    def y_of_percent(self, percent: float) -> float:
        top, bottom = self.usage_box[1], self.usage_box[3]
        return bottom - max(0.0, percent) / self.percent_max * (bottom - top)

    def y_of_cost(self, amount: float) -> float:
        assert self.cost_box is not None
        top, bottom = self.cost_box[1], self.cost_box[3]
        return bottom - max(0.0, amount) / self.cost_max * (bottom - top)

    def day_slot(self, day: date) -> tuple[float, float]:
        """Left and right pixel of the day's slot in the spend panel."""
        assert self.cost_box is not None
        left, right = self.cost_box[0], self.cost_box[2]
        width = (right - left) / len(self.cost_days)
        index = (day - self.cost_days[0]).days
        return left + index * width, left + (index + 1) * width


def chart_layout(data: ChartInput, span: str, size: tuple[int, int], widths: TextWidths) -> ChartLayout:
    """The plot boxes and scales of the chart of `span` at `size`; ValueError when it cannot fit."""
    if span not in SPANS:
        raise ValueError(f"span must be one of {SPANS}, not {span!r}")
    width, height = size
    if width < _MIN_SIZE[0] or height < _MIN_SIZE[1]:
        raise ValueError(
            f"the chart needs at least {_MIN_SIZE[0]}x{_MIN_SIZE[1]} pixels, not {width}x{height}"
        )
    percent_max = _percent_max(data, span)
    cost_max, cost_step = _cost_scale(data)
    labels = [percent_label(tick) for tick in PERCENT_TICKS if tick <= percent_max]
    if data.console_daily:
        labels += [label for _, label in money_ticks(cost_max, cost_step, data.currency)]
    # Both plots start at the same x, right of the widest axis label.
    left = _MARGIN + math.ceil(max(widths.axis(label) for label in labels)) + 12
    # Room on the right for the value at the end of a line, as wide as a percent label.
    right = width - _MARGIN - math.ceil(widths.value("150 %")) - 14
    inner = height - 2 * _MARGIN
    usage_height = round(inner * _USAGE_SHARE) if data.console_daily else inner
    usage_box = (left, _MARGIN + HEADER, right, _MARGIN + usage_height - _TICK_BAND)
    cost_box = None
    days: tuple[date, ...] = ()
    if data.console_daily:
        top = _MARGIN + usage_height + _PANEL_GAP + HEADER
        cost_box = (left, top, right, height - _MARGIN - _TICK_BAND)
        days = month_days(data.now)
    if usage_box[3] - usage_box[1] < 60 or (cost_box is not None and cost_box[3] - cost_box[1] < 50):
        raise ValueError(f"{width}x{height} pixels leave no room for the plots")
    axis = _time_axis(data, span, usage_box)
    return ChartLayout(
        size=size,
        usage_box=usage_box,
        time_axis=axis,
        time_ticks=_ticks(axis, data.tz, span),
        percent_max=percent_max,
        cost_box=cost_box,
        cost_days=days,
        cost_max=cost_max,
        cost_step=cost_step,
    )


def _time_axis(data: ChartInput, span: str, box: Box) -> TimeAxis:
    start = data.now - SPAN_LENGTHS[span]
    end = data.now
    reset = data.five_hour_resets_at
    # The 5-hour view runs on to a future reset, so the projection has somewhere to go.
    if span == "24h" and reset is not None and data.now < reset <= data.now + MAX_RESET_AHEAD:
        end = reset
    return TimeAxis(start, end, float(box[0]), float(box[2]))


def _percent_max(data: ChartInput, span: str) -> float:
    highest = max((s.utilization for s in history(data, span)), default=0.0)
    ahead = projection(data, span)
    if ahead is not None:
        highest = max(highest, ahead.percent)
    if highest <= 100:
        return 100.0
    return min(_PERCENT_CEILING, math.ceil(highest / 25) * 25.0)


def _cost_scale(data: ChartInput) -> tuple[float, float]:
    highest = max((float(cost) for _, cost in data.console_daily), default=0.0)
    rate = projected_daily_rate(data)
    if rate is not None:
        highest = max(highest, rate)
    step = _nice_step(highest * 1.08 if highest > 0 else 1.0)
    return step * max(1, math.ceil(highest * 1.08 / step)), step


def _nice_step(highest: float, count: int = 4) -> float:
    raw = highest / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _local_steps(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[datetime, datetime]]:
    """Every quarter hour from start to end as (UTC, local): quarter hours hit every zone's full hours."""
    quarter = timedelta(minutes=15)
    at = datetime.fromtimestamp(math.ceil(start.timestamp() / 900) * 900, UTC)
    steps = []
    while at <= end:
        steps.append((at, at.astimezone(tz)))
        at += quarter
    return steps


def _ticks(axis: TimeAxis, tz: tzinfo, span: str) -> tuple[Tick, ...]:
    if span == "7d":
        return _day_ticks(axis, tz)
    hours = (axis.end - axis.start) / timedelta(hours=1)
    per_hour = (axis.right - axis.left) / hours
    step = next((s for s in (1, 2, 3, 4, 6, 12) if s * per_hour >= _TICK_SPACING), 24)
    ticks = []
    for at, local in _local_steps(axis.start, axis.end, tz):
        if local.minute == 0 and local.hour % step == 0:
            # Midnight says which day it is; the other hours only the time.
            label = weekday_label(local) if local.hour == 0 else f"{local:%H}:00"
            ticks.append(Tick(at, label, at))
    return tuple(ticks)


def _day_ticks(axis: TimeAxis, tz: tzinfo) -> tuple[Tick, ...]:
    # Gridlines at local midnights; each day's name in the middle of its visible part.
    midnights = [
        at for at, local in _local_steps(axis.start, axis.end, tz) if local.hour == local.minute == 0
    ]
    bounds = [axis.start, *midnights, axis.end]
    ticks = []
    for begin, finish in zip(bounds, bounds[1:], strict=False):
        if finish <= begin:
            continue
        middle = begin + (finish - begin) / 2
        ticks.append(Tick(begin, weekday_label(middle.astimezone(tz)), middle))
    return tuple(ticks)


def percent_gridlines(layout: ChartLayout) -> list[tuple[float, bool]]:
    """The percent gridlines from the top down, each with whether its label has room to be written."""
    lines = []
    labelled = -math.inf
    # From the top down, so on a short plot the 90 % label gives way to the 100 % one.
    for tick in reversed(PERCENT_TICKS):
        if tick > layout.percent_max:
            continue
        y = layout.y_of_percent(tick)
        room = y - labelled >= _LABEL_SPACING
        if room:
            labelled = y
        lines.append((tick, room))
    return lines


def money_gridlines(layout: ChartLayout, currency: str) -> list[tuple[float, str, bool]]:
    """The spend panel's gridlines: amount, label and whether it is written (every other one when tight)."""
    assert layout.cost_box is not None
    top, bottom = layout.cost_box[1], layout.cost_box[3]
    ticks = money_ticks(layout.cost_max, layout.cost_step, currency)
    spacing = (bottom - top) / max(1, len(ticks) - 1)
    every = 1 if spacing >= _LABEL_SPACING else 2
    return [(amount, label, n % every == 0) for n, (amount, label) in enumerate(ticks)]


def day_labels(layout: ChartLayout, today: date) -> list[tuple[date, str]]:
    """The days named under the spend panel: the first, today and as many others as have room."""
    assert layout.cost_box is not None
    slot = (layout.cost_box[2] - layout.cost_box[0]) / len(layout.cost_days)
    every = next(k for k in (1, 2, 5, 7, 10, 15) if slot * k >= 30)
    return [
        (day, "today" if day == today else str(day.day))
        for day in layout.cost_days
        if not (day.day % every and day.day != 1 and day != today)
    ]
