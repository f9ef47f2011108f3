"""ConsoleApi against the demo Admin API over real HTTP: paging, exact sums, month edges, typed errors."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from tray_app.core.console import Organization, Workspace
from tray_app.core.errors import AuthError, AuthKind, NetworkError, RateLimited, ServerError, ShapeError
from tray_app.demo import (
    CLAUDE_CODE_REPORT_PATH,
    COST_REPORT_PATH,
    DEMO_ORGANIZATION_ID,
    MESSAGES_REPORT_PATH,
    ORGANIZATION_PATH,
    USERS_PATH,
    WORKSPACES_PATH,
    DemoResponse,
    DemoServer,
)
from tray_app.sources.console_api import MAX_PAGES, ConsoleApi
from tray_app.sources.http import HttpClient

from ..fakes import FakeClock
from . import demo_helpers

KEY = DemoServer.DEMO_ADMIN_KEY
# Wednesday 4 March 2026, mid-afternoon UTC: February is complete and March has three days of data.
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
UNKNOWN_MODEL = "claude-fable-5-20261101"


# The shared fixtures, bound by name so that pytest finds them in this module; `server` reads the
# `clock` below.
server = demo_helpers.server
http = demo_helpers.http_client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def api(http: HttpClient, server: DemoServer) -> ConsoleApi:
    return ConsoleApi(http, server.base_url, KEY, "1.2.3")


def raw_pages(
    server: DemoServer, path: str, params: list[tuple[str, str]], cursor: str = "page"
) -> list[Any]:
    """Every page of a report fetched with plain requests, the independent witness of the client's sums."""
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    pages: list[Any] = []
    extra: list[tuple[str, str]] = []
    with requests.Session() as session:
        while True:
            response = session.get(server.base_url + path, params=params + extra, headers=headers, timeout=5)
            assert response.status_code == 200, response.text
            page = response.json()
            pages.append(page)
            if not page["has_more"]:
                return pages
            extra = [(cursor, page["next_page"] if cursor == "page" else page["last_id"])]


def raw_cost_total(server: DemoServer, start: str, end: str) -> tuple[Decimal, list[dict[str, Any]]]:
    params = [("starting_at", start), ("ending_at", end), ("limit", "31")]
    params += [("group_by[]", "workspace_id"), ("group_by[]", "description")]
    buckets = [bucket for page in raw_pages(server, COST_REPORT_PATH, params) for bucket in page["data"]]
    total = sum((Decimal(r["amount"]) for b in buckets for r in b["results"]), Decimal(0))
    return total, buckets


def queries(server: DemoServer, path: str) -> list[list[tuple[str, str]]]:
    return [parse_qsl(r.query, keep_blank_values=True) for r in server.requests(path)]


def envelope(status: int, kind: str, message: str, *headers: tuple[str, str]) -> DemoResponse:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_x"}
    return DemoResponse(status, json.dumps(body).encode(), (("Content-Type", "application/json"), *headers))


def report_page(has_more: bool, next_page: str | None) -> DemoResponse:
    bucket = {"starting_at": "2026-03-02T00:00:00Z", "ending_at": "2026-03-03T00:00:00Z", "results": []}
    body = {"data": [bucket], "has_more": has_more, "next_page": next_page}
    return DemoResponse(200, json.dumps(body).encode())


# -- organization, members, workspaces -----------------------------------------------------------------------


def test_organization_and_the_headers_every_call_carries(api: ConsoleApi, server: DemoServer) -> None:
    assert api.organization() == Organization(DEMO_ORGANIZATION_ID, "Demo Org")
    sent = server.requests(ORGANIZATION_PATH)[0]
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["user-agent"] == "claude-usage-tray/1.2.3"
    assert "authorization" not in sent.headers
    assert sent.query == ""


