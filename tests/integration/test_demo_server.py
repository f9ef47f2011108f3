"""The loopback demo server answers like the real Anthropic endpoints, over real HTTP."""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tray_app.demo import (
    CLIENT_ID,
    DEMO_ORGANIZATION_ID,
    SCENARIOS,
    WEB_API_ORG_UUID,
    WEB_CHAT_ORG_UUID,
    WEB_SCENARIOS,
    DemoResponse,
    DemoServer,
    rising_usage_body,
)

USAGE = "/api/oauth/usage"
PROFILE = "/api/oauth/profile"
CLAUDE_UA = "claude-code/2.1.221"
START = 1_785_000_000.0  # 2026-07-25T17:20:00Z; a whole-second start keeps reset times exact
RESETS_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[DemoServer]:
    with DemoServer(clock=clock) as demo:
        yield demo


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def auth(token: str = DemoServer.DEMO_ACCESS_TOKEN, agent: str = CLAUDE_UA) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "User-Agent": agent, "anthropic-beta": "oauth-2025-04-20"}


def get(http: requests.Session, server: DemoServer, path: str = USAGE, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", auth())
    return http.get(server.base_url + path, headers=headers, timeout=5, **kwargs)


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def refresh(
    http: requests.Session, server: DemoServer, token: str, agent: str = "axios/1.7.9"
) -> requests.Response:
    body = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID}
    return http.post(server.token_url, json=body, headers={"User-Agent": agent}, timeout=5)


# -- the rising scenario ----------------------------------------------------------------------------


def test_rising_body_has_the_current_shape(server: DemoServer, http: requests.Session) -> None:
    response = get(http, server)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    # Two hours into a five-hour session at 22 %/h.
    assert body["five_hour"]["utilization"] == 44.0
    assert body["five_hour"]["resets_at"] == "2026-07-25T20:20:00.001100+00:00"
    assert body["seven_day"]["utilization"] == 41.8
    assert epoch(body["seven_day"]["resets_at"]) == pytest.approx(START + 3 * 86400, abs=1)
    assert [entry["kind"] for entry in body["limits"]] == ["session", "weekly_all", "weekly_scoped"]
    assert [entry["percent"] for entry in body["limits"]] == [44, 42, 33]
    assert all(isinstance(entry["percent"], int) for entry in body["limits"])
    assert body["limits"][2]["scope"]["model"]["display_name"] == "Fable"
    assert [entry["is_active"] for entry in body["limits"]] == [True, False, False]
    for key in ("seven_day_opus", "seven_day_sonnet", "seven_day_oauth_apps", "iguana_necktie"):
        assert key in body and body[key] is None
    assert body["extra_usage"]["is_enabled"] is True
    assert (body["extra_usage"]["monthly_limit"], body["extra_usage"]["used_credits"]) == (4000, 1234.0)
    assert (body["extra_usage"]["currency"], body["extra_usage"]["decimal_places"]) == ("USD", 2)
    assert body["spend"]["used"] == {"amount_minor": 1234, "currency": "USD", "exponent": 2}
    for window in (body["five_hour"], body["seven_day"]):
        assert RESETS_AT.match(window["resets_at"])


