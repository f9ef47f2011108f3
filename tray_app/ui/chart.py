"""The history chart: a usage window over time and this month's API spend, drawn with Pillow alone."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from types import MappingProxyType

from PIL import Image, ImageDraw, ImageFont

from tray_app.core.console import month_start, next_month_start
from tray_app.core.forecast import SAME_PERIOD_TOLERANCE
from tray_app.core.models import Forecast, Snapshot
from tray_app.core.viewmodel import Level
from tray_app.ui.icon import LEVEL_COLORS

__all__ = [
    "CHART_SIZE",
    "CHART_THEMES",
    "GAP_LIMITS",
    "SPANS",
    "ChartInput",
    "ChartLayout",
    "ChartTheme",
    "TimeAxis",
    "Tick",
    "chart_layout",
    "render_history_chart",
]

_RGB = tuple[int, int, int]
_Point = tuple[float, float]
_Box = tuple[int, int, int, int]  # left, top, right, bottom in output pixels; right and bottom exclusive
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

CHART_SIZE = (1200, 760)
SPANS = ("24h", "7d")
# About three poll intervals: a longer silence is a sleeping laptop, not a flat line.
GAP_LIMITS: Mapping[str, timedelta] = MappingProxyType(
    {"24h": timedelta(minutes=15), "7d": timedelta(hours=2)}
)
_SPAN_LENGTHS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
_TITLES = {"24h": "5-hour limit  ·  last 24 hours", "7d": "Weekly limit  ·  last 7 days"}
# The API reports the 5-hour window's reset at most 5 h ahead; anything further is not trusted.
_MAX_RESET_AHEAD = timedelta(hours=5, minutes=10)
_SHARP_DROP = 10.0  # percentage points: usage never falls inside a period, so this is a reset
_GUIDES = (50.0, 75.0, 90.0, 100.0)
_PERCENT_TICKS = (0.0, 25.0, 50.0, 75.0, 90.0, 100.0, 125.0, 150.0)
_PERCENT_CEILING = 150.0  # a wilder projection is clipped at the top and told in words
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
# The bundled font has no euro or pound sign, so other currencies are written as their code.
_CURRENCY_SYMBOLS = {"USD": "$"}

_SUPERSAMPLE = 3
_MIN_SIZE = (640, 400)
_MARGIN = 22
_HEADER = 62  # title row and summary row above each plot
_TICK_BAND = 30  # time or day labels under each plot
_PANEL_GAP = 26
_USAGE_SHARE = 0.6  # of the height, when the spend panel is shown
_TICK_SPACING = 86  # least pixels between two hour labels
_LABEL_SPACING = 20  # least pixels between two axis labels one above the other
_FONT_TITLE, _FONT_TEXT, _FONT_SMALL = 20, 15, 14
_LINE_WIDTH = 2.6
_DASH, _DASH_GAP = 11.0, 7.0


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


@dataclass(frozen=True)
class ChartTheme:
    """The colours of one theme."""

    background: _RGB
    plot: _RGB  # the plot areas
    future: _RGB  # the part of the time axis after now
    over: _RGB  # the band above 100 %
    text: _RGB
    muted: _RGB
    grid: _RGB
    axis: _RGB
    usage: _RGB
    fill_alpha: int  # of the usage colour under the line
    projection: _RGB
    reset: _RGB
    gap: _RGB
    hatch: _RGB
    bar: _RGB
    today_bar: _RGB
    guides: tuple[_RGB, _RGB, _RGB, _RGB]  # 50, 75, 90 and 100 %


def _snap(value: float) -> int:
    # Round half up: the builtin's banker's rounding would put equal layouts a pixel apart.
    return math.floor(value + 0.5)


def _mix(rgb: _RGB, base: _RGB, share: float) -> _RGB:
    r, g, b = (_snap(c * share + d * (1 - share)) for c, d in zip(rgb, base, strict=True))
    return (r, g, b)


def _guides(base: _RGB, share: float) -> tuple[_RGB, _RGB, _RGB, _RGB]:
    # The icon's level colours, so 50/75/90 % read as the same yellow/orange/red as the tray icon.
    medium, high, critical = (LEVEL_COLORS[level] for level in (Level.MEDIUM, Level.HIGH, Level.CRITICAL))
    return (_mix(medium, base, share), _mix(high, base, share), _mix(critical, base, share), critical)


_WHITE = (255, 255, 255)
_NEAR_BLACK = (22, 23, 26)

CHART_THEMES: Mapping[str, ChartTheme] = MappingProxyType(
    {
        "light": ChartTheme(
            background=_WHITE,
            plot=(250, 250, 252),
            future=(240, 241, 246),
            over=(253, 235, 234),
            text=(28, 30, 36),
            muted=(96, 100, 112),
            grid=(226, 228, 234),
            axis=(150, 154, 166),
            usage=(37, 99, 235),
            fill_alpha=38,
            projection=(214, 32, 178),
            reset=(88, 92, 104),
            gap=(236, 237, 241),
            hatch=(208, 210, 218),
            bar=(13, 148, 136),
            today_bar=(126, 205, 197),
            # Yellow on white needs darkening to be seen at all.
            guides=((212, 158, 0), (232, 106, 0), (214, 40, 36), LEVEL_COLORS[Level.CRITICAL]),
        ),
        "dark": ChartTheme(
            background=_NEAR_BLACK,
            plot=(29, 30, 34),
            future=(38, 39, 46),
            over=(58, 28, 30),
            text=(232, 233, 238),
            muted=(156, 160, 172),
            grid=(52, 54, 62),
            axis=(98, 102, 114),
            usage=(96, 165, 250),
            fill_alpha=50,
            projection=(255, 72, 224),
            reset=(176, 180, 192),
            gap=(36, 37, 42),
            hatch=(62, 64, 74),
            bar=(45, 212, 191),
            today_bar=(30, 110, 102),
            guides=_guides(_NEAR_BLACK, 0.85),
        ),
    }
)


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
    usage_box: _Box
    time_axis: TimeAxis
    time_ticks: tuple[Tick, ...]
    percent_max: float
    cost_box: _Box | None  # None: no spend panel (Console mode is off)
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


@dataclass(frozen=True)
class _Fonts:
    title: _Font
    text: _Font
    small: _Font


def _fonts() -> _Fonts:
    # Pillow's bundled FreeType font: the same glyphs on every machine with the same Pillow.
    return _Fonts(
        ImageFont.load_default(size=_FONT_TITLE),
        ImageFont.load_default(size=_FONT_TEXT),
        ImageFont.load_default(size=_FONT_SMALL),
    )


# ---------------------------------------------------------------------------------------------- layout


def chart_layout(data: ChartInput, span: str = "24h", size: tuple[int, int] = CHART_SIZE) -> ChartLayout:
    """The plot boxes and scales render_history_chart uses for this input."""
    return _layout(data, span, size, _fonts())


def _layout(data: ChartInput, span: str, size: tuple[int, int], fonts: _Fonts) -> ChartLayout:
    if span not in SPANS:
        raise ValueError(f"span must be one of {SPANS}, not {span!r}")
    width, height = size
    if width < _MIN_SIZE[0] or height < _MIN_SIZE[1]:
        raise ValueError(
            f"the chart needs at least {_MIN_SIZE[0]}x{_MIN_SIZE[1]} pixels, not {width}x{height}"
        )
    percent_max = _percent_max(data, span)
    cost_max, cost_step = _cost_scale(data)
    labels = [f"{tick:g} %" for tick in _PERCENT_TICKS if tick <= percent_max]
    if data.console_daily:
        labels += [label for _, label in _money_ticks(cost_max, cost_step, data.currency)]
    # Both plots start at the same x, right of the widest axis label.
    left = _MARGIN + math.ceil(max(fonts.small.getlength(label) for label in labels)) + 12
    # Room on the right for the value at the end of a line, as wide as a percent label.
    right = width - _MARGIN - math.ceil(fonts.text.getlength("150 %")) - 14
    inner = height - 2 * _MARGIN
    usage_height = round(inner * _USAGE_SHARE) if data.console_daily else inner
    usage_box = (left, _MARGIN + _HEADER, right, _MARGIN + usage_height - _TICK_BAND)
    cost_box = None
    days: tuple[date, ...] = ()
    if data.console_daily:
        top = _MARGIN + usage_height + _PANEL_GAP + _HEADER
        cost_box = (left, top, right, height - _MARGIN - _TICK_BAND)
        days = _month_days(data.now)
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


def _time_axis(data: ChartInput, span: str, box: _Box) -> TimeAxis:
    start = data.now - _SPAN_LENGTHS[span]
    end = data.now
    reset = data.five_hour_resets_at
    # The 5-hour view runs on to a future reset, so the projection has somewhere to go.
    if span == "24h" and reset is not None and data.now < reset <= data.now + _MAX_RESET_AHEAD:
        end = reset
    return TimeAxis(start, end, float(box[0]), float(box[2]))


def _projection(data: ChartInput) -> tuple[Snapshot, datetime, float] | None:
    """The last point, the reset and the projected utilization there, when there is one to draw."""
    forecast, reset = data.five_hour_forecast, data.five_hour_resets_at
    if not data.five_hour or forecast is None or forecast.projected_at_reset is None or reset is None:
        return None
    last = _latest(data.five_hour)
    if not last.at < reset <= data.now + _MAX_RESET_AHEAD:
        return None
    return last, reset, forecast.projected_at_reset


def _latest(history: Sequence[Snapshot]) -> Snapshot:
    # The store hands snapshots oldest first; taking the newest by time keeps a shuffled list harmless.
    return max(history, key=lambda s: s.at)


def _percent_max(data: ChartInput, span: str) -> float:
    history = data.five_hour if span == "24h" else data.weekly
    highest = max((s.utilization for s in history), default=0.0)
    projection = _projection(data) if span == "24h" else None
    if projection is not None:
        highest = max(highest, projection[2])
    if highest <= 100:
        return 100.0
    return min(_PERCENT_CEILING, math.ceil(highest / 25) * 25.0)


def _cost_scale(data: ChartInput) -> tuple[float, float]:
    highest = max((float(cost) for _, cost in data.console_daily), default=0.0)
    rate = _projected_daily_rate(data)
    if rate is not None:
        highest = max(highest, rate)
    step = _nice_step(highest * 1.08 if highest > 0 else 1.0)
    return step * max(1, math.ceil(highest * 1.08 / step)), step


def _nice_step(highest: float, count: int = 4) -> float:
    raw = highest / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _projected_daily_rate(data: ChartInput) -> float | None:
    """Cost per day for the rest of the month that the month-end projection stands for."""
    if data.console_projection is None or not data.console_daily:
        return None
    spent = sum((cost for _, cost in data.console_daily), Decimal(0))
    days_left = (next_month_start(data.now) - data.now) / timedelta(days=1)
    if days_left <= 0:
        return None
    return max(0.0, float(data.console_projection - spent) / days_left)


def _month_days(now: datetime) -> tuple[date, ...]:
    first = month_start(now).date()
    count = (next_month_start(now).date() - first).days
    return tuple(first + timedelta(days=n) for n in range(count))


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
            label = f"{_WEEKDAYS[local.weekday()]} {local.day}" if local.hour == 0 else f"{local:%H}:00"
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
        local = (begin + (finish - begin) / 2).astimezone(tz)
        ticks.append(Tick(begin, f"{_WEEKDAYS[local.weekday()]} {local.day}", begin + (finish - begin) / 2))
    return tuple(ticks)


# --------------------------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class _Text:
    xy: _Point
    text: str
    font: _Font
    fill: _RGB
    anchor: str
    backdrop: _RGB | None


class _Surface:
    """Shapes on a supersampled image, in output-pixel coordinates."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self._draw = ImageDraw.Draw(image)

    @staticmethod
    def _scale(points: Sequence[_Point]) -> list[tuple[float, float]]:
        return [(x * _SUPERSAMPLE, y * _SUPERSAMPLE) for x, y in points]

    @staticmethod
    def _width(width: float) -> int:
        return max(1, round(width * _SUPERSAMPLE))

    def rect(self, box: tuple[float, float, float, float], fill: tuple[int, ...]) -> None:
        x0, y0, x1, y1 = (round(v * _SUPERSAMPLE) for v in box)
        if x1 > x0 and y1 > y0:
            self._draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)

    def polygon(self, points: Sequence[_Point], fill: tuple[int, ...]) -> None:
        self._draw.polygon(self._scale(points), fill=fill)

    def line(
        self, points: Sequence[_Point], fill: tuple[int, ...], width: float, round_ends: bool = False
    ) -> None:
        scaled = self._scale(points)
        pixels = self._width(width)
        if len(scaled) > 1:
            self._draw.line(scaled, fill=fill, width=pixels, joint="curve")
        if round_ends or len(scaled) == 1:
            for x, y in (scaled[0], scaled[-1]):
                r = pixels / 2
                self._draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)

    def dashed(
        self, start: _Point, end: _Point, fill: tuple[int, ...], width: float, dash: float, gap: float
    ) -> None:
        length = math.dist(start, end)
        if length == 0:
            return
        ux, uy = (end[0] - start[0]) / length, (end[1] - start[1]) / length
        offset = 0.0
        while offset < length:
            stop = min(length, offset + dash)
            a = (start[0] + ux * offset, start[1] + uy * offset)
            b = (start[0] + ux * stop, start[1] + uy * stop)
            self.line([a, b], fill, width)
            offset += dash + gap

    def hline(self, y: float, left: float, right: float, fill: tuple[int, ...], width: int = 1) -> None:
        """A horizontal rule on whole output pixels: gridlines stay crisp instead of smeared over two rows."""
        top = _snap(y - width / 2)
        self.rect((left, top, right, top + width), fill)

    def vline(self, x: float, top: float, bottom: float, fill: tuple[int, ...], width: int = 1) -> None:
        left = _snap(x - width / 2)
        self.rect((left, top, left + width, bottom), fill)

    def dot(self, centre: _Point, radius: float, fill: tuple[int, ...]) -> None:
        x, y = centre[0] * _SUPERSAMPLE, centre[1] * _SUPERSAMPLE
        r = radius * _SUPERSAMPLE
        self._draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


