"""The history chart painted with Pillow alone: a usage window over time and this month's API spend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from PIL import Image

from tray_app.core.chart_layout import (
    CHART_SIZE,
    HEADER,
    Box,
    ChartLayout,
    day_labels,
    money_gridlines,
    percent_gridlines,
)
from tray_app.core.chart_layout import chart_layout as _layout
from tray_app.core.chart_model import (
    GAP_LIMITS,
    GUIDE_PERCENTS,
    TITLES,
    ChartInput,
    Legend,
    Projection,
    Shape,
    cost_legend,
    cost_summary,
    cost_title,
    history,
    latest,
    limit_hit_spans,
    pace_label,
    percent_label,
    projected_daily_rate,
    projection,
    reset_labels,
    shape,
    usage_legend,
    usage_summary,
    utc_day,
)
from tray_app.core.models import Snapshot
from tray_app.ui.chart_canvas import Painter, Point, load_fonts
from tray_app.ui.chart_theme import CHART_THEMES, ChartTheme
from tray_app.ui.paint import RGB, snap

__all__ = ["chart_layout", "render_history_chart"]

_LINE_WIDTH = 2.6
_DASH, _DASH_GAP = 11.0, 7.0
_HIT_BAR = 8.0  # pixels: the height of a limit hit's mark along the time axis


def chart_layout(data: ChartInput, span: str = "24h", size: tuple[int, int] = CHART_SIZE) -> ChartLayout:
    """The plot boxes and scales render_history_chart uses for this input."""
    return _layout(data, span, size, load_fonts())


def render_history_chart(
    data: ChartInput, span: str = "24h", theme: str = "light", size: tuple[int, int] = CHART_SIZE
) -> Image.Image:
    """The history chart as an RGB image: the usage window of `span` ("24h" or "7d") over time, and
    under it this month's API spend per day when Console figures are given. Same input, same pixels."""
    if theme not in CHART_THEMES:
        raise ValueError(f"theme must be one of {tuple(CHART_THEMES)}, not {theme!r}")
    fonts = load_fonts()
    layout = _layout(data, span, size, fonts)
    painter = Painter(size, CHART_THEMES[theme], fonts)
    _draw_usage_panel(painter, data, layout, span)
    if layout.cost_box is not None:
        _draw_cost_panel(painter, data, layout)
    return painter.finish()


# ------------------------------------------------------------------------------------------ usage panel


def _draw_usage_panel(p: Painter, data: ChartInput, layout: ChartLayout, span: str) -> None:
    snapshots = history(data, span)
    cuts = shape(snapshots, GAP_LIMITS[span])
    ahead = projection(data, span)
    _draw_usage_grid(p, data, layout)
    _draw_time_grid(p, layout)
    for begin, finish in cuts.gaps:
        _draw_gap(p, layout, begin, finish)
    _draw_resets(p, data, layout, reset_labels(data, cuts, layout.time_axis.end))
    _draw_series(p, layout, cuts)
    hits = limit_hit_spans(data, layout.time_axis.start, min(data.now, layout.time_axis.end))
    for begin, finish in hits:
        _draw_limit_hit(p, layout, begin, finish)
    if ahead is not None:
        _draw_projection(p, layout, ahead)
    if snapshots:
        _mark_latest(p, data, layout, latest(snapshots), ahead is not None)
    else:
        _no_data(p, layout)
    legend = usage_legend(cuts, ahead is not None, bool(hits))
    _draw_header(p, layout.usage_box, TITLES[span], usage_summary(data, span, ahead), legend)


