"""The usage answer's 2026 shapes (api-2026.md section 2): every window read once, by its name."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from tray_app.core.limit_names import unknown_keys
from tray_app.core.parse import parse_usage
from tray_app.demo.common import usage_window

RESET_5H = "2026-10-12T17:30:00.412233+00:00"
RESET_WEEK = "2026-10-15T07:00:00.412251+00:00"


def flat(utilization: float, resets_at: str | None = RESET_WEEK, locked: str | None = None) -> dict[str, Any]:
    return usage_window(utilization, resets_at, locked)


def limit(kind: str, percent: int, model: str | None = None, active: bool = False) -> dict[str, Any]:
    return {
        "kind": kind,
        "group": "session" if kind == "session" else "weekly",
        "percent": percent,
        "severity": "normal",
        "resets_at": RESET_5H if kind == "session" else RESET_WEEK,
        "scope": None if model is None else {"model": {"id": None, "display_name": model}, "surface": None},
        "is_active": active,
    }


# api-2026.md 2.5, the body with every 2026 key.
EVERY_KEY: dict[str, Any] = {
    "five_hour": flat(34.0, RESET_5H),
    "seven_day": flat(61.0),
    "seven_day_oauth_apps": None,
    "seven_day_opus": None,
    "seven_day_sonnet": None,
    "seven_day_cowork": None,
    "seven_day_omelette": None,
    "omelette_promotional": None,
    "seven_day_overage_included": None,
    "seven_day_routines": None,
    "tangelo": None,
    "iguana_necktie": None,
    "cinder_cove": None,
    "amber_ladder": None,
    "juniper_tide": None,
    "nimbus_quill": {"utilization": 0.0, "resets_at": None},
    "limits": [
        limit("session", 34),
        limit("weekly_all", 61),
        limit("weekly_scoped", 88, "Fable", active=True),
    ],
    "extra_usage": {"is_enabled": True, "monthly_limit": None, "used_credits": 1250.0, "utilization": None},
    "spend": {"used": {"amount_minor": 1250, "currency": "USD", "exponent": 2}, "percent": 0},
    "member_dashboard_available": False,
    "seven_day_breakdown": {
        "as_of": "2026-10-12T15:02:11+00:00",
        "rows": [{"key": "claude_code", "display_name": "Claude Code", "percent": 92}],
    },
    "cedar_ember": None,
}


def shown(body: object) -> list[tuple[str, str, float]]:
    return [(w.id, w.label, w.utilization) for w in parse_usage(body).windows]


def flags(body: object) -> dict[str, tuple[bool, bool, bool]]:
    """id -> (locked, binding, other)."""
    return {w.id: (w.locked, w.binding, w.other) for w in parse_usage(body).windows}


def test_the_body_with_every_key_shows_three_windows_the_fable_one_binding() -> None:
    assert shown(EVERY_KEY) == [
        ("five_hour", "5-hour", 34.0),
        ("seven_day", "Weekly", 61.0),
        ("seven_day_fable", "Weekly · Fable", 88.0),
    ]
    assert flags(EVERY_KEY)["seven_day_fable"] == (False, True, False)
    assert parse_usage(EVERY_KEY).window("seven_day_fable").resets_at == datetime(  # type: ignore[union-attr]
        2026, 10, 15, 7, 0, 0, 412251, tzinfo=UTC
    )
    assert unknown_keys(parse_usage(EVERY_KEY).windows) == []


def test_flat_codename_keys_without_limits_get_their_names() -> None:
    body = {
        "five_hour": flat(40.0, RESET_5H),
        "seven_day": flat(55.5),
        "seven_day_overage_included": flat(100.0),
        "seven_day_omelette": flat(12.0),
        "seven_day_opus": flat(3.0),
        "seven_day_sonnet": flat(0.0, None),
        "seven_day_sonnet_max": flat(9.0),
        "seven_day_cowork": flat(4.0),
        "seven_day_routines": flat(2.0),
        "seven_day_oauth_apps": flat(1.0),
        "omelette_promotional": flat(7.0),
    }
    assert shown(body) == [
        ("five_hour", "5-hour", 40.0),
        ("seven_day", "Weekly", 55.5),
        ("seven_day_fable", "Weekly · Fable", 100.0),
        ("seven_day_claude_design", "Weekly · Claude Design", 12.0),
        ("seven_day_opus", "Weekly · Opus", 3.0),
        ("seven_day_sonnet", "Weekly · Sonnet", 0.0),
        ("seven_day_sonnet_max", "Weekly · Sonnet Max", 9.0),
        ("seven_day_cowork", "Weekly · Cowork", 4.0),
        ("seven_day_routines", "Weekly · Routines", 2.0),
        ("seven_day_oauth_apps", "Weekly · OAuth apps", 1.0),
        ("omelette_promotional", "Claude Design · promotional", 7.0),
    ]
    assert parse_usage(body).window("seven_day_fable").blocked  # type: ignore[union-attr]
    assert not any(w.other for w in parse_usage(body).windows)


def test_limits_without_flat_keys() -> None:
    body = {
        "limits": [
            limit("session", 40),
            limit("weekly_all", 20),
            limit("weekly_scoped", 100, "Fable", active=True),
            limit("weekly_scoped", 5, "Claude Design"),
        ]
    }
    assert shown(body) == [
        ("five_hour", "5-hour", 40.0),
        ("seven_day", "Weekly", 20.0),
        ("seven_day_fable", "Weekly · Fable", 100.0),
        ("seven_day_claude_design", "Weekly · Claude Design", 5.0),
    ]
    assert [w.binding for w in parse_usage(body).windows] == [False, False, True, False]


def test_a_null_seven_day_takes_the_week_from_weekly_all() -> None:
    body = {"five_hour": flat(12.0, RESET_5H), "seven_day": None, "limits": [limit("weekly_all", 1)]}
    assert shown(body) == [("five_hour", "5-hour", 12.0), ("seven_day", "Weekly", 1.0)]


def test_limits_win_over_a_flat_key_that_disagrees() -> None:
    # One client read a flat seven_day of 100 % while claude.ai showed 1 % (api-2026.md 2.1).
    body = {"seven_day": flat(100.0), "limits": [limit("weekly_all", 1)]}
    assert shown(body) == [("seven_day", "Weekly", 1.0)]


def test_a_flat_key_keeps_its_decimals_when_limits_agree_on_the_whole_percent() -> None:
    body = {
        "five_hour": flat(33.6, RESET_5H),
        "seven_day_overage_included": flat(87.4),
        "limits": [limit("session", 34), limit("weekly_scoped", 87, "Fable", active=True)],
    }
    assert shown(body) == [("five_hour", "5-hour", 33.6), ("seven_day_fable", "Weekly · Fable", 87.4)]
    assert flags(body)["seven_day_fable"] == (False, True, False)


def test_no_window_is_shown_twice() -> None:
    body = {
        "five_hour": flat(10.0, RESET_5H),
        "seven_day_overage_included": flat(50.0),
        "seven_day_sonnet": flat(11.0),
        "limits": [
            limit("session", 10),
            limit("session", 90),
            limit("weekly_scoped", 50, "Fable"),
            limit("weekly_scoped", 60, "fable"),
            limit("weekly_scoped", 12, "Sonnet"),
        ],
    }
    assert shown(body) == [
        ("five_hour", "5-hour", 10.0),
        ("seven_day_fable", "Weekly · Fable", 50.0),
        ("seven_day_sonnet", "Weekly · Sonnet", 12.0),
    ]


@pytest.mark.parametrize("key", ["five_hour", "seven_day"])
def test_a_locked_window_is_blocked_whatever_its_figure(key: str) -> None:
    body = {key: flat(40.0, locked="weekly_limit"), "limits": [limit("weekly_all", 40, active=True)]}
    window = parse_usage(body).window(key)
    assert window is not None and window.locked and window.blocked
    assert window.utilization == 40.0
    assert not parse_usage({key: flat(40.0)}).window(key).locked  # type: ignore[union-attr]


def test_an_unknown_codename_is_another_limit_under_its_key_and_reported() -> None:
    body = {
        "five_hour": flat(20.0, RESET_5H),
        "velvet_otter": {"utilization": 45.5, "resets_at": RESET_WEEK},
        "seven_day": flat(30.0),
        "new_flag": {"enabled": True},
        "lavender_moth": None,
        "plum_crow": {"utilization": "high"},
    }
    assert shown(body) == [
        ("five_hour", "5-hour", 20.0),
        ("seven_day", "Weekly", 30.0),
        ("velvet_otter", "velvet_otter", 45.5),
    ]
    assert flags(body)["velvet_otter"] == (False, False, True)
    assert unknown_keys(parse_usage(body).windows) == ["velvet_otter"]


def test_known_codenames_of_unknown_meaning_show_only_above_zero() -> None:
    body = {
        "seven_day": flat(30.0),
        "nimbus_quill": {"utilization": 0.0, "resets_at": None},
        "seven_day_cowork": flat(0.0),
        "tangelo": flat(0.0, locked="x"),
        "juniper_tide": flat(12.0),
    }
    assert shown(body) == [
        ("seven_day", "Weekly", 30.0),
        ("tangelo", "tangelo", 0.0),
        ("juniper_tide", "juniper_tide", 12.0),
    ]
    # Known to us, only unnamed: nothing to report.
    assert unknown_keys(parse_usage(body).windows) == []


def test_non_window_keys_are_never_windows() -> None:
    body = {key: {"utilization": 50.0, "percent": 50} for key in ("spend", "extra_usage", "cedar_ember")}
    body["seven_day_breakdown"] = {"utilization": 50.0}
    assert shown(body) == []


@pytest.mark.parametrize(
    "odd",
    [
        {"limits": {"kind": "session"}},
        {"limits": [{"kind": None}, {"kind": "model_scoped", "percent": 50}, {"kind": "session"}]},
        {"limits": [{"kind": "weekly_scoped", "percent": 5, "scope": {"model": "Fable"}}]},
        {"limits": [{"kind": "weekly_scoped", "percent": 5, "scope": {"model": {"display_name": "!!"}}}]},
        {"seven_day": {"utilization": float("nan")}, "five_hour": [], "x": {"utilization": True}},
        {1: {"utilization": 5}},
    ],
)
def test_odd_shapes_give_no_window_and_no_crash(odd: dict[Any, Any]) -> None:
    assert shown(odd) == []


def test_the_every_key_body_survives_any_single_key_turning_odd() -> None:
    odd_values: tuple[object, ...] = (None, 7, "x", [], {}, {"utilization": None})
    for key in EVERY_KEY:
        for value in odd_values:
            body = copy.deepcopy(EVERY_KEY)
            body[key] = value
            parse_usage(body)