def test_rising_climbs_caps_at_100_then_resets_to_a_new_period(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    first = get(http, server).json()["five_hour"]
    clock.advance(3600)
    climbing = get(http, server).json()["five_hour"]
    assert climbing["utilization"] == 66.0
    assert climbing["resets_at"] == first["resets_at"]

    clock.advance(2 * 3600 - 60)  # one minute before the period ends
    capped = get(http, server).json()
    assert capped["five_hour"]["utilization"] == 100.0
    assert capped["limits"][0]["percent"] == 100
    assert capped["limits"][0]["severity"] == "critical"
    assert capped["five_hour"]["resets_at"] == first["resets_at"]

    clock.advance(120)  # one minute into the next period
    fresh = get(http, server).json()["five_hour"]
    assert fresh["utilization"] == 0.4
    assert epoch(fresh["resets_at"]) == epoch(first["resets_at"]) + 5 * 3600
    assert epoch(fresh["resets_at"]) > clock()


def test_rising_speed_runs_the_virtual_clock_faster(clock: FakeClock, http: requests.Session) -> None:
    with DemoServer(clock=clock, speed=60) as fast:
        first = get(http, fast).json()["five_hour"]
        # At 60x a five-hour session lasts five real minutes and ends three real minutes after start.
        assert epoch(first["resets_at"]) == pytest.approx(START + 180, abs=1)
        clock.advance(60)
        assert get(http, fast).json()["five_hour"]["utilization"] == 66.0


def test_rising_usage_body_matches_what_the_server_sends(server: DemoServer, http: requests.Session) -> None:
    served = get(http, server).json()
    assert served == rising_usage_body(2 * 3600, started_at=server.started_at, speed=server.speed)
    early = rising_usage_body(0, started_at=START)
    assert early["five_hour"]["utilization"] == 0.0
    assert (early["seven_day"]["utilization"], early["limits"][2]["percent"]) == (41.0, 32)
    assert server.epoch_at(0) == START - 2 * 3600


# -- static bodies ----------------------------------------------------------------------------------


def test_full_is_the_reference_example_moved_into_the_future(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    server.set_scenario("full")
    body = get(http, server).json()
    five, seven = body["five_hour"]["resets_at"], body["seven_day"]["resets_at"]
    assert five.endswith(":20:00.001100+00:00") and seven.endswith(":00:00.001127+00:00")
    assert clock() + 2 * 3600 <= epoch(five) < clock() + 3 * 3600
    # The gaps between reset times are the example's (2 days 2 h 40 min to the weekly reset).
    assert epoch(seven) - epoch(five) == pytest.approx(2 * 86400 + 2 * 3600 + 40 * 60, abs=0.001)
    assert body["limits"][2]["resets_at"].endswith(".001438+00:00")
    assert body["extra_usage"]["currency"] == "EUR" and body["extra_usage"]["is_enabled"] is False
    assert body["spend"]["cap"]["money"]["amount_minor"] == 4000
    assert body["member_dashboard_available"] is False


def test_minimal_has_only_the_old_keys(server: DemoServer, http: requests.Session, clock: FakeClock) -> None:
    server.set_scenario("minimal")
    body = get(http, server).json()
    assert set(body) == {"five_hour", "seven_day", "seven_day_oauth_apps", "seven_day_opus", "extra_usage"}
    assert body["five_hour"]["utilization"] == 61.0
    assert epoch(body["five_hour"]["resets_at"]) > clock()
    assert body["seven_day_opus"] == {"utilization": 0.0, "resets_at": None}
    assert body["extra_usage"]["monthly_limit"] is None


def test_enterprise_has_no_windows_only_credits(server: DemoServer, http: requests.Session) -> None:
    server.set_scenario("enterprise")
    body = get(http, server).json()
    assert body["five_hour"] is None and body["seven_day"] is None
    extra = body["extra_usage"]
    assert extra["is_enabled"] is True
    assert (extra["monthly_limit"], extra["used_credits"], extra["utilization"]) == (100000, 4132, 4.13)
    assert extra["currency"] == "USD"


def test_no_usage_yet_has_null_resets_int_utilization_and_codenames(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    server.set_scenario("no_usage_yet")
    body = get(http, server).json()
    assert body["five_hour"] == {"utilization": 0.0, "resets_at": None}
    assert body["seven_day"]["utilization"] == 5 and isinstance(body["seven_day"]["utilization"], int)
    assert body["seven_day"]["resets_at"].endswith("Z")
    assert epoch(body["seven_day"]["resets_at"]) > clock()
    assert body["harbor_lantern"]["utilization"] == 50.0


def test_profile_describes_a_max_account(server: DemoServer, http: requests.Session) -> None:
    body = get(http, server, PROFILE).json()
    assert body["account"]["email"] == "jane@example.com"
    assert body["organization"]["organization_type"] == "claude_max"
    assert body["organization"]["rate_limit_tier"] == "default_claude_max_5x"


# -- failure scenarios ------------------------------------------------------------------------------

FAILURES = [
    ("unauthorized", 401, "authentication_error", "Invalid bearer token"),
    ("expired", 401, "authentication_error", "OAuth token has expired."),
    ("scope", 403, "permission_error", "OAuth token does not meet scope requirement user:profile"),
    ("rate_limited", 429, "rate_limit_error", "Rate limited."),
    ("rate_limited_date", 429, "rate_limit_error", "Rate limited."),
    ("rate_limited_zero", 429, "rate_limit_error", "Rate limited."),
    ("rate_limited_none", 429, "rate_limit_error", "Rate limited."),
    ("server_error", 500, "api_error", "Internal server error"),
    ("overloaded", 529, "overloaded_error", "Overloaded"),
]


@pytest.mark.parametrize(("scenario", "status", "kind", "message"), FAILURES)
def test_failure_scenarios_use_the_error_envelope_on_usage_and_profile(
    server: DemoServer, http: requests.Session, scenario: str, status: int, kind: str, message: str
) -> None:
    server.set_scenario(scenario)
    for path in (USAGE, PROFILE):
        response = get(http, server, path)
        assert response.status_code == status, path
        error = response.json()["error"]
        assert error["type"] == kind
        assert error["message"].startswith(message)


@pytest.mark.parametrize(
    ("scenario", "retry_after"),
    [("rate_limited", "300"), ("rate_limited_zero", "0"), ("rate_limited_none", None)],
)
def test_rate_limits_carry_the_retry_after_header(
    server: DemoServer, http: requests.Session, scenario: str, retry_after: str | None
) -> None:
    server.set_scenario(scenario)
    assert get(http, server).headers.get("retry-after") == retry_after


def test_rate_limited_date_sends_an_http_date_two_minutes_ahead(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    server.set_scenario("rate_limited_date")
    value = get(http, server).headers["retry-after"]
    assert value.endswith(" GMT")
    assert parsedate_to_datetime(value).timestamp() == clock() + 120


def test_html_pages_come_as_text_html(server: DemoServer, http: requests.Session) -> None:
    server.set_scenario("html")
    gateway = get(http, server)
    assert gateway.status_code == 502
    assert gateway.headers["Content-Type"].startswith("text/html")
    assert b"Bad Gateway" in gateway.content
    server.set_scenario("html_ok")
    captive = get(http, server)
    assert captive.status_code == 200
    assert captive.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        captive.json()
    # A captive portal does not gate the profile check: it answers like the live endpoint.
    assert get(http, server, PROFILE).status_code == 200


def test_truncated_body_is_a_cut_json_prefix_with_an_honest_length(
    server: DemoServer, http: requests.Session
) -> None:
    server.set_scenario("truncated")
    response = get(http, server)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content) > 0
    assert json.dumps(server.rising_body()).encode().startswith(response.content)
    with pytest.raises(ValueError):
        json.loads(response.content)
    # The same keep-alive connection still works afterwards.
    server.set_scenario("rising")
    assert get(http, server).json()["five_hour"]["utilization"] == 44.0


def test_slow_answers_late_and_a_short_client_timeout_gives_up(
    server: DemoServer, http: requests.Session
) -> None:
    server.set_scenario("slow")
    server.slow_seconds = 0.3
    began = time.monotonic()
    assert get(http, server).json()["five_hour"]["utilization"] == 44.0
    assert time.monotonic() - began >= 0.3
    server.slow_seconds = 5.0
    with pytest.raises(requests.Timeout):
        http.get(server.base_url + USAGE, headers=auth(), timeout=0.3)


def test_stop_does_not_wait_for_a_sleeping_answer(clock: FakeClock) -> None:
    demo = DemoServer("slow", clock=clock).start()
    demo.slow_seconds = 30.0
    url = demo.base_url + USAGE
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(url, headers=auth(), timeout=10)
        except requests.RequestException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    deadline = time.monotonic() + 5
    while not demo.requests(USAGE) and time.monotonic() < deadline:
        time.sleep(0.01)
    began = time.monotonic()
    demo.stop()
    worker.join(5)
    assert time.monotonic() - began < 2
    assert not worker.is_alive()
    # The client sees a dropped connection at once, not a ten-second timeout.
    assert len(outcome) == 1 and not isinstance(outcome[0], requests.Timeout)


# -- auth and User-Agent rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"User-Agent": CLAUDE_UA},
        {"User-Agent": CLAUDE_UA, "Authorization": "Bearer sk-ant-oat01-someone-else"},
        {"User-Agent": CLAUDE_UA, "Authorization": DemoServer.DEMO_ACCESS_TOKEN},
        {"User-Agent": CLAUDE_UA, "Authorization": f"Basic {DemoServer.DEMO_ACCESS_TOKEN}"},
    ],
)
@pytest.mark.parametrize("path", [USAGE, PROFILE])
def test_a_bad_bearer_token_is_refused(
    server: DemoServer, http: requests.Session, headers: dict[str, str], path: str
) -> None:
    response = get(http, server, path, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == {
        "type": "authentication_error",
        "message": "Invalid bearer token",
        "details": {"error_visibility": "user_facing"},
    }


def test_tokens_added_by_a_test_are_accepted(server: DemoServer, http: requests.Session) -> None:
    server.valid_access_tokens.add("sk-ant-oat01-extra")
    assert get(http, server, headers=auth("sk-ant-oat01-extra")).status_code == 200


@pytest.mark.parametrize(
    "agent", ["python-requests/2.32", "claude-usage-tray/0.1", "claude-cli/2.1.207 (external)"]
)
def test_usage_throttles_unknown_agents_but_profile_does_not(
    server: DemoServer, http: requests.Session, agent: str
) -> None:
    usage = get(http, server, headers=auth(agent=agent))
    assert usage.status_code == 429
    assert usage.headers["retry-after"] == "0"
    assert usage.json()["error"]["type"] == "rate_limit_error"
    assert get(http, server, PROFILE, headers=auth(agent=agent)).status_code == 200


def test_auth_is_checked_before_the_scenario(server: DemoServer, http: requests.Session) -> None:
    server.set_scenario("rate_limited")
    assert get(http, server, headers={"User-Agent": CLAUDE_UA}).status_code == 401


# -- queued one-shot answers ------------------------------------------------------------------------


def test_queued_answers_come_first_in_order_then_the_scenario(
    server: DemoServer, http: requests.Session
) -> None:
    server.queue(USAGE, DemoResponse(503, b'{"first": 1}', (("X-Demo", "one"),)))
    server.queue(USAGE, DemoResponse(200, b"<p>second</p>", (("Content-Type", "text/html"),)))
    # Queued answers skip the auth rule too: a test scripts exactly what the client gets.
    first = get(http, server, headers={})
    assert (first.status_code, first.json(), first.headers["X-Demo"]) == (503, {"first": 1}, "one")
    assert first.headers["Content-Type"] == "application/json"
    second = get(http, server)
    assert (second.status_code, second.text, second.headers["Content-Type"]) == (
        200,
        "<p>second</p>",
        "text/html",
    )
    assert get(http, server).json()["five_hour"]["utilization"] == 44.0
    assert get(http, server, PROFILE).status_code == 200


def test_queued_answers_belong_to_their_path(server: DemoServer, http: requests.Session) -> None:
    server.queue(PROFILE, DemoResponse(500, b"{}"))
    assert get(http, server).status_code == 200
    assert get(http, server, PROFILE).status_code == 500
    assert get(http, server, PROFILE).status_code == 200


def test_a_queued_delay_is_honoured(server: DemoServer, http: requests.Session) -> None:
    server.queue(USAGE, DemoResponse(200, b"{}", delay=0.2))
    began = time.monotonic()
    assert get(http, server).json() == {}
    assert time.monotonic() - began >= 0.2


# -- token refresh ----------------------------------------------------------------------------------


def test_refresh_rotates_tokens(server: DemoServer, http: requests.Session) -> None:
    response = refresh(http, server, DemoServer.DEMO_REFRESH_TOKEN)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 28800
    assert body["access_token"].startswith("sk-ant-oat01-")
    assert body["refresh_token"].startswith("sk-ant-ort01-")
    assert body["account"]["email_address"] == "jane@example.com"
    assert body["access_token"] != DemoServer.DEMO_ACCESS_TOKEN
    assert body["refresh_token"] != DemoServer.DEMO_REFRESH_TOKEN

    again = refresh(http, server, DemoServer.DEMO_REFRESH_TOKEN)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token not found or invalid",
    }

    assert get(http, server, headers=auth(body["access_token"])).status_code == 200
    assert get(http, server, headers=auth(DemoServer.DEMO_ACCESS_TOKEN)).status_code == 200
    following = refresh(http, server, body["refresh_token"]).json()
    assert following["access_token"] != body["access_token"]
    assert following["refresh_token"] != body["refresh_token"]


def test_refresh_accepts_a_form_body(server: DemoServer, http: requests.Session) -> None:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": DemoServer.DEMO_REFRESH_TOKEN,
        "client_id": CLIENT_ID,
    }
    response = http.post(server.token_url, data=form, headers={"Accept": "application/json"}, timeout=5)
    assert response.status_code == 200
    assert response.json()["access_token"] in server.valid_access_tokens
    assert server.requests("/v1/oauth/token")[0].body.startswith(b"grant_type=refresh_token")


