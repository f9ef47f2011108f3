"""The program for one command: settings, store, HTTP client, credentials and the three monitors."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from tray_app import __version__
from tray_app.autostart import Autostart
from tray_app.clock import Clock
from tray_app.config import Settings, load_settings
from tray_app.core.errors import ConfigError, CredentialsError
from tray_app.core.forecast import MIN_SPAN
from tray_app.core.state import ClaudeVersion
from tray_app.environment import Environment
from tray_app.monitors.code import SHARED_FRESHNESS, CodeMonitor
from tray_app.monitors.console import ConsoleMonitor
from tray_app.monitors.web import LastWebReport, SwitchedWeb, WebMonitor, WebSwitch, WebUsageMonitor
from tray_app.poller import PollTiming, Sources, UsageSource
from tray_app.sources.admin_key import AdminKey, find_admin_key
from tray_app.sources.claude_web import ClaudeWebClient
from tray_app.sources.code_api import DEFAULT_CLAUDE_VERSION, CodeApi, TokenEndpoint, detect_claude_version
from tray_app.sources.console_analytics import AnalyticsApi
from tray_app.sources.console_api import ConsoleApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import Store
from tray_app.ui.backend import ENV_BACKEND, BackendChoice, detect_backend

if TYPE_CHECKING:
    from tray_app.sources.browser_cookies import CookieSearch

CLAUDE_VERSION_MAX_AGE = timedelta(days=1)


@dataclass
class App:
    """The wired-up program for one command."""

    settings: Settings
    store: Store
    credentials: ClaudeCredentialStore
    http: HttpClient
    monitor: UsageSource | None  # None: Console mode only; WebUsageMonitor: claude.ai stands in
    api: CodeApi
    demo: bool
    admin_key: AdminKey | None
    console: ConsoleMonitor | None
    web_switch: WebSwitch
    web_monitor: WebMonitor
    web: SwitchedWeb
    demo_speed: float = 1.0  # the demo's compression of time; 1 for the real servers


def settings_for(command: str, env: Environment) -> Settings:
    """The settings; a broken settings file stops a command but not the tray, which says so in its menu.

    For `run`, a refused file gives the defaults with `file_problem` set; the caller tells the user.
    """
    try:
        return load_settings(env.environ, home=env.home)
    except ConfigError as exc:
        if command != "run":
            raise
        # The environment's own mistakes still stop it: only the file is skipped.
        settings = load_settings(env.environ, read_file=False, home=env.home)
        return replace(settings, file_problem=f"{exc}; using the default settings")


@contextlib.contextmanager
def open_app(
    settings: Settings, env: Environment, clock: Clock, *, demo: bool = False, demo_speed: float = 1.0
) -> Iterator[App]:
    """Everything a command needs, built once; the store, HTTP client and demo servers close on exit.

    demo: simulated servers and a throw-away login instead of the real ones, `demo_speed` times faster.
    """
    with contextlib.ExitStack() as stack:
        if demo:
            from tray_app.demo_mode import start_demo

            settings = stack.enter_context(start_demo(settings, demo_speed))
        store = Store.open(settings.paths.database, settings.retention_days)
        stack.callback(store.close)
        http = HttpClient(settings.http_timeout_seconds, clock=clock.now)
        stack.callback(http.close)
        credentials = ClaudeCredentialStore(
            settings.claude_config_dir, platform=env.platform, environ=env.environ, home=env.home
        )
        api = CodeApi(http, settings.api_base, _claude_version(store, clock))
        code = _code_monitor(settings, store, credentials, http, api, clock, demo_speed if demo else None)
        # The demo must never pick up a real key from the environment.
        admin_key = find_admin_key(
            {} if demo else env.environ, settings.console.admin_api_key, settings.paths.credentials_file
        )
        console = None if admin_key is None else _console_monitor(settings, store, http, admin_key, clock)
        logged_in = _logged_in(credentials)
        web_switch = WebSwitch(store, settings.web.enabled)
        fetch_web_usage = web_switch.enabled and not logged_in
        web_monitor = _web_monitor(settings, store, http, env, clock, fetch_usage=fetch_web_usage)
        monitor: UsageSource | None = code if console is None or logged_in else None
        web = SwitchedWeb(web_monitor, web_switch)
        if fetch_web_usage:
            # No Claude Code login here: claude.ai's own usage endpoint gives the same windows.
            monitor = WebUsageMonitor(web_monitor, code)
            web = SwitchedWeb(LastWebReport(web_monitor), web_switch)
        yield App(
            settings,
            store,
            credentials,
            http,
            monitor,
            api,
            demo,
            admin_key,
            console,
            web_switch,
            web_monitor,
            web,
            demo_speed if demo else 1.0,
        )


def poll_timing(app: App) -> PollTiming:
    """How often the poller asks each source, from the settings."""
    interval = float(app.settings.code_poll_seconds)
    return PollTiming(
        interval=interval,
        console_interval=app.settings.console.poll_seconds,
        # The demo's simulated Claude Code session feeds it in compressed time: so must the pace it sets.
        fed_interval=max(interval, PollTiming.fed_interval / app.demo_speed),
    )


def sources_of(app: App) -> Sources:
    """The sources the poller, `status` and `watch` ask."""
    return Sources(app.monitor, app.console, app.web)


def autostart_for(env: Environment) -> Autostart:
    """Start-at-login for this platform and home folder."""
    return Autostart(env.platform, env.home)


def pin_tray_backend(env: Environment) -> BackendChoice:
    """The tray backend for this desktop, pinned before pystray is imported (its import can crash otherwise).

    pystray reads the process's own variables when it is imported, so the choice is written there.
    """
    choice = detect_backend(env.environ, env.platform)
    os.environ[ENV_BACKEND] = choice.name
    return choice


def _code_monitor(
    settings: Settings,
    store: Store,
    credentials: ClaudeCredentialStore,
    http: HttpClient,
    api: CodeApi,
    clock: Clock,
    demo_speed: float | None,
) -> CodeMonitor:
    """demo_speed: None for the real servers; the demo's factor otherwise."""
    token_endpoint = (
        TokenEndpoint(http, settings.token_url, __version__) if settings.token_refresh == "self" else None
    )
    # The demo compresses time; its forecasts need proportionally less history to say anything.
    min_span = MIN_SPAN if demo_speed is None else MIN_SPAN / demo_speed
    # Sharing a very recent answer protects the real API; the demo server needs no such care.
    sharing = SHARED_FRESHNESS if demo_speed is None else timedelta(0)
    return CodeMonitor(
        store,
        credentials,
        api,
        token_endpoint,
        clock=clock.now,
        forecast_min_span=min_span,
        shared_freshness=sharing,
        local_tz=clock.local_tz,
        ask_reset_grants=True,
    )


