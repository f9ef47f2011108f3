"""ClaudeWebClient against the demo claude.ai endpoints over real HTTP: orgs, money, renewal, errors."""

from __future__ import annotations

import json
import logging

import pytest

from tray_app.core.errors import AuthError, ChallengeError, NetworkError, RateLimited, ServerError, ShapeError
from tray_app.core.web import Overage, Prepaid, WebOrganization
from tray_app.demo import (
    WEB_API_ORG_NAME,
    WEB_API_ORG_UUID,
    WEB_CHAT_ORG_NAME,
    WEB_CHAT_ORG_UUID,
    WEB_ORGANIZATIONS_PATH,
    DemoResponse,
    DemoServer,
)
from tray_app.sources.claude_web import CHALLENGE_MESSAGE, ClaudeWebClient
from tray_app.sources.code_api import CodeApi
from tray_app.sources.http import HttpClient

from . import demo_helpers

KEY = DemoServer.DEMO_SESSION_KEY
CHAT_PATH = f"/api/organizations/{WEB_CHAT_ORG_UUID}"
LOGIN_HINT = "log in to claude.ai in your browser again"


# The shared fixtures, bound by name so that pytest finds them in this module: the demo server on a
# clock standing at demo_helpers.START.
clock = demo_helpers.clock
server = demo_helpers.server
http = demo_helpers.http_client


@pytest.fixture
def client(http: HttpClient, server: DemoServer) -> ClaudeWebClient:
    return ClaudeWebClient(http, server.base_url + "/", KEY, "1.2.3")


def sent_keys(server: DemoServer) -> list[str]:
    return [r.headers["cookie"].removeprefix("sessionKey=") for r in server.requests()]


def html(status: int, body: bytes, *headers: tuple[str, str]) -> DemoResponse:
    return DemoResponse(status, body, (("Content-Type", "text/html; charset=UTF-8"), *headers))


def org(uuid: str, *capabilities: str, name: str | None = None) -> WebOrganization:
    return WebOrganization(uuid, name or uuid, capabilities)


# -- organizations ----------------------------------------------------------------------------------


def test_organizations_are_listed_and_the_chat_one_is_picked(client: ClaudeWebClient) -> None:
    orgs = client.organizations()
    assert orgs == [
        WebOrganization(WEB_API_ORG_UUID, WEB_API_ORG_NAME, ("api",)),
        WebOrganization(WEB_CHAT_ORG_UUID, WEB_CHAT_ORG_NAME, ("chat", "claude_max")),
    ]
    chosen = client.pick_organization(orgs, None)
    assert chosen is not None and chosen.uuid == WEB_CHAT_ORG_UUID


@pytest.mark.parametrize(
    ("wanted", "uuid"),
    [
        (WEB_API_ORG_UUID, WEB_API_ORG_UUID),
        (WEB_API_ORG_UUID.upper(), WEB_API_ORG_UUID),
        (WEB_API_ORG_NAME, WEB_API_ORG_UUID),
        ("  demo api ORG ", WEB_API_ORG_UUID),
        (WEB_CHAT_ORG_NAME, WEB_CHAT_ORG_UUID),
        ("", WEB_CHAT_ORG_UUID),
    ],
)
def test_a_configured_uuid_or_name_wins(client: ClaudeWebClient, wanted: str, uuid: str) -> None:
    chosen = client.pick_organization(client.organizations(), wanted)
    assert chosen is not None and chosen.uuid == uuid


