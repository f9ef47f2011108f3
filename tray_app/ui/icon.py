"""The live tray icon drawn from an IconSpec with Pillow; the only Pillow drawing of that icon."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from PIL import Image, ImageDraw

from tray_app.core.viewmodel import Badge, IconSpec, IconStyle, Level
from tray_app.ui.paint import mix, snap

__all__ = [
    "ICON_SIZE_DEFAULT",
    "ICON_SIZE_MACOS",
    "LEVEL_COLORS",
    "IconRenderer",
    "render_icon",
]

ICON_SIZE_DEFAULT = 64  # Linux and Windows; Windows needs >= 64 px for a good .ico
ICON_SIZE_MACOS = 44  # the 22 pt menu bar at 2x

_RGB = tuple[int, int, int]
_Ink = int | tuple[int, int, int, int]  # an alpha value on the mono mask, RGBA on the colour canvas
_Point = tuple[float, float]

# Bright enough to read on the near-black tile, and far apart in hue so 16 px still tells them apart.
LEVEL_COLORS: Mapping[Level, _RGB] = MappingProxyType(
    {
        Level.LOW: (72, 214, 96),
        Level.MEDIUM: (255, 204, 0),
        Level.HIGH: (255, 128, 0),
        Level.CRITICAL: (255, 56, 48),
    }
)

_TILE = (31, 31, 31)
_OUTLINE = (196, 196, 196)
_GREY_FIGURE = (150, 150, 150)
_GREY_FILL = (128, 128, 128)
_NEUTRAL_TRACK = (66, 66, 66)
_PACE = (255, 48, 220)  # magenta: never a level colour, so it cannot be read as one
_OFFLINE_MARK = (236, 236, 236)
# The blocked mark is a "no entry" sign: a red disc with a white bar. The red is the critical level's
# hue but the shape and the bar are its own, and it sits where no figure does, so it is never read as
# a level; white on red keeps the bar readable at 16 px.
_BLOCKED = (235, 30, 30)
_BLOCKED_BAR = (255, 255, 255)
_TRACK_MIX = 0.3  # how much of the level colour tints a gauge's empty track

# Mono styles draw one colour; these alphas separate live figures, faded ones and empty tracks.
_ALPHA_FULL = 255
_ALPHA_FADED = 105
_ALPHA_TRACK = 80
_ALPHA_FADED_TRACK = 45

_SUPERSAMPLE = 4

# The layout, in units of a 64-unit square; scaled to the target size and snapped to its pixels.
_GRID = 64
_TILE_RADIUS = 10
_OUTLINE_WIDTH = 2
_NUM_TOP, _NUM_BOTTOM = 6, 39
_NUM_LEFT, _NUM_RIGHT = 5, 59
_NUM_LEFT_WIDE, _NUM_RIGHT_WIDE = 3, 61  # three glyphs ("100") may use more of the tile
_STROKE = 7
_DIGIT_WIDTH = 24
_ONE_FLAG = 5  # how far the flag of the narrow "1" reaches left of its bar
_GAP, _GAP_TIGHT = 5, 4
_BANG_WIDTH = 9
_DASH_WIDTH = 22
_GAUGE_LEFT, _GAUGE_RIGHT, _GAUGE_RIGHT_BADGE = 7, 57, 39
_MAIN_TOP, _MAIN_BOTTOM = 43, 51
_WEEKLY_TOP, _WEEKLY_BOTTOM = 54, 58
_MARK_LEFT, _MARK_RIGHT, _MARK_TOP, _MARK_BOTTOM = 42, 60, 41, 59
_MARK_STROKE = 3
# Bigger than the other marks, since it is the one that must read at 16 px: a disc in 40-62 both ways
# (the tile's rounded corner still clears it) and a bar across it; the gauges end before it.
_BLOCKED_LEFT, _BLOCKED_TOP, _BLOCKED_SIZE = 40, 40, 22
_BLOCKED_BAR_HEIGHT, _BLOCKED_BAR_INSET = 7, 4
_GAUGE_RIGHT_BLOCKED = 36

# Seven segments: a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle.
_SEGMENTS: Mapping[str, str] = MappingProxyType(
    {
        "0": "abcdef",
        "2": "abdeg",
        "3": "abcdg",
        "4": "bcfg",
        "5": "acdfg",
        "6": "acdefg",
        "7": "abc",
        "8": "abcdefg",
        "9": "abcdfg",
    }
)

_MARKED = frozenset({Badge.PACE, Badge.OFFLINE})
_GREYED = frozenset({Badge.STALE, Badge.OFFLINE})
_NO_NUMBER = frozenset({Badge.LOGIN, Badge.NO_DATA})


@dataclass(frozen=True)
class _Inks:
    """What each part of the icon is drawn with, for one spec."""

    tile: _Ink | None  # None: no tile (mono styles)
    outline: _Ink | None
    figure: _Ink
    gauge: _Ink
    gauge_track: _Ink
    weekly: _Ink
    weekly_track: _Ink
    mark: _Ink
    blocked: _Ink  # the blocked mark's disc
    blocked_bar: _Ink  # its bar: white in colour, a hole in the mono styles


def render_icon(spec: IconSpec, size: int) -> Image.Image:
    """Draw the tray icon for `spec` as a square RGBA image of `size` pixels; only the spec decides pixels."""
    _check_size(size)
    mono = spec.style is not IconStyle.COLOR
    big = size * _SUPERSAMPLE
    # Mono styles draw alpha only, so every pixel of the result has exactly the glyph colour.
    canvas = Image.new("L", (big, big), 0) if mono else Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = _Pen(canvas, size)
    inks = _mono_inks(spec) if mono else _color_inks(spec)
    _draw_tile(pen, inks)
    _draw_figure(pen, spec, inks)
    _draw_gauges(pen, spec, inks)
    _draw_mark(pen, spec, inks)
    small = canvas.resize((size, size), Image.Resampling.LANCZOS)
    if not mono:
        return small
    glyph = 0 if spec.style is IconStyle.MONO_DARK else 255
    image = Image.new("RGBA", (size, size), (glyph, glyph, glyph, 0))
    image.putalpha(small)
    return image


class IconRenderer:
    """Icons of one size for the poller: an unchanged spec costs a lookup, not a drawing.

    Not thread-safe: one owner calls it. The images are shared between calls, so never modify them.
    """

    def __init__(self, size: int, capacity: int = 32) -> None:
        _check_size(size)
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._size = size
        self._capacity = capacity
        self._cache: OrderedDict[IconSpec, Image.Image] = OrderedDict()
        self._renders = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def renders(self) -> int:
        """How many images were actually drawn (cache misses)."""
        return self._renders

    def image(self, spec: IconSpec) -> Image.Image:
        """The icon for `spec`, drawn only if it is not among the last `capacity` specs."""
        cached = self._cache.get(spec)
        if cached is not None:
            self._cache.move_to_end(spec)
            return cached
        image = render_icon(spec, self._size)
        self._renders += 1
        self._cache[spec] = image
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return image


def _check_size(size: int) -> None:
    if size < 1:
        raise ValueError(f"icon size must be at least 1 pixel, not {size}")


def _rgba(rgb: _RGB) -> tuple[int, int, int, int]:
    return (*rgb, 255)


def _color_inks(spec: IconSpec) -> _Inks:
    level, weekly = LEVEL_COLORS[spec.level], LEVEL_COLORS[spec.weekly_level]
    figure = gauge = level
    track, weekly_track = mix(level, _TILE, _TRACK_MIX), mix(weekly, _TILE, _TRACK_MIX)
    if spec.badge in _GREYED or spec.badge in _NO_NUMBER:
        # Old or missing figures must never wear a live level colour.
        figure, gauge, weekly = _GREY_FIGURE, _GREY_FILL, _GREY_FILL
        track = weekly_track = _NEUTRAL_TRACK
    if spec.badge is Badge.LOGIN:
        figure = LEVEL_COLORS[Level.MEDIUM]
    return _Inks(
        tile=_rgba(_TILE),
        outline=_rgba(_OUTLINE),
        figure=_rgba(figure),
        gauge=_rgba(gauge),
        gauge_track=_rgba(track),
        weekly=_rgba(weekly),
        weekly_track=_rgba(weekly_track),
        mark=_rgba(_PACE if spec.badge is Badge.PACE else _OFFLINE_MARK),
        blocked=_rgba(_BLOCKED),
        blocked_bar=_rgba(_BLOCKED_BAR),
    )


def _mono_inks(spec: IconSpec) -> _Inks:
    faded = spec.badge in _GREYED
    figure = _ALPHA_FADED if faded or spec.badge is Badge.NO_DATA else _ALPHA_FULL
    fill = _ALPHA_FADED if faded else _ALPHA_FULL
    track = _ALPHA_FADED_TRACK if faded else _ALPHA_TRACK
    return _Inks(
        tile=None,
        outline=None,
        figure=figure,
        gauge=fill,
        gauge_track=track,
        weekly=fill,
        weekly_track=track,
        mark=_ALPHA_FULL,
        # Full strength even on old figures: the block lasts until its reset, which is still ahead.
        blocked=_ALPHA_FULL,
        blocked_bar=0,
    )


class _Pen:
    """Draws on the supersampled canvas in target-pixel coordinates; the grid maps layout units."""

    def __init__(self, canvas: Image.Image, size: int) -> None:
        self._draw = ImageDraw.Draw(canvas)
        self.size = size
        self._scale = size / _GRID

    def px(self, units: float) -> int:
        """A layout position on the target pixel grid, so edges stay crisp at 64 and 44 px."""
        return snap(units * self._scale)

    def thickness(self, units: float) -> int:
        return max(1, self.px(units))

    def exact(self, units: float) -> float:
        return units * self._scale

    def rect(self, x0: float, y0: float, x1: float, y1: float, ink: _Ink) -> None:
        if x1 <= x0 or y1 <= y0:
            return
        s = _SUPERSAMPLE
        box = (snap(x0 * s), snap(y0 * s), snap(x1 * s) - 1, snap(y1 * s) - 1)
        if box[2] < box[0] or box[3] < box[1]:
            return  # thinner than one supersampled pixel (a gauge at 0.1 %): nothing to draw
        self._draw.rectangle(box, fill=ink)

    def rounded(self, inset: float, radius: float, ink: _Ink) -> None:
        s = _SUPERSAMPLE
        lo, hi = snap(inset * s), snap((self.size - inset) * s) - 1
        self._draw.rounded_rectangle((lo, lo, hi, hi), radius=max(0.0, radius * s), fill=ink)

    def polygon(self, points: Sequence[_Point], ink: _Ink) -> None:
        s = _SUPERSAMPLE
        self._draw.polygon([(x * s, y * s) for x, y in points], fill=ink)

    def disc(self, cx: float, cy: float, radius: float, ink: _Ink) -> None:
        s = _SUPERSAMPLE
        self._draw.ellipse(
            ((cx - radius) * s, (cy - radius) * s, (cx + radius) * s, (cy + radius) * s), fill=ink
        )

    def ring(self, cx: float, cy: float, radius: float, width: float, ink: _Ink) -> None:
        s = _SUPERSAMPLE
        box = ((cx - radius) * s, (cy - radius) * s, (cx + radius) * s, (cy + radius) * s)
        self._draw.ellipse(box, outline=ink, width=max(1, snap(width * s)))

    def bar(self, start: _Point, end: _Point, width: float, ink: _Ink) -> None:
        """A straight stroke with square ends from `start` to `end`."""
        (x0, y0), (x1, y1) = start, end
        length = math.hypot(x1 - x0, y1 - y0)
        nx, ny = (y0 - y1) / length * width / 2, (x1 - x0) / length * width / 2
        self.polygon([(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)], ink)


def _draw_tile(pen: _Pen, inks: _Inks) -> None:
    if inks.tile is None or inks.outline is None:
        return
    outline = pen.thickness(_OUTLINE_WIDTH)
    radius = pen.exact(_TILE_RADIUS)
    pen.rounded(0, radius, inks.outline)
    pen.rounded(outline, radius - outline, inks.tile)


@dataclass(frozen=True)
class _Row:
    """The number row on the target pixel grid: top, glyph height and stroke width."""

    top: int
    height: int
    stroke: int

    @property
    def middle(self) -> int:
        """Top of the middle bar; the height is chosen so that it sits exactly halfway."""
        return self.top + (self.height - self.stroke) // 2


def _row(pen: _Pen) -> _Row:
    stroke = pen.thickness(_STROKE)
    top = pen.px(_NUM_TOP)
    height = pen.px(_NUM_BOTTOM) - top
    if (height - stroke) % 2:
        height -= 1
    return _Row(top, height, stroke)


def _draw_figure(pen: _Pen, spec: IconSpec, inks: _Inks) -> None:
    row = _row(pen)
    if spec.badge is Badge.LOGIN:
        _draw_bang(pen, row, inks.figure)
    elif spec.badge is Badge.NO_DATA:
        width = pen.px(_DASH_WIDTH)
        left = (pen.size - width) // 2
        pen.rect(left, row.middle, left + width, row.middle + row.stroke, inks.figure)
    elif spec.percent is not None:
        _draw_number(pen, row, str(min(999, max(0, spec.percent))), inks.figure)


def _draw_bang(pen: _Pen, row: _Row, ink: _Ink) -> None:
    width = pen.thickness(_BANG_WIDTH)
    left = (pen.size - width) // 2
    dot_top = row.top + row.height - width
    gap = max(1, (width + 1) // 2)
    pen.rect(left, row.top, left + width, dot_top - gap, ink)
    pen.rect(left, dot_top, left + width, row.top + row.height, ink)


def _draw_number(pen: _Pen, row: _Row, text: str, ink: _Ink) -> None:
    wide_text = len(text) > 2
    left = pen.px(_NUM_LEFT_WIDE if wide_text else _NUM_LEFT)
    room = pen.px(_NUM_RIGHT_WIDE if wide_text else _NUM_RIGHT) - left
    gap = pen.thickness(_GAP_TIGHT if wide_text else _GAP)
    narrow = row.stroke + pen.thickness(_ONE_FLAG)
    wide = pen.px(_DIGIT_WIDTH)
    ones = text.count("1")
    others = len(text) - ones
    fixed = narrow * ones + gap * (len(text) - 1)
    if others and fixed + wide * others > room:
        # Squeeze the digits, never the strokes: "100" keeps the weight of "42".
        wide = max(2 * row.stroke + 1, (room - fixed) // others)
    total = fixed + wide * others
    x = left + (room - total) // 2
    for char in text:
        width = narrow if char == "1" else wide
        _draw_glyph(pen, row, char, x, width, ink)
        x += width + gap


def _draw_glyph(pen: _Pen, row: _Row, char: str, x: int, width: int, ink: _Ink) -> None:
    top, bottom, sw, mid = row.top, row.top + row.height, row.stroke, row.middle
    if char == "1":
        bar = x + width - sw
        pen.rect(bar, top, x + width, bottom, ink)
        drop = (width - sw) * 0.8
        pen.polygon([(x, top + drop), (bar, top), (bar, top + sw), (x, top + drop + sw)], ink)
        return
    right = x + width
    boxes = {
        "a": (x, top, right, top + sw),
        "b": (right - sw, top, right, mid + sw),
        "c": (right - sw, mid, right, bottom),
        "d": (x, bottom - sw, right, bottom),
        "e": (x, mid, x + sw, bottom),
        "f": (x, top, x + sw, mid + sw),
        "g": (x, mid, right, mid + sw),
    }
    for segment in _SEGMENTS[char]:
        pen.rect(*boxes[segment], ink)


def _fraction(value: float | None) -> float:
    # `not value > 0` also turns NaN into an empty gauge.
    if value is None or not value > 0:
        return 0.0
    return min(value, 100.0) / 100.0


def _draw_gauges(pen: _Pen, spec: IconSpec, inks: _Inks) -> None:
    left = pen.px(_GAUGE_LEFT)
    right = pen.px(_GAUGE_RIGHT_BADGE if spec.badge in _MARKED else _GAUGE_RIGHT)
    if spec.blocked:
        right = pen.px(_GAUGE_RIGHT_BLOCKED)
    empty = spec.badge in _NO_NUMBER
    gauges = (
        (_MAIN_TOP, _MAIN_BOTTOM, spec.gauge, inks.gauge, inks.gauge_track),
        (_WEEKLY_TOP, _WEEKLY_BOTTOM, spec.weekly, inks.weekly, inks.weekly_track),
    )
    for top_units, bottom_units, value, fill, track in gauges:
        top, bottom = pen.px(top_units), pen.px(bottom_units)
        bottom = max(bottom, top + 1)
        pen.rect(left, top, right, bottom, track)
        if not empty:
            # The fill ends between pixels: the supersampling turns the remainder into a partial pixel.
            pen.rect(left, top, left + (right - left) * _fraction(value), bottom, fill)


def _draw_mark(pen: _Pen, spec: IconSpec, inks: _Inks) -> None:
    x0, x1 = pen.exact(_MARK_LEFT), pen.exact(_MARK_RIGHT)
    y0, y1 = pen.exact(_MARK_TOP), pen.exact(_MARK_BOTTOM)
    badge = spec.badge
    if spec.blocked:
        # Blocked wins the corner over pace and offline: it answers "can I work now?", and the tooltip
        # still tells the rest (an old figure is also greyed, so offline is not hidden).
        radius = pen.exact(_BLOCKED_SIZE) / 2
        cx, cy = pen.exact(_BLOCKED_LEFT) + radius, pen.exact(_BLOCKED_TOP) + radius
        inset, half = pen.exact(_BLOCKED_BAR_INSET), pen.exact(_BLOCKED_BAR_HEIGHT) / 2
        pen.disc(cx, cy, radius, inks.blocked)
        pen.rect(cx - radius + inset, cy - half, cx + radius - inset, cy + half, inks.blocked_bar)
    elif badge is Badge.PACE:
        # An up-pointing triangle: usage is climbing faster than the window allows.
        pen.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], inks.mark)
    elif badge is Badge.OFFLINE:
        # The "no connection" sign: a ring with a diagonal slash.
        stroke = pen.exact(_MARK_STROKE)
        cx, cy, radius = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
        pen.ring(cx, cy, radius, stroke, inks.mark)
        reach = (radius - stroke / 2) * math.sqrt(0.5)
        pen.bar((cx - reach, cy - reach), (cx + reach, cy + reach), stroke, inks.mark)
