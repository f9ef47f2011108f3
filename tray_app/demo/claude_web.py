"""claude.ai simulated: the session-cookie endpoints of Web mode, behind Cloudflare's browser check."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from email.utils import formatdate
from typing import Any

from tray_app.demo.common import DemoResponse, envelope, json_response

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
    return envelope(401, "authentication_error", "Invalid authorization")


def _web_forbidden() -> DemoResponse:
    # As reported for claude.ai: a bare error object, no envelope type or request id.
    return json_response(
        403, {"error": {"type": "permission_error", "message": "We are unable to serve your request"}}
    )


def check_web_scenario(name: str) -> None:
    if name not in WEB_SCENARIOS:
        raise ValueError(f"unknown web scenario {name!r}; known: {', '.join(WEB_SCENARIOS)}")


def is_web_path(path: str) -> bool:
    return path == WEB_ORGANIZATIONS_PATH or _WEB_ORG_PATH.match(path) is not None


def new_session_key() -> str:
    return "sk-ant-sid01-demo-" + secrets.token_urlsafe(24)


def _refusal(scenario: str, key: str | None, knows: Callable[[str], bool]) -> DemoResponse | None:
    if scenario in ("challenge_header", "challenge_html"):
        return _challenge(with_header=scenario == "challenge_header")
    if key is None or not knows(key) or scenario == "logged_out":
        return _web_logged_out()
    if scenario == "forbidden_json":
        return _web_forbidden()
    if scenario == "server_error":
        return envelope(500, "api_error", "Internal server error")
    return None


def _web_route(path: str, rising_body: Callable[[], dict[str, Any]]) -> DemoResponse:
    if path == WEB_ORGANIZATIONS_PATH:
        return json_response(200, web_organizations_body())
    found = _WEB_ORG_PATH.match(path)
    if found is None or found.group(1) != WEB_CHAT_ORG_UUID:
        # The API-only organization has no claude.ai usage, spend limit or credits either.
        return envelope(404, "not_found_error", "Organization not found")
    resource = found.group(2)
    if resource == "usage":
        return json_response(200, _web_usage_body(rising_body()))
    return json_response(200, WEB_OVERAGE if resource == "overage_spend_limit" else WEB_PREPAID)


def _with_cf_cookie(response: DemoResponse, now: float) -> DemoResponse:
    # Cloudflare's bot cookie rides on every answer; its Expires date holds a comma, so a client
    # that splits a joined Set-Cookie header on commas would misread the sessionKey next to it.
    expires = formatdate(now + 1800, usegmt=True)
    cookie = (
        f"__cf_bm={secrets.token_urlsafe(32)}; path=/; expires={expires}; HttpOnly; Secure; SameSite=None"
    )
    return replace(response, headers=(("Set-Cookie", cookie), *response.headers))


def web_answer(
    path: str,
    headers: dict[str, str],
    *,
    scenario: str,
    knows: Callable[[str], bool],
    renew: Callable[[str], str | None],
    rising_body: Callable[[], dict[str, Any]],
    clock: Callable[[], float],
) -> DemoResponse:
    """GET a claude.ai path; knows(key) says whether a session is valid, renew(key) may give a new key."""
    key = _session_key_of(headers.get("cookie", ""))
    response = _refusal(scenario, key, knows)
    if response is None:
        response = _web_route(path, rising_body)
        new_key = renew(key) if response.status == 200 and key is not None else None
        if new_key is not None:
            cookie = f"{_SESSION_COOKIE}={new_key}; Path=/; Secure; HttpOnly"
            response = replace(response, headers=(*response.headers, ("Set-Cookie", cookie)))
    return _with_cf_cookie(response, clock())