def test_an_unknown_configured_organization_falls_back_and_says_so(
    client: ClaudeWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        chosen = client.pick_organization(client.organizations(), "Gone Org")
    assert chosen is not None and chosen.uuid == WEB_CHAT_ORG_UUID
    assert "'Gone Org' is not among" in caplog.text


@pytest.mark.parametrize(
    ("orgs", "expected"),
    [
        ([org("a", "api"), org("b", "claude_pro"), org("c", "api", "chat")], "c"),
        ([org("a", "api"), org("b", "api", "billing"), org("c", "claude_pro")], "b"),
        ([org("a", "api"), org("b", "api")], "a"),
        ([org("a")], "a"),
        ([], None),
    ],
    ids=["chat-first", "not-api-only", "only-api", "no-capabilities", "none"],
)
def test_fallback_order_without_a_configured_organization(
    orgs: list[WebOrganization], expected: str | None
) -> None:
    chosen = ClaudeWebClient.pick_organization(orgs, None)
    assert (chosen.uuid if chosen else None) == expected


def test_a_configured_organization_is_the_one_asked_about(
    client: ClaudeWebClient, server: DemoServer
) -> None:
    chosen = client.pick_organization(client.organizations(), WEB_API_ORG_NAME)
    assert chosen is not None
    # The API-only organization has no claude.ai usage: the demo says 404, the client a server error.
    with pytest.raises(ServerError) as caught:
        client.usage(chosen.uuid)
    assert caught.value.status == 404
    assert server.requests()[-1].path == f"/api/organizations/{WEB_API_ORG_UUID}/usage"


# -- figures ----------------------------------------------------------------------------------------


def test_usage_has_the_same_windows_and_extra_usage_as_code_mode(
    client: ClaudeWebClient, http: HttpClient, server: DemoServer
) -> None:
    web = client.usage(WEB_CHAT_ORG_UUID)
    code = CodeApi(http, server.base_url, "2.1.221").usage(DemoServer.DEMO_ACCESS_TOKEN)
    assert [w.id for w in web.windows] == ["five_hour", "seven_day", "seven_day_fable"]
    assert web == code
    # claude.ai calls the cap monthly_credit_limit; it still arrives as $40.00.
    assert web.extra_usage is not None and web.extra_usage.limit == 40.0


def test_overage_and_prepaid_money_is_in_major_units(client: ClaudeWebClient) -> None:
    assert client.overage(WEB_CHAT_ORG_UUID) == Overage(enabled=True, used=12.0, limit=40.0, currency="USD")
    assert client.prepaid(WEB_CHAT_ORG_UUID) == Prepaid(amount=100.0, currency="USD")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"monthly_credit_limit": 5000, "currency": "EUR", "used_credits": 12345, "is_enabled": True},
            Overage(True, 123.45, 50.0, "EUR"),
        ),
        (
            {"monthly_credit_limit": None, "currency": "USD", "used_credits": 250, "is_enabled": True},
            Overage(True, 2.5, None, "USD"),
        ),
        ({"monthly_credit_limit": 5000, "currency": "USD", "used_credits": 0, "is_enabled": False}, None),
    ],
)
def test_overage_variants(
    client: ClaudeWebClient, server: DemoServer, body: dict[str, object], expected: Overage | None
) -> None:
    server.queue(f"{CHAT_PATH}/overage_spend_limit", DemoResponse(200, json.dumps(body).encode()))
    assert client.overage(WEB_CHAT_ORG_UUID) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"amount": 2550, "currency": "EUR"}, Prepaid(25.5, "EUR")),
        ({"amount": 0, "currency": None}, None),
    ],
)
def test_prepaid_variants(
    client: ClaudeWebClient, server: DemoServer, body: dict[str, object], expected: Prepaid | None
) -> None:
    server.queue(f"{CHAT_PATH}/prepaid/credits", DemoResponse(200, json.dumps(body).encode()))
    assert client.prepaid(WEB_CHAT_ORG_UUID) == expected


def test_requests_carry_the_cookie_accept_and_our_agent(client: ClaudeWebClient, server: DemoServer) -> None:
    client.organizations()
    (request,) = server.requests(WEB_ORGANIZATIONS_PATH)
    assert request.headers["cookie"] == f"sessionKey={KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == "claude-usage-tray/1.2.3"


# -- session renewal --------------------------------------------------------------------------------


def test_a_renewed_session_key_is_used_from_the_next_request(
    client: ClaudeWebClient, server: DemoServer
) -> None:
    server.renew_session_every = 2
    client.organizations()
    assert client.session_key == KEY
    client.organizations()
    (renewed,) = server.issued_session_keys
    assert client.session_key == renewed and client.renewals == 1
    client.prepaid(WEB_CHAT_ORG_UUID)
    assert sent_keys(server) == [KEY, KEY, renewed]


def test_with_strict_rotation_the_renewed_key_keeps_working_and_the_old_one_fails(
    client: ClaudeWebClient, http: HttpClient, server: DemoServer
) -> None:
    server.renew_session_every = 1
    server.rotate_strict = True
    for _ in range(3):
        assert client.overage(WEB_CHAT_ORG_UUID) is not None
    assert client.renewals == 3
    assert sent_keys(server) == [KEY, *server.issued_session_keys[:2]]
    assert client.session_key == server.issued_session_keys[-1]
    # A client that ignored the Set-Cookie would now be logged out.
    stale = ClaudeWebClient(http, server.base_url, server.issued_session_keys[0], "1.2.3")
    with pytest.raises(AuthError):
        stale.organizations()


def test_the_renewed_key_lives_in_the_client_not_in_the_shared_cookie_jar(
    client: ClaudeWebClient, http: HttpClient, server: DemoServer
) -> None:
    server.renew_session_every = 1
    client.organizations()
    assert client.session_key != KEY
    assert list(http._session.cookies) == []


@pytest.mark.parametrize(
    "set_cookie",
    [
        "sessionKey=; Path=/; Max-Age=0",
        "sessionKey=not-a-session-key; Path=/",
        "lastActiveOrg=sk-ant-sid01-x",
    ],
)
def test_set_cookies_that_are_not_a_new_session_key_change_nothing(
    client: ClaudeWebClient, server: DemoServer, set_cookie: str
) -> None:
    server.queue(WEB_ORGANIZATIONS_PATH, DemoResponse(200, b"[]", (("Set-Cookie", set_cookie),)))
    assert client.organizations() == []
    client.organizations()
    assert client.session_key == KEY and sent_keys(server) == [KEY, KEY]


