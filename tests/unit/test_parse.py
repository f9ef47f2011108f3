"""Every usage, profile, credentials and header shape of api-reference section 1."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tray_app.core.errors import CredentialsError, ShapeError
from tray_app.core.parse import (
    api_error_message,
    parse_credentials,
    parse_profile,
    parse_retry_after,
    parse_token_grant,
    parse_usage,
    plan_name,
)

FULL_BODY: dict[str, Any] = {
    "five_hour": {
        "utilization": 10.0,
        "resets_at": "2026-08-04T16:20:00.001100+00:00",
        "limit_dollars": None,
        "used_dollars": None,
        "remaining_dollars": None,
    },
    "seven_day": {"utilization": 29.0, "resets_at": "2026-08-06T19:00:00.001127+00:00"},
    "seven_day_oauth_apps": None,
    "seven_day_opus": None,
    "seven_day_sonnet": None,
    "iguana_necktie": None,
    "extra_usage": {
        "is_enabled": False,
        "monthly_limit": 4000,
        "used_credits": 0.0,
        "utilization": 0.0,
        "currency": "EUR",
        "decimal_places": 2,
        "disabled_reason": "out_of_credits",
    },
    "limits": [
        {
            "kind": "session",
            "group": "session",
            "percent": 10,
            "severity": "normal",
            "resets_at": "2026-08-04T16:20:00.001100+00:00",
            "scope": None,
            "is_active": False,
        },
        {
            "kind": "weekly_all",
            "group": "weekly",
            "percent": 29,
            "severity": "normal",
            "resets_at": "2026-08-06T19:00:00.001127+00:00",
            "scope": None,
            "is_active": False,
        },
        {
            "kind": "weekly_scoped",
            "group": "weekly",
            "percent": 32,
            "severity": "normal",
            "resets_at": "2026-08-06T19:00:00.001438+00:00",
            "scope": {"model": {"id": None, "display_name": "Fable"}, "surface": None},
            "is_active": True,
        },
    ],
    "spend": {"used": {"amount_minor": 0, "currency": "EUR", "exponent": 2}},
    "member_dashboard_available": False,
}


def ids(body: dict[str, Any]) -> list[tuple[str, str, float]]:
    return [(w.id, w.label, w.utilization) for w in parse_usage(body).windows]


def test_full_current_shape() -> None:
    usage = parse_usage(FULL_BODY)
    assert ids(FULL_BODY) == [
        ("five_hour", "5-hour", 10.0),
        ("seven_day", "Weekly", 29.0),
        ("seven_day_fable", "Weekly · Fable", 32.0),
    ]
    assert usage.window("five_hour").resets_at == datetime(2026, 8, 4, 16, 20, 0, 1100, tzinfo=UTC)  # type: ignore[union-attr]
    extra = usage.extra_usage
    assert extra is not None
    assert (extra.enabled, extra.used, extra.limit, extra.currency) == (False, 0.0, 40.0, "EUR")


def test_minimal_old_shape() -> None:
    body = {
        "five_hour": {"utilization": 61.0, "resets_at": "2026-01-28T07:59:59.571404+00:00"},
        "seven_day": {"utilization": 22.0, "resets_at": "2026-02-03T09:59:59.571468+00:00"},
        "seven_day_oauth_apps": None,
        "seven_day_opus": {"utilization": 0.0, "resets_at": None},
        "extra_usage": {
            "is_enabled": False,
            "monthly_limit": None,
            "used_credits": None,
            "utilization": None,
        },
    }
    usage = parse_usage(body)
    assert ids(body) == [
        ("five_hour", "5-hour", 61.0),
        ("seven_day", "Weekly", 22.0),
        ("seven_day_opus", "Weekly · Opus", 0.0),
    ]
    assert usage.window("seven_day_opus").resets_at is None  # type: ignore[union-attr]
    assert usage.extra_usage is None  # disabled and empty: nothing to show


def test_enterprise_credit_only_shape() -> None:
    body = {
        "five_hour": None,
        "seven_day": None,
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 100000,
            "used_credits": 4132,
            "utilization": 4.13,
        },
    }
    usage = parse_usage(body)
    assert usage.windows == ()
    assert usage.extra_usage is not None
    assert (usage.extra_usage.used, usage.extra_usage.limit, usage.extra_usage.currency) == (
        41.32,
        1000.0,
        "USD",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(61, 61.0), (61.5, 61.5), (0, 0.0), (-3, 0.0), (150.0, 100.0), ("61", None), (True, None), (None, None)],
)
def test_utilization_int_float_and_nonsense(raw: object, expected: float | None) -> None:
    body = {"five_hour": {"utilization": raw, "resets_at": "2026-08-04T16:20:00Z"}}
    windows = parse_usage(body).windows
    assert (windows[0].utilization if windows else None) == expected


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-08-04T16:20:00Z",
        "2026-08-04T16:20:00.000Z",
        "2026-08-04T16:20:00+00:00",
        "2026-08-04T18:20:00+02:00",
    ],
)
def test_z_and_offset_timestamps(stamp: str) -> None:
    window = parse_usage({"five_hour": {"utilization": 1, "resets_at": stamp}}).windows[0]
    assert window.resets_at == datetime(2026, 8, 4, 16, 20, tzinfo=UTC)


def test_unparseable_reset_time_keeps_the_figure() -> None:
    window = parse_usage({"five_hour": {"utilization": 5, "resets_at": "soon"}}).windows[0]
    assert (window.utilization, window.resets_at) == (5.0, None)


def test_unknown_codename_keys_are_ignored() -> None:
    body = {
        "seven_day": {"utilization": 3, "resets_at": None},
        "harbor_lantern": {"utilization": 50.0, "resets_at": "2026-08-04T16:20:00Z"},
        "tangelo": {"utilization": 7},
        "new_flag": True,
    }
    assert ids(body) == [("seven_day", "Weekly", 3.0)]


def test_limits_fill_missing_flat_windows() -> None:
    body = {"five_hour": None, "limits": FULL_BODY["limits"]}
    assert ids(body)[:2] == [("five_hour", "5-hour", 10.0), ("seven_day", "Weekly", 29.0)]


def test_limits_replace_flat_model_windows() -> None:
    body = {
        "seven_day_sonnet": {"utilization": 11.0, "resets_at": None},
        "limits": [
            {
                "kind": "weekly_scoped",
                "percent": 12,
                "resets_at": "2026-08-06T19:00:00Z",
                "scope": {"model": {"id": "claude-sonnet", "display_name": "Sonnet"}},
            }
        ],
    }
    assert ids(body) == [("seven_day_sonnet", "Weekly · Sonnet", 12.0)]


def test_malformed_limits_entries_are_skipped() -> None:
    body = {
        "limits": [
            None,
            3,
            {"kind": "weekly_scoped", "percent": "x", "scope": {"model": {"display_name": "A"}}},
            {"kind": "weekly_scoped", "percent": 5, "scope": None},
            {"kind": "weekly_scoped", "percent": 5, "scope": {"model": {"display_name": "Big Model 2"}}},
        ]
    }
    assert ids(body) == [("seven_day_big_model_2", "Weekly · Big Model 2", 5.0)]


@pytest.mark.parametrize("body", [[], "text", None, 3])
def test_non_object_body_is_a_shape_error(body: object) -> None:
    with pytest.raises(ShapeError):
        parse_usage(body)


@pytest.mark.parametrize(
    ("extra", "used", "limit", "currency"),
    [
        ({"is_enabled": True, "monthly_limit": 2050, "used_credits": 325}, 3.25, 20.5, "USD"),
        (
            {"is_enabled": True, "monthly_limit": 4000, "used_credits": 20035.0, "currency": "eur"},
            200.35,
            40.0,
            "EUR",
        ),
        (
            {
                "is_enabled": True,
                "monthly_limit": 5000,
                "used_credits": 1234,
                "decimal_places": 0,
                "currency": "JPY",
            },
            1234.0,
            5000.0,
            "JPY",
        ),
        ({"is_enabled": True, "monthly_limit": None, "used_credits": 150}, 1.5, None, "USD"),
    ],
)
def test_extra_usage_minor_units(
    extra: dict[str, Any], used: float, limit: float | None, currency: str
) -> None:
    parsed = parse_usage({"extra_usage": extra}).extra_usage
    assert parsed is not None
    assert parsed.used == pytest.approx(used)
    assert (parsed.limit, parsed.currency) == (limit, currency)


def test_profile() -> None:
    body = {
        "account": {"email": "jane@example.com"},
        "organization": {
            "name": "Jane's Org",
            "organization_type": "claude_max",
            "rate_limit_tier": "default_claude_max_20x",
        },
    }
    account = parse_profile(body)
    assert (account.email, account.plan, account.organization) == (
        "jane@example.com",
        "Max 20x",
        "Jane's Org",
    )
    assert parse_profile({"account": {"email_address": "x@y.z"}}).email == "x@y.z"
    assert parse_profile({"account": None, "organization": "odd"}).email is None


@pytest.mark.parametrize(
    ("plan", "tier", "expected"),
    [
        ("claude_pro", None, "Pro"),
        ("max", "default_claude_max_5x", "Max 5x"),
        ("team", None, "Team"),
        ("claude_enterprise", None, "Enterprise"),
        ("something_new", None, None),
        (None, None, None),
    ],
)
def test_plan_names(plan: object, tier: object, expected: str | None) -> None:
    assert plan_name(plan, tier) == expected


def creds_doc(**oauth: object) -> dict[str, Any]:
    base: dict[str, object] = {
        "accessToken": "sk-ant-oat01-AAA",
        "refreshToken": "sk-ant-ort01-BBB",
        "expiresAt": 1776485530581,
        "scopes": ["user:inference", "user:profile"],
    }
    base.update(oauth)
    return {
        "claudeAiOauth": {k: v for k, v in base.items() if v is not ...},
        "mcpOAuth": {"x": 1},
        "organizationUuid": "o",
    }


def test_credentials_full() -> None:
    creds = parse_credentials(creds_doc(subscriptionType="max", rateLimitTier="default_claude_max_5x"))
    assert creds.access_token == "sk-ant-oat01-AAA"
    assert creds.expires_at == datetime(2026, 4, 18, 4, 12, 10, 581000, tzinfo=UTC)
    assert creds.scopes == ("user:inference", "user:profile")
    assert "sk-ant" not in repr(creds)  # tokens never print


@pytest.mark.parametrize(
    ("change", "scopes", "has_expiry"),
    [
        ({"scopes": ...}, None, True),
        ({"scopes": "user:profile"}, None, True),
        ({"scopes": []}, None, True),
        ({"expiresAt": ...}, ("user:inference", "user:profile"), False),
        ({"expiresAt": "tomorrow"}, ("user:inference", "user:profile"), False),
    ],
)
def test_credentials_tolerate_odd_fields(
    change: dict[str, object], scopes: tuple[str, ...] | None, has_expiry: bool
) -> None:
    creds = parse_credentials(creds_doc(**change))
    assert creds.scopes == scopes
    assert (creds.expires_at is not None) == has_expiry


@pytest.mark.parametrize(
    "document",
    [[], {"mcpOAuth": {}}, {"claudeAiOauth": "x"}, {"claudeAiOauth": {"refreshToken": "sk-ant-ort01-B"}}],
)
def test_credentials_without_a_login(document: object) -> None:
    with pytest.raises(CredentialsError) as caught:
        parse_credentials(document)
    assert "claude" in str(caught.value)
    assert "sk-ant" not in str(caught.value)


NOW = datetime(2026, 8, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("300", 300.0),
        ("0", 0.0),
        ("Tue, 04 Aug 2026 12:02:00 GMT", 120.0),
        ("Tue, 04 Aug 2026 11:00:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_token_grant() -> None:
    grant = parse_token_grant(
        {"access_token": "sk-ant-oat01-N", "refresh_token": "sk-ant-ort01-M", "expires_in": 28800}
    )
    assert (grant.expires_in, grant.refresh_token is not None) == (28800, True)
    assert parse_token_grant({"access_token": "sk-ant-oat01-N"}).refresh_token is None
    with pytest.raises(ShapeError):
        parse_token_grant({"token": "x"})


def test_api_error_messages() -> None:
    envelope = {
        "type": "error",
        "error": {
            "type": "permission_error",
            "message": "OAuth token does not meet scope requirement user:profile",
        },
    }
    assert api_error_message(envelope) == "OAuth token does not meet scope requirement user:profile"
    assert (
        api_error_message({"error": "invalid_grant", "error_description": "Refresh token not found"})
        == "Refresh token not found"
    )
    assert api_error_message({"error": "invalid_grant"}) == "invalid_grant"
    assert api_error_message("<html>") is None


def test_expiry_margin() -> None:
    from tray_app.core.parse import expires_soon

    creds = parse_credentials(creds_doc(expiresAt=int((NOW + timedelta(minutes=3)).timestamp() * 1000)))
    assert not expires_soon(creds, NOW, timedelta(0))
    assert expires_soon(creds, NOW, timedelta(minutes=5))