def _draw_usage_grid(p: Painter, data: ChartInput, layout: ChartLayout) -> None:
    theme = p.theme
    left, top, right, bottom = layout.usage_box
    p.rect(layout.usage_box, theme.plot)
    axis = layout.time_axis
    if axis.end > data.now:
        p.rect((axis.x(data.now), top, right, bottom), theme.future)
        room = right - axis.x(data.now) > p.fonts.small.getlength("now") + 12
        anchor, dx = ("lb", 6) if room else ("rb", -6)
        p.text((axis.x(data.now) + dx, bottom - 8), "now", p.fonts.small, theme.muted, anchor)
    if layout.percent_max > 100:
        p.rect((left, top, right, layout.y_of_percent(100)), theme.over)
    guides = dict(zip(GUIDE_PERCENTS, theme.guides, strict=True))
    for tick, labelled in percent_gridlines(layout):
        y = layout.y_of_percent(tick)
        colour = guides.get(tick, theme.axis if tick == 0 else theme.grid)
        p.hline(y, left, right, colour, 2 if tick in (0, 100) else 1)
        if labelled:
            ink = theme.text if tick in guides else theme.muted
            p.text((left - 10, y), percent_label(tick), p.fonts.small, ink, "rm")


def _draw_time_grid(p: Painter, layout: ChartLayout) -> None:
    axis = layout.time_axis
    left, top, right, bottom = layout.usage_box
    for tick in layout.time_ticks:
        x = axis.x(tick.at)
        if left < x < right:
            p.vline(x, top, bottom, p.theme.grid)
        label_x = axis.x(tick.label_at)
        half = p.fonts.small.getlength(tick.label) / 2
        # A label that would stick out of the plot is left off rather than clipped.
        if left - 8 <= label_x - half and label_x + half <= right + 8:
            p.text((label_x, bottom + 9), tick.label, p.fonts.small, p.theme.muted, "mt")


def _draw_gap(p: Painter, layout: ChartLayout, begin: datetime, finish: datetime) -> None:
    axis = layout.time_axis
    left, top, right, bottom = layout.usage_box
    x0, x1 = max(left, axis.x(begin)), min(right, axis.x(finish))
    if x1 <= x0:
        return
    p.rect((x0, top, x1, bottom), p.theme.gap)
    hatch = p.layer()
    step = 9.0
    offset = x0 - (bottom - top)
    while offset < x1:
        hatch.line([(offset, bottom), (offset + (bottom - top), top)], (*p.theme.hatch, 255), 1.0)
        offset += step
    p.clip(hatch, (math.ceil(x0), top, math.floor(x1), bottom))
    if x1 - x0 >= p.fonts.small.getlength("no data") + 12:
        p.text(((x0 + x1) / 2, bottom - 10), "no data", p.fonts.small, p.theme.muted, "mb", p.theme.gap)


def _draw_resets(
    p: Painter, data: ChartInput, layout: ChartLayout, resets: Sequence[tuple[datetime, str]]
) -> None:
    left, top, right, bottom = layout.usage_box
    taken: list[tuple[float, float]] = []
    # The latest first: when labels crowd a narrow chart, the older ones give way.
    for at, label in sorted(resets, reverse=True):
        x = layout.time_axis.x(at)
        if not left <= x <= right:
            continue
        p.vline(x, top, bottom, p.theme.reset, 2)
        width = p.fonts.small.getlength(label)
        for start in (x - 6 - width, x + 6):  # left of the line, like the one at the end, else right
            free = all(start + width + 8 < a or b + 8 < start for a, b in taken)
            if free and left + 2 <= start and start + width <= right - 2:
                taken.append((start, start + width))
                ground = _ground(p.theme, data, layout, (start, top + 6))
                p.text((start, top + 6), label, p.fonts.small, p.theme.reset, "la", ground)
                break


def _draw_limit_hit(p: Painter, layout: ChartLayout, begin: datetime, finish: datetime) -> None:
    # A red bar along the time axis, on top of the line: "stopped here" must show even where the line
    # is missing (a gap while blocked) or sits at 0 % (a window of another model did the blocking).
    axis = layout.time_axis
    left, _, right, bottom = layout.usage_box
    x0, x1 = max(left, axis.x(begin)), min(right, axis.x(finish))
    p.rect((x0, bottom - _HIT_BAR, max(x1, x0 + 2), bottom), p.theme.guides[3])


