"""The Usage & Cost Analytics API (beta) simulated: GET /v1/organizations/analytics/cost, and its switches.

Grouping, rows and paging as ../shared/docs/api-2026.md section 4 describes them; where that reference says
UNCONFIRMED (the cursor fields, the limit's maximum, how a missing beta header is refused) the demo takes
the legacy Admin API's way: `has_more`/`next_page`, at most 1000 rows, a 400 invalid_request_error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tray_app.demo.admin_data import cents_text, midnight, rfc3339
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
from tray_app.demo.analytics_data import AnalyticsRecord, actor_object, analytics_records
from tray_app.demo.common import DemoResponse, envelope, json_response

ANALYTICS_COST_PATH = "/v1/organizations/analytics/cost"
ANALYTICS_PATHS = frozenset({ANALYTICS_COST_PATH})
ANALYTICS_CONTROL_PATH = "/_demo/analytics"
ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
# How a key or organization that may not use the API is refused: (status, error type, message).
ANALYTICS_REFUSALS: dict[str, tuple[int, str, str]] = {
    "forbidden": (403, "permission_error", "Your API key does not have permission to use the Analytics API."),
    "not_found": (404, "not_found_error", "Not found"),
    "invalid_request": (
        400,
        "invalid_request_error",
        "The Usage & Cost Analytics API is not available for this organization.",
    ),
}
_GROUPS = ("api_key_id", "actor", "actor_type", "model", "workspace_id", "cost_type", "token_type")
# Dimensions every row's group carries; the demo does not vary these, so they stay null.
_FIXED_NULL_GROUPS = ("product", "service_tier", "context_window", "inference_geo")
_EARLIEST = datetime(2026, 1, 1, tzinfo=UTC)
_DEFAULT_LIMIT, _MAX_LIMIT = 100, 1000


@dataclass
class AnalyticsSwitches:
    """What a test sets on DemoServer.analytics (or POSTs as JSON to /_demo/analytics)."""

    # None: served; otherwise one of ANALYTICS_REFUSALS, answered to every analytics request.
    refusal: str | None = None
    # Every page after the first names itself as next_page: a client that follows it never ends.
    repeat_page_token: bool = False
    # The most rows one page holds whatever limit was asked (None: as asked).
    page_cap: int | None = None


def configure(switches: AnalyticsSwitches, body: bytes) -> DemoResponse:
    """Apply the JSON object body's fields ("refusal", "repeat_page_token", "page_cap") to switches."""
    try:
        changes = json.loads(body)
        if not isinstance(changes, dict) or set(changes) - {"refusal", "repeat_page_token", "page_cap"}:
            raise ValueError("expected an object with refusal, repeat_page_token and/or page_cap")
        refusal = changes.get("refusal", switches.refusal)
        if refusal is not None and refusal not in ANALYTICS_REFUSALS:
            raise ValueError(f"refusal must be null or one of {', '.join(ANALYTICS_REFUSALS)}")
        cap = changes.get("page_cap", switches.page_cap)
        if cap is not None and (not isinstance(cap, int) or cap < 1):
            raise ValueError("page_cap must be null or a positive integer")
    except ValueError as exc:
        return envelope(400, "invalid_request_error", str(exc))
    switches.refusal = refusal
    switches.repeat_page_token = bool(changes.get("repeat_page_token", switches.repeat_page_token))
    switches.page_cap = cap
    return json_response(200, vars(switches))


@dataclass(frozen=True)
class _CostRequest:
    start: datetime
    end: datetime  # exclusive
    daily: bool
    group_by: tuple[str, ...]
    limit: int
    offset: int


def _cost_request(query: Query, now: datetime) -> _CostRequest:
    start = instant_param(query, "starting_at")
    if start is None:
        raise BadRequest("starting_at: Field required")
    if start < _EARLIEST or start < now - timedelta(days=365):
        raise BadRequest("starting_at: must be within the last 365 days and not before 2026-01-01")
    if start != midnight(start.date()):
        raise BadRequest("starting_at: the demo server serves whole UTC days only")
    ending = instant_param(query, "ending_at")
    if ending is None:
        ending = min(now, start + timedelta(days=31)).replace(minute=0, second=0, microsecond=0)
    if ending <= start:
        raise BadRequest("ending_at: must be after starting_at")
    width = param(query, "time_bucket_width")
    if width not in (None, "1d"):
        raise BadRequest("time_bucket_width: the demo server serves only 1d")
    asked = query.get("group_by[]", [])
    unknown = sorted(set(asked) - set(_GROUPS))
    if unknown:
        raise BadRequest(f"group_by[]: the demo server cannot group by {', '.join(unknown)}")
    limit = int_param(query, "limit", _DEFAULT_LIMIT, _MAX_LIMIT)
    offset = 0
    page = page_value(query)
    if page is not None:
        prefix, _, number = page.partition(":")
        if prefix != "analytics" or not number.isdigit():
            raise BadRequest("page: Invalid page token")
        offset = int(number)
    group_by = tuple(name for name in _GROUPS if name in asked)
    return _CostRequest(start, ending, width == "1d", group_by, limit, offset)


