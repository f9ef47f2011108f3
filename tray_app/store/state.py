"""Typed access to the small shared values of the kv and backoff tables; the only place keys are named.

Key names and value formats are those of databases already written: never change one, add a new key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, TypeVar

from tray_app.core import state_codec as codec
from tray_app.core.errors import ShapeError
from tray_app.core.grants import decode_reset_grants, encode_reset_grants
from tray_app.core.models import Backoff, ResetGrants
from tray_app.core.state import (
    CachedApiKeys,
    CachedOrganization,
    CachedWorkspaces,
    ClaudeVersion,
    Refusal,
    WebLast,
)
from tray_app.store.database import Database

if TYPE_CHECKING:
    from tray_app.core.rules import RulesState

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_ALERT_STATE = "alerts.state"
_NOTIFICATIONS = "notifications.enabled"
_SNOOZED_UNTIL = "notifications.snoozed_until"
_WEB_SESSION = "web.enabled"
_CODE_LAST_ATTEMPT = "code.last_attempt"
_CLAUDE_VERSION = "claude_code.version"
_CODE_GRANTS = "code.reset_grants"
_CODE_GRANTS_ASKED = "code.reset_grants_asked"
_WEB_LAST = "web.last"
_CONSOLE_ORGANIZATION = "console.organization"
_CONSOLE_WORKSPACES = "console.workspaces"
_CONSOLE_API_KEYS = "console.api_keys"


class BackoffScope(StrEnum):
    """Whose requests a shared back-off pauses; the values are the stored scope names."""

    CODE = "code_usage"
    # The hourly free-resets request (monitors.grants): its 429 must not pause the usage polls.
    CODE_GRANTS = "code_grants"
    CONSOLE = "console"
    WEB = "web"


class RefusalSource(Enum):
    """Which credential was refused: (its key, whether its refusal wears off with time)."""

    CODE_TOKEN = ("code.refused_token", False)
    WEB_SESSION = ("web.refused_session", False)
    CONSOLE_KEY = ("console.refused_key", True)
    # The Analytics API refused the admin key (400/403/404): the cost report stands in for a day.
    CONSOLE_ANALYTICS = ("console.analytics_refused", True)


class _Values:
    """A kv key read and written through a codec; a missing or unreadable value reads as None."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _get(self, key: str, decode: Callable[[str], _T | None]) -> _T | None:
        row = self._db.value(key)
        return None if row is None else decode(row[0])

    def _set(self, key: str, text: str, now: datetime) -> None:
        self._db.set_value(key, text, now)


class Backoffs:
    """Shared back-offs: every process sharing the file honours one set by any of them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, scope: BackoffScope) -> Backoff | None:
        """The stored back-off of scope, even when it has expired (the caller compares with now)."""
        return self._db.backoff(scope.value)

    def set(self, scope: BackoffScope, backoff: Backoff) -> None:
        self._db.set_backoff(scope.value, backoff)

    def clear(self, scope: BackoffScope) -> None:
        """Forget the back-off of scope (no error when there is none)."""
        self._db.set_backoff(scope.value, None)


class Refusals(_Values):
    """Credentials a server refused, by fingerprint, so no process sends them again."""

    def get(self, source: RefusalSource) -> Refusal | None:
        key, timed = source.value
        return self._get(key, lambda text: codec.decode_refusal(text, timed=timed))

    def set(self, source: RefusalSource, refusal: Refusal, now: datetime) -> None:
        key, timed = source.value
        if timed != (refusal.at is not None):
            raise ValueError(f"a refusal of {source.name} {'needs' if timed else 'has no'} time")
        self._set(key, codec.encode_refusal(refusal), now)


class AlertState(_Values):
    """The alert rules' memory of what already fired."""

    def load(self) -> RulesState | None:
        """The saved memory; None when there is none or it is unreadable (said in the log)."""
        return self._get(_ALERT_STATE, _rules_state)

    def save(self, state: RulesState, now: datetime) -> None:
        self._set(_ALERT_STATE, codec.encode_rules_state(state), now)