class _Painter(_Surface):
    """The whole chart: shapes supersampled for smooth lines, text queued and set at the final size."""

    def __init__(self, size: tuple[int, int], theme: ChartTheme, fonts: _Fonts) -> None:
        width, height = size
        super().__init__(Image.new("RGB", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), theme.background))
        self.size = size
        self.theme = theme
        self.fonts = fonts
        self._texts: list[_Text] = []

    def layer(self) -> _Surface:
        """A transparent surface to draw on; `clip` puts its part inside a box onto the chart."""
        return _Surface(Image.new("RGBA", self.image.size, (0, 0, 0, 0)))

    def clip(self, layer: _Surface, box: _Box) -> None:
        left, top, right, bottom = (v * _SUPERSAMPLE for v in box)
        region = layer.image.crop((left, top, right, bottom))
        self.image.paste(region, (left, top), region)

    def text(
        self,
        xy: _Point,
        text: str,
        font: _Font,
        fill: _RGB,
        anchor: str = "la",
        backdrop: _RGB | None = None,
    ) -> None:
        self._texts.append(_Text(xy, text, font, fill, anchor, backdrop))

    def finish(self) -> Image.Image:
        # A box filter: no ringing around thin lines, unlike the sharper resampling filters.
        image = self.image.reduce(_SUPERSAMPLE)
        draw = ImageDraw.Draw(image)
        for t in self._texts:
            if t.backdrop is not None:
                x0, y0, x1, y1 = draw.textbbox(t.xy, t.text, font=t.font, anchor=t.anchor)
                draw.rectangle((x0 - 4, y0 - 3, x1 + 3, y1 + 2), fill=t.backdrop)
            draw.text(t.xy, t.text, font=t.font, fill=t.fill, anchor=t.anchor)
        return image


