"""The Console submenu tells who and what spent the month (Analytics API): "By API key" and "By person"
submenus of the top five and the others, the user's own API spend, and why a month came from the cost
report; the top level keeps to 18 rows, and a month from the cost report reads as it always did."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from tray_app.core.console import MonthFigures
from tray_app.core.menu_rows import MAX_TOP_ROWS
from tray_app.core.reports import Reports
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import Action, MenuRow, all_rows

from ..spenders_data import COST_REPORT_FIGURES, FIGURES, NOTE, NOW, TOTAL, console
from .test_menu_short import FIVE, WEB, WEEK, code

CONSOLE_ROW = "This month $1,475.78 · projected $1,762 · budget 49 %"


def menu(figures: MonthFigures = FIGURES, note: str | None = None) -> tuple[MenuRow, ...]:
    report = console(figures, note)
    options = ViewOptions(feed_installed=False, autostart=False)
    return present(Reports(code(FIVE, WEEK), report, WEB), NOW, UTC, options).menu


def child(rows: tuple[MenuRow, ...], text: str) -> MenuRow:
    return next(row for row in rows if row.text == text)


def texts(rows: tuple[MenuRow, ...]) -> list[str]:
    return [row.text for row in rows]


def amount(text: str) -> Decimal:
    """'$312.40' out of 'claude-code-team  $312.40 of $500.00 (62 %)'."""
    spent = text.split("  ")[1].split(" of ")[0]
    return Decimal(spent.lstrip("$").replace(",", ""))


def test_the_console_submenu_says_who_and_what_spent() -> None:
    rows = menu()
    assert len(rows) <= MAX_TOP_ROWS
    assert "By API key" not in texts(rows) and "By person" not in texts(rows)  # inside the Console row
    breakdown = child(rows, CONSOLE_ROW).children
    assert texts(breakdown)[-5:] == [
        "    Default workspace: $475.78",
        "By API key",
        "By person",
        "Your Claude Code usage: $28.40 (jane@example.com)",
        "Your API spend: $12.34 (jane@example.com)",
    ]
    keys = child(breakdown, "By API key").children
    assert texts(keys) == [
        "prod-backend  $812.40",
        "claude-code-team  $312.40 of $500.00 (62 %)",
        "research-notebooks  $150.00",
        "old-ci (deleted)  $90.00",
        "staging  $60.00",
        "others (3)  $50.98",
    ]
    assert sum(amount(row.text) for row in keys) == TOTAL
    people = child(breakdown, "By person").children
    assert texts(people) == [
        "ci-runner  $700.00",
        "Raj Patel  $400.00",
        "prod-backend  $200.00",
        "Mia Chen (deleted)  $100.00",
        "okta:sam  $50.00",
        "others (2)  $25.78",
    ]
    assert sum(amount(row.text) for row in people) == TOTAL
    # Figures, readable and opening the details window, as every figure row of the menu.
    assert all(row.action is Action.OPEN_DETAILS for row in (*keys, *people))


def test_a_month_from_the_cost_report_reads_as_before_and_says_why_when_asked() -> None:
    before = child(menu(COST_REPORT_FIGURES), CONSOLE_ROW).children
    assert not any(row.text.startswith(("By ", "Your API spend", "Source")) for row in all_rows(before))
    assert texts(before)[-1] == "Your Claude Code usage: $28.40 (jane@example.com)"

    refused = menu(COST_REPORT_FIGURES, NOTE)
    assert len(refused) <= MAX_TOP_ROWS
    breakdown = child(refused, CONSOLE_ROW).children
    assert texts(breakdown) == [*texts(before), f"Source: cost report · {NOTE}"]
