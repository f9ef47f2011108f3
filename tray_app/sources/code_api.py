"""Claude Code's usage endpoints (/api/oauth/usage, /api/oauth/profile) and the OAuth token endpoint."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from datetime import datetime

from tray_app.core.grants import QUERY, parse_cedar_ember
from tray_app.core.models import Account, CodeUsage, ResetGrants, TokenGrant
from tray_app.core.parse import parse_profile, parse_token_grant, parse_usage
from tray_app.sources.http import HttpClient

logger = logging.getLogger(__name__)

OAUTH_BETA = "oauth-2025-04-20"
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
REFRESH_SCOPES = "user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload"
# Used when `claude --version` does not answer; the server files unknown agents in a strict 429 bucket.
DEFAULT_CLAUDE_VERSION = "2.1.0"
_VERSION = re.compile(r"\b(\d+\.\d+\.\d+)\b")


def detect_claude_version(timeout: float = 2.0) -> str | None:
    """The installed Claude Code's version, or None when `claude` is absent or slow."""
    executable = shutil.which("claude")
    if executable is None:
        return None
    try:
        result = subprocess.run([executable, "--version"], capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = _VERSION.search(result.stdout.decode(errors="replace"))
    return found.group(1) if result.returncode == 0 and found else None


class CodeApi:
    """Reads usage and profile with a Claude Code access token."""

    def __init__(self, http: HttpClient, api_base: str, claude_version: str) -> None:
        self._http = http
        self._base = api_base.rstrip("/")
        self.user_agent = f"claude-code/{claude_version}"
        # The grants are served only to the CLI's own agent string (any other gets "surface"), which the
        # usage poll does not send: claude-code/ is what keeps that poll out of the strict 429 bucket.
        self.cli_user_agent = f"claude-cli/{claude_version} (external, cli)"

    def _cli_headers(self, access_token: str) -> dict[str, str]:
        return {**self._headers(access_token), "User-Agent": self.cli_user_agent}

    def _headers(self, access_token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {access_token}",
            "anthropic-beta": OAUTH_BETA,
            "anthropic-version": "2023-06-01",
            "User-Agent": self.user_agent,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def usage(self, access_token: str) -> CodeUsage:
        """GET /api/oauth/usage, parsed."""
        return parse_usage(
            self._http.request_json("GET", f"{self._base}/api/oauth/usage", self._headers(access_token))
        )

    def reset_grants(self, access_token: str, checked_at: datetime) -> ResetGrants | None:
        """GET /api/oauth/usage?cedar_ember=1 as the CLI asks it: the free limit resets (read-only; the
        redeem endpoint is never called). None when the server sends no block."""
        url = f"{self._base}/api/oauth/usage"
        body = self._http.request_json("GET", url, self._cli_headers(access_token), params=QUERY)
        return parse_cedar_ember(body, checked_at)

    def profile(self, access_token: str) -> Account:
        """GET /api/oauth/profile, parsed into the account line."""
        body = self._http.request_json("GET", f"{self._base}/api/oauth/profile", self._headers(access_token))
        return parse_profile(body)


class TokenEndpoint:
    """POST /v1/oauth/token with a refresh token. Only used when the user opted in."""

    def __init__(self, http: HttpClient, token_url: str, app_version: str) -> None:
        self._http = http
        self._url = token_url
        # The token endpoint throttles claude-code/ agents, the opposite of the usage endpoint.
        self._user_agent = f"claude-usage-tray/{app_version}"

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new token pair; the old refresh token is spent once this returns."""
        body = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
            "scope": REFRESH_SCOPES,
        }
        headers = {
            "User-Agent": self._user_agent,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        return parse_token_grant(self._http.request_json("POST", self._url, headers, json_body=body))
