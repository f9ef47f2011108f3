"""`doctor`: where everything comes from, and what is reachable from here."""

from __future__ import annotations

from datetime import datetime, timedelta

from tray_app import __version__
from tray_app.clock import Clock
from tray_app.commands import ExitCode
from tray_app.core.errors import CredentialsError, UsageError
from tray_app.core.parse import expires_soon
from tray_app.core.report import format_age, format_duration, format_percent
from tray_app.environment import Environment
from tray_app.sources.probe import probe_url
from tray_app.store import BackoffScope
from tray_app.ui.backend import detect_backend
from tray_app.wiring.app import App


def run(app: App, env: Environment, clock: Clock) -> ExitCode:
    settings = app.settings
    now = clock.now()
    lines = [f"claude-usage-tray {__version__}{' (demo mode)' if app.demo else ''}"]
    lines += _files(app, now)
    exit_code, creds_lines = _credentials(app, now)
    lines += creds_lines
    lines += _feed(app, env, now)
    refresh = (
        "self (opt-in: this app refreshes the login and writes it back)"
        if settings.token_refresh == "self"
        else "off (read-only: Claude Code refreshes its own login)"
    )
    lines.append(f"Token refresh: {refresh}")
    backoff = app.store.backoffs.get(BackoffScope.CODE)
    if backoff is not None and backoff.until > now:
        lines.append(f"Back-off:      {backoff.reason}; until {backoff.until:%H:%M:%S} UTC")
    lines.append(f"User-Agent:    {app.api.user_agent}")
    lines += _console(app)
    lines += _web(app)
    backend = detect_backend(env.environ, env.platform)
    warning = f" — warning: {backend.warning}" if backend.warning else ""
    lines.append(f"Tray backend:  {backend.name}{warning}")
    for label, url in (("API", settings.api_base), ("Token URL", settings.token_url)):
        result = probe_url(url, timeout=5.0)
        lines.append(f"{label + ':':<14} {url} — {result.description}")
        if not result.reachable and exit_code == ExitCode.OK:
            exit_code = ExitCode.NETWORK
    print("\n".join(lines), file=env.stdout)
    return exit_code


def _files(app: App, now: datetime) -> list[str]:
    settings = app.settings
    config = settings.paths.config_file
    presence = "present" if config.exists() else "not present; defaults in use"
    lines = [f"Config file:   {config} ({presence})"]
    lines += [f"  warning: {w}" for w in settings.warnings]
    newest = app.store.latest_window_time()
    age = "no snapshots yet" if newest is None else f"newest {format_age(now - newest)}"
    lines.append(f"Database:      {settings.paths.database} ({app.store.snapshot_count()} snapshots, {age})")
    if app.store.problem:
        lines.append(f"  problem: {app.store.problem}")
    lines.append(f"Logs:          {settings.paths.log_dir}")
    return lines


def _feed(app: App, env: Environment, now: datetime) -> list[str]:
    """Whether Claude Code feeds us its figures: our status line in its settings, and the last reading."""
    from tray_app.statusline_install import setup_state

    setup = setup_state(env)
    if setup.problem is not None:
        lines = [f"Status line:   cannot read {setup.path}: {setup.problem}"]
    elif setup.installed:
        wraps = "; your own status line runs inside ours" if setup.wraps else ""
        lines = [f"Status line:   installed in {setup.path}{wraps}"]
    else:
        lines = [
            f"Status line:   not installed in {setup.path}: `claude-usage-tray statusline --install` adds it"
        ]
    fed = app.store.readings.fed()
    if not fed:
        lines.append("  no reading from Claude Code yet (it sends figures once a session has had an answer)")
        return lines
    heard = max(reading.observed_at for reading in fed)
    figures = ", ".join(f"{r.window.label} {format_percent(r.window.utilization)}" for r in fed)
    lines.append(f"  last reading from Claude Code {format_age(now - heard)}: {figures}")
    return lines


def _web(app: App) -> list[str]:
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


def _console(app: App) -> list[str]:
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
    if app.console is not None:
        lines.append(f"Spend from:    {app.console.source_state()}")
    modes = ["Code"] if app.monitor is not None else []
    lines.append("Mode:          " + " + ".join([*modes, "Console"]))
    return lines


def _credentials(app: App, now: datetime) -> tuple[ExitCode, list[str]]:
    try:
        loaded = app.credentials.load()
    except CredentialsError as exc:
        return ExitCode.LOGIN_NEEDED, [f"Credentials:   none usable — {exc}"]
    creds = loaded.credentials
    if creds.expires_at is None:
        expiry = "expiry unknown"
    elif expires_soon(creds, now, timedelta(0)):
        expiry = f"EXPIRED {format_age(now - creds.expires_at)}: run `claude auth login`"
    else:
        expiry = f"expires in {format_duration(creds.expires_at - now)}"
    if creds.scopes is None:
        scopes = "scopes not listed"
    elif "user:profile" in creds.scopes:
        scopes = "has user:profile"
    else:
        scopes = "LACKS user:profile: run `claude auth login`"
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