@pytest.mark.parametrize(
    "body",
    [
        {"grant_type": "refresh_token", "refresh_token": DemoServer.DEMO_REFRESH_TOKEN},
        {"grant_type": "refresh_token", "refresh_token": DemoServer.DEMO_REFRESH_TOKEN, "client_id": "other"},
        {
            "grant_type": "authorization_code",
            "refresh_token": DemoServer.DEMO_REFRESH_TOKEN,
            "client_id": CLIENT_ID,
        },
        {"refresh_token": DemoServer.DEMO_REFRESH_TOKEN, "client_id": CLIENT_ID},
    ],
)
def test_refresh_rejects_a_malformed_request(
    server: DemoServer, http: requests.Session, body: dict[str, str]
) -> None:
    response = http.post(server.token_url, json=body, timeout=5)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "Invalid request format"}
    assert DemoServer.DEMO_REFRESH_TOKEN in server.valid_refresh_tokens


def test_refresh_throttles_claude_code_agents(server: DemoServer, http: requests.Session) -> None:
    response = refresh(http, server, DemoServer.DEMO_REFRESH_TOKEN, agent=CLAUDE_UA)
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert DemoServer.DEMO_REFRESH_TOKEN in server.valid_refresh_tokens


# -- recording, control, errors ---------------------------------------------------------------------


