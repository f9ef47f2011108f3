"""Tolerant conversion of the API's JSON (usage, profile, credentials, token grants) into models."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from tray_app.core.errors import CredentialsError, ShapeError
from tray_app.core.models import (
    FIVE_HOUR,
    SEVEN_DAY,
    Account,
    CodeUsage,
    ExtraUsage,
    OAuthCredentials,
    TokenGrant,
    UsageWindow,
)
from tray_app.core.numbers import finite_number
from tray_app.core.timeparse import from_epoch, parse_timestamp
from tray_app.core.web import Overage, Prepaid, WebOrganization

# The flat windows we show, in display order. Codename keys (tangelo, iguana_necktie, ...) are
# deliberately absent: they come and go without notice and mean nothing to a user.
_FLAT_WINDOWS: tuple[tuple[str, str], ...] = (
    (FIVE_HOUR, "5-hour"),
    (SEVEN_DAY, "Weekly"),
    ("seven_day_opus", "Weekly · Opus"),
    ("seven_day_sonnet", "Weekly · Sonnet"),
)
_LIMIT_KIND_TO_FLAT = {"session": FIVE_HOUR, "weekly_all": SEVEN_DAY}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _percent(value: object) -> float | None:
    number = finite_number(value)
    if number is None:
        return None
    # The server's figure is shown as it is; only impossible values are pulled into 0-100.
    return min(100.0, max(0.0, number))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _window(window_id: str, label: str, raw: object) -> UsageWindow | None:
    if not isinstance(raw, Mapping):
        return None
    utilization = _percent(raw.get("utilization"))
    if utilization is None:
        return None
    return UsageWindow(window_id, label, utilization, parse_timestamp(raw.get("resets_at")))


def _scoped_window(raw: Mapping[str, Any]) -> UsageWindow | None:
    """A model-scoped weekly window from limits[], e.g. "Fable" -> seven_day_fable."""
    scope = raw.get("scope")
    model = scope.get("model") if isinstance(scope, Mapping) else None
    name = _text(model.get("display_name")) if isinstance(model, Mapping) else None
    if name is None:
        name = _text(model.get("id")) if isinstance(model, Mapping) else None
    utilization = _percent(raw.get("percent"))
    if name is None or utilization is None:
        return None
    slug = _NOT_SLUG.sub("_", name.lower()).strip("_")
    if not slug:
        return None
    return UsageWindow(
        f"seven_day_{slug}", f"Weekly · {name}", utilization, parse_timestamp(raw.get("resets_at"))
    )


def _windows_from_limits(limits: object) -> tuple[dict[str, UsageWindow], list[UsageWindow]]:
    """Split limits[] into stand-ins for the flat windows and the model-scoped weekly windows."""
    generic: dict[str, UsageWindow] = {}
    scoped: list[UsageWindow] = []
    if not isinstance(limits, list):
        return generic, scoped
    for raw in limits:
        if not isinstance(raw, Mapping):
            continue
        kind = raw.get("kind")
        if kind == "weekly_scoped":
            window = _scoped_window(raw)
            if window is not None and all(w.id != window.id for w in scoped):
                scoped.append(window)
        elif isinstance(kind, str) and kind in _LIMIT_KIND_TO_FLAT:
            window_id = _LIMIT_KIND_TO_FLAT[kind]
            label = dict(_FLAT_WINDOWS)[window_id]
            window = _window(
                window_id, label, {"utilization": raw.get("percent"), "resets_at": raw.get("resets_at")}
            )
            if window is not None:
                generic.setdefault(window_id, window)
    return generic, scoped


def _extra_usage(raw: object) -> ExtraUsage | None:
    if not isinstance(raw, Mapping):
        return None
    enabled = raw.get("is_enabled") is True
    used_minor = finite_number(raw.get("used_credits"))
    limit_minor = finite_number(raw.get("monthly_limit"))
    if limit_minor is None:
        # claude.ai's own /usage names the cap monthly_credit_limit.
        limit_minor = finite_number(raw.get("monthly_credit_limit"))
    if not enabled and used_minor is None and limit_minor is None:
        return None
    places = raw.get("decimal_places")
    scale = 10 ** (
        places if isinstance(places, int) and not isinstance(places, bool) and 0 <= places <= 4 else 2
    )
    currency = _text(raw.get("currency")) or "USD"
    return ExtraUsage(
        enabled=enabled,
        used=(used_minor or 0.0) / scale,
        limit=None if limit_minor is None else limit_minor / scale,
        currency=currency.upper(),
        utilization=_percent(raw.get("utilization")),
    )


def parse_usage(body: object) -> CodeUsage:
    """Convert a /api/oauth/usage body. Raises ShapeError when it is not a JSON object at all."""
    if not isinstance(body, Mapping):
        raise ShapeError(f"usage answer is a {type(body).__name__}, not a JSON object")
    generic, scoped = _windows_from_limits(body.get("limits"))
    windows: list[UsageWindow] = []
    for window_id, label in _FLAT_WINDOWS:
        # The flat keys carry fractional percentages; limits[] rounds them, so it only fills gaps.
        window = _window(window_id, label, body.get(window_id)) or generic.get(window_id)
        if window is not None:
            windows.append(window)
    for window in scoped:
        # limits[] is the current source for model-scoped windows; it replaces the flat legacy key.
        windows = [w for w in windows if w.id != window.id]
        windows.append(window)
    return CodeUsage(tuple(windows), _extra_usage(body.get("extra_usage")))


def reject_empty_answer(usage: CodeUsage, last_good: CodeUsage | None) -> CodeUsage:
    """usage, unless it would replace figures with none: then ShapeError.

    An answer whose every window and extra-usage field is null or unreadable says nothing; storing it
    would blank the icon and the menu. An account that never had figures (credit-only, nothing enabled)
    keeps getting its empty answers.
    """
    if usage.windows or usage.extra_usage is not None:
        return usage
    if last_good is not None and (last_good.windows or last_good.extra_usage is not None):
        raise ShapeError("the usage answer holds no figures that can be read")
    return usage


_PLANS = {
    "claude_pro": "Pro",
    "claude_max": "Max",
    "claude_team": "Team",
    "claude_enterprise": "Enterprise",
    "pro": "Pro",
    "max": "Max",
    "team": "Team",
    "enterprise": "Enterprise",
}
_MAX_TIER = re.compile(r"max_(\d+x)")


def plan_name(plan_type: object, rate_limit_tier: object = None) -> str | None:
    """ "Max 5x" from organization_type/subscriptionType and rate_limit_tier; None when unknown."""
    plan = _PLANS.get(plan_type.lower()) if isinstance(plan_type, str) else None
    if plan is None:
        return None
    if plan == "Max" and isinstance(rate_limit_tier, str):
        multiplier = _MAX_TIER.search(rate_limit_tier)
        if multiplier:
            return f"Max {multiplier.group(1)}"
    return plan


def parse_profile(body: object) -> Account:
    """Convert a /api/oauth/profile body into the account line."""
    if not isinstance(body, Mapping):
        raise ShapeError(f"profile answer is a {type(body).__name__}, not a JSON object")
    account = _mapping(body.get("account"))
    org = _mapping(body.get("organization"))
    email = next(
        (_text(account.get(k)) for k in ("email", "email_address", "emailAddress") if _text(account.get(k))),
        None,
    )
    return Account(
        email=email,
        plan=plan_name(org.get("organization_type"), org.get("rate_limit_tier")),
        organization=_text(org.get("name")),
    )


def parse_credentials(document: object) -> OAuthCredentials:
    """Read claudeAiOauth from Claude Code's credentials JSON; tolerant of missing or odd fields."""
    if not isinstance(document, Mapping):
        raise CredentialsError("the credentials are not a JSON object: run `claude` to log in again")
    oauth = document.get("claudeAiOauth")
    if not isinstance(oauth, Mapping):
        raise CredentialsError(
            "no Claude Code login (claudeAiOauth) in the credentials: run `claude` and log in"
        )
    access = _text(oauth.get("accessToken"))
    if access is None:
        raise CredentialsError("the Claude Code login has no access token: run `claude` and log in")
    expires_ms = finite_number(oauth.get("expiresAt"))
    scopes_raw = oauth.get("scopes")
    # A non-array scopes value once hung Claude Code itself; treat it as "unknown" rather than fail.
    scopes = tuple(s for s in scopes_raw if isinstance(s, str)) if isinstance(scopes_raw, list) else None
    return OAuthCredentials(
        access_token=access,
        refresh_token=_text(oauth.get("refreshToken")),
        expires_at=None if expires_ms is None else from_epoch(expires_ms / 1000),
        scopes=scopes or None,
        subscription_type=_text(oauth.get("subscriptionType")),
        rate_limit_tier=_text(oauth.get("rateLimitTier")),
    )


