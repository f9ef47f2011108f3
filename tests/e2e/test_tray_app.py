"""The real `claude-usage-tray run` on a headless desktop (Xvfb, trayer, dunst, private D-Bus),
polling the demo servers: it docks, recolours across a threshold, shows the figures in its menu,
refreshes on request, refuses a second instance and quits cleanly."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.core.viewmodel import Level
from tray_app.demo import DemoResponse, DemoServer
from tray_app.ui.icon import LEVEL_COLORS

from ..conftest import PLAIN_USER, write_login
from .desktop import (
    ChildProcesses,
    Desktop,
    click_menu_item,
    find_docked_icon,
    find_indicator,
    menu_labels,
    open_menu_by_click,
    wait_for_icon_color,
    wait_for_menu,
    wait_until,
)

USAGE = "/api/oauth/usage"
REPO = Path(__file__).resolve().parents[2]


def usage_body(five_hour: float, weekly: float) -> DemoResponse:
    """A /api/oauth/usage answer with the given figures (the 5-hour window resets in 2 h 14 m)."""
    now = datetime.now(UTC)

    def stamp(delta: timedelta) -> str:
        return (now + delta).replace(microsecond=1100).isoformat()

    body = {
        "five_hour": {
            "utilization": five_hour,
            "resets_at": stamp(timedelta(hours=2, minutes=14, seconds=30)),
        },
        "seven_day": {"utilization": weekly, "resets_at": stamp(timedelta(days=2, hours=5))},
        "extra_usage": {"is_enabled": True, "monthly_limit": 4000, "used_credits": 1234.0, "currency": "USD"},
    }
    return DemoResponse(200, json.dumps(body).encode())


class App:
    """One run of the real program against a demo server, in folders of its own."""

    def __init__(self, desktop: Desktop, processes: ChildProcesses, root: Path, server: DemoServer) -> None:
        self.desktop, self.processes, self.root, self.server = desktop, processes, root, server
        self.home = root / "app-home"
        self.claude_dir = root / "claude"
        write_login(self.claude_dir)
        (root / "user-home").mkdir(exist_ok=True)
        (root / "tmp").mkdir(exist_ok=True)

    def env(self) -> dict[str, str]:
        env = self.desktop.child_env(
            TMPDIR=str(self.root / "tmp"),
            HOME=str(self.root / "user-home"),
            CLAUDE_USAGE_TRAY_HOME=str(self.home),
            CLAUDE_USAGE_TRAY_API_BASE=self.server.base_url,
            CLAUDE_USAGE_TRAY_TOKEN_URL=self.server.token_url,
            CLAUDE_CONFIG_DIR=str(self.claude_dir),
        )
        env.pop("PYSTRAY_BACKEND", None)  # the program picks its own backend (appindicator here)
        return env

    def start(self, *args: str, plain_user: bool = False) -> subprocess.Popen[bytes]:
        """plain_user: bound by file modes even as root (see PLAIN_USER)."""
        prefix = PLAIN_USER if plain_user else ()
        argv = [*prefix, sys.executable, "-m", "tray_app.cli", "-v", "run", *args]
        return self.processes.start(argv, env=self.env(), name="claude-usage-tray", cwd=REPO)

    def requests(self) -> int:
        return len(self.server.requests(USAGE))

    def store_first_figures(self) -> None:
        """A first run until its menu shows the demo's figures, then a clean stop: history exists."""
        proc = self.start()
        find_docked_icon(self.desktop, proc.pid, timeout=20)
        item = find_indicator(self.desktop, proc.pid)
        wait_for_menu(
            self.desktop,
            item,
            lambda e: any(x.startswith("5-hour 10 % · ") for x in menu_labels(e)),
            what="first figures",
        )
        proc.send_signal(signal.SIGTERM)
        assert self.processes.wait(proc, timeout=15) == 0


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer("full") as demo:
        yield demo


@pytest.fixture
def app(desktop: Desktop, processes: ChildProcesses, tmp_path: Path, server: DemoServer) -> App:
    return App(desktop, processes, tmp_path, server)


