"""e2e (issue 16): the details window on a 1024x768 desktop beside the real tray, Code + Console.

It opens (from the menu's "Details…" when the menu has it, else as `claude-usage-tray details` against
the same home), shows the 5-hour card and the Console total, follows the database when the tray polls,
comes to the front instead of opening twice, and closes on Escape.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tray_app.demo import DemoServer

from ..conftest import write_login
from .desktop import (
    ChildProcesses,
    Desktop,
    MissingDependency,
    click_menu_item,
    close_menu,
    find_docked_icon,
    find_indicator,
    menu_labels,
    open_menu_by_click,
    wait_for_menu,
    wait_until,
)
from .test_tray_app import USAGE, usage_body

REPO = Path(__file__).resolve().parents[2]
TITLE = "Claude usage"
SCREENSHOT = REPO / "docs" / "details-window.png"


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    """The shared e2e desktop, at a laptop's 1024x768: the window must fit it."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the e2e desktop is Linux-only (Xvfb, trayer, dunst)")
    try:
        started = Desktop.start(tmp_path_factory.mktemp("desktop"), width=1024, height=768)
    except MissingDependency as exc:
        pytest.fail(str(exc), pytrace=False)
    with started:
        yield started


def _xdotool(desktop: Desktop, *args: str) -> str:
    done = subprocess.run(
        ["xdotool", *args], env=desktop.env, capture_output=True, text=True, timeout=10, check=False
    )
    return done.stdout


def details_windows(desktop: Desktop) -> list[str]:
    # --onlyvisible: Tk's unmapped helper windows carry no title, the mapped toplevel does.
    return _xdotool(desktop, "search", "--onlyvisible", "--name", f"^{TITLE}$").split()


def read_dump(path: Path) -> list[str] | None:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    labels: list[str] = document["labels"]
    return labels


