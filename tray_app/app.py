"""The tray application: poller thread + tray icon + menu actions, wired from parts made in cli.py."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from tray_app import __version__
from tray_app.alerts import AlertCenter, NotificationSwitch, tomorrow_morning
from tray_app.autostart import Autostart
from tray_app.config import Settings, write_config_template
from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport
from tray_app.core.view import USAGE_PAGE_URL, ViewOptions, present
from tray_app.core.viewmodel import Action, Badge, IconSpec, IconStyle, Level, ViewModel
from tray_app.core.web_report import WebReport
from tray_app.desktop import open_path, open_url
from tray_app.paths import APP_NAME
from tray_app.poller import ConsoleSource, Poller, PollTiming, UsageSource, WebSource
from tray_app.store import Store
from tray_app.ui.icon import ICON_SIZE_DEFAULT, ICON_SIZE_MACOS, IconRenderer, render_icon
from tray_app.ui.notify import FallbackNotifier, build_notifier
from tray_app.ui.tray import Tray
from tray_app.web_monitor import WebSwitch

logger = logging.getLogger(__name__)


NOTIFICATION_ICON_NAME = "notification-icon.png"
# What the notification icon shows: the gauge language of the tray icon, without a number.
_NOTIFICATION_ICON = IconSpec(None, 60.0, 30.0, Level.MEDIUM, Level.LOW, Badge.NONE, IconStyle.COLOR)


def _local_tz() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


class TrayApp:
    """Runs until Quit or a signal; returns the process exit code."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        monitor: UsageSource | None,
        temp_dir: Path,
        console: ConsoleSource | None = None,
        web: WebSource | None = None,
        web_switch: WebSwitch | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._monitor = monitor
        self._console = console
        self._web = web
        self._web_switch = web_switch
        self._temp_dir = temp_dir
        self._switch = NotificationSwitch(store)
        self._autostart = Autostart()
        self._options = ViewOptions(
            thresholds=settings.thresholds,
            style=settings.icon_style,
            notifications_on=self._switch.enabled,
            snoozed_until=self._switch.snoozed_until,
            web_enabled=web_switch is not None and web_switch.enabled,
            autostart=self._autostart.status().enabled,
            stale_after=PollTiming(interval=float(settings.code_poll_seconds)).stale_after,
            app_name=APP_NAME,
        )
        self._tray: Tray | None = None
        self._notifier_send: Callable[[str, str], str | None] | None = None
        self._poller: Poller | None = None

    def present(
        self, report: CodeReport | None, console: ConsoleReport | None, web: WebReport | None = None
    ) -> ViewModel:
        # Called on the poller thread; options is an immutable value swapped whole by the UI thread.
        notices = [p for p in (self._settings.file_problem, self._store.problem) if p]
        return present(report, datetime.now(UTC), _local_tz(), self._options, console, web, notices)

    def run(self) -> int:
        first = self.present(
            None if self._monitor is None else self._monitor.stored_report(timedelta(0)),
            None if self._console is None else self._console.stored_report(),
            None if self._web is None else self._web.stored_report(),
        )
        renderer = IconRenderer(ICON_SIZE_MACOS if sys.platform == "darwin" else ICON_SIZE_DEFAULT)
        tray = Tray(APP_NAME, first, renderer, self.on_action, self._temp_dir)
        timing = PollTiming(
            interval=float(self._settings.code_poll_seconds),
            console_interval=self._settings.console.poll_seconds,
        )
        notifier = self._notifier(tray)
        self._notifier_send = notifier.send
        alerts = AlertCenter(self._store, self._settings.notifications, notifier.send, self._switch)
        poller = Poller(
            self._monitor,
            self.present,
            tray.publish,
            timing,
            console=self._console,
            web=self._web,
            on_report=alerts.process,
            on_console=alerts.process_console,
        )
        self._tray, self._poller = tray, poller
        logger.info("tray started (backend %s, menu %s)", tray.backend, "yes" if tray.has_menu else "no")
        try:
            tray.run(on_ready=poller.start)
        finally:
            poller.stop()
        logger.info("tray stopped")
        return 0

    def _notifier(self, tray: Tray) -> FallbackNotifier:
        icon_path = self._temp_dir.parent / NOTIFICATION_ICON_NAME
        try:
            render_icon(_NOTIFICATION_ICON, 128).save(icon_path)
        except OSError as exc:
            logger.warning("cannot write the notification icon %s: %s", icon_path, exc.strerror)
        return build_notifier(
            self._settings.notifications.backend,
            platform=sys.platform,
            app_name=APP_NAME,
            icon_path=icon_path if icon_path.exists() else None,
            log_file=self._settings.paths.log_dir / "notifications.jsonl",
            tray_notify=tray.notify,
        )

    def _set_notifications(self, *, enabled: bool | None = None, snooze: datetime | None = None) -> None:
        if enabled is not None:
            self._switch.set_enabled(enabled)
        self._switch.snooze(snooze)
        self._options = replace(
            self._options, notifications_on=self._switch.enabled, snoozed_until=self._switch.snoozed_until
        )
        if self._poller is not None:
            self._poller.repaint()

    def on_action(self, action: Action) -> None:
        """A menu click (UI thread) or a signal."""
        logger.info("menu: %s", action.value)
        if self._tray is None or self._poller is None:
            return
        handlers: dict[Action, Callable[[], None]] = {
            Action.REFRESH: self._poller.refresh_now,
            Action.OPEN_USAGE_PAGE: lambda: open_url(USAGE_PAGE_URL),
            Action.TOGGLE_NOTIFICATIONS: lambda: self._set_notifications(
                enabled=not self._options.notifications_on
            ),
            Action.SNOOZE_HOUR: lambda: self._set_notifications(
                snooze=datetime.now(UTC) + timedelta(hours=1)
            ),
            Action.SNOOZE_TOMORROW: lambda: self._set_notifications(
                snooze=tomorrow_morning(datetime.now(UTC), _local_tz())
            ),
            Action.RESUME_NOTIFICATIONS: lambda: self._set_notifications(snooze=None),
            Action.TOGGLE_WEB: self._toggle_web,
            Action.TOGGLE_AUTOSTART: self._toggle_autostart,
            Action.SHOW_HISTORY: self._show_history,
            Action.OPEN_SETTINGS: self._open_settings,
            Action.OPEN_LOGS: lambda: open_path(self._settings.paths.log_dir),
            Action.ABOUT: self._about,
            Action.QUIT: self._quit,
        }
        handlers[action]()

    def _show_history(self) -> None:
        # Drawn from the database on the UI thread: a few hundred rows, well under a second.
        from tray_app.history_chart import chart_input
        from tray_app.ui.chart import render_history_chart

        target = self._settings.paths.database.parent / "history.png"
        data = chart_input(self._store, self._monitor, self._console, datetime.now(UTC), _local_tz())
        try:
            render_history_chart(data, "24h").save(target)
        except OSError as exc:
            logger.warning("cannot write the history chart %s: %s", target, exc.strerror)
            return
        open_path(target)

    def _toggle_autostart(self) -> None:
        enabled = self._autostart.status().enabled
        done = self._autostart.disable() if enabled else self._autostart.enable()
        logger.info("%s", done)
        self._options = replace(self._options, autostart=self._autostart.status().enabled)
        if self._poller is not None:
            self._poller.repaint()

    def _toggle_web(self) -> None:
        if self._web_switch is None:
            return
        self._web_switch.set(not self._web_switch.enabled, datetime.now(UTC))
        self._options = replace(self._options, web_enabled=self._web_switch.enabled)
        if self._poller is not None:
            self._poller.refresh_now()

    def _open_settings(self) -> None:
        write_config_template(self._settings.paths.config_file)
        open_path(self._settings.paths.config_file)

    def _about(self) -> None:
        paths = self._settings.paths
        logger.info("about: version %s, data %s, settings %s", __version__, paths.database, paths.config_file)
        if self._notifier_send is not None:
            self._notifier_send(
                f"{APP_NAME} {__version__}", f"History: {paths.database}\nSettings: {paths.config_file}"
            )

    def _quit(self) -> None:
        if self._poller is not None:
            self._poller.stop()
        if self._tray is not None:
            self._tray.stop()
