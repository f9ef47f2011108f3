"""Issue 16: the menu fits a laptop screen: at most 18 top-level rows, the rest in submenus."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tray_app.core.console import ConsoleReport, ModelSpend, MonthFigures, WorkspaceSpend
from tray_app.core.menu_rows import MAX_TOP_ROWS, rate_phrase
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
from tray_app.core.reports import Reports
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import Action, MenuRow
from tray_app.core.web import Prepaid
from tray_app.core.web_report import WebReport

NOW = datetime(2026, 8, 4, 14, 6, tzinfo=UTC)
FIVE_RESET = datetime(2026, 8, 4, 16, 20, tzinfo=UTC)
WEEK_RESET = datetime(2026, 8, 9, 10, 22, tzinfo=UTC)  # Sunday
HEARD = NOW - timedelta(seconds=20)


def window(id_: str, label: str, used: float, forecast: Forecast, **marks: bool) -> WindowReport:
    resets = FIVE_RESET if id_ == "five_hour" else WEEK_RESET
    return WindowReport(UsageWindow(id_, label, used, resets, **marks), forecast, Source.ANTHROPIC, HEARD)


FIVE = window("five_hour", "5-hour", 62.0, Forecast(22.0, 112.0, datetime(2026, 8, 4, 15, 5, tzinfo=UTC)))
WEEK = window("seven_day", "Weekly", 42.0, Forecast(0.5, 78.0, None))
FABLE = window("seven_day_fable", "Weekly · Fable", 33.0, Forecast(0.0, 33.0, None))
CREDITS = ExtraUsage(True, 12.34, 40.0, "USD", 30.85)


def code(*windows: WindowReport) -> CodeReport:
    account = Account("jane@example.com", "Max 5x", None)
    return CodeReport(Status.OK, None, account, HEARD, windows, CREDITS)


def spend(model: str, cost: str) -> ModelSpend:
    return ModelSpend(model, Decimal(cost), 0, 0, 0, 0)


FIGURES = MonthFigures(
    month="2026-08",
    currency="USD",
    mtd_cost=Decimal("1475.78"),
    projected_month_end_cost=Decimal("1762.40"),
    budget=Decimal("3000"),
    by_model=(
        spend("claude-sonnet-4-20250514", "612.10"),
        spend("claude-opus-4-6", "480.00"),
        spend("claude-fable-5-20261101", "201.33"),
        spend("claude-haiku-4-5-20251001", "170.62"),
        spend("other (web search, code execution)", "11.73"),
    ),
    workspaces=(
        WorkspaceSpend("wrkspc_1", "Production", Decimal("700.00"), None),
        WorkspaceSpend("wrkspc_2", "Claude Code", Decimal("400.00"), None),
        WorkspaceSpend("wrkspc_3", "Research", Decimal("300.00"), Decimal("800")),
        WorkspaceSpend(None, "Default workspace", Decimal("50.78"), None),
        WorkspaceSpend("wrkspc_4", "Staging", Decimal("25.00"), None),
    ),
    my_email="jane@example.com",
    my_claude_code_cost=Decimal("28.40"),
    daily=((date(2026, 8, 3), Decimal("400")),),
)
CONSOLE = ConsoleReport(Status.OK, None, "Demo Org", NOW - timedelta(minutes=2), FIGURES)
WEB = WebReport(Status.OK, None, "firefox", "Demo Org", None, Prepaid(100.0, "USD"))


def menu(reports: Reports) -> tuple[MenuRow, ...]:
    return present(reports, NOW, UTC, ViewOptions(feed_installed=False, autostart=False)).menu


def top(rows: tuple[MenuRow, ...]) -> list[str]:
    return [row.text or "---" for row in rows]


def submenu(rows: tuple[MenuRow, ...], text: str) -> list[str]:
    return [child.text for child in next(row for row in rows if row.text == text).children]


def test_both_modes_like_the_demo_fit_in_18_rows() -> None:
    rows = menu(Reports(code(FIVE, WEEK, FABLE), CONSOLE, WEB))
    assert top(rows) == [
        "Updated 20 s ago",
        "5-hour 62 % · resets 16:20 · → 112 % at reset · from Anthropic, 20 s ago",
        "Weekly 42 % · resets Sun 10:22 · → 78 % at reset · from Anthropic, 20 s ago",
        "More limits",
        "Usage credits: $12.34 of $40.00 this month",
        "Prepaid credits: $100.00",
        "This month $1,475.78 · projected $1,762 · budget 49 %",
        "---",
        "Details…",
        "Refresh now",
        "Open usage page",
        "Show history",
        "Notifications",
        "More",
        "---",
        "Quit",
    ]
    assert len(rows) <= MAX_TOP_ROWS
    assert submenu(rows, "More limits") == [
        "Weekly · Fable 33 % · resets Sun 10:22 (in 4 d 20 h) · 0 %/h · → 33 % at reset"
        " · from Anthropic, 20 s ago"
    ]


def test_the_console_row_opens_the_breakdown() -> None:
    rows = menu(Reports(code(FIVE, WEEK), CONSOLE))
    assert submenu(rows, "This month $1,475.78 · projected $1,762 · budget 49 %") == [
        "Console · Demo Org",
        "Updated 2 min ago",
        "This month: $1,475.78 · projected $1,762 by Aug 31 · budget $3,000.00 (49 %)",
        "    claude-sonnet-4-20250514: $612.10",
        "    claude-opus-4-6: $480.00",
        "    claude-fable-5-20261101: $201.33",
        "    claude-haiku-4-5-20251001: $170.62",
        "    other (web search, code execution): $11.73",
        "    Workspace Production: $700.00",
        "    Workspace Claude Code: $400.00",
        "    Workspace Research: $300.00 of $800.00",
        "    Default workspace: $50.78",
        "    Workspace Staging: $25.00",
        "Your Claude Code usage: $28.40 (jane@example.com)",
    ]


def test_eight_model_scoped_windows_at_50_or_more_keep_to_18_rows() -> None:
    models = ["Opus", "Sonnet", "Fable", "Haiku", "Design", "Mythos", "Nova", "Echo"]
    scoped = [
        window(f"seven_day_{name.lower()}", f"Weekly · {name}", 50.0 + 5 * i, Forecast(12.4, 90.0, None))
        for i, name in enumerate(models)
    ]
    scoped[0] = window("seven_day_opus", "Weekly · Opus", 100.0, Forecast(0.0, 100.0, None), binding=True)
    assert len(menu(Reports(code(FIVE, WEEK, *scoped), CONSOLE, WEB))) == MAX_TOP_ROWS
    rows = menu(Reports(code(FIVE, WEEK, *scoped), CONSOLE))
    assert len(rows) == MAX_TOP_ROWS
    # The block leads; the blocked week and the fullest ones come up, the rest wait one click away.
    assert top(rows)[:7] == [
        "Opus weekly limit reached - resets Sun 10:22",
        "Updated 20 s ago",
        "5-hour 62 % · resets 16:20 · → 112 % at reset · from Anthropic, 20 s ago",
        "Weekly 42 % · resets Sun 10:22 · → 78 % at reset · from Anthropic, 20 s ago",
        "Weekly · Opus 100 % · resets Sun 10:22 · from Anthropic, 20 s ago",
        "Weekly · Echo 85 % · resets Sun 10:22 · → 90 % at reset · from Anthropic, 20 s ago",
        "More limits",
    ]
    more = submenu(rows, "More limits")
    assert more[0] == (
        "Weekly · Sonnet 55 % · resets Sun 10:22 (in 4 d 20 h) · +12 %/h · → 90 % at reset"
        " · from Anthropic, 20 s ago"
    )
    assert len(more) == 6  # Sonnet to Nova


def test_figure_rows_are_readable_and_open_the_details_window() -> None:
    rows = menu(Reports(code(FIVE, WEEK), CONSOLE))
    figures = [row for row in rows[:3]]
    assert all(row.action is Action.OPEN_DETAILS for row in figures)
    details = next(row for row in rows if row.text == "Details…")
    assert (details.action, details.default) == (Action.OPEN_DETAILS, True)
    assert [row.text for row in rows if row.default] == ["Details…"]


def test_notifications_and_more_submenus() -> None:
    rows = menu(Reports(code(FIVE, WEEK)))
    assert submenu(rows, "Notifications") == [
        "Notifications on",
        "Snooze for 1 hour",
        "Snooze until tomorrow",
    ]
    assert submenu(rows, "More") == [
        "jane@example.com · Max 5x",
        "Get live figures from Claude Code (add status line)",
        "Use claude.ai browser session",
        "Start at login",
        "Open settings file",
        "Open log folder",
        "About claude-usage-tray",
    ]
    off = present(Reports(code(FIVE)), NOW, UTC, ViewOptions(notifications_on=False)).menu
    assert submenu(off, "Notifications: off") == ["Notifications on"]
    snoozed = present(Reports(code(FIVE)), NOW, UTC, ViewOptions(snoozed_until=NOW + timedelta(hours=1))).menu
    assert submenu(snoozed, "Notifications: snoozed until 15:06") == [
        "Notifications on",
        "Snoozed until 15:06: resume now",
    ]


def test_a_claude_ai_problem_is_told_beside_its_switch() -> None:
    broken = WebReport(Status.BLOCKED, "blocked by a browser check", "firefox", None, None, None)
    rows = menu(Reports(code(FIVE), None, broken))
    assert "claude.ai: blocked by a browser check" in submenu(rows, "More")
    assert not any(row.text.startswith("claude.ai") for row in rows)


def test_rates_read_as_a_person_says_them() -> None:
    assert [rate_phrase(rate) for rate in (12.4, 10.0, 9.96, 0.44, 0.0, 22.0)] == [
        "+12 %/h",
        "+10 %/h",
        "+10 %/h",
        "+0.4 %/h",
        "0 %/h",
        "+22 %/h",
    ]
