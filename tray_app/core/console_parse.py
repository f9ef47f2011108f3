"""Tolerant conversion of Admin API pages (organization, users, workspaces, reports) into console rows.

A broken row is skipped, never fatal: one odd result must not hide a month of costs. Only a page that is
not a JSON object, or has no data list, is a ShapeError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tray_app.core.console import ClaudeCodeLine, CostLine, Organization, TokenLine, Workspace
from tray_app.core.errors import ShapeError
from tray_app.core.timeparse import parse_timestamp

# The API says "currently always USD"; a result without a currency is read as that.
DEFAULT_CURRENCY = "USD"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: object) -> int | None:
    """A token count: a non-negative whole number (an integral float too); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if value >= 0 else None


def _decimal(value: object) -> Decimal | None:
    """An exact amount from a decimal string or a JSON number; None when it is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int | float):
        # str() of a float is its shortest round-trip form, the digits the server wrote.
        text = str(value)
    else:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _day(value: object) -> date | None:
    moment = parse_timestamp(value)
    return moment.date() if moment is not None else None


def _page(body: object, what: str) -> tuple[Mapping[str, Any], list[Any]]:
    if not isinstance(body, Mapping):
        raise ShapeError(f"the {what} answer is not a JSON object")
    data = body.get("data")
    if not isinstance(data, list):
        raise ShapeError(f"the {what} answer has no data list")
    return body, data


def _next_page(body: Mapping[str, Any]) -> str | None:
    """The page token of the next report page; None on the last page."""
    if body.get("has_more") is False:
        return None
    return _text(body.get("next_page"))


def _next_id(body: Mapping[str, Any], data: list[Any]) -> str | None:
    """The after_id of the next users/workspaces page; None on the last page."""
    if body.get("has_more") is not True:
        return None
    last = _text(body.get("last_id"))
    if last is None and data:
        # A server that says has_more without last_id still names its items; the last one is the cursor.
        last = _text(_mapping(data[-1]).get("id"))
    return last


def parse_organization(body: object) -> Organization:
    """GET /v1/organizations/me -> Organization; ShapeError without an id."""
    if not isinstance(body, Mapping):
        raise ShapeError("the organization answer is not a JSON object")
    org_id = _text(body.get("id"))
    if org_id is None:
        raise ShapeError("the organization answer has no id")
    return Organization(id=org_id, name=_text(body.get("name")) or org_id)


def parse_users(body: object) -> tuple[list[str], str | None]:
    """One /v1/organizations/users page -> (member emails, after_id of the next page or None)."""
    page, data = _page(body, "users")
    emails = [email for item in data if (email := _text(_mapping(item).get("email"))) is not None]
    return emails, _next_id(page, data)


def parse_workspaces(body: object) -> tuple[list[Workspace], str | None]:
    """One /v1/organizations/workspaces page -> (workspaces, after_id of the next page or None)."""
    page, data = _page(body, "workspaces")
    found: list[Workspace] = []
    for item in data:
        fields = _mapping(item)
        workspace_id = _text(fields.get("id"))
        if workspace_id is None:
            continue
        name = _text(fields.get("name")) or workspace_id
        found.append(Workspace(workspace_id, name, archived=_text(fields.get("archived_at")) is not None))
    return found, _next_id(page, data)


def _buckets(data: list[Any]) -> list[tuple[date, list[Mapping[str, Any]]]]:
    """(UTC day, results) of each well-formed bucket; a bucket without a usable start is dropped."""
    days: list[tuple[date, list[Mapping[str, Any]]]] = []
    for bucket in data:
        fields = _mapping(bucket)
        day = _day(fields.get("starting_at"))
        results = fields.get("results")
        if day is None or not isinstance(results, list):
            continue
        days.append((day, [result for result in results if isinstance(result, Mapping)]))
    return days


def report_buckets(body: object) -> list[tuple[date | None, int]]:
    """(UTC day, number of results) of each bucket of a report page; day None for a bucket without a
    readable day or a results list.

    The parsers skip what they cannot read; a caller that caches whole days uses this to refuse a page
    instead when storing it would replace a day's costs with nothing.
    """
    data = _mapping(body).get("data")
    buckets: list[tuple[date | None, int]] = []
    for bucket in data if isinstance(data, list) else ():
        fields = _mapping(bucket)
        results = fields.get("results")
        day = _day(fields.get("starting_at")) if isinstance(results, list) else None
        buckets.append((day, len(results) if isinstance(results, list) else 0))
    return buckets


def parse_cost_page(body: object) -> tuple[list[CostLine], str | None]:
    """One cost_report page -> (cost lines, next page token or None). Amounts stay exact Decimals."""
    page, data = _page(body, "cost report")
    lines: list[CostLine] = []
    for day, results in _buckets(data):
        for result in results:
            amount = _decimal(result.get("amount"))
            if amount is None:
                continue
            lines.append(
                CostLine(
                    day=day,
                    workspace_id=_text(result.get("workspace_id")),
                    description=_text(result.get("description")),
                    model=_text(result.get("model")),
                    cost_type=_text(result.get("cost_type")),
                    amount_cents=amount,
                    currency=_text(result.get("currency")) or DEFAULT_CURRENCY,
                )
            )
    return lines, _next_page(page)


def _token_line(day: date, result: Mapping[str, Any]) -> TokenLine | None:
    cache = _mapping(result.get("cache_creation"))
    counts = (
        _count(result.get("uncached_input_tokens")),
        _count(result.get("output_tokens")),
        _count(result.get("cache_read_input_tokens")),
        _count(cache.get("ephemeral_1h_input_tokens")),
        _count(cache.get("ephemeral_5m_input_tokens")),
    )
    if all(count is None for count in counts):
        return None
    uncached, output, cache_read, write_1h, write_5m = (count or 0 for count in counts)
    return TokenLine(
        day=day,
        model=_text(result.get("model")),
        uncached_input_tokens=uncached,
        output_tokens=output,
        cache_read_input_tokens=cache_read,
        cache_creation_input_tokens=write_1h + write_5m,
    )


def parse_usage_page(body: object) -> tuple[list[TokenLine], str | None]:
    """One usage_report/messages page -> (token lines, next page token or None)."""
    page, data = _page(body, "usage report")
    lines = [
        line
        for day, results in _buckets(data)
        for result in results
        if (line := _token_line(day, result)) is not None
    ]
    return lines, _next_page(page)


def _estimated_cost(breakdown: object) -> tuple[Decimal, str]:
    """The sum of a record's per-model estimated costs (cents), and their currency."""
    total = Decimal(0)
    currency: str | None = None
    for entry in breakdown if isinstance(breakdown, list) else ():
        cost = _mapping(_mapping(entry).get("estimated_cost"))
        amount = _decimal(cost.get("amount"))
        if amount is None:
            continue
        total += amount
        currency = currency or _text(cost.get("currency"))
    return total, currency or DEFAULT_CURRENCY


def parse_claude_code_page(body: object) -> tuple[list[ClaudeCodeLine], str | None]:
    """One usage_report/claude_code page -> (one line per record, next page token or None)."""
    page, data = _page(body, "Claude Code report")
    lines: list[ClaudeCodeLine] = []
    for item in data:
        record = _mapping(item)
        day = _day(record.get("date"))
        if day is None:
            continue
        actor = _mapping(record.get("actor"))
        kind = actor.get("type")
        cost, currency = _estimated_cost(record.get("model_breakdown"))
        lines.append(
            ClaudeCodeLine(
                day=day,
                email=_text(actor.get("email_address")) if kind == "user_actor" else None,
                api_key_name=_text(actor.get("api_key_name")) if kind == "api_actor" else None,
                cost_cents=cost,
                currency=currency,
            )
        )
    return lines, _next_page(page)
