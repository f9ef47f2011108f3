"""The Usage & Cost Analytics API (beta) with an admin key: the month's cost rows and the API keys' names.

Transport only: the rows are read by tray_app.core.analytics. A 400/403/404 answer with the API's error
envelope means "this key or organization cannot use the Analytics API" and raises AnalyticsRefused, so a
caller can fall back to the legacy cost report; every other failure keeps the usual typed errors
(RateLimited with its Retry-After, AuthError, ServerError, NetworkError, ShapeError).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tray_app.core.analytics import CostRow, parse_api_keys, parse_cost_page, parse_refusal, token_repeats
from tray_app.core.errors import AuthError, ShapeError, UsageError
from tray_app.sources.console_api import ANTHROPIC_VERSION, LIST_PAGE_SIZE, admin_auth_error, daily_params
from tray_app.sources.http import HttpClient

ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
ANALYTICS_COST_PATH = "/v1/organizations/analytics/cost"
API_KEYS_PATH = "/v1/organizations/api_keys"
# Rows per page asked for (the maximum is not documented; the demo serves at most 1000).
COST_PAGE_SIZE = 1000
# A server that keeps answering has_more with new tokens would otherwise keep us paging forever.
MAX_COST_PAGES = 20
MAX_KEY_PAGES = 20

Params = list[tuple[str, str]]


class AnalyticsRefused(UsageError):
    """The Analytics API said this key or organization cannot use it: fall back to the cost report."""

    def __init__(self, status: int, error_type: str | None, message: str) -> None:
        super().__init__(message or f"the Analytics API was refused (HTTP {status})")
        self.status = status
        self.error_type = error_type
        self.message = message


class PagingError(ShapeError):
    """The answer's paging cannot be followed: a page token came back again, or the pages never ended."""


@dataclass(frozen=True)
class MonthCost:
    """Every row of one analytics/cost query, all pages.

    skipped: malformed rows left out (to log once). incomplete: a page said has_more without a token to
    follow, so the figures may miss rows. requests: HTTP requests this query made.
    """

    rows: tuple[CostRow, ...]
    skipped: int
    incomplete: bool
    requests: int


class AnalyticsApi:
    """GET /v1/organizations/analytics/cost and /v1/organizations/api_keys, every page, counted."""

    def __init__(
        self,
        http: HttpClient,
        api_base: str,
        admin_key: str | Callable[[], str],
        app_version: str,
    ) -> None:
        self._http = http
        self._base = api_base.rstrip("/")
        self._key = admin_key if callable(admin_key) else (lambda: admin_key)
        self.user_agent = f"claude-usage-tray/{app_version}"
        # Every HTTP request made, failed ones included (the refresh budget's witness), and those of the
        # last call alone.
        self.requests_made = 0
        self.last_call_requests = 0

    @property
    def key_fingerprint(self) -> str:
        """A one-way digest of the admin key in use, as ConsoleApi's: names the key without holding it."""
        return hashlib.sha256(self._key().encode()).hexdigest()[:16]

    def _headers(self, beta: bool) -> dict[str, str]:
        headers = {
            "x-api-key": self._key(),
            "anthropic-version": ANTHROPIC_VERSION,
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }
        if beta:
            headers["anthropic-beta"] = ANALYTICS_BETA
        return headers

    def _count(self) -> None:
        self.requests_made += 1
        self.last_call_requests += 1

    def _get_cost(self, params: Params) -> Any:
        """One analytics/cost page; AnalyticsRefused for the API's refusal, typed errors otherwise."""
        self._count()
        answer = self._http.fetch("GET", self._base + ANALYTICS_COST_PATH, self._headers(True), params=params)
        if 200 <= answer.status < 300:
            return self._http.json_of(answer)
        refusal = parse_refusal(answer.status, answer.body)
        if refusal.refused:
            raise AnalyticsRefused(refusal.status, refusal.error_type, refusal.message)
        error = self._http.error_for(answer)
        raise admin_auth_error(error) if isinstance(error, AuthError) else error

    def _get_list(self, path: str, params: Params) -> Any:
        self._count()
        try:
            return self._http.request_json("GET", self._base + path, self._headers(False), params=params)
        except AuthError as exc:
            raise admin_auth_error(exc) from None

    def month_cost(self, starting_at: datetime, ending_at: datetime, group_by: Sequence[str]) -> MonthCost:
        """Daily cost rows from starting_at (inclusive) to ending_at (exclusive), grouped by group_by.

        Follows next_page to the last page. A page token that comes back again, or more than
        MAX_COST_PAGES pages, raises PagingError (a ShapeError) rather than looping.
        """
        self.last_call_requests = 0
        params = daily_params(
            starting_at, ending_at, group_by, width=("time_bucket_width", "1d"), limit=COST_PAGE_SIZE
        )
        if params is None:
            return MonthCost(rows=(), skipped=0, incomplete=False, requests=0)
        rows: list[CostRow] = []
        skipped = 0
        asked: set[str] = set()
        token: str | None = None
        for _ in range(MAX_COST_PAGES):
            extra = [("page", token)] if token is not None else []
            page = parse_cost_page(self._get_cost(params + extra))
            rows.extend(page.rows)
            skipped += page.skipped
            if page.next_page is None:
                return MonthCost(tuple(rows), skipped, page.dangling, self.last_call_requests)
            if token_repeats(page.next_page, asked):
                raise PagingError(
                    "the Analytics API named a page it had already served "
                    f"(after {self.last_call_requests} requests); the month's cost is not complete"
                )
            asked.add(page.next_page)
            token = page.next_page
        raise PagingError(f"the Analytics API still had more after {MAX_COST_PAGES} pages")

    def api_key_names(self) -> dict[str, tuple[str, str]]:
        """Every API key, archived ones included: {id: (name, status)} (GET .../api_keys, all pages)."""
        self.last_call_requests = 0
        names: dict[str, tuple[str, str]] = {}
        asked: set[str] = set()
        after: str | None = None
        for _ in range(MAX_KEY_PAGES):
            params = [("limit", str(LIST_PAGE_SIZE))]
            if after is not None:
                params.append(("after_id", after))
            found, after = parse_api_keys(self._get_list(API_KEYS_PATH, params))
            names.update(found)
            if after is None:
                return names
            if token_repeats(after, asked):
                raise PagingError("the Admin API repeated a page cursor on the API key list")
            asked.add(after)
        raise PagingError(f"the Admin API still had more after {MAX_KEY_PAGES} pages of API keys")
