"""Smoke test of the e2e harness against a stand-in pystray program (tests/e2e/standin_tray.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from .desktop import (
    ChildProcesses,
    Desktop,
    check_programs,
    click_menu_item,
    find_docked_icon,
    find_indicator,
    menu_labels,
    open_menu_by_click,
    wait_for_icon_color,
    wait_for_menu,
    wait_for_notification,
    wait_for_stable_pixels,
)

STANDIN = Path(__file__).resolve().parent / "standin_tray.py"
RED = (220, 40, 40)
GREEN = (40, 160, 40)


def _start_standin(desktop: Desktop, processes: ChildProcesses, tmpdir: Path) -> subprocess.Popen[bytes]:
    tmpdir.mkdir()
    env = desktop.child_env(TMPDIR=str(tmpdir))
    env.pop("PYSTRAY_BACKEND", None)  # let pystray choose, as the real program does: appindicator
    proc = processes.start([sys.executable, str(STANDIN)], env=env, name="standin")
    processes.wait_for_output(proc, "VISIBLE pystray._appindicator", timeout=15)
    return proc


def test_standin_docks_shows_menu_reacts_and_quits(
    desktop: Desktop, processes: ChildProcesses, tmp_path: Path, artifacts: Path
) -> None:
    tmpdir = tmp_path / "tmp"
    proc = _start_standin(desktop, processes, tmpdir)

    icon = find_docked_icon(desktop, proc.pid, timeout=10)
    tray = desktop.tray_geometry()
    assert tray.x <= icon.x and icon.x + icon.width <= tray.x + tray.width, (icon, tray)
    wait_for_icon_color(desktop, icon, RED)

    # The menu over D-Bus, although no StatusNotifierWatcher runs (libayatana's XEMBED fallback).
    item = find_indicator(desktop, proc.pid)
    assert item.object_path == "/org/ayatana/NotificationItem/claude_usage_tray"
    assert item.properties["Id"] == "claude-usage-tray"
    expected = ["Clicks: 0", "Refresh now", "Quit"]
    entries = wait_for_menu(desktop, item, lambda e: menu_labels(e) == expected, what=f"menu {expected}")
    assert [(e.label, e.enabled, e.kind) for e in entries] == [
        ("Clicks: 0", False, "standard"),
        ("Refresh now", True, "standard"),
        ("", True, "separator"),
        ("Quit", True, "standard"),
    ]

    click_menu_item(desktop, item, "Refresh now")
    wait_for_icon_color(desktop, icon, GREEN)
    wait_for_menu(desktop, item, lambda e: "Clicks: 1" in menu_labels(e), what="the label 'Clicks: 1'")

    popup = open_menu_by_click(desktop, icon, button=3, pid=proc.pid)
    assert popup.width > 40 and popup.height > 40, popup
    assert popup.y >= icon.y + icon.height - 2, (popup, icon)  # drops down from the top-edge tray
    shot = desktop.screenshot().crop(icon.union(popup).grow(4).clamp(desktop.width, desktop.height).box)
    shot_path = artifacts / "icon-and-menu.png"
    shot.save(shot_path)
    print(f"screenshot of icon + open menu: {shot_path}")
    wait_for_stable_pixels(desktop, popup)  # still drawn: the menu did not close by itself

    click_menu_item(desktop, item, "Quit")
    assert processes.wait(proc, timeout=10) == 0, processes.output(proc)
    assert "STOPPED" in processes.output(proc)
    assert sorted(p.name for p in tmpdir.iterdir()) == []  # pystray removed its temp icon file


def test_standin_stops_cleanly_on_sigterm(
    desktop: Desktop, processes: ChildProcesses, tmp_path: Path
) -> None:
    tmpdir = tmp_path / "tmp"
    proc = _start_standin(desktop, processes, tmpdir)
    find_docked_icon(desktop, proc.pid, timeout=10)
    assert len(list(tmpdir.iterdir())) == 1  # the icon image pystray hands to libayatana

    proc.send_signal(signal.SIGTERM)
    assert processes.wait(proc, timeout=10) == 0, processes.output(proc)
    assert list(tmpdir.iterdir()) == []


def test_notifications_reach_dunst(desktop: Desktop) -> None:
    check_programs({"notify-send": "libnotify-bin"})
    subprocess.run(
        ["notify-send", "-a", "e2e-harness", "Harness check", "body text"],
        env=desktop.env,
        check=True,
        timeout=10,
    )
    note = wait_for_notification(desktop, lambda n: n.get("summary") == "Harness check")
    assert (note["appname"], note["body"]) == ("e2e-harness", "body text")
