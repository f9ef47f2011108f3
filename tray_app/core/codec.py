"""Plain JSON-ready dicts to and from the stored models (usage, account, alert state), strict coming back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tray_app.core.errors import ShapeError
from tray_app.core.models import Account, CodeUsage, ExtraUsage, UsageWindow
from tray_app.core.timeparse import iso_utc, parse_timestamp

if TYPE_CHECKING:
    from tray_app.core.rules import RulesState

# Datetimes are written as ISO-8601 UTC with seconds precision (iso_utc), so a value with
# microseconds comes back truncated to the second; every other field round-trips exactly.
# RulesState keeps its microseconds: the failure episode's key is derived from its start time.


def usage_to_dict(usage: CodeUsage) -> dict[str, Any]:
    """A JSON-serialisable dict of usage; usage_from_dict(usage_to_dict(u)) == u at seconds precision."""
    return {
        "windows": [_window_to_dict(window) for window in usage.windows],
        "extra_usage": None if usage.extra_usage is None else _extra_to_dict(usage.extra_usage),
    }


def usage_from_dict(data: Mapping[str, Any]) -> CodeUsage:
    """The CodeUsage stored by usage_to_dict; ShapeError when data is not that shape."""
    if not isinstance(data, Mapping):
        raise ShapeError("stored usage is not an object")
    windows = data.get("windows")
    if not isinstance(windows, list):
        raise ShapeError("stored usage has no list of windows")
    extra = data.get("extra_usage")
    return CodeUsage(
        windows=tuple(_window_from_dict(item) for item in windows),
        extra_usage=None if extra is None else _extra_from_dict(extra),
    )


def account_to_dict(account: Account) -> dict[str, Any]:
    """A JSON-serialisable dict of account."""
    return {"email": account.email, "plan": account.plan, "organization": account.organization}


def account_from_dict(data: Mapping[str, Any]) -> Account:
    """The Account stored by account_to_dict; ShapeError when data is not that shape."""
    if not isinstance(data, Mapping):
        raise ShapeError("stored account is not an object")
    return Account(
        email=_optional_str(data, "email"),
        plan=_optional_str(data, "plan"),
        organization=_optional_str(data, "organization"),
    )


def rules_state_to_dict(state: RulesState) -> dict[str, Any]:
    """A JSON-serialisable dict of the alert rules' memory; rules_state_from_dict returns an equal state."""
    return {
        "fired": sorted(state.fired),
        "failures": state.failures,
        "episode_started": None if state.episode_started is None else _iso_exact(state.episode_started),
        "peaks": {window_id: [period, peak] for window_id, (period, peak) in sorted(state.peaks.items())},
        "pace_clear_since": {
            window_id: _iso_exact(since) for window_id, since in sorted(state.pace_clear_since.items())
        },
    }


def rules_state_from_dict(data: Mapping[str, Any]) -> RulesState:
    """The RulesState stored by rules_state_to_dict; ShapeError when data is not that shape."""
    # Imported here: the store (and so the statusline) needs this module but not the alert rules.
    from tray_app.core.rules import RulesState

    if not isinstance(data, Mapping):
        raise ShapeError("stored alert state is not an object")
    fired = data.get("fired")
    if not isinstance(fired, list) or not all(isinstance(key, str) for key in fired):
        raise ShapeError("stored alert state has no list of fired keys")
    failures = data.get("failures")
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
        raise ShapeError("stored alert state: 'failures' is not a count")
    return RulesState(
        fired=frozenset(fired),
        failures=failures,
        episode_started=_optional_time(data, "episode_started"),
        peaks={window_id: _peak(value) for window_id, value in _table(data, "peaks").items()},
        pace_clear_since={
            window_id: _time(since, "pace_clear_since")
            for window_id, since in _table(data, "pace_clear_since").items()
        },
    )


def _iso_exact(moment: datetime) -> str:
    # iso_utc's form, with the microseconds kept when there are any.
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping) or not all(isinstance(name, str) for name in value):
        raise ShapeError(f"stored field {key!r} is not an object")
    return value


def _peak(value: object) -> tuple[int, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ShapeError("stored peak is not a [period, utilization] pair")
    period, peak = value
    if isinstance(period, bool) or not isinstance(period, int):
        raise ShapeError("stored peak: the period is not an integer")
    if isinstance(peak, bool) or not isinstance(peak, int | float):
        raise ShapeError("stored peak: the utilization is not a number")
    return period, float(peak)


def _time(value: object, key: str) -> datetime:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ShapeError(f"stored field {key!r} holds a value that is not an ISO-8601 timestamp")
    return parsed


def _window_to_dict(window: UsageWindow) -> dict[str, Any]:
    return {
        "id": window.id,
        "label": window.label,
        "utilization": window.utilization,
        "resets_at": None if window.resets_at is None else iso_utc(window.resets_at),
        "locked": window.locked,
        "binding": window.binding,
        "other": window.other,
    }


def _window_from_dict(data: object) -> UsageWindow:
    if not isinstance(data, Mapping):
        raise ShapeError("stored window is not an object")
    return UsageWindow(
        id=_str(data, "id"),
        label=_str(data, "label"),
        utilization=_number(data, "utilization"),
        resets_at=_optional_time(data, "resets_at"),
        # Absent in answers stored before these were read (issue 15): False, as the server then said.
        locked=data.get("locked") is True,
        binding=data.get("binding") is True,
        other=data.get("other") is True,
    )


def _extra_to_dict(extra: ExtraUsage) -> dict[str, Any]:
    return {
        "enabled": extra.enabled,
        "used": extra.used,
        "limit": extra.limit,
        "currency": extra.currency,
        "utilization": extra.utilization,
    }


def _extra_from_dict(data: object) -> ExtraUsage:
    if not isinstance(data, Mapping):
        raise ShapeError("stored extra usage is not an object")
    enabled = data.get("enabled")
    if not isinstance(enabled, bool):
        raise ShapeError("stored extra usage: 'enabled' is not a boolean")
    return ExtraUsage(
        enabled=enabled,
        used=_number(data, "used"),
        limit=_optional_number(data, "limit"),
        currency=_str(data, "currency"),
        utilization=_optional_number(data, "utilization"),
    )


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ShapeError(f"stored field {key!r} is not a string")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else _str(data, key)


def _number(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key)
    # bool is an int subclass; True as a percentage would be a silent corruption.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(f"stored field {key!r} is not a number")
    return float(value)


def _optional_number(data: Mapping[str, Any], key: str) -> float | None:
    return None if data.get(key) is None else _number(data, key)


def _optional_time(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ShapeError(f"stored field {key!r} is not an ISO-8601 timestamp")
    return parsed
