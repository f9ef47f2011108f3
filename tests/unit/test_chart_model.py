"""The history chart's model without Pillow: layout, ticks, the history's cuts and every word it says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tray_app.core.chart_layout import (
    CHART_SIZE,
    ChartLayout,
    TimeAxis,
    chart_layout,
    day_labels,
    money_gridlines,
    percent_gridlines,
)
from tray_app.core.chart_model import (
    GAP_LIMITS,
    ChartInput,
    cost_summary,
    cost_title,
    money_ticks,
    pace_label,
    projected_daily_rate,
    projection,
    reset_labels,
    shape,
    usage_legend,
    usage_summary,
)
from tray_app.core.models import Forecast, Snapshot

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
    climbing_day,
    every,
    weekly_history,
)


class Widths:
    """About as wide as the bundled font at the chart's 14 and 15 px, so the plots come out as wide."""

    def axis(self, text: str) -> float:
        return 7.5 * len(text)

    def value(self, text: str) -> float:
        return 8.5 * len(text)


def layout_of(data: ChartInput, span: str, size: tuple[int, int] = CHART_SIZE) -> ChartLayout:
    return chart_layout(data, span, size, Widths())


def test_time_labels_are_in_local_time() -> None:
    ticks = {tick.at: tick.label for tick in layout_of(chart_input(), "24h").time_ticks}
    assert ticks[datetime(2025, 11, 14, 14, 0, tzinfo=UTC)] == "15:00"
    assert ticks[datetime(2025, 11, 13, 23, 0, tzinfo=UTC)] == "Fri 14"  # local midnight names the day
    in_utc = ChartInput(NOW, UTC, climbing_day(), CLIMB_FORECAST, FIVE_HOUR_RESET, [], [], None)
    assert {t.at: t.label for t in layout_of(in_utc, "24h").time_ticks}[
        datetime(2025, 11, 14, 15, 0, tzinfo=UTC)
    ] == "15:00"
    days = [tick.label for tick in layout_of(chart_input(), "7d").time_ticks]
    assert days == ["Fri 7", "Sat 8", "Sun 9", "Mon 10", "Tue 11", "Wed 12", "Thu 13", "Fri 14"]


@pytest.mark.parametrize(
    ("resets_at", "span", "end"),
    [
        (FIVE_HOUR_RESET, "24h", FIVE_HOUR_RESET),  # runs on to the coming reset
        (None, "24h", NOW),
        (NOW - timedelta(minutes=1), "24h", NOW),
        (FIVE_HOUR_RESET, "7d", NOW),
        (NOW + timedelta(hours=6), "24h", NOW),  # further than a 5-hour window can reach: not trusted
    ],
)
def test_the_time_axis_ends_now_or_at_the_coming_reset(
    resets_at: datetime | None, span: str, end: datetime
) -> None:
    layout = layout_of(chart_input(resets_at=resets_at), span)
    assert layout.time_axis.end == end
    assert layout.time_axis.start == NOW - (timedelta(hours=24) if span == "24h" else timedelta(days=7))
    # Only a reset the axis reaches gets a projection drawn to it.
    assert (projection(chart_input(resets_at=resets_at), span) is not None) is (end > NOW)


@pytest.mark.parametrize(("projected", "top"), [(None, 100.0), (116.0, 125.0), (300.0, 150.0)])
def test_the_percent_axis_makes_room_for_a_projection_over_the_limit(
    projected: float | None, top: float
) -> None:
    forecast = None if projected is None else Forecast(20.0, projected, None)
    assert layout_of(chart_input(forecast=forecast), "24h").percent_max == top


@pytest.mark.parametrize("span", ["24h", "7d"])
def test_the_spend_panel_has_room_only_with_console_data(span: str) -> None:
    layout = layout_of(chart_input(), span)
    assert layout.cost_box is None
    assert layout.usage_box[3] > 0.85 * CHART_SIZE[1]  # the usage plot takes the whole height
    layout = layout_of(chart_input(console=True), span)
    assert layout.cost_box is not None
    assert layout.usage_box[3] < layout.cost_box[1]
    assert len(layout.cost_days) == 30  # November, one slot a day


@pytest.mark.parametrize(
    ("span", "size"), [("1h", CHART_SIZE), ("24h", (200, 100)), ("24h", (639, 760)), ("7d", (640, 400))]
)
def test_a_span_or_size_the_chart_cannot_take_is_refused(span: str, size: tuple[int, int]) -> None:
    # 640x400 passes the least size but leaves no room for two panels.
    with pytest.raises(ValueError):
        layout_of(chart_input(console=True), span, size)


def test_on_a_short_plot_the_100_percent_label_wins_over_90() -> None:
    axis = TimeAxis(NOW - timedelta(hours=24), NOW, 60.0, 600.0)
    layout = ChartLayout((700, 400), (60, 100, 600, 200), axis, (), 150.0, None, (), 1.0, 1.0)
    labelled = [tick for tick, written in percent_gridlines(layout) if written]
    assert labelled == [150.0, 100.0, 50.0, 0.0]
    tall = replace(layout, usage_box=(60, 100, 600, 700))
    assert all(written for _, written in percent_gridlines(tall))


