"""The Anthropic Admin API key for Console mode: environment, config file, or our credentials file."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tray_app.core.errors import ConfigError

ENV_ADMIN_KEY = "ANTHROPIC_ADMIN_API_KEY"
KEY_PREFIX = "sk-ant-admin"
_HOW = "create one in the Claude Console under Settings → Admin keys"


@dataclass(frozen=True)
class AdminKey:
    """The key (never printed: excluded from repr), where it came from, and any warning about it."""

    value: str = field(repr=False)
    source: str
    warning: str | None = None


def _checked(value: str, source: str, warning: str | None = None) -> AdminKey:
    value = value.strip()
    if not value.startswith(KEY_PREFIX):
        # Say what is wrong without repeating any of the value.
        raise ConfigError(f"{source}: not an Admin API key (it must start with {KEY_PREFIX}); {_HOW}")
    return AdminKey(value, source, warning)


def _from_file(path: Path) -> AdminKey | None:
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        document = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{path}: not valid JSON") from None
    console = document.get("anthropicConsole") if isinstance(document, Mapping) else None
    value = console.get("adminApiKey") if isinstance(console, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        return None
    warning = None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        shown = f"{stat.S_IMODE(mode):04o}"
        warning = f"{path} holds an Admin API key but others may read it (mode {shown}): chmod 600 it"
    return _checked(value, f"credentials file {path}", warning)


def find_admin_key(
    environ: Mapping[str, str], config_value: str | None, credentials_file: Path
) -> AdminKey | None:
    """The first key found: ANTHROPIC_ADMIN_API_KEY, then the config file, then the credentials file."""
    if environ.get(ENV_ADMIN_KEY, "").strip():
        return _checked(environ[ENV_ADMIN_KEY], f"environment variable {ENV_ADMIN_KEY}")
    if config_value:
        return _checked(config_value, "config file (console.admin_api_key)")
    return _from_file(credentials_file)
