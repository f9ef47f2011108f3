"""The demo server's Claude Code OAuth endpoints answer like the real ones, over real HTTP."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
import requests

from tray_app.demo import CLIENT_ID, SCENARIOS, DemoServer, rising_usage_body

from ..fakes import FakeClock
from . import demo_helpers
from .demo_helpers import CLAUDE_UA, PROFILE, START, USAGE, auth, get, refresh

# The shared fixtures, bound by name so that pytest finds them in this module.
clock = demo_helpers.clock
server = demo_helpers.server
http = demo_helpers.http

RESETS_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


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
    assert epoch(fresh["resets_at"]) > clock.epoch()


def test_rising_speed_runs_the_virtual_clock_faster(clock: FakeClock, http: requests.Session) -> None:
    with DemoServer(clock=clock.epoch, speed=60) as fast:
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
    assert clock.epoch() + 2 * 3600 <= epoch(five) < clock.epoch() + 3 * 3600
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
    assert epoch(body["five_hour"]["resets_at"]) > clock.epoch()
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
    assert epoch(body["seven_day"]["resets_at"]) > clock.epoch()
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
    assert parsedate_to_datetime(value).timestamp() == clock.epoch() + 120


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


def test_set_scenario_rejects_unknown_names_and_lists_the_known(server: DemoServer) -> None:
    with pytest.raises(ValueError, match="rising.*rate_limited_date.*slow"):
        server.set_scenario("sunny")
    with pytest.raises(ValueError):
        DemoServer("sunny")
    assert server.scenario == "rising"
    assert "no_usage_yet" in SCENARIOS and len(SCENARIOS) == len(set(SCENARIOS)) == 24
    # The 2026 shapes (api-2026.md section 2), one scenario each.
    assert {
        "codenames_flat",
        "limits_only",
        "weekly_null",
        "locked",
        "unknown_codename",
        "blocked_fable",
    } < set(SCENARIOS)


def test_resets_at_strings_parse_as_utc() -> None:
    body = rising_usage_body(4 * 3600, started_at=START)
    for stamp in (body["five_hour"]["resets_at"], body["limits"][2]["resets_at"]):
        assert datetime.fromisoformat(stamp).tzinfo == UTC