def test_users_follow_after_id_over_several_pages(api: ConsoleApi, server: DemoServer) -> None:
    server.admin_page_cap = 3
    emails = api.users()
    assert len(emails) == 7 and len(set(emails)) == 7
    assert emails[0] == "jane@example.com" and "max@example.com" in emails
    sent = queries(server, USERS_PATH)
    assert [q[0] for q in sent] == [("limit", "100")] * 3
    # Each next page starts after the last id of the one before.
    pages = raw_pages(server, USERS_PATH, [("limit", "3")], cursor="after_id")
    assert [q[1:] for q in sent] == [
        [],
        [("after_id", pages[0]["last_id"])],
        [("after_id", pages[1]["last_id"])],
    ]
    assert api.requests_made == 3


def test_workspaces_leave_out_archived_ones_unless_asked(api: ConsoleApi, server: DemoServer) -> None:
    server.admin_page_cap = 2
    active = api.workspaces()
    assert [w.name for w in active] == ["Production", "Research", "Claude Code", "Staging"]
    assert not any(w.archived for w in active)
    assert len(server.requests(WORKSPACES_PATH)) == 2

    every = api.workspaces(include_archived=True)
    assert every[:4] == active
    assert every[4:] == [Workspace("wrkspc_01DemoLegacyLab3Jm7Xc1", "Legacy Lab", archived=True)]
    assert queries(server, WORKSPACES_PATH)[2] == [("limit", "100"), ("include_archived", "true")]
    # The Default Workspace is no listed object: its costs come with workspace_id null.
    assert all(w.id.startswith("wrkspc_") for w in every)


# -- cost report ---------------------------------------------------------------------------------------------