def test_docks_recolours_shows_figures_refreshes_and_quits(app: App, artifacts: Path) -> None:
    app.server.queue(USAGE, usage_body(40.0, 20.0))
    proc = app.start()
    icon = find_docked_icon(app.desktop, proc.pid, timeout=20)
    wait_for_icon_color(app.desktop, icon, LEVEL_COLORS[Level.LOW], min_fraction=0.08, timeout=10)

    item = find_indicator(app.desktop, proc.pid)
    entries = wait_for_menu(
        app.desktop,
        item,
        lambda e: any(x.startswith("5-hour 40 % · ") for x in menu_labels(e)),
        what="the 5-hour figure",
        timeout=10,
    )
    labels = menu_labels([e for e in entries if e.depth == 0])  # the top level, as it opens
    assert labels[0].startswith("Updated ")
    assert labels[1].startswith("5-hour 40 % · resets "), labels
    assert any(label.startswith("Weekly 20 % · resets ") for label in labels), labels
    assert "Usage credits: $12.34 of $40.00 this month" in labels
    for action in ("Details…", "Refresh now", "Open usage page", "Notifications", "More", "Quit"):
        assert action in labels
    assert "jane@example.com · Max 5x" in menu_labels(entries)  # under "More"

    # Crossing the 75 % threshold: the next poll (asked for from the menu) turns the icon orange.
    before = app.requests()
    for _ in range(3):
        app.server.queue(USAGE, usage_body(80.0, 22.0))
    click_menu_item(app.desktop, item, "Refresh now")
    wait_until(lambda: app.requests() > before or None, timeout=10, what="a request after Refresh now")
    wait_for_icon_color(app.desktop, icon, LEVEL_COLORS[Level.HIGH], min_fraction=0.08, timeout=10)
    wait_for_menu(
        app.desktop,
        item,
        lambda e: any(x.startswith("5-hour 80 % · ") for x in menu_labels(e)),
        what="the new figure",
    )

    popup = open_menu_by_click(app.desktop, icon, button=3, pid=proc.pid)
    shot = app.desktop.screenshot().crop(
        icon.union(popup).grow(6).clamp(app.desktop.width, app.desktop.height).box
    )
    shot.save(artifacts / "tray-menu.png")

    click_menu_item(app.desktop, item, "Quit")
    assert app.processes.wait(proc, timeout=15) == 0, app.processes.output(proc)
    assert list((app.home / "tray-tmp").iterdir()) == []  # no icon files left behind


def test_a_second_instance_exits_with_a_message(app: App) -> None:
    first = app.start()
    find_docked_icon(app.desktop, first.pid, timeout=20)
    second = app.start()
    assert app.processes.wait(second, timeout=20) == 5
    assert f"already running (PID {first.pid})" in app.processes.output(second)
    first.send_signal(signal.SIGTERM)
    assert app.processes.wait(first, timeout=15) == 0


def test_sigterm_stops_cleanly_and_leaves_no_temp_files(app: App) -> None:
    proc = app.start()
    find_docked_icon(app.desktop, proc.pid, timeout=20)
    assert len(list((app.home / "tray-tmp").iterdir())) == 1  # the icon image handed to the tray host
    proc.send_signal(signal.SIGTERM)
    assert app.processes.wait(proc, timeout=15) == 0, app.processes.output(proc)
    assert list((app.home / "tray-tmp").iterdir()) == []
    assert list((app.root / "tmp").iterdir()) == []


def test_shows_stored_figures_at_once_then_login_problems(app: App) -> None:
    # A first run stores figures; the second starts while the login is broken: the icon shows the
    # stored figure first, then says a login is needed, without a request carrying the bad token.
    app.store_first_figures()
    write_login(app.claude_dir, scopes=("user:inference",))
    sent = app.requests()
    proc = app.start()
    find_docked_icon(app.desktop, proc.pid, timeout=20)
    item = find_indicator(app.desktop, proc.pid)
    entries = wait_for_menu(
        app.desktop,
        item,
        lambda e: any("run `claude auth login`" in x for x in menu_labels(e)),
        what="login",
    )
    assert any(
        x.startswith("5-hour 10 % · ") for x in menu_labels(entries)
    )  # the stored figures stay in the menu
    assert app.requests() == sent
    proc.send_signal(signal.SIGTERM)
    assert app.processes.wait(proc, timeout=15) == 0