def render_history_chart(
    data: ChartInput, span: str = "24h", theme: str = "light", size: tuple[int, int] = CHART_SIZE
) -> Image.Image:
    """The history chart as an RGB image: the usage window of `span` ("24h" or "7d") over time, and
    under it this month's API spend per day when Console figures are given. Same input, same pixels."""
    if theme not in CHART_THEMES:
        raise ValueError(f"theme must be one of {tuple(CHART_THEMES)}, not {theme!r}")
    fonts = _fonts()
    layout = _layout(data, span, size, fonts)
    painter = _Painter(size, CHART_THEMES[theme], fonts)
    _draw_usage_panel(painter, data, layout, span)
    if layout.cost_box is not None:
        _draw_cost_panel(painter, data, layout)
    return painter.finish()


# ------------------------------------------------------------------------------------------ usage panel


@dataclass(frozen=True)
class _Shape:
    """A history cut where the line must not run straight on: at window resets and at silences."""

    runs: tuple[tuple[Snapshot, ...], ...]
    resets: tuple[datetime, ...]
    gaps: tuple[tuple[datetime, datetime], ...]


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


def _shape(history: Sequence[Snapshot], gap: timedelta) -> _Shape:
    runs: list[tuple[Snapshot, ...]] = []
    resets: list[datetime] = []
    gaps: list[tuple[datetime, datetime]] = []
    run: list[Snapshot] = []
    for snapshot in sorted(history, key=lambda s: s.at):
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
    return _Shape(tuple(runs), tuple(resets), tuple(gaps))