def test_requests_are_recorded_with_headers_body_and_clock_time(
    server: DemoServer, http: requests.Session, clock: FakeClock
) -> None:
    get(http, server)
    clock.advance(5)
    refresh(http, server, "sk-ant-ort01-unknown")
    every = server.requests()
    assert [(r.method, r.path) for r in every] == [("GET", USAGE), ("POST", "/v1/oauth/token")]
    assert every[0].headers["authorization"] == f"Bearer {DemoServer.DEMO_ACCESS_TOKEN}"
    assert every[0].headers["user-agent"] == CLAUDE_UA
    assert (every[0].at, every[1].at) == (START, START + 5)
    assert json.loads(every[1].body)["refresh_token"] == "sk-ant-ort01-unknown"
    assert server.requests(USAGE) == every[:1]


def test_unknown_paths_and_methods_get_not_found(server: DemoServer, http: requests.Session) -> None:
    for response in (get(http, server, "/v1/messages"), http.post(server.base_url + USAGE, timeout=5)):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error"


def test_set_scenario_rejects_unknown_names_and_lists_the_known(server: DemoServer) -> None:
    with pytest.raises(ValueError, match="rising.*rate_limited_date.*slow"):
        server.set_scenario("sunny")
    with pytest.raises(ValueError):
        DemoServer("sunny")
    assert server.scenario == "rising"
    assert "no_usage_yet" in SCENARIOS and len(SCENARIOS) == len(set(SCENARIOS)) == 18


