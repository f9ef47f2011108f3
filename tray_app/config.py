"""Settings: defaults, the TOML file in the platform config folder, and environment overrides."""

from __future__ import annotations

import ipaddress
import logging
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tray_app.alert_settings import NotificationSettings, parse_notification_settings
from tray_app.core.errors import ConfigError
from tray_app.core.viewmodel import IconStyle
from tray_app.paths import Paths, default_paths

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.anthropic.com"
DEFAULT_TOKEN_URL = "https://platform.claude.com/v1/oauth/token"
DEFAULT_WEB_BASE = "https://claude.ai"
ENV_WEB_BASE = "CLAUDE_USAGE_TRAY_WEB_BASE"
ENV_API_BASE = "CLAUDE_USAGE_TRAY_API_BASE"
ENV_TOKEN_URL = "CLAUDE_USAGE_TRAY_TOKEN_URL"
ENV_CLAUDE_CONFIG_DIR = "CLAUDE_CONFIG_DIR"


@dataclass(frozen=True)
class ConsoleSettings:
    """The [console] table: Console mode (organization spend through the Admin API)."""

    admin_api_key: str | None = field(default=None, repr=False)
    user_email: str | None = None
    budget: Decimal | None = None
    workspace_budgets: Mapping[str, Decimal] = field(default_factory=dict)
    api_key_budgets: Mapping[str, Decimal] = field(default_factory=dict)  # by API key name or id
    poll_seconds: float = 120.0


WEB_BROWSERS = ("auto", "firefox", "chrome", "chromium", "brave", "edge")


@dataclass(frozen=True)
class WebSettings:
    """The [web] table: the opt-in claude.ai browser session."""

    enabled: bool = False
    browser: str = "auto"
    profile: Path | None = None
    cookie_file: Path | None = None
    session_key: str | None = field(default=None, repr=False)
    organization: str | None = None


@dataclass(frozen=True)
class Settings:
    """Every setting with its default; built only by load_settings (or tests)."""

    paths: Paths
    code_poll_seconds: float = 180.0
    retention_days: int = 7
    token_refresh: str = "off"
    http_timeout_seconds: float = 15.0
    api_base: str = DEFAULT_API_BASE
    token_url: str = DEFAULT_TOKEN_URL
    claude_config_dir: Path | None = None
    thresholds: tuple[float, float, float] = (50.0, 75.0, 90.0)
    icon_style: IconStyle = IconStyle.COLOR
    # The details window's colours: "auto" follows the desktop where it can be read, else light.
    details_theme: str = "auto"
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    web: WebSettings = field(default_factory=WebSettings)
    web_base: str = DEFAULT_WEB_BASE
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # Set when the settings file was refused and the tray started on defaults instead; shown in the menu.
    file_problem: str | None = field(default=None, compare=False)


def _integer(low: int, high: int) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"a whole number from {low} to {high}"

    return check


def _seconds(low: float, high: float) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"a number of seconds from {low:g} to {high:g}"

    return check


def _choice(*options: str) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        return None if value in options else "one of " + ", ".join(f'"{o}"' for o in options)

    return check


def _thresholds(value: object) -> str | None:
    ok = (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, int | float) and not isinstance(v, bool) and 1 <= v <= 100 for v in value)
        and value[0] < value[1] < value[2]
    )
    return None if ok else "three increasing percentages from 1 to 100, like [50, 75, 90]"


