"""Notifications from the real program, read back from a real daemon (dunst on a private D-Bus):
a scripted climb and reset gives exactly the expected notifications, once each; killing the daemon
does not stop the icon or the polling."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tray_app.demo import DemoResponse, DemoServer

from .desktop import (
    ChildProcesses,
    Desktop,
    IndicatorItem,
    click_menu_item,
    find_docked_icon,
    find_indicator,
    menu_labels,
    notifications,
    wait_for_menu,
    wait_until,
)
from .test_tray_app import USAGE, App

RESET_1 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2, minutes=14, seconds=30)
RESET_2 = RESET_1 + timedelta(hours=5)


def body(five_hour: float, resets_at: datetime) -> DemoResponse:
    week = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    payload = {
        "five_hour": {"utilization": five_hour, "resets_at": resets_at.isoformat()},
        "seven_day": {"utilization": 20.0, "resets_at": week},
    }
    return DemoResponse(200, json.dumps(payload).encode())


def poll_with(app: App, item: IndicatorItem, five_hour: float, resets_at: datetime = RESET_1) -> None:
    """Queue the next answer, press Refresh now, and wait until the menu shows it."""
    before = app.requests()
    app.server.queue(USAGE, body(five_hour, resets_at))
    click_menu_item(app.desktop, item, "Refresh now")
    wait_until(lambda: app.requests() > before or None, timeout=10, what=f"the poll answering {five_hour} %")
    label = f"5-hour {five_hour:.0f} % · "
    wait_for_menu(
        app.desktop, item, lambda e: any(x.startswith(label) for x in menu_labels(e)), what=label, timeout=10
    )


def ours(desktop: Desktop) -> list[dict[str, Any]]:
    return [n for n in notifications(desktop) if n.get("appname") == "claude-usage-tray"]


def local_hhmm(moment: datetime) -> str:
    return f"{moment.astimezone():%H:%M}"


def test_climb_and_reset_notify_once_each_and_survive_a_dead_daemon(
    desktop: Desktop, processes: ChildProcesses, tmp_path: Path
) -> None:
    with DemoServer("full") as server:
        # No free resets: at 100 % a usable one would add its own notification (tested in unit tests).
        server.grants_scenario = "absent"
        app = App(desktop, processes, tmp_path, server)
        server.queue(USAGE, body(30.0, RESET_1))
        proc = app.start()
        find_docked_icon(desktop, proc.pid, timeout=20)
        item = find_indicator(desktop, proc.pid)
        wait_for_menu(
            desktop,
            item,
            lambda e: any(x.startswith("5-hour 30 % · ") for x in menu_labels(e)),
            what="30 %",
            timeout=10,
        )

        # Climb with a flap around 75 %, a jump across 90 %, the limit, then a new period.
        for step in (52.0, 60.0, 74.0, 76.0, 74.0, 77.0, 95.0, 100.0):
            poll_with(app, item, step)
        poll_with(app, item, 0.0, RESET_2)
        poll_with(app, item, 3.0, RESET_2)

        expected_titles = [
            "Claude 5-hour limit: 52 % used",
            "Claude 5-hour limit: 76 % used",
            "Claude 5-hour limit: 95 % used",
            "Claude 5-hour limit reached",
            "Claude 5-hour limit reset",
        ]
        received = wait_until(
            lambda: ours(desktop) if len(ours(desktop)) >= len(expected_titles) else None,
            timeout=10,
            what="five notifications",
        )
        assert [n["summary"] for n in received] == expected_titles
        for note in received[:4]:
            assert note["body"].startswith("Resets in 2 h 1"), note
            assert note["body"].endswith(f"(at {local_hhmm(RESET_1)}).") or "On pace" in note["body"], note
        assert received[4]["body"] == "You're back to 0 %."
        assert all(int(n.get("timeout", 0)) > 0 for n in received)  # they expire by themselves

        # The daemon dies: polling and the icon carry on, and Quit still ends the program cleanly.
        assert desktop.dunst_pid is not None
        os.kill(desktop.dunst_pid, signal.SIGKILL)
        poll_with(app, item, 8.0, RESET_2)
        poll_with(app, item, 55.0, RESET_2)  # an alert with nobody to show it: falls back, never raises
        log = app.home / "logs" / "claude-usage-tray.log"
        assert "notification via" in log.read_text()
        click_menu_item(desktop, item, "Quit")
        assert processes.wait(proc, timeout=20) == 0, processes.output(proc)
        jsonl = app.home / "logs" / "notifications.jsonl"
        delivered_somewhere = jsonl.exists() and "55 % used" in jsonl.read_text()
        assert delivered_somewhere or "55 % used" in log.read_text()
