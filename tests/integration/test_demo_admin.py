"""The demo server's Admin API (Console mode) answers like the real one, over real HTTP."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from tray_app.demo import DEMO_ORGANIZATION_ID, DemoResponse, DemoServer

from ..fakes import FakeClock
from . import demo_helpers
from .demo_helpers import USAGE, get

# The shared fixtures, bound by name so that pytest finds them in this module.
clock = demo_helpers.clock
server = demo_helpers.server
http = demo_helpers.http

ADMIN_HEADERS = {"x-api-key": DemoServer.DEMO_ADMIN_KEY, "anthropic-version": "2023-06-01"}
COST = "/v1/organizations/cost_report"
MESSAGES = "/v1/organizations/usage_report/messages"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
# Wednesday 15 July 2026, 12:00 UTC.
WEDNESDAY_NOON = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
CENTS = re.compile(r"^\d+\.\d+$")


def admin(
    http: requests.Session, server: DemoServer, path: str, params: Any = None, **headers: str
) -> requests.Response:
    sent = {**ADMIN_HEADERS, **headers}
    return http.get(server.base_url + path, params=params, headers=sent, timeout=5)


def results_of(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [result for bucket in response.json()["data"] for result in bucket["results"]]


def error_type(response: requests.Response) -> str:
    body = response.json()
    assert body["type"] == "error" and body["request_id"].startswith("req_")
    return str(body["error"]["type"])


def test_admin_api_wants_an_admin_key_and_the_version(server: DemoServer, http: requests.Session) -> None:
    no_key = http.get(server.base_url + "/v1/organizations/me", headers={"anthropic-version": "2023-06-01"})
    assert (no_key.status_code, error_type(no_key)) == (401, "authentication_error")
    oauth = admin(http, server, "/v1/organizations/me", **{"x-api-key": DemoServer.DEMO_ACCESS_TOKEN})
    assert (oauth.status_code, error_type(oauth)) == (401, "authentication_error")
    assert DemoServer.DEMO_ACCESS_TOKEN not in oauth.text
    no_version = http.get(
        server.base_url + "/v1/organizations/me", headers={"x-api-key": DemoServer.DEMO_ADMIN_KEY}, timeout=5
    )
    assert (no_version.status_code, error_type(no_version)) == (400, "invalid_request_error")
    ok = admin(http, server, "/v1/organizations/me")
    assert ok.json() == {"id": DEMO_ORGANIZATION_ID, "name": "Demo Org", "type": "organization"}
    assert ok.headers["request-id"].startswith("req_")
    # The OAuth endpoints do not take the admin key, nor the admin endpoints a bearer token.
    assert get(http, server, headers={"x-api-key": DemoServer.DEMO_ADMIN_KEY}).status_code == 401
    assert (
        admin(http, server, "/v1/organizations/me", Authorization="Bearer x", **{"x-api-key": ""}).status_code
        == 401
    )


def test_admin_keys_added_by_a_test_are_accepted(server: DemoServer, http: requests.Session) -> None:
    server.valid_admin_keys.add("sk-ant-admin01-second")
    assert (
        admin(http, server, "/v1/organizations/me", **{"x-api-key": "sk-ant-admin01-second"}).status_code
        == 200
    )


def test_users_page_by_id_cursors(server: DemoServer, http: requests.Session) -> None:
    first = admin(http, server, "/v1/organizations/users", {"limit": 3}).json()
    assert len(first["data"]) == 3 and first["has_more"] is True
    assert (first["first_id"], first["last_id"]) == (first["data"][0]["id"], first["data"][-1]["id"])
    assert first["data"][0] | {"added_at": None} == {
        "id": first["first_id"],
        "added_at": None,
        "email": "jane@example.com",
        "name": "Jane Doe",
        "role": "admin",
        "type": "user",
    }
    second = admin(http, server, "/v1/organizations/users", {"limit": 3, "after_id": first["last_id"]}).json()
    third = admin(http, server, "/v1/organizations/users", {"limit": 3, "after_id": second["last_id"]}).json()
    assert (len(second["data"]), len(third["data"]), third["has_more"]) == (3, 1, False)
    everyone = admin(http, server, "/v1/organizations/users").json()  # the default limit of 20 holds all
    assert everyone["data"] == first["data"] + second["data"] + third["data"] and not everyone["has_more"]
    back = admin(
        http, server, "/v1/organizations/users", {"limit": 3, "before_id": second["first_id"]}
    ).json()
    assert back["data"] == first["data"] and back["has_more"] is False
    for params in ({"after_id": "user_nobody"}, {"limit": 0}, {"limit": 1001}, {"limit": "ten"}):
        refused = admin(http, server, "/v1/organizations/users", params)
        assert (refused.status_code, error_type(refused)) == (400, "invalid_request_error")
    only = admin(http, server, "/v1/organizations/users", [("roles[]", "claude_code_user")]).json()
    assert [user["email"] for user in only["data"]] == ["priya@example.com", "max@example.com"]


def test_workspaces_hide_the_archived_one_unless_asked(server: DemoServer, http: requests.Session) -> None:
    active = admin(http, server, "/v1/organizations/workspaces").json()["data"]
    every = admin(http, server, "/v1/organizations/workspaces", {"include_archived": "true"}).json()["data"]
    assert [w["name"] for w in active] == ["Production", "Research", "Claude Code", "Staging"]
    assert every[:4] == active and every[4]["name"] == "Legacy Lab"
    assert every[4]["archived_at"] == "2025-12-01T00:00:00Z"
    assert all(w["archived_at"] is None and w["id"].startswith("wrkspc_") for w in active)
    paged = admin(http, server, "/v1/organizations/workspaces", {"limit": 3}).json()
    assert paged["has_more"] is True and len(paged["data"]) == 3


def test_cost_report_has_a_bucket_for_every_day_idle_weekends_included(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    clock.set(WEDNESDAY_NOON)
    params = [("starting_at", "2026-07-06T00:00:00Z"), ("ending_at", "2026-07-13T00:00:00Z")]
    page = admin(http, server, COST, params + [("group_by[]", "workspace_id")]).json()
    assert [(b["starting_at"], b["ending_at"]) for b in page["data"]] == [
        (f"2026-07-{d:02d}T00:00:00Z", f"2026-07-{d + 1:02d}T00:00:00Z") for d in range(6, 13)
    ]
    assert [bool(b["results"]) for b in page["data"]] == [True] * 5 + [False, False]  # Sat 11, Sun 12
    assert (page["has_more"], page["next_page"]) == (False, None)
    for result in (r for b in page["data"] for r in b["results"]):
        assert CENTS.match(result["amount"]) and result["currency"] == "USD"
    workspaces = {r["workspace_id"] for b in page["data"] for r in b["results"]}
    assert None in workspaces and "wrkspc_01DemoProduction7Hq2Lk9" in workspaces


def test_cost_report_pages_by_default_seven_days(server: DemoServer, http: requests.Session) -> None:
    first = admin(
        http, server, COST, {"starting_at": "2026-06-01T00:00:00Z", "ending_at": "2026-06-11T00:00:00Z"}
    )
    page = first.json()
    assert len(page["data"]) == 7 and page["has_more"] is True
    # Opaque to clients, shaped like the documented example: "page_" and a base64 timestamp.
    assert page["next_page"] == "page_" + base64.b64encode(b"2026-06-08T00:00:00Z").decode()
    params = {
        "starting_at": "2026-06-01T00:00:00Z",
        "ending_at": "2026-06-11T00:00:00Z",
        "page": page["next_page"],
    }
    rest = admin(http, server, COST, params).json()
    assert [b["starting_at"][:10] for b in rest["data"]] == ["2026-06-08", "2026-06-09", "2026-06-10"]
    assert (rest["has_more"], rest["next_page"]) == (False, None)


@pytest.mark.parametrize(
    "params",
    [
        {"ending_at": "2026-06-11T00:00:00Z"},
        {"starting_at": "June"},
        {"starting_at": "2026-06-01T00:00:00"},
        {"starting_at": "2026-06-01T00:00:00Z", "ending_at": "2026-05-01T00:00:00Z"},
        {"starting_at": "2026-06-01T00:00:00Z", "limit": 32},
        {"starting_at": "2026-06-01T00:00:00Z", "limit": 0},
        {"starting_at": "2026-06-01T00:00:00Z", "bucket_width": "1h"},
        {"starting_at": "2026-06-01T00:00:00Z", "group_by[]": "model"},
        {"starting_at": "2026-06-01T00:00:00Z", "page": "not-a-token!"},
        {"starting_at": "2026-06-01T00:00:00Z", "page": "page_" + base64.b64encode(b"2026-05-01").decode()},
    ],
    ids=[
        "no-start",
        "bad-start",
        "naive-start",
        "end-before-start",
        "limit-32",
        "limit-0",
        "hourly",
        "by-model",
        "bad-page",
        "page-before-start",
    ],
)
def test_cost_report_refuses_bad_queries(
    server: DemoServer, http: requests.Session, params: dict[str, Any]
) -> None:
    refused = admin(http, server, COST, params)
    assert (refused.status_code, error_type(refused)) == (400, "invalid_request_error")


def test_cost_results_echo_only_the_grouped_dimensions(server: DemoServer, http: requests.Session) -> None:
    day = {"starting_at": "2026-07-14T00:00:00Z", "ending_at": "2026-07-15T00:00:00Z"}
    both = results_of(
        admin(
            http, server, COST, [*day.items(), ("group_by[]", "workspace_id"), ("group_by[]", "description")]
        )
    )
    by_workspace = results_of(admin(http, server, COST, [*day.items(), ("group_by[]", "workspace_id")]))
    plain = results_of(admin(http, server, COST, day))
    assert len(plain) == 1 and len(by_workspace) == 5 and len(both) > 40
    assert plain[0] | {"amount": None} == {
        "amount": None,
        "currency": "USD",
        "workspace_id": None,
        "description": None,
        "cost_type": None,
        "token_type": None,
        "model": None,
        "service_tier": None,
        "context_window": None,
        "inference_geo": None,
    }
    assert all(r["description"] is None and r["model"] is None for r in by_workspace)
    total = Decimal(plain[0]["amount"])
    assert sum(Decimal(r["amount"]) for r in by_workspace) == total == sum(Decimal(r["amount"]) for r in both)
    searches = [r for r in both if r["cost_type"] == "web_search"]
    assert searches and all(r["description"] == "Web Search Usage" and r["model"] is None for r in searches)
    assert all(r["amount"].endswith(".0") for r in searches)  # one cent a search
    tokens = [r for r in both if r["cost_type"] == "tokens"]
    assert "claude-fable-5-20261101" in {r["model"] for r in tokens}
    assert {r["token_type"] for r in tokens} == {
        "uncached_input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation.ephemeral_5m_input_tokens",
        "cache_creation.ephemeral_1h_input_tokens",
    }


def test_usage_report_models_match_the_costs_and_echo_grouping(
    server: DemoServer, http: requests.Session
) -> None:
    day = {"starting_at": "2026-07-14T00:00:00Z", "ending_at": "2026-07-15T00:00:00Z"}
    by_model = results_of(admin(http, server, MESSAGES, [*day.items(), ("group_by[]", "model")]))
    costs = results_of(admin(http, server, COST, [*day.items(), ("group_by[]", "description")]))
    assert {r["model"] for r in by_model} == {r["model"] for r in costs if r["model"]}
    assert all(r["workspace_id"] is None and r["service_tier"] is None for r in by_model)
    plain = results_of(admin(http, server, MESSAGES, day))
    assert len(plain) == 1 and plain[0]["model"] is None
    for field in ("uncached_input_tokens", "output_tokens", "cache_read_input_tokens"):
        assert plain[0][field] == sum(r[field] for r in by_model) > 0
    assert plain[0]["server_tool_use"]["web_search_requests"] == sum(
        r["server_tool_use"]["web_search_requests"] for r in by_model
    )
    tiers = results_of(admin(http, server, MESSAGES, [*day.items(), ("group_by[]", "service_tier")]))
    assert [r["service_tier"] for r in tiers] == ["standard"]
    refused = admin(http, server, MESSAGES, [*day.items(), ("group_by[]", "description")])
    assert refused.status_code == 400


def test_reports_stop_at_now_and_today_grows(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    clock.set(WEDNESDAY_NOON)
    params = {"starting_at": "2026-07-14T00:00:00Z", "ending_at": "2026-08-01T00:00:00Z"}
    noon = admin(http, server, COST, params).json()
    assert [b["starting_at"][:10] for b in noon["data"]] == ["2026-07-14", "2026-07-15"]
    assert noon["has_more"] is False
    clock.advance(6 * 3600)
    evening = admin(http, server, COST, params).json()
    assert evening["data"][0] == noon["data"][0]  # yesterday is settled
    assert Decimal(evening["data"][1]["results"][0]["amount"]) > Decimal(
        noon["data"][1]["results"][0]["amount"]
    )
    future = admin(http, server, COST, {"starting_at": "2026-08-01T00:00:00Z"}).json()
    assert future == {"data": [], "has_more": False, "next_page": None}


def test_claude_code_report_pages_records_of_one_day(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    clock.set(WEDNESDAY_NOON)
    whole = admin(http, server, CLAUDE_CODE, {"starting_at": "2026-07-14"}).json()
    assert len(whole["data"]) == 9 and whole["has_more"] is False  # fits the default limit of 20
    actors = [r["actor"] for r in whole["data"]]
    assert {"type": "user_actor", "email_address": "jane@example.com"} in actors
    assert {"type": "api_actor", "api_key_name": "ci-review-bot"} in actors
    assert [r["is_remote"] for r in whole["data"]].count(True) == 2
    record = whole["data"][0]
    assert record["date"] == "2026-07-14T00:00:00Z" and record["organization_id"] == DEMO_ORGANIZATION_ID
    for entry in (m for r in whole["data"] for m in r["model_breakdown"]):
        assert entry["estimated_cost"]["currency"] == "USD"
        assert (
            isinstance(entry["estimated_cost"]["amount"], int | float)
            and entry["estimated_cost"]["amount"] > 0
        )
        assert set(entry["tokens"]) == {"input", "output", "cache_read", "cache_creation"}

    pages, token = [], None
    while True:
        params = {"starting_at": "2026-07-14", "limit": 4, **({"page": token} if token else {})}
        page = admin(http, server, CLAUDE_CODE, params).json()
        pages.append(page["data"])
        token = page["next_page"]
        if not page["has_more"]:
            break
    assert [len(p) for p in pages] == [4, 4, 1]
    assert [r for p in pages for r in p] == whole["data"]


@pytest.mark.parametrize(
    "params",
    [{}, {"starting_at": "2026-07-14T00:00:00Z"}, {"starting_at": "2026-07-14", "limit": 1001}],
    ids=["no-day", "timestamp", "limit-1001"],
)
def test_claude_code_report_refuses_bad_queries(
    server: DemoServer, http: requests.Session, params: dict[str, Any]
) -> None:
    refused = admin(http, server, CLAUDE_CODE, params)
    assert (refused.status_code, error_type(refused)) == (400, "invalid_request_error")


def test_claude_code_report_holds_back_the_last_hour(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 7, 15, 0, 50, tzinfo=UTC))
    today = admin(http, server, CLAUDE_CODE, {"starting_at": "2026-07-15"}).json()
    assert today == {"data": [], "has_more": False, "next_page": None}
    late = admin(http, server, CLAUDE_CODE, {"starting_at": "2026-07-14"}).json()["data"]
    clock.set(WEDNESDAY_NOON)
    settled = admin(http, server, CLAUDE_CODE, {"starting_at": "2026-07-14"}).json()["data"]
    assert (
        late[0]["model_breakdown"][0]["tokens"]["input"] < settled[0]["model_breakdown"][0]["tokens"]["input"]
    )
    weekend = admin(http, server, CLAUDE_CODE, {"starting_at": "2026-07-11"}).json()
    assert weekend["data"] == []


@pytest.mark.parametrize(
    ("scenario", "status", "kind"),
    [
        ("unauthorized", 401, "authentication_error"),
        ("forbidden", 403, "permission_error"),
        ("rate_limited", 429, "rate_limit_error"),
        ("server_error", 500, "api_error"),
    ],
)
def test_admin_scenarios_fail_every_admin_endpoint(
    server: DemoServer, http: requests.Session, scenario: str, status: int, kind: str
) -> None:
    server.set_admin_scenario(scenario)
    assert server.admin_scenario == scenario
    for path in ("/v1/organizations/me", "/v1/organizations/users", COST, MESSAGES, CLAUDE_CODE):
        response = admin(http, server, path, {"starting_at": "2026-07-14"})
        assert (response.status_code, error_type(response)) == (status, kind)
        assert DemoServer.DEMO_ADMIN_KEY not in response.text
        if scenario == "rate_limited":
            assert response.headers["retry-after"] == "60"
    assert get(http, server).status_code == 200  # the Code-mode endpoints keep their own scenario
    server.set_admin_scenario("normal")
    assert admin(http, server, "/v1/organizations/me").status_code == 200


def test_admin_scenarios_are_checked_and_switchable_over_http(
    server: DemoServer, http: requests.Session
) -> None:
    with pytest.raises(ValueError, match="normal.*server_error"):
        server.set_admin_scenario("sunny")
    with pytest.raises(ValueError):
        DemoServer(admin_scenario="sunny")
    switched = http.post(server.base_url + "/_demo/admin_scenario", json={"scenario": "forbidden"}, timeout=5)
    assert switched.json() == {"admin_scenario": "forbidden"}
    assert admin(http, server, "/v1/organizations/me").status_code == 403
    unknown = http.post(server.base_url + "/_demo/admin_scenario", json={"scenario": "sunny"}, timeout=5)
    assert unknown.status_code == 400 and server.admin_scenario == "forbidden"


def test_queued_answers_work_on_admin_paths_too(server: DemoServer, http: requests.Session) -> None:
    server.queue(COST, DemoResponse(503, b'{"type":"error","error":{"type":"api_error","message":"x"}}'))
    assert admin(http, server, COST, {"starting_at": "2026-07-14T00:00:00Z"}).status_code == 503
    assert admin(http, server, COST, {"starting_at": "2026-07-14T00:00:00Z"}).status_code == 200


def test_admin_queries_are_recorded_apart_from_the_path(server: DemoServer, http: requests.Session) -> None:
    admin(http, server, COST, [("starting_at", "2026-07-14T00:00:00Z"), ("group_by[]", "workspace_id")])
    recorded = server.requests(COST)
    assert len(recorded) == 1 and recorded[0].path == COST
    assert recorded[0].query == "starting_at=2026-07-14T00%3A00%3A00Z&group_by%5B%5D=workspace_id"
    assert recorded[0].headers["x-api-key"] == DemoServer.DEMO_ADMIN_KEY
    get(http, server)
    assert server.requests(USAGE)[0].query == ""


def test_admin_page_cap_shortens_every_page(server: DemoServer, http: requests.Session) -> None:
    server.admin_page_cap = 2
    users = admin(http, server, "/v1/organizations/users", {"limit": 100}).json()
    cost = admin(http, server, COST, {"starting_at": "2026-06-01T00:00:00Z", "limit": 31}).json()
    assert (len(users["data"]), users["has_more"]) == (2, True)
    assert (len(cost["data"]), cost["has_more"]) == (2, True)