def parse_token_grant(body: object) -> TokenGrant:
    """Convert the OAuth token endpoint's 200 answer."""
    if not isinstance(body, Mapping) or _text(body.get("access_token")) is None:
        raise ShapeError("the token endpoint answered without an access_token")
    expires = finite_number(body.get("expires_in"))
    return TokenGrant(
        access_token=str(body["access_token"]),
        refresh_token=_text(body.get("refresh_token")),
        expires_in=None if expires is None else int(expires),
    )


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def api_error_message(body: object) -> str | None:
    """The human message of an Anthropic error envelope or an OAuth error body, if there is one."""
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if isinstance(error, Mapping):
        return _text(error.get("message"))
    description = _text(body.get("error_description"))
    return description or _text(error)


def expires_soon(credentials: OAuthCredentials, now: datetime, margin: timedelta) -> bool:
    """True when the access token has expired or will within margin; unknown expiry counts as valid."""
    return credentials.expires_at is not None and credentials.expires_at <= now + margin


# -- claude.ai (browser session) ---------------------------------------------------------------------

SESSION_COOKIE = "sessionKey"
_SESSION_PREFIX = "sk-ant-"


def _minor_scale(raw: Mapping[str, Any]) -> int:
    """Minor units per major unit: 10 ** decimal_places when given and sane, else 100 (cents)."""
    places = raw.get("decimal_places")
    if isinstance(places, int) and not isinstance(places, bool) and 0 <= places <= 4:
        return int(10**places)
    return 100


