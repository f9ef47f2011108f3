"""Claude Code's OAuth endpoints simulated: the usage body of every scenario, the profile, token refresh."""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Container
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any

from tray_app.demo.common import JSON, RATE_LIMIT_MESSAGE, DemoResponse, envelope, json_response, usage_window
from tray_app.demo.shapes_2026 import BODIES, SCENARIOS_2026

# Under these the profile endpoint fails like the usage endpoint, so a client never sees a
# working profile next to a failing usage call.
_FAILING_SCENARIOS: tuple[str, ...] = (
    "unauthorized",
    "expired",
    "scope",
    "rate_limited",
    "rate_limited_date",
    "rate_limited_zero",
    "rate_limited_none",
    "server_error",
    "overloaded",
    "html",
)
SCENARIOS: tuple[str, ...] = (
    "rising",
    "full",
    "minimal",
    "enterprise",
    "no_usage_yet",
    *_FAILING_SCENARIOS,
    "html_ok",
    "truncated",
    "slow",
    *SCENARIOS_2026,
)

USAGE_PATH = "/api/oauth/usage"
PROFILE_PATH = "/api/oauth/profile"
TOKEN_PATH = "/v1/oauth/token"
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"

_HOUR = 3600.0
_SESSION_PERIOD = 5 * _HOUR
# The rising scenario starts two hours into a session so the first look already shows some usage.
VIRTUAL_START = 2 * _HOUR
_WEEKLY_RESET_AFTER = 3 * 24 * _HOUR

_TOKEN_SCOPE = "user:inference user:profile user:sessions:claude_code user:mcp_servers user:file_upload"
_HTML = "text/html; charset=utf-8"

# api-reference 1.4.3, kept as text so no module-level object can be mutated by a caller.
_FULL_EXAMPLE = """
{
  "five_hour": {"utilization": 10.0, "resets_at": "2026-08-04T16:20:00.001100+00:00",
                "limit_dollars": null, "used_dollars": null, "remaining_dollars": null},
  "seven_day": {"utilization": 29.0, "resets_at": "2026-08-06T19:00:00.001127+00:00",
                "limit_dollars": null, "used_dollars": null, "remaining_dollars": null},
  "seven_day_oauth_apps": null,
  "seven_day_opus": null,
  "seven_day_sonnet": null,
  "seven_day_cowork": null,
  "iguana_necktie": null,
  "extra_usage": {
    "is_enabled": false, "monthly_limit": 4000, "used_credits": 0.0, "utilization": 0.0,
    "currency": "EUR", "decimal_places": 2, "disabled_reason": "out_of_credits",
    "user_disabled": false, "spend_limit_reached": false, "credits_ever_enabled": true,
    "daily": null, "weekly": null
  },
  "limits": [
    {"kind": "session", "group": "session", "percent": 10, "severity": "normal",
     "resets_at": "2026-08-04T16:20:00.001100+00:00", "scope": null, "is_active": false},
    {"kind": "weekly_all", "group": "weekly", "percent": 29, "severity": "normal",
     "resets_at": "2026-08-06T19:00:00.001127+00:00", "scope": null, "is_active": false},
    {"kind": "weekly_scoped", "group": "weekly", "percent": 32, "severity": "normal",
     "resets_at": "2026-08-06T19:00:00.001438+00:00",
     "scope": {"model": {"id": null, "display_name": "Fable"}, "surface": null},
     "is_active": true}
  ],
  "spend": {
    "used":  {"amount_minor": 0,    "currency": "EUR", "exponent": 2},
    "limit": {"amount_minor": 4000, "currency": "EUR", "exponent": 2},
    "percent": 0, "severity": "normal", "enabled": false, "disabled_reason": "out_of_credits",
    "cap": {"money": {"amount_minor": 4000, "currency": "EUR", "exponent": 2}, "credits": null},
    "balance": null, "auto_reload": null, "disclaimer": "\u2026",
    "can_purchase_credits": false, "can_toggle": false
  },
  "member_dashboard_available": false
}
"""

# api-reference 1.4.3, "Older/minimal shape".
_MINIMAL_EXAMPLE = """
{
  "five_hour": {"utilization": 61.0, "resets_at": "2026-01-28T07:59:59.571404+00:00"},
  "seven_day": {"utilization": 22.0, "resets_at": "2026-02-03T09:59:59.571468+00:00"},
  "seven_day_oauth_apps": null,
  "seven_day_opus": {"utilization": 0.0, "resets_at": null},
  "extra_usage": {"is_enabled": false, "monthly_limit": null, "used_credits": null, "utilization": null}
}
"""

