"""The tray's view model for every state, with the exact words a user reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tray_app.core.models import (
    Account,
    CodeReport,
    ExtraUsage,
    Forecast,
    Source,
    Status,
    UsageWindow,
    WindowReport,
)
from tray_app.core.report import reset_phrase
from tray_app.core.reports import Reports
from tray_app.core.view import ViewOptions, level_for, present
from tray_app.core.viewmodel import Action, Badge, IconStyle, Level, ViewModel, all_rows

NOW = datetime(2026, 8, 4, 14, 6, tzinfo=UTC)
FIVE_RESET = datetime(2026, 8, 4, 16, 20, tzinfo=UTC)
WEEK_RESET = datetime(2026, 8, 6, 19, 0, tzinfo=UTC)
ACCOUNT = Account("jane@example.com", "Max 5x", "Jane's Org")
NO_FORECAST = Forecast(None, None, None)


def five(utilization: float, forecast: Forecast = NO_FORECAST) -> WindowReport:
    """Told by Claude Code's status line 20 s ago."""
    window = UsageWindow("five_hour", "5-hour", utilization, FIVE_RESET)
    return WindowReport(window, forecast, Source.CLAUDE_CODE, NOW - timedelta(seconds=20))


def polled_five(utilization: float, age: timedelta) -> WindowReport:
    """From our own poll of the endpoint, age ago."""
    return WindowReport(five(utilization).window, NO_FORECAST, Source.ANTHROPIC, NOW - age)


def weekly(utilization: float = 41.0) -> WindowReport:
    """From our own poll of the endpoint, 3 minutes ago."""
    window = UsageWindow("seven_day", "Weekly", utilization, WEEK_RESET)
    return WindowReport(window, Forecast(0.4, 62.0, None), Source.ANTHROPIC, NOW - timedelta(minutes=3))


def report(
    *windows: WindowReport,
    status: Status = Status.OK,
    message: str | None = None,
    updated: timedelta = timedelta(seconds=20),
    extra: ExtraUsage | None = None,
) -> CodeReport:
    return CodeReport(status, message, ACCOUNT, NOW - updated, windows, extra)


def view(r: CodeReport, **options: Any) -> ViewModel:
    return present(Reports(r), NOW, UTC, ViewOptions(**options))


CLIMBING = Forecast(11.2, 82.5, None)
OVER = Forecast(22.0, 112.0, datetime(2026, 8, 4, 15, 5, tzinfo=UTC))


def texts(r: CodeReport) -> list[str]:
    """The figure rows: the top of the menu, above the actions."""
    rows = view(r).menu
    return [row.text for row in rows[: next(i for i, row in enumerate(rows) if row.is_separator)]]


def every(vm: ViewModel) -> list[str]:
    """Every row's text, the submenus' included."""
    return [row.text for row in all_rows(vm.menu)]


def test_fresh_climbing() -> None:
    vm = view(report(five(44.0, CLIMBING), weekly(), extra=ExtraUsage(True, 12.34, 40.0, "USD", 30.85)))
    assert texts(
        report(five(44.0, CLIMBING), weekly(), extra=ExtraUsage(True, 12.34, 40.0, "USD", 30.85))
    ) == [
        "Updated 20 s ago",
        "5-hour 44 % · resets 16:20 · → 82 % at reset · from Claude Code, 20 s ago",
        "Weekly 41 % · resets Thu 19:00 · → 62 % at reset · from Anthropic, 3 min ago",
        "Usage credits: $12.34 of $40.00 this month",
    ]
    assert vm.title == "Claude: 5-hour 44 % (resets 16:20) · Weekly 41 %"
    icon = vm.icon
    assert (icon.percent, icon.level, icon.weekly, icon.badge) == (44, Level.LOW, 41.0, Badge.NONE)


def test_projected_over_the_limit() -> None:
    vm = view(report(five(62.0, OVER), weekly()))
    five_hour = "5-hour 62 % · resets 16:20 · → 112 % at reset · from Claude Code, 20 s ago"
    assert five_hour in [row.text for row in vm.menu]
    assert vm.title == "Claude: 5-hour 62 % (resets 16:20) · Weekly 41 % · limit at 15:05"
    assert (vm.icon.level, vm.icon.badge) == (Level.MEDIUM, Badge.PACE)


def test_stale_when_no_update_for_a_while() -> None:
    vm = view(report(polled_five(80.0, timedelta(minutes=7)), weekly(), updated=timedelta(minutes=7)))
    assert vm.icon.badge is Badge.STALE and vm.icon.level is Level.HIGH
    assert "Figures from 7 min ago: not updated since" in [row.text for row in vm.menu]
    assert vm.title.endswith("— Figures from 7 min ago: not updated since")


