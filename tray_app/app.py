"""The tray application: poller thread + tray icon + menu actions, wired from parts made in cli.py."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from tray_app import __version__
from tray_app.config import APP_NAME, Settings, write_config_template
from tray_app.core.models import CodeReport
from tray_app.core.view import USAGE_PAGE_URL, ViewOptions, present
from tray_app.core.viewmodel import Action, ViewModel
from tray_app.desktop import open_path, open_url
from tray_app.poller import CodeMonitor, Poller, PollTiming
from tray_app.store import Store
from tray_app.ui.icon import ICON_SIZE_DEFAULT, ICON_SIZE_MACOS, IconRenderer
from tray_app.ui.tray import Tray

logger = logging.getLogger(__name__)

NOTIFICATIONS_KEY = "notifications.enabled"


def _local_tz() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


class TrayApp:
    """Runs until Quit or a signal; returns the process exit code."""

    def __init__(self, settings: Settings, store: Store, monitor: CodeMonitor, temp_dir: Path) -> None:
        self._settings = settings
        self._store = store
        self._monitor = monitor
        self._temp_dir = temp_dir
        self._options = ViewOptions(
            thresholds=settings.thresholds,
            style=settings.icon_style,
            notifications_on=store.get_value(NOTIFICATIONS_KEY) != "off",
            stale_after=timedelta(seconds=3 * settings.code_poll_seconds),
            app_name=APP_NAME,
        )
        self._tray: Tray | None = None
        self._poller: Poller | None = None

    def present(self, report: CodeReport) -> ViewModel:
        # Called on the poller thread; options is an immutable value swapped whole by the UI thread.
        return present(report, datetime.now(UTC), _local_tz(), self._options)

    def run(self) -> int:
        first = self.present(self._monitor.stored_report(timedelta(0)))
        renderer = IconRenderer(ICON_SIZE_MACOS if sys.platform == "darwin" else ICON_SIZE_DEFAULT)
        tray = Tray(APP_NAME, first, renderer, self.on_action, self._temp_dir)
        timing = PollTiming(interval=float(self._settings.code_poll_seconds))
        poller = Poller(self._monitor, self.present, tray.publish, timing)
        self._tray, self._poller = tray, poller
        logger.info("tray started (backend %s, menu %s)", tray.backend, "yes" if tray.has_menu else "no")
        try:
            tray.run(on_ready=poller.start)
        finally:
            poller.stop()
        logger.info("tray stopped")
        return 0

    def on_action(self, action: Action) -> None:
        """A menu click (UI thread) or a signal."""
        logger.info("menu: %s", action.value)
        tray, poller = self._tray, self._poller
        if tray is None or poller is None:
            return
        if action is Action.REFRESH:
            poller.refresh_now()
        elif action is Action.OPEN_USAGE_PAGE:
            open_url(USAGE_PAGE_URL)
        elif action is Action.TOGGLE_NOTIFICATIONS:
            enabled = not self._options.notifications_on
            self._store.set_value(NOTIFICATIONS_KEY, "on" if enabled else "off", datetime.now(UTC))
            self._options = replace(self._options, notifications_on=enabled)
            poller.repaint()
        elif action is Action.OPEN_SETTINGS:
            write_config_template(self._settings.paths.config_file)
            open_path(self._settings.paths.config_file)
        elif action is Action.OPEN_LOGS:
            open_path(self._settings.paths.log_dir)
        elif action is Action.ABOUT:
            paths = self._settings.paths
            tray.notify(
                f"Version {__version__}\nHistory: {paths.database}\nSettings: {paths.config_file}", APP_NAME
            )
        elif action is Action.QUIT:
            poller.stop()
            tray.stop()