def _draw_usage_panel(p: _Painter, data: ChartInput, layout: ChartLayout, span: str) -> None:
    history = data.five_hour if span == "24h" else data.weekly
    shape = _shape(history, GAP_LIMITS[span])
    projection = _projection(data) if span == "24h" else None
    _draw_usage_grid(p, data, layout)
    _draw_time_grid(p, layout)
    for begin, finish in shape.gaps:
        _draw_gap(p, layout, begin, finish)
    resets = [(reset, f"reset {_when(reset, data)}") for reset in shape.resets]
    if layout.time_axis.end > data.now:
        resets.append((layout.time_axis.end, f"reset {_clock(layout.time_axis.end, data.tz)}"))
    _draw_resets(p, data, layout, resets)
    _draw_series(p, layout, shape)
    if projection is not None:
        _draw_projection(p, layout, projection)
    legend = [("line", "usage"), ("vline", "window reset")]
    if projection is not None:
        legend.insert(1, ("dashed", "projection"))
    if shape.gaps:
        legend.append(("band", "no data"))
    if history:
        _mark_latest(p, data, layout, _latest(history), projection is not None)
    else:
        _no_data(p, layout)
        legend = []
    _draw_header(p, layout.usage_box, _TITLES[span], _usage_summary(data, span, projection), legend)


