"""Command line and composition root: the only place that builds adapters and wires them together."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from enum import IntEnum
from pathlib import Path

from tray_app import __version__
from tray_app.config import Settings, load_settings
from tray_app.console_monitor import ConsoleMonitor
from tray_app.core.errors import ConfigError, CredentialsError, UsageError
from tray_app.core.forecast import MIN_SPAN
from tray_app.core.history import history_csv, history_json
from tray_app.core.models import CodeStatus
from tray_app.core.parse import expires_soon
from tray_app.core.report import (
    format_age,
    format_duration,
    render_console_text,
    render_text,
    status_document,
)
from tray_app.core.timeparse import from_epoch, to_epoch
from tray_app.core.web_report import web_lines, web_report_json
from tray_app.instance import AlreadyRunning, InstanceLock
from tray_app.logsetup import configure_logging
from tray_app.poller import BACKOFF_SCOPE, SHARED_FRESHNESS, CodeMonitor, PollTiming, UsageSource
from tray_app.sources.admin_key import AdminKey, find_admin_key
from tray_app.sources.claude_web import ClaudeWebClient
from tray_app.sources.code_api import DEFAULT_CLAUDE_VERSION, CodeApi, TokenEndpoint, detect_claude_version
from tray_app.sources.console_api import ConsoleApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.sources.probe import probe_url
from tray_app.sources.web_api import CookieSearch, find_session_cookie
from tray_app.store import Store
from tray_app.ui.backend import detect_backend, select_backend
from tray_app.web_monitor import LastWebReport, SwitchedWeb, WebMonitor, WebSwitch, WebUsageMonitor

logger = logging.getLogger(__name__)


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    LOGIN_NEEDED = 3
    NETWORK = 4
    ALREADY_RUNNING = 5


EPILOG = """\
exit codes:
  0  ok
  1  unexpected failure (see the log file)
  2  usage or configuration error
  3  login needed (run `claude` to log in or refresh)
  4  network or server failure (figures shown, if any, are the last stored ones)
  5  `run`: another tray is already running

environment:
  CLAUDE_USAGE_TRAY_HOME       one folder for config.toml, the database and the logs
  CLAUDE_USAGE_TRAY_API_BASE   API base URL instead of https://api.anthropic.com
  CLAUDE_USAGE_TRAY_TOKEN_URL  OAuth token endpoint
  CLAUDE_CONFIG_DIR            Claude Code's own folder, as Claude Code reads it
