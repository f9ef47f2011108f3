"""Limit-hit episodes from a window's history: gaps, resets, restarts, stale lower figures, open ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tray_app.core.limit_hits import all_episodes, counts, episodes
from tray_app.core.models import LimitHit, Snapshot

T0 = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
RESET = T0 + timedelta(hours=5)  # the 5-hour period that holds T0
NEXT_RESET = RESET + timedelta(hours=5)


def at(minutes: float, percent: float, reset: datetime | None = RESET, locked: bool = False) -> Snapshot:
    return Snapshot(T0 + timedelta(minutes=minutes), percent, reset, locked)


def hits(*history: Snapshot, now: datetime = NEXT_RESET + timedelta(hours=1)) -> list[tuple[int, int | None]]:
    """Each episode as (start, end) in minutes after T0; end None while it still goes on."""
    found = episodes("five_hour", "5-hour", history, now)
    assert all(hit.window_id == "five_hour" and hit.label == "5-hour" for hit in found)
    return [
        (
            int((hit.started_at - T0).total_seconds() // 60),
            None if hit.ended_at is None else int((hit.ended_at - T0).total_seconds() // 60),
        )
        for hit in found
    ]


def test_an_episode_runs_from_the_first_reading_at_100_to_the_reset() -> None:
    assert hits(at(0, 80), at(10, 97), at(20, 100), at(30, 100), at(40, 100)) == [(20, 300)]


def test_no_reading_at_the_limit_is_no_hit() -> None:
    assert hits(at(0, 80), at(10, 99.9), at(20, 99.9)) == []


def test_a_reading_of_the_next_period_ends_it_at_the_reset_even_after_a_long_gap() -> None:
    # The machine slept from minute 60 to the next period: the block ended at the reset, not at waking.
    assert hits(at(50, 100), at(60, 100), at(400, 3, NEXT_RESET)) == [(50, 300)]


def test_a_gap_or_restart_inside_the_period_ends_nothing() -> None:
    # The app quit at minute 30 and came back at minute 200, the window still at 100 %: one episode.
    assert hits(at(20, 100), at(30, 100), at(200, 100), at(210, 100)) == [(20, 300)]


def test_a_stale_lower_figure_in_the_same_period_ends_nothing() -> None:
    # Claude Code's feed passed another session's older 98 % after our poll's 100 %.
    assert hits(at(20, 100), at(21, 98), at(25, 100), at(40, 99)) == [(20, 300)]


def test_the_reset_time_wobbling_by_seconds_is_the_same_period() -> None:
    wobble = RESET + timedelta(seconds=1)
    assert hits(at(20, 100), at(30, 100, wobble), at(40, 100)) == [(20, 300)]


def test_two_periods_give_two_episodes_with_exact_ends() -> None:
    history = (
        at(100, 100),
        at(290, 100),
        at(310, 40, NEXT_RESET),
        at(500, 100, NEXT_RESET),
        at(650, 5, NEXT_RESET + timedelta(hours=5)),
    )
    assert hits(*history) == [(100, 300), (500, 600)]


def test_a_reset_moved_earlier_ends_the_episode_at_the_first_reading_of_the_new_period() -> None:
    earlier_next = T0 + timedelta(hours=6)  # later than RESET, but the new period's reading comes at 120
    assert hits(at(20, 100), at(120, 0, earlier_next + timedelta(hours=3))) == [(20, 120)]


def test_an_episode_still_going_is_open_and_one_past_its_reset_is_closed() -> None:
    assert hits(at(20, 100), at(30, 100), now=T0 + timedelta(minutes=40)) == [(20, None)]
    assert hits(at(20, 100), at(30, 100), now=RESET + timedelta(minutes=1)) == [(20, 300)]


def test_locked_below_100_counts_as_a_hit() -> None:
    assert hits(at(0, 60), at(10, 62, locked=True), at(20, 62, locked=True)) == [(10, 300)]


def test_a_reading_stored_after_its_own_reset_starts_nothing() -> None:
    # A stale feed figure of a period that had already ended when it was written.
    assert hits(at(310, 100, RESET)) == []


def test_without_a_reset_time_the_first_reading_below_the_limit_ends_it() -> None:
    assert hits(at(0, 50, None, locked=True), at(30, 50, None, locked=True), at(45, 50, None)) == [(0, 45)]
    assert hits(at(0, 50, None, locked=True), now=T0 + timedelta(minutes=5)) == [(0, None)]


def test_all_episodes_are_sorted_by_start_and_counted_per_label_since_a_time() -> None:
    week_reset = T0 + timedelta(days=3)
    histories = {
        "five_hour": [at(20, 100), at(400, 100, NEXT_RESET)],
        "seven_day_fable": [Snapshot(T0 + timedelta(minutes=200), 100, week_reset)],
    }
    labels = {"five_hour": "5-hour", "seven_day_fable": "Fable weekly"}
    now = T0 + timedelta(minutes=420)
    found = all_episodes(histories, labels, now)
    assert [(hit.label, hit.ended_at) for hit in found] == [
        ("5-hour", RESET),
        ("Fable weekly", None),
        ("5-hour", None),
    ]
    assert counts(found, T0) == {"5-hour": 2, "Fable weekly": 1}
    # The first 5-hour hit ended before the cut-off: not counted.
    assert counts(found, RESET + timedelta(minutes=1)) == {"Fable weekly": 1, "5-hour": 1}
    assert LimitHit("x", "x", T0, None).duration(T0 + timedelta(hours=1)) == timedelta(hours=1)
