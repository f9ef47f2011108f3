"""The tray application at run time: the view's options, the menu's actions, start and stop.

Built by tray_app.wiring.tray. Threads: the UI thread (the toolkit's loop) only draws and posts; every
action that needs the database, the network or the disk runs on the polling thread (Poller.submit) and
comes back as a new view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from tray_app import __version__
from tray_app.alerts import NotificationSwitch, tomorrow_morning
from tray_app.autostart import Autostart
from tray_app.clock import Clock
from tray_app.config import Settings, write_config_template
from tray_app.core.reports import Reports
from tray_app.core.view import USAGE_PAGE_URL, ViewOptions, present
from tray_app.core.viewmodel import Action, ViewModel
from tray_app.desktop import open_path, open_url
from tray_app.monitors.web import WebSwitch
from tray_app.paths import APP_NAME
from tray_app.poller import Poller
from tray_app.ui.delivery import NotificationQueue
from tray_app.ui.tray import Tray

logger = logging.getLogger(__name__)


class TrayView:
    """What the tray shows: present() of the latest reports with the current options.

    Options change only on the polling thread (menu actions run there), which is also where present()
    runs, so no lock is needed.
    """

    def __init__(self, options: ViewOptions, notices: Callable[[], Sequence[str]], clock: Clock) -> None:
        self.options = options
        self._notices = notices
        self._clock = clock

    def present(self, reports: Reports) -> ViewModel:
        notices = [notice for notice in self._notices() if notice]
        return present(reports, self._clock.now(), self._clock.local_tz(), self.options, notices)


class TrayApp:
    """Runs until Quit or a signal; returns the process exit code."""

    def __init__(
        self,
        settings: Settings,
        view: TrayView,
        tray: Tray,
        poller: Poller,
        notifications: NotificationQueue,
        switch: NotificationSwitch,
        web_switch: WebSwitch | None,
        autostart: Autostart,
        draw_history: Callable[[], Path | None],
        clock: Clock,
        install_feed: Callable[[], tuple[bool, str]] | None = None,
        open_details: Callable[[], None] | None = None,
    ) -> None:
        """install_feed: adds our status line to Claude Code's settings; (now installed, what happened).

        open_details: starts the details window (a process of its own, so it returns at once).
        """
        self._settings = settings
        self._view = view
        self._tray = tray
        self._poller = poller
        self._notifications = notifications
        self._switch = switch
        self._web_switch = web_switch
        self._autostart = autostart
        self._draw_history = draw_history
        self._clock = clock
        self._install_feed = install_feed
        self._open_details = open_details

    def run(self) -> int:
        logger.info("tray started (backend %s, menu %s)", self._tray.backend, self._tray.has_menu)
        try:
            self._tray.run(on_ready=self._poller.start)
        finally:
            self._poller.stop()
            self._notifications.close(timeout=1.0)
        logger.info("tray stopped")
        return 0

    def on_action(self, action: Action) -> None:
        """A menu click (UI thread) or a signal: never waits on the database, the disk or the network."""
        logger.info("menu: %s", action.value)
        handlers: dict[Action, Callable[[], None]] = {
            Action.OPEN_DETAILS: self._details,
            Action.REFRESH: self._poller.refresh_now,
            Action.OPEN_USAGE_PAGE: lambda: open_url(USAGE_PAGE_URL),
            Action.TOGGLE_NOTIFICATIONS: lambda: self._poller.submit(self._toggle_notifications),
            Action.SNOOZE_HOUR: lambda: self._poller.submit(lambda: self._snooze(timedelta(hours=1))),
            Action.SNOOZE_TOMORROW: lambda: self._poller.submit(lambda: self._snooze(None)),
            Action.RESUME_NOTIFICATIONS: lambda: self._poller.submit(self._resume),
            Action.TOGGLE_WEB: lambda: self._poller.submit(self._toggle_web),
            Action.TOGGLE_AUTOSTART: lambda: self._poller.submit(self._toggle_autostart),
            Action.SHOW_HISTORY: lambda: self._poller.submit(self._show_history),
            Action.INSTALL_STATUSLINE: lambda: self._poller.submit(self._add_status_line),
            Action.OPEN_SETTINGS: self._open_settings,
            Action.OPEN_LOGS: lambda: open_path(self._settings.paths.log_dir),
            Action.ABOUT: self._about,
            Action.QUIT: self._quit,
        }
        handlers[action]()

    # -- the actions below run on the polling thread ------------------------------------------------

    def _notification_options(self) -> None:
        options = self._view.options
        self._view.options = replace(
            options, notifications_on=self._switch.enabled, snoozed_until=self._switch.snoozed_until
        )

    def _toggle_notifications(self) -> None:
        self._switch.set_enabled(not self._view.options.notifications_on)
        self._notification_options()

    def _snooze(self, span: timedelta | None) -> None:
        now = self._clock.now()
        self._switch.snooze(now + span if span is not None else tomorrow_morning(now, self._clock.local_tz()))
        self._notification_options()

    def _resume(self) -> None:
        self._switch.snooze(None)
        self._notification_options()

    def _toggle_web(self) -> None:
        if self._web_switch is None:
            return
        self._web_switch.set(not self._web_switch.enabled, self._clock.now())
        self._view.options = replace(self._view.options, web_enabled=self._web_switch.enabled)
        self._poller.refresh_now()

    def _toggle_autostart(self) -> None:
        enabled = self._autostart.status().enabled
        logger.info("%s", self._autostart.disable() if enabled else self._autostart.enable())
        self._view.options = replace(self._view.options, autostart=self._autostart.status().enabled)

    def _add_status_line(self) -> None:
        if self._install_feed is None:
            return
        installed, outcome = self._install_feed()
        self._view.options = replace(self._view.options, feed_installed=installed)
        self._notifications.send("Claude Code status line", outcome)

    def _show_history(self) -> None:
        target = self._draw_history()
        if target is not None:
            open_path(target)

    # -- these stay on the UI thread: no database, only quick local files -------------------------

    def _details(self) -> None:
        if self._open_details is not None:
            self._open_details()

    def _open_settings(self) -> None:
        write_config_template(self._settings.paths.config_file)
        open_path(self._settings.paths.config_file)

    def _about(self) -> None:
        paths = self._settings.paths
        logger.info("about: version %s, data %s, settings %s", __version__, paths.database, paths.config_file)
        self._notifications.send(
            f"{APP_NAME} {__version__}", f"History: {paths.database}\nSettings: {paths.config_file}"
        )

    def _quit(self) -> None:
        self._poller.stop()
        self._tray.stop()