def test_the_spend_axis_labels_every_other_amount_when_tight_and_cents_only_for_odd_steps() -> None:
    axis = TimeAxis(NOW - timedelta(hours=24), NOW, 60.0, 600.0)
    days = tuple(date(2025, 11, d) for d in range(1, 31))
    roomy = ChartLayout((700, 700), (60, 100, 600, 300), axis, (), 100.0, (60, 400, 600, 600), days, 10, 2.5)
    assert [(label, written) for _, label, written in money_gridlines(roomy, "USD")] == [
        ("$0.00", True),
        ("$2.50", True),
        ("$5.00", True),
        ("$7.50", True),
        ("$10.00", True),
    ]
    tight = replace(roomy, cost_box=(60, 400, 600, 460))
    assert [written for *_, written in money_gridlines(tight, "USD")] == [True, False, True, False, True]
    assert [label for _, label in money_ticks(150, 50, "EUR")] == ["0 EUR", "50 EUR", "100 EUR", "150 EUR"]


@pytest.mark.parametrize(
    ("right", "named"),
    [
        (1050, list(range(1, 31))),  # 33 px a day: every day
        (400, [1, 5, 10, 14, 15, 20, 25, 30]),  # 11 px a day: every fifth, the first and today
    ],
)
def test_the_spend_days_named_are_the_first_today_and_as_many_as_fit(right: int, named: list[int]) -> None:
    axis = TimeAxis(NOW - timedelta(hours=24), NOW, 60.0, 600.0)
    days = tuple(date(2025, 11, d) for d in range(1, 31))
    layout = ChartLayout(
        (1100, 700), (60, 100, right, 300), axis, (), 100.0, (60, 400, right, 600), days, 1, 1
    )
    labels = day_labels(layout, date(2025, 11, 14))
    assert [day.day for day, _ in labels] == named
    assert dict(labels)[date(2025, 11, 14)] == "today"
    assert dict(labels)[date(2025, 11, 1)] == "1"


def test_the_history_is_cut_at_window_resets_and_at_the_sleeping_laptop() -> None:
    day = shape(climbing_day(), GAP_LIMITS["24h"])
    assert day.resets == UTC_RESETS
    assert day.gaps == ()
    assert len(day.runs) == 3
    week = shape(weekly_history(), GAP_LIMITS["7d"])
    assert week.resets == (WEEKLY_RESET,)
    assert week.gaps == (SLEEP,)  # the 50-minute pause on Tuesday is no gap


@pytest.mark.parametrize(
    ("span", "hole", "broken"),
    GAP_CASES,
)
def test_only_a_silence_longer_than_about_three_polls_cuts_the_history(
    span: str, hole: timedelta, broken: bool
) -> None:
    begin = NOW - timedelta(hours=8)
    times = [
        t for t in every(NOW - timedelta(hours=20), NOW, timedelta(minutes=5)) if not begin < t < begin + hole
    ]
    cuts = shape([Snapshot(t, 40.0, None) for t in times], GAP_LIMITS[span])
    assert (len(cuts.runs), len(cuts.gaps)) == ((2, 1) if broken else (1, 0))
    assert usage_legend(cuts, projected=False)[-1] == (
        ("band", "no data") if broken else ("vline", "window reset")
    )


@pytest.mark.parametrize(
    ("data", "span", "summary"),
    [
        (chart_input(), "24h", "Now 77 %  ·  heading for 116 % at the 18:00 reset  ·  100 % around 17:17"),
        (chart_input(forecast=None), "24h", "Now 77 %  ·  resets 18:00"),
        (chart_input(), "7d", "Now 52 %  ·  resets Mon 10:00"),
        (
            replace(chart_input(), now=NOW + timedelta(hours=30)),
            "7d",
            "Now 52 %  ·  resets Mon 10:00  ·  last seen Fri 16:20",
        ),
        (EMPTY, "24h", "Nothing recorded yet: the chart fills in as the app polls."),
    ],
)
def test_the_usage_summary_says_now_where_it_heads_and_how_fresh(
    data: ChartInput, span: str, summary: str
) -> None:
    assert usage_summary(data, span, projection(data, span)) == summary


def test_the_reset_labels_are_local_and_name_another_day() -> None:
    cuts = shape(climbing_day(), GAP_LIMITS["24h"])
    labels = reset_labels(chart_input(), cuts, FIVE_HOUR_RESET)
    assert labels == [
        (UTC_RESETS[0], "reset Thu 22:30"),
        (UTC_RESETS[1], "reset 13:00"),
        (FIVE_HOUR_RESET, "reset 18:00"),
    ]
    assert usage_legend(cuts, projected=True) == [
        ("line", "usage"),
        ("dashed", "projection"),
        ("vline", "window reset"),
    ]
    assert usage_legend(shape([], GAP_LIMITS["24h"]), projected=False) == []


def test_the_spend_words() -> None:
    data = chart_input(console=True)
    assert cost_title(data) == "API spend  ·  November 2025, per UTC day"
    assert cost_summary(data) == "$962.65 so far this month  ·  projected $2,087 by Nov 30"
    rate = projected_daily_rate(data)
    assert rate == pytest.approx(
        (2087.40 - 962.65) / ((datetime(2025, 12, 1, tzinfo=UTC) - NOW) / timedelta(days=1))
    )
    assert pace_label(data, 68.75) == "projected $2,087 by Nov 30  ($69/day)"
    assert pace_label(data, 6.875) == "projected $2,087 by Nov 30  ($6.88/day)"
    no_projection = replace(data, console_projection=None)
    assert cost_summary(no_projection) == "$962.65 so far this month  ·  too few days yet for a projection"
    assert projected_daily_rate(no_projection) is None
    # The chart's font has no euro sign, so the code stands after the amount.
    assert cost_summary(replace(data, currency="EUR")).startswith("962.65 EUR so far")