def test_a_key_set_on_a_failed_answer_is_followed_too(client: ClaudeWebClient, server: DemoServer) -> None:
    renewed = "sk-ant-sid01-demo-renewed-on-error"
    server.valid_session_keys.add(renewed)
    failure = DemoResponse(500, b'{"error": {"message": "oops"}}', (("Set-Cookie", f"sessionKey={renewed}"),))
    server.queue(WEB_ORGANIZATIONS_PATH, failure)
    with pytest.raises(ServerError):
        client.organizations()
    client.organizations()
    assert sent_keys(server) == [KEY, renewed]


# -- failures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["challenge_header", "challenge_html"])
def test_cloudflare_challenges_are_not_a_logout(
    client: ClaudeWebClient, server: DemoServer, scenario: str
) -> None:
    server.set_web_scenario(scenario)
    with pytest.raises(ChallengeError) as caught:
        client.organizations()
    assert not isinstance(caught.value, AuthError)
    assert str(caught.value) == CHALLENGE_MESSAGE == "claude.ai is asking for a browser check"


@pytest.mark.parametrize(
    "answer",
    [
        html(503, b"<html><script>window._cf_chl_opt={cType: 'managed'};</script></html>"),
        html(403, b"<!DOCTYPE html><title>Just a moment...</title>"),
        DemoResponse(403, b"", (("cf-mitigated", "challenge"),)),
    ],
    ids=["503-cf-chl-opt", "403-just-a-moment", "403-header-only"],
)
def test_other_challenge_forms(client: ClaudeWebClient, server: DemoServer, answer: DemoResponse) -> None:
    server.queue(WEB_ORGANIZATIONS_PATH, answer)
    with pytest.raises(ChallengeError):
        client.organizations()


def test_an_html_403_that_is_no_challenge_is_not_a_logout_either(
    client: ClaudeWebClient, server: DemoServer
) -> None:
    page = b"<html><title>Access denied | claude.ai used Cloudflare to restrict access</title></html>"
    server.queue(WEB_ORGANIZATIONS_PATH, html(403, page))
    with pytest.raises(ServerError) as caught:
        client.organizations()
    assert caught.value.status == 403


@pytest.mark.parametrize(("scenario", "status"), [("logged_out", 401), ("forbidden_json", 403)])
def test_json_refusals_ask_for_a_new_browser_login(
    client: ClaudeWebClient, server: DemoServer, scenario: str, status: int
) -> None:
    server.set_web_scenario(scenario)
    with pytest.raises(AuthError) as caught:
        client.usage(WEB_CHAT_ORG_UUID)
    assert not isinstance(caught.value, ChallengeError)
    message = str(caught.value)
    assert "claude.ai session expired" in message and LOGIN_HINT in message and f"HTTP {status}" in message


def test_an_unknown_session_key_asks_for_a_new_login(http: HttpClient, server: DemoServer) -> None:
    stranger = ClaudeWebClient(http, server.base_url, "sk-ant-sid01-someone-else", "1.2.3")
    with pytest.raises(AuthError, match=LOGIN_HINT):
        stranger.organizations()


def test_server_errors_rate_limits_and_pages_keep_their_types(
    client: ClaudeWebClient, server: DemoServer
) -> None:
    server.set_web_scenario("server_error")
    with pytest.raises(ServerError) as caught:
        client.prepaid(WEB_CHAT_ORG_UUID)
    assert caught.value.status == 500
    server.set_web_scenario("normal")
    limited = DemoResponse(429, b'{"error": {"type": "rate_limit_error"}}', (("retry-after", "120"),))
    server.queue(WEB_ORGANIZATIONS_PATH, limited, html(200, b"<html>Hotel WiFi</html>"))
    with pytest.raises(RateLimited) as throttled:
        client.organizations()
    assert throttled.value.retry_after == 120
    with pytest.raises(ShapeError):
        client.organizations()


def test_no_answer_is_a_network_error(http: HttpClient) -> None:
    with DemoServer() as gone:
        base = gone.base_url
    with pytest.raises(NetworkError):
        ClaudeWebClient(http, base, KEY, "1.2.3").organizations()


def test_the_session_key_appears_in_no_error_text_log_or_repr(
    client: ClaudeWebClient, server: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.renew_session_every = 1
    texts = [repr(client)]
    client.organizations()
    for scenario in ("challenge_header", "challenge_html", "logged_out", "forbidden_json", "server_error"):
        server.set_web_scenario(scenario)
        with pytest.raises(Exception) as caught:
            client.usage(WEB_CHAT_ORG_UUID)
        texts += [str(caught.value), repr(caught.value)]
    # A server that echoes the key back in its error message.
    server.set_web_scenario("normal")
    echo = {"error": {"type": "api_error", "message": f"bad session {client.session_key}"}}
    for status in (500, 401, 403, 429):
        server.queue(WEB_ORGANIZATIONS_PATH, DemoResponse(status, json.dumps(echo).encode()))
        with pytest.raises(Exception) as caught:
            client.organizations()
        texts += [str(caught.value), repr(caught.value)]
    texts += [repr(client), caplog.text]
    secrets = {KEY, *server.issued_session_keys}
    assert len(secrets) >= 2
    for text in texts:
        assert not any(secret in text for secret in secrets), text
