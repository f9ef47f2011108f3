"""The way onto the UI thread, per toolkit: nothing posted runs on the caller's thread.

GLib's loop runs for real here; macOS's AppKit is a fake of PyObjCTools.AppHelper whose callAfter queues
for a main loop the test turns (tests/integration/test_ui_thread.py drives the Windows route end to end).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from tray_app.ui.hop import Win32Poster, ui_poster


class FakeAppHelper(ModuleType):
    """AppKit's callAfter: queues a callable for the main run loop, which the test turns."""

    def __init__(self) -> None:
        super().__init__("PyObjCTools.AppHelper")
        self.queue: list[Callable[[], None]] = []

    def callAfter(self, function: Callable[..., None], *args: object) -> None:  # noqa: N802 - AppKit's name
        self.queue.append(lambda: function(*args))

    def turn_main_loop(self) -> None:
        while self.queue:
            self.queue.pop(0)()


def _post_from_poller(post: Callable[[Callable[[], None]], None], ran_on: list[str]) -> None:
    poller = threading.Thread(
        target=post, args=(lambda: ran_on.append(threading.current_thread().name),), name="poller"
    )
    poller.start()
    poller.join()


def test_on_macos_a_change_from_the_poller_waits_for_the_main_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    helper = FakeAppHelper()
    package = ModuleType("PyObjCTools")
    package.__dict__["AppHelper"] = helper
    monkeypatch.setitem(sys.modules, "PyObjCTools", package)
    monkeypatch.setitem(sys.modules, "PyObjCTools.AppHelper", helper)
    ran_on: list[str] = []
    _post_from_poller(ui_poster(object(), "darwin", "darwin"), ran_on)
    assert ran_on == []  # AppKit is never touched from the poller's thread
    helper.turn_main_loop()
    assert ran_on == [threading.current_thread().name]


@pytest.fixture
def glib_loop() -> Iterator[Any]:
    if importlib.util.find_spec("gi") is None:
        pytest.skip("PyGObject is not installed (the gtk extra)")
    from gi.repository import GLib

    loop = GLib.MainLoop()
    thread = threading.Thread(target=loop.run, name="gtk-main")
    thread.start()
    try:
        yield loop
    finally:
        GLib.idle_add(loop.quit)
        thread.join(5)


@pytest.mark.parametrize("backend", ["gtk", "appindicator"])
def test_on_gtk_a_change_from_the_poller_runs_in_the_glib_loop(glib_loop: Any, backend: str) -> None:
    ran_on: list[str] = []
    done = threading.Event()
    post = ui_poster(object(), backend, "linux")

    def record() -> None:
        ran_on.append(threading.current_thread().name)
        done.set()

    post(record)
    assert done.wait(5)
    assert ran_on == ["gtk-main"]


class FakeWin32Icon:
    def __init__(self) -> None:
        self._message_handlers: dict[int, Callable[[int, int], int]] = {}
        self._hwnd: int | None = None


def test_on_windows_calls_wait_for_the_window_and_run_in_order() -> None:
    icon = FakeWin32Icon()
    posted: list[int] = []
    post = Win32Poster(icon, lambda hwnd, message, wparam, lparam: posted.append(message))
    ran: list[int] = []
    post(lambda: ran.append(1))  # before the loop made its window: kept, nothing posted yet
    assert posted == [] and ran == []
    icon._hwnd = 42
    post(lambda: ran.append(2))
    assert len(posted) == 1
    handler = icon._message_handlers[posted[0]]
    handler(0, 0)  # the window procedure, on the loop's thread
    assert ran == [1, 2]


def test_a_failing_call_on_windows_does_not_stop_the_ones_behind_it(caplog: pytest.LogCaptureFixture) -> None:
    icon = FakeWin32Icon()
    icon._hwnd = 7
    posted: list[int] = []
    post = Win32Poster(icon, lambda hwnd, message, wparam, lparam: posted.append(message))
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("toolkit trouble")

    post(broken)
    post(lambda: ran.append("next"))
    icon._message_handlers[posted[0]](0, 0)
    assert ran == ["next"]
    assert "a tray update failed on the UI thread" in caplog.text