def _draw_usage_grid(p: _Painter, data: ChartInput, layout: ChartLayout) -> None:
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
    guides = dict(zip(_GUIDES, theme.guides, strict=True))
    labelled = -math.inf
    # From the top down, so on a short plot the 90 % label gives way to the 100 % one.
    for tick in reversed(_PERCENT_TICKS):
        if tick > layout.percent_max:
            continue
        y = layout.y_of_percent(tick)
        colour = guides.get(tick, theme.axis if tick == 0 else theme.grid)
        p.hline(y, left, right, colour, 2 if tick in (0, 100) else 1)
        if y - labelled >= _LABEL_SPACING:
            ink = theme.text if tick in guides else theme.muted
            p.text((left - 10, y), f"{tick:g} %", p.fonts.small, ink, "rm")
            labelled = y


def _draw_time_grid(p: _Painter, layout: ChartLayout) -> None:
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


def _draw_gap(p: _Painter, layout: ChartLayout, begin: datetime, finish: datetime) -> None:
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
    p: _Painter, data: ChartInput, layout: ChartLayout, resets: Sequence[tuple[datetime, str]]
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


def _draw_series(p: _Painter, layout: ChartLayout, shape: _Shape) -> None:
    theme = p.theme
    layer = p.layer()
    baseline = layout.y_of_percent(0)
    x = layout.time_axis.x
    for run in shape.runs:
        points = [(x(s.at), layout.y_of_percent(s.utilization)) for s in run]
        if len(points) > 1:
            area = [(points[0][0], baseline), *points, (points[-1][0], baseline)]
            layer.polygon(area, (*theme.usage, theme.fill_alpha))
    for run in shape.runs:
        points = [(x(s.at), layout.y_of_percent(s.utilization)) for s in run]
        layer.line(points, (*theme.usage, 255), _LINE_WIDTH, round_ends=True)
    p.clip(layer, layout.usage_box)


