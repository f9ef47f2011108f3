"""Threads: the toolkit is touched only on its own thread, the icon before the notification, and a menu
action on a locked database leaves the menu responsive.

The tray is built by the real wiring against the demo server and a real database, with pystray's Icon
replaced by a recording stand-in of its Windows backend: a message loop on a thread of its own, reached
(as on Windows) only through posted window messages. Every toolkit call is recorded with its thread.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("the private session bus these tests use is Linux's", allow_module_level=True)

from tray_app.app import TrayApp
from tray_app.clock import SYSTEM_CLOCK
from tray_app.core.viewmodel import Action, MenuRow, all_rows
from tray_app.demo import DemoServer
from tray_app.environment import Environment
from tray_app.wiring import open_app, settings_for
from tray_app.wiring.tray import build_tray_app

from .notifyd import NotificationServer, PrivateBus

UI_THREAD = "ui"
_WM_STOP = 0x400 + 10
_WINDOWS: dict[int, RecordingIcon] = {}


@dataclass(frozen=True)
class Call:
    what: str
    thread: str
    message: int | None  # the window message being handled, None outside the loop
    detail: Any = None


class RecordingIcon:
    """pystray's Icon API as the tray uses it, recording each call; a Windows-like message loop."""

    HAS_MENU = True
    HAS_NOTIFICATION = True
    calls: list[Call]

    def __init__(self, name: str, icon: Any = None, title: str = "", menu: Any = None, **_: Any) -> None:
        self.calls = []
        self.messages: list[str] = []  # the bodies of notifications, in order
        self._message_handlers: dict[int, Callable[[int, int], int]] = {}
        self._hwnd: int | None = None
        self._messages: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._current: int | None = None
        self._icon, self._title, self._visible = icon, title, False

    def _record(self, what: str, detail: Any = None) -> None:
        self.calls.append(Call(what, threading.current_thread().name, self._current, detail))

    @property
    def icon(self) -> Any:
        return self._icon

    @icon.setter
    def icon(self, image: Any) -> None:
        self._icon = image
        self._record("icon")

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, text: str) -> None:
        self._title = text
        self._record("title", text)

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, shown: bool) -> None:
        self._visible = shown
        self._record("visible")

    def update_menu(self) -> None:
        self._record("update_menu")

    def notify(self, message: str, title: str | None = None) -> None:
        self._record("notify", title)
        self.messages.append(message)

    def run(self, setup: Callable[[Any], None] | None = None) -> None:
        self._hwnd = id(self)
        _WINDOWS[self._hwnd] = self
        if setup is not None:
            threading.Thread(target=setup, args=(self,), name="setup", daemon=True).start()
        number = 0
        while (message := self._messages.get()) != _WM_STOP:
            number += 1
            self._current = number
            self._message_handlers[message](0, 0)
            self._current = None

    def stop(self) -> None:
        self._record("stop")
        self._messages.put(_WM_STOP)


# Tray.backend reads the backend's name from the class's module, as pystray's own classes are named.
RecordingIcon.__module__ = "pystray._win32"


def _post_message(hwnd: int, message: int, _wparam: int, _lparam: int) -> int:
    _WINDOWS[hwnd]._messages.put(message)  # noqa: SLF001 - the stand-in's own message queue
    return 1


@dataclass
class Running:
    tray_app: TrayApp
    icon: RecordingIcon
    thread: threading.Thread
    database: Path

    def wait_for(self, condition: Callable[[], bool], seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"gave up waiting; calls: {self.icon.calls}"
            time.sleep(0.02)

    def view_menu(self) -> list[MenuRow]:
        """Every row the menu would show now, the submenus' included."""
        return all_rows(self.tray_app._tray._vm.menu)  # noqa: SLF001


@pytest.fixture
def running(
    tmp_path: Path, server: DemoServer, claude_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Running]:
    # A notification service on a private bus, as on a desktop: the tray's own route checks for one.
    bus = PrivateBus(tmp_path / "bus")
    notifications = NotificationServer(bus, tmp_path / "notifications.jsonl")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)  # the tray points it at its own folder
    fake_win32 = types.ModuleType("pystray._util.win32")
    fake_win32.PostMessage = _post_message  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pystray._util.win32", fake_win32)
    home = tmp_path / "app-home"
    home.mkdir()
    # A low threshold so the very first poll (5-hour window at 10 %) crosses it and notifies, through
    # the tray's own notification (the toolkit) first.
    (home / "config.toml").write_text('[notifications]\nthresholds = [5]\nbackend = "pystray"\n')
    env = Environment(
        {
            "CLAUDE_USAGE_TRAY_HOME": str(home),
            "CLAUDE_USAGE_TRAY_API_BASE": server.base_url,
            "CLAUDE_USAGE_TRAY_TOKEN_URL": server.token_url,
            "CLAUDE_CONFIG_DIR": str(claude_dir),
        },
        "linux",
        tmp_path / "user-home",
    )
    with open_app(settings_for("run", env), env, SYSTEM_CLOCK) as app:
        tray_app = build_tray_app(app, env, SYSTEM_CLOCK, icon_class=RecordingIcon)
        icon = tray_app._tray._icon  # noqa: SLF001 - the stand-in the tray made
        thread = threading.Thread(target=tray_app.run, name=UI_THREAD, daemon=True)
        thread.start()
        try:
            yield Running(tray_app, icon, thread, app.settings.paths.database)
        finally:
            tray_app.on_action(Action.QUIT)
            thread.join(10)
            notifications.stop()
            bus.close()
    assert not thread.is_alive(), "the tray did not stop"