def test_control_endpoints_switch_scenarios_and_list_requests(
    server: DemoServer, http: requests.Session
) -> None:
    switched = http.post(server.base_url + "/_demo/scenario", json={"scenario": "expired"}, timeout=5)
    assert switched.status_code == 200
    assert get(http, server).status_code == 401
    unknown = http.post(server.base_url + "/_demo/scenario", json={"scenario": "sunny"}, timeout=5)
    assert unknown.status_code == 400
    assert "rising" in unknown.json()["error"]["message"]
    assert server.scenario == "expired"

    listing = http.get(server.base_url + "/_demo/requests", timeout=5)
    assert listing.json() == [{"method": "GET", "path": USAGE, "user_agent": CLAUDE_UA, "at": START}]
    assert DemoServer.DEMO_ACCESS_TOKEN not in listing.text


def test_two_servers_do_not_share_state(clock: FakeClock, http: requests.Session) -> None:
    with DemoServer(clock=clock) as one, DemoServer("expired", clock=clock) as two:
        assert one.base_url != two.base_url
        assert get(http, one).status_code == 200
        assert get(http, two).status_code == 401
        assert len(one.requests()) == len(two.requests()) == 1


def test_module_runs_as_a_process_until_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tray_app.demo", "--scenario", "enterprise", "--speed", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        url = lines.get(timeout=10).strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        response = requests.get(url + USAGE, headers=auth(), timeout=5)
        assert response.status_code == 200
        assert response.json()["five_hour"] is None
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0
        assert (out, err) == ("", "")
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(5)