def test_the_details_window(
    desktop: Desktop, processes: ChildProcesses, tmp_path: Path, artifacts: Path
) -> None:
    dump = tmp_path / "details.json"
    with DemoServer("full") as server:
        claude_dir = tmp_path / "claude"
        write_login(claude_dir)
        (tmp_path / "user-home").mkdir()
        env = desktop.child_env(
            HOME=str(tmp_path / "user-home"),
            CLAUDE_USAGE_TRAY_HOME=str(tmp_path / "app-home"),
            CLAUDE_USAGE_TRAY_API_BASE=server.base_url,
            CLAUDE_USAGE_TRAY_TOKEN_URL=server.token_url,
            CLAUDE_CONFIG_DIR=str(claude_dir),
            ANTHROPIC_ADMIN_API_KEY=DemoServer.DEMO_ADMIN_KEY,
            CLAUDE_USAGE_TRAY_DETAILS_DUMP=str(dump),
        )
        env.pop("PYSTRAY_BACKEND", None)
        server.queue(USAGE, usage_body(40.0, 20.0))
        cli = [sys.executable, "-m", "tray_app.cli"]
        tray = processes.start([*cli, "-v", "run"], env=env, name="claude-usage-tray", cwd=REPO)
        find_docked_icon(desktop, tray.pid, timeout=20)
        item = find_indicator(desktop, tray.pid)
        labels = menu_labels(
            wait_for_menu(
                desktop,
                item,
                lambda e: (
                    any("40 %" in x for x in menu_labels(e))
                    and any(x.startswith("This month") for x in menu_labels(e))
                ),
                what="Code and Console figures",
                timeout=20,
            )
        )
        rss_before = _rss(tray.pid)

        # Opened from the menu where the short menu has landed; else as a user would from a terminal.
        details = None
        if "Details…" in labels:
            click_menu_item(desktop, item, "Details…")
        else:
            details = processes.start([*cli, "details"], env=env, name="details", cwd=REPO)

        def with_console() -> list[str] | None:
            labels = read_dump(dump)
            return labels if labels and any(x.startswith("This month") for x in labels) else None

        shown = wait_until(with_console, timeout=20, what="the details window's figures")
        assert "5-hour: 40 % used" in shown, shown
        assert any(x.startswith("This month: $") for x in shown), shown
        assert "Refresh" in shown and "Settings" in shown
        window = wait_until(lambda: details_windows(desktop) or None, timeout=10, what="the window")
        assert len(window) == 1

        # The tray polls (its own Refresh now); the open window follows the database by itself.
        for _ in range(3):
            server.queue(USAGE, usage_body(80.0, 22.0))
        click_menu_item(desktop, item, "Refresh now")
        wait_until(
            lambda: "5-hour: 80 % used" in (read_dump(dump) or []), timeout=15, what="the new 5-hour figure"
        )
        _save_screenshot(desktop, window[0], artifacts)

        # A second open: the first window comes to the front, no second window, and the second ends at once.
        second = processes.start([*cli, "details"], env=env, name="details-2", cwd=REPO)
        assert processes.wait(second, timeout=20) == 0, processes.output(second)
        assert len(details_windows(desktop)) == 1

        _xdotool(desktop, "windowfocus", "--sync", window[0])
        _xdotool(desktop, "key", "--window", window[0], "Escape")
        wait_until(lambda: not details_windows(desktop), timeout=10, what="the window to close on Escape")
        if details is not None:
            assert processes.wait(details, timeout=10) == 0, processes.output(details)
        # The window was a process of its own: the tray's memory did not grow with it.
        assert _rss(tray.pid) - rss_before < 4 * 1024 * 1024
        click_menu_item(desktop, item, "Quit")
        assert processes.wait(tray, timeout=15) == 0, processes.output(tray)


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _save_screenshot(desktop: Desktop, window: str, artifacts: Path) -> None:
    """The window's picture among the test's artifacts; also the README's with E2E_UPDATE_DOCS=1 (so a
    plain run leaves the checkout as it was)."""
    shell = _xdotool(desktop, "getwindowgeometry", "--shell", window)
    geometry = dict(line.split("=", 1) for line in shell.split())
    x, y, w, h = (int(geometry[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
    assert w <= desktop.width and h <= desktop.height, "the window does not fit a 1024x768 screen"
    shot = desktop.screenshot().crop((x, y, x + w, y + h))
    shot.save(artifacts / SCREENSHOT.name)
    if os.environ.get("E2E_UPDATE_DOCS") == "1":
        shot.save(SCREENSHOT)


@pytest.fixture
def fresh_desktop(tmp_path: Path) -> Iterator[Desktop]:
    """A 1024x768 desktop of its own: the tray host has seen no other icon come and go, so the icon sits
    where it docked when the test clicks it."""
    try:
        started = Desktop.start(tmp_path / "desktop", width=1024, height=768)
    except MissingDependency as exc:
        pytest.fail(str(exc), pytrace=False)
    with started:
        yield started


def test_the_demo_tray_fits_the_screen_and_its_details_window_shows_the_demo(
    fresh_desktop: Desktop, processes: ChildProcesses, tmp_path: Path
) -> None:
    """`--demo` as a new user tries it: the whole menu on a 1024x768 screen, Details… on the demo's own
    figures (its folder and simulated servers, none of the user's real keys), moving as the demo moves."""
    desktop = fresh_desktop
    dump = tmp_path / "details.json"
    (tmp_path / "user-home").mkdir()
    env = desktop.child_env(
        HOME=str(tmp_path / "user-home"),
        CLAUDE_USAGE_TRAY_HOME=str(tmp_path / "app-home"),
        CLAUDE_USAGE_TRAY_DETAILS_DUMP=str(dump),
        # A real key in the user's environment must not reach the demo's details window.
        ANTHROPIC_ADMIN_API_KEY="sk-ant-admin01-" + "r" * 40,
    )
    env.pop("PYSTRAY_BACKEND", None)
    cli = [sys.executable, "-m", "tray_app.cli"]
    tray = processes.start([*cli, "-v", "run", "--demo"], env=env, name="claude-usage-tray", cwd=REPO)
    icon = find_docked_icon(desktop, tray.pid, timeout=20)
    item = find_indicator(desktop, tray.pid)
    wait_for_menu(
        desktop,
        item,
        lambda e: any(x.startswith("This month $") for x in menu_labels(e)),
        what="the demo's Console line",
        timeout=20,
    )
    # The menu as the user opens it: on screen whole, Quit included (no scroll arrows, no row cut off).
    popup = open_menu_by_click(desktop, icon, button=3, pid=tray.pid)
    assert popup.y >= 0 and popup.y + popup.height <= desktop.height, popup
    assert popup.height < desktop.height - 100, f"a menu this tall would not fit a laptop: {popup}"
    close_menu(desktop, tray.pid)

    click_menu_item(desktop, item, "Details…")

    def figures() -> list[str] | None:
        labels = read_dump(dump) or []
        wanted = any(x.startswith("5-hour: ") for x in labels)
        return labels if wanted and any(x.startswith("This month: $") for x in labels) else None

    first = wait_until(figures, timeout=20, what="the demo's figures in the details window")
    assert first is not None
    five_hour = next(x for x in first if x.startswith("5-hour: "))
    assert "Console · Demo Org" in first, first  # the demo's organization, from the demo's servers

    # The demo moves by itself (its simulated session and polls); the open window follows it.
    def moved() -> bool | None:
        labels = read_dump(dump)
        return bool(labels) and five_hour not in (labels or []) or None

    wait_until(moved, timeout=60, what="the 5-hour card to move with the demo")
    window = wait_until(lambda: details_windows(desktop) or None, timeout=10, what="the window")
    _xdotool(desktop, "windowfocus", "--sync", window[0])
    _xdotool(desktop, "key", "--window", window[0], "Escape")
    wait_until(lambda: not details_windows(desktop), timeout=10, what="the window to close on Escape")
    click_menu_item(desktop, item, "Quit")
    assert processes.wait(tray, timeout=15) == 0, processes.output(tray)
