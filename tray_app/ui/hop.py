"""The one way onto the UI thread, per toolkit backend: every change to the tray goes through here."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]

# A private window message (pystray uses WM_USER + 10 and + 11 for its own).
_WM_CALL = 0x400 + 20


def ui_poster(icon: Any, backend: str, platform: str) -> Post:
    """How to run a callable on the thread that runs the icon's loop, for this backend.

    pystray itself marshals only on GTK (idle_add) and xorg (client messages); on macOS every AppKit
    call off the main thread is undefined behaviour, and on Windows it calls Shell_NotifyIcon from the
    caller's thread. So we hop ourselves: GLib's idle queue, AppKit's callAfter, a window message.
    """
    if platform == "darwin":
        return _appkit_poster()
    if backend in ("gtk", "appindicator"):
        return _glib_poster()
    if backend == "win32":
        return Win32Poster(icon)
    return _direct  # xorg marshals its own setters; the dummy backend has no loop at all


def _direct(function: Callable[[], None]) -> None:
    function()


def _appkit_poster() -> Post:
    from PyObjCTools import AppHelper  # type: ignore[import-not-found]

    def post(function: Callable[[], None]) -> None:
        AppHelper.callAfter(function)

    return post


def _glib_poster() -> Post:
    from gi.repository import GLib

    def post(function: Callable[[], None]) -> None:
        def once() -> bool:
            function()
            return False  # run once, do not reschedule

        GLib.idle_add(once)

    return post


class Win32Poster:
    """Queues callables and wakes pystray's window procedure with a private message to run them."""

    def __init__(self, icon: Any, post_message: Callable[[Any, int, int, int], object] | None = None) -> None:
        self._icon = icon
        self._queue: collections.deque[Callable[[], None]] = collections.deque()
        self._lock = threading.Lock()
        if post_message is None:
            from pystray._util import win32

            post_message = win32.PostMessage
        self._post_message = post_message
        icon._message_handlers[_WM_CALL] = self._drain

    def __call__(self, function: Callable[[], None]) -> None:
        with self._lock:
            self._queue.append(function)
        hwnd = getattr(self._icon, "_hwnd", None)
        if hwnd is None:  # the loop has not made its window yet: it drains when the first message comes
            return
        self._post_message(hwnd, _WM_CALL, 0, 0)

    def _drain(self, _wparam: int, _lparam: int) -> int:
        while True:
            with self._lock:
                if not self._queue:
                    return 0
                function = self._queue.popleft()
            try:
                function()
            except Exception:
                logger.exception("a tray update failed on the UI thread")