def _draw_series(p: Painter, layout: ChartLayout, cuts: Shape) -> None:
    theme = p.theme
    layer = p.layer()
    baseline = layout.y_of_percent(0)
    x = layout.time_axis.x
    for run in cuts.runs:
        points = [(x(s.at), layout.y_of_percent(s.utilization)) for s in run]
        if len(points) > 1:
            area = [(points[0][0], baseline), *points, (points[-1][0], baseline)]
            layer.polygon(area, (*theme.usage, theme.fill_alpha))
    for run in cuts.runs:
        points = [(x(s.at), layout.y_of_percent(s.utilization)) for s in run]
        layer.line(points, (*theme.usage, 255), _LINE_WIDTH, round_ends=True)
    p.clip(layer, layout.usage_box)


def _draw_projection(p: Painter, layout: ChartLayout, ahead: Projection) -> None:
    x = layout.time_axis.x
    start = (x(ahead.last.at), layout.y_of_percent(ahead.last.utilization))
    end = (x(ahead.reset), layout.y_of_percent(min(ahead.percent, layout.percent_max)))
    layer = p.layer()
    layer.dashed(start, end, (*p.theme.projection, 255), _LINE_WIDTH, _DASH, _DASH_GAP)
    layer.dot(end, 4.5, (*p.theme.projection, 255))
    p.clip(layer, _grow(layout.usage_box, 6))
    # In the margin right of the plot, where nothing else is drawn.
    p.text((end[0] + 9, end[1]), f"{ahead.percent:.0f} %", p.fonts.text, p.theme.projection, "lm")


def _mark_latest(p: Painter, data: ChartInput, layout: ChartLayout, last: Snapshot, projected: bool) -> None:
    point = (layout.time_axis.x(last.at), layout.y_of_percent(min(last.utilization, layout.percent_max)))
    p.dot(point, 5.5, p.theme.plot)
    p.dot(point, 4.0, p.theme.usage)
    label = f"{last.utilization:.0f} %"
    if layout.usage_box[2] - point[0] < 4 and not projected:
        # At the end of the axis: in the margin right of the plot, like the projection's value.
        p.text((point[0] + 9, point[1]), label, p.fonts.text, p.theme.usage, "lm")
        return
    # Above the point, on the side away from the projection and the plot's edge.
    room = layout.usage_box[2] - point[0] > p.fonts.text.getlength(label) + 16
    anchor, dx = ("lb", 8.0) if room and not projected else ("rb", -8.0)
    xy = (point[0] + dx, max(point[1] - 8, layout.usage_box[1] + 26))
    p.text(xy, label, p.fonts.text, p.theme.usage, anchor, _ground(p.theme, data, layout, xy))


def _no_data(p: Painter, layout: ChartLayout) -> None:
    left, _, right, _ = layout.usage_box
    # Between the 50 and 75 % guides, so no line runs through the words.
    centre = ((left + right) / 2, layout.y_of_percent(62.5))
    p.text(centre, "no data yet", p.fonts.title, p.theme.muted, "mm")


def _ground(theme: ChartTheme, data: ChartInput, layout: ChartLayout, xy: Point) -> RGB:
    """The colour of the plot's background at xy, so a label's backdrop blends in."""
    if layout.percent_max > 100 and xy[1] < layout.y_of_percent(100):
        return theme.over
    if xy[0] > layout.time_axis.x(data.now):
        return theme.future
    return theme.plot


def _grow(box: Box, by: int) -> Box:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


# ------------------------------------------------------------------------------------------ header


def _draw_header(p: Painter, box: Box, title: str, summary: str, legend: Legend) -> None:
    top = box[1] - HEADER
    p.text((box[0], top), title, p.fonts.title, p.theme.text)
    p.text((box[0], top + 30), summary, p.fonts.text, p.theme.muted)
    _draw_legend(p, box[0] + p.fonts.title.getlength(title) + 30, box[2], top + 4, legend)