def _draw_projection(p: _Painter, layout: ChartLayout, projection: tuple[Snapshot, datetime, float]) -> None:
    last, reset, projected = projection
    x = layout.time_axis.x
    start = (x(last.at), layout.y_of_percent(last.utilization))
    end = (x(reset), layout.y_of_percent(min(projected, layout.percent_max)))
    layer = p.layer()
    layer.dashed(start, end, (*p.theme.projection, 255), _LINE_WIDTH, _DASH, _DASH_GAP)
    layer.dot(end, 4.5, (*p.theme.projection, 255))
    p.clip(layer, _grow(layout.usage_box, 6))
    # In the margin right of the plot, where nothing else is drawn.
    p.text((end[0] + 9, end[1]), f"{projected:.0f} %", p.fonts.text, p.theme.projection, "lm")


def _mark_latest(p: _Painter, data: ChartInput, layout: ChartLayout, last: Snapshot, projected: bool) -> None:
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


def _no_data(p: _Painter, layout: ChartLayout) -> None:
    left, _, right, _ = layout.usage_box
    # Between the 50 and 75 % guides, so no line runs through the words.
    centre = ((left + right) / 2, layout.y_of_percent(62.5))
    p.text(centre, "no data yet", p.fonts.title, p.theme.muted, "mm")


def _ground(theme: ChartTheme, data: ChartInput, layout: ChartLayout, xy: _Point) -> _RGB:
    """The colour of the plot's background at xy, so a label's backdrop blends in."""
    if layout.percent_max > 100 and xy[1] < layout.y_of_percent(100):
        return theme.over
    if xy[0] > layout.time_axis.x(data.now):
        return theme.future
    return theme.plot


def _usage_summary(data: ChartInput, span: str, projection: tuple[Snapshot, datetime, float] | None) -> str:
    history = data.five_hour if span == "24h" else data.weekly
    if not history:
        return "Nothing recorded yet: the chart fills in as the app polls."
    last = _latest(history)
    parts = [f"Now {last.utilization:.0f} %"]
    if projection is not None:
        parts.append(f"heading for {projection[2]:.0f} % at the {_clock(projection[1], data.tz)} reset")
        limit_at = data.five_hour_forecast.limit_at if data.five_hour_forecast else None
        if limit_at is not None:
            parts.append(f"100 % around {_clock(limit_at, data.tz)}")
    elif last.resets_at is not None and last.resets_at > data.now:
        parts.append(f"resets {_when(last.resets_at, data)}")
    if last.at < data.now - GAP_LIMITS[span]:
        parts.append(f"last seen {_when(last.at, data)}")
    return "  ·  ".join(parts)


def _clock(at: datetime, tz: tzinfo) -> str:
    return f"{at.astimezone(tz):%H:%M}"


def _when(at: datetime, data: ChartInput) -> str:
    local, today = at.astimezone(data.tz), data.now.astimezone(data.tz).date()
    if local.date() == today:
        return _clock(at, data.tz)
    return f"{_WEEKDAYS[local.weekday()]} {local:%H:%M}"


def _grow(box: _Box, by: int) -> _Box:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


# ------------------------------------------------------------------------------------------ header


def _draw_header(p: _Painter, box: _Box, title: str, summary: str, legend: Sequence[tuple[str, str]]) -> None:
    top = box[1] - _HEADER
    p.text((box[0], top), title, p.fonts.title, p.theme.text)
    p.text((box[0], top + 30), summary, p.fonts.text, p.theme.muted)
    _draw_legend(p, box[0] + p.fonts.title.getlength(title) + 30, box[2], top + 4, legend)


def _draw_legend(
    p: _Painter, left: float, right: float, top: float, items: Sequence[tuple[str, str]]
) -> None:
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


def _draw_swatch(p: _Painter, kind: str, x: float, middle: float, width: float) -> None:
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


# ------------------------------------------------------------------------------------------ spend panel


def _money_ticks(top: float, step: float, currency: str) -> list[tuple[float, str]]:
    # Steps of 2.50 or 0.25 would round to uneven whole labels; show their cents.
    cents = step != math.floor(step)
    return [(n * step, _money(n * step, currency, cents)) for n in range(round(top / step) + 1)]