"""

_STATUS_EXIT = {
    CodeStatus.OK: ExitCode.OK,
    CodeStatus.STALE: ExitCode.OK,
    CodeStatus.LOGIN_NEEDED: ExitCode.LOGIN_NEEDED,
    CodeStatus.RATE_LIMITED: ExitCode.NETWORK,
    CodeStatus.OFFLINE: ExitCode.NETWORK,
    CodeStatus.ERROR: ExitCode.NETWORK,
    CodeStatus.BLOCKED: ExitCode.NETWORK,
}
DEFAULT_DEMO_SPEED = 60.0
CLAUDE_VERSION_KEY = "claude_code.version"
CLAUDE_VERSION_MAX_AGE = timedelta(days=1)


def _common_options(top_level: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command. Only the top level sets their defaults,
    so `--demo status` and `status --demo` mean the same."""
    common = argparse.ArgumentParser(add_help=False)
    default = False if top_level else argparse.SUPPRESS
    common.add_argument(
        "--demo",
        action="store_true",
        default=default,
        help="use built-in simulated servers and a throw-away login",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log everything to stderr too"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(top_level=False)
    parser = argparse.ArgumentParser(
        prog="claude-usage-tray",
        description="Claude Code usage limits (and, later, API spend) from the server's own figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", parents=[common], help="the tray icon (the default command)")
    run.add_argument(
        "--demo-speed",
        type=_positive_speed,
        default=DEFAULT_DEMO_SPEED,
        help=f"with --demo: how much faster than real time the account moves ({DEFAULT_DEMO_SPEED:g})",
    )
    status = commands.add_parser("status", parents=[common], help="poll once now and print the figures")
    status.add_argument("--json", action="store_true", help="print the stable JSON document instead of text")
    status.add_argument("--offline", action="store_true", help="read only the database; no network")
    commands.add_parser(
        "doctor", parents=[common], help="show where everything comes from and what is reachable"
    )
    statusline = commands.add_parser(
        "statusline", help="one short line for Claude Code's status line, from the database only"
    )
    statusline.add_argument(
        "--format", dest="template", help="a template with {five_hour}, {weekly}, {mtd}, ..."
    )
    autostart = commands.add_parser("autostart", help="start the tray at login: on, off or status")
    autostart.add_argument("switch", choices=("on", "off", "status"))
    commands.add_parser("watch", parents=[common], help="a live terminal dashboard (needs the tui extra)")
    history = commands.add_parser("history", parents=[common], help="print the stored history, or draw it")
    history.add_argument(
        "--since", default="24h", type=_duration, help="how far back: 30m, 24h, 7d, 2w (default 24h)"
    )
    history.add_argument(
        "--format", dest="output", choices=("csv", "json"), default="csv", help="export format"
    )
    history.add_argument(
        "--chart", type=Path, metavar="OUT.png", help="draw the history chart to this PNG instead"
    )
    history.add_argument("--theme", choices=("light", "dark"), default="light", help="the chart's colours")
    return parser


_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(text: str) -> timedelta:
    number, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 24h, 7d or 2w")
    return timedelta(seconds=int(number) * _UNITS[unit])


def _positive_speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < speed <= 3600:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600, got {text}")
    return speed


def main(argv: Sequence[str] | None = None) -> int:
    # Everything we create (database, logs, refreshed credentials) is for the owner's eyes only.
    os.umask(0o077)
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "run"
    if command == "autostart":
        return _autostart(args.switch)
    if command == "statusline":
        from tray_app.statusline import main as statusline

        return statusline([] if args.template is None else ["--format", args.template])
    try:
        settings = _settings_for(command)
    except ConfigError as exc:
        print(f"claude-usage-tray: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    configure_logging(settings.paths.log_dir, args.verbose)
    if settings.file_problem:
        logger.warning("%s", settings.file_problem)
    for warning in settings.warnings:
        print(f"claude-usage-tray: warning: {warning}", file=sys.stderr)
    try:
        speed = getattr(args, "demo_speed", DEFAULT_DEMO_SPEED) if command == "run" else 1.0
        with _environment(settings, args.demo, speed) as app:
            code = _dispatch(command, app, args)
            if app.store.problem and command != "doctor":
                # The figures above are real; only their saving failed. Say so once, on stderr.
                print(f"claude-usage-tray: warning: {app.store.problem}", file=sys.stderr)
            return code
    except ConfigError as exc:
        print(f"claude-usage-tray: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return ExitCode.FAILURE
    except Exception:
        logger.exception("unexpected failure")
        print("claude-usage-tray: unexpected failure; details are in the log file", file=sys.stderr)
        return ExitCode.FAILURE


def _settings_for(command: str) -> Settings:
    """The settings; a broken settings file stops a command but not the tray, which says so in its menu."""
    try:
        return load_settings()
    except ConfigError as exc:
        if command != "run":
            raise
        settings = load_settings(read_file=False)  # the environment's own mistakes still stop it
        problem = f"{exc}; using the default settings"
        print(f"claude-usage-tray: warning: {problem}", file=sys.stderr)
        return replace(settings, file_problem=problem)


def _dispatch(command: str, app: App, args: argparse.Namespace) -> int:
    if command == "doctor":
        return _doctor(app)
    if command == "run":
        return _run(app)
    if command == "watch":
        return _watch(app)
    if command == "history":
        return _history(app, args.since, args.output, args.chart, args.theme)
    return _status(app, as_json=getattr(args, "json", False), offline=getattr(args, "offline", False))


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


@contextlib.contextmanager
def _environment(settings: Settings, demo: bool, demo_speed: float = 1.0) -> Iterator[App]:
    with contextlib.ExitStack() as stack:
        if demo:
            from tray_app.demo_mode import start_demo

            settings = stack.enter_context(start_demo(settings, demo_speed))
        store = Store.open(settings.paths.database, settings.retention_days)
        stack.callback(store.close)
        http = HttpClient(settings.http_timeout_seconds)
        stack.callback(http.close)
        credentials = ClaudeCredentialStore(settings.claude_config_dir)
        api = CodeApi(http, settings.api_base, _claude_version(store))
        token_endpoint = (
            TokenEndpoint(http, settings.token_url, __version__) if settings.token_refresh == "self" else None
        )
        # The demo compresses time; its forecasts need proportionally less history to say anything.
        min_span = MIN_SPAN / demo_speed if demo else MIN_SPAN
        # Sharing a very recent answer protects the real API; the demo server needs no such care.
        sharing = timedelta(0) if demo else SHARED_FRESHNESS
        monitor = CodeMonitor(
            store, credentials, api, token_endpoint, forecast_min_span=min_span, shared_freshness=sharing
        )
        # The demo must never pick up a real key from the environment.
        admin_key = find_admin_key(
            {} if demo else os.environ, settings.console.admin_api_key, settings.paths.credentials_file
        )
        console = None
        if admin_key is not None:
            console_api = ConsoleApi(http, settings.api_base, admin_key.value, __version__)

            def code_email() -> str | None:
                known = store.account()
                return None if known is None else known[1].email

            console = ConsoleMonitor(store, console_api, settings.console, code_email)
        logged_in = _logged_in(credentials)
        web_switch = WebSwitch(store, settings.web.enabled)
        web_monitor = _web_monitor(settings, store, http, fetch_usage=web_switch.enabled and not logged_in)
        code: UsageSource | None = monitor if console is None or logged_in else None
        web = SwitchedWeb(web_monitor, web_switch)
        if web_switch.enabled and not logged_in:
            # No Claude Code login here: claude.ai's own usage endpoint gives the same windows.
            code, web = (
                WebUsageMonitor(web_monitor, monitor),
                SwitchedWeb(LastWebReport(web_monitor), web_switch),
            )
        yield App(
            settings,
            store,
            credentials,
            http,
            code,
            api,
            demo,
            admin_key,
            console,
            web_switch,
            web_monitor,
            web,
        )


def _web_monitor(settings: Settings, store: Store, http: HttpClient, fetch_usage: bool) -> WebMonitor:
    web = settings.web

    def find_cookie() -> CookieSearch:
        return find_session_cookie(
            home=Path.home(),
            platform=sys.platform,
            browser=web.browser,
            profile=web.profile,
            cookie_file=web.cookie_file,
            manual_key=web.session_key,
            now=datetime.now(UTC),
        )

    def client_for(session_key: str) -> ClaudeWebClient:
        return ClaudeWebClient(http, settings.web_base, session_key, __version__)

    return WebMonitor(store, find_cookie, client_for, web.organization, fetch_usage=fetch_usage)


def _logged_in(credentials: ClaudeCredentialStore) -> bool:
    """Whether Code mode is set up here; without it and with an admin key, the app is Console-only."""
    try:
        credentials.load()
    except CredentialsError:
        return False
    return True


def _claude_version(store: Store) -> str:
    """Claude Code's version for the User-Agent, asked of `claude` at most once a day."""
    now = datetime.now(UTC)
    cached = store.get_value(CLAUDE_VERSION_KEY)
    if cached and "@" in cached:
        version, _, stamp = cached.partition("@")
        if stamp.isdigit() and now - from_epoch(int(stamp)) < CLAUDE_VERSION_MAX_AGE:
            return version
    version = detect_claude_version() or DEFAULT_CLAUDE_VERSION
    store.set_value(CLAUDE_VERSION_KEY, f"{version}@{to_epoch(now)}", now)
    return version


def _status(app: App, *, as_json: bool, offline: bool) -> int:
    stale_after = PollTiming(interval=float(app.settings.code_poll_seconds)).stale_after
    report = None
    if app.monitor is not None:
        report = app.monitor.stored_report(stale_after) if offline else app.monitor.poll()
    console = None
    if app.console is not None:
        console = app.console.stored_report() if offline else app.console.refresh()
    web = app.web.stored_report() if offline else app.web.refresh()
    now = datetime.now(UTC)
    if as_json:
        print(
            json.dumps(
                status_document(report, now, console, None if web is None else web_report_json(web)), indent=2
            )
        )
    else:
        if app.demo:
            print("Demo mode: simulated account and servers, nothing real is read or sent.\n")
        parts = [] if report is None else [render_text(report, now, _local_tz())]
        if web is not None:
            lines = web_lines(web, show_overage=report is None or report.extra_usage is None)
            if lines:
                source = f"claude.ai session ({web.browser})" if web.browser else "claude.ai session"
                parts.append("\n".join([source, *lines]) + "\n")
        if console is not None:
            parts.append(render_console_text(console, now, _local_tz()))
        print("\n".join(parts), end="")
    if offline:
        return ExitCode.OK
    codes = [_STATUS_EXIT[r.status] for r in (report, console) if r is not None]
    return next((code for code in codes if code != ExitCode.OK), ExitCode.OK)


def _history(app: App, since: timedelta, output: str, chart: Path | None, theme: str) -> int:
    now = datetime.now(UTC)
    start = now - since
    if chart is not None:
        return _chart(app, now, since, chart, theme)
    windows = app.store.window_rows(start)
    console = app.store.console_rows(start)
    if output == "json":
        print(json.dumps(history_json(windows, console, start), indent=2))
    else:
        print(history_csv(windows, console), end="")
    return ExitCode.OK


def _chart(app: App, now: datetime, since: timedelta, target: Path, theme: str) -> int:
    from tray_app.history_chart import chart_input
    from tray_app.ui.chart import render_history_chart

    span = "7d" if since > timedelta(days=1) else "24h"
    image = render_history_chart(
        chart_input(app.store, app.monitor, app.console, now, _local_tz()), span, theme
    )
    try:
        image.save(target)
    except OSError as exc:
        print(f"claude-usage-tray: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return ExitCode.USAGE
    print(target)
    return ExitCode.OK


def _autostart(switch: str) -> int:
    from tray_app.autostart import Autostart

    autostart = Autostart()
    if switch == "on":
        print(autostart.enable())
    elif switch == "off":
        print(autostart.disable())
    else:
        state = autostart.status()
        runs = f", runs {' '.join(state.command)}" if state.command else ""
        print(f"start at login: {'on' if state.enabled else 'off'} ({state.where}{runs})")
    return ExitCode.OK


def _watch(app: App) -> int:
    from tray_app.watch import WatchState, run_watch

    stale_after = PollTiming(interval=float(app.settings.code_poll_seconds)).stale_after

    def load() -> WatchState:
        return WatchState(
            None if app.monitor is None else app.monitor.stored_report(stale_after),
            None if app.console is None else app.console.stored_report(),
            app.web.stored_report(),
        )

    def poll() -> WatchState:
        return WatchState(
            None if app.monitor is None else app.monitor.poll(),
            None if app.console is None else app.console.refresh(),
            app.web.refresh(),
        )

    seen = [app.store.data_version()]

    def changed() -> bool:
        version = app.store.data_version()
        if version == seen[0]:
            return False
        seen[0] = version
        return True

    # A running tray already polls and writes the database: then the dashboard only reads it.
    lock = InstanceLock(app.settings.paths.database.parent)
    try:
        lock.acquire()
    except AlreadyRunning:
        tray_running = True
    else:
        tray_running = False
        lock.release()
    return run_watch(
        load,
        changed,
        None if tray_running else poll,
        poll_every=app.settings.code_poll_seconds,
        thresholds=app.settings.thresholds,
    )


def _run(app: App) -> int:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        print(
            "claude-usage-tray: no graphical session (DISPLAY is not set); use `claude-usage-tray status`",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    choice = select_backend()
    if choice.warning:
        logger.warning("%s", choice.warning)
        print(f"claude-usage-tray: warning: {choice.warning}", file=sys.stderr)
    lock = InstanceLock(app.settings.paths.database.parent)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"claude-usage-tray: {exc}; nothing to do", file=sys.stderr)
        return ExitCode.ALREADY_RUNNING
    try:
        from tray_app.app import TrayApp

        temp_dir = app.settings.paths.database.parent / "tray-tmp"
        tray_app = TrayApp(
            app.settings, app.store, app.monitor, temp_dir, app.console, app.web, app.web_switch
        )
        try:
            return tray_app.run()
        except Exception as exc:
            # Most often a display that went away or a broken GTK install; the log has the traceback.
            logger.exception("the tray could not run")
            print(
                f"claude-usage-tray: cannot show the tray icon ({type(exc).__name__}); see the log",
                file=sys.stderr,
            )
            return ExitCode.FAILURE
    finally:
        lock.release()


def _local_tz() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


def _doctor(app: App) -> int:
    settings = app.settings
    lines = [f"claude-usage-tray {__version__}{' (demo mode)' if app.demo else ''}"]
    config = settings.paths.config_file
    lines.append(
        f"Config file:   {config} ({'present' if config.exists() else 'not present; defaults in use'})"
    )
    lines += [f"  warning: {w}" for w in settings.warnings]
    newest = app.store.latest_window_time()
    age = "no snapshots yet" if newest is None else f"newest {format_age(datetime.now(UTC) - newest)}"
    lines.append(f"Database:      {settings.paths.database} ({app.store.snapshot_count()} snapshots, {age})")
    if app.store.problem:
        lines.append(f"  problem: {app.store.problem}")
    lines.append(f"Logs:          {settings.paths.log_dir}")
    exit_code, creds_lines = _doctor_credentials(app)
    lines += creds_lines
    refresh = (
        "self (opt-in: this app refreshes the login and writes it back)"
        if settings.token_refresh == "self"
        else "off (read-only: Claude Code refreshes its own login)"
    )
    lines.append(f"Token refresh: {refresh}")
    backoff = app.store.get_backoff(BACKOFF_SCOPE)
    now = datetime.now(UTC)
    if backoff is not None and backoff.until > now:
        lines.append(f"Back-off:      {backoff.reason}; until {backoff.until:%H:%M:%S} UTC")
    lines.append(f"User-Agent:    {app.api.user_agent}")
    lines += _doctor_console(app)
    lines += _doctor_web(app)
    backend = detect_backend(dict(os.environ))
    lines.append(
        f"Tray backend:  {backend.name}" + (f" — warning: {backend.warning}" if backend.warning else "")
    )
    for label, url in (("API", settings.api_base), ("Token URL", settings.token_url)):
        result = probe_url(url, timeout=5.0)
        lines.append(f"{label + ':':<14} {url} — {result.description}")
        if not result.reachable and exit_code == ExitCode.OK:
            exit_code = ExitCode.NETWORK
    print("\n".join(lines))
    return exit_code


def _doctor_web(app: App) -> list[str]:
    if not app.web_switch.enabled:
        return ["claude.ai:     off (opt in with web.enabled = true, or from the menu)"]
    search = app.web_monitor.search_cookie()
    found = search.found
    if found is None:
        lines = ["claude.ai:     on, but no claude.ai session cookie was found"]
    else:
        where = f" ({found.profile})" if found.profile else ""
        lines = [f"claude.ai:     on; session cookie found in {found.browser}{where}"]
    return lines + [f"  {problem}" for problem in search.problems]


def _doctor_console(app: App) -> list[str]:
    key = app.admin_key
    if key is None:
        return [
            "Console mode:  off (set ANTHROPIC_ADMIN_API_KEY to an Admin API key to see organization spend)"
        ]
    lines = [f"Console mode:  on, Admin API key from the {key.source}"]
    if key.warning:
        lines.append(f"  warning: {key.warning}")
    email = app.console.my_email if app.console is not None else None
    lines.append(f"Your email:    {email or 'unknown (set console.user_email for your Claude Code cost)'}")
    modes = ["Code"] if app.monitor is not None else []
    lines.append("Mode:          " + " + ".join([*modes, "Console"]))
    return lines


def _doctor_credentials(app: App) -> tuple[ExitCode, list[str]]:
    try:
        loaded = app.credentials.load()
    except CredentialsError as exc:
        return ExitCode.LOGIN_NEEDED, [f"Credentials:   none usable — {exc}"]
    creds = loaded.credentials
    now = datetime.now(UTC)
    if creds.expires_at is None:
        expiry = "expiry unknown"
    elif expires_soon(creds, now, timedelta(0)):
        expiry = f"EXPIRED {format_age(now - creds.expires_at)}: run `claude` to refresh"
    else:
        expiry = f"expires in {format_duration(creds.expires_at - now)}"
    if creds.scopes is None:
        scopes = "scopes not listed"
    elif "user:profile" in creds.scopes:
        scopes = "has user:profile"
    else:
        scopes = "LACKS user:profile: log in again with `claude`"
    lines = [f"Credentials:   {loaded.source} {loaded.location} — {expiry}; {scopes}"]
    known = app.store.account()
    account = None if known is None else known[1]
    if account is None:
        try:
            account = app.api.profile(creds.access_token)
        except UsageError as exc:
            lines.append(f"Account:       not known yet ({exc})")
    if account is not None:
        lines.append(f"Account:       {account.email or 'email unknown'} · {account.plan or 'plan unknown'}")
    healthy = creds.scopes is None or "user:profile" in creds.scopes
    return (ExitCode.OK if healthy and "EXPIRED" not in expiry else ExitCode.LOGIN_NEEDED), lines


if __name__ == "__main__":
    sys.exit(main())
