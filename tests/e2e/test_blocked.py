"""Blocked means blocked (issue 15): the real tray on the demo's "Fable weekly limit reached under a 40 %
5-hour window" answer shows the blocked mark in its icon, names Fable on the menu's first line and
tells it in one notification, however often it polls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tray_app.core.viewmodel import Level
from tray_app.demo import DemoServer
from tray_app.ui.icon import LEVEL_COLORS

from .desktop import (
    ChildProcesses,
    Desktop,
    IndicatorItem,
    click_menu_item,
    color_fraction,
    find_docked_icon,
    find_indicator,
    menu_labels,
    notifications,
    wait_for_icon_color,
    wait_for_menu,
    wait_until,
)
from .test_tray_app import App

# The mark's disc (tray_app/ui/icon.py _BLOCKED): the critical red, a disc about a third of the icon wide.
BLOCKED_RED = (235, 30, 30)


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer("blocked_fable") as demo:
        yield demo


@pytest.fixture
def app(desktop: Desktop, processes: ChildProcesses, tmp_path: Path, server: DemoServer) -> App:
    return App(desktop, processes, tmp_path, server)


def _about_fable(desktop: Desktop) -> list[str]:
    mine = [n for n in notifications(desktop) if n.get("appname") == "claude-usage-tray"]
    return [f"{n['summary']} | {n['body']}" for n in mine if "Fable" in f"{n['summary']} {n['body']}"]


def _refresh_and_wait_for_the_poll(app: App, item: IndicatorItem) -> None:
    before = app.requests()
    click_menu_item(app.desktop, item, "Refresh now")
    wait_until(lambda: app.requests() > before or None, timeout=10, what="a poll after Refresh now")


def test_a_blocked_fable_week_shows_the_mark_names_it_and_notifies_once(app: App, artifacts: Path) -> None:
    proc = app.start()
    icon = find_docked_icon(app.desktop, proc.pid, timeout=20)
    item = find_indicator(app.desktop, proc.pid)
    entries = wait_for_menu(
        app.desktop,
        item,
        lambda e: bool(menu_labels(e)) and "Fable" in menu_labels(e)[0],
        what="the blocked line first",
        timeout=10,
    )
    first = menu_labels(entries)[0]
    assert first.startswith("Fable weekly limit reached - resets "), first
    # The icon: the 5-hour window's green (40 %) and, beside it, the red of the blocked mark.
    crop = wait_for_icon_color(app.desktop, icon, BLOCKED_RED, min_fraction=0.03, tolerance=30, timeout=10)
    crop.save(artifacts / "tray-blocked-icon.png")
    assert color_fraction(crop, LEVEL_COLORS[Level.LOW]) >= 0.05, "the 5-hour figure's colour is gone"
    told = wait_until(lambda: _about_fable(app.desktop) or None, timeout=10, what="the notification")
    # Two more polls of the same blocked period: nothing more is said about it.
    for _ in range(2):
        _refresh_and_wait_for_the_poll(app, item)
    assert _about_fable(app.desktop) == told and len(told) == 1, told
    click_menu_item(app.desktop, item, "Quit")
    assert app.processes.wait(proc, timeout=15) == 0, app.processes.output(proc)