def test_offline() -> None:
    message = "offline: cannot reach api.anthropic.com (showing figures from 2 min ago)"
    vm = view(
        report(five(30.0), weekly(), status=Status.OFFLINE, message=message, updated=timedelta(minutes=2))
    )
    assert vm.icon.badge is Badge.OFFLINE and vm.icon.percent == 30
    assert texts(report(five(30.0), status=Status.OFFLINE, message=message))[0] == message


def test_login_needed_shows_no_number() -> None:
    message = "expired: run `claude auth login` to log in again"
    vm = view(report(five(30.0), status=Status.LOGIN_NEEDED, message=message))
    assert (vm.icon.percent, vm.icon.badge) == (None, Badge.LOGIN)
    assert vm.title == "Claude usage: expired: run `claude auth login` to log in again"


def test_rate_limited_is_stale_with_the_reason() -> None:
    message = "rate limited (HTTP 429); next try at 14:10:00 UTC (showing figures from 1 min ago)"
    polled = polled_five(50.0, timedelta(minutes=1))
    vm = view(report(polled, status=Status.RATE_LIMITED, message=message, updated=timedelta(minutes=1)))
    assert vm.icon.badge is Badge.STALE and vm.icon.level is Level.MEDIUM
    assert message in [row.text for row in vm.menu]


def test_full_limit() -> None:
    vm = view(report(five(100.0, Forecast(0.0, 100.0, None)), weekly(95.0)))
    assert (vm.icon.percent, vm.icon.level, vm.icon.weekly_level) == (100, Level.CRITICAL, Level.CRITICAL)
    assert "5-hour 100 % · resets 16:20 · from Claude Code, 20 s ago" in [row.text for row in vm.menu]


def test_no_five_hour_window_leads_with_the_week() -> None:
    vm = view(report(weekly(77.0)))
    assert (vm.icon.percent, vm.icon.weekly, vm.icon.level) == (77, None, Level.HIGH)
    assert vm.title == "Claude: Weekly 77 %"


def test_nothing_fetched_yet() -> None:
    r = CodeReport(
        Status.STALE, "no figures stored yet: run `claude-usage-tray status`", None, None, (), None
    )
    vm = view(r)
    assert vm.icon.badge is Badge.NO_DATA and vm.icon.percent is None
    assert [row.text for row in vm.menu][:2] == [
        "no figures stored yet: run `claude-usage-tray status`",
        "",
    ]


def test_model_scoped_windows_and_pace_over() -> None:
    fable = WindowReport(
        UsageWindow("seven_day_fable", "Weekly · Fable", 80.0, WEEK_RESET), Forecast(1.0, 133.0, None)
    )
    vm = view(report(five(10.0), weekly(), fable))
    # At 50 % or more a model-scoped window is on the top level, beside the 5-hour and the week.
    # (A figure whose time of hearing is not known says only where it came from.)
    fable_row = "Weekly · Fable 80 % · resets Thu 19:00 · → 133 % at reset · from Anthropic"
    assert fable_row in [row.text for row in vm.menu]
    quiet = replace(fable, window=replace(fable.window, utilization=30.0))
    more = next(row for row in view(report(five(10.0), weekly(), quiet)).menu if row.text == "More limits")
    # A figure whose time of hearing is not known says only where it came from.
    assert [row.text for row in more.children] == [
        "Weekly · Fable 30 % · resets Thu 19:00 (in 2 d 4 h) · +1.0 %/h · → 133 % at reset · from Anthropic"
    ]


def test_actions_and_notification_toggle() -> None:
    vm = view(report(five(10.0)), notifications_on=False)
    actions = [
        (row.text, row.action, row.checked)
        for row in all_rows(vm.menu)
        if row.action is not None and row.action is not Action.OPEN_DETAILS
    ]
    assert actions == [
        ("Refresh now", Action.REFRESH, None),
        ("Open usage page", Action.OPEN_USAGE_PAGE, None),
        ("Show history", Action.SHOW_HISTORY, None),
        ("Notifications on", Action.TOGGLE_NOTIFICATIONS, False),
        ("Use claude.ai browser session", Action.TOGGLE_WEB, False),
        ("Open settings file", Action.OPEN_SETTINGS, None),
        ("Open log folder", Action.OPEN_LOGS, None),
        ("About claude-usage-tray", Action.ABOUT, None),
        ("Quit", Action.QUIT, None),
    ]


def test_style_and_thresholds_come_from_options() -> None:
    vm = view(report(five(60.0)), thresholds=(20.0, 40.0, 60.0), style=IconStyle.MONO_DARK)
    assert (vm.icon.level, vm.icon.style) == (Level.CRITICAL, IconStyle.MONO_DARK)