def _money(amount: float | Decimal, currency: str, cents: bool = False) -> str:
    text = f"{amount:,.2f}" if cents else f"{amount:,.0f}"
    symbol = _CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def _draw_cost_panel(p: _Painter, data: ChartInput, layout: ChartLayout) -> None:
    assert layout.cost_box is not None
    box = layout.cost_box
    theme = p.theme
    p.rect(box, theme.plot)
    _draw_cost_grid(p, data, layout)
    today = data.now.astimezone(UTC).date()
    costs = dict(data.console_daily)
    for day in layout.cost_days:
        cost = costs.get(day)
        if cost is None:
            continue
        slot_left, slot_right = layout.day_slot(day)
        inset = (slot_right - slot_left) * 0.18
        colour = theme.today_bar if day == today else theme.bar
        bar = (slot_left + inset, layout.y_of_cost(float(cost)), slot_right - inset, box[3])
        p.rect((_snap(bar[0]), _snap(bar[1]), _snap(bar[2]), bar[3]), colour)
    p.hline(box[3], box[0], box[2], theme.axis, 2)
    _draw_cost_projection(p, data, layout)
    _draw_header(p, box, _cost_title(data), _cost_summary(data), _cost_legend(data))


def _draw_cost_grid(p: _Painter, data: ChartInput, layout: ChartLayout) -> None:
    assert layout.cost_box is not None
    left, top, right, bottom = layout.cost_box
    ticks = _money_ticks(layout.cost_max, layout.cost_step, data.currency)
    spacing = (bottom - top) / max(1, len(ticks) - 1)
    every = 1 if spacing >= _LABEL_SPACING else 2
    for n, (amount, label) in enumerate(ticks):
        y = layout.y_of_cost(amount)
        p.hline(y, left, right, p.theme.grid)
        if n % every == 0:
            p.text((left - 10, y), label, p.fonts.small, p.theme.muted, "rm")
    today = data.now.astimezone(UTC).date()
    slot = (right - left) / len(layout.cost_days)
    every = next(k for k in (1, 2, 5, 7, 10, 15) if slot * k >= 30)
    for day in layout.cost_days:
        if day.day % every and day.day != 1 and day != today:
            continue
        slot_left, slot_right = layout.day_slot(day)
        colour = p.theme.text if day == today else p.theme.muted
        label = "today" if day == today else str(day.day)
        p.text(((slot_left + slot_right) / 2, bottom + 9), label, p.fonts.small, colour, "mt")


def _draw_cost_projection(p: _Painter, data: ChartInput, layout: ChartLayout) -> None:
    rate = _projected_daily_rate(data)
    assert layout.cost_box is not None
    if rate is None or data.console_projection is None:
        return
    today = data.now.astimezone(UTC).date()
    start = layout.day_slot(today)[0]
    end = float(layout.cost_box[2])
    y = layout.y_of_cost(rate)
    p.dashed((start, y), (end, y), p.theme.projection, _LINE_WIDTH, _DASH, _DASH_GAP)
    label = f"{_projection_words(data)}  ({_money(rate, data.currency, cents=rate < 10)}/day)"
    # Above the level, or under it when the level runs close to the top of the plot.
    xy, anchor = ((end - 4, y - 8), "rb") if y - layout.cost_box[1] > 26 else ((end - 4, y + 8), "rt")
    p.text(xy, label, p.fonts.text, p.theme.projection, anchor, p.theme.plot)


def _cost_title(data: ChartInput) -> str:
    first = month_start(data.now)
    return f"API spend  ·  {_MONTH_NAMES[first.month - 1]} {first.year}, per UTC day"


def _projection_words(data: ChartInput) -> str:
    assert data.console_projection is not None
    last = next_month_start(data.now) - timedelta(days=1)
    amount = _money(data.console_projection, data.currency, cents=data.console_projection < 100)
    return f"projected {amount} by {_MONTHS[last.month - 1]} {last.day}"


def _cost_summary(data: ChartInput) -> str:
    spent = sum((cost for _, cost in data.console_daily), Decimal(0))
    parts = [f"{_money(spent, data.currency, cents=True)} so far this month"]
    if data.console_projection is not None:
        parts.append(_projection_words(data))
    else:
        parts.append("too few days yet for a projection")
    return "  ·  ".join(parts)


def _cost_legend(data: ChartInput) -> list[tuple[str, str]]:
    legend = [("bar", "cost per day")]
    if data.console_projection is not None:
        legend.append(("dashed", "projected pace"))
    return legend
