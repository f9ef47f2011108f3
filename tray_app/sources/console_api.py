"""The Anthropic Admin API with an admin key: organization, members, workspaces, cost and usage reports."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from tray_app.core.console import ClaudeCodeLine, CostLine, Organization, TokenLine, Workspace
from tray_app.core.console_parse import (
    parse_claude_code_page,
    parse_cost_page,
    parse_organization,
    parse_usage_page,
    parse_users,
    parse_workspaces,
    report_buckets,
)
from tray_app.core.errors import AuthError, AuthKind, ShapeError
from tray_app.core.timeparse import iso_utc
from tray_app.sources.http import HttpClient

logger = logging.getLogger(__name__)

ANTHROPIC_VERSION = "2023-06-01"
# Daily buckets: the documented maximum per page for both reports (more is a 400).
REPORT_DAYS_PER_PAGE = 31
LIST_PAGE_SIZE = 100
CLAUDE_CODE_PAGE_SIZE = 1000
# A server that always answers has_more would otherwise keep us paging forever.
MAX_PAGES = 50

_Row = TypeVar("_Row")
Params = list[tuple[str, str]]


class ConsoleApi:
    """Reads an API organization's figures with an Admin API key, following every page to the end."""

    def __init__(self, http: HttpClient, api_base: str, admin_key: str, app_version: str) -> None:
        self._http = http
        self._base = api_base.rstrip("/")
        self._admin_key = admin_key
        # A one-way digest names the key in the database (a refused key is not resent) without storing it.
        self.key_fingerprint = hashlib.sha256(admin_key.encode()).hexdigest()[:16]
        self.user_agent = f"claude-usage-tray/{app_version}"
        # Every HTTP request made, failed ones included: the poller's budget and the tests' witness.
        self.requests_made = 0

    def _headers(self) -> dict[str, str]:
        return {
            "x-api-key": self._admin_key,
            "anthropic-version": ANTHROPIC_VERSION,
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }

    def _get(self, path: str, params: Params) -> Any:
        self.requests_made += 1
        try:
            return self._http.request_json("GET", self._base + path, self._headers(), params=params)
        except AuthError as exc:
            raise admin_auth_error(exc) from None

    def _pages(
        self,
        path: str,
        params: Params,
        cursor_name: str,
        parse: Callable[[Any], tuple[list[_Row], str | None]],
    ) -> list[_Row]:
        rows: list[_Row] = []
        cursors: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            extra = [(cursor_name, cursor)] if cursor is not None else []
            found, cursor = parse(self._get(path, params + extra))
            rows.extend(found)
            if cursor is None:
                return rows
            if cursor in cursors:
                raise ShapeError(f"the Admin API repeated a page cursor on {path}")
            cursors.add(cursor)
        raise ShapeError(f"the Admin API still had more after {MAX_PAGES} pages of {path}")

    def organization(self) -> Organization:
        """GET /v1/organizations/me: the organization the admin key belongs to."""
        return parse_organization(self._get("/v1/organizations/me", []))

    def users(self) -> list[str]:
        """Every member's email address (GET /v1/organizations/users, all pages)."""
        params = [("limit", str(LIST_PAGE_SIZE))]
        return self._pages("/v1/organizations/users", params, "after_id", parse_users)

    def workspaces(self, include_archived: bool = False) -> list[Workspace]:
        """Every workspace (GET /v1/organizations/workspaces, all pages); the Default Workspace is not one."""
        params = [("limit", str(LIST_PAGE_SIZE))]
        if include_archived:
            params.append(("include_archived", "true"))
        return self._pages("/v1/organizations/workspaces", params, "after_id", parse_workspaces)

    def cost_report(self, start: datetime, end: datetime) -> list[CostLine]:
        """Daily costs from start to end by workspace and description (GET .../cost_report, all pages).

        The server snaps start to its UTC day; a day is included when it begins before end.
        """
        params = _report_params(start, end, group_by=("workspace_id", "description"))
        if params is None:
            return []
        parse = _whole_days(parse_cost_page, "cost report")
        return self._pages("/v1/organizations/cost_report", params, "page", parse)

    def usage_by_model(self, start: datetime, end: datetime) -> list[TokenLine]:
        """Daily tokens from start to end by model (GET .../usage_report/messages, all pages)."""
        params = _report_params(start, end, group_by=("model",))
        if params is None:
            return []
        parse = _whole_days(parse_usage_page, "usage report")
        return self._pages("/v1/organizations/usage_report/messages", params, "page", parse)

    def claude_code_day(self, day: date) -> list[ClaudeCodeLine]:
        """One UTC day of Claude Code use per actor (GET .../usage_report/claude_code, all pages)."""
        params = [("starting_at", day.isoformat()), ("limit", str(CLAUDE_CODE_PAGE_SIZE))]
        return self._pages(
            "/v1/organizations/usage_report/claude_code",
            params,
            "page",
            _some_readable(parse_claude_code_page),
        )


