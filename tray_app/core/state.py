"""Small values every process shares through the database: refused credentials and slow caches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only named here: the statusline reads the store and should not pay for the Console models.
    from tray_app.core.console import Organization, Workspace
    from tray_app.core.web import Overage, Prepaid


@dataclass(frozen=True)
class Refusal:
    """A credential a server refused, known by a one-way fingerprint so no process sends it again."""

    fingerprint: str
    reason: str = ""  # the AuthKind value of a Claude Code token, the error of an Admin API key
    at: datetime | None = None  # set for refusals that wear off (the Admin API key's)


@dataclass(frozen=True)
class WebLast:
    """The last good claude.ai figures, kept without the session key."""

    organization: str | None
    browser: str | None
    overage: Overage | None
    prepaid: Prepaid | None
    fetched_at: datetime


@dataclass(frozen=True)
class CachedOrganization:
    """The Admin API key's organization and when it was asked (None: unknown, so ask again)."""

    organization: Organization
    fetched_at: datetime | None


@dataclass(frozen=True)
class CachedWorkspaces:
    """The organization's workspaces and when they were listed (None: unknown, so list again)."""

    workspaces: tuple[Workspace, ...]
    fetched_at: datetime | None


@dataclass(frozen=True)
class CachedApiKeys:
    """The organization's API keys, {id: (name, status)}, archived ones included, and when listed."""

    keys: Mapping[str, tuple[str, str]]
    fetched_at: datetime | None


@dataclass(frozen=True)
class ClaudeVersion:
    """Claude Code's version as `claude --version` said it, and when it was asked."""

    version: str
    checked_at: datetime