# api-reference 1.5.
_PROFILE = """
{
  "account": {
    "uuid": "11111111-1111-4111-8111-111111111111",
    "full_name": "Jane Doe",
    "display_name": "Jane",
    "email": "jane@example.com",
    "has_claude_max": true,
    "has_claude_pro": false,
    "created_at": "2025-03-01T12:00:00.000000Z"
  },
  "organization": {
    "uuid": "22222222-2222-4222-8222-222222222222",
    "name": "jane@example.com's Organization",
    "organization_type": "claude_max",
    "billing_type": "stripe_subscription",
    "rate_limit_tier": "default_claude_max_5x",
    "seat_tier": null,
    "has_extra_usage_enabled": false,
    "subscription_status": "active",
    "subscription_created_at": "2025-03-01T12:00:00.000000Z",
    "cc_onboarding_flags": {},
    "claude_code_trial_ends_at": null,
    "claude_code_trial_duration_days": null,
    "payment_auth_hosted_invoice_url": null
  },
  "application": {"uuid": "33333333-3333-4333-8333-333333333333", "name": "Claude Code",
                  "slug": "claude-code"},
  "enabled_plugins": []
}
"""

_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_CAPTIVE_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in to Hotel WiFi</title></head>\n"
    b'<body><h1>Welcome!</h1><form method="post" action="/login">'
    b'<input name="room"><input name="surname"><button>Connect</button></form></body></html>\n'
)


def epoch_at(virtual_seconds: float, started_at: float, speed: float) -> float:
    return started_at + (virtual_seconds - VIRTUAL_START) / speed


def _stamp(epoch: float, microseconds: int) -> str:
    # Whole seconds rounded up (never before the true end of the period) plus the small fraction the
    # real server shows, e.g. "2026-08-04T16:20:00.001100+00:00".
    moment = datetime.fromtimestamp(math.ceil(epoch), tz=UTC) + timedelta(microseconds=microseconds)
    return moment.isoformat()


def _severity(percent: int) -> str:
    if percent >= 90:
        return "critical"
    return "warning" if percent >= 75 else "normal"


def _limit(kind: str, utilization: float, resets_at: str, scope: dict[str, Any] | None) -> dict[str, Any]:
    percent = round(utilization)
    return {
        "kind": kind,
        "group": "session" if kind == "session" else "weekly",
        "percent": percent,
        "severity": _severity(percent),
        "resets_at": resets_at,
        "scope": scope,
        "is_active": False,
    }


def _money(amount_minor: int) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "USD", "exponent": 2}


def _rising_extras() -> dict[str, Any]:
    return {
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 4000,
            "used_credits": 1234.0,
            "utilization": round(1234.0 / 4000 * 100, 2),
            "currency": "USD",
            "decimal_places": 2,
            "disabled_reason": None,
            "user_disabled": False,
            "spend_limit_reached": False,
            "credits_ever_enabled": True,
            "daily": None,
            "weekly": None,
        },
        "spend": {
            "used": _money(1234),
            "limit": _money(4000),
            "percent": 31,
            "severity": "normal",
            "enabled": True,
            "disabled_reason": None,
            "cap": {"money": _money(4000), "credits": None},
            "balance": None,
            "auto_reload": None,
            "disclaimer": "Demo data: no real spend.",
            "can_purchase_credits": False,
            "can_toggle": False,
        },
        "member_dashboard_available": False,
    }


def rising_usage_body(
    virtual_seconds: float, *, started_at: float | None = None, speed: float = 1.0
) -> dict[str, Any]:
    """The "rising" /api/oauth/usage body at a virtual time (seconds since the simulated history began).

    `started_at` is the Unix time at which the virtual clock read 2 h (the server start); when None it is
    now, so callers building several bodies for one history must pass one value to get equal resets_at.
    """
    anchor = time.time() if started_at is None else started_at
    hours = virtual_seconds / _HOUR
    period_start = math.floor(virtual_seconds / _SESSION_PERIOD) * _SESSION_PERIOD
    session = round(min(100.0, 22.0 * (virtual_seconds - period_start) / _HOUR), 1)
    weekly = round(min(100.0, 41.0 + 0.4 * hours), 1)
    scoped = round(min(100.0, 32.0 + 0.3 * hours), 1)
    session_reset = _stamp(epoch_at(period_start + _SESSION_PERIOD, anchor, speed), 1100)
    weekly_end = epoch_at(VIRTUAL_START + _WEEKLY_RESET_AFTER, anchor, speed)
    weekly_reset = _stamp(weekly_end, 1127)
    fable = {"model": {"id": None, "display_name": "Fable"}, "surface": None}
    limits = [
        _limit("session", session, session_reset, None),
        _limit("weekly_all", weekly, weekly_reset, None),
        _limit("weekly_scoped", scoped, _stamp(weekly_end, 1438), fable),
    ]
    # The real server flags the limit that binds first; the fullest one is the closest stand-in.
    max(limits, key=lambda entry: int(entry["percent"]))["is_active"] = True
    return {
        "five_hour": usage_window(session, session_reset),
        "seven_day": usage_window(weekly, weekly_reset),
        "seven_day_oauth_apps": None,
        "seven_day_opus": None,
        "seven_day_sonnet": None,
        "seven_day_cowork": None,
        "iguana_necktie": None,
        "limits": limits,
        **_rising_extras(),
    }