def parse_web_organizations(body: object) -> list[WebOrganization]:
    """Convert claude.ai's GET /api/organizations (a JSON array); entries without a uuid are skipped."""
    if not isinstance(body, list):
        raise ShapeError(f"organizations answer is a {type(body).__name__}, not a JSON array")
    orgs: list[WebOrganization] = []
    for raw in body:
        if not isinstance(raw, Mapping):
            continue
        uuid = _text(raw.get("uuid"))
        if uuid is None:
            continue
        capabilities = raw.get("capabilities")
        listed = capabilities if isinstance(capabilities, list) else []
        orgs.append(
            WebOrganization(
                uuid.strip(), _text(raw.get("name")), tuple(c for c in listed if isinstance(c, str))
            )
        )
    return orgs


def parse_overage(body: object) -> Overage | None:
    """Convert .../overage_spend_limit; None unless extra usage is enabled. Amounts arrive in cents."""
    if not isinstance(body, Mapping):
        raise ShapeError(f"overage answer is a {type(body).__name__}, not a JSON object")
    if body.get("is_enabled") is not True:
        return None
    scale = _minor_scale(body)
    limit_minor = finite_number(body.get("monthly_credit_limit"))
    if limit_minor is None:
        limit_minor = finite_number(body.get("monthly_limit"))
    currency = _text(body.get("currency")) or "USD"
    return Overage(
        enabled=True,
        used=(finite_number(body.get("used_credits")) or 0.0) / scale,
        limit=None if limit_minor is None else limit_minor / scale,
        currency=currency.strip().upper(),
    )


def parse_prepaid(body: object) -> Prepaid | None:
    """Convert .../prepaid/credits; None for an account that never bought credits (currency null)."""
    if not isinstance(body, Mapping):
        raise ShapeError(f"prepaid credits answer is a {type(body).__name__}, not a JSON object")
    currency = _text(body.get("currency"))
    amount = finite_number(body.get("amount"))
    if currency is None or amount is None:
        return None
    return Prepaid(amount=amount / _minor_scale(body), currency=currency.strip().upper())


def parse_session_cookie(set_cookies: Sequence[str]) -> str | None:
    """The newest claude.ai session key among Set-Cookie header values; None when none renews it.

    A deletion (empty value) or a value without the sk-ant- prefix is not a session key.
    """
    found: str | None = None
    for header in set_cookies:
        name, sep, value = header.split(";", 1)[0].partition("=")
        value = value.strip().strip('"')
        if sep and name.strip() == SESSION_COOKIE and value.startswith(_SESSION_PREFIX):
            found = value
    return found
