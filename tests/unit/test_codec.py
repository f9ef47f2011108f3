"""The stored-model codec: exact round trips and ShapeError on anything malformed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tray_app.core.codec import account_from_dict, account_to_dict, usage_from_dict, usage_to_dict
from tray_app.core.errors import ShapeError
from tray_app.core.models import Account, CodeUsage, ExtraUsage, UsageWindow

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
