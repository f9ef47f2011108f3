"""The demo server's Usage & Cost Analytics API (beta) over HTTP: grouping, exact sums, paging, refusals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from tray_app.demo import DemoServer
from tray_app.demo.analytics_data import AnalyticsRecord, analytics_records

from ..fakes import FakeClock
from . import demo_helpers

server = demo_helpers.server
http = demo_helpers.http

COST = "/v1/organizations/analytics/cost"
LEGACY_COST = "/v1/organizations/cost_report"
API_KEYS = "/v1/organizations/api_keys"
HEADERS = {
    "x-api-key": DemoServer.DEMO_ADMIN_KEY,
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "analytics-usage-cost-2026-08-24",
}
# Wednesday 18 November 2026, 15:30 UTC: after the deleted key and user stopped spending.
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
MONTH = {"starting_at": "2026-11-01T00:00:00Z", "ending_at": "2026-11-18T15:30:00Z"}
DELETED_KEY = "apikey_01DemoOldIngest9Rw4Zd"
DELETED_USER = "user_01DemoRobin1Xe4Kc7Pw2Dq"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def get(
    http: requests.Session, server: DemoServer, path: str, params: Any = None, **headers: str
) -> requests.Response:
    sent = {key: value for key, value in {**HEADERS, **headers}.items() if value}
    return http.get(server.base_url + path, params=params, headers=sent, timeout=5)


def all_rows(http: requests.Session, server: DemoServer, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row, following next_page; fails on a page token seen before."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    page: str | None = None
    while True:
        response = get(http, server, COST, {**params, **({"page": page} if page else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        if not body["has_more"]:
            assert body["next_page"] is None
            return rows
        page = body["next_page"]
        assert page is not None and page not in seen
        seen.add(page)


def raw_month() -> list[AnalyticsRecord]:
    records = []
    for number in range(1, 19):
        records.extend(analytics_records(date(2026, 11, number), NOW))
    return records


def raw_sums(key: Callable[[AnalyticsRecord], Any]) -> dict[Any, Decimal]:
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for record in raw_month():
        sums[key(record)] += Decimal(record.amount)
    return dict(sums)


def actor_id(actor: dict[str, Any]) -> str:
    return str(actor.get("user_id") or actor.get("service_account_id") or actor.get("api_key_id"))


def served_sums(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict[Any, Decimal]:
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[key(row["group"])] += Decimal(row["cost"]["amount"])
    return dict(sums)


def test_totals_by_key_actor_and_model_equal_the_raw_records_exactly(
    server: DemoServer, http: requests.Session
) -> None:
    total = sum((Decimal(record.amount) for record in raw_month()), Decimal(0))
    assert total > 0 and any(len(r.amount.partition(".")[2]) > 2 for r in raw_month())  # fractional cents
    whole = all_rows(http, server, MONTH)
    assert len(whole) == 1 and Decimal(whole[0]["cost"]["amount"]) == total
    assert set(whole[0]["group"].values()) == {None}
    assert (whole[0]["starting_at"], whole[0]["ending_at"]) == (
        "2026-11-01T00:00:00Z",
        "2026-11-18T15:30:00Z",
    )

    by_key = all_rows(http, server, {**MONTH, "group_by[]": "api_key_id"})
    assert served_sums(by_key, lambda group: group["api_key_id"]) == raw_sums(lambda r: r.api_key_id)
    assert None in served_sums(by_key, lambda group: group["api_key_id"])  # spend not through a key

    by_actor = all_rows(http, server, {**MONTH, "group_by[]": "actor"})
    assert served_sums(by_actor, lambda group: actor_id(group["actor"])) == raw_sums(lambda r: r.actor_id)
    types = {row["group"]["actor"]["type"] for row in by_actor}
    assert types == {"user_actor", "service_account_actor", "api_actor"}
    jane = next(row["group"]["actor"] for row in by_actor if row["group"]["actor"].get("name") == "Jane Doe")
    assert jane == {
        "type": "user_actor",
        "user_id": "user_01DemoJane5Wq8Hx2Lk4Pz7",
        "email_address": "jane@example.com",
        "name": "Jane Doe",
        "deleted": False,
    }

    by_model = all_rows(http, server, {**MONTH, "group_by[]": "model"})
    assert served_sums(by_model, lambda group: group["model"]) == raw_sums(lambda r: r.model)
    for rows in (by_key, by_actor, by_model):
        assert sum((Decimal(row["cost"]["amount"]) for row in rows), Decimal(0)) == total
        assert all(row["cost"]["currency"] == "USD" and row["group"]["workspace_id"] is None for row in rows)


def test_deleted_key_and_user_are_served_with_their_early_month_spend(
    server: DemoServer, http: requests.Session
) -> None:
    by_actor = all_rows(http, server, {**MONTH, "group_by[]": "actor"})
    robin = [
        row["group"]["actor"] for row in by_actor if row["group"]["actor"].get("user_id") == DELETED_USER
    ]
    assert robin and robin[0]["deleted"] is True
    daily = all_rows(http, server, {**MONTH, "group_by[]": "api_key_id", "time_bucket_width": "1d"})
    deleted_days = {row["starting_at"][:10] for row in daily if row["group"]["api_key_id"] == DELETED_KEY}
    assert deleted_days and max(deleted_days) < "2026-11-08"
    keys = get(http, server, API_KEYS, {"limit": 3})
    assert keys.status_code == 200 and keys.json()["has_more"] is True and len(keys.json()["data"]) == 3
    archived = get(http, server, API_KEYS, {"status": "archived"}).json()["data"]
    assert {key["id"]: key["name"] for key in archived} == {
        DELETED_KEY: "old-ingest",
        "apikey_01DemoLegacyLab7Bn6Ju": "legacy-lab",
    }


def test_daily_rows_and_combined_groups_hold_only_combinations_with_data(
    server: DemoServer, http: requests.Session
) -> None:
    daily = all_rows(http, server, {**MONTH, "group_by[]": "model", "time_bucket_width": "1d"})
    served = served_sums(daily, lambda group: group["model"])
    assert served == raw_sums(lambda r: r.model)
    per_day: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    for row in daily:
        start = datetime.fromisoformat(row["starting_at"].replace("Z", "+00:00"))
        assert row["ending_at"] == (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        per_day[(row["starting_at"][:10], row["group"]["model"])] += Decimal(row["cost"]["amount"])
    raw_per_day = raw_sums(lambda r: (r.day.isoformat(), r.model))
    assert per_day == raw_per_day
    assert "2026-11-07" not in {day for day, _ in per_day}  # a Saturday: idle, so no rows

    groups = ["api_key_id", "actor", "model", "workspace_id"]
    combined = all_rows(http, server, {**MONTH, "group_by[]": groups})
    keys = [
        (g["api_key_id"], actor_id(g["actor"]), g["model"], g["workspace_id"])
        for g in (row["group"] for row in combined)
    ]
    assert len(keys) == len(set(keys))
    assert all(Decimal(row["cost"]["amount"]) > 0 for row in combined)
    assert dict(zip(keys, (Decimal(row["cost"]["amount"]) for row in combined), strict=True)) == raw_sums(
        lambda r: (r.api_key_id, r.actor_id, r.model, r.workspace_id)
    )


def test_the_legacy_cost_report_serves_the_same_money_for_the_same_days(
    server: DemoServer, http: requests.Session
) -> None:
    legacy = get(http, server, LEGACY_COST, {**MONTH, "limit": 31})
    assert legacy.status_code == 200, legacy.text
    legacy_total = sum(
        (Decimal(result["amount"]) for bucket in legacy.json()["data"] for result in bucket["results"]),
        Decimal(0),
    )
    analytics = all_rows(http, server, MONTH)
    assert legacy_total == Decimal(analytics[0]["cost"]["amount"]) > 0


def test_a_small_page_size_serves_every_row_once_over_several_pages(
    server: DemoServer, http: requests.Session
) -> None:
    params = {**MONTH, "group_by[]": ["api_key_id", "model"], "time_bucket_width": "1d"}
    unpaged = all_rows(http, server, {**params, "limit": 1000})
    server.analytics.page_cap = 7
    before = len(server.requests(COST))
    paged = all_rows(http, server, {**params, "limit": 1000})
    pages = len(server.requests(COST)) - before
    assert pages == -(-len(unpaged) // 7) and pages >= 3
    assert paged == unpaged
    server.analytics.page_cap = None
    assert len(get(http, server, COST, {**params, "limit": 10}).json()["data"]) == 10


def test_the_repeated_token_mode_names_the_same_page_again(
    server: DemoServer, http: requests.Session
) -> None:
    control = http.post(server.base_url + "/_demo/analytics", json={"repeat_page_token": True, "page_cap": 5})
    assert (
        control.status_code == 200 and server.analytics.repeat_page_token and server.analytics.page_cap == 5
    )
    params = {**MONTH, "group_by[]": "actor"}
    first = get(http, server, COST, params).json()
    token = first["next_page"]
    assert first["has_more"] and token
    for _ in range(3):
        again = get(http, server, COST, {**params, "page": token}).json()
        assert (again["has_more"], again["next_page"], len(again["data"])) == (True, token, 5)


@pytest.mark.parametrize(
    ("refusal", "status", "kind"),
    [
        ("forbidden", 403, "permission_error"),
        ("not_found", 404, "not_found_error"),
        ("invalid_request", 400, "invalid_request_error"),
    ],
)
def test_the_refusals_answer_with_the_error_envelope(
    server: DemoServer, http: requests.Session, refusal: str, status: int, kind: str
) -> None:
    server.analytics.refusal = refusal
    response = get(http, server, COST, MONTH)
    body = response.json()
    assert response.status_code == status
    assert body["type"] == "error" and body["error"]["type"] == kind and body["error"]["message"]
    assert body["request_id"].startswith("req_") and response.headers["request-id"] == body["request_id"]
    # The legacy report still answers: that is where a client falls back to.
    assert get(http, server, LEGACY_COST, MONTH).status_code == 200


def test_refusal_switch_over_http_and_bad_switches(server: DemoServer, http: requests.Session) -> None:
    assert http.post(server.base_url + "/_demo/analytics", json={"refusal": "nope"}).status_code == 400
    assert http.post(server.base_url + "/_demo/analytics", json={"refusal": "forbidden"}).status_code == 200
    assert get(http, server, COST, MONTH).status_code == 403
    assert http.post(server.base_url + "/_demo/analytics", json={"refusal": None}).status_code == 200
    assert get(http, server, COST, MONTH).status_code == 200


def test_headers_key_and_query_are_checked(server: DemoServer, http: requests.Session) -> None:
    def error(response: requests.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["type"]

    assert error(get(http, server, COST, MONTH, **{"anthropic-beta": ""})) == (400, "invalid_request_error")
    other_beta = get(http, server, COST, MONTH, **{"anthropic-beta": "some-other-beta"})
    assert error(other_beta) == (400, "invalid_request_error")
    both = get(http, server, COST, MONTH, **{"anthropic-beta": "x-1, analytics-usage-cost-2026-08-24"})
    assert both.status_code == 200
    assert error(get(http, server, COST, MONTH, **{"anthropic-version": ""})) == (
        400,
        "invalid_request_error",
    )
    assert error(get(http, server, COST, MONTH, **{"x-api-key": "sk-ant-api03-x"})) == (
        401,
        "authentication_error",
    )
    for bad in (
        {},
        {"starting_at": "2025-12-31T00:00:00Z"},
        {**MONTH, "group_by[]": "rbac_group_id"},
        {**MONTH, "time_bucket_width": "1w"},
        {**MONTH, "limit": 0},
        {**MONTH, "page": "page_bm9wZQ=="},
    ):
        assert error(get(http, server, COST, bad)) == (400, "invalid_request_error"), bad


def test_default_ending_is_now_rounded_down_to_the_hour(server: DemoServer, http: requests.Session) -> None:
    rows = all_rows(http, server, {"starting_at": MONTH["starting_at"]})
    assert rows[0]["ending_at"] == "2026-11-18T15:00:00Z"
    expected = sum(
        (
            Decimal(record.amount)
            for number in range(1, 19)
            for record in analytics_records(date(2026, 11, number), NOW.replace(minute=0))
        ),
        Decimal(0),
    )
    assert Decimal(rows[0]["cost"]["amount"]) == expected