@pytest.mark.parametrize(
    ("utilization", "level"),
    [
        (0, Level.LOW),
        (49.9, Level.LOW),
        (50, Level.MEDIUM),
        (74, Level.MEDIUM),
        (75, Level.HIGH),
        (89.99, Level.HIGH),
        (90, Level.CRITICAL),
        (100, Level.CRITICAL),
    ],
)
def test_levels(utilization: float, level: Level) -> None:
    assert level_for(utilization, (50, 75, 90)) is level


def test_long_titles_fit_a_windows_tooltip() -> None:
    long = "x" * 300
    vm = view(report(five(10.0), status=Status.LOGIN_NEEDED, message=long))
    assert len(vm.title) == 127 and vm.title.endswith("…")


def test_equal_reports_give_equal_view_models() -> None:
    # The tray redraws only when the view model changes; equal inputs must compare equal.
    assert view(report(five(44.0, CLIMBING), weekly())) == view(report(five(44.0, CLIMBING), weekly()))


def test_snooze_rows() -> None:
    awake = [
        (row.text, row.action) for row in all_rows(view(report(five(10.0))).menu) if row.action is not None
    ]
    assert ("Snooze for 1 hour", Action.SNOOZE_HOUR) in awake
    assert ("Snooze until tomorrow", Action.SNOOZE_TOMORROW) in awake
    later_today = NOW + timedelta(hours=1)
    snoozed = every(view(report(five(10.0)), snoozed_until=later_today))
    assert "Snoozed until 15:06: resume now" in snoozed and "Snooze for 1 hour" not in snoozed
    assert "Notifications: snoozed until 15:06" in snoozed
    tomorrow = datetime(2026, 8, 5, 8, 0, tzinfo=UTC)
    assert "Snoozed until Wed 08:00: resume now" in every(view(report(five(10.0)), snoozed_until=tomorrow))
    past = NOW - timedelta(minutes=1)
    assert "Snooze for 1 hour" in every(view(report(five(10.0)), snoozed_until=past))


@pytest.mark.parametrize(
    ("used", "phrase"),
    [(0.0, "not started"), (0.4, "reset time not given"), (37.0, "reset time not given")],
)
def test_a_window_without_a_reset_time_is_not_started_only_when_unused(used: float, phrase: str) -> None:
    # The server sends no reset time for a window nobody has used yet; one in use without it is odd.
    assert reset_phrase(None, datetime(2026, 8, 4, 14, tzinfo=UTC), UTC, used) == phrase


def test_the_icon_changes_only_when_a_whole_percent_does() -> None:
    # Tenths of a percent are invisible on a 16-64 px gauge; a spec that changed with them would redraw
    # the tray icon after every poll.
    first = view(report(five(44.2), weekly(41.3))).icon
    assert view(report(five(44.4), weekly(40.8))).icon == first
    assert (first.gauge, first.weekly) == (44.0, 41.0)
    assert view(report(five(44.6), weekly(41.3))).icon != first


def _offers(r: CodeReport, **options: Any) -> list[str]:
    return [row.text for row in all_rows(view(r, **options).menu) if row.action is Action.INSTALL_STATUSLINE]


def test_the_status_line_is_offered_only_while_claude_code_is_not_feeding() -> None:
    polled = weekly()
    offer = ["Get live figures from Claude Code (add status line)"]
    assert _offers(report(polled), feed_installed=False) == offer
    assert _offers(report(polled), feed_installed=True) == []
    assert _offers(report(polled)) == []  # not known (Console mode only): nothing to offer
    # Readings already arrive (installed some other way): the offer would be noise.
    assert _offers(report(five(10.0), polled), feed_installed=False) == []


def test_a_paused_endpoint_does_not_grey_figures_claude_code_gave_lately() -> None:
    paused = "rate limited by the server; next try at 15:10:00 UTC"
    fed = view(report(five(62.0), weekly(), status=Status.RATE_LIMITED, message=paused))
    assert fed.icon.badge is Badge.NONE and fed.icon.percent == 62
    assert fed.title.endswith(f"— {paused}")  # the pause is still told, in the tooltip and the menu
    polled = polled_five(62.0, timedelta(minutes=3))
    assert view(report(polled, status=Status.RATE_LIMITED, message=paused)).icon.badge is Badge.STALE
    old = WindowReport(five(62.0).window, NO_FORECAST, Source.CLAUDE_CODE, NOW - timedelta(hours=1))
    assert view(report(old, weekly(), status=Status.RATE_LIMITED, message=paused)).icon.badge is Badge.STALE


