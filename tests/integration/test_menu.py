"""The menu as pystray builds it (dummy backend: no display needed), rendered as text."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from tray_app.core.models import Account, CodeReport, Forecast, Source, Status, UsageWindow, WindowReport
from tray_app.core.reports import Reports
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import Action

NOW = datetime(2026, 8, 4, 14, 6, tzinfo=UTC)


@pytest.fixture(autouse=True)
def dummy_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    # pystray picks its backend at first import; the dummy one needs no display and is never run().
    if os.environ.get("PYSTRAY_BACKEND", "dummy") != "dummy":
        pytest.fail("PYSTRAY_BACKEND is set to a real backend in the test environment")
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")


def sample_report() -> CodeReport:
    five = UsageWindow("five_hour", "5-hour", 62.0, datetime(2026, 8, 4, 16, 20, tzinfo=UTC))
    week = UsageWindow("seven_day", "Weekly", 41.0, datetime(2026, 8, 6, 19, 0, tzinfo=UTC))
    return CodeReport(
        Status.OK,
        None,
        Account("jane@example.com", "Max 5x", None),
        NOW - timedelta(seconds=20),
        (
            WindowReport(
                five,
                Forecast(22.0, 112.0, datetime(2026, 8, 4, 15, 5, tzinfo=UTC)),
                Source.CLAUDE_CODE,
                NOW - timedelta(seconds=20),
            ),
            WindowReport(week, Forecast(0.4, 62.0, None), Source.ANTHROPIC, NOW - timedelta(minutes=3)),
        ),
        None,
    )


def test_menu_renders_as_text() -> None:
    import pystray

    from tray_app.ui.menu import menu_items, menu_text

    vm = present(Reports(sample_report()), NOW, UTC, ViewOptions(notifications_on=True))
    menu = pystray.Menu(*menu_items(vm.menu, lambda action: None))
    # Figure rows are enabled (readable, not grey) and open the details window; submenus are indented.
    assert menu_text(menu) == "\n".join(
        [
            "Updated 20 s ago",
            "5-hour 62 % · resets 16:20 · → 112 % at reset · from Claude Code, 20 s ago",
            "Weekly 41 % · resets Thu 19:00 · → 62 % at reset · from Anthropic, 3 min ago",
            "---",
            "*Details…",
            "Refresh now",
            "Open usage page",
            "Show history",
            "Notifications",
            "    [x] Notifications on",
            "    Snooze for 1 hour",
            "    Snooze until tomorrow",
            "More",
            "    jane@example.com · Max 5x",
            "    [ ] Use claude.ai browser session",
            "    Open settings file",
            "    Open log folder",
            "    About claude-usage-tray",
            "---",
            "Quit",
        ]
    )


def test_clicks_reach_the_action_handler() -> None:
    import pystray

    from tray_app.ui.menu import menu_items

    clicked: list[Action] = []
    vm = present(Reports(sample_report()), NOW, UTC, ViewOptions())
    items = menu_items(vm.menu, clicked.append)
    icon = pystray.Icon("test", menu=pystray.Menu(*items))
    for item in items:
        if item.text.startswith("5-hour 62 %") or item.text in ("Refresh now", "Quit"):
            item(icon)
        if item.text == "Notifications":
            next(child for child in item.submenu.items if child.text == "Snooze for 1 hour")(icon)
    assert clicked == [Action.OPEN_DETAILS, Action.REFRESH, Action.SNOOZE_HOUR, Action.QUIT]


def test_a_submenu_inside_a_submenu_is_built_and_clickable() -> None:
    import pystray

    from tray_app.ui.menu import menu_items, menu_text

    from .. import spenders_data as spenders

    clicked: list[Action] = []
    vm = present(Reports(None, spenders.console()), spenders.NOW, UTC, ViewOptions())
    items = menu_items(vm.menu, clicked.append)
    text = menu_text(pystray.Menu(*items))
    # The Console row's breakdown holds "By API key", whose rows sit one level deeper again.
    assert "    By API key\n        prod-backend  $812.40\n" in text
    assert "        claude-code-team  $312.40 of $500.00 (62 %)\n" in text
    assert "    By person\n        ci-runner  $700.00\n" in text
    console = next(item for item in items if item.text.startswith("This month"))
    keys = next(child for child in console.submenu.items if child.text == "By API key")
    next(row for row in keys.submenu.items if row.text == "others (3)  $50.98")(pystray.Icon("test"))
    assert clicked == [Action.OPEN_DETAILS]
