"""The details window (issue 16): its words from stored reports, its widgets on a private X server,
one window per user, light or dark, and a plain refusal where there is no display."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tray_app.core.console import ConsoleReport, ModelSpend, MonthFigures, WorkspaceSpend
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
from tray_app.details.model import DetailsContent, details_content
from tray_app.details.single import DetailsInstance
from tray_app.details.theme import PALETTES, choose_theme

from .. import spenders_data as spenders
from ..conftest import CliEnv

NOW = datetime(2026, 8, 4, 14, 6, tzinfo=UTC)
THRESHOLDS = (50.0, 75.0, 90.0)


def code_report() -> CodeReport:
    five = UsageWindow("five_hour", "5-hour", 62.0, datetime(2026, 8, 4, 16, 20, tzinfo=UTC))
    week = UsageWindow("seven_day", "Weekly", 41.0, datetime(2026, 8, 6, 19, 0, tzinfo=UTC))
    opus = UsageWindow("seven_day_opus", "Opus weekly", 100.0, None, locked=True)
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
            WindowReport(opus, Forecast(None, None, None), Source.ANTHROPIC, NOW - timedelta(minutes=3)),
        ),
        ExtraUsage(True, 12.34, 40.0, "USD", 30.9),
    )


def console_report() -> ConsoleReport:
    models = tuple(
        ModelSpend(name, Decimal(cost), 0, 0, 0, 0)
        for name, cost in (
            ("claude-haiku", "3.10"),
            ("claude-opus", "900.00"),
            ("claude-sonnet", "500.5"),
            ("x", "1"),
        )
    )
    spaces = (WorkspaceSpend(None, "Default Workspace", Decimal("404.6"), None),)
    figures = MonthFigures(
        "2026-08", "USD", Decimal("1404.60"), Decimal("4000"), Decimal(3000), models, spaces, None, None, ()
    )
    return ConsoleReport(Status.OK, None, "Demo Org", NOW - timedelta(minutes=1), figures)


def content() -> DetailsContent:
    return details_content(Reports(code_report(), console_report()), NOW, UTC, THRESHOLDS)


def test_the_words_of_the_window() -> None:
    assert content().texts() == [
        "Claude Code · jane@example.com · Max 5x",
        "Updated 20 s ago",
        "5-hour: 62 % used",
        "Resets in 2 h 14 m (at 16:20)",
        "22.0 %/h · projected 112 % at reset · limit at 15:05",
        "Updated from Claude Code, 20 s ago",
        "Weekly: 41 % used",
        "Resets Thu 19:00 (in 2 d 4 h)",
        "0.4 %/h · projected 62 % at reset",
        "Updated from Anthropic, 3 min ago",
        "Opus weekly: 100 % used · blocked",
        "Reset time not given",
        "Pace: not enough history yet",
        "Updated from Anthropic, 3 min ago",
        "Usage credits: $12.34 of $40.00 this month",
        "Console · Demo Org",
        "Updated 1 min ago",
        "This month: $1,404.60 · projected $4,000 by Aug 31 · budget $3,000.00 (47 %)",
        "Top models: claude-opus $900.00, claude-sonnet $500.50, claude-haiku $3.10",
        "Top workspaces: Default Workspace $404.60",
    ]


def test_the_console_card_names_the_top_keys_and_people_and_my_api_spend() -> None:
    shown = details_content(Reports(None, spenders.console()), spenders.NOW, UTC, THRESHOLDS)
    assert shown.console_lines[-4:] == (
        "Top API keys: prod-backend $812.40, claude-code-team $312.40 of $500.00 (62 %),"
        " research-notebooks $150.00, old-ci (deleted) $90.00, staging $60.00, others (3) $50.98",
        "Top people: ci-runner $700.00, Raj Patel $400.00, prod-backend $200.00,"
        " Mia Chen (deleted) $100.00, okta:sam $50.00, others (2) $25.78",
        "Your Claude Code usage: $28.40",
        "Your API spend: $12.34",
    )
    # From the cost report, the card is what it always was: nobody is named.
    plain = details_content(
        Reports(None, spenders.console(spenders.COST_REPORT_FIGURES)), spenders.NOW, UTC, THRESHOLDS
    )
    assert plain.console_lines[-2:] == (
        "Top workspaces: Production $1,000.00, Default workspace $475.78",
        "Your Claude Code usage: $28.40",
    )


def test_the_bars_take_the_icon_s_colours() -> None:
    levels = [(card.level.name, round(card.fraction, 2)) for card in content().cards]
    # 62 % is past the first threshold (yellow); the locked window is full and red whatever it says.
    assert levels == [("MEDIUM", 0.62), ("LOW", 0.41), ("CRITICAL", 1.0)]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private X server for Tk (no window manager: nothing else is needed to build widgets)."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is needed (scripts/setup.sh installs it)")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1024x768x24", "-noreset", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as answer:
        number = answer.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_window_shows_the_cards_the_console_and_follows_the_database(display: str) -> None:
    import tkinter as tk

    from tray_app.details.window import TITLE, DetailsFeed, DetailsWindow

    version = [1]
    shown = [content()]
    refreshed = threading.Event()
    feed = DetailsFeed(lambda: shown[0], lambda: version[0], lambda theme: None, refreshed.set, lambda: None)
    root = tk.Tk(screenName=display)
    try:
        window = DetailsWindow(root, feed, PALETTES["dark"])
        root.update()
        assert root.title() == TITLE
        texts = window.texts()
        assert texts[:3] == [
            "Claude Code · jane@example.com · Max 5x",
            "Updated 20 s ago",
            "5-hour: 62 % used",
        ]
        assert "This month: $1,404.60 · projected $4,000 by Aug 31 · budget $3,000.00 (47 %)" in texts
        assert texts[-2:] == ["Refresh", "Settings"]

        # The database moves (another process polled): the next tick redraws with the new figures.
        shown[0] = details_content(Reports(None, console_report()), NOW, UTC, THRESHOLDS)
        version[0] = 2
        root.after(700, root.quit)
        root.mainloop()
        assert "5-hour: 62 % used" not in window.texts()
        assert window.texts()[0] == "Console · Demo Org"
    finally:
        root.destroy()


def test_one_window_per_user_a_second_open_raises_the_first(tmp_path: Path) -> None:
    raised = threading.Event()
    first, second = DetailsInstance(tmp_path), DetailsInstance(tmp_path)
    assert first.acquire(raised.set)
    try:
        assert not second.acquire(lambda: None)
        assert raised.wait(5)
    finally:
        first.release()
    assert second.acquire(lambda: None)  # once the window is closed, the next open is the window
    second.release()


def test_light_or_dark() -> None:
    assert choose_theme("dark", "linux", {}) == "dark"
    assert choose_theme("light", "linux", {"GTK_THEME": "Adwaita:dark"}) == "light"
    assert choose_theme("auto", "linux", {"GTK_THEME": "Adwaita:dark"}) == "dark"
    assert choose_theme("auto", "linux", {"GTK_THEME": "Adwaita"}) == "light"


def test_without_a_display_it_says_so_and_points_to_status_and_watch(cli: CliEnv) -> None:
    result = cli.run("details", DISPLAY="", WAYLAND_DISPLAY="")
    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("claude-usage-tray: no display"), result.stderr
    assert "claude-usage-tray status" in lines[0] and "claude-usage-tray watch" in lines[0]
