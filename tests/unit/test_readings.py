"""Claude Code's status-line `rate_limits` (api-2026.md section 1) read, and which reading is the news."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tray_app.core.models import FIVE_HOUR, SEVEN_DAY, Source, UsageWindow
from tray_app.core.readings import SPEND_LIMIT, Reading, fresh, is_news, merge, parse_rate_limits, same_period

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
FIVE_RESET = NOW + timedelta(hours=3)
WEEK_RESET = NOW + timedelta(days=4)
SPEND_RESET = NOW + timedelta(days=20)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def document(**limits: Any) -> dict[str, Any]:
    """The status-line JSON as Claude Code pipes it, with the rest of the payload around rate_limits."""
    return {
        "session_id": "3d1f6a2e",
        "model": {"id": "claude-sonnet-5", "display_name": "Sonnet 5"},
        "context_window": {"used_percentage": 21},
        "rate_limits": limits,
    }


def entry(percent: Any, resets_at: Any) -> dict[str, Any]:
    return {"used_percentage": percent, "resets_at": resets_at}


def parsed(**limits: Any) -> dict[str, UsageWindow]:
    return {window.id: window for window in parse_rate_limits(document(**limits), NOW)}


# -- the documented shapes ---------------------------------------------------------------------------


def test_all_three_windows_in_display_order_with_the_endpoints_labels() -> None:
    windows = parse_rate_limits(
        document(
            spend_limit={
                "used_percentage": 112,
                "resets_at": epoch(SPEND_RESET),
                "used_usd": 560.0,
                "limit_usd": 500.0,
                "period": "monthly",
            },
            seven_day=entry(46, epoch(WEEK_RESET)),
            five_hour=entry(17, epoch(FIVE_RESET)),
        ),
        NOW,
    )
    assert windows == (
        UsageWindow(FIVE_HOUR, "5-hour", 17.0, FIVE_RESET),
        UsageWindow(SEVEN_DAY, "Weekly", 46.0, WEEK_RESET),
        # Overspent: kept as it is (a gateway's cap may be exceeded), with the amounts in its label.
        UsageWindow(SPEND_LIMIT, "Spend limit ($560.00 of $500.00)", 112.0, SPEND_RESET),
    )


def test_only_the_windows_present_are_read() -> None:
    assert parsed(seven_day=entry(46, epoch(WEEK_RESET))) == {
        SEVEN_DAY: UsageWindow(SEVEN_DAY, "Weekly", 46.0, WEEK_RESET)
    }
    assert list(parsed(five_hour=entry(17, epoch(FIVE_RESET)), seven_day=None)) == [FIVE_HOUR]


def test_a_spend_limit_without_amounts_is_just_the_spend_limit() -> None:
    # Claude Code 2.1.251 to 2.1.283 sent the percentage alone; bad amounts are no amounts.
    assert parsed(spend_limit=entry(40, epoch(SPEND_RESET)))[SPEND_LIMIT].label == "Spend limit"
    odd = {"used_percentage": 40, "resets_at": epoch(SPEND_RESET), "used_usd": "560", "limit_usd": 500}
    assert parsed(spend_limit=odd)[SPEND_LIMIT].label == "Spend limit"
    negative = {**odd, "used_usd": -1.0}
    assert parsed(spend_limit=negative)[SPEND_LIMIT].label == "Spend limit"
    large = {**odd, "used_usd": 1234.5, "limit_usd": 1000}
    assert parsed(spend_limit=large)[SPEND_LIMIT].label == "Spend limit ($1,234.50 of $1,000.00)"


@pytest.mark.parametrize(
    "whole",
    [
        {},  # before the session's first API response
        {"rate_limits": None},
        {"rate_limits": {}},
        {"rate_limits": []},
        {"rate_limits": "five_hour: 17%"},
        {"rate_limits": 17},
        {"rate_limits": {"five_hour": None, "seven_day": None}},
        {"rate_limits": {"five_hour": [17, 1792004400], "seven_day": "46"}},
        {"rate_limits": {"seven_day_opus": entry(50, 1792350000)}},  # not a window the feed carries
    ],
)
def test_no_readable_rate_limits_is_nothing_never_zero(whole: dict[str, Any]) -> None:
    assert parse_rate_limits({"model": {"id": "x"}, **whole}, NOW) == ()


@pytest.mark.parametrize("whole", [None, [], "rate_limits", 17, True])
def test_a_document_that_is_not_an_object_is_nothing(whole: object) -> None:
    assert parse_rate_limits(whole, NOW) == ()


# -- resets_at: epoch seconds, documented; ISO text, as early write-ups said ------------------------


@pytest.mark.parametrize(
    "resets_at",
    [
        epoch(FIVE_RESET),
        float(epoch(FIVE_RESET)),
        FIVE_RESET.isoformat().replace("+00:00", "Z"),
        FIVE_RESET.isoformat(),
        FIVE_RESET.astimezone(UTC).replace(tzinfo=None).isoformat() + ".000000000Z",
        "2026-10-01T17:00:00+02:00",  # the same moment, told in another zone
    ],
)
def test_resets_at_as_epoch_seconds_or_iso_text(resets_at: object) -> None:
    assert parsed(five_hour=entry(17, resets_at))[FIVE_HOUR].resets_at == FIVE_RESET


def test_a_fraction_of_a_second_in_resets_at_is_kept() -> None:
    window = parsed(five_hour=entry(17, epoch(FIVE_RESET) + 0.5))[FIVE_HOUR]
    assert window.resets_at == FIVE_RESET + timedelta(seconds=0.5)


@pytest.mark.parametrize("resets_at", [None, "soon", "", True, 0, -5, math.nan, math.inf, 1e300])
def test_a_window_without_a_readable_resets_at_is_unknown(resets_at: object) -> None:
    # Claude Code sends a window only with its reset time; without one, its period cannot be told, and a
    # figure of no known period could pass for news over a higher one of the current period.
    assert FIVE_HOUR not in parsed(five_hour=entry(17, resets_at), seven_day=entry(46, epoch(WEEK_RESET)))


def test_a_window_missing_its_resets_at_is_unknown() -> None:
    assert SEVEN_DAY not in parsed(seven_day={"used_percentage": 46})


@pytest.mark.parametrize("passed", [NOW, NOW - timedelta(seconds=1), NOW - timedelta(days=3)])
def test_a_window_whose_reset_has_passed_is_dropped(passed: datetime) -> None:
    assert parsed(five_hour=entry(95, epoch(passed)), seven_day=entry(46, epoch(WEEK_RESET))).keys() == {
        SEVEN_DAY
    }
    assert parsed(five_hour=entry(95, passed.isoformat())) == {}


# -- used_percentage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "percent", ["17", "17%", "", None, True, False, -1, -0.5, math.nan, math.inf, -math.inf, [17], {"v": 1}]
)
def test_a_malformed_percentage_drops_that_window_only(percent: object) -> None:
    found = parsed(five_hour=entry(percent, epoch(FIVE_RESET)), seven_day=entry(46, epoch(WEEK_RESET)))
    assert list(found) == [SEVEN_DAY]


def test_a_missing_percentage_drops_the_window() -> None:
    assert parsed(five_hour={"resets_at": epoch(FIVE_RESET)}) == {}


@pytest.mark.parametrize("percent", [0, 0.0, 17.4, 99.99, 100])
def test_figures_from_0_to_100_are_taken_as_they_are(percent: float) -> None:
    assert parsed(five_hour=entry(percent, epoch(FIVE_RESET)))[FIVE_HOUR].utilization == float(percent)


def test_105_percent_of_a_plan_window_is_clamped_to_100() -> None:
    # Captured once in the wild for five_hour; shown as a full window, as the endpoint's figures are.
    found = parsed(five_hour=entry(105, epoch(FIVE_RESET)), seven_day=entry(100.5, epoch(WEEK_RESET)))
    assert found[FIVE_HOUR].utilization == 100.0 and found[SEVEN_DAY].utilization == 100.0


def test_an_overspent_spend_limit_is_kept_above_100() -> None:
    found = parsed(
        spend_limit={
            "used_percentage": 112,
            "resets_at": epoch(SPEND_RESET),
            "used_usd": 560,
            "limit_usd": 500,
        }
    )
    assert found[SPEND_LIMIT] == UsageWindow(
        SPEND_LIMIT, "Spend limit ($560.00 of $500.00)", 112.0, SPEND_RESET
    )


# -- which reading is the news -------------------------------------------------------------------------


def reading(
    percent: float,
    reset: datetime | None = FIVE_RESET,
    heard: datetime = NOW,
    source: Source = Source.CLAUDE_CODE,
    window_id: str = FIVE_HOUR,
) -> Reading:
    label = {FIVE_HOUR: "5-hour", SEVEN_DAY: "Weekly", SPEND_LIMIT: "Spend limit"}.get(window_id, window_id)
    return Reading(UsageWindow(window_id, label, percent, reset), heard, source)


def test_same_period_within_ten_minutes() -> None:
    assert same_period(FIVE_RESET, FIVE_RESET + timedelta(seconds=0.4))
    assert same_period(FIVE_RESET, FIVE_RESET - timedelta(minutes=10))
    assert not same_period(FIVE_RESET, FIVE_RESET + timedelta(minutes=11))
    assert same_period(None, None) and not same_period(None, FIVE_RESET) and not same_period(FIVE_RESET, None)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        (Source.CLAUDE_CODE, Source.ANTHROPIC),
        (Source.ANTHROPIC, Source.CLAUDE_CODE),
        (Source.CLAUDE_CODE, Source.CLAUDE_CODE),  # another session's older figure
    ],
)
def test_a_lower_figure_for_the_same_period_loses_from_either_side(lower: Source, higher: Source) -> None:
    old_high = reading(40, FIVE_RESET, NOW - timedelta(minutes=5), higher)
    new_low = reading(35, FIVE_RESET + timedelta(seconds=1), NOW, lower)
    assert not is_news(new_low, old_high)
    assert is_news(old_high, new_low)


def test_a_higher_figure_for_the_same_period_wins_even_when_heard_earlier() -> None:
    assert is_news(reading(41, heard=NOW - timedelta(minutes=3)), reading(40, heard=NOW))


def test_the_same_figure_heard_later_is_news() -> None:
    earlier, later = reading(40, heard=NOW - timedelta(seconds=30)), reading(40, heard=NOW)
    assert is_news(later, earlier) and not is_news(earlier, later)


def test_a_later_reset_time_starts_afresh_even_lower() -> None:
    old_period = reading(95, FIVE_RESET, NOW - timedelta(minutes=1), Source.ANTHROPIC)
    new_period = reading(2, FIVE_RESET + timedelta(hours=5), NOW - timedelta(minutes=2))
    assert is_news(new_period, old_period)
    assert not is_news(old_period, new_period)  # heard later, but of the period that is over


def test_without_a_reset_time_the_later_hearing_wins() -> None:
    unknown = reading(10, None, NOW)
    known = reading(50, FIVE_RESET, NOW - timedelta(minutes=1))
    assert is_news(unknown, known) and not is_news(known, unknown)


def polled(*readings: Reading) -> tuple[Reading, ...]:
    return readings


def test_merge_keeps_the_polled_order_and_takes_fed_news() -> None:
    poll = polled(
        reading(30, FIVE_RESET, NOW - timedelta(minutes=5), Source.ANTHROPIC),
        reading(50, WEEK_RESET, NOW - timedelta(minutes=5), Source.ANTHROPIC, SEVEN_DAY),
        reading(12, WEEK_RESET, NOW - timedelta(minutes=5), Source.ANTHROPIC, "seven_day_opus"),
    )
    fed = [reading(33, FIVE_RESET, NOW), reading(48, WEEK_RESET, NOW, window_id=SEVEN_DAY)]
    merged = merge(poll, fed, NOW)
    assert [(r.window.id, r.window.utilization, r.source) for r in merged] == [
        (FIVE_HOUR, 33.0, Source.CLAUDE_CODE),  # higher: Claude Code's
        (SEVEN_DAY, 50.0, Source.ANTHROPIC),  # Claude Code's 48 is older news for this week
        ("seven_day_opus", 12.0, Source.ANTHROPIC),  # the feed does not carry it
    ]


def test_merge_a_fed_reading_of_a_new_period_replaces_the_polled_one() -> None:
    poll = polled(reading(97, FIVE_RESET, NOW - timedelta(minutes=1), Source.ANTHROPIC))
    fed = [reading(1, FIVE_RESET + timedelta(hours=5), NOW - timedelta(minutes=4))]
    (only,) = merge(poll, fed, NOW)
    assert only.window.utilization == 1.0 and only.source is Source.CLAUDE_CODE


def test_merge_drops_fed_readings_whose_reset_has_passed() -> None:
    poll = polled(reading(20, FIVE_RESET, NOW - timedelta(minutes=2), Source.ANTHROPIC))
    over = [
        reading(90, NOW - timedelta(seconds=1), NOW - timedelta(hours=1)),
        reading(70, NOW, NOW - timedelta(hours=1), window_id=SEVEN_DAY),
    ]
    assert merge(poll, over, NOW) == poll
    assert merge((), over, NOW) == ()
    # now None (no clock to judge by): everything stays.
    assert [r.window.utilization for r in merge((), over, None)] == [90.0, 70.0]


def test_merge_appends_fed_only_windows_in_display_order() -> None:
    poll = polled(reading(12, WEEK_RESET, NOW, Source.ANTHROPIC, "seven_day_opus"))
    fed = [
        reading(112, SPEND_RESET, NOW, window_id=SPEND_LIMIT),
        reading(46, WEEK_RESET, NOW, window_id=SEVEN_DAY),
        reading(17, FIVE_RESET, NOW),
    ]
    merged = merge(poll, fed, NOW)
    assert [r.window.id for r in merged] == ["seven_day_opus", FIVE_HOUR, SEVEN_DAY, SPEND_LIMIT]
    assert merged[-1].window.utilization == 112.0  # never clamped on the way


def test_merge_without_any_feed_is_the_poll() -> None:
    poll = polled(reading(30, source=Source.ANTHROPIC), reading(50, WEEK_RESET, window_id=SEVEN_DAY))
    assert merge(poll, (), NOW) == poll


def test_fresh_needs_both_the_5_hour_and_the_weekly_figure_within_the_interval() -> None:
    within = timedelta(seconds=180)
    both = [
        reading(17, heard=NOW - timedelta(seconds=179)),
        reading(46, WEEK_RESET, NOW, window_id=SEVEN_DAY),
    ]
    assert fresh(both, NOW, within)
    assert (
        not fresh(both[:1], NOW, within) and not fresh(both[1:], NOW, within) and not fresh((), NOW, within)
    )
    old = [reading(17, heard=NOW - timedelta(seconds=181)), both[1]]
    assert not fresh(old, NOW, within)
    spend_only = [reading(50, SPEND_RESET, NOW, window_id=SPEND_LIMIT)]
    assert not fresh(spend_only, NOW, within)


def test_a_fed_figure_keeps_what_only_the_endpoint_knows_of_the_same_period() -> None:
    polled_window = UsageWindow(FIVE_HOUR, "5-hour", 60.0, FIVE_RESET, locked=True, binding=True)
    polled = Reading(polled_window, NOW - timedelta(minutes=3), Source.ANTHROPIC)
    fed = Reading(UsageWindow(FIVE_HOUR, "5-hour", 72.0, FIVE_RESET), NOW, Source.CLAUDE_CODE)
    (shown,) = merge((polled,), (fed,), NOW)
    assert (shown.window.utilization, shown.source) == (72.0, Source.CLAUDE_CODE)
    assert shown.window.locked and shown.window.binding  # the status line carries neither
    later = Reading(
        UsageWindow(FIVE_HOUR, "5-hour", 3.0, FIVE_RESET + timedelta(hours=5)), NOW, Source.CLAUDE_CODE
    )
    (next_period,) = merge((polled,), (later,), NOW)
    assert not next_period.window.locked and not next_period.window.binding  # a new period starts afresh
