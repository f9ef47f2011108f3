"""The usage answer's 2026 shapes (api-2026.md section 2), one demo scenario each.

Codename keys come flat without `limits[]`, `limits[]` comes without flat keys, `seven_day` is null while
`limits[]` has `weekly_all`, a window is locked, a codename nobody has named appears, and the most
common complaint of the year: the Fable weekly limit at 100 % under a 5-hour window at 40 %.
Reset times are relative to the server's clock, so every scenario looks current whenever it is served.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tray_app.demo.common import usage_window

_HOUR = 3600.0
_FIVE_HOUR_LEFT = 2 * _HOUR + 14 * 60  # the session frees up in 2 h 14 min
_WEEK_LEFT = 3 * 24 * _HOUR + 5 * _HOUR


def _stamp(epoch: float) -> str:
    # The server's own format: microseconds and an explicit offset.
    return datetime.fromtimestamp(epoch, tz=UTC).replace(microsecond=412233).isoformat()


def _limit(
    kind: str, percent: int, resets_at: str | None, *, model: str | None = None, active: bool = False
) -> dict[str, Any]:
    severity = "critical" if percent >= 90 else "warning" if percent >= 75 else "normal"
    return {
        "kind": kind,
        "group": "session" if kind == "session" else "weekly",
        "percent": percent,
        "severity": severity,
        "resets_at": resets_at,
        "scope": None if model is None else {"model": {"id": None, "display_name": model}, "surface": None},
        "is_active": active,
    }


def _resets(now: float) -> tuple[str, str]:
    return _stamp(now + _FIVE_HOUR_LEFT), _stamp(now + _WEEK_LEFT)


def _nulls(*keys: str) -> dict[str, None]:
    return dict.fromkeys(keys)


def codenames_flat(now: float) -> dict[str, Any]:
    """Flat codename keys and no limits[]: Fable and Claude Design must not be dropped."""
    session, week = _resets(now)
    return {
        "five_hour": usage_window(34.0, session),
        "seven_day": usage_window(61.0, week),
        "seven_day_overage_included": usage_window(88.0, week),
        "seven_day_omelette": usage_window(12.0, week),
        **_nulls("seven_day_opus", "seven_day_sonnet", "seven_day_cowork", "tangelo", "iguana_necktie"),
        "nimbus_quill": {"utilization": 0.0, "resets_at": None},
        "cedar_ember": None,
    }


def limits_only(now: float) -> dict[str, Any]:
    """limits[] and no flat windows at all."""
    session, week = _resets(now)
    return {
        "limits": [
            _limit("session", 34, session),
            _limit("weekly_all", 61, week),
            _limit("weekly_scoped", 88, week, model="Fable", active=True),
        ],
        "cedar_ember": None,
    }


def weekly_null(now: float) -> dict[str, Any]:
    """seven_day null while limits[] has weekly_all: the weekly window comes from limits[]."""
    session, week = _resets(now)
    return {
        "five_hour": usage_window(34.0, session),
        "seven_day": None,
        "limits": [_limit("session", 34, session), _limit("weekly_all", 61, week, active=True)],
    }


def locked_window(now: float) -> dict[str, Any]:
    """A top-level window the server has locked (values of locked_reason are unpublished)."""
    session, week = _resets(now)
    return {
        "five_hour": usage_window(72.0, session, locked_reason="usage_limit_reached"),
        "seven_day": usage_window(61.0, week),
        "limits": [_limit("session", 72, session, active=True), _limit("weekly_all", 61, week)],
    }


def unknown_codename(now: float) -> dict[str, Any]:
    """A codename no table knows, with a readable figure: kept under Other limits, logged once."""
    session, week = _resets(now)
    return {
        "five_hour": usage_window(34.0, session),
        "seven_day": usage_window(61.0, week),
        "harbor_lantern": {"utilization": 50.0, "resets_at": session},
        "wattle_ember": None,
    }


def blocked_on_fable(now: float) -> dict[str, Any]:
    """The Fable weekly limit reached under a 5-hour window at 40 %: the icon must not say "fine"."""
    session, week = _resets(now)
    return {
        "five_hour": usage_window(40.0, session),
        "seven_day": usage_window(61.0, week),
        "seven_day_overage_included": usage_window(100.0, week),
        "limits": [
            _limit("session", 40, session),
            _limit("weekly_all", 61, week),
            _limit("weekly_scoped", 100, week, model="Fable", active=True),
        ],
    }


BODIES: dict[str, Callable[[float], dict[str, Any]]] = {
    "codenames_flat": codenames_flat,
    "limits_only": limits_only,
    "weekly_null": weekly_null,
    "locked": locked_window,
    "unknown_codename": unknown_codename,
    "blocked_fable": blocked_on_fable,
}
SCENARIOS_2026 = tuple(BODIES)