# Issue 15: a model-scoped week at 100 % stops the user while the 5-hour figure reads "fine".
FABLE_RESET = datetime(2026, 8, 9, 6, 12, tzinfo=UTC)  # Sunday


def fable(utilization: float, *, locked: bool = False, binding: bool = False) -> WindowReport:
    window = UsageWindow(
        "seven_day_fable", "Weekly · Fable", utilization, FABLE_RESET, locked=locked, binding=binding
    )
    return WindowReport(window, Forecast(0.0, utilization, None))


def test_a_blocked_fable_week_under_a_40_percent_5_hour_window() -> None:
    vm = view(report(five(40.0), weekly(), fable(100.0, binding=True)))
    icon = vm.icon
    # The number stays the 5-hour figure; the blocked mark says the rest.
    assert (icon.percent, icon.level, icon.badge, icon.blocked) == (40, Level.LOW, Badge.NONE, True)
    assert vm.title == (
        "Claude: Fable weekly limit reached - resets Sun 06:12 · 5-hour 40 % (resets 16:20) · Weekly 41 %"
    )
    rows = [row.text for row in vm.menu]
    assert rows[0] == "Fable weekly limit reached - resets Sun 06:12"
    assert rows[1] == "Updated 20 s ago"
    assert "Weekly · Fable 100 % · resets Sun 06:12 · from Anthropic" in rows


def test_without_a_block_the_icon_has_no_mark_and_the_menu_starts_with_the_status() -> None:
    vm = view(report(five(40.0), weekly(), fable(99.6)))
    assert vm.icon.blocked is False
    assert [row.text for row in vm.menu][0] == "Updated 20 s ago"
    assert vm.title == "Claude: 5-hour 40 % (resets 16:20) · Weekly 41 %"


def test_a_locked_window_says_locked_whatever_its_figure() -> None:
    locked = WindowReport(
        UsageWindow("seven_day", "Weekly", 30.0, WEEK_RESET, locked=True), NO_FORECAST, Source.ANTHROPIC
    )
    vm = view(report(five(12.0), locked))
    assert vm.icon.blocked is True and vm.icon.percent == 12
    rows = [row.text for row in vm.menu]
    assert rows[0] == "Weekly limit locked - resets Thu 19:00"
    assert "Weekly 30 % (locked) · resets Thu 19:00 · from Anthropic" in rows


def test_of_several_blocked_windows_the_one_that_frees_up_last_is_named() -> None:
    # The 5-hour block ends at 16:20 but Fable stays blocked until Sunday: Sunday is when work resumes.
    both = view(report(five(100.0), weekly(), fable(100.0)))
    assert [row.text for row in both.menu][0] == "Fable weekly limit reached - resets Sun 06:12"
    only_five = view(report(five(100.0), weekly()))
    assert [row.text for row in only_five.menu][0] == "5-hour limit reached - resets 16:20"
    assert only_five.title.startswith("Claude: 5-hour limit reached - resets 16:20 · 5-hour 100 %")


def test_a_block_whose_reset_has_passed_blocks_nothing() -> None:
    over = UsageWindow("seven_day_fable", "Weekly · Fable", 100.0, NOW - timedelta(minutes=1))
    vm = view(report(five(40.0), WindowReport(over, NO_FORECAST)))
    assert vm.icon.blocked is False
    assert [row.text for row in vm.menu][0] == "Updated 20 s ago"


def test_no_blocked_mark_without_figures_to_stand_behind() -> None:
    message = "expired: run `claude auth login` to log in again"
    vm = view(report(five(40.0), fable(100.0), status=Status.LOGIN_NEEDED, message=message))
    assert (vm.icon.badge, vm.icon.blocked) == (Badge.LOGIN, False)


def test_every_window_row_carries_its_pace_and_a_distant_limit_names_its_day() -> None:
    climbing = WindowReport(
        UsageWindow("seven_day_fable", "Weekly · Fable", 70.0, WEEK_RESET),
        Forecast(2.0, 140.0, datetime(2026, 8, 6, 2, 10, tzinfo=UTC)),
    )
    # On an account with more windows than fit, it waits in "More limits" with its pace and limit.
    many = [
        WindowReport(UsageWindow(f"seven_day_m{i}", f"Weekly · M{i}", 90.0, WEEK_RESET), NO_FORECAST)
        for i in range(12)
    ]
    rows = every(view(report(five(10.0), weekly(), *many, climbing)))
    assert (
        "Weekly · Fable 70 % · resets Thu 19:00 (in 2 d 4 h) · +2.0 %/h · → 140 % at reset"
        " · limit at Thu 02:10 · from Anthropic" in rows
    )
