"""Simulated Anthropic endpoints (OAuth usage, Admin API, claude.ai) on loopback, for --demo and the tests."""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import hashlib
import json
import logging
import math
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)

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
)

USAGE_PATH = "/api/oauth/usage"
PROFILE_PATH = "/api/oauth/profile"
TOKEN_PATH = "/v1/oauth/token"
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"

_HOUR = 3600.0
_SESSION_PERIOD = 5 * _HOUR
# The rising scenario starts two hours into a session so the first look already shows some usage.
_VIRTUAL_START = 2 * _HOUR
_WEEKLY_RESET_AFTER = 3 * 24 * _HOUR

_TOKEN_SCOPE = "user:inference user:profile user:sessions:claude_code user:mcp_servers user:file_upload"
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
_RATE_LIMIT_MESSAGE = "Rate limited. Please try again later."

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


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the demo server received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    query: str = ""  # the raw query string, without the "?"


@dataclass(frozen=True)
class DemoResponse:
    """A canned answer; without a content-type header it is sent as application/json."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before anything is sent (a server that does not answer in time)
    # Seconds between single body bytes: every read gets data before a read timeout, yet the whole body
    # takes far longer than any client should wait.
    drip: float = 0.0
    # Hang up after this many body bytes while Content-Length still announces the whole body.
    cut_after: int | None = None


def _epoch_at(virtual_seconds: float, started_at: float, speed: float) -> float:
    return started_at + (virtual_seconds - _VIRTUAL_START) / speed


def _stamp(epoch: float, microseconds: int) -> str:
    # Whole seconds rounded up (never before the true end of the period) plus the small fraction the
    # real server shows, e.g. "2026-08-04T16:20:00.001100+00:00".
    moment = datetime.fromtimestamp(math.ceil(epoch), tz=UTC) + timedelta(microseconds=microseconds)
    return moment.isoformat()


def _severity(percent: int) -> str:
    if percent >= 90:
        return "critical"
    return "warning" if percent >= 75 else "normal"


def _window(utilization: float, resets_at: str | None) -> dict[str, Any]:
    return {
        "utilization": utilization,
        "resets_at": resets_at,
        "limit_dollars": None,
        "used_dollars": None,
        "remaining_dollars": None,
    }


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
    session_reset = _stamp(_epoch_at(period_start + _SESSION_PERIOD, anchor, speed), 1100)
    weekly_end = _epoch_at(_VIRTUAL_START + _WEEKLY_RESET_AFTER, anchor, speed)
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
        "five_hour": _window(session, session_reset),
        "seven_day": _window(weekly, weekly_reset),
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
        # Codename windows appear without notice; clients must ignore them, not crash or show them.
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


def _json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> DemoResponse:
    return DemoResponse(status, json.dumps(payload).encode("utf-8"), (("Content-Type", _JSON), *headers))


def _rate_limited(*headers: tuple[str, str]) -> DemoResponse:
    return _json_response(
        429, {"error": {"message": _RATE_LIMIT_MESSAGE, "type": "rate_limit_error"}}, headers
    )


def _header(response: DemoResponse, name: str) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value
    return None


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


# -- Admin API (Console mode) -----------------------------------------------------------------------
#
# A made-up API organization whose figures are a pure function of the UTC day and the server clock: a
# past day always has the same figures, today's grow with the clock, weekends are idle. Money is counted
# in whole millionths of a cent, so every amount and every sum of amounts is exact.

ADMIN_SCENARIOS: tuple[str, ...] = ("normal", "rate_limited", "unauthorized", "forbidden", "server_error")
ORGANIZATION_PATH = "/v1/organizations/me"
USERS_PATH = "/v1/organizations/users"
WORKSPACES_PATH = "/v1/organizations/workspaces"
MESSAGES_REPORT_PATH = "/v1/organizations/usage_report/messages"
COST_REPORT_PATH = "/v1/organizations/cost_report"
CLAUDE_CODE_REPORT_PATH = "/v1/organizations/usage_report/claude_code"
ADMIN_API_VERSION = "2023-06-01"
DEMO_ORGANIZATION_ID = "5c3f8a2e-7d41-4b9a-9e6f-2a1d0c8b7e55"
UNITS_PER_CENT = 1_000_000

_DAY_SECONDS = 86400
# Daily report buckets per page (default, maximum); the maximum is documented, more is assumed a 400.
_REPORT_LIMITS = (7, 31)
_COST_GROUPS = frozenset({"workspace_id", "description"})
_USAGE_GROUPS = frozenset(
    {
        "api_key_id",
        "workspace_id",
        "model",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
        "account_id",
        "service_account_id",
    }
)
# Usage dimensions the demo does not vary, with the value a result shows when grouped by them.
_USAGE_FIXED_DIMENSIONS: tuple[tuple[str, str | None], ...] = (
    ("api_key_id", None),
    ("service_tier", "standard"),
    ("context_window", "0-200k"),
    ("inference_geo", "global"),
    ("speed", "standard"),
    ("account_id", None),
    ("service_account_id", None),
)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class _Model:
    id: str
    label: str  # as the cost report's descriptions name it
    # US cents per million tokens: uncached input, output, cache read, 5 min cache write, 1 h cache write
    prices: tuple[int, int, int, int, int]


_MODELS: tuple[_Model, ...] = (
    _Model("claude-sonnet-4-20250514", "Claude Sonnet 4", (300, 1500, 30, 375, 600)),
    _Model("claude-opus-4-6", "Claude Opus 4.6", (500, 2500, 50, 625, 1000)),
    _Model("claude-haiku-4-5-20251001", "Claude Haiku 4.5", (100, 500, 10, 125, 200)),
    # A model newer than any client: it must be shown and summed, not dropped.
    _Model("claude-fable-5-20261101", "Claude Fable 5", (1000, 5000, 100, 1250, 2000)),
)

# (cost report token_type, description suffix, tokens per 1000 uncached input tokens), in price order.
_TOKEN_TYPES: tuple[tuple[str, str, int], ...] = (
    ("uncached_input_tokens", "Input Tokens", 1000),
    ("output_tokens", "Output Tokens", 250),
    ("cache_read_input_tokens", "Cache Read Input Tokens", 3000),
    ("cache_creation.ephemeral_5m_input_tokens", "5m Cache Write Input Tokens", 400),
    ("cache_creation.ephemeral_1h_input_tokens", "1h Cache Write Input Tokens", 100),
)


@dataclass(frozen=True)
class _DemoWorkspace:
    id: str | None  # None: the Default Workspace, which the API never lists
    name: str
    created: date
    archived: date | None
    color: str
    usage: tuple[tuple[str, int], ...]  # (model id, uncached input tokens on an average full weekday)
    searches: int  # web searches on an average full weekday


_WORKSPACES: tuple[_DemoWorkspace, ...] = (
    _DemoWorkspace(
        None,
        "Default Workspace",
        date(2024, 10, 30),
        None,
        "#888888",
        (("claude-haiku-4-5-20251001", 400_000), ("claude-sonnet-4-20250514", 150_000)),
        0,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoProduction7Hq2Lk9",
        "Production",
        date(2024, 11, 4),
        None,
        "#6C5BB9",
        (
            ("claude-sonnet-4-20250514", 2_000_000),
            ("claude-haiku-4-5-20251001", 3_000_000),
            ("claude-fable-5-20261101", 200_000),
        ),
        40,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoResearch4Vb8Nw3x",
        "Research",
        date(2025, 1, 13),
        None,
        "#2E9E6B",
        (("claude-opus-4-6", 600_000), ("claude-fable-5-20261101", 300_000)),
        25,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoClaudeCode9Tz5Rm",
        "Claude Code",
        date(2025, 6, 2),
        None,
        "#D97757",
        (("claude-opus-4-6", 900_000), ("claude-sonnet-4-20250514", 700_000)),
        0,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoStaging2Kd6Pq8Yw",
        "Staging",
        date(2025, 3, 17),
        None,
        "#3B82C4",
        (("claude-sonnet-4-20250514", 120_000), ("claude-haiku-4-5-20251001", 200_000)),
        0,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoLegacyLab3Jm7Xc1",
        "Legacy Lab",
        date(2024, 11, 4),
        date(2025, 12, 1),
        "#B0B0B0",
        (("claude-sonnet-4-20250514", 250_000),),
        0,
    ),
)

# (id, email, name, role, added_at)
_USERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("user_01DemoJane5Wq8Hx2Lk4Pz7", "jane@example.com", "Jane Doe", "admin", "2024-10-30T23:58:27.427722Z"),
    ("user_01DemoOmar3Rt6Yb9Nc2Vm5", "omar@example.com", "Omar Haddad", "developer", "2024-11-04T09:12:44Z"),
    ("user_01DemoLiWei8Gs1Kf4Dj7Qa", "li.wei@example.com", "Li Wei", "developer", "2025-01-13T14:03:10Z"),
    (
        "user_01DemoPriya6Mn2Xs5Bt8Ke",
        "priya@example.com",
        "Priya Natarajan",
        "claude_code_user",
        "2025-03-02T08:30:00Z",
    ),
    ("user_01DemoSam4Hw7Ul1Zo3Fi9c", "sam@example.com", "Sam Okafor", "billing", "2025-04-22T16:45:51Z"),
    ("user_01DemoAna2Pe5Rj8Cy1Tu4n", "ana@example.com", "Ana Souza", "user", "2025-06-02T10:00:00Z"),
    (
        "user_01DemoMax9Lq3Wv6Ad2Gh5s",
        "max@example.com",
        "Max Müller",
        "claude_code_user",
        "2025-09-15T07:20:33Z",
    ),
)


@dataclass(frozen=True)
class _Coder:
    kind: str  # "user_actor" or "api_actor"
    name: str  # the email address or the API key's name
    terminal: str
    remote: bool  # Claude Code on the web: a row of its own
    usage: tuple[tuple[str, int], ...]  # (model id, input tokens on an average full weekday)


_CODERS: tuple[_Coder, ...] = (
    _Coder(
        "user_actor",
        "jane@example.com",
        "vscode",
        False,
        (("claude-opus-4-6", 400_000), ("claude-fable-5-20261101", 60_000)),
    ),
    _Coder("user_actor", "jane@example.com", "web", True, (("claude-sonnet-4-20250514", 150_000),)),
    _Coder("user_actor", "omar@example.com", "iTerm.app", False, (("claude-sonnet-4-20250514", 300_000),)),
    _Coder(
        "user_actor",
        "li.wei@example.com",
        "tmux",
        False,
        (("claude-opus-4-6", 250_000), ("claude-haiku-4-5-20251001", 100_000)),
    ),
    _Coder("user_actor", "priya@example.com", "vscode", False, (("claude-sonnet-4-20250514", 500_000),)),
    _Coder("user_actor", "priya@example.com", "web", True, (("claude-opus-4-6", 120_000),)),
    _Coder(
        "user_actor",
        "max@example.com",
        "cursor",
        False,
        (("claude-haiku-4-5-20251001", 200_000), ("claude-sonnet-4-20250514", 80_000)),
    ),
    _Coder("api_actor", "ci-review-bot", "non-interactive", False, (("claude-opus-4-6", 350_000),)),
    _Coder(
        "api_actor", "nightly-refactor", "non-interactive", False, (("claude-sonnet-4-20250514", 600_000),)
    ),
)


class _BadRequest(Exception):
    """A query the real API refuses with 400 invalid_request_error; the message says which part."""


_Query = dict[str, list[str]]


def _model(model_id: str) -> _Model:
    return next(model for model in _MODELS if model.id == model_id)


def _spread(*parts: object) -> int:
    """A stable figure in 0-999 for the parts: the same day and names always get the same one."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 1000


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _known_seconds(day: date, known_until: datetime) -> int:
    """How much of day (seconds from its midnight) lies before known_until."""
    return int(min(_DAY_SECONDS, max(0.0, (known_until - _midnight(day)).total_seconds())))