def test_the_demo_shows_both_modes(app: App) -> None:
    proc = app.start("--demo")
    find_docked_icon(app.desktop, proc.pid, timeout=20)
    item = find_indicator(app.desktop, proc.pid)
    entries = wait_for_menu(
        app.desktop,
        item,
        lambda e: any(x.startswith("This month $") for x in menu_labels(e)),
        what="Console figures",
    )
    # Issue 16: both modes on, the top level still fits a laptop screen; the breakdown is a submenu.
    assert len([e for e in entries if e.depth == 0 and e.visible]) <= 18
    labels = menu_labels(entries)
    assert "jane@example.com · Max 5x" in labels and "Console · Demo Org" in labels
    assert any(x.startswith("Your Claude Code usage: $") for x in labels), labels
    # Issue 17: who spent, from the demo's Analytics API, in the Console submenu, by key name.
    by_key = next(i for i, e in enumerate(entries) if e.label == "By API key")
    keys = []
    for entry in entries[by_key + 1 :]:
        if entry.depth <= entries[by_key].depth:
            break
        keys.append(menu_labels([entry]))
    keys_shown = [label for found in keys for label in found]
    assert entries[by_key].depth >= 1 and 2 <= len(keys_shown) <= 6, keys_shown
    assert any(x.startswith("prod-backend  $") for x in keys_shown), keys_shown
    assert "By person" in labels and any(x.startswith("Your API spend: $") for x in labels), labels
    click_menu_item(app.desktop, item, "Quit")
    assert app.processes.wait(proc, timeout=15) == 0, app.processes.output(proc)


def test_a_broken_settings_file_and_a_read_only_database_are_named_in_the_menu(app: App) -> None:
    # A tray started at login has no terminal: what is wrong with its own files must be in its menu,
    # and it must go on showing fresh figures.
    app.store_first_figures()
    database = app.home / "usage_history.db"
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT COUNT(*) FROM window_snapshots").fetchone()
    db.close()
    (app.home / "config.toml").write_text("code_poll_seconds = 1\n")
    database.chmod(0o400)
    app.home.chmod(0o500)
    try:
        proc = app.start(plain_user=True)
        find_docked_icon(app.desktop, proc.pid, timeout=20)
        item = find_indicator(app.desktop, proc.pid)
        wait_for_menu(app.desktop, item, lambda e: "Refresh now" in menu_labels(e), what="the menu")
        app.server.queue(USAGE, usage_body(40.0, 20.0))
        click_menu_item(app.desktop, item, "Refresh now")
        entries = wait_for_menu(
            app.desktop,
            item,
            lambda e: any(x.startswith("5-hour 40 % · ") for x in menu_labels(e)),
            what="fresh figures",
        )
        labels = menu_labels(entries)
        assert any("code_poll_seconds must be" in x and "using the default settings" in x for x in labels)
        assert f"Cannot save history to {database}: the file or its folder is read-only" in labels
        proc.send_signal(signal.SIGTERM)
        assert app.processes.wait(proc, timeout=15) == 0
    finally:
        app.home.chmod(0o700)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM window_snapshots").fetchone() == stored
    db.close()


def test_the_tray_does_not_load_the_gl_stack(app: App) -> None:
    # GTK would map Mesa and LLVM (about 55 MiB resident) to pick a visual; a tray icon draws no GL.
    proc = app.start()
    find_docked_icon(app.desktop, proc.pid, timeout=20)
    libraries = {
        Path(line.split()[-1]).name for line in Path(f"/proc/{proc.pid}/maps").read_text().splitlines()
    }
    assert any(name.startswith("libgtk-3") for name in libraries)  # it is the GTK tray that was checked
    assert not [name for name in libraries if name.startswith(("libLLVM", "libGLX_mesa", "libgallium"))]
    proc.send_signal(signal.SIGTERM)
    assert app.processes.wait(proc, timeout=15) == 0
