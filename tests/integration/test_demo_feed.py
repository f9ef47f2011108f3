"""`--demo`'s simulated Claude Code session: its status-line figures reach the demo database as a real
session's would, in the demo server's own periods, and the tray's report shows them between polls."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import requests

from tray_app.clock import SYSTEM_CLOCK
from tray_app.config import Settings
from tray_app.core.models import FIVE_HOUR, SEVEN_DAY, Source
from tray_app.core.parse import parse_usage
from tray_app.core.readings import Reading
from tray_app.demo_mode import start_demo
from tray_app.environment import Environment
from tray_app.monitors.code import CodeMonitor
from tray_app.store import Store
from tray_app.wiring.app import open_app, settings_for

from .demo_helpers import USAGE, auth

# A render every 2 s (the fastest the session goes) is 10 virtual minutes here: the 5-hour figure
# climbs about 4 points a render, and the period the demo starts in ends some 36 s after the start.
SPEED = 300.0
WAIT_SECONDS = 30.0
SESSION_THREAD = "demo-claude-code"

T = TypeVar("T")


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    # Only the program's own folder: the demo must need nothing of this machine's Claude Code.
    return Environment({"CLAUDE_USAGE_TRAY_HOME": str(tmp_path / "home")}, "linux", tmp_path / "user-home")


@pytest.fixture
def demo(env: Environment) -> Iterator[Settings]:
    with start_demo(settings_for("status", env), speed=SPEED) as settings:
        yield settings


def wait_for(found: Callable[[], T | None], what: str) -> T:
    """found's first answer that is not None, asked every 0.1 s for WAIT_SECONDS at most."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        answer = found()
        if answer is not None:
            return answer
        time.sleep(0.1)
    raise AssertionError(f"never saw {what} within {WAIT_SECONDS} s")


def fed(store: Store) -> dict[str, Reading]:
    return {reading.window.id: reading for reading in store.readings.fed()}


def test_the_session_feeds_whole_figures_in_the_servers_periods_and_they_rise(demo: Settings) -> None:
    served = parse_usage(requests.get(demo.api_base + USAGE, headers=auth(), timeout=5).json())
    with Store.open(demo.paths.database) as store:
        # Written before start_demo yields: a one-shot `status --demo` shows Claude Code's figures too.
        first = fed(store)
        assert first.keys() == {FIVE_HOUR, SEVEN_DAY}
        for window_id, reading in first.items():
            assert reading.source is Source.CLAUDE_CODE
            assert reading.window.utilization.is_integer()  # Claude Code's header figures are whole
            server_window = served.window(window_id)
            assert server_window is not None and server_window.resets_at is not None
            assert reading.window.resets_at is not None
            # The same reset moment as the server's (whole seconds against its stamp's fraction): a
            # different one would be a different period, and the menu would flicker between the two.
            assert abs(reading.window.resets_at - server_window.resets_at) < timedelta(seconds=1)

        def risen() -> Reading | None:
            latest = fed(store)[FIVE_HOUR]
            return latest if latest.window.utilization > first[FIVE_HOUR].window.utilization else None

        later = wait_for(risen, "the 5-hour figure rise between endpoint polls")
        assert later.window.resets_at == first[FIVE_HOUR].window.resets_at  # still the same period
        assert later.observed_at > first[FIVE_HOUR].observed_at


def test_leaving_the_demo_stops_the_session(env: Environment) -> None:
    # A one-shot `status --demo` must end at once, and nothing may write into the deleted demo folder.
    with start_demo(settings_for("status", env), speed=SPEED) as settings:
        assert any(thread.name == SESSION_THREAD for thread in threading.enumerate())
        database = settings.paths.database
    assert not any(thread.name == SESSION_THREAD for thread in threading.enumerate())
    assert not database.exists()


def test_the_report_shows_claude_codes_figure_ahead_of_the_last_poll(env: Environment) -> None:
    with open_app(settings_for("run", env), env, SYSTEM_CLOCK, demo=True, demo_speed=SPEED) as app:
        assert isinstance(app.monitor, CodeMonitor)
        polled = app.monitor.poll(force=True)
        polled_five_hour = next(item for item in polled.windows if item.window.id == FIVE_HOUR)
        monitor = app.monitor

        def ahead() -> float | None:
            # What the tray shows between polls, with no request: the stored poll merged with the feed.
            report = monitor.stored_report(timedelta(hours=1))
            item = next(item for item in report.windows if item.window.id == FIVE_HOUR)
            figure = item.window.utilization
            moved = item.source is Source.CLAUDE_CODE and figure > polled_five_hour.window.utilization
            return figure if moved else None

        figure = wait_for(ahead, "Claude Code's 5-hour figure shown ahead of the endpoint's")
        assert figure > polled_five_hour.window.utilization
        report = monitor.stored_report(timedelta(hours=1))
        sources = {item.window.id: item.source for item in report.windows}
        # The endpoint still gives what the status line lacks (the model-scoped window).
        assert Source.ANTHROPIC in sources.values(), sources
