"""Limits our table does not name, and usage credits: the words of the menu and of `status`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
from tray_app.core.report import render_text
from tray_app.core.reports import Reports
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import all_rows

NOW = datetime(2026, 10, 12, 15, 0, tzinfo=UTC)
WEEK_RESET = datetime(2026, 10, 15, 7, 0, tzinfo=UTC)
NO_FORECAST = Forecast(None, None, None)


def item(window_id: str, label: str, used: float, other: bool = False) -> WindowReport:
    window = UsageWindow(window_id, label, used, WEEK_RESET, other=other)
    return WindowReport(window, NO_FORECAST, Source.ANTHROPIC, NOW - timedelta(seconds=20))


REPORT = CodeReport(
    Status.OK,
    None,
    Account("jane@example.com", "Team Premium", None),
    NOW - timedelta(seconds=20),
    (
        item("seven_day", "Weekly", 61.0),
        item("seven_day_claude_design", "Weekly · Claude Design", 12.0),
        item("velvet_otter", "velvet_otter", 45.5, other=True),
        item("juniper_tide", "juniper_tide", 3.0, other=True),
    ),
    ExtraUsage(True, 12.5, None, "USD", None),
)


def test_the_menu_puts_other_limits_under_their_heading_and_names_usage_credits() -> None:
    menu = present(Reports(REPORT), NOW, UTC, ViewOptions()).menu
    figures = menu[: next(i for i, row in enumerate(menu) if row.is_separator)]
    assert [row.text for row in figures] == [
        "Updated 20 s ago",
        "Weekly 61 % · resets Thu 07:00 · from Anthropic, 20 s ago",
        "More limits",
        "Usage credits: $12.50 spent, no monthly limit",
    ]
    assert [row.text for row in figures[2].children] == [
        "Weekly · Claude Design 12 % · resets Thu 07:00 (in 2 d 16 h) · from Anthropic, 20 s ago",
        "Other limits",
        "velvet_otter 46 % · resets Thu 07:00 (in 2 d 16 h) · from Anthropic, 20 s ago",
        "juniper_tide 3 % · resets Thu 07:00 (in 2 d 16 h) · from Anthropic, 20 s ago",
    ]


def test_status_text_puts_other_limits_under_their_heading() -> None:
    text = render_text(REPORT, NOW, UTC)
    firsts = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert firsts == [
        "Claude Code · jane@example.com · Team Premium",
        "Updated 20 s ago",
        "Weekly                    61 %  resets Thu 07:00 (in 2 d 16 h)",
        "Weekly · Claude Design    12 %  resets Thu 07:00 (in 2 d 16 h)",
        "Other limits",
        "velvet_otter              46 %  resets Thu 07:00 (in 2 d 16 h)",
        "juniper_tide               3 %  resets Thu 07:00 (in 2 d 16 h)",
        "Usage credits                   $12.50 spent, no monthly limit",
    ]


def test_no_heading_without_other_limits() -> None:
    plain = CodeReport(Status.OK, None, None, NOW, REPORT.windows[:2], None)
    assert "Other limits" not in render_text(plain, NOW, UTC)
    menu = present(Reports(plain), NOW, UTC, ViewOptions()).menu
    assert all(row.text != "Other limits" for row in all_rows(menu))
