"""The demo server's claude.ai endpoints (Web mode) answer like the real ones, over real HTTP."""

from __future__ import annotations

import re

import pytest
import requests

from tray_app.demo import WEB_API_ORG_UUID, WEB_CHAT_ORG_UUID, WEB_SCENARIOS, DemoResponse, DemoServer

from . import demo_helpers
from .demo_helpers import PROFILE, START, get

# The shared fixtures, bound by name so that pytest finds them in this module.
clock = demo_helpers.clock
server = demo_helpers.server
http = demo_helpers.http

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
