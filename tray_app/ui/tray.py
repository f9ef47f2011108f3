"""Owns the pystray Icon on the main thread; post() is the only way other threads reach the toolkit."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tray_app.core.reports import TickResult
from tray_app.core.rules import Alert
from tray_app.core.viewmodel import Action, IconStyle, ViewModel
from tray_app.ui.hop import ui_poster
from tray_app.ui.icon import IconRenderer
from tray_app.ui.menu import menu_items

logger = logging.getLogger(__name__)

# A notification the toolkit has not shown by then is given up (and the next way is tried).
NOTIFY_TIMEOUT_SECONDS = 5.0


class Tray:
    """The tray icon and its menu, drawn from ViewModels."""

    def __init__(
        self,
        name: str,
        first: ViewModel,
        renderer: IconRenderer,
        on_action: Callable[[Action], None],
        temp_dir: Path,
        icon_class: Any = None,
    ) -> None:
        _use_private_temp_dir(temp_dir)
        self._temp_dir = temp_dir
        with _gtk_without_gl():
            import pystray

        self._pystray = pystray
        self._renderer = renderer
        self._on_action = on_action
        self._vm = first
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ui_thread: int | None = None
        self._alert_sink: Callable[[tuple[Alert, ...]], None] | None = None
        if icon_class is None:
            icon_class = _mac_icon_class(pystray) if sys.platform == "darwin" else pystray.Icon
        self._icon = icon_class(
            name,
            icon=renderer.image(first.icon),
            title=first.title,
            menu=pystray.Menu(self._items),
            darwin_template=first.icon.style is IconStyle.MONO_DARK,
        )
        self._post = ui_poster(self._icon, self.backend, sys.platform)

    @property
    def backend(self) -> str:
        """The pystray backend in use, e.g. 'appindicator' (from its module name '_appindicator')."""
        return type(self._icon).__module__.rsplit("._", 1)[-1]

    @property
    def has_menu(self) -> bool:
        return bool(self._icon.HAS_MENU)

    def _items(self) -> list[Any]:
        with self._lock:
            rows = self._vm.menu
        return menu_items(rows, self._on_action)

    def on_alerts(self, sink: Callable[[tuple[Alert, ...]], None]) -> None:
        """Where a tick's alerts go once its view is on screen (the notification queue)."""
        self._alert_sink = sink

    def post(self, function: Callable[[], None]) -> None:
        """Run a function on the UI thread: the only way from another thread into the toolkit."""
        self._post(lambda: self._guarded(function))

    def publish(self, result: TickResult) -> None:
        """Show a tick's result: its view first, then its alerts are handed on. Safe from any thread."""
        self.post(lambda: self._apply(result))

    def _guarded(self, function: Callable[[], None]) -> None:
        try:
            function()
        except Exception:
            # The loop must survive a bad picture or a toolkit error; the next tick tries again.
            logger.exception("a tray update failed")

    def _apply(self, result: TickResult) -> None:
        vm = result.view
        with self._lock:
            previous, self._vm = self._vm, vm
        if self._stopping.is_set():
            return
        if vm.icon != previous.icon:
            self._icon.icon = self._renderer.image(vm.icon)
        if vm.title != previous.title:
            self._icon.title = vm.title
        if vm.menu != previous.menu:
            self._icon.update_menu()
        if result.alerts and self._alert_sink is not None:
            self._alert_sink(result.alerts)

    @property
    def can_notify(self) -> bool:
        """Whether the toolkit itself can show a notification (pystray's xorg backend cannot)."""
        return bool(self._icon.HAS_NOTIFICATION)

    def notify(self, message: str, title: str, timeout: float = NOTIFY_TIMEOUT_SECONDS) -> None:
        """The icon's own notify(message, title), shown from the UI thread; raises when it fails or hangs.

        Called by the notification queue's thread: it waits here for the UI thread's answer, so that a
        failure can still fall back to the next way of notifying.
        """
        if threading.get_ident() == self._ui_thread:
            self._icon.notify(message, title)
            return
        done = threading.Event()
        failure: list[BaseException] = []

        def show() -> None:
            try:
                self._icon.notify(message, title)
            except Exception as exc:
                failure.append(exc)
            finally:
                done.set()

        self._post(show)
        if not done.wait(timeout):
            raise TimeoutError(f"the tray did not show the notification within {timeout:g} s")
        if failure:
            raise failure[0]

    def run(self, on_ready: Callable[[], None]) -> None:
        """Block in the toolkit's loop (main thread) until stop(); on_ready runs once the icon is up."""

        def setup(icon: Any) -> None:
            self.post(lambda: setattr(icon, "visible", True))
            self._install_signal_handlers()
            on_ready()

        self._ui_thread = threading.get_ident()

        try:
            self._icon.run(setup=setup)
        except Exception as exc:
            if not self._stopping.is_set():
                raise
            # gtk/appindicator close their last notification on the way out and raise when the
            # notification service has gone (pystray bug); the icon is already gone, so quit cleanly.
            logger.warning("the tray backend failed while stopping: %s", exc)
        finally:
            _clean_temp_dir(self._temp_dir)

    def stop(self) -> None:
        """End the loop (from any thread); pystray removes its temporary icon files on a clean stop."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._post(self._icon.stop)

    def _install_signal_handlers(self) -> None:
        def on_signal(*_args: Any) -> bool:
            logger.info("signal received: quitting")
            self._on_action(Action.QUIT)
            return True

        if self.backend in ("gtk", "appindicator"):
            # The GLib loop runs in C; Python-level handlers would only run at the next Python call,
            # and pystray resets SIGINT to the default (instant death, temp files left behind).
            from gi.repository import GLib

            for number in (signal.SIGINT, signal.SIGTERM):
                GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, number, on_signal)
        elif threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                signal.signal(number, on_signal)


@contextlib.contextmanager
def _gtk_without_gl() -> Iterator[None]:
    """GTK opens the GL stack (Mesa with LLVM, about 55 MiB resident) to pick a visual when it starts;
    a tray icon draws nothing with GL. Off while pystray starts GTK, then gone from the environment so
    that programs we open (an editor, a browser) keep theirs. A GDK_GL the user set is left alone."""
    if not sys.platform.startswith("linux") or "GDK_GL" in os.environ:
        yield
        return
    os.environ["GDK_GL"] = "disable"
    try:
        yield
    finally:
        os.environ.pop("GDK_GL", None)


def _use_private_temp_dir(folder: Path) -> None:
    """pystray writes each icon to a temp file; keep them in our folder so a crash leaves nothing in /tmp
    and the next start can sweep what a killed run left."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _clean_temp_dir(folder)
    tempfile.tempdir = str(folder)


def _clean_temp_dir(folder: Path) -> None:
    for leftover in folder.glob("tmp*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _mac_icon_class(pystray: Any) -> Any:  # pragma: no cover - needs macOS
    """Crisp 44 px (@2x) images at 22 pt and template images that follow light/dark menu bars.

    pystray 0.19.5 resizes every image to 22 pixels and never sets a size or template flag.
    """

    class MacIcon(pystray.Icon):  # type: ignore[misc]
        def _assert_image(self) -> None:
            import io

            import AppKit  # type: ignore[import-not-found]
            import Foundation  # type: ignore[import-not-found]

            if getattr(self, "_icon_image", None) is not None:
                return
            points = self._status_bar.thickness()
            width, height = self._icon.size
            buffer = io.BytesIO()
            self._icon.save(buffer, "png")
            image = AppKit.NSImage.alloc().initWithData_(Foundation.NSData(buffer.getvalue()))
            image.setSize_((points * width / height, points))
            image.setTemplate_(bool(self._options.get("template", False)))
            self._icon_image = image
            self._status_item.button().setImage_(image)

    # pystray reads darwin_* options by the class's module name; keep it pointing at the backend.
    MacIcon.__module__ = pystray.Icon.__module__
    return MacIcon