def _group_value(record: AnalyticsRecord, name: str) -> str | None:
    if name == "actor":
        return record.actor_id
    if name == "actor_type":
        return str(actor_object(record.actor_id)["type"])
    value: str | None = getattr(record, name)
    return value


def _row(
    bucket: tuple[datetime, datetime], names: tuple[str, ...], key: tuple[str | None, ...], sums: list[int]
) -> dict[str, Any]:
    group: dict[str, Any] = dict.fromkeys((*_GROUPS, *_FIXED_NULL_GROUPS))
    for name, value in zip(names, key, strict=True):
        group[name] = actor_object(value) if name == "actor" and value is not None else value
    per_type = "cost_type" in names or "token_type" in names
    return {
        "starting_at": rfc3339(bucket[0]),
        "ending_at": rfc3339(bucket[1]),
        "group": group,
        "cost": {
            "amount": cents_text(sums[0]),
            "list_amount": cents_text(sums[1]),
            "currency": "USD",
            "requests": None if per_type else sums[2],
        },
    }


def cost_rows(request: _CostRequest, now: datetime) -> list[dict[str, Any]]:
    """Every row of the answer, all pages, in the order they are served."""
    known_until = min(request.end, now)
    rows: list[dict[str, Any]] = []
    whole: dict[tuple[str | None, ...], list[int]] = {}
    day: date = request.start.date()
    while midnight(day) < known_until:
        following = midnight(day + timedelta(days=1))
        sums = whole if not request.daily else {}
        for record in analytics_records(day, known_until):
            key = tuple(_group_value(record, name) for name in request.group_by)
            totals = sums.setdefault(key, [0, 0, 0])
            totals[0] += record.units
            totals[1] += record.list_units
            totals[2] += record.requests
        if request.daily:
            bucket = (midnight(day), following)
            rows.extend(_row(bucket, request.group_by, key, sums[key]) for key in sorted(sums, key=_order))
        day = following.date()
    if not request.daily:
        bucket = (request.start, request.end)
        rows.extend(_row(bucket, request.group_by, key, whole[key]) for key in sorted(whole, key=_order))
    return rows


def _order(key: tuple[str | None, ...]) -> tuple[str, ...]:
    return tuple("" if value is None else value for value in key)


def _cost_page(query: Query, now: datetime, switches: AnalyticsSwitches) -> dict[str, Any]:
    request = _cost_request(query, now)
    limit = request.limit if switches.page_cap is None else min(request.limit, switches.page_cap)
    rows = cost_rows(request, now)
    following = request.offset + limit
    more = following < len(rows)
    token = page_token(f"analytics:{following}") if more else None
    if switches.repeat_page_token and request.offset > 0:
        more, token = True, param(query, "page")
    return {"data": rows[request.offset : following], "has_more": more, "next_page": token}


def analytics_answer(
    path: str,
    headers: dict[str, str],
    query: str,
    *,
    admin_keys: Container[str],
    scenario: str,
    clock: Callable[[], float],
    switches: AnalyticsSwitches,
) -> DemoResponse:
    """GET one of ANALYTICS_PATHS with the Admin API's key and version checks and its failure scenarios."""
    refused = key_and_version_refusal(headers, admin_keys)
    if refused is not None:
        return refused
    betas = [beta.strip() for beta in headers.get("anthropic-beta", "").split(",")]
    if ANALYTICS_BETA not in betas:
        return envelope(400, "invalid_request_error", f"anthropic-beta: this API needs {ANALYTICS_BETA}")
    if switches.refusal is not None:
        status, kind, message = ANALYTICS_REFUSALS[switches.refusal]
        return envelope(status, kind, message)
    failure = admin_failure(scenario)
    if failure is not None:
        return failure
    return serve_query(query, clock, lambda params, now: _cost_page(params, now, switches))
