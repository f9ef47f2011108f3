"""Free usage-limit resets (`cedar_ember`, api-2026.md section 3), read-only: parsing the block of the
usage answer, its stored form, and the words the menu, the notification and `status --json` use.

A grant's `id` is the handle that spends it (the redeem endpoint takes it): it is never read here, so
no model, log line, database row or output can carry it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from tray_app.core.limit_names import NAMED
from tray_app.core.models import ResetGrant, ResetGrants
from tray_app.core.timeparse import from_epoch, iso_utc, parse_timestamp, to_epoch

# The block of the usage answer, and the query parameter that asks for it.
BLOCK = "cedar_ember"
QUERY = (("cedar_ember", "1"),)
DEFAULT_LABEL = "Free usage-limit reset"


def _flag(value: object, default: bool) -> bool:
    # Only real JSON booleans count: a "false" string or a 0 must not make a grant look usable.
    return value if isinstance(value, bool) else default


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return max(int(value), 0)


def _grant(raw: object) -> ResetGrant | None:
    """One grant, or None when it says nothing countable (no resets_left)."""
    if not isinstance(raw, Mapping):
        return None
    left = _count(raw.get("resets_left"))
    if left is None:
        return None
    total = _count(raw.get("resets_total"))
    label = raw.get("label")
    clears = raw.get("clears")
    return ResetGrant(
        label=label.strip() if isinstance(label, str) and label.strip() else DEFAULT_LABEL,
        resets_left=left,
        resets_total=max(left, total) if total is not None else left,
        starts_at=parse_timestamp(raw.get("starts_at")),
        ends_at=parse_timestamp(raw.get("ends_at")),
        # When omitted, the CLI assumes paused=false, usable_now=false, use_requires_limit=true.
        usable_now=_flag(raw.get("usable_now"), False),
        paused=_flag(raw.get("paused"), False),
        # The API names windows by their keys ("seven_day_overage_included"); ours by window id (Fable's
        # week is seven_day_fable), so a grant is matched to the windows the user sees.
        clears=tuple(_window_id(c) for c in clears if isinstance(c, str)) if isinstance(clears, list) else (),
        use_requires_limit=_flag(raw.get("use_requires_limit"), True),
    )


def _window_id(key: str) -> str:
    named = NAMED.get(key)
    return key if named is None else named.window_id


def parse_cedar_ember(body: object, checked_at: datetime) -> ResetGrants | None:
    """The grants of a usage answer asked with ?cedar_ember=1; None when the block is missing or null.

    An ineligible account is an answer like any other (eligible False, no grants), not an error; a
    malformed grant is skipped and a malformed block reads as missing.
    """
    block = body.get(BLOCK) if isinstance(body, Mapping) else None
    if not isinstance(block, Mapping):
        return None
    eligible = block.get("eligible") is True
    reason = block.get("ineligible_reason")
    raw_grants = block.get("grants")
    grants = [_grant(g) for g in raw_grants] if isinstance(raw_grants, list) and eligible else []
    return ResetGrants(
        eligible=eligible,
        grants=tuple(g for g in grants if g is not None),
        checked_at=checked_at,
        ineligible_reason=reason if isinstance(reason, str) else None,
    )


def _live(grants: ResetGrants, now: datetime) -> list[ResetGrant]:
    """The grants ResetGrants.available counts that still have a reset left."""
    return [
        g
        for g in grants.grants
        if g.resets_left > 0
        and not g.paused
        and (g.starts_at is None or g.starts_at <= now)
        and (g.ends_at is None or now < g.ends_at)
    ]


def _expiry(grants: ResetGrants, now: datetime, tz: tzinfo) -> str | None:
    ends = [g.ends_at for g in _live(grants, now) if g.ends_at is not None]
    if not ends:
        return None
    local = min(ends).astimezone(tz)
    return f"{local.day} {local:%b}"


def reset_grant_row(grants: ResetGrants | None, now: datetime, tz: tzinfo) -> str | None:
    """'Free limit reset available (1 of 1, expires 22 Oct)', or None when none can be used."""
    if grants is None or not grants.eligible:
        return None
    left, total = grants.available(now)
    if left <= 0:
        return None
    expiry = _expiry(grants, now, tz)
    plural = "s" if left > 1 else ""
    return f"Free limit reset{plural} available ({left} of {total}" + (
        f", expires {expiry})" if expiry else ")"
    )


def grant_clearing(grants: ResetGrants | None, window_ids: Iterable[str], now: datetime) -> ResetGrant | None:
    """A usable grant that clears one of window_ids (a grant that names nothing it clears counts)."""
    if grants is None or not grants.eligible:
        return None
    wanted = set(window_ids)
    return next((g for g in _live(grants, now) if not g.clears or wanted & set(g.clears)), None)


def reset_grants_json(grants: ResetGrants | None, now: datetime | None) -> dict[str, Any] | None:
    """The `reset_grants` object of `status --json`; null when ineligible or never answered.

    now: the moment `available` is counted at (None: when the grants were asked for).
    """
    if grants is None or not grants.eligible:
        return None
    left, total = grants.available(grants.checked_at if now is None else now)
    return {
        "eligible": True,
        "available": left,
        "total": total,
        "checked_at": iso_utc(grants.checked_at),
        "grants": [
            {
                "label": g.label,
                "resets_left": g.resets_left,
                "resets_total": g.resets_total,
                "starts_at": None if g.starts_at is None else iso_utc(g.starts_at),
                "ends_at": None if g.ends_at is None else iso_utc(g.ends_at),
                "usable_now": g.usable_now,
                "clears": list(g.clears),
            }
            for g in grants.grants
        ],
    }


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else to_epoch(moment)


def encode_reset_grants(grants: ResetGrants) -> str:
    """The stored form (kv table): our own field names, whole seconds, never an id."""
    return json.dumps(
        {
            "eligible": grants.eligible,
            "ineligible_reason": grants.ineligible_reason,
            "checked_at": to_epoch(grants.checked_at),
            "grants": [
                {
                    "label": g.label,
                    "resets_left": g.resets_left,
                    "resets_total": g.resets_total,
                    "starts_at": _epoch(g.starts_at),
                    "ends_at": _epoch(g.ends_at),
                    "usable_now": g.usable_now,
                    "paused": g.paused,
                    "clears": list(g.clears),
                    "use_requires_limit": g.use_requires_limit,
                }
                for g in grants.grants
            ],
        },
        separators=(",", ":"),
    )


def _stored_time(value: object) -> datetime | None:
    return from_epoch(value) if isinstance(value, int) and not isinstance(value, bool) else None


def decode_reset_grants(text: str) -> ResetGrants | None:
    """What encode_reset_grants wrote; None for anything else (a bad value only costs a new request)."""
    try:
        stored = json.loads(text)
    except ValueError:
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("grants"), list):
        return None
    checked_at = _stored_time(stored.get("checked_at"))
    if checked_at is None:
        return None
    grants = []
    for raw in stored["grants"]:
        grant = _grant(raw) if isinstance(raw, dict) else None
        if grant is not None:
            starts, ends = _stored_time(raw.get("starts_at")), _stored_time(raw.get("ends_at"))
            grants.append(replace(grant, starts_at=starts, ends_at=ends))
    reason = stored.get("ineligible_reason")
    return ResetGrants(
        eligible=stored.get("eligible") is True,
        grants=tuple(grants),
        checked_at=checked_at,
        ineligible_reason=reason if isinstance(reason, str) else None,
    )


def grant_offer(grants: ResetGrants, now: datetime, tz: tzinfo) -> str:
    """'1 of 1 left, expires 22 Oct': the notification's count of the resets still usable."""
    left, total = grants.available(now)
    expiry = _expiry(grants, now, tz)
    return f"{left} of {total} left" + (f", expires {expiry}" if expiry else "")
