"""claude.ai's own endpoints with a browser session key: organizations, usage, extra-usage spend, credits."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from tray_app.core.errors import AuthError, AuthKind, ChallengeError, ServerError, UsageError
from tray_app.core.models import CodeUsage
from tray_app.core.parse import (
    parse_overage,
    parse_prepaid,
    parse_session_cookie,
    parse_usage,
    parse_web_organizations,
)
from tray_app.core.web import (
    Overage,
    Prepaid,
    WebOrganization,
    find_organization,
    is_cloudflare_challenge,
    pick_organization,
)
from tray_app.sources.http import HttpAnswer, HttpClient

logger = logging.getLogger(__name__)

CHALLENGE_MESSAGE = "claude.ai is asking for a browser check"
LOGIN_HINT = "log in to claude.ai in your browser again"


class ClaudeWebClient:
    """Reads one claude.ai account with its sessionKey cookie, following the server's key renewals.

    A renewed key lives in this object only: persisting it is the caller's choice, and it never
    appears in a message, a log line or this object's repr.
    """

    def __init__(self, http: HttpClient, web_base: str, session_key: str, app_version: str) -> None:
        self._http = http
        self._base = web_base.rstrip("/")
        self._session_key = session_key
        self.user_agent = f"claude-usage-tray/{app_version}"
        # How often the server handed us a new key; a witness for tests and logs, never the key itself.
        self.renewals = 0

    def __repr__(self) -> str:
        return f"ClaudeWebClient({self._base!r}, renewals={self.renewals})"

    @property
    def session_key(self) -> str:
        """The key sent with the next request: the newest one the server set, else the one given."""
        return self._session_key

    def organizations(self) -> list[WebOrganization]:
        """GET /api/organizations: every organization this session belongs to, in the server's order."""
        return parse_web_organizations(self._get("/api/organizations"))

    @staticmethod
    def pick_organization(orgs: Sequence[WebOrganization], wanted: str | None) -> WebOrganization | None:
        """The configured organization (uuid or name) when listed; else the first chat one; else the
        first that is not API-only; else the first. None when there is none at all."""
        if wanted and wanted.strip() and find_organization(orgs, wanted) is None and orgs:
            logger.warning("claude.ai organization %r is not among this session's; using the default", wanted)
        return pick_organization(orgs, wanted)

    def usage(self, org_uuid: str) -> CodeUsage:
        """GET /api/organizations/{uuid}/usage: the same windows and extra usage as Code mode."""
        return parse_usage(self._get(f"{self._org_path(org_uuid)}/usage"))

    def overage(self, org_uuid: str) -> Overage | None:
        """GET .../overage_spend_limit in major units; None when extra usage is not enabled."""
        return parse_overage(self._get(f"{self._org_path(org_uuid)}/overage_spend_limit"))

    def prepaid(self, org_uuid: str) -> Prepaid | None:
        """GET .../prepaid/credits in major units; None when the account never bought credits."""
        return parse_prepaid(self._get(f"{self._org_path(org_uuid)}/prepaid/credits"))

    # -- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def _org_path(org_uuid: str) -> str:
        return "/api/organizations/" + quote(org_uuid, safe="")

    def _headers(self) -> dict[str, str]:
        return {
            "Cookie": f"sessionKey={self._session_key}",
            "Accept": "application/json",
            "User-Agent": self.user_agent,
        }

    def _get(self, path: str) -> Any:
        answer = self._http.fetch("GET", self._base + path, self._headers())
        self._follow_renewal(answer)
        if answer.status >= 300:
            raise self._error(answer)
        return self._http.json_of(answer)

    def _follow_renewal(self, answer: HttpAnswer) -> None:
        renewed = parse_session_cookie(answer.set_cookies)
        if renewed is not None and renewed != self._session_key:
            self._session_key = renewed
            self.renewals += 1
            logger.info("claude.ai renewed the session key (kept in memory only)")

    def _error(self, answer: HttpAnswer) -> UsageError:
        status = answer.status
        headers = answer.headers
        if is_cloudflare_challenge(
            status, headers.get("cf-mitigated"), headers.get("content-type"), answer.body
        ):
            return ChallengeError(CHALLENGE_MESSAGE)
        if status == 401:
            return AuthError(AuthKind.EXPIRED, f"the claude.ai session expired (HTTP 401): {LOGIN_HINT}")
        if status == 403:
            if _is_json(answer.body):
                return AuthError(
                    AuthKind.FORBIDDEN,
                    f"the claude.ai session expired or was refused (HTTP 403): {LOGIN_HINT}",
                )
            # An HTML 403 that is not the browser check (a block page, a proxy) says nothing about the
            # session; calling it a logout would make the user log in again for nothing.
            return ServerError(403, "claude.ai answered HTTP 403 with a page that is not the API")
        return self._http.error_for(answer)


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