def _console_monitor(
    settings: Settings, store: Store, http: HttpClient, admin_key: AdminKey, clock: Clock
) -> ConsoleMonitor:
    console_api = ConsoleApi(http, settings.api_base, admin_key.value, __version__)
    analytics = AnalyticsApi(http, settings.api_base, admin_key.value, __version__)

    def code_email() -> str | None:
        known = store.account()
        return None if known is None else known[1].email

    return ConsoleMonitor(
        store, console_api, settings.console, code_email, clock=clock.now, analytics=analytics
    )


def _web_monitor(
    settings: Settings, store: Store, http: HttpClient, env: Environment, clock: Clock, *, fetch_usage: bool
) -> WebMonitor:
    web = settings.web

    def find_cookie() -> CookieSearch:
        # Imported here: with the claude.ai session off nothing searches, and the module (with its
        # browser profile and configparser code) stays out of the tray's memory.
        from tray_app.sources.browser_cookies import find_session_cookie

        return find_session_cookie(
            home=env.home,
            platform=env.platform,
            browser=web.browser,
            profile=web.profile,
            cookie_file=web.cookie_file,
            manual_key=web.session_key,
            now=clock.now(),
            environ=env.environ,
        )

    def client_for(session_key: str) -> ClaudeWebClient:
        return ClaudeWebClient(http, settings.web_base, session_key, __version__)

    return WebMonitor(
        store, find_cookie, client_for, web.organization, fetch_usage=fetch_usage, clock=clock.now
    )


def _logged_in(credentials: ClaudeCredentialStore) -> bool:
    """Whether Code mode is set up here; without it and with an admin key, the app is Console-only."""
    try:
        credentials.load()
    except CredentialsError:
        return False
    return True


def _claude_version(store: Store, clock: Clock) -> str:
    """Claude Code's version for the User-Agent, asked of `claude` at most once a day."""
    now = clock.now()
    cached = store.code_cache.claude_version()
    if cached is not None and now - cached.checked_at < CLAUDE_VERSION_MAX_AGE:
        return cached.version
    version = detect_claude_version() or DEFAULT_CLAUDE_VERSION
    store.code_cache.set_claude_version(ClaudeVersion(version, now), now)
    return version