def test_resets_at_strings_parse_as_utc() -> None:
    body = rising_usage_body(4 * 3600, started_at=START)
    for stamp in (body["five_hour"]["resets_at"], body["limits"][2]["resets_at"]):
        assert datetime.fromisoformat(stamp).tzinfo == UTC


# -- Admin API (Console mode) -------------------------------------------------------------------------------

ADMIN_HEADERS = {"x-api-key": DemoServer.DEMO_ADMIN_KEY, "anthropic-version": "2023-06-01"}
COST = "/v1/organizations/cost_report"
MESSAGES = "/v1/organizations/usage_report/messages"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
# Wednesday 15 July 2026, 12:00 UTC.
WEDNESDAY_NOON = datetime(2026, 7, 15, 12, 0, tzinfo=UTC).timestamp()
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
    clock.now = WEDNESDAY_NOON
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
    clock.now = WEDNESDAY_NOON
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
    clock.now = WEDNESDAY_NOON
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
    clock.now = datetime(2026, 7, 15, 0, 50, tzinfo=UTC).timestamp()
    today = admin(http, server, CLAUDE_CODE, {"starting_at": "2026-07-15"}).json()
    assert today == {"data": [], "has_more": False, "next_page": None}
    late = admin(http, server, CLAUDE_CODE, {"starting_at": "2026-07-14"}).json()["data"]
    clock.now = WEDNESDAY_NOON
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


# -- claude.ai (Web mode) ---------------------------------------------------------------------------

ORGS = "/api/organizations"
CHAT_ORG = f"/api/organizations/{WEB_CHAT_ORG_UUID}"
SESSION = DemoServer.DEMO_SESSION_KEY


def web(
    http: requests.Session, server: DemoServer, path: str = ORGS, key: str | None = SESSION
) -> requests.Response:
    headers = {"Accept": "application/json", "User-Agent": "claude-usage-tray/0.0.0"}
    if key is not None:
        headers["Cookie"] = f"theme=dark; sessionKey={key}; lastActiveOrg={WEB_CHAT_ORG_UUID}"
    return http.get(server.base_url + path, headers=headers, timeout=5)


def session_cookies(response: requests.Response) -> list[str]:
    return [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("sessionKey=")]


def test_web_organizations_list_an_api_org_then_the_chat_org(
    server: DemoServer, http: requests.Session
) -> None:
    response = web(http, server)
    assert response.status_code == 200
    orgs = response.json()
    assert [(o["uuid"], o["capabilities"]) for o in orgs] == [
        (WEB_API_ORG_UUID, ["api"]),
        (WEB_CHAT_ORG_UUID, ["chat", "claude_max"]),
    ]
    # The chat organization is the account /api/oauth/profile describes.
    assert orgs[1]["uuid"] == get(http, server, PROFILE).json()["organization"]["uuid"]


def test_web_usage_is_the_rising_body_with_claude_ai_naming(
    server: DemoServer, http: requests.Session
) -> None:
    body = web(http, server, f"{CHAT_ORG}/usage").json()
    oauth = get(http, server).json()
    assert set(body) == set(oauth)
    assert (body["five_hour"], body["seven_day"], body["limits"]) == (
        oauth["five_hour"],
        oauth["seven_day"],
        oauth["limits"],
    )
    extra = body["extra_usage"]
    assert "monthly_limit" not in extra
    assert extra["monthly_credit_limit"] == oauth["extra_usage"]["monthly_limit"] == 4000