def _whole_days(
    parse: Callable[[Any], tuple[list[_Row], str | None]], what: str
) -> Callable[[Any], tuple[list[_Row], str | None]]:
    """parse, refusing a page that would empty a day: a bucket without a readable date (or results list),
    or results of which not one can be read (the API's format changed, not one odd row).

    The parsers skip what they cannot read, but the monitor stores each asked day's rows in place of the
    cached ones: such a page would leave its days stored empty, and the month's spend would drop.
    """

    def checked(body: Any) -> tuple[list[_Row], str | None]:
        buckets = report_buckets(body)
        if any(day is None for day, _ in buckets):
            raise ShapeError(f"the Admin API's {what} has a day without a readable date")
        rows, cursor = parse(body)
        if not rows and any(count > 0 for _, count in buckets):
            raise ShapeError(f"not one row of the Admin API's {what} could be read")
        return rows, cursor

    return checked


def _some_readable(
    parse: Callable[[Any], tuple[list[_Row], str | None]],
) -> Callable[[Any], tuple[list[_Row], str | None]]:
    """parse, refusing a Claude Code page of records of which not one can be read (see _whole_days)."""

    def checked(body: Any) -> tuple[list[_Row], str | None]:
        rows, cursor = parse(body)
        data = body.get("data") if isinstance(body, dict) else None
        if not rows and isinstance(data, list) and data:
            raise ShapeError("not one record of the Admin API's Claude Code report could be read")
        return rows, cursor

    return checked


def _report_params(start: datetime, end: datetime, group_by: tuple[str, ...]) -> Params | None:
    """The query of a daily report; None for an empty range, which the API would refuse with a 400."""
    return daily_params(start, end, group_by, width=("bucket_width", "1d"), limit=REPORT_DAYS_PER_PAGE)


def daily_params(
    start: datetime, end: datetime, group_by: Sequence[str], *, width: tuple[str, str], limit: int
) -> Params | None:
    """An Admin API query of daily buckets from start to end (width: the bucket parameter's name and
    value, which differ between the legacy reports and the Analytics API); None for an empty range."""
    if start.tzinfo is None or end.tzinfo is None:
        # A naive time would be read in the machine's zone and shift every day boundary.
        raise ValueError("report bounds must be timezone-aware")
    starting_at, ending_at = iso_utc(start), iso_utc(end)
    # Same-width UTC stamps compare like the instants they name (sub-second parts are dropped).
    if ending_at <= starting_at:
        return None
    params = [("starting_at", starting_at), ("ending_at", ending_at), width, ("limit", str(limit))]
    params.extend(("group_by[]", dimension) for dimension in group_by)
    return params


def admin_auth_error(exc: AuthError) -> AuthError:
    # The generic messages speak of a login; here the one credential is the admin key, never quoted.
    if exc.kind in (AuthKind.FORBIDDEN, AuthKind.SCOPE):
        return AuthError(
            exc.kind,
            "the Admin API key lacks the rights for this report (HTTP 403); "
            "it must be an admin key of the organization (Console > Settings > Admin keys)",
        )
    return AuthError(
        exc.kind,
        "the Admin API key was refused (HTTP 401); check that it is a current admin key "
        "(Console > Settings > Admin keys), not a regular API key",
    )