def _rules_state(text: str) -> RulesState | None:
    if not text:
        return None
    try:
        return codec.decode_rules_state(text)
    except ShapeError as exc:
        # Losing the memory of fired alerts can repeat one notification; refusing to run is worse.
        logger.warning("stored alert state unreadable (%s); starting afresh", exc)
        return None


class Switches(_Values):
    """The menu's choices, shared by every process and kept for the next start."""

    def notifications_on(self) -> bool:
        """Notifications are on unless turned off."""
        return self._get(_NOTIFICATIONS, codec.decode_switch) is not False

    def set_notifications_on(self, on: bool, now: datetime) -> None:
        self._set(_NOTIFICATIONS, codec.encode_switch(on), now)

    def snoozed_until(self) -> datetime | None:
        """The end of the last snooze, even a past one; None when never snoozed or unsnoozed."""
        return self._get(_SNOOZED_UNTIL, codec.decode_epoch)

    def set_snoozed_until(self, until: datetime | None, now: datetime) -> None:
        self._set(_SNOOZED_UNTIL, codec.encode_epoch(until), now)

    def web_session_on(self) -> bool | None:
        """The menu's choice for the claude.ai session; None when never chosen (the config decides)."""
        return self._get(_WEB_SESSION, codec.decode_switch)

    def set_web_session_on(self, on: bool, now: datetime) -> None:
        self._set(_WEB_SESSION, codec.encode_switch(on), now)


class CodeCache(_Values):
    """Code mode's markers: the last attempt to fetch, and Claude Code's version for the User-Agent."""

    def last_attempt(self) -> datetime | None:
        return self._get(_CODE_LAST_ATTEMPT, codec.decode_epoch)

    def set_last_attempt(self, now: datetime) -> None:
        self._set(_CODE_LAST_ATTEMPT, codec.encode_epoch(now), now)

    def claude_version(self) -> ClaudeVersion | None:
        return self._get(_CLAUDE_VERSION, codec.decode_claude_version)

    def set_claude_version(self, cached: ClaudeVersion, now: datetime) -> None:
        self._set(_CLAUDE_VERSION, codec.encode_claude_version(cached), now)

    def reset_grants(self) -> ResetGrants | None:
        """The last answer about free limit resets (ineligible included); None when never answered."""
        return self._get(_CODE_GRANTS, decode_reset_grants)

    def set_reset_grants(self, grants: ResetGrants, now: datetime) -> None:
        self._set(_CODE_GRANTS, encode_reset_grants(grants), now)

    def reset_grants_asked(self) -> datetime | None:
        """When any process last asked for the grants, answered or not: the hourly rule's clock."""
        return self._get(_CODE_GRANTS_ASKED, codec.decode_epoch)

    def set_reset_grants_asked(self, now: datetime) -> None:
        self._set(_CODE_GRANTS_ASKED, codec.encode_epoch(now), now)


class WebCache(_Values):
    """The last good claude.ai figures."""

    def last(self) -> WebLast | None:
        return self._get(_WEB_LAST, codec.decode_web_last)

    def set_last(self, last: WebLast, now: datetime) -> None:
        self._set(_WEB_LAST, codec.encode_web_last(last), now)


class ConsoleCache(_Values):
    """Console mode's slow-changing answers and when they were fetched."""

    def organization(self) -> CachedOrganization | None:
        return self._get(_CONSOLE_ORGANIZATION, codec.decode_organization)

    def set_organization(self, cached: CachedOrganization, now: datetime) -> None:
        self._set(_CONSOLE_ORGANIZATION, codec.encode_organization(cached), now)

    def workspaces(self) -> CachedWorkspaces | None:
        return self._get(_CONSOLE_WORKSPACES, codec.decode_workspaces)

    def set_workspaces(self, cached: CachedWorkspaces, now: datetime) -> None:
        self._set(_CONSOLE_WORKSPACES, codec.encode_workspaces(cached), now)

    def api_keys(self) -> CachedApiKeys | None:
        return self._get(_CONSOLE_API_KEYS, codec.decode_api_keys)

    def set_api_keys(self, cached: CachedApiKeys, now: datetime) -> None:
        self._set(_CONSOLE_API_KEYS, codec.encode_api_keys(cached), now)