def _shift_resets(value: Any, delta: timedelta) -> Any:
    if isinstance(value, dict):
        shifted: dict[str, Any] = {}
        for key, item in value.items():
            if key == "resets_at" and isinstance(item, str):
                shifted[key] = (datetime.fromisoformat(item) + delta).isoformat()
            else:
                shifted[key] = _shift_resets(item, delta)
        return shifted
    if isinstance(value, list):
        return [_shift_resets(item, delta) for item in value]
    return value


def _future_example(text: str, now: float) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text)
    base = datetime.fromisoformat(body["five_hour"]["resets_at"]).timestamp()
    # Whole hours keep each timestamp's minutes, seconds and microseconds; the session lands 2-3 h ahead.
    hours = math.ceil((now + 2 * _HOUR - base) / _HOUR)
    shifted: dict[str, Any] = _shift_resets(body, timedelta(hours=hours))
    return shifted


def _enterprise_body() -> dict[str, Any]:
    return {
        "five_hour": None,
        "seven_day": None,
        "seven_day_opus": None,
        "seven_day_sonnet": None,
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 100000,
            "used_credits": 4132,
            "utilization": 4.13,
            "currency": "USD",
            "decimal_places": 2,
        },
    }


def _no_usage_body(now: float) -> dict[str, Any]:
    week_end = datetime.fromtimestamp(math.ceil(now / _HOUR) * _HOUR + 6 * 24 * _HOUR, tz=UTC)
    lantern_end = datetime.fromtimestamp(math.ceil(now / _HOUR) * _HOUR + 3 * _HOUR, tz=UTC)
    return {
        "five_hour": {"utilization": 0.0, "resets_at": None},
        "seven_day": {"utilization": 5, "resets_at": week_end.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "seven_day_opus": None,
        # Codename windows appear without notice: shown under "Other limits" while above 0 %, never a crash.
        "harbor_lantern": {"utilization": 50.0, "resets_at": lantern_end.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
        "cinder_cove": {"utilization": 12, "resets_at": None},
        "wattle_ember": None,
        "extra_usage": {
            "is_enabled": False,
            "monthly_limit": None,
            "used_credits": None,
            "utilization": None,
        },
    }


def _rate_limited(*headers: tuple[str, str]) -> DemoResponse:
    return json_response(429, {"error": {"message": RATE_LIMIT_MESSAGE, "type": "rate_limit_error"}}, headers)


def _token_fields(content_type: str, body: bytes) -> dict[str, str]:
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            return {}
        if not isinstance(decoded, dict):
            return {}
        return {str(key): value for key, value in decoded.items() if isinstance(value, str)}
    return {key: values[0] for key, values in urllib.parse.parse_qs(text).items()}


def check_scenario(name: str) -> None:
    if name not in SCENARIOS:
        raise ValueError(f"unknown demo scenario {name!r}; known: {', '.join(SCENARIOS)}")


def _invalid_bearer() -> DemoResponse:
    return envelope(401, "authentication_error", "Invalid bearer token", details=True)


def _truncated(rising: dict[str, Any]) -> DemoResponse:
    full = json.dumps(rising).encode("utf-8")
    return DemoResponse(200, full[: len(full) // 2], (("Content-Type", JSON),))


def _usage_answer(
    scenario: str, clock: Callable[[], float], rising_body: Callable[[], dict[str, Any]], slow_seconds: float
) -> DemoResponse:
    # Only the chosen scenario's answer is built, so the clock is read (and the body made) only for it.
    answers: dict[str, Callable[[], DemoResponse]] = {
        "rising": lambda: json_response(200, rising_body()),
        "full": lambda: json_response(200, _future_example(_FULL_EXAMPLE, clock())),
        "minimal": lambda: json_response(200, _future_example(_MINIMAL_EXAMPLE, clock())),
        "enterprise": lambda: json_response(200, _enterprise_body()),
        "no_usage_yet": lambda: json_response(200, _no_usage_body(clock())),
        "unauthorized": _invalid_bearer,
        "expired": lambda: envelope(
            401,
            "authentication_error",
            "OAuth token has expired. Please obtain a new token or refresh your existing token.",
        ),
        "scope": lambda: envelope(
            403,
            "permission_error",
            "OAuth token does not meet scope requirement user:profile",
            details=True,
        ),
        "rate_limited": lambda: _rate_limited(("retry-after", "300")),
        "rate_limited_date": lambda: _rate_limited(("retry-after", formatdate(clock() + 120, usegmt=True))),
        "rate_limited_zero": lambda: _rate_limited(("retry-after", "0")),
        "rate_limited_none": lambda: _rate_limited(),
        "server_error": lambda: json_response(
            500, {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
        ),
        "overloaded": lambda: envelope(529, "overloaded_error", "Overloaded"),
        "html": lambda: DemoResponse(502, _BAD_GATEWAY_PAGE, (("Content-Type", _HTML),)),
        "html_ok": lambda: DemoResponse(200, _CAPTIVE_PAGE, (("Content-Type", _HTML),)),
        "truncated": lambda: _truncated(rising_body()),
        "slow": lambda: replace(json_response(200, rising_body()), delay=slow_seconds),
    }
    if scenario in BODIES:
        return json_response(200, BODIES[scenario](clock()))
    return answers[scenario]()


def oauth_answer(
    path: str,
    headers: dict[str, str],
    *,
    access_tokens: Container[str],
    scenario: str,
    clock: Callable[[], float],
    rising_body: Callable[[], dict[str, Any]],
    slow_seconds: float,
) -> DemoResponse:
    """GET /api/oauth/usage or /api/oauth/profile with the headers the client sent."""
    authorization = headers.get("authorization", "")
    token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
    if token not in access_tokens:
        return _invalid_bearer()
    agent = headers.get("user-agent", "")
    cli = agent.startswith("claude-cli/") and agent.endswith("(external, cli)")
    if path == USAGE_PATH and not (agent.startswith("claude-code/") or cli):
        # The real server puts unknown agents in a far stricter bucket that answers 429 at once; the CLI's
        # own full string (which the free-resets request sends) is not unknown, a near miss of it is.
        return _rate_limited(("retry-after", "0"))
    if path == PROFILE_PATH and scenario not in _FAILING_SCENARIOS:
        return json_response(200, json.loads(_PROFILE))
    return _usage_answer(scenario, clock, rising_body, slow_seconds)


def _rotate(
    old: str, lock: threading.Lock, access_tokens: set[str], refresh_tokens: set[str]
) -> tuple[str, str] | None:
    with lock:
        if old not in refresh_tokens:
            return None
        # Rotation: the old refresh token dies; the old access token lives until it expires.
        refresh_tokens.discard(old)
        access = "sk-ant-oat01-demo-" + secrets.token_hex(16)
        refresh = "sk-ant-ort01-demo-" + secrets.token_hex(16)
        access_tokens.add(access)
        refresh_tokens.add(refresh)
    return access, refresh


def refresh_answer(
    headers: dict[str, str],
    body: bytes,
    *,
    lock: threading.Lock,
    access_tokens: set[str],
    refresh_tokens: set[str],
) -> DemoResponse:
    """POST /v1/oauth/token; the token sets are changed under lock, as the handler threads share them."""
    fields = _token_fields(headers.get("content-type", ""), body)
    if fields.get("grant_type") != "refresh_token" or fields.get("client_id") != CLIENT_ID:
        return json_response(400, {"error": "invalid_request", "error_description": "Invalid request format"})
    # Opposite of the usage endpoint: the token endpoint throttles Claude Code's own agent string.
    if headers.get("user-agent", "").startswith("claude-code/"):
        return json_response(429, {"error": {"type": "rate_limit_error", "message": RATE_LIMIT_MESSAGE}})
    issued = _rotate(fields.get("refresh_token", ""), lock, access_tokens, refresh_tokens)
    if issued is None:
        return json_response(
            400, {"error": "invalid_grant", "error_description": "Refresh token not found or invalid"}
        )
    access, refresh = issued
    profile = json.loads(_PROFILE)
    return json_response(
        200,
        {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 28800,
            "scope": _TOKEN_SCOPE,
            "account": {"uuid": profile["account"]["uuid"], "email_address": profile["account"]["email"]},
            "organization": {
                "uuid": profile["organization"]["uuid"],
                "name": profile["organization"]["name"],
            },
        },
    )
