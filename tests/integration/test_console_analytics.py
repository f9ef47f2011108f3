"""AnalyticsApi against the demo Analytics API over real HTTP: exact totals, paging, refusals, key names."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tray_app.core.analytics import CostRow, summarise
from tray_app.core.errors import AuthError, RateLimited, ServerError, ShapeError
from tray_app.demo import DemoServer
from tray_app.demo.analytics import ANALYTICS_BETA, ANALYTICS_COST_PATH, ANALYTICS_REFUSALS
from tray_app.sources.console_analytics import (
    API_KEYS_PATH,
    MAX_COST_PAGES,
    AnalyticsApi,
    AnalyticsRefused,
    MonthCost,
    PagingError,
)
from tray_app.sources.http import HttpClient

from ..fakes import FakeClock
from . import demo_helpers
from .test_demo_analytics import NOW, raw_month, raw_sums

server = demo_helpers.server
http = demo_helpers.http_client

KEY = DemoServer.DEMO_ADMIN_KEY
# Wednesday 18 November 2026, 15:30 UTC: after the deleted key and user stopped spending.
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC)
DELETED_KEY = "apikey_01DemoOldIngest9Rw4Zd"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def api(http: HttpClient, server: DemoServer) -> AnalyticsApi:
    return AnalyticsApi(http, server.base_url, KEY, "1.2.3")


def month(api: AnalyticsApi, group_by: list[str]) -> MonthCost:
    return api.month_cost(MONTH_START, NOW, group_by)


def row_sums(rows: tuple[CostRow, ...], key: Callable[[CostRow], Any]) -> dict[Any, Decimal]:
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[key(row)] += row.amount
    return dict(sums)


def test_month_totals_by_key_actor_and_model_equal_the_raw_records(api: AnalyticsApi) -> None:
    total = sum((Decimal(record.amount) for record in raw_month()), Decimal(0))
    assert total > 0 and any(len(r.amount.partition(".")[2]) > 2 for r in raw_month())  # fractional cents
    result = month(api, ["api_key_id", "actor", "model"])
    assert (result.skipped, result.incomplete, result.requests) == (0, False, 1)
    rows = result.rows
    assert row_sums(rows, lambda r: r.api_key_id) == raw_sums(lambda r: r.api_key_id)
    assert row_sums(rows, lambda r: r.actor.id if r.actor else None) == raw_sums(lambda r: r.actor_id)
    assert row_sums(rows, lambda r: r.model) == raw_sums(lambda r: r.model)
    assert row_sums(rows, lambda r: r.starting_at.date()) == raw_sums(lambda r: r.day)

    breakdown = summarise(rows, api.api_key_names())
    assert breakdown.total == total
    for grouping in (breakdown.by_api_key, breakdown.by_actor, breakdown.by_model):
        assert sum((line.cost for line in grouping), Decimal(0)) == total
    by_key = {line.id: line for line in breakdown.by_api_key}
    assert by_key[DELETED_KEY].name == "old-ingest (deleted)"
    assert by_key[DELETED_KEY].cost == raw_sums(lambda r: r.api_key_id)[DELETED_KEY]
    assert {line.id: line.cost for line in breakdown.by_model} == raw_sums(lambda r: r.model)


def test_the_client_sends_the_beta_and_version_headers_and_the_query(
    api: AnalyticsApi, server: DemoServer
) -> None:
    # The demo refuses a request without the beta header or anthropic-version: success says both went.
    assert month(api, ["model"]).rows
    (sent,) = server.requests(ANALYTICS_COST_PATH)
    assert sent.headers["anthropic-beta"] == ANALYTICS_BETA
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["x-api-key"] == KEY
    assert "time_bucket_width=1d" in sent.query and "group_by%5B%5D=model" in sent.query
    assert "starting_at=2026-11-01T00%3A00%3A00Z" in sent.query


def test_group_by_is_repeated_and_a_key_provider_is_asked_each_time(
    http: HttpClient, server: DemoServer
) -> None:
    asked: list[int] = []

    def provider() -> str:
        asked.append(1)
        return KEY

    api = AnalyticsApi(http, server.base_url + "/", provider, "1.2.3")
    result = month(api, ["api_key_id", "model"])
    assert any(r.api_key_id and r.model for r in result.rows)
    assert all(r.actor is None and r.workspace_id is None for r in result.rows)
    (sent,) = server.requests(ANALYTICS_COST_PATH)
    assert sent.query.count("group_by%5B%5D=") == 2
    assert asked


def test_several_pages_return_every_row_once_and_count_the_requests(
    api: AnalyticsApi, server: DemoServer
) -> None:
    unpaged = month(api, ["model"])
    assert unpaged.requests == 1
    server.analytics.page_cap = 7
    before = len(server.requests(ANALYTICS_COST_PATH))
    paged = month(api, ["model"])
    served = len(server.requests(ANALYTICS_COST_PATH)) - before
    assert paged.rows == unpaged.rows
    assert paged.requests == served == -(-len(unpaged.rows) // 7) >= 3
    assert api.last_call_requests == paged.requests
    assert api.requests_made == 1 + paged.requests


def test_a_repeated_page_token_stops_after_two_requests(api: AnalyticsApi, server: DemoServer) -> None:
    server.analytics.repeat_page_token = True
    server.analytics.page_cap = 5
    with pytest.raises(PagingError, match="already served") as caught:
        month(api, ["actor"])
    assert isinstance(caught.value, ShapeError)
    assert api.last_call_requests == len(server.requests(ANALYTICS_COST_PATH)) == 2


def test_pages_that_never_end_stop_at_the_page_cap(api: AnalyticsApi, server: DemoServer) -> None:
    server.analytics.page_cap = 1  # one row a page: far more pages than the client follows
    with pytest.raises(PagingError, match=f"after {MAX_COST_PAGES} pages"):
        month(api, ["api_key_id", "model"])
    assert api.last_call_requests == len(server.requests(ANALYTICS_COST_PATH)) == MAX_COST_PAGES


@pytest.mark.parametrize("refusal", sorted(ANALYTICS_REFUSALS))
def test_each_refusal_raises_analytics_refused_with_the_servers_message(
    api: AnalyticsApi, server: DemoServer, refusal: str
) -> None:
    server.analytics.refusal = refusal
    status, kind, message = ANALYTICS_REFUSALS[refusal]
    with pytest.raises(AnalyticsRefused) as caught:
        month(api, ["api_key_id"])
    assert (caught.value.status, caught.value.error_type, caught.value.message) == (status, kind, message)
    assert str(caught.value) == message
    assert api.last_call_requests == 1


def test_other_failures_keep_the_usual_typed_errors(api: AnalyticsApi, server: DemoServer) -> None:
    server.set_admin_scenario("rate_limited")
    with pytest.raises(RateLimited) as limited:
        month(api, ["model"])
    assert limited.value.retry_after == 60
    with pytest.raises(RateLimited):
        api.api_key_names()
    server.set_admin_scenario("server_error")
    with pytest.raises(ServerError):
        month(api, ["model"])
    server.set_admin_scenario("unauthorized")
    with pytest.raises(AuthError) as refused:
        month(api, ["model"])
    assert "admin key" in str(refused.value) and KEY not in str(refused.value)


def test_an_empty_range_asks_nothing_and_naive_bounds_are_refused(api: AnalyticsApi) -> None:
    assert api.month_cost(NOW, NOW, ["model"]) == MonthCost((), 0, False, 0)
    assert api.requests_made == 0
    with pytest.raises(ValueError, match="timezone-aware"):
        api.month_cost(datetime(2026, 11, 1), NOW, ["model"])  # noqa: DTZ001 - the case under test


def test_api_key_names_follow_the_pages_and_keep_the_archived_key(
    api: AnalyticsApi, server: DemoServer
) -> None:
    server.admin_page_cap = 3
    names = api.api_key_names()
    assert names[DELETED_KEY] == ("old-ingest", "archived")
    assert names["apikey_01DemoProdBackend6Lm2"] == ("prod-backend", "active")
    assert len(names) == 8
    served = server.requests(API_KEYS_PATH)
    assert api.last_call_requests == len(served) == 3
    assert "anthropic-beta" not in served[0].headers