def _draw_legend(p: Painter, left: float, right: float, top: float, items: Legend) -> None:
    swatch, gap = 22.0, 18.0
    widths = [swatch + 6 + p.fonts.small.getlength(label) for _, label in items]
    # On a narrow chart the last items give way to the title rather than cover it.
    while items and right - sum(widths) - gap * (len(items) - 1) < left:
        items, widths = items[:-1], widths[:-1]
    x = right - sum(widths) - gap * (len(items) - 1)
    middle = top + 8
    for (kind, label), width in zip(items, widths, strict=True):
        _draw_swatch(p, kind, x, middle, swatch)
        p.text((x + swatch + 6, middle), label, p.fonts.small, p.theme.muted, "lm")
        x += width + gap


def _draw_swatch(p: Painter, kind: str, x: float, middle: float, width: float) -> None:
    theme = p.theme
    if kind == "line":
        p.line([(x, middle), (x + width, middle)], theme.usage, _LINE_WIDTH, round_ends=True)
    elif kind == "dashed":
        p.dashed((x, middle), (x + width, middle), theme.projection, _LINE_WIDTH, 8.0, 5.0)
    elif kind == "vline":
        p.vline(x + width / 2, middle - 8, middle + 8, theme.reset, 2)
    elif kind == "band":
        p.rect((x, middle - 7, x + width, middle + 7), theme.hatch)
    elif kind == "bar":
        p.rect((x + 5, middle - 7, x + width - 5, middle + 7), theme.bar)
    elif kind == "hit":
        p.rect((x, middle - _HIT_BAR / 2, x + width, middle + _HIT_BAR / 2), theme.guides[3])


# ------------------------------------------------------------------------------------------ spend panel


def _draw_cost_panel(p: Painter, data: ChartInput, layout: ChartLayout) -> None:
    assert layout.cost_box is not None
    box = layout.cost_box
    theme = p.theme
    p.rect(box, theme.plot)
    _draw_cost_grid(p, data, layout)
    today = utc_day(data)
    costs = dict(data.console_daily)
    for day in layout.cost_days:
        cost = costs.get(day)
        if cost is None:
            continue
        slot_left, slot_right = layout.day_slot(day)
        inset = (slot_right - slot_left) * 0.18
        colour = theme.today_bar if day == today else theme.bar
        bar = (slot_left + inset, layout.y_of_cost(float(cost)), slot_right - inset, box[3])
        p.rect((snap(bar[0]), snap(bar[1]), snap(bar[2]), bar[3]), colour)
    p.hline(box[3], box[0], box[2], theme.axis, 2)
    _draw_cost_projection(p, data, layout)
    _draw_header(p, box, cost_title(data), cost_summary(data), cost_legend(data))


def _draw_cost_grid(p: Painter, data: ChartInput, layout: ChartLayout) -> None:
    assert layout.cost_box is not None
    left, _, right, bottom = layout.cost_box
    for amount, label, labelled in money_gridlines(layout, data.currency):
        y = layout.y_of_cost(amount)
        p.hline(y, left, right, p.theme.grid)
        if labelled:
            p.text((left - 10, y), label, p.fonts.small, p.theme.muted, "rm")
    today = utc_day(data)
    for day, label in day_labels(layout, today):
        slot_left, slot_right = layout.day_slot(day)
        colour = p.theme.text if day == today else p.theme.muted
        p.text(((slot_left + slot_right) / 2, bottom + 9), label, p.fonts.small, colour, "mt")


def _draw_cost_projection(p: Painter, data: ChartInput, layout: ChartLayout) -> None:
    rate = projected_daily_rate(data)
    assert layout.cost_box is not None
    if rate is None or data.console_projection is None:
        return
    start = layout.day_slot(utc_day(data))[0]
    end = float(layout.cost_box[2])
    y = layout.y_of_cost(rate)
    p.dashed((start, y), (end, y), p.theme.projection, _LINE_WIDTH, _DASH, _DASH_GAP)
    # Above the level, or under it when the level runs close to the top of the plot.
    xy, anchor = ((end - 4, y - 8), "rb") if y - layout.cost_box[1] > 26 else ((end - 4, y + 8), "rt")
    p.text(xy, pace_label(data, rate), p.fonts.text, p.theme.projection, anchor, p.theme.plot)