def test_web_spend_limit_and_credits_are_in_cents(server: DemoServer, http: requests.Session) -> None:
    assert web(http, server, f"{CHAT_ORG}/overage_spend_limit").json() == {
        "monthly_credit_limit": 4000,
        "currency": "USD",
        "used_credits": 1200,
        "is_enabled": True,
    }
    assert web(http, server, f"{CHAT_ORG}/prepaid/credits").json() == {"amount": 10000, "currency": "USD"}


@pytest.mark.parametrize(
    "path",
    [f"/api/organizations/{WEB_API_ORG_UUID}/usage", "/api/organizations/nope/prepaid/credits"],
)
def test_web_organizations_without_chat_have_no_figures(
    server: DemoServer, http: requests.Session, path: str
) -> None:
    response = web(http, server, path)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("key", [None, "sk-ant-sid01-unknown", DemoServer.DEMO_ACCESS_TOKEN])
@pytest.mark.parametrize("path", [ORGS, f"{CHAT_ORG}/usage", f"{CHAT_ORG}/overage_spend_limit"])
def test_web_endpoints_want_a_known_session_cookie(
    server: DemoServer, http: requests.Session, key: str | None, path: str
) -> None:
    response = web(http, server, path, key)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    # A bearer token is not a session: the OAuth endpoints' credential does not open claude.ai.
    assert web(http, server, path, SESSION).status_code == 200


def test_session_keys_added_by_a_test_are_accepted(server: DemoServer, http: requests.Session) -> None:
    server.valid_session_keys.add("sk-ant-sid01-test-added")
    assert web(http, server, key="sk-ant-sid01-test-added").status_code == 200


def test_every_nth_answer_renews_the_session_and_the_old_key_stays_valid(
    server: DemoServer, http: requests.Session
) -> None:
    server.renew_session_every = 3
    answers = [web(http, server, path) for path in (ORGS, f"{CHAT_ORG}/usage", f"{CHAT_ORG}/prepaid/credits")]
    assert [session_cookies(a) for a in answers[:2]] == [[], []]
    (cookie,) = session_cookies(answers[2])
    match = re.fullmatch(r"sessionKey=(sk-ant-sid01-[A-Za-z0-9_-]+); Path=/; Secure; HttpOnly", cookie)
    assert match is not None
    assert server.issued_session_keys == [match.group(1)]
    assert server.valid_session_keys == {SESSION, match.group(1)}
    assert web(http, server, key=match.group(1)).status_code == 200
    assert web(http, server).status_code == 200


def test_strict_rotation_ends_the_replaced_key(server: DemoServer, http: requests.Session) -> None:
    server.renew_session_every = 1
    server.rotate_strict = True
    (cookie,) = session_cookies(web(http, server))
    new_key = cookie.split(";")[0].removeprefix("sessionKey=")
    assert web(http, server).status_code == 401
    assert session_cookies(web(http, server, key=new_key))  # and it renews again
    assert web(http, server, key=new_key).status_code == 401
    assert server.valid_session_keys == {server.issued_session_keys[-1]}


def test_failed_answers_never_renew_the_session(server: DemoServer, http: requests.Session) -> None:
    server.renew_session_every = 1
    for scenario in WEB_SCENARIOS[1:]:
        server.set_web_scenario(scenario)
        assert session_cookies(web(http, server)) == []
    server.set_web_scenario("normal")
    assert session_cookies(web(http, server, "/api/organizations/nope/usage")) == []
    assert server.issued_session_keys == []


def test_every_web_answer_carries_cloudflares_bot_cookie(server: DemoServer, http: requests.Session) -> None:
    for key in (SESSION, None):
        cookies = web(http, server, key=key).raw.headers.getlist("Set-Cookie")
        assert len(cookies) == 1 and cookies[0].startswith("__cf_bm=")
        assert re.search(r"expires=\w{3}, \d\d \w{3} \d{4} ", cookies[0])


