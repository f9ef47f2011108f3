"""Builds the tray around a wired App: icon, notifier chain, notification queue, alert rules, poller."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Callable
from pathlib import Path

from tray_app.alerts import AlertCenter, NotificationSwitch
from tray_app.app import TrayApp, TrayView
from tray_app.clock import Clock
from tray_app.core.reports import TickResult
from tray_app.core.view import ViewOptions
from tray_app.core.viewmodel import Action, Badge, IconSpec, IconStyle, Level
from tray_app.details.launch import open_details
from tray_app.environment import Environment
from tray_app.monitors.feed import ClaudeCodeFeed
from tray_app.paths import APP_NAME
from tray_app.poller import Poller
from tray_app.statusline_install import install, setup_state
from tray_app.ui.delivery import NotificationQueue
from tray_app.ui.icon import ICON_SIZE_DEFAULT, ICON_SIZE_MACOS, IconRenderer, render_icon
from tray_app.ui.notify import FallbackNotifier, build_notifier, platform_family
from tray_app.ui.tray import Tray
from tray_app.wiring.app import App, autostart_for, poll_timing, sources_of

logger = logging.getLogger(__name__)

NOTIFICATION_ICON_NAME = "notification-icon.png"
# Windows balloons load only .ico files (a PNG gives the default icon); the sizes the shell picks from.
NOTIFICATION_ICON_NAME_WINDOWS = "notification-icon.ico"
_ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128)]
# What the notification icon shows: the gauge language of the tray icon, without a number.
_NOTIFICATION_ICON = IconSpec(None, 60.0, 30.0, Level.MEDIUM, Level.LOW, Badge.NONE, IconStyle.COLOR)


def tray_view(
    app: App,
    switch: NotificationSwitch,
    autostart: bool | None,
    clock: Clock,
    feed_installed: bool | None = None,
) -> TrayView:
    settings = app.settings
    options = ViewOptions(
        thresholds=settings.thresholds,
        style=settings.icon_style,
        notifications_on=switch.enabled,
        snoozed_until=switch.snoozed_until,
        web_enabled=app.web_switch.enabled,
        autostart=autostart,
        stale_after=poll_timing(app).stale_after,
        app_name=APP_NAME,
        feed_installed=feed_installed,
    )
    return TrayView(options, lambda: (settings.file_problem or "", app.store.problem or ""), clock)


def build_poller(
    app: App,
    clock: Clock,
    publish: Callable[[TickResult], None],
    view: TrayView | None = None,
    switch: NotificationSwitch | None = None,
) -> Poller:
    """The polling thread with its alert rules and view; publish receives every tick's result."""
    switch = switch or NotificationSwitch(app.store, clock.now)
    view = view or tray_view(app, switch, None, clock)
    alerts = AlertCenter(app.store, app.settings.notifications, switch, clock.now, clock.local_tz)
    sources = sources_of(app)
    # Claude Code's status-line readings matter only where its usage is shown (Code mode).
    feed = None if sources.code is None else ClaudeCodeFeed(app.store, clock.now)
    return Poller(sources, view.present, publish, poll_timing(app), alerts=alerts, clock=clock, feed=feed)


def build_tray_app(app: App, env: Environment, clock: Clock, icon_class: object = None) -> TrayApp:
    """Everything the tray needs, built once. icon_class replaces pystray's Icon (tests)."""
    settings, store = app.settings, app.store
    switch = NotificationSwitch(store, clock.now)
    autostart = autostart_for(env)
    # Only Code mode shows Claude Code's figures; reading its settings file once here is enough (the menu's
    # install says so afterwards, and once readings arrive the offer goes by itself).
    feed = setup_state(env).installed if app.monitor is not None else None
    view = tray_view(app, switch, autostart.status().enabled, clock, feed)
    sources = sources_of(app)
    renderer = IconRenderer(ICON_SIZE_MACOS if env.platform == "darwin" else ICON_SIZE_DEFAULT)
    wired: list[TrayApp] = []  # the app needs the tray, and the tray the app's menu actions

    def on_action(action: Action) -> None:
        if wired:
            wired[0].on_action(action)

    temp_dir = settings.paths.database.parent / "tray-tmp"
    tray = Tray(APP_NAME, view.present(sources.stored()), renderer, on_action, temp_dir, icon_class)
    notifications = NotificationQueue(notifier_chain(app, env, tray, temp_dir.parent).send)
    tray.on_alerts(notifications.submit)
    poller = build_poller(app, clock, tray.publish, view, switch)
    tray_app = TrayApp(
        settings,
        view,
        tray,
        poller,
        notifications,
        switch,
        app.web_switch,
        autostart,
        lambda: draw_history(app, clock),
        clock,
        lambda: install_feed(env),
        lambda: open_details(details_environment(app, env)),
    )
    wired.append(tray_app)
    return tray_app


def details_environment(app: App, env: Environment) -> Environment:
    """The details window sees what the tray sees: under --demo, the demo's folder and servers."""
    if not app.demo:
        return env
    from tray_app.demo_mode import demo_environment

    return dataclasses.replace(env, environ=demo_environment(env.environ, app.settings))


def install_feed(env: Environment) -> tuple[bool, str]:
    """The menu's `statusline --install`: whether it is in place afterwards, and what happened in words."""
    said, problems = io.StringIO(), io.StringIO()
    code = install(dataclasses.replace(env, stdout=said, stderr=problems))
    text = (said.getvalue() or problems.getvalue()).strip().removeprefix("claude-usage-tray: ")
    if code == 0:
        text += ". Claude Code sessions started from now on feed the tray."
    return code == 0, text


def notifier_chain(app: App, env: Environment, tray: Tray, folder: Path) -> FallbackNotifier:
    icon_path = write_notification_icon(folder, env.platform)
    settings = app.settings
    return build_notifier(
        settings.notifications.backend,
        platform=env.platform,
        app_name=APP_NAME,
        icon_path=icon_path,
        log_file=settings.paths.log_dir / "notifications.jsonl",
        tray_notify=tray.notify if tray.can_notify else None,
    )


def write_notification_icon(folder: Path, platform: str) -> Path | None:
    """The icon notifications show, written into `folder`: an .ico on Windows, a PNG elsewhere.

    None when it cannot be written (the notifications then show the default icon).
    """
    windows = platform_family(platform) == "win32"
    icon_path = folder / (NOTIFICATION_ICON_NAME_WINDOWS if windows else NOTIFICATION_ICON_NAME)
    image = render_icon(_NOTIFICATION_ICON, 128)
    try:
        if windows:
            image.save(icon_path, format="ICO", sizes=_ICO_SIZES)
        else:
            image.save(icon_path, format="PNG")
    except OSError as exc:
        logger.warning("cannot write the notification icon %s: %s", icon_path, exc.strerror)
    return icon_path if icon_path.exists() else None


def draw_history(app: App, clock: Clock) -> Path | None:
    """The 24-hour chart as a PNG beside the database (on the polling thread: it reads the history)."""
    from tray_app.history_chart import chart_input
    from tray_app.ui.chart import render_history_chart

    target = app.settings.paths.database.parent / "history.png"
    data = chart_input(app.store, app.monitor, app.console, clock.now(), clock.local_tz())
    try:
        render_history_chart(data, "24h").save(target)
    except OSError as exc:
        logger.warning("cannot write the history chart %s: %s", target, exc.strerror)
        return None
    return target