def test_every_toolkit_call_is_on_the_ui_thread_and_the_icon_changes_before_the_notification(
    running: Running,
) -> None:
    running.wait_for(lambda: any(call.what == "notify" for call in running.icon.calls))
    calls = running.icon.calls
    assert {call.thread for call in calls} == {UI_THREAD}, calls
    # Every call arrived through a posted message, none by a direct call from another thread.
    assert all(call.message is not None for call in calls), calls
    notify = next(index for index, call in enumerate(calls) if call.what == "notify")
    assert calls[notify].detail == "Claude 5-hour limit: 10 % used"
    polled_icon = [
        index for index, call in enumerate(calls) if call.what == "title" and "10 %" in str(call.detail)
    ]
    assert polled_icon and polled_icon[0] < notify, "the notification came before the icon showed the poll"
    assert any(c.what == "icon" for c in calls[: polled_icon[0] + 1]), "the picture was not redrawn"


def _notifications_checked(running: Running) -> bool | None:
    return next(row.checked for row in running.view_menu() if row.action is Action.TOGGLE_NOTIFICATIONS)


def test_a_menu_action_on_a_locked_database_leaves_the_menu_responsive(running: Running) -> None:
    running.wait_for(lambda: any(call.what == "title" for call in running.icon.calls))
    assert _notifications_checked(running) is True
    locker = sqlite3.connect(running.database, timeout=0, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the database: writes wait for it
    released = threading.Event()

    def release_after_five_seconds() -> None:
        time.sleep(5)
        locker.execute("COMMIT")
        released.set()

    threading.Thread(target=release_after_five_seconds, daemon=True).start()
    answered: list[bool] = []
    tray = running.tray_app._tray  # noqa: SLF001
    # The click, on the UI thread as the toolkit delivers it; then a second UI task behind it.
    tray.post(lambda: running.tray_app.on_action(Action.TOGGLE_NOTIFICATIONS))
    tray.post(lambda: answered.append(released.is_set()))
    running.wait_for(lambda: bool(answered), seconds=4)
    assert answered == [False], "the UI thread waited for the locked database"
    running.wait_for(lambda: _notifications_checked(running) is False, seconds=20)
    released.wait(10)
    locker.close()

    def stored() -> object:
        with sqlite3.connect(running.database) as check:
            return check.execute("SELECT value FROM kv WHERE key = 'notifications.enabled'").fetchone()

    # The choice waited in memory while the file was locked; the next poll's write takes it along.
    running.tray_app.on_action(Action.REFRESH)
    running.wait_for(lambda: stored() == ("off",), seconds=20)


FEED_OFFER = "Get live figures from Claude Code (add status line)"


def test_the_menu_offers_the_status_line_and_installs_it(running: Running, claude_dir: Path) -> None:
    running.wait_for(lambda: any(call.what == "title" for call in running.icon.calls))
    offer = [row for row in running.view_menu() if row.action is Action.INSTALL_STATUSLINE]
    assert [row.text for row in offer] == [FEED_OFFER]  # Claude Code's settings have no status line yet
    settings = claude_dir / "settings.json"
    assert not settings.exists()
    running.tray_app.on_action(Action.INSTALL_STATUSLINE)
    running.wait_for(lambda: all(row.action is not Action.INSTALL_STATUSLINE for row in running.view_menu()))
    command = json.loads(settings.read_text())["statusLine"]["command"]
    assert command.split()[-1] == "statusline" or command.endswith("-m tray_app statusline")
    # The user is told where it went, and when it takes effect.
    running.wait_for(lambda: any("installed in" in message for message in running.icon.messages))
    told = next(message for message in running.icon.messages if "installed in" in message)
    assert str(settings) in told and "sessions started from now on feed the tray" in told