def _url(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "a URL string"


# The usage endpoint throttles per token (one project saw 15 of 17 one-minute polls refused, and
# Retry-After as long as an hour): no setting may ask it more often than this.
CODE_POLL_FLOOR = 60

# key -> what a valid value is.
_KEYS: dict[str, Callable[[object], str | None]] = {
    "code_poll_seconds": _integer(CODE_POLL_FLOOR, 3600),
    "retention_days": _integer(1, 3650),
    "token_refresh": _choice("off", "self"),
    "http_timeout_seconds": _seconds(1, 120),
    "api_base": _url,
    "token_url": _url,
    "web_base": _url,
    "thresholds": _thresholds,
    "icon_style": _choice(*(style.value for style in IconStyle)),
    "details_theme": _choice("auto", "light", "dark"),
}


def _web_settings(table: object, path: Path) -> WebSettings:
    """The [web] table; a wrong value is a one-line ConfigError naming the key (never a session key)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: web must be a table")
    unknown = sorted(
        set(table) - {"enabled", "browser", "profile", "cookie_file", "session_key", "organization"}
    )
    if unknown:
        raise ConfigError(f"{path}: unknown setting web.{unknown[0]}")
    enabled = table.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{path}: web.enabled must be true or false (got {enabled!r})")
    browser = table.get("browser", "auto")
    if browser not in WEB_BROWSERS:
        raise ConfigError(f"{path}: web.browser must be one of " + ", ".join(f'"{b}"' for b in WEB_BROWSERS))
    texts = {}
    for key in ("profile", "cookie_file", "session_key", "organization"):
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{path}: web.{key} must be a text value")
        texts[key] = value.strip() if isinstance(value, str) else None
    if texts["session_key"] is not None and not texts["session_key"].startswith("sk-ant-"):
        raise ConfigError(f"{path}: web.session_key is not a claude.ai session key (they start with sk-ant-)")
    return WebSettings(
        enabled=enabled,
        browser=str(browser),
        profile=Path(texts["profile"]).expanduser() if texts["profile"] else None,
        cookie_file=Path(texts["cookie_file"]).expanduser() if texts["cookie_file"] else None,
        session_key=texts["session_key"],
        organization=texts["organization"],
    )


def _money(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return Decimal(str(value))


def _console_settings(table: object, path: Path) -> ConsoleSettings:
    """The [console] table; a wrong value is a one-line ConfigError naming the key (never the key's value)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: console must be a table")
    known = {"admin_api_key", "user_email", "budget", "workspace_budgets", "api_key_budgets", "poll_seconds"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting console.{unknown[0]}")
    key = table.get("admin_api_key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise ConfigError(f"{path}: console.admin_api_key must be a text value")
    email = table.get("user_email")
    if email is not None and (not isinstance(email, str) or "@" not in email):
        raise ConfigError(f"{path}: console.user_email must be an email address (got {email!r})")
    budget = None
    if "budget" in table:
        budget = _money(table["budget"])
        if budget is None:
            raise ConfigError(f"{path}: console.budget must be a positive amount (got {table['budget']!r})")
    budgets = table.get("workspace_budgets", {})
    if not isinstance(budgets, Mapping) or any(_money(v) is None for v in budgets.values()):
        raise ConfigError(
            f"{path}: console.workspace_budgets must map workspace names or ids to positive amounts"
        )
    key_budgets = table.get("api_key_budgets", {})
    if not isinstance(key_budgets, Mapping) or any(_money(v) is None for v in key_budgets.values()):
        raise ConfigError(
            f"{path}: console.api_key_budgets must map API key names or ids to positive amounts"
        )
    poll = table.get("poll_seconds", 120)
    if isinstance(poll, bool) or not isinstance(poll, int) or not 60 <= poll <= 3600:
        raise ConfigError(
            f"{path}: console.poll_seconds must be a whole number from 60 to 3600 (got {poll!r})"
        )
    return ConsoleSettings(
        admin_api_key=key.strip() if key else None,
        user_email=email,
        budget=budget,
        workspace_budgets={str(name): Decimal(str(amount)) for name, amount in budgets.items()},
        api_key_budgets={str(name): Decimal(str(amount)) for name, amount in key_budgets.items()},
        poll_seconds=float(poll),
    )


def check_base_url(url: str, key: str) -> str:
    """Refuse anything but https, except plain http to a loopback host (tests, the demo)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.strip().rstrip("/")
    if parts.scheme == "http" and _is_loopback(host):
        return url.strip().rstrip("/")
    raise ConfigError(f"{key}: {url!r} is not an https URL (plain http is allowed only to localhost)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def _validated(document: Mapping[str, Any], path: Path) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in document.items():
        if key == "web":
            values[key] = _web_settings(value, path)
            continue
        if key == "console":
            values[key] = _console_settings(value, path)
            continue
        if key == "notifications":
            values[key], table_warnings = parse_notification_settings(value, path)
            warnings += table_warnings
            continue
        check = _KEYS.get(key)
        if check is None:
            warnings.append(f"{path}: unknown setting {key!r} ignored")
            continue
        expected = check(value)
        if expected is not None:
            raise ConfigError(f"{path}: {key} must be {expected} (got {value!r})")
        values[key] = value
    return values, warnings


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    *,
    read_file: bool = True,
    home: Path | None = None,
) -> Settings:
    """Defaults, then the config file, then the environment. Raises ConfigError with one clear line.

    read_file=False skips the file: the tray's way of starting on defaults when the file is broken.
    """
    env = os.environ if environ is None else environ
    paths = default_paths(env, home)
    if config_file is not None:
        paths = Paths(config_file, paths.database, paths.log_dir)
    document = _read_file(paths.config_file) if read_file else {}
    values, warnings = _validated(document, paths.config_file)
    for warning in warnings:
        logger.warning("%s", warning)
    # Each source is checked on its own, so a bad URL in the file is reported even when the
    # environment overrides it.
    for key, env_name, default in (
        ("api_base", ENV_API_BASE, DEFAULT_API_BASE),
        ("token_url", ENV_TOKEN_URL, DEFAULT_TOKEN_URL),
        ("web_base", ENV_WEB_BASE, DEFAULT_WEB_BASE),
    ):
        if key in values:
            values[key] = check_base_url(values[key], f"{paths.config_file}: {key}")
        if env.get(env_name):
            values[key] = check_base_url(env[env_name], env_name)
        values.setdefault(key, default)
    if "thresholds" in values:
        values["thresholds"] = tuple(float(v) for v in values["thresholds"])
    if "icon_style" in values:
        values["icon_style"] = IconStyle(values["icon_style"])
    claude_dir = env.get(ENV_CLAUDE_CONFIG_DIR)
    return Settings(
        paths=paths,
        claude_config_dir=Path(claude_dir).expanduser() if claude_dir else None,
        warnings=tuple(warnings),
        **values,
    )


def describe_settings() -> str:
    """The keys the config file accepts, for --help and the README."""
    return ", ".join(sorted(_KEYS))


_TEMPLATE = """\
# claude-usage-tray settings. Every key is optional; remove the leading '#' to change one.
# Docs: the README's "Configuration" section.

# How often the tray asks for usage, in seconds (60-3600). It slows down by itself while idle.
# code_poll_seconds = 180

# Icon colours change at these percentages of a limit.
# thresholds = [50, 75, 90]

# "color", "mono-dark" (black: light panels, and macOS template) or "mono-light" (white: dark panels).
# icon_style = "color"

# The details window: "auto" (follow the desktop's light or dark mode), "light" or "dark".
# details_theme = "auto"

# Days of history to keep.
# retention_days = 7

# "self" lets this app refresh Claude Code's login and write it back (off: read-only).
# token_refresh = "off"

# Desktop notifications (all optional; see the README's "Notifications").
# [notifications]
# thresholds = [50, 75, 90, 100]
# pace = true
# reset = true
# failures_after = 3
# extra_usage_amounts = []
# quiet_hours = ["22:00", "07:00"]
# backend = "auto"
"""


def write_config_template(path: Path) -> bool:
    """Create a commented config file if there is none; True when one was written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(_TEMPLATE)
    return True
