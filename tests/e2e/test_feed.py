"""Issue 14: the real tray, polling the demo server, follows Claude Code's status line on its own.

A `claude-usage-tray statusline` call with new figures recolours the icon within two seconds, and the
tray learns them from the shared database, not by asking the usage endpoint again.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tray_app.core.viewmodel import Level
from tray_app.demo import DemoResponse, DemoServer
from tray_app.ui.icon import LEVEL_COLORS

from .desktop import (
    ChildProcesses,
    Desktop,
    find_docked_icon,
    find_indicator,
    menu_labels,
    wait_for_icon_color,
    wait_for_menu,
)
from .test_tray_app import REPO, USAGE, App

FOLLOW_BUDGET = 2.0  # seconds from the statusline call returning to the new colour (issue 14)


def fixed_usage_body(five_hour: float, weekly: float, five_hour_resets: float) -> DemoResponse:
    """A /api/oauth/usage answer that is the same every time it is served (resets_at fixed in advance)."""

    def stamp(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, tz=UTC).replace(microsecond=1100).isoformat()

    body = {
        "five_hour": {"utilization": five_hour, "resets_at": stamp(five_hour_resets)},
        "seven_day": {"utilization": weekly, "resets_at": stamp(five_hour_resets + 2 * 86400)},
        "extra_usage": {"is_enabled": True, "monthly_limit": 4000, "used_credits": 1234.0, "currency": "USD"},
    }
    return DemoResponse(200, json.dumps(body).encode())


def statusline_input(five_hour: float, five_hour_resets: float, weekly: float, weekly_resets: float) -> bytes:
    """The JSON Claude Code pipes to its status-line command, with its rate_limits (epoch seconds)."""
    document = {
        "hook_event_name": "Status",
        "session_id": "e2e-feed",
        "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
        "workspace": {"current_dir": str(REPO), "project_dir": str(REPO)},
        "rate_limits": {
            "five_hour": {"used_percentage": five_hour, "resets_at": int(five_hour_resets)},
            "seven_day": {"used_percentage": weekly, "resets_at": int(weekly_resets)},
        },
    }
    return json.dumps(document).encode()


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer("full") as demo:
        yield demo


@pytest.fixture
def app(desktop: Desktop, processes: ChildProcesses, tmp_path: Path, server: DemoServer) -> App:
    return App(desktop, processes, tmp_path, server)


def test_a_statusline_call_recolours_the_icon_without_asking_the_endpoint(app: App) -> None:
    five_hour_resets = math.ceil(time.time()) + 2 * 3600 + 14 * 60 + 30
    # The same answer however often the tray asks, so that only the statusline can change the icon.
    app.server.queue(USAGE, *[fixed_usage_body(10.0, 20.0, five_hour_resets)] * 50)
    proc = app.start()
    icon = find_docked_icon(app.desktop, proc.pid, timeout=20)
    item = find_indicator(app.desktop, proc.pid)
    wait_for_menu(
        app.desktop,
        item,
        lambda e: any(x.startswith("5-hour 10 % · ") for x in menu_labels(e)),
        what="the polled figure",
    )
    wait_for_icon_color(app.desktop, icon, LEVEL_COLORS[Level.LOW], min_fraction=0.08, timeout=10)
    asked = app.requests()
    assert asked >= 1

    # The same period as the endpoint's (resets_at within seconds) and higher: news, past 75 %.
    feed = statusline_input(85.0, five_hour_resets, 20.0, five_hour_resets + 2 * 86400)
    line = subprocess.run(
        [sys.executable, "-m", "tray_app.cli", "statusline"],
        input=feed,
        env=app.env(),
        cwd=REPO,
        capture_output=True,
        timeout=30,
        check=False,
    )
    returned = time.monotonic()
    assert line.returncode == 0, line.stderr.decode(errors="replace")
    assert "85" in line.stdout.decode(), line.stdout

    wait_for_icon_color(app.desktop, icon, LEVEL_COLORS[Level.HIGH], min_fraction=0.08, timeout=FOLLOW_BUDGET)
    took = time.monotonic() - returned
    sent = app.requests()
    print(f"e2e feed: the icon turned {Level.HIGH.value} {took:.2f} s after the statusline call returned")
    assert took <= FOLLOW_BUDGET
    assert sent == asked, f"{sent - asked} usage request(s) while following the statusline"

    entries = wait_for_menu(
        app.desktop,
        item,
        lambda e: any(x.startswith("5-hour 85 % · ") for x in menu_labels(e)),
        what="the fed figure",
    )
    # The row says where its figure came from: Claude Code, not our poll.
    five_hour = next(x for x in menu_labels(entries) if x.startswith("5-hour 85 % · "))
    assert five_hour.endswith(" · from Claude Code, just now"), five_hour
    assert app.requests() == asked

    proc.send_signal(signal.SIGTERM)
    assert app.processes.wait(proc, timeout=15) == 0, app.processes.output(proc)
