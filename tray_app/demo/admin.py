"""The Admin API (Console mode) simulated: its routes, reports, lists and paging (checks in admin_query)."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from tray_app.demo.admin_data import (
    DEMO_ORGANIZATION_ID,
    claude_code_records,
    cost_results,
    midnight,
    rfc3339,
    usage_results,
    users,
    workspaces,
)
from tray_app.demo.admin_query import (
    BadRequest,
    Query,
    admin_failure,
    instant_param,
    int_param,
    key_and_version_refusal,
    page_token,
    page_value,
    param,
    serve_query,
)
from tray_app.demo.analytics_data import api_keys
from tray_app.demo.common import DemoResponse

ADMIN_SCENARIOS: tuple[str, ...] = ("normal", "rate_limited", "unauthorized", "forbidden", "server_error")
ORGANIZATION_PATH = "/v1/organizations/me"
USERS_PATH = "/v1/organizations/users"
WORKSPACES_PATH = "/v1/organizations/workspaces"
API_KEYS_PATH = "/v1/organizations/api_keys"
MESSAGES_REPORT_PATH = "/v1/organizations/usage_report/messages"
COST_REPORT_PATH = "/v1/organizations/cost_report"
CLAUDE_CODE_REPORT_PATH = "/v1/organizations/usage_report/claude_code"

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
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _cap(limit: int, page_cap: int | None) -> int:
    return limit if page_cap is None else max(1, min(limit, page_cap))


@dataclass(frozen=True)
class _ReportRequest:
    first_day: date  # first bucket of this page
    end: datetime  # buckets starting before this are served: min(ending_at, now)
    limit: int
    group_by: frozenset[str]


def _report_request(
    query: Query, now: datetime, groups: frozenset[str], page_cap: int | None
) -> _ReportRequest:
    start = instant_param(query, "starting_at")
    if start is None:
        raise BadRequest("starting_at: Field required")
    ending = instant_param(query, "ending_at")
    if ending is not None and ending <= start:
        raise BadRequest("ending_at: must be after starting_at")
    if param(query, "bucket_width") not in (None, "1d"):
        raise BadRequest("bucket_width: the demo server serves only 1d")
    group_by = frozenset(query.get("group_by[]", ()))
    if group_by - groups:
        raise BadRequest(f"group_by[]: Input should be one of {', '.join(sorted(groups))}")
    limit = int_param(query, "limit", *_REPORT_LIMITS)
    first_day = start.date()
    page = page_value(query)
    if page is not None:
        if not _DATE_ONLY.match(page[:10]) or date.fromisoformat(page[:10]) < first_day:
            raise BadRequest("page: Invalid page token")
        first_day = date.fromisoformat(page[:10])
    end = now if ending is None else min(ending, now)
    return _ReportRequest(first_day, end, _cap(limit, page_cap), group_by)


def _report_page(
    request: _ReportRequest, results: Callable[[date, frozenset[str]], list[dict[str, Any]]]
) -> dict[str, Any]:
    data: list[dict[str, Any]] = []
    day = request.first_day
    # Every day gets a bucket, idle ones with an empty results list, as the API documents.
    while len(data) < request.limit and midnight(day) < request.end:
        following = day + timedelta(days=1)
        data.append(
            {
                "starting_at": rfc3339(midnight(day)),
                "ending_at": rfc3339(midnight(following)),
                "results": results(day, request.group_by),
            }
        )
        day = following
    more = midnight(day) < request.end
    return {
        "data": data,
        "has_more": more,
        "next_page": page_token(rfc3339(midnight(day))) if more else None,
    }


def _id_page(items: list[dict[str, Any]], query: Query, page_cap: int | None) -> dict[str, Any]:
    limit = _cap(int_param(query, "limit", 20, 1000), page_cap)
    ids = [item["id"] for item in items]
    after, before = param(query, "after_id"), param(query, "before_id")
    cursor = after if after is not None else before
    if cursor is not None and cursor not in ids:
        raise BadRequest("after_id or before_id: no such object")
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


def _users_page(query: Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    email = param(query, "email")
    roles = query.get("roles[]")
    chosen = [
        u for u in users() if (email is None or u["email"] == email) and (not roles or u["role"] in roles)
    ]
    return _id_page(chosen, query, page_cap)


def _workspaces_page(query: Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    archived = (param(query, "include_archived") or "false").lower()
    if archived not in ("true", "false"):
        raise BadRequest("include_archived: Input should be a valid boolean")
    return _id_page(workspaces(archived == "true"), query, page_cap)


def _api_keys_page(query: Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    status, workspace = param(query, "status"), param(query, "workspace_id")
    if status not in (None, "active", "inactive", "archived"):
        raise BadRequest("status: Input should be 'active', 'inactive' or 'archived'")
    chosen = [
        key
        for key in api_keys(now)
        if (status is None or key["status"] == status)
        and (workspace is None or key["workspace_id"] == workspace)
    ]
    return _id_page(chosen, query, page_cap)


def _organization(query: Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    return {"id": DEMO_ORGANIZATION_ID, "name": "Demo Org", "type": "organization"}


def _cost_page(query: Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    request = _report_request(query, now, _COST_GROUPS, page_cap)
    return _report_page(request, lambda day, group_by: cost_results(day, now, group_by))


def _messages_page(query: Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    request = _report_request(query, now, _USAGE_GROUPS, page_cap)
    return _report_page(request, lambda day, group_by: usage_results(day, now, group_by))


def _claude_code_page(query: Query, now: datetime, page_cap: int | None) -> dict[str, Any]:
    text = param(query, "starting_at")
    if text is None or not _DATE_ONLY.match(text):
        raise BadRequest("starting_at: Input should be a date in YYYY-MM-DD format")
    day = date.fromisoformat(text)
    limit = _cap(int_param(query, "limit", 20, 1000), page_cap)
    # "Only data older than 1 hour is included."
    records = claude_code_records(day, now - timedelta(hours=1))
    offset = 0
    page = page_value(query)
    if page is not None:
        page_day, _, number = page.partition("#")
        if page_day != text or not number.isdigit():
            raise BadRequest("page: Invalid page token")
        offset = int(number)
    more = offset + limit < len(records)
    return {
        "data": records[offset : offset + limit],
        "has_more": more,
        "next_page": page_token(f"{text}#{offset + limit}") if more else None,
    }


_AdminRoute = Callable[[Query, datetime, int | None], dict[str, Any]]
# Read-only, so one table serves every server without being shared state.
_ROUTES: Mapping[str, _AdminRoute] = MappingProxyType(
    {
        ORGANIZATION_PATH: _organization,
        USERS_PATH: _users_page,
        WORKSPACES_PATH: _workspaces_page,
        API_KEYS_PATH: _api_keys_page,
        COST_REPORT_PATH: _cost_page,
        MESSAGES_REPORT_PATH: _messages_page,
        CLAUDE_CODE_REPORT_PATH: _claude_code_page,
    }
)
ADMIN_PATHS = frozenset(_ROUTES)


def check_admin_scenario(name: str) -> None:
    if name not in ADMIN_SCENARIOS:
        raise ValueError(f"unknown admin scenario {name!r}; known: {', '.join(ADMIN_SCENARIOS)}")


def admin_answer(
    path: str,
    headers: dict[str, str],
    query: str,
    *,
    admin_keys: Container[str],
    scenario: str,
    clock: Callable[[], float],
    page_cap: int | None,
) -> DemoResponse:
    """GET one of ADMIN_PATHS; page_cap bounds every page whatever limit was asked (None: as asked)."""
    refused = key_and_version_refusal(headers, admin_keys) or admin_failure(scenario)
    if refused is not None:
        return refused
    return serve_query(query, clock, lambda params, now: _ROUTES[path](params, now, page_cap))