@pytest.mark.parametrize("key", [SESSION, None])
def test_challenge_with_header_is_an_html_403_before_any_session_check(
    server: DemoServer, http: requests.Session, key: str | None
) -> None:
    server.set_web_scenario("challenge_header")
    response = web(http, server, f"{CHAT_ORG}/usage", key)
    assert response.status_code == 403
    assert response.headers["cf-mitigated"] == "challenge"
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Just a moment...</title>" in response.text and "window._cf_chl_opt" in response.text


def test_challenge_html_is_the_page_without_the_header(server: DemoServer, http: requests.Session) -> None:
    server.set_web_scenario("challenge_html")
    response = web(http, server)
    assert response.status_code == 403
    assert "cf-mitigated" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Just a moment..." in response.text and "_cf_chl_opt" not in response.text


@pytest.mark.parametrize(
    ("scenario", "status", "kind", "message"),
    [
        ("logged_out", 401, "authentication_error", None),
        ("forbidden_json", 403, "permission_error", "We are unable to serve your request"),
        ("server_error", 500, "api_error", "Internal server error"),
    ],
)
def test_web_json_failures(
    server: DemoServer, http: requests.Session, scenario: str, status: int, kind: str, message: str | None
) -> None:
    server.set_web_scenario(scenario)
    response = web(http, server, f"{CHAT_ORG}/overage_spend_limit")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert "cf-mitigated" not in response.headers
    error = response.json()["error"]
    assert error["type"] == kind
    assert message is None or error["message"] == message


def test_web_scenario_leaves_the_oauth_endpoints_alone_and_back(
    server: DemoServer, http: requests.Session
) -> None:
    server.set_web_scenario("logged_out")
    assert get(http, server).status_code == 200
    server.set_scenario("expired")
    server.set_web_scenario("normal")
    assert web(http, server).status_code == 200
    assert get(http, server).status_code == 401


def test_web_scenarios_are_checked_and_switchable_over_http(
    server: DemoServer, http: requests.Session
) -> None:
    assert WEB_SCENARIOS[0] == "normal" and len(set(WEB_SCENARIOS)) == 6
    with pytest.raises(ValueError, match="challenge_header"):
        server.set_web_scenario("captcha")
    with pytest.raises(ValueError):
        DemoServer(web_scenario="captcha")
    switched = http.post(
        server.base_url + "/_demo/web_scenario", json={"scenario": "challenge_html"}, timeout=5
    )
    assert switched.json() == {"web_scenario": "challenge_html"}
    assert server.web_scenario == "challenge_html"
    unknown = http.post(server.base_url + "/_demo/web_scenario", json={"scenario": "captcha"}, timeout=5)
    assert unknown.status_code == 400 and server.web_scenario == "challenge_html"


def test_web_requests_record_the_cookie_but_the_listing_hides_it(
    server: DemoServer, http: requests.Session
) -> None:
    server.renew_session_every = 1
    web(http, server)
    (recorded,) = server.requests(ORGS)
    assert f"sessionKey={SESSION}" in recorded.headers["cookie"]
    listing = http.get(server.base_url + "/_demo/requests", timeout=5)
    assert listing.json() == [
        {"method": "GET", "path": ORGS, "user_agent": "claude-usage-tray/0.0.0", "at": START}
    ]
    assert all(key not in listing.text for key in (SESSION, *server.issued_session_keys))


def test_queued_answers_work_on_web_paths_too(server: DemoServer, http: requests.Session) -> None:
    server.queue(ORGS, DemoResponse(503, b"busy", (("Content-Type", "text/plain"),)))
    assert web(http, server, key=None).status_code == 503
    assert web(http, server).status_code == 200


def test_a_long_running_demo_keeps_only_its_latest_requests(http: requests.Session) -> None:
    # The tray's --demo runs for days with the server inside it: its request log must not grow for ever.
    with DemoServer("full", keep_requests=5) as bounded:
        for _ in range(12):
            http.get(
                bounded.base_url + "/api/oauth/usage", headers=auth(DemoServer.DEMO_ACCESS_TOKEN), timeout=5
            )
        assert len(bounded.requests()) == 5
