"""Every usage, profile, credentials and header shape of api-reference section 1."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tray_app.core.errors import CredentialsError, ShapeError
from tray_app.core.parse import (
    api_error_message,
    parse_credentials,
    parse_overage,
    parse_prepaid,
    parse_profile,
    parse_retry_after,
    parse_session_cookie,
    parse_token_grant,
    parse_usage,
    parse_web_organizations,
    plan_name,
)
from tray_app.core.web import (
    Overage,
    Prepaid,
    WebOrganization,
    is_cloudflare_challenge,
    pick_organization,
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


def test_codename_keys_in_use_are_other_limits_and_flags_are_not_windows() -> None:
    body = {
        "seven_day": {"utilization": 3, "resets_at": None},
        "harbor_lantern": {"utilization": 50.0, "resets_at": "2026-08-04T16:20:00Z"},
        "tangelo": {"utilization": 7},
        "new_flag": True,
    }
    assert ids(body) == [
        ("seven_day", "Weekly", 3.0),
        ("harbor_lantern", "harbor_lantern", 50.0),
        ("tangelo", "tangelo", 7.0),
    ]
    assert [w.other for w in parse_usage(body).windows] == [False, True, True]


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
        ("claude_max", "default_claude_max_20x", "Max 20x"),
        ("claude_team", "default_claude_team_premium", "Team Premium"),
        ("claude_pro", "default_claude_ai", "Pro"),  # a tier of another name does not rename the plan
        (None, "default_claude_max_20x", "Max 20x"),  # credentials without subscriptionType
        (None, "default_raven", None),
        ("something_new", None, "Something New"),  # a plan we have no word for, still readable
        ("claude_education", None, "Education"),
        ("claude_max", "default_claude_max_50x", "Max 50x"),
        (None, None, None),
        (3, ["max"], None),
        ("???", "", None),
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


# -- claude.ai (api-reference section 2) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "limit"),
    [
        ({"is_enabled": True, "monthly_credit_limit": 5000, "used_credits": 1200}, 50.0),
        # monthly_limit wins when both are present; monthly_credit_limit only fills its absence.
        ({"is_enabled": True, "monthly_limit": 4000, "monthly_credit_limit": 5000, "used_credits": 0}, 40.0),
        ({"is_enabled": True, "monthly_limit": None, "monthly_credit_limit": 2050, "used_credits": 0}, 20.5),
    ],
)
def test_extra_usage_accepts_monthly_credit_limit(extra: dict[str, Any], limit: float) -> None:
    parsed = parse_usage({"extra_usage": extra}).extra_usage
    assert parsed is not None and parsed.limit == limit


def test_extra_usage_with_only_a_credit_limit_is_still_shown_when_disabled() -> None:
    parsed = parse_usage({"extra_usage": {"is_enabled": False, "monthly_credit_limit": 1000}}).extra_usage
    assert parsed is not None and (parsed.enabled, parsed.used, parsed.limit) == (False, 0.0, 10.0)


def test_web_organizations() -> None:
    body = [
        {"uuid": "org-api", "name": "API Org", "capabilities": ["api"]},
        {
            "uuid": "org-chat",
            "name": "jane@example.com's Organization",
            "capabilities": ["chat", "claude_max"],
            "raven_type": None,
            "rate_limit_tier": "default_claude_max_20x",
        },
        {"uuid": "org-bare"},
        {"uuid": "org-odd", "name": "", "capabilities": ["chat", 3, None]},
        {"name": "no uuid"},
        {"uuid": "  "},
        "not an object",
    ]
    assert parse_web_organizations(body) == [
        WebOrganization("org-api", "API Org", ("api",)),
        WebOrganization("org-chat", "jane@example.com's Organization", ("chat", "claude_max")),
        WebOrganization("org-bare", None, ()),
        WebOrganization("org-odd", None, ("chat",)),
    ]
    assert parse_web_organizations([]) == []


@pytest.mark.parametrize("body", [{"organizations": []}, "text", None, 3])
def test_web_organizations_must_be_an_array(body: object) -> None:
    with pytest.raises(ShapeError):
        parse_web_organizations(body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"monthly_credit_limit": 5000, "currency": "USD", "used_credits": 1200, "is_enabled": True},
            Overage(True, 12.0, 50.0, "USD"),
        ),
        (
            {"monthly_credit_limit": 4000, "currency": "eur", "used_credits": 12345.0, "is_enabled": True},
            Overage(True, 123.45, 40.0, "EUR"),
        ),
        (
            {"monthly_credit_limit": None, "used_credits": None, "is_enabled": True},
            Overage(True, 0.0, None, "USD"),
        ),
        ({"monthly_limit": 3000, "used_credits": 5, "is_enabled": True}, Overage(True, 0.05, 30.0, "USD")),
        (
            {
                "monthly_credit_limit": 5000,
                "used_credits": 7,
                "currency": "JPY",
                "decimal_places": 0,
                "is_enabled": True,
            },
            Overage(True, 7.0, 5000.0, "JPY"),
        ),
        ({"monthly_credit_limit": 5000, "currency": "USD", "used_credits": 1200, "is_enabled": False}, None),
        ({"monthly_credit_limit": 5000, "currency": "USD", "used_credits": 1200, "is_enabled": "true"}, None),
        ({"monthly_credit_limit": 5000, "currency": "USD", "used_credits": 1200}, None),
    ],
)
def test_overage(body: dict[str, Any], expected: Overage | None) -> None:
    assert parse_overage(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"amount": 10000, "currency": "USD"}, Prepaid(100.0, "USD")),
        ({"amount": 2550.0, "currency": "eur"}, Prepaid(25.5, "EUR")),
        ({"amount": 0, "currency": "USD"}, Prepaid(0.0, "USD")),
        ({"amount": 10000, "currency": None}, None),
        ({"amount": 0, "currency": None}, None),
        ({"amount": None, "currency": "USD"}, None),
        ({}, None),
    ],
)
def test_prepaid(body: dict[str, Any], expected: Prepaid | None) -> None:
    assert parse_prepaid(body) == expected


@pytest.mark.parametrize("parse", [parse_overage, parse_prepaid])
@pytest.mark.parametrize("body", [[], "text", None])
def test_web_money_bodies_must_be_objects(parse: Any, body: object) -> None:
    with pytest.raises(ShapeError):
        parse(body)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["sessionKey=sk-ant-sid01-new; Path=/; Secure; HttpOnly"], "sk-ant-sid01-new"),
        (
            [
                "__cf_bm=abc; path=/; expires=Sat, 25 Jul 2026 17:50:00 GMT; HttpOnly; Secure",
                "sessionKey=sk-ant-sid01-new; Path=/; Secure; HttpOnly",
            ],
            "sk-ant-sid01-new",
        ),
        (
            ["sessionKey=sk-ant-sid01-old; Path=/", "sessionKey=sk-ant-sid01-newest; Path=/"],
            "sk-ant-sid01-newest",
        ),
        (['sessionKey="sk-ant-sid01-quoted"; Path=/'], "sk-ant-sid01-quoted"),
        ([" sessionKey = sk-ant-sid01-spaced ;Path=/"], "sk-ant-sid01-spaced"),
        (["sessionKey=; Path=/; Max-Age=0"], None),
        (["sessionKey=deleted; Path=/"], None),
        (["sessionkey=sk-ant-sid01-wrong-case"], None),
        (["lastActiveOrg=sk-ant-sid01-not-a-session"], None),
        (["sessionKey"], None),
        ([], None),
    ],
)
def test_session_cookie_renewal(headers: list[str], expected: str | None) -> None:
    assert parse_session_cookie(headers) == expected


_CHALLENGE_PAGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>"


@pytest.mark.parametrize(
    ("status", "cf_mitigated", "content_type", "body", "expected"),
    [
        (403, "challenge", "text/html; charset=UTF-8", _CHALLENGE_PAGE, True),
        (403, "Challenge", None, b"", True),
        (503, "challenge", "text/html", b"", True),
        (403, None, "text/html; charset=UTF-8", _CHALLENGE_PAGE, True),
        (403, None, "text/html", b"<html><script>window._cf_chl_opt={};</script></html>", True),
        (503, None, None, b"<html><title>JUST A MOMENT...</title></html>", True),
        # Not the browser check: a JSON refusal, a block page, another status, an unrelated mitigation.
        (403, None, "application/json", b'{"error": {"message": "Just a moment"}}', False),
        (403, None, "text/html", b"<html><title>Access denied</title></html>", False),
        (401, "challenge", "text/html", _CHALLENGE_PAGE, False),
        (200, None, "text/html", _CHALLENGE_PAGE, False),
        (429, None, "text/html", _CHALLENGE_PAGE, False),
        (403, "block", "text/plain", b"blocked", False),
    ],
)
def test_cloudflare_challenge(
    status: int, cf_mitigated: str | None, content_type: str | None, body: bytes, expected: bool
) -> None:
    assert is_cloudflare_challenge(status, cf_mitigated, content_type, body) is expected


_API = WebOrganization("u-api", "API Org", ("api",))
_API_PLUS = WebOrganization("u-api-plus", "Billing", ("api", "billing"))
_CHAT = WebOrganization("u-chat", "Jane's Organization", ("chat", "claude_max"))
_CHAT_2 = WebOrganization("u-chat-2", "Team", ("chat",))
_NAMELESS = WebOrganization("u-nameless", None, ())


@pytest.mark.parametrize(
    ("orgs", "wanted", "expected"),
    [
        ([_API, _CHAT, _CHAT_2], None, _CHAT),
        ([_API, _API_PLUS, _CHAT_2], None, _CHAT_2),
        ([_API, _API_PLUS], None, _API_PLUS),
        ([_API, _NAMELESS], None, _NAMELESS),
        ([_API], None, _API),
        ([], None, None),
        ([], "u-chat", None),
        ([_API, _CHAT, _CHAT_2], "u-chat-2", _CHAT_2),
        ([_API, _CHAT, _CHAT_2], "U-API", _API),
        ([_API, _CHAT, _CHAT_2], " team ", _CHAT_2),
        ([_API, _CHAT, _CHAT_2], "API Org", _API),
        ([_API, _CHAT, _CHAT_2], "someone else's", _CHAT),
        ([_API, _CHAT, _CHAT_2], "   ", _CHAT),
        ([_API, _NAMELESS], "u-nameless", _NAMELESS),
    ],
)
def test_pick_organization(
    orgs: list[WebOrganization], wanted: str | None, expected: WebOrganization | None
) -> None:
    assert pick_organization(orgs, wanted) == expected


def test_a_uuid_match_beats_a_name_match() -> None:
    confusing = WebOrganization("u-x", "u-chat", ("chat",))
    assert pick_organization([confusing, _CHAT], "u-chat") == _CHAT
