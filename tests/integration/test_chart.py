"""The history chart: golden PNGs of fixed histories, and the properties a user would notice.

Golden images are tests/golden/chart_<case>.png, drawn at the default 1200x760. After a deliberate
change to the drawing, rewrite them with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/test_chart.py

then open the new PNGs and look at them before committing them with the change.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from tray_app.core.chart_layout import CHART_SIZE, ChartLayout
from tray_app.core.chart_model import GAP_LIMITS, ChartInput
from tray_app.core.models import Forecast, LimitHit, Snapshot
from tray_app.ui.chart import chart_layout, render_history_chart
from tray_app.ui.chart_theme import CHART_THEMES

from ..chart_data import (
    CLIMB_FORECAST,
    EMPTY,
    FIVE_HOUR_RESET,
    GAP_CASES,
    NOW,
    SLEEP,
    UTC_RESETS,
    WEEKLY_RESET,
    chart_input,
    every,
)

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# Antialiasing and glyph edges may move by a few levels between Pillow or FreeType releases. A wrong
# colour, a missing line or a moved label changes far more pixels, by far more, than this allows.
NOISE = 24  # a channel difference up to this is rounding, not a difference
MAX_DIFFERING_PIXELS = 300

# Two limit hits: the 5-hour window's, over by its reset at 12:00 UTC, and Fable's weekly limit, locked
# for the last 40 minutes and still locked.
HITS = (
    LimitHit("five_hour", "5-hour", datetime(2025, 11, 14, 10, 30, tzinfo=UTC), UTC_RESETS[1]),
    LimitHit("seven_day_overage_included", "Weekly · Fable", NOW - timedelta(minutes=40), None),
)


def with_hits(data: ChartInput) -> ChartInput:
    return replace(data, limit_hits=HITS)


# name -> (input, span, theme)
CASES: dict[str, tuple[Callable[[], ChartInput], str, str]] = {
    "24h_light": (chart_input, "24h", "light"),
    "24h_dark": (chart_input, "24h", "dark"),
    "24h_console_light": (lambda: chart_input(console=True), "24h", "light"),
    "24h_console_dark": (lambda: chart_input(console=True), "24h", "dark"),
    "7d_console_light": (lambda: chart_input(console=True), "7d", "light"),
    "7d_dark": (chart_input, "7d", "dark"),
    "empty_light": (lambda: EMPTY, "24h", "light"),
    "empty_7d_dark": (lambda: EMPTY, "7d", "dark"),
    "24h_limit_hits_light": (lambda: with_hits(chart_input()), "24h", "light"),
    "7d_limit_hits_dark": (lambda: with_hits(chart_input()), "7d", "dark"),
}


def differing(actual: Image.Image, expected: Image.Image) -> tuple[int, int]:
    """Largest channel difference and the number of pixels that differ beyond NOISE."""
    bands = ImageChops.difference(actual.convert("RGB"), expected.convert("RGB")).split()
    largest = ImageChops.lighter(ImageChops.lighter(bands[0], bands[1]), bands[2])
    histogram = largest.histogram()
    worst = max((value for value, count in enumerate(histogram) if count), default=0)
    return worst, sum(histogram[NOISE + 1 :])


@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_matches_its_golden_image(name: str, tmp_path: Path) -> None:
    make, span, theme = CASES[name]
    path = GOLDEN / f"chart_{name}.png"
    actual = render_history_chart(make(), span, theme)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        actual.save(path, optimize=True)
    assert path.exists(), f"{path.name} is missing; run with UPDATE_GOLDEN=1 to create it"
    with Image.open(path) as stored:
        expected = stored.copy()
    assert (expected.size, expected.mode) == (actual.size, actual.mode)
    worst, count = differing(actual, expected)
    if count > MAX_DIFFERING_PIXELS:
        actual.save(tmp_path / path.name)
        pytest.fail(
            f"{path.name}: {count} pixels differ, channels by up to {worst}; "
            f"the new drawing is {tmp_path / path.name}"
        )


def test_every_chart_golden_belongs_to_a_case() -> None:
    assert {p.name for p in GOLDEN.glob("chart_*.png")} == {f"chart_{name}.png" for name in CASES}


def test_the_golden_comparison_catches_a_missing_reset_line_and_shifted_labels() -> None:
    data = chart_input()
    image = render_history_chart(data, "24h", "light")
    layout = chart_layout(data, "24h")
    erased = image.copy()
    x = layout.time_axis.x(UTC_RESETS[1])
    ImageDraw.Draw(erased).line(
        [(x, layout.usage_box[1]), (x, layout.usage_box[3])], fill=CHART_THEMES["light"].plot, width=3
    )
    assert differing(erased, image)[1] > MAX_DIFFERING_PIXELS
    eastern = ChartInput(
        NOW, timezone(timedelta(hours=2)), data.five_hour, CLIMB_FORECAST, FIVE_HOUR_RESET, [], [], None
    )
    assert differing(render_history_chart(eastern, "24h", "light"), image)[1] > MAX_DIFFERING_PIXELS


# ------------------------------------------------------------------------------ what a user would see

RGB = tuple[int, ...]


def close(rgb: RGB, other: RGB, tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(rgb, other, strict=True))


def at(image: Image.Image, x: float, y: float) -> RGB:
    pixel = image.getpixel((round(x), round(y)))
    assert isinstance(pixel, tuple)
    return pixel


def count(image: Image.Image, colour: RGB, box: tuple[int, int, int, int], tolerance: int = 40) -> int:
    data = image.crop(box).convert("RGB").tobytes()
    return sum(close(tuple(data[i : i + 3]), colour, tolerance) for i in range(0, len(data), 3))


def runs(flags: list[bool]) -> list[tuple[bool, int]]:
    """Consecutive equal flags as (flag, length)."""
    out: list[tuple[bool, int]] = []
    for flag in flags:
        if out and out[-1][0] == flag:
            out[-1] = (flag, out[-1][1] + 1)
        else:
            out.append((flag, 1))
    return out


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_projection_runs_dashed_from_the_last_point_to_the_reset(theme: str) -> None:
    data = chart_input()
    image = render_history_chart(data, "24h", theme)
    layout = chart_layout(data, "24h")
    colour = CHART_THEMES[theme].projection
    last = data.five_hour[-1]
    x0, y0 = layout.time_axis.x(last.at), layout.y_of_percent(last.utilization)
    x1, y1 = layout.time_axis.x(FIVE_HOUR_RESET), layout.y_of_percent(116.0)
    length = math.dist((x0, y0), (x1, y1))
    # Along the path, clear of the dots at both ends.
    steps = [i / length for i in range(10, int(length) - 10)]
    on_path = [close(at(image, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t), colour) for t in steps]
    pattern = runs(on_path)
    # Dashes and holes several pixels long, not the speckle of antialiasing where a dash ends.
    assert len([n for flag, n in pattern if flag and n >= 5]) >= 4, pattern
    assert len([n for flag, n in pattern if not flag and n >= 4]) >= 4, pattern
    assert 0.4 < sum(on_path) / len(on_path) < 0.8, pattern
    # It ends at the reset, at the projected value, and nothing of its colour is left of the last point.
    assert close(at(image, x1, y1), colour)
    left, top, _, bottom = layout.usage_box
    assert count(image, colour, (left, top, round(x0) - 6, bottom)) == 0


def test_no_projection_without_a_forecast() -> None:
    image = render_history_chart(chart_input(forecast=None), "24h", "light")
    layout = chart_layout(chart_input(forecast=None), "24h")
    assert count(image, CHART_THEMES["light"].projection, layout.usage_box) == 0


@pytest.mark.parametrize(
    ("span", "reset"), [("24h", UTC_RESETS[0]), ("24h", UTC_RESETS[1]), ("7d", WEEKLY_RESET)]
)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_window_reset_is_a_vertical_line_at_its_time(span: str, reset: datetime, theme: str) -> None:
    data = chart_input()
    image = render_history_chart(data, span, theme)
    layout = chart_layout(data, span)
    expected = layout.time_axis.x(reset)
    colour = CHART_THEMES[theme].reset
    # Above the usage and clear of the guides and the labels, where only the reset line is drawn.
    for percent in (85.0, 93.0):
        y = layout.y_of_percent(percent)
        columns = [
            x for x in range(round(expected) - 15, round(expected) + 16) if close(at(image, x, y), colour)
        ]
        assert columns, f"no reset line near x={expected:.1f}"
        assert all(abs(x - expected) <= 1.5 for x in columns), (columns, expected)
    # The time axis itself: the reset is where the clock says, counted from the edges of the plot.
    start, end = layout.time_axis.start, layout.time_axis.end
    left, _, right, _ = layout.usage_box
    assert expected == pytest.approx(left + (right - left) * ((reset - start) / (end - start)))


def line_pixels(image: Image.Image, layout: ChartLayout, colour: RGB, x0: float, x1: float) -> int:
    _, top, _, bottom = layout.usage_box
    return count(image, colour, (math.ceil(x0), top, math.floor(x1), bottom + 1))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_sleeping_laptop_breaks_the_weekly_line(theme: str) -> None:
    data = chart_input()
    image = render_history_chart(data, "7d", theme)
    layout = chart_layout(data, "7d")
    colour = CHART_THEMES[theme].usage
    asleep, awake = layout.time_axis.x(SLEEP[0]), layout.time_axis.x(SLEEP[1])
    assert awake - asleep > 50
    assert line_pixels(image, layout, colour, asleep + 4, awake - 4) == 0
    # The test could fail: the line is there on both sides of the gap.
    assert line_pixels(image, layout, colour, asleep - 30, asleep - 5) > 20
    assert line_pixels(image, layout, colour, awake + 5, awake + 30) > 20


@pytest.mark.parametrize(
    ("span", "hole", "broken"),
    GAP_CASES,
)
def test_only_a_silence_longer_than_about_three_polls_breaks_the_line(
    span: str, hole: timedelta, broken: bool
) -> None:
    assert (hole > GAP_LIMITS[span]) is broken
    step = timedelta(minutes=5)
    begin = NOW - timedelta(hours=8)
    start = NOW - (timedelta(hours=20) if span == "24h" else timedelta(days=4))
    times = [t for t in every(start, NOW, step) if not begin < t < begin + hole]
    history = [Snapshot(t, 30 + 40 * (t - start) / (NOW - start), None) for t in times]
    data = chart_input(five_hour=history, forecast=None, resets_at=None, weekly=history)
    image = render_history_chart(data, span, "light")
    layout = chart_layout(data, span)
    middle = layout.time_axis.x(begin + hole / 2)
    pixels = line_pixels(image, layout, CHART_THEMES["light"].usage, middle - 1, middle + 2)
    assert (pixels == 0) is broken


@pytest.mark.parametrize(("theme", "dark"), [("light", False), ("dark", True)])
def test_the_dark_theme_is_dark_and_the_light_theme_light(theme: str, dark: bool) -> None:
    image = render_history_chart(chart_input(console=True), "24h", theme)
    (mean,) = ImageStat.Stat(image.convert("L")).mean
    corner = sum(at(image, 2, 2)) / 3
    if dark:
        assert mean < 60 and corner < 40
    else:
        assert mean > 200 and corner > 240
    # The words stand out from the background either way.
    text = CHART_THEMES[theme].text
    assert abs(sum(text) / 3 - corner) > 150


@pytest.mark.parametrize("span", ["24h", "7d"])
def test_the_spend_panel_shows_only_with_console_data(span: str) -> None:
    # Where the panels go is tests/unit/test_chart_model.py's; this is whether bars are painted there.
    theme = CHART_THEMES["light"]
    image = render_history_chart(chart_input(), span, "light")
    assert count(image, theme.bar, (0, 0, *CHART_SIZE), tolerance=20) == 0

    data = chart_input(console=True)
    layout = chart_layout(data, span)
    assert layout.cost_box is not None
    image = render_history_chart(data, span, "light")
    assert count(image, theme.bar, layout.cost_box, tolerance=20) > 2000


def test_each_bar_is_as_tall_as_its_days_cost() -> None:
    data = chart_input(console=True)
    image = render_history_chart(data, "24h", "light")
    layout = chart_layout(data, "24h")
    theme = CHART_THEMES["light"]
    assert layout.cost_box is not None
    top, bottom = layout.cost_box[1], layout.cost_box[3]
    for day, cost in data.console_daily:
        left, right = layout.day_slot(day)
        # Today's bar is paler: the day is not over.
        colour = theme.today_bar if day == date(2025, 11, 14) else theme.bar
        column = [y for y in range(top, bottom) if close(at(image, (left + right) / 2, y), colour, 20)]
        assert column, day
        assert min(column) == pytest.approx(layout.y_of_cost(float(cost)), abs=1.5), day
        assert max(column) >= bottom - 2, day
    # The days to come have no bar.
    left, right = layout.day_slot(date(2025, 11, 20))
    assert count(image, theme.bar, (round(left), top, round(right), bottom), 60) == 0
    assert count(image, theme.today_bar, (round(left), top, round(right), bottom), 30) == 0


def test_the_month_end_projection_is_a_dashed_level_at_the_daily_pace_it_needs() -> None:
    data = chart_input(console=True)
    image = render_history_chart(data, "24h", "dark")
    layout = chart_layout(data, "24h")
    assert layout.cost_box is not None and data.console_projection is not None
    spent = sum((cost for _, cost in data.console_daily), Decimal(0))
    days_left = (datetime(2025, 12, 1, tzinfo=UTC) - NOW) / timedelta(days=1)
    y = layout.y_of_cost(float(data.console_projection - spent) / days_left)
    left, _ = layout.day_slot(date(2025, 11, 15))
    flags = [
        close(at(image, x, y), CHART_THEMES["dark"].projection)
        for x in range(round(left), layout.cost_box[2] - 4)
    ]
    assert len([flag for flag, _ in runs(flags) if flag]) >= 10
    assert 0.4 < sum(flags) / len(flags) < 0.8
    # Nothing of its colour over the days already spent.
    first, _ = layout.day_slot(date(2025, 11, 1))
    end, _ = layout.day_slot(date(2025, 11, 14))
    assert (
        count(
            image,
            CHART_THEMES["dark"].projection,
            (round(first), layout.cost_box[1], round(end), layout.cost_box[3]),
        )
        == 0
    )


@pytest.mark.parametrize("projected", [116.0, 300.0])
def test_a_projection_over_the_limit_ends_inside_the_plot(projected: float) -> None:
    # The axis makes room up to 150 % (tests/unit/test_chart_model.py); a wilder one is clipped at the top.
    data = chart_input(forecast=Forecast(20.0, projected, None))
    image = render_history_chart(data, "24h", "light")
    layout = chart_layout(data, "24h")
    x, y = layout.time_axis.x(FIVE_HOUR_RESET), layout.y_of_percent(min(projected, layout.percent_max))
    assert y >= layout.usage_box[1]
    assert close(at(image, x, y), CHART_THEMES["light"].projection)


@pytest.mark.parametrize(("span", "theme"), [("24h", "light"), ("7d", "dark")])
def test_an_empty_history_says_so_and_draws_no_line(span: str, theme: str) -> None:
    image = render_history_chart(EMPTY, span, theme)
    layout = chart_layout(EMPTY, span)
    colours = CHART_THEMES[theme]
    assert count(image, colours.usage, layout.usage_box) == 0
    x, y = (layout.usage_box[0] + layout.usage_box[2]) / 2, layout.y_of_percent(62.5)
    words = (round(x) - 60, round(y) - 12, round(x) + 60, round(y) + 12)
    assert count(image, colours.muted, words, tolerance=30) > 40  # "no data yet"


def test_the_same_input_gives_the_same_pixels() -> None:
    first = render_history_chart(chart_input(console=True), "7d", "dark")
    again = render_history_chart(chart_input(console=True), "7d", "dark")
    assert first.tobytes() == again.tobytes()


@pytest.mark.parametrize("size", [(800, 500), (1600, 1000)])
def test_other_sizes_draw_the_same_chart(size: tuple[int, int]) -> None:
    data = chart_input(console=True)
    image = render_history_chart(data, "24h", "light", size)
    assert image.size == size and image.mode == "RGB"
    layout = chart_layout(data, "24h", size)
    x = layout.time_axis.x(UTC_RESETS[1])
    y = layout.y_of_percent(85)
    assert any(close(at(image, x + dx, y), CHART_THEMES["light"].reset) for dx in (-1, 0, 1))


@pytest.mark.parametrize(
    ("span", "theme", "size"),
    [("1h", "light", CHART_SIZE), ("24h", "sepia", CHART_SIZE), ("24h", "light", (200, 100))],
)
def test_a_wrong_argument_is_refused(span: str, theme: str, size: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        render_history_chart(chart_input(), span, theme, size)


@pytest.mark.parametrize("theme", sorted(CHART_THEMES))
def test_limit_hits_are_a_red_bar_along_the_time_axis_with_a_legend(theme: str) -> None:
    data = with_hits(chart_input())
    image = render_history_chart(data, "24h", theme).convert("RGB")
    plain = render_history_chart(chart_input(), "24h", theme).convert("RGB")
    layout = chart_layout(data, "24h")
    red = CHART_THEMES[theme].guides[3]
    bottom = layout.usage_box[3] - 3
    axis = layout.time_axis

    def at(moment: datetime, picture: Image.Image) -> tuple[int, ...]:
        pixel = picture.getpixel((round(axis.x(moment)), bottom))
        assert isinstance(pixel, tuple)
        return pixel

    # Inside each hit the bar is the 100 % guide's red; before, between and without hits it is not.
    for moment in (datetime(2025, 11, 14, 11, 0, tzinfo=UTC), NOW - timedelta(minutes=20)):
        assert at(moment, image) == red
        assert at(moment, plain) != red
    for moment in (datetime(2025, 11, 14, 10, 0, tzinfo=UTC), datetime(2025, 11, 14, 13, 0, tzinfo=UTC)):
        assert at(moment, image) != red
    # The legend names the mark: the header row has red pixels only with hits.
    left, top, right = layout.usage_box[0], layout.usage_box[1] - 60, layout.usage_box[2]
    header = (left, top, right, layout.usage_box[1] - 4)
    assert red in colours(image.crop(header))
    assert red not in colours(plain.crop(header))


def colours(image: Image.Image) -> set[tuple[int, ...]]:
    return {c for _, c in image.getcolors(maxcolors=image.width * image.height) or () if isinstance(c, tuple)}
