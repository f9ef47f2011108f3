"""claude.ai browser-session values: organizations, extra-usage spend, prepaid credits, Cloudflare checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CHAT = "chat"
API = "api"
# Markers of Cloudflare's interstitial "Just a moment..." page (managed challenge and its older forms).
_CHALLENGE_MARKERS = (b"just a moment", b"_cf_chl_opt")
_CHALLENGE_STATUSES = (403, 503)


@dataclass(frozen=True)
class WebOrganization:
    """One entry of GET /api/organizations."""

    uuid: str
    name: str | None
    capabilities: tuple[str, ...]

    @property
    def api_only(self) -> bool:
        return set(self.capabilities) == {API}


@dataclass(frozen=True)
class Overage:
    """Extra usage ("overage") spent this month and its monthly cap, in major units (dollars, euros)."""

    enabled: bool
    used: float
    limit: float | None
    currency: str


@dataclass(frozen=True)
class Prepaid:
    """The remaining prepaid usage-credit balance, in major units."""

    amount: float
    currency: str


def pick_organization(orgs: Sequence[WebOrganization], wanted: str | None) -> WebOrganization | None:
    """The organization to read: the configured one (uuid or name) if present; else the first chat
    organization; else the first one that is not API-only; else the first; None for an empty list.

    A configured organization that is not in the list falls through to the default rule, so a renamed
    organization keeps working; the caller decides whether to mention it.
    """
    chosen = find_organization(orgs, wanted)
    if chosen is not None:
        return chosen
    chat = next((org for org in orgs if CHAT in org.capabilities), None)
    if chat is not None:
        return chat
    not_api = next((org for org in orgs if not org.api_only), None)
    if not_api is not None:
        return not_api
    return orgs[0] if orgs else None


def find_organization(orgs: Sequence[WebOrganization], wanted: str | None) -> WebOrganization | None:
    """The organization whose uuid (exactly, ignoring case) or else name (ignoring case) is wanted."""
    text = (wanted or "").strip().casefold()
    if not text:
        return None
    by_uuid = next((org for org in orgs if org.uuid.casefold() == text), None)
    if by_uuid is not None:
        return by_uuid
    return next((org for org in orgs if org.name is not None and org.name.strip().casefold() == text), None)


def is_cloudflare_challenge(
    status: int, cf_mitigated: str | None, content_type: str | None, body: bytes
) -> bool:
    """True when a 403/503 answer is Cloudflare's browser check rather than claude.ai's own refusal.

    The check says nothing about the session: the same cookie works from a real browser.
    """
    if status not in _CHALLENGE_STATUSES:
        return False
    if cf_mitigated is not None and cf_mitigated.strip().lower() == "challenge":
        return True
    html = "html" in (content_type or "").lower() or body.lstrip()[:1] == b"<"
    lowered = body.lower()
    return html and any(marker in lowered for marker in _CHALLENGE_MARKERS)