def _scaled(average: int, spread: int, seconds: int) -> int:
    """A full day's figure between 0.5 and 1.5 times average, cut to the part of the day that is known."""
    return average * (500 + spread) // 1000 * seconds // _DAY_SECONDS


def cents_text(units: int) -> str:
    """Millionths of a cent as the cost report writes amounts: a decimal string in cents, e.g. "12.0"."""
    whole, fraction = divmod(units, UNITS_PER_CENT)
    return f"{whole}.{f'{fraction:06d}'.rstrip('0') or '0'}"


@dataclass(frozen=True)
class _Use:
    """One workspace's use of one model on one day."""

    workspace_id: str | None
    model: _Model
    tokens: tuple[int, ...]  # in _TOKEN_TYPES order
    searches: int


def _workspace_busy(workspace: _DemoWorkspace, day: date) -> bool:
    alive = workspace.created <= day and (workspace.archived is None or day < workspace.archived)
    return alive and day.weekday() < 5


def _day_usage(day: date, known_until: datetime) -> list[_Use]:
    seconds = _known_seconds(day, known_until)
    uses: list[_Use] = []
    for workspace in _WORKSPACES:
        if seconds == 0 or not _workspace_busy(workspace, day):
            continue
        for index, (model_id, average) in enumerate(workspace.usage):
            tokens = tuple(
                _scaled(average * per_thousand // 1000, _spread(day, workspace.id, model_id, kind), seconds)
                for kind, _, per_thousand in _TOKEN_TYPES
            )
            # Searches are billed per workspace; the usage report counts them under its first model.
            searches = _scaled(workspace.searches, _spread(day, workspace.id, "web_search"), seconds)
            uses.append(_Use(workspace.id, _model(model_id), tokens, searches if index == 0 else 0))
    return uses


@dataclass(frozen=True)
class _CostItem:
    workspace_id: str | None
    description: str
    cost_type: str
    token_type: str | None
    model: str | None
    units: int  # millionths of a cent


def _cost_items(day: date, known_until: datetime) -> list[_CostItem]:
    items: list[_CostItem] = []
    for use in _day_usage(day, known_until):
        for (kind, suffix, _), price, count in zip(_TOKEN_TYPES, use.model.prices, use.tokens, strict=True):
            if count:
                description = f"{use.model.label} Usage - {suffix}"
                items.append(
                    _CostItem(use.workspace_id, description, "tokens", kind, use.model.id, count * price)
                )
        if use.searches:
            # $10 per 1000 searches: one cent each.
            units = use.searches * UNITS_PER_CENT
            items.append(_CostItem(use.workspace_id, "Web Search Usage", "web_search", None, None, units))
    return items


def _cost_results(day: date, known_until: datetime, group_by: frozenset[str]) -> list[dict[str, Any]]:
    by_description = "description" in group_by
    sums: dict[tuple[str | None, str | None], int] = {}
    sample: dict[tuple[str | None, str | None], _CostItem] = {}
    for item in _cost_items(day, known_until):
        key = (
            item.workspace_id if "workspace_id" in group_by else None,
            item.description if by_description else None,
        )
        sums[key] = sums.get(key, 0) + item.units
        sample.setdefault(key, item)
    results = []
    for key, units in sums.items():
        item = sample[key]
        per_token = by_description and item.cost_type == "tokens"
        results.append(
            {
                "amount": cents_text(units),
                "currency": "USD",
                "workspace_id": key[0],
                "description": key[1],
                "cost_type": item.cost_type if by_description else None,
                "token_type": item.token_type if by_description else None,
                "model": item.model if by_description else None,
                "service_tier": "standard" if per_token else None,
                "context_window": "0-200k" if per_token else None,
                "inference_geo": None,
            }
        )
    return results


def _usage_results(day: date, known_until: datetime, group_by: frozenset[str]) -> list[dict[str, Any]]:
    sums: dict[tuple[str | None, str | None], list[int]] = {}
    for use in _day_usage(day, known_until):
        key = (
            use.workspace_id if "workspace_id" in group_by else None,
            use.model.id if "model" in group_by else None,
        )
        totals = sums.setdefault(key, [0] * (len(_TOKEN_TYPES) + 1))
        for index, count in enumerate((*use.tokens, use.searches)):
            totals[index] += count
    results = []
    for (workspace_id, model_id), (uncached, output, read, write_5m, write_1h, searches) in sums.items():
        result: dict[str, Any] = {
            "uncached_input_tokens": uncached,
            "cache_creation": {"ephemeral_1h_input_tokens": write_1h, "ephemeral_5m_input_tokens": write_5m},
            "cache_read_input_tokens": read,
            "output_tokens": output,
            "server_tool_use": {"web_search_requests": searches},
            "model": model_id,
            "workspace_id": workspace_id,
            "api_key_id": None,
            "service_tier": None,
            "context_window": None,
            "inference_geo": None,
        }
        result.update((name, value) for name, value in _USAGE_FIXED_DIMENSIONS if name in group_by)
        results.append(result)
    return results


def _code_model_entry(day: date, coder: _Coder, model_id: str, average: int, seconds: int) -> dict[str, Any]:
    model = _model(model_id)
    used = _scaled(average, _spread(day, coder.name, coder.remote, model_id), seconds)
    tokens = {"input": used, "output": used // 4, "cache_read": used * 3, "cache_creation": used * 2 // 5}
    units = sum(count * price for count, price in zip(tokens.values(), model.prices, strict=False))
    cents = (Decimal(units) / UNITS_PER_CENT).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    # A JSON number as the API sends it: whole cents as an integer, otherwise two decimals.
    amount: int | float = int(cents) if cents == cents.to_integral_value() else float(cents)
    return {"model": model.id, "tokens": tokens, "estimated_cost": {"currency": "USD", "amount": amount}}


def _code_record(day: date, coder: _Coder, breakdown: list[dict[str, Any]], seconds: int) -> dict[str, Any]:
    spread = _spread(day, coder.name, coder.remote)

    def part(full_day: int) -> int:
        return full_day * seconds // _DAY_SECONDS

    actor_key = "email_address" if coder.kind == "user_actor" else "api_key_name"
    return {
        "date": _rfc3339(_midnight(day)),
        "actor": {"type": coder.kind, actor_key: coder.name},
        "organization_id": DEMO_ORGANIZATION_ID,
        "customer_type": "api",
        "terminal_type": coder.terminal,
        "is_remote": coder.remote,
        "core_metrics": {
            "num_sessions": max(1, part(2 + spread % 6)),
            "lines_of_code": {"added": part(400 + spread * 2), "removed": part(150 + spread)},
            "commits_by_claude_code": part(spread % 9),
            "pull_requests_by_claude_code": part(spread % 3),
        },
        "tool_actions": {
            "edit_tool": {"accepted": part(20 + spread % 40), "rejected": part(spread % 5)},
            "multi_edit_tool": {"accepted": part(spread % 15), "rejected": part(spread % 3)},
            "write_tool": {"accepted": part(spread % 10), "rejected": part(spread % 2)},
            "notebook_edit_tool": {"accepted": part(spread % 4), "rejected": 0},
        },
        "model_breakdown": breakdown,
    }


def _claude_code_records(day: date, known_until: datetime) -> list[dict[str, Any]]:
    seconds = _known_seconds(day, known_until)
    if seconds == 0 or day.weekday() >= 5:
        return []
    records = []
    for coder in _CODERS:
        entries = [
            _code_model_entry(day, coder, model_id, average, seconds) for model_id, average in coder.usage
        ]
        breakdown = [entry for entry in entries if entry["tokens"]["input"] > 0]
        if breakdown:
            records.append(_code_record(day, coder, breakdown, seconds))
    return records


# -- Admin API query handling ------------------------------------------------------------------------


def _one(query: _Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _int_param(query: _Query, name: str, default: int, maximum: int) -> int:
    text = _one(query, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise _BadRequest(f"{name}: Input should be a valid integer") from None
    if not 1 <= value <= maximum:
        raise _BadRequest(f"{name}: Input should be between 1 and {maximum}")
    return value


def _instant_param(query: _Query, name: str) -> datetime | None:
    text = _one(query, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _BadRequest(f"{name}: Input should be a valid RFC 3339 datetime") from None
    if moment.tzinfo is None:
        raise _BadRequest(f"{name}: Input should have a timezone")
    return moment.astimezone(UTC)


def _page_token(value: str) -> str:
    # Opaque to clients; the documented example is "page_" and a base64 timestamp.
    return "page_" + base64.b64encode(value.encode("utf-8")).decode("ascii")


def _page_value(query: _Query) -> str | None:
    token = _one(query, "page")
    if token is None:
        return None
    try:
        return base64.b64decode(token.removeprefix("page_"), validate=True).decode("utf-8")
    except ValueError:
        raise _BadRequest("page: Invalid page token") from None


def _cap(limit: int, page_cap: int | None) -> int:
    return limit if page_cap is None else max(1, min(limit, page_cap))


@dataclass(frozen=True)
class _ReportRequest:
    first_day: date  # first bucket of this page
    end: datetime  # buckets starting before this are served: min(ending_at, now)
    limit: int
    group_by: frozenset[str]


def _report_request(
    query: _Query, now: datetime, groups: frozenset[str], page_cap: int | None
) -> _ReportRequest:
    start = _instant_param(query, "starting_at")
    if start is None:
        raise _BadRequest("starting_at: Field required")
    ending = _instant_param(query, "ending_at")
    if ending is not None and ending <= start:
        raise _BadRequest("ending_at: must be after starting_at")
    if _one(query, "bucket_width") not in (None, "1d"):
        raise _BadRequest("bucket_width: the demo server serves only 1d")
    group_by = frozenset(query.get("group_by[]", ()))
    if group_by - groups:
        raise _BadRequest(f"group_by[]: Input should be one of {', '.join(sorted(groups))}")
    limit = _int_param(query, "limit", *_REPORT_LIMITS)
    first_day = start.date()
    page = _page_value(query)
    if page is not None:
        if not _DATE_ONLY.match(page[:10]) or date.fromisoformat(page[:10]) < first_day:
            raise _BadRequest("page: Invalid page token")
        first_day = date.fromisoformat(page[:10])
    end = now if ending is None else min(ending, now)
    return _ReportRequest(first_day, end, _cap(limit, page_cap), group_by)


def _report_page(
    request: _ReportRequest, results: Callable[[date, frozenset[str]], list[dict[str, Any]]]
) -> dict[str, Any]:
    data: list[dict[str, Any]] = []
    day = request.first_day
    # Every day gets a bucket, idle ones with an empty results list, as the API documents.
    while len(data) < request.limit and _midnight(day) < request.end:
        following = day + timedelta(days=1)
        data.append(
            {
                "starting_at": _rfc3339(_midnight(day)),
                "ending_at": _rfc3339(_midnight(following)),
                "results": results(day, request.group_by),
            }
        )
        day = following
    more = _midnight(day) < request.end
    return {
        "data": data,
        "has_more": more,
        "next_page": _page_token(_rfc3339(_midnight(day))) if more else None,
    }


def _id_page(items: list[dict[str, Any]], query: _Query, page_cap: int | None) -> dict[str, Any]:
    limit = _cap(_int_param(query, "limit", 20, 1000), page_cap)
    ids = [item["id"] for item in items]
    after, before = _one(query, "after_id"), _one(query, "before_id")
    cursor = after if after is not None else before
    if cursor is not None and cursor not in ids:
        raise _BadRequest("after_id or before_id: no such object")
    if after is not None:
        begin = ids.index(after) + 1
        chunk, more = items[begin : begin + limit], begin + limit < len(items)
    elif before is not None:
        stop = ids.index(before)
        chunk, more = items[max(0, stop - limit) : stop], stop - limit > 0
    else:
        chunk, more = items[:limit], limit < len(items)
    return {
        "data": chunk,
        "first_id": chunk[0]["id"] if chunk else None,
        "last_id": chunk[-1]["id"] if chunk else None,
        "has_more": more,
    }


def _users_page(query: _Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    users = [
        {"id": user_id, "added_at": added, "email": email, "name": name, "role": role, "type": "user"}
        for user_id, email, name, role, added in _USERS
    ]
    email = _one(query, "email")
    roles = query.get("roles[]")
    chosen = [
        u for u in users if (email is None or u["email"] == email) and (not roles or u["role"] in roles)
    ]
    return _id_page(chosen, query, page_cap)


def _workspaces_page(query: _Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    archived = (_one(query, "include_archived") or "false").lower()
    if archived not in ("true", "false"):
        raise _BadRequest("include_archived: Input should be a valid boolean")
    listed = [
        {
            "id": workspace.id,
            "name": workspace.name,
            "type": "workspace",
            "created_at": _rfc3339(_midnight(workspace.created)),
            "archived_at": _rfc3339(_midnight(workspace.archived)) if workspace.archived else None,
            "display_color": workspace.color,
        }
        for workspace in _WORKSPACES
        if workspace.id is not None and (workspace.archived is None or archived == "true")
    ]
    return _id_page(listed, query, page_cap)


def _organization(query: _Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    return {"id": DEMO_ORGANIZATION_ID, "name": "Demo Org", "type": "organization"}


def _cost_page(query: _Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    request = _report_request(query, now, _COST_GROUPS, page_cap)
    return _report_page(request, lambda day, group_by: _cost_results(day, now, group_by))


def _messages_page(query: _Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    request = _report_request(query, now, _USAGE_GROUPS, page_cap)
    return _report_page(request, lambda day, group_by: _usage_results(day, now, group_by))


def _claude_code_page(query: _Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    text = _one(query, "starting_at")
    if text is None or not _DATE_ONLY.match(text):
        raise _BadRequest("starting_at: Input should be a date in YYYY-MM-DD format")
    day = date.fromisoformat(text)
    limit = _cap(_int_param(query, "limit", 20, 1000), page_cap)
    # "Only data older than 1 hour is included."
    records = _claude_code_records(day, now - timedelta(hours=1))
    offset = 0
    page = _page_value(query)
    if page is not None:
        page_day, _, number = page.partition("#")
        if page_day != text or not number.isdigit():
            raise _BadRequest("page: Invalid page token")
        offset = int(number)
    more = offset + limit < len(records)
    return {
        "data": records[offset : offset + limit],
        "has_more": more,
        "next_page": _page_token(f"{text}#{offset + limit}") if more else None,
    }


_AdminRoute = Callable[[_Query, datetime, int | None], dict[str, Any]]


# -- claude.ai (Web mode) ----------------------------------------------------------------------------
#
# claude.ai's own endpoints with the browser's sessionKey cookie (api-reference section 2). Cloudflare
# stands in front of them, so its browser check answers before the session is even looked at.

WEB_SCENARIOS: tuple[str, ...] = (
    "normal",
    "challenge_header",
    "challenge_html",
    "logged_out",
    "forbidden_json",
    "server_error",
)
WEB_ORGANIZATIONS_PATH = "/api/organizations"
# The chat organization is the one /api/oauth/profile names, so both modes describe one account.
WEB_CHAT_ORG_UUID = "22222222-2222-4222-8222-222222222222"
WEB_CHAT_ORG_NAME = "jane@example.com's Organization"
WEB_API_ORG_UUID = "44444444-4444-4444-8444-444444444444"
WEB_API_ORG_NAME = "Demo API Org"
WEB_OVERAGE = {"monthly_credit_limit": 4000, "currency": "USD", "used_credits": 1200, "is_enabled": True}
WEB_PREPAID = {"amount": 10000, "currency": "USD"}

_WEB_ORG_PATH = re.compile(r"^/api/organizations/([^/]+)/(usage|overage_spend_limit|prepaid/credits)$")
_SESSION_COOKIE = "sessionKey"
_CF_RAY = "8f3c2a1b9d7e6f50-FRA"

# Cloudflare's managed challenge as scripts get it (trimmed): the header form carries window._cf_chl_opt.
_CHALLENGE_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    b'<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
    b'<meta name="robots" content="noindex,nofollow"></head><body class="no-js">'
    b'<div class="main-wrapper" role="main"><div class="main-content"><noscript><div class="h2">'
    b'<span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript>'
    b"</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: \"claude.ai\","
    b"cType: 'managed',cRay: '" + _CF_RAY.split("-")[0].encode() + b"',cH: 'demo'};"
    b"var cpo=document.createElement('script');"
    b"cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray="
    + _CF_RAY.split("-")[0].encode()
    + b"';document.getElementsByTagName('head')[0].appendChild(cpo);}());</script></body></html>\n"
)
# The same interstitial without the cf-mitigated header and without the _cf_chl_opt object (older form).
_CHALLENGE_PAGE_PLAIN = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body>'
    b"<h1>claude.ai</h1><h2>Checking if the site connection is secure</h2>"
    b'<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>\n'
)


def web_organizations_body() -> list[dict[str, Any]]:
    """GET /api/organizations: an API-only organization listed first, then the Max chat organization."""
    return [
        {
            "uuid": WEB_API_ORG_UUID,
            "name": WEB_API_ORG_NAME,
            "capabilities": ["api"],
            "raven_type": None,
            "rate_limit_tier": "default_api",
            "billing_type": "prepaid",
            "created_at": "2024-10-30T23:58:27.427722Z",
            "updated_at": "2025-06-02T10:00:00.000000Z",
            "active_flags": [],
        },
        {
            "uuid": WEB_CHAT_ORG_UUID,
            "name": WEB_CHAT_ORG_NAME,
            "capabilities": ["chat", "claude_max"],
            "raven_type": None,
            "rate_limit_tier": "default_claude_max_5x",
            "billing_type": "stripe_subscription",
            "created_at": "2025-03-01T12:00:00.000000Z",
            "updated_at": "2026-07-01T08:00:00.000000Z",
            "active_flags": [],
        },
    ]


def _web_usage_body(rising: dict[str, Any]) -> dict[str, Any]:
    # claude.ai names the extra-usage cap monthly_credit_limit where the OAuth endpoint says monthly_limit.
    extra = dict(rising["extra_usage"])
    extra["monthly_credit_limit"] = extra.pop("monthly_limit")
    return {**rising, "extra_usage": extra}


def _session_key_of(cookie_header: str) -> str | None:
    for part in cookie_header.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip() == _SESSION_COOKIE:
            return value.strip()
    return None


def _challenge(with_header: bool) -> DemoResponse:
    headers: tuple[tuple[str, str], ...] = (
        ("Content-Type", "text/html; charset=UTF-8"),
        (
            "Cache-Control",
            "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0",
        ),
        ("cf-ray", _CF_RAY),
    )
    if with_header:
        return DemoResponse(403, _CHALLENGE_PAGE, (*headers, ("cf-mitigated", "challenge")))
    return DemoResponse(403, _CHALLENGE_PAGE_PLAIN, headers)


def _web_logged_out() -> DemoResponse:
    return _envelope(401, "authentication_error", "Invalid authorization")


def _web_forbidden() -> DemoResponse:
    # As reported for claude.ai: a bare error object, no envelope type or request id.
    return _json_response(
        403, {"error": {"type": "permission_error", "message": "We are unable to serve your request"}}
    )


class _HTTPServer(ThreadingHTTPServer):
    # server_close() would otherwise join every handler thread, including ones parked on an idle
    # keep-alive connection of a client that never hangs up; stop() shuts those sockets down instead.
    block_on_close = False

    def __init__(self, address: tuple[str, int], demo: DemoServer) -> None:
        super().__init__(address, _Handler)
        self.demo = demo
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._closing = False

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)
            closing = self._closing
        if closing:
            _hang_up(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def hang_up_all(self) -> None:
        with self._connections_lock:
            self._closing = True
            connections = list(self._connections)
        for connection in connections:
            _hang_up(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        # Clients that time out or hang up mid-answer are part of the simulation, not faults.
        if isinstance(error, ConnectionError | TimeoutError):
            logger.debug("demo client went away: %s", type(error).__name__)
        else:
            logger.error("demo server failed on a request", exc_info=error)


def _hang_up(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 with Content-Length on every answer lets requests keep its connections alive.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, each answer would wait ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        # Always drain the body, or its bytes would be read as the next request on this connection.
        body = self.rfile.read(length) if length > 0 else b""
        target = urllib.parse.urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.demo.answer(self.command, target.path, headers, body, target.query)
        if response.delay > 0 and self.server.demo.pause(response.delay):
            self.close_connection = True
            return
        self.send_response(response.status, "Site Overloaded" if response.status == 529 else None)
        for name, value in response.headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        if _header(response, "content-type") is None:
            self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.cut_after is not None:
            self.wfile.write(response.body[: response.cut_after])
            self.wfile.flush()
            self.close_connection = True
            _hang_up(self.connection)
            return
        if response.drip > 0:
            self._drip(response.body, response.drip)
            return
        self.wfile.write(response.body)

    def _drip(self, body: bytes, pause: float) -> None:
        self.close_connection = True
        for index in range(len(body)):
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            # A client that gave up makes the next write fail; a stopping server ends the drip at once.
            if self.server.demo.pause(pause):
                return


class DemoServer:
    """Loopback stand-in for api.anthropic.com's /api/oauth/* and Admin API, the token endpoint, and
    claude.ai's session-cookie endpoints, all under one base URL."""

    DEMO_ACCESS_TOKEN = "sk-ant-oat01-demo-access-token"
    DEMO_REFRESH_TOKEN = "sk-ant-ort01-demo-refresh-token"
    DEMO_ADMIN_KEY = "sk-ant-admin01-demo-admin-key"
    DEMO_SESSION_KEY = "sk-ant-sid01-demo-session-key"

    def __init__(
        self,
        scenario: str = "rising",
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_scenario: str = "normal",
        web_scenario: str = "normal",
        keep_requests: int | None = None,
    ) -> None:
        """keep_requests bounds the requests remembered for requests() (None: all, as tests want)."""
        _check_scenario(scenario)
        _check_admin_scenario(admin_scenario)
        _check_web_scenario(web_scenario)
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = speed
        self.slow_seconds = 3.0
        self.valid_access_tokens: set[str] = {self.DEMO_ACCESS_TOKEN}
        self.valid_refresh_tokens: set[str] = {self.DEMO_REFRESH_TOKEN}
        self.valid_admin_keys: set[str] = {self.DEMO_ADMIN_KEY}
        # The most items or buckets one Admin API page holds whatever limit was asked; None: as asked.
        self.admin_page_cap: int | None = None
        self.valid_session_keys: set[str] = {self.DEMO_SESSION_KEY}
        # Every Nth authenticated 200 answer of claude.ai sets a new sessionKey cookie; 0 never does.
        self.renew_session_every = 0
        # When True a renewal also ends the key it replaced, as a strict server would.
        self.rotate_strict = False
        self.issued_session_keys: list[str] = []
        self._web_answers = 0
        self._scenario = scenario
        self._admin_scenario = admin_scenario
        self._web_scenario = web_scenario
        self._clock = clock
        self._address = (host, port)
        self._started_at = clock()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._queued: dict[str, collections.deque[DemoResponse]] = {}
        # The tray's --demo runs for days: there only the latest few are kept, or memory would grow.
        self._recorded: collections.deque[RecordedRequest] = collections.deque(maxlen=keep_requests)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._usage_answers: dict[str, Callable[[], DemoResponse]] = {
            "rising": lambda: _json_response(200, self.rising_body()),
            "full": lambda: _json_response(200, _future_example(_FULL_EXAMPLE, self._clock())),
            "minimal": lambda: _json_response(200, _future_example(_MINIMAL_EXAMPLE, self._clock())),
            "enterprise": lambda: _json_response(200, _enterprise_body()),
            "no_usage_yet": lambda: _json_response(200, _no_usage_body(self._clock())),
            "unauthorized": _invalid_bearer,
            "expired": lambda: _envelope(
                401,
                "authentication_error",
                "OAuth token has expired. Please obtain a new token or refresh your existing token.",
            ),
            "scope": lambda: _envelope(
                403,
                "permission_error",
                "OAuth token does not meet scope requirement user:profile",
                details=True,
            ),
            "rate_limited": lambda: _rate_limited(("retry-after", "300")),
            "rate_limited_date": lambda: _rate_limited(
                ("retry-after", formatdate(self._clock() + 120, usegmt=True))
            ),
            "rate_limited_zero": lambda: _rate_limited(("retry-after", "0")),
            "rate_limited_none": lambda: _rate_limited(),
            "server_error": lambda: _json_response(
                500, {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
            ),
            "overloaded": lambda: _envelope(529, "overloaded_error", "Overloaded"),
            "html": lambda: DemoResponse(502, _BAD_GATEWAY_PAGE, (("Content-Type", _HTML),)),
            "html_ok": lambda: DemoResponse(200, _CAPTIVE_PAGE, (("Content-Type", _HTML),)),
            "truncated": self._truncated,
            "slow": lambda: replace(_json_response(200, self.rising_body()), delay=self.slow_seconds),
        }
        self._admin_failures: dict[str, Callable[[], DemoResponse]] = {
            "rate_limited": lambda: _envelope(
                429, "rate_limit_error", _RATE_LIMIT_MESSAGE, headers=(("retry-after", "60"),)
            ),
            "unauthorized": _invalid_admin_key,
            "forbidden": lambda: _envelope(
                403,
                "permission_error",
                "Your API key does not have permission to use the specified resource.",
            ),
            "server_error": lambda: _envelope(500, "api_error", "Internal server error"),
        }
        self._admin_routes: dict[str, _AdminRoute] = {
            ORGANIZATION_PATH: _organization,
            USERS_PATH: _users_page,
            WORKSPACES_PATH: _workspaces_page,
            COST_REPORT_PATH: _cost_page,
            MESSAGES_REPORT_PATH: _messages_page,
            CLAUDE_CODE_REPORT_PATH: _claude_code_page,
        }

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> DemoServer:
        """Bind the port (0 = any free one) and serve from a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("demo server already started")
        self._stopping.clear()
        self._started_at = self._clock()
        self._httpd = _HTTPServer(self._address, self)
        # stop() waits up to one poll interval; short keeps a test suite of many servers fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="demo-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and release the port; safe to call twice."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.hang_up_all()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("demo server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    # -- controls for tests and --demo -----------------------------------------------------------

    @property
    def scenario(self) -> str:
        return self._scenario

    def set_scenario(self, name: str) -> None:
        _check_scenario(name)
        self._scenario = name

    @property
    def admin_scenario(self) -> str:
        """How the Admin API endpoints answer: "normal" or one of the failures of ADMIN_SCENARIOS."""
        return self._admin_scenario

    def set_admin_scenario(self, name: str) -> None:
        _check_admin_scenario(name)
        self._admin_scenario = name

    @property
    def web_scenario(self) -> str:
        """How the claude.ai endpoints answer: "normal" or one of the failures of WEB_SCENARIOS."""
        return self._web_scenario

    def set_web_scenario(self, name: str) -> None:
        _check_web_scenario(name)
        self._web_scenario = name

    def queue(self, path: str, *responses: DemoResponse) -> None:
        """One-shot answers for path, served first-in first-out before any rule or scenario."""
        with self._lock:
            self._queued.setdefault(path, collections.deque()).extend(responses)

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        """The requests received so far (control endpoints excluded), optionally for one path."""
        with self._lock:
            return [r for r in self._recorded if path is None or r.path == path]

    @property
    def started_at(self) -> float:
        """Clock time at which the virtual clock of the rising scenario read 2 h."""
        return self._started_at

    def virtual_seconds(self) -> float:
        return _VIRTUAL_START + (self._clock() - self._started_at) * self.speed

    def epoch_at(self, virtual_seconds: float) -> float:
        """Clock time at which the rising scenario reaches the given virtual time."""
        return _epoch_at(virtual_seconds, self._started_at, self.speed)

    def rising_body(self) -> dict[str, Any]:
        return rising_usage_body(self.virtual_seconds(), started_at=self._started_at, speed=self.speed)

    # -- request handling (called from the handler threads) --------------------------------------

    def pause(self, seconds: float) -> bool:
        """Wait up to seconds; True when the server is stopping meanwhile."""
        return self._stopping.wait(seconds)

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes, query: str = ""
    ) -> DemoResponse:
        if path.startswith("/_demo/"):
            return self._control(method, path, body)
        with self._lock:
            self._recorded.append(RecordedRequest(method, path, dict(headers), body, self._clock(), query))
            waiting = self._queued.get(path)
            if waiting:
                return waiting.popleft()
        if method == "GET" and path in (USAGE_PATH, PROFILE_PATH):
            return self._oauth_api(path, headers)
        if method == "GET" and path in self._admin_routes:
            return self._admin_api(path, headers, query)
        if method == "GET" and (path == WEB_ORGANIZATIONS_PATH or _WEB_ORG_PATH.match(path)):
            return self._web_api(path, headers)
        if method == "POST" and path == TOKEN_PATH:
            return self._refresh(headers, body)
        return _envelope(404, "not_found_error", f"Not found: {method} {path}")

    def _oauth_api(self, path: str, headers: dict[str, str]) -> DemoResponse:
        authorization = headers.get("authorization", "")
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        if token not in self.valid_access_tokens:
            return _invalid_bearer()
        if path == USAGE_PATH and not headers.get("user-agent", "").startswith("claude-code/"):
            # The real server puts unknown agents in a far stricter bucket that answers 429 at once.
            return _rate_limited(("retry-after", "0"))
        scenario = self._scenario
        if path == PROFILE_PATH and scenario not in _FAILING_SCENARIOS:
            return _json_response(200, json.loads(_PROFILE))
        return self._usage_answers[scenario]()

    def _admin_api(self, path: str, headers: dict[str, str], query: str) -> DemoResponse:
        if headers.get("x-api-key") not in self.valid_admin_keys:
            return _invalid_admin_key()
        if headers.get("anthropic-version") != ADMIN_API_VERSION:
            return _envelope(
                400, "invalid_request_error", f"anthropic-version: header must be {ADMIN_API_VERSION}"
            )
        failure = self._admin_failures.get(self._admin_scenario)
        if failure is not None:
            return failure()
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        try:
            payload = self._admin_routes[path](params, now, self.admin_page_cap)
        except _BadRequest as exc:
            return _envelope(400, "invalid_request_error", str(exc))
        return _json_response(200, payload, (("request-id", "req_demo" + secrets.token_hex(8)),))

    def _web_api(self, path: str, headers: dict[str, str]) -> DemoResponse:
        scenario = self._web_scenario
        if scenario in ("challenge_header", "challenge_html"):
            return self._with_cf_cookie(_challenge(with_header=scenario == "challenge_header"))
        key = _session_key_of(headers.get("cookie", ""))
        with self._lock:
            known = key is not None and key in self.valid_session_keys
        if not known or scenario == "logged_out":
            return self._with_cf_cookie(_web_logged_out())
        if scenario == "forbidden_json":
            return self._with_cf_cookie(_web_forbidden())
        if scenario == "server_error":
            return self._with_cf_cookie(_envelope(500, "api_error", "Internal server error"))
        response = self._web_route(path)
        if response.status == 200 and key is not None:
            response = self._renewed(key, response)
        return self._with_cf_cookie(response)

    def _web_route(self, path: str) -> DemoResponse:
        if path == WEB_ORGANIZATIONS_PATH:
            return _json_response(200, web_organizations_body())
        found = _WEB_ORG_PATH.match(path)
        if found is None or found.group(1) != WEB_CHAT_ORG_UUID:
            # The API-only organization has no claude.ai usage, spend limit or credits either.
            return _envelope(404, "not_found_error", "Organization not found")
        resource = found.group(2)
        if resource == "usage":
            return _json_response(200, _web_usage_body(self.rising_body()))
        return _json_response(200, WEB_OVERAGE if resource == "overage_spend_limit" else WEB_PREPAID)

    def _renewed(self, key: str, response: DemoResponse) -> DemoResponse:
        with self._lock:
            self._web_answers += 1
            every = self.renew_session_every
            if every <= 0 or self._web_answers % every:
                return response
            new_key = "sk-ant-sid01-demo-" + secrets.token_urlsafe(24)
            self.valid_session_keys.add(new_key)
            self.issued_session_keys.append(new_key)
            if self.rotate_strict:
                self.valid_session_keys.discard(key)
        cookie = f"{_SESSION_COOKIE}={new_key}; Path=/; Secure; HttpOnly"
        return replace(response, headers=(*response.headers, ("Set-Cookie", cookie)))

    def _with_cf_cookie(self, response: DemoResponse) -> DemoResponse:
        # Cloudflare's bot cookie rides on every answer; its Expires date holds a comma, so a client
        # that splits a joined Set-Cookie header on commas would misread the sessionKey next to it.
        expires = formatdate(self._clock() + 1800, usegmt=True)
        cookie = (
            f"__cf_bm={secrets.token_urlsafe(32)}; path=/; expires={expires}; HttpOnly; Secure; SameSite=None"
        )
        return replace(response, headers=(("Set-Cookie", cookie), *response.headers))

    def _refresh(self, headers: dict[str, str], body: bytes) -> DemoResponse:
        fields = _token_fields(headers.get("content-type", ""), body)
        if fields.get("grant_type") != "refresh_token" or fields.get("client_id") != CLIENT_ID:
            return _json_response(
                400, {"error": "invalid_request", "error_description": "Invalid request format"}
            )
        # Opposite of the usage endpoint: the token endpoint throttles Claude Code's own agent string.
        if headers.get("user-agent", "").startswith("claude-code/"):
            return _json_response(
                429, {"error": {"type": "rate_limit_error", "message": _RATE_LIMIT_MESSAGE}}
            )
        with self._lock:
            old = fields.get("refresh_token", "")
            if old not in self.valid_refresh_tokens:
                return _json_response(
                    400, {"error": "invalid_grant", "error_description": "Refresh token not found or invalid"}
                )
            # Rotation: the old refresh token dies; the old access token lives until it expires.
            self.valid_refresh_tokens.discard(old)
            access = "sk-ant-oat01-demo-" + secrets.token_hex(16)
            refresh = "sk-ant-ort01-demo-" + secrets.token_hex(16)
            self.valid_access_tokens.add(access)
            self.valid_refresh_tokens.add(refresh)
        profile = json.loads(_PROFILE)
        return _json_response(
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

    def _truncated(self) -> DemoResponse:
        full = json.dumps(self.rising_body()).encode("utf-8")
        return DemoResponse(200, full[: len(full) // 2], (("Content-Type", _JSON),))

    def _control(self, method: str, path: str, body: bytes) -> DemoResponse:
        if method == "POST" and path == "/_demo/scenario":
            try:
                name = json.loads(body)["scenario"]
                self.set_scenario(name)
            except (ValueError, KeyError, TypeError) as exc:
                return _envelope(400, "invalid_request_error", str(exc))
            return _json_response(200, {"scenario": name})
        if method == "POST" and path == "/_demo/admin_scenario":
            try:
                name = json.loads(body)["scenario"]
                self.set_admin_scenario(name)
            except (ValueError, KeyError, TypeError) as exc:
                return _envelope(400, "invalid_request_error", str(exc))
            return _json_response(200, {"admin_scenario": name})
        if method == "POST" and path == "/_demo/web_scenario":
            try:
                name = json.loads(body)["scenario"]
                self.set_web_scenario(name)
            except (ValueError, KeyError, TypeError) as exc:
                return _envelope(400, "invalid_request_error", str(exc))
            return _json_response(200, {"web_scenario": name})
        if method == "GET" and path == "/_demo/requests":
            # Authorization and Cookie values stay out: this list is printed by subprocess tests.
            listing = [
                {"method": r.method, "path": r.path, "user_agent": r.headers.get("user-agent"), "at": r.at}
                for r in self.requests()
            ]
            return _json_response(200, listing)
        return _envelope(404, "not_found_error", f"Not found: {method} {path}")


def _check_scenario(name: str) -> None:
    if name not in SCENARIOS:
        raise ValueError(f"unknown demo scenario {name!r}; known: {', '.join(SCENARIOS)}")


def _check_admin_scenario(name: str) -> None:
    if name not in ADMIN_SCENARIOS:
        raise ValueError(f"unknown admin scenario {name!r}; known: {', '.join(ADMIN_SCENARIOS)}")


def _check_web_scenario(name: str) -> None:
    if name not in WEB_SCENARIOS:
        raise ValueError(f"unknown web scenario {name!r}; known: {', '.join(WEB_SCENARIOS)}")


def _envelope(
    status: int,
    kind: str,
    message: str,
    *,
    details: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
) -> DemoResponse:
    error: dict[str, Any] = {"type": kind, "message": message}
    if details:
        error["details"] = {"error_visibility": "user_facing"}
    request_id = "req_demo" + secrets.token_hex(8)
    return _json_response(
        status,
        {"type": "error", "error": error, "request_id": request_id},
        (("request-id", request_id), *headers),
    )


def _invalid_admin_key() -> DemoResponse:
    # Like the real API, the answer never repeats the key it was given.
    return _envelope(401, "authentication_error", "invalid x-api-key")


def _invalid_bearer() -> DemoResponse:
    return _envelope(401, "authentication_error", "Invalid bearer token", details=True)


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m tray_app.demo`: serve until SIGTERM/SIGINT, after printing the base URL on one line."""
    parser = argparse.ArgumentParser(prog="python -m tray_app.demo", description=__doc__)
    parser.add_argument("--scenario", choices=SCENARIOS, default="rising")
    parser.add_argument("--admin-scenario", choices=ADMIN_SCENARIOS, default="normal")
    parser.add_argument("--web-scenario", choices=WEB_SCENARIOS, default="normal")
    parser.add_argument("--speed", type=_positive_float, default=1.0, help="virtual seconds per real second")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with DemoServer(
        args.scenario,
        speed=args.speed,
        port=args.port,
        admin_scenario=args.admin_scenario,
        web_scenario=args.web_scenario,
    ) as server:
        print(server.base_url, flush=True)
        # A short timeout keeps the main thread responsive to signals on every platform.
        while not stopping.wait(0.5):
            pass


if __name__ == "__main__":
    main()
