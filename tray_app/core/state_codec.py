"""The stored text of the shared small values, both ways; formats fixed by databases already written.

Decoders are lenient where a bad value only costs a refetch (they return None), strict for the alert
rules' memory (ShapeError), whose loss the caller reports.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tray_app.core.codec import rules_state_from_dict, rules_state_to_dict
from tray_app.core.errors import ShapeError
from tray_app.core.state import (
    CachedApiKeys,
    CachedOrganization,
    CachedWorkspaces,
    ClaudeVersion,
    Refusal,
    WebLast,
)
from tray_app.core.timeparse import from_epoch, to_epoch

if TYPE_CHECKING:
    from tray_app.core.rules import RulesState


def encode_switch(on: bool) -> str:
    return "on" if on else "off"


def decode_switch(text: str) -> bool | None:
    """True for "on", False for "off", None for anything else (no choice made)."""
    return {"on": True, "off": False}.get(text)


def encode_epoch(moment: datetime | None) -> str:
    """Whole Unix seconds as text; "" for no time."""
    return "" if moment is None else str(to_epoch(moment))


def decode_epoch(text: str) -> datetime | None:
    """The time written by encode_epoch; None for "" or anything that is not whole seconds."""
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return from_epoch(int(text))
    except (OverflowError, ValueError, OSError):
        return None  # a number beyond any date


def encode_refusal(refusal: Refusal) -> str:
    """fingerprint, then :seconds when timed, then :reason unless untimed and empty."""
    parts = [refusal.fingerprint]
    if refusal.at is not None:
        parts.append(str(to_epoch(refusal.at)))
    if refusal.at is not None or refusal.reason:
        parts.append(refusal.reason)
    return ":".join(parts)


def decode_refusal(text: str, *, timed: bool) -> Refusal | None:
    """The refusal written by encode_refusal; timed ones without a readable time are None."""
    fingerprint, _, rest = text.partition(":")
    if not timed:
        return Refusal(fingerprint, rest)
    stamp, _, reason = rest.partition(":")
    at = decode_epoch(stamp)
    return None if at is None else Refusal(fingerprint, reason, at)


def encode_rules_state(state: RulesState) -> str:
    return json.dumps(rules_state_to_dict(state))


def decode_rules_state(text: str) -> RulesState:
    """The alert rules' memory written by encode_rules_state; ShapeError when unreadable."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ShapeError(f"not JSON: {exc}") from exc
    return rules_state_from_dict(data)


def encode_web_last(last: WebLast) -> str:
    return json.dumps(
        {
            "organization": last.organization,
            "browser": last.browser,
            "overage": None if last.overage is None else asdict(last.overage),
            "prepaid": None if last.prepaid is None else asdict(last.prepaid),
            "fetched_at": to_epoch(last.fetched_at),
        }
    )


def decode_web_last(text: str) -> WebLast | None:
    # Imported here, like the Console models below: the statusline loads this module but never decodes these.
    from tray_app.core.web import Overage, Prepaid

    data = _object(text)
    if data is None:
        return None
    overage, prepaid = data.get("overage"), data.get("prepaid")
    try:
        return WebLast(
            organization=_optional_text(data.get("organization")),
            browser=_optional_text(data.get("browser")),
            overage=Overage(**overage) if isinstance(overage, dict) else None,
            prepaid=Prepaid(**prepaid) if isinstance(prepaid, dict) else None,
            fetched_at=from_epoch(int(data.get("fetched_at", 0))),
        )
    except (TypeError, ValueError, OverflowError, OSError):
        return None  # fields of another shape: as if nothing were stored


def encode_organization(cached: CachedOrganization) -> str:
    org = cached.organization
    return json.dumps({"id": org.id, "name": org.name, "fetched_at": _stamp(cached.fetched_at)})


def decode_organization(text: str) -> CachedOrganization | None:
    from tray_app.core.console import Organization

    data = _object(text)
    if data is None or "name" not in data:
        return None
    organization = Organization(str(data.get("id", "")), str(data["name"]))
    return CachedOrganization(organization, _fetched_at(data))


def encode_workspaces(cached: CachedWorkspaces) -> str:
    items = [{"id": w.id, "name": w.name} for w in cached.workspaces]
    return json.dumps({"items": items, "fetched_at": _stamp(cached.fetched_at)})


def decode_workspaces(text: str) -> CachedWorkspaces | None:
    """Stored workspaces come back as not archived: only the ones in use are stored."""
    from tray_app.core.console import Workspace

    data = _object(text)
    if data is None:
        return None
    try:
        workspaces = tuple(Workspace(str(w["id"]), str(w["name"]), False) for w in data["items"])
    except (KeyError, TypeError):
        return None
    return CachedWorkspaces(workspaces, _fetched_at(data))


def encode_api_keys(cached: CachedApiKeys) -> str:
    items = [[key_id, name, status] for key_id, (name, status) in sorted(cached.keys.items())]
    return json.dumps({"items": items, "fetched_at": _stamp(cached.fetched_at)})


def decode_api_keys(text: str) -> CachedApiKeys | None:
    data = _object(text)
    if data is None:
        return None
    try:
        keys = {str(key_id): (str(name), str(status)) for key_id, name, status in data["items"]}
    except (KeyError, TypeError, ValueError):
        return None
    return CachedApiKeys(keys, _fetched_at(data))


def encode_claude_version(cached: ClaudeVersion) -> str:
    return f"{cached.version}@{to_epoch(cached.checked_at)}"


def decode_claude_version(text: str) -> ClaudeVersion | None:
    version, at, stamp = text.partition("@")
    checked_at = decode_epoch(stamp)
    return None if not at or checked_at is None else ClaudeVersion(version, checked_at)


def _object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _stamp(moment: datetime | None) -> int | None:
    return None if moment is None else to_epoch(moment)


def _fetched_at(data: dict[str, Any]) -> datetime | None:
    stamp = data.get("fetched_at")
    # bool is an int to Python, but never a time we wrote.
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        return None
    return decode_epoch(str(stamp))