def test_cost_report_pages_through_february_and_sums_exactly(api: ConsoleApi, server: DemoServer) -> None:
    server.admin_page_cap = 10  # 28 days: pages of 10, 10 and 8 buckets
    lines = api.cost_report(FEB_1, MAR_1)
    assert len(server.requests(COST_REPORT_PATH)) == 3

    expected, buckets = raw_cost_total(server, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")
    assert [b["starting_at"][:10] for b in buckets] == [f"2026-02-{d:02d}" for d in range(1, 29)]
    assert sum((line.amount_cents for line in lines), Decimal(0)) == expected
    assert len(lines) == sum(len(b["results"]) for b in buckets)
    assert all(isinstance(line.amount_cents, Decimal) and line.currency == "USD" for line in lines)


def test_cost_report_days_weekends_default_workspace_unknown_model_and_web_search(api: ConsoleApi) -> None:
    lines = api.cost_report(FEB_1, MAR_1)
    days = {line.day for line in lines}
    weekdays = {date(2026, 2, d) for d in range(1, 29) if date(2026, 2, d).weekday() < 5}
    assert days == weekdays  # the weekend buckets came back empty
    assert None in {line.workspace_id for line in lines}
    assert UNKNOWN_MODEL in {line.model for line in lines}
    searches = [line for line in lines if line.cost_type == "web_search"]
    assert searches and all(
        line.model is None and line.description == "Web Search Usage" for line in searches
    )
    tokens = [line for line in lines if line.cost_type == "tokens"]
    assert all(line.model and line.description and " Usage - " in line.description for line in tokens)


def test_cost_report_of_a_past_month_does_not_change_with_the_clock(
    api: ConsoleApi, clock: FakeClock
) -> None:
    first = api.cost_report(FEB_1, MAR_1)
    clock.set(NOW + timedelta(days=40))
    assert api.cost_report(FEB_1, MAR_1) == first


def test_today_grows_with_the_clock(api: ConsoleApi, clock: FakeClock) -> None:
    def today_total() -> Decimal:
        lines = api.cost_report(MAR_1, clock.now())
        return sum((line.amount_cents for line in lines if line.day == date(2026, 3, 4)), Decimal(0))

    clock.set(datetime(2026, 3, 4, 6, 0, tzinfo=UTC))
    morning = today_total()
    clock.set(datetime(2026, 3, 4, 18, 0, tzinfo=UTC))
    evening = today_total()
    clock.set(datetime(2026, 3, 5, 1, 0, tzinfo=UTC))
    whole = today_total()
    assert 0 < morning < evening < whole
    # A quarter and three quarters of the day, give or take the rounding of each token count.
    assert abs(morning * 4 - whole) < whole / 100
    assert abs(evening * 4 - whole * 3) < whole / 100


def test_a_long_range_never_asks_for_more_than_31_days_a_page(api: ConsoleApi, server: DemoServer) -> None:
    start = datetime(2025, 11, 1, tzinfo=UTC)
    lines = api.cost_report(start, NOW)
    usage = api.usage_by_model(start, NOW)
    for path in (COST_REPORT_PATH, MESSAGES_REPORT_PATH):
        sent = queries(server, path)
        assert len(sent) == 4  # 124 days: four full pages of 31, the last one saying no more
        assert all(dict(q)["limit"] == "31" for q in sent)
    assert min(line.day for line in lines) == date(2025, 11, 3)  # 1 and 2 November were a weekend
    assert max(line.day for line in usage) == date(2026, 3, 4)
    # The archived workspace had costs until it was archived on 1 December 2025.
    legacy = {line.day for line in lines if line.workspace_id == "wrkspc_01DemoLegacyLab3Jm7Xc1"}
    assert legacy and max(legacy) == date(2025, 11, 28)
    # Without the client's limit, the same server refuses pages over 31 days.
    response = requests.get(
        server_url(server, COST_REPORT_PATH),
        params={"starting_at": "2025-11-01T00:00:00Z", "limit": "32"},
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def server_url(server: DemoServer, path: str) -> str:
    return server.base_url + path


# -- month edges ---------------------------------------------------------------------------------------------


def test_just_after_midnight_on_the_first_march_is_one_partial_day(
    api: ConsoleApi, server: DemoServer, clock: FakeClock
) -> None:
    now = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    clock.set(now)
    assert api.cost_report(MAR_1, now) == []  # a Sunday, and only half an hour of it
    assert queries(server, COST_REPORT_PATH) == [
        [
            ("starting_at", "2026-03-01T00:00:00Z"),
            ("ending_at", "2026-03-01T00:30:00Z"),
            ("bucket_width", "1d"),
            ("limit", "31"),
            ("group_by[]", "workspace_id"),
            ("group_by[]", "description"),
        ]
    ]
    _, buckets = raw_cost_total(server, "2026-03-01T00:00:00Z", "2026-03-01T00:30:00Z")
    assert [(b["starting_at"], b["ending_at"], b["results"]) for b in buckets] == [
        ("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", [])
    ]

    february = api.cost_report(FEB_1, MAR_1)
    total, buckets = raw_cost_total(server, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")
    assert len(buckets) == 28 and buckets[-1]["starting_at"] == "2026-02-28T00:00:00Z"
    assert max(line.day for line in february) == date(2026, 2, 27)  # the 28th was a Saturday
    assert sum((line.amount_cents for line in february), Decimal(0)) == total


def test_a_weekday_month_start_shows_its_first_partial_day(api: ConsoleApi, clock: FakeClock) -> None:
    april = datetime(2026, 4, 1, tzinfo=UTC)  # a Wednesday
    clock.set(april + timedelta(minutes=30))
    lines = api.cost_report(april, april + timedelta(minutes=30))
    assert lines and {line.day for line in lines} == {date(2026, 4, 1)}
    usage = api.usage_by_model(april, april + timedelta(minutes=30))
    assert usage and {line.day for line in usage} == {date(2026, 4, 1)}
    # Claude Code data is an hour behind: none yet for the new month.
    assert api.claude_code_day(date(2026, 4, 1)) == []


def test_an_empty_range_asks_nothing(api: ConsoleApi, server: DemoServer) -> None:
    assert api.cost_report(MAR_1, MAR_1) == []
    assert api.usage_by_model(MAR_1, MAR_1 + timedelta(milliseconds=300)) == []
    assert server.requests() == [] and api.requests_made == 0


def test_naive_times_are_refused(api: ConsoleApi) -> None:
    with pytest.raises(ValueError, match="timezone"):
        api.cost_report(datetime(2026, 3, 1), NOW)


# -- usage by model ------------------------------------------------------------------------------------------


def test_usage_by_model_pages_and_matches_the_raw_tokens(api: ConsoleApi, server: DemoServer) -> None:
    server.admin_page_cap = 4
    lines = api.usage_by_model(FEB_1, MAR_1)
    assert len(server.requests(MESSAGES_REPORT_PATH)) == 7
    assert all(dict(q)["group_by[]"] == "model" for q in queries(server, MESSAGES_REPORT_PATH))
    params = [("starting_at", "2026-02-01T00:00:00Z"), ("ending_at", "2026-03-01T00:00:00Z")]
    params += [("group_by[]", "model")]
    results = [
        result
        for page in raw_pages(server, MESSAGES_REPORT_PATH, params)
        for bucket in page["data"]
        for result in bucket["results"]
    ]
    assert sum(line.uncached_input_tokens for line in lines) == sum(
        r["uncached_input_tokens"] for r in results
    )
    assert sum(line.output_tokens for line in lines) == sum(r["output_tokens"] for r in results)
    assert sum(line.cache_read_input_tokens for line in lines) == sum(
        r["cache_read_input_tokens"] for r in results
    )
    written = sum(sum(r["cache_creation"].values()) for r in results)
    assert sum(line.cache_creation_input_tokens for line in lines) == written > 0


def test_usage_models_are_the_cost_report_models(api: ConsoleApi) -> None:
    usage = api.usage_by_model(FEB_1, MAR_1)
    costs = api.cost_report(FEB_1, MAR_1)
    models = {line.model for line in usage}
    assert UNKNOWN_MODEL in models and None not in models
    assert models == {line.model for line in costs if line.model is not None}
    assert {line.day for line in usage} == {line.day for line in costs}


# -- Claude Code ---------------------------------------------------------------------------------------------


def test_claude_code_day_pages_and_has_both_actor_kinds(api: ConsoleApi, server: DemoServer) -> None:
    server.admin_page_cap = 4
    day = date(2026, 3, 3)
    lines = api.claude_code_day(day)
    assert len(server.requests(CLAUDE_CODE_REPORT_PATH)) == 3
    sent = queries(server, CLAUDE_CODE_REPORT_PATH)
    assert sent[0] == [("starting_at", "2026-03-03"), ("limit", "1000")]
    assert [q[:2] for q in sent] == [sent[0]] * 3 and all(q[2][0] == "page" for q in sent[1:])

    assert {line.day for line in lines} == {day}
    emails = {line.email for line in lines if line.email}
    assert {"jane@example.com", "priya@example.com"} <= emails
    assert {line.api_key_name for line in lines if line.api_key_name} == {"ci-review-bot", "nightly-refactor"}
    assert all((line.email is None) != (line.api_key_name is None) for line in lines)

    records = [
        r
        for page in raw_pages(server, CLAUDE_CODE_REPORT_PATH, [("starting_at", "2026-03-03")])
        for r in page["data"]
    ]
    assert len(records) == len(lines) == 9
    expected = sum(
        (Decimal(str(m["estimated_cost"]["amount"])) for r in records for m in r["model_breakdown"]),
        Decimal(0),
    )
    assert sum((line.cost_cents for line in lines), Decimal(0)) == expected > 0


def test_claude_code_holds_back_the_last_hour(api: ConsoleApi, clock: FakeClock) -> None:
    day = date(2026, 3, 3)
    clock.set(datetime(2026, 3, 3, 0, 45, tzinfo=UTC))
    assert api.claude_code_day(day) == []
    clock.set(datetime(2026, 3, 4, 0, 30, tzinfo=UTC))
    almost = sum((line.cost_cents for line in api.claude_code_day(day)), Decimal(0))
    clock.set(datetime(2026, 3, 4, 1, 0, tzinfo=UTC))
    complete = sum((line.cost_cents for line in api.claude_code_day(day)), Decimal(0))
    assert 0 < almost < complete
    assert api.claude_code_day(date(2026, 3, 7)) == []  # a Saturday


# -- errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "error", "kind"),
    [
        ("unauthorized", AuthError, AuthKind.INVALID),
        ("forbidden", AuthError, AuthKind.FORBIDDEN),
        ("rate_limited", RateLimited, None),
        ("server_error", ServerError, None),
    ],
)
def test_admin_scenarios_become_typed_errors_without_the_key(
    api: ConsoleApi, server: DemoServer, scenario: str, error: type[Exception], kind: AuthKind | None
) -> None:
    server.set_admin_scenario(scenario)
    calls: list[Callable[[], object]] = [
        api.organization,
        api.users,
        api.workspaces,
        lambda: api.cost_report(FEB_1, MAR_1),
        lambda: api.usage_by_model(FEB_1, MAR_1),
        lambda: api.claude_code_day(date(2026, 3, 3)),
    ]
    for call in calls:
        with pytest.raises(error) as caught:
            call()
        assert KEY not in str(caught.value) and "sk-ant" not in str(caught.value)
        if kind is not None:
            assert isinstance(caught.value, AuthError) and caught.value.kind is kind
    assert api.requests_made == len(calls) == len(server.requests())


def test_auth_messages_say_what_is_wrong_with_the_admin_key(api: ConsoleApi, server: DemoServer) -> None:
    server.set_admin_scenario("unauthorized")
    with pytest.raises(AuthError, match="Admin API key was refused.*HTTP 401"):
        api.organization()
    server.set_admin_scenario("forbidden")
    with pytest.raises(AuthError, match="Admin API key lacks the rights.*HTTP 403"):
        api.organization()


def test_a_wrong_key_is_refused_and_never_repeated(http: HttpClient, server: DemoServer) -> None:
    wrong = "sk-ant-api03-not-an-admin-key-0123456789"
    api = ConsoleApi(http, server.base_url, wrong, "1.2.3")
    with pytest.raises(AuthError) as caught:
        api.cost_report(FEB_1, MAR_1)
    assert wrong not in str(caught.value) and "not-an-admin" not in str(caught.value)
    assert caught.value.kind is AuthKind.INVALID


def test_rate_limit_carries_retry_after(api: ConsoleApi, server: DemoServer) -> None:
    server.set_admin_scenario("rate_limited")
    with pytest.raises(RateLimited) as caught:
        api.usage_by_model(FEB_1, MAR_1)
    assert caught.value.retry_after == 60


def test_server_error_has_its_status(api: ConsoleApi, server: DemoServer) -> None:
    server.set_admin_scenario("server_error")
    with pytest.raises(ServerError) as caught:
        api.claude_code_day(date(2026, 3, 3))
    assert caught.value.status == 500


def test_a_failure_on_a_later_page_fails_the_whole_report(api: ConsoleApi, server: DemoServer) -> None:
    server.admin_page_cap = 10
    first = requests.get(
        server_url(server, COST_REPORT_PATH),
        params=[
            ("starting_at", "2026-02-01T00:00:00Z"),
            ("ending_at", "2026-03-01T00:00:00Z"),
            ("limit", "10"),
        ],
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        timeout=5,
    )
    server.queue(
        COST_REPORT_PATH,
        DemoResponse(200, first.content),
        envelope(429, "rate_limit_error", "Rate limited", ("retry-after", "60")),
    )
    # Half a month must not pass for the whole one.
    with pytest.raises(RateLimited):
        api.cost_report(FEB_1, MAR_1)
    assert len(server.requests(COST_REPORT_PATH)) == 3  # the witness above, then two of ours
    assert len(api.cost_report(FEB_1, MAR_1)) > 0  # the one-shots are spent; normal service again


def test_a_server_that_always_has_more_is_cut_off(api: ConsoleApi, server: DemoServer) -> None:
    server.queue(COST_REPORT_PATH, *(report_page(True, f"page_{n}") for n in range(MAX_PAGES + 5)))
    with pytest.raises(ShapeError, match=f"after {MAX_PAGES} pages"):
        api.cost_report(FEB_1, MAR_1)
    assert api.requests_made == MAX_PAGES == len(server.requests(COST_REPORT_PATH))


def test_a_repeated_cursor_stops_at_once(api: ConsoleApi, server: DemoServer) -> None:
    server.queue(MESSAGES_REPORT_PATH, report_page(True, "page_same"), report_page(True, "page_same"))
    with pytest.raises(ShapeError, match="repeated"):
        api.usage_by_model(FEB_1, MAR_1)
    assert api.requests_made == 2


@pytest.mark.parametrize(
    "answer",
    [
        DemoResponse(200, b"[]"),
        DemoResponse(200, b'{"data": null, "has_more": false}'),
        DemoResponse(200, b"<html>Sign in to Hotel WiFi</html>", (("Content-Type", "text/html"),)),
        DemoResponse(200, b'{"data": [{"starting_at": "2026-03-02T00:00:00Z", "res'),
    ],
    ids=["list", "no-data", "html", "truncated"],
)
def test_answers_that_are_not_pages_are_shape_errors(
    api: ConsoleApi, server: DemoServer, answer: DemoResponse
) -> None:
    server.queue(COST_REPORT_PATH, answer)
    with pytest.raises(ShapeError):
        api.cost_report(FEB_1, MAR_1)


def test_a_refused_query_is_a_server_error_400(api: ConsoleApi, server: DemoServer) -> None:
    server.queue(CLAUDE_CODE_REPORT_PATH, envelope(400, "invalid_request_error", "limit: too large"))
    with pytest.raises(ServerError) as caught:
        api.claude_code_day(date(2026, 3, 3))
    assert caught.value.status == 400


def test_nobody_listening_is_a_network_error(http: HttpClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = ConsoleApi(http, f"http://127.0.0.1:{port}", KEY, "1.2.3")
    with pytest.raises(NetworkError) as caught:
        api.organization()
    assert KEY not in str(caught.value)
    assert api.requests_made == 1


# -- what goes on the wire -----------------------------------------------------------------------------------


def test_query_parameters_are_exactly_the_documented_ones(api: ConsoleApi, server: DemoServer) -> None:
    start, end = datetime(2026, 2, 1, 9, 15, 30, 123456, tzinfo=UTC), datetime(2026, 2, 10, tzinfo=UTC)
    api.cost_report(start, end)
    api.usage_by_model(start, end)
    api.claude_code_day(date(2026, 2, 9))
    api.users()
    api.workspaces(include_archived=True)
    window = [("starting_at", "2026-02-01T09:15:30Z"), ("ending_at", "2026-02-10T00:00:00Z")]
    assert queries(server, COST_REPORT_PATH) == [
        [
            *window,
            ("bucket_width", "1d"),
            ("limit", "31"),
            ("group_by[]", "workspace_id"),
            ("group_by[]", "description"),
        ]
    ]
    assert queries(server, MESSAGES_REPORT_PATH) == [
        [*window, ("bucket_width", "1d"), ("limit", "31"), ("group_by[]", "model")]
    ]
    assert queries(server, CLAUDE_CODE_REPORT_PATH) == [[("starting_at", "2026-02-09"), ("limit", "1000")]]
    assert queries(server, USERS_PATH) == [[("limit", "100")]]
    assert queries(server, WORKSPACES_PATH) == [[("limit", "100"), ("include_archived", "true")]]
    # Bracket notation, repeated; percent-encoded on the wire as RFC 3986 asks of "[" and "]".
    raw = server.requests(COST_REPORT_PATH)[0].query
    assert raw.count("group_by%5B%5D=") == 2 and "group_by=" not in raw


def test_offset_times_are_sent_in_utc(api: ConsoleApi, server: DemoServer) -> None:
    paris = datetime(2026, 3, 1, 2, 0, tzinfo=timezone(timedelta(hours=1)))
    api.cost_report(paris, NOW)
    assert dict(queries(server, COST_REPORT_PATH)[0])["starting_at"] == "2026-03-01T01:00:00Z"


def test_the_key_travels_only_in_its_header(api: ConsoleApi, server: DemoServer) -> None:
    server.admin_page_cap = 3
    api.organization()
    api.users()
    api.workspaces(include_archived=True)
    api.cost_report(FEB_1, NOW)
    api.usage_by_model(FEB_1, NOW)
    api.claude_code_day(date(2026, 3, 3))
    sent = server.requests()
    assert len(sent) == api.requests_made > 20
    for request in sent:
        assert KEY not in request.query and KEY not in request.path and request.body == b""
        assert [name for name, value in request.headers.items() if KEY in value] == ["x-api-key"]
