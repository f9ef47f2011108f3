"""Tolerant conversion of the API's JSON (usage, profile, credentials, token grants) into models."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from tray_app.core.errors import CredentialsError, ShapeError
from tray_app.core.limit_names import (
    KNOWN_UNNAMED,
    LIMIT_KINDS,
    NAMED,
    NOT_WINDOWS,
    display_rank,
    scoped_id,
)
from tray_app.core.models import (
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

_BY_ID = {name.window_id: name for name in NAMED.values()}


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


def _window(window_id: str, label: str, raw: object, other: bool = False) -> UsageWindow | None:
    if not isinstance(raw, Mapping):
        return None
    utilization = _percent(raw.get("utilization"))
    if utilization is None:
        return None
    # locked_reason's values are undocumented (only null was ever captured): anything else is a lock.
    locked = raw.get("locked_reason") is not None
    resets_at = parse_timestamp(raw.get("resets_at"))
    return UsageWindow(window_id, label, utilization, resets_at, locked=locked, other=other)


def _flat_windows(body: Mapping[str, Any]) -> dict[str, UsageWindow]:
    """The top-level window keys by window id: named ones first, so a stray key cannot shadow one."""
    named: dict[str, UsageWindow] = {}
    others: dict[str, UsageWindow] = {}
    for key, raw in body.items():
        if not isinstance(key, str) or key in NOT_WINDOWS:
            continue
        name = NAMED.get(key) or KNOWN_UNNAMED.get(key)
        if name is None:
            window = _window(key, key, raw, other=True)
        else:
            window = _window(name.window_id, name.label, raw, other=key in KNOWN_UNNAMED)
            if window is not None and name.quiet_at_zero and window.utilization <= 0 and not window.locked:
                window = None
        if window is not None:
            (others if window.other else named).setdefault(window.id, window)
    return {**others, **named}


def _scoped_name(raw: Mapping[str, Any]) -> str | None:
    scope = raw.get("scope")
    model = scope.get("model") if isinstance(scope, Mapping) else None
    if not isinstance(model, Mapping):
        return None
    return _text(model.get("display_name")) or _text(model.get("id"))


def _limit_window(raw: Mapping[str, Any]) -> UsageWindow | None:
    """One limits[] entry as a window: session -> five_hour, weekly_all -> seven_day, a model-scoped
    week by its model's name ("Fable" -> seven_day_fable, the window of seven_day_overage_included)."""
    kind = raw.get("kind")
    if isinstance(kind, str) and kind in LIMIT_KINDS:
        window_id: str | None = LIMIT_KINDS[kind]
        name = None
    elif kind == "weekly_scoped":
        name = _scoped_name(raw)
        window_id = None if name is None else scoped_id(name)
    else:
        return None  # model_scoped and newer kinds: their shape was never captured
    utilization = _percent(raw.get("percent"))
    if window_id is None or utilization is None:
        return None
    known = _BY_ID.get(window_id)
    label = known.label if known is not None else f"Weekly · {name}"
    resets_at = parse_timestamp(raw.get("resets_at"))
    return UsageWindow(window_id, label, utilization, resets_at, binding=raw.get("is_active") is True)


def _windows_from_limits(limits: object) -> dict[str, UsageWindow]:
    windows: dict[str, UsageWindow] = {}
    for raw in limits if isinstance(limits, list) else ():
        window = _limit_window(raw) if isinstance(raw, Mapping) else None
        if window is not None:
            windows.setdefault(window.id, window)
    return windows


def _combined(flat: UsageWindow | None, listed: UsageWindow | None) -> UsageWindow | None:
    """limits[] wins over a flat key for the same limit (one client read a flat seven_day of 100 % while
    the week stood at 1 %); its percent is whole, so the flat key's decimals are kept when they agree.
    Only the flat key can say "locked"; only limits[] can say "binding"."""
    if flat is None or listed is None:
        return flat or listed
    agree = abs(flat.utilization - listed.utilization) < 1
    return replace(
        listed,
        utilization=flat.utilization if agree else listed.utilization,
        resets_at=listed.resets_at or flat.resets_at,
        locked=flat.locked,
    )


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
    """Convert a /api/oauth/usage body. Raises ShapeError when it is not a JSON object at all.

    Windows come 5-hour, weekly, the named ones, then those under "Other limits" (UsageWindow.other).
    """
    if not isinstance(body, Mapping):
        raise ShapeError(f"usage answer is a {type(body).__name__}, not a JSON object")
    flat = _flat_windows(body)
    listed = _windows_from_limits(body.get("limits"))
    windows = [
        window
        for window_id in dict.fromkeys([*flat, *listed])
        if (window := _combined(flat.get(window_id), listed.get(window_id))) is not None
    ]
    windows.sort(key=lambda w: display_rank(w.id, w.other))
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


_PLAN_WORDS = {"pro": "Pro", "max": "Max", "team": "Team", "enterprise": "Enterprise"}
_PLAN_PREFIX = re.compile(r"^(?:default_)?(?:claude_)?")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_MULTIPLIER = re.compile(r"\d+x")
_LONGEST_PLAN = 40  # an account line, not a place for whatever a garbled answer holds


def _plan_words(code: object) -> list[str]:
    """'default_claude_team_premium' -> ['team', 'premium']."""
    if not isinstance(code, str):
        return []
    return [word for word in _NOT_WORD.split(_PLAN_PREFIX.sub("", code.strip().lower())) if word]


def plan_name(plan_type: object, rate_limit_tier: object = None) -> str | None:
    """ "Max 20x", "Team Premium" from organization_type/subscriptionType and rate_limit_tier.

    The tier refines the plan when it names the same plan (default_claude_team_premium for claude_team).
    A plan we have no word for is shown from its own code ("claude_education" -> "Education") rather than
    hidden: plans come and go faster than releases. None when neither names a plan.
    """
    plan = _plan_words(plan_type)
    tier = _plan_words(rate_limit_tier)
    # A tier alone counts only when it names a plan we know ("default_claude_ai" is every Pro account's).
    if (plan and tier[: len(plan)] == plan) or (not plan and tier[:1] and tier[0] in _PLAN_WORDS):
        plan = tier
    words = [
        word if _MULTIPLIER.fullmatch(word) else _PLAN_WORDS.get(word, word.capitalize()) for word in plan
    ]
    return " ".join(words)[:_LONGEST_PLAN] or None


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
        raise CredentialsError("the credentials are not a JSON object: run `claude auth login`")
    oauth = document.get("claudeAiOauth")
    if not isinstance(oauth, Mapping):
        raise CredentialsError(
            "no Claude Code login (claudeAiOauth) in the credentials: run `claude auth login`"
        )
    access = _text(oauth.get("accessToken"))
    if access is None:
        raise CredentialsError("the Claude Code login has no access token: run `claude auth login`")
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
