"""The stored-model codec: exact round trips and ShapeError on anything malformed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tray_app.core.codec import (
    account_from_dict,
    account_to_dict,
    rules_state_from_dict,
    rules_state_to_dict,
    usage_from_dict,
    usage_to_dict,
)
from tray_app.core.errors import ShapeError
from tray_app.core.models import Account, CodeUsage, ExtraUsage, UsageWindow
from tray_app.core.rules import RulesState

RESET = datetime(2026, 8, 4, 16, 20, tzinfo=UTC)

FULL = CodeUsage(
    windows=(
        UsageWindow("five_hour", "5-hour", 42.5, RESET),
        UsageWindow("seven_day", "7-day", 7.0, datetime(2026, 8, 9, 1, 2, 3, tzinfo=UTC)),
        UsageWindow("seven_day_opus", "7-day Opus", 0.0, None),
    ),
    extra_usage=ExtraUsage(enabled=True, used=12.34, limit=50.0, currency="EUR", utilization=24.68),
)


@pytest.mark.parametrize(
    "usage",
    [
        FULL,
        CodeUsage(windows=FULL.windows, extra_usage=None),
        CodeUsage(windows=(), extra_usage=None),
        CodeUsage(
            windows=FULL.windows[:1],
            extra_usage=ExtraUsage(enabled=False, used=0.0, limit=None, currency="USD", utilization=None),
        ),
    ],
    ids=["full", "no-extra", "empty", "extra-none-fields"],
)
def test_usage_round_trips_through_json(usage: CodeUsage) -> None:
    # Through real JSON text, as the store keeps it.
    assert usage_from_dict(json.loads(json.dumps(usage_to_dict(usage)))) == usage


def test_usage_times_are_kept_at_second_precision() -> None:
    window = UsageWindow("five_hour", "5-hour", 1.0, RESET.replace(microsecond=999_999))
    precise = CodeUsage(windows=(window,), extra_usage=None)
    window = usage_from_dict(usage_to_dict(precise)).windows[0]
    assert window.resets_at == RESET
    assert window.resets_at is not None and window.resets_at.tzinfo is not None


@pytest.mark.parametrize(
    "account",
    [
        Account(email="a@example.com", plan="max", organization="Acme"),
        Account(email=None, plan=None, organization=None),
    ],
)
def test_account_round_trips_through_json(account: Account) -> None:
    assert account_from_dict(json.loads(json.dumps(account_to_dict(account)))) == account


def _good_usage() -> dict[str, Any]:
    return json.loads(json.dumps(usage_to_dict(FULL)))  # type: ignore[no-any-return]


def _with(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    data = _good_usage()
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


def _without(path: tuple[str | int, ...]) -> dict[str, Any]:
    data = _good_usage()
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return data


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"windows": None},
        {"windows": {"five_hour": 1}},
        _with(("windows", 0), "five_hour"),
        _without(("windows", 0, "id")),
        _with(("windows", 0, "label"), 5),
        _with(("windows", 0, "utilization"), "42"),
        _with(("windows", 0, "utilization"), True),
        _without(("windows", 0, "utilization")),
        _with(("windows", 0, "resets_at"), "tomorrow"),
        _with(("windows", 0, "resets_at"), 1786000000),
        _with(("extra_usage",), []),
        _with(("extra_usage", "enabled"), "yes"),
        _with(("extra_usage", "used"), None),
        _with(("extra_usage", "limit"), "50"),
        _with(("extra_usage", "currency"), None),
        _with(("extra_usage", "utilization"), [1]),
    ],
)
def test_malformed_usage_raises_shape_error(data: dict[str, Any]) -> None:
    with pytest.raises(ShapeError):
        usage_from_dict(data)


@pytest.mark.parametrize("data", [[], "x", None, 3])
def test_non_mapping_usage_raises_shape_error(data: Any) -> None:
    with pytest.raises(ShapeError):
        usage_from_dict(data)


@pytest.mark.parametrize(
    "data",
    [[], None, {"email": 1}, {"email": None, "plan": ["max"]}, {"organization": {"name": "Acme"}}],
)
def test_malformed_account_raises_shape_error(data: Any) -> None:
    with pytest.raises(ShapeError):
        account_from_dict(data)


def test_missing_account_fields_are_unknown() -> None:
    # An older version may have stored fewer fields; absent means "not known", not broken.
    assert account_from_dict({"email": "a@example.com"}) == Account("a@example.com", None, None)


# The alert rules' memory. Microseconds matter here: the failure episode's key is built from its start.
STATE = RulesState(
    fired=frozenset(
        {
            "threshold:five_hour:1785860400:75",
            "pace:seven_day:1786042800",
            "failure:1785844801",
            "extra:2026-08:50",
        }
    ),
    failures=4,
    episode_started=datetime(2026, 8, 4, 12, 0, 0, 600_000, tzinfo=UTC),
    peaks={"five_hour": (1785860400, 92.5), "seven_day_fable": (1786042800, 0.0)},
    pace_clear_since={"seven_day": datetime(2026, 8, 4, 13, 5, 7, 123_456, tzinfo=UTC)},
)


@pytest.mark.parametrize(
    "state",
    [
        RulesState(),
        STATE,
        RulesState(failures=1, episode_started=datetime(2026, 8, 4, 12, tzinfo=UTC)),
        # Another offset is the same instant: it comes back in UTC and compares equal.
        RulesState(
            pace_clear_since={
                "five_hour": datetime(2026, 8, 4, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
            }
        ),
    ],
    ids=["empty", "full", "whole-seconds", "other-offset"],
)
def test_rules_state_round_trips_through_json(state: RulesState) -> None:
    assert rules_state_from_dict(json.loads(json.dumps(rules_state_to_dict(state)))) == state


def test_rules_state_keeps_microseconds_and_comes_back_in_utc() -> None:
    back = rules_state_from_dict(json.loads(json.dumps(rules_state_to_dict(STATE))))
    assert back.episode_started is not None
    assert back.episode_started.microsecond == 600_000
    assert back.episode_started.utcoffset() == timedelta(0)


def test_rules_state_is_written_in_a_stable_readable_form() -> None:
    # Sorted keys and ISO times: equal states store equal text, so an unchanged state is not rewritten.
    assert rules_state_to_dict(STATE) == {
        "fired": [
            "extra:2026-08:50",
            "failure:1785844801",
            "pace:seven_day:1786042800",
            "threshold:five_hour:1785860400:75",
        ],
        "failures": 4,
        "episode_started": "2026-08-04T12:00:00.600000Z",
        "peaks": {"five_hour": [1785860400, 92.5], "seven_day_fable": [1786042800, 0.0]},
        "pace_clear_since": {"seven_day": "2026-08-04T13:05:07.123456Z"},
    }
    assert (
        rules_state_to_dict(RulesState(episode_started=datetime(2026, 8, 4, 12, tzinfo=UTC)))[
            "episode_started"
        ]
        == "2026-08-04T12:00:00Z"
    )


def _good_state() -> dict[str, Any]:
    return json.loads(json.dumps(rules_state_to_dict(STATE)))  # type: ignore[no-any-return]


def _state_with(key: str, value: object) -> dict[str, Any]:
    data = _good_state()
    data[key] = value
    return data


def _state_without(key: str) -> dict[str, Any]:
    data = _good_state()
    del data[key]
    return data


@pytest.mark.parametrize(
    "data",
    [
        {},
        [],
        None,
        _state_without("fired"),
        _state_with("fired", "threshold:five_hour:1785860400:75"),
        _state_with("fired", ["ok", 3]),
        _state_with("fired", {"a": True}),
        _state_without("failures"),
        _state_with("failures", "4"),
        _state_with("failures", 4.0),
        _state_with("failures", True),
        _state_with("failures", -1),
        _state_with("episode_started", "yesterday"),
        _state_with("episode_started", 1785844800),
        _state_without("peaks"),
        _state_with("peaks", [["five_hour", 1785860400, 92.5]]),
        _state_with("peaks", {"five_hour": [1785860400]}),
        _state_with("peaks", {"five_hour": [1785860400, 92.5, 1]}),
        _state_with("peaks", {"five_hour": ["1785860400", 92.5]}),
        _state_with("peaks", {"five_hour": [1785860400.0, 92.5]}),
        _state_with("peaks", {"five_hour": [True, 92.5]}),
        _state_with("peaks", {"five_hour": [1785860400, "92.5"]}),
        _state_with("peaks", {"five_hour": [1785860400, None]}),
        _state_with("peaks", {"five_hour": {"period": 1785860400, "peak": 92.5}}),
        _state_without("pace_clear_since"),
        _state_with("pace_clear_since", None),
        _state_with("pace_clear_since", {"seven_day": None}),
        _state_with("pace_clear_since", {"seven_day": "soon"}),
        _state_with("pace_clear_since", {"seven_day": 1785849907}),
    ],
)
def test_malformed_rules_state_raises_shape_error(data: Any) -> None:
    with pytest.raises(ShapeError):
        rules_state_from_dict(data)
