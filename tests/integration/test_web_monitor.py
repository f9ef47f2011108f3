"""The opt-in claude.ai session end to end: figures, Cloudflare's check, expiry, and the usage fallback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.core.models import Status
from tray_app.demo import DemoServer
from tray_app.monitors.web import BACKOFF_SCOPE, WebMonitor
from tray_app.sources.browser_cookies import CookieSearch, SessionCookie
from tray_app.sources.claude_web import ClaudeWebClient
from tray_app.sources.http import HttpClient
from tray_app.store import Store

from ..conftest import CliEnv
from ..fakes import FakeClock

KEY = DemoServer.DEMO_SESSION_KEY


class Web:
    def __init__(self, server: DemoServer, store: Store, clock: FakeClock, browser: str = "Firefox") -> None:
        self.server, self.store, self.clock = server, store, clock
        self.http = HttpClient(5)
        self.searches = 0
        cookie = SessionCookie(KEY, browser, "/home/jane/.mozilla/firefox/x.default", None)

        def find() -> CookieSearch:
            self.searches += 1
            return CookieSearch(cookie, ())

        self.monitor = WebMonitor(
            store,
            find,
            lambda key: ClaudeWebClient(self.http, server.base_url, key, "t"),
            None,
            clock=clock.now,
        )

    def web_requests(self) -> int:
        return len([r for r in self.server.requests() if r.path.startswith("/api/organizations")])


@pytest.fixture
def web(tmp_path: Path, server: DemoServer) -> Iterator[Web]:
    with Store.open(tmp_path / "w.db") as store:
        made = Web(server, store, FakeClock(datetime.now(UTC)))
        yield made
        made.http.close()


def test_overage_and_prepaid(web: Web) -> None:
    report = web.monitor.refresh()
    assert report.status is Status.OK and report.organization == "jane@example.com's Organization"
    assert report.overage is not None and (report.overage.used, report.overage.limit) == (12.0, 40.0)
    assert report.prepaid is not None and (report.prepaid.amount, report.prepaid.currency) == (100.0, "USD")
    assert report.browser == "Firefox"


@pytest.mark.parametrize("scenario", ["challenge_header", "challenge_html"])
def test_cloudflare_check_is_not_a_logout_and_is_not_retried_for_an_hour(web: Web, scenario: str) -> None:
    web.monitor.refresh()
    web.server.set_web_scenario(scenario)
    web.clock.advance(timedelta(minutes=5))
    report = web.monitor.refresh()
    assert report.status is Status.BLOCKED
    assert report.message is not None
    assert report.message.startswith(
        "claude.ai is asking for a browser check; showing Claude Code figures only"
    )
    assert "log in" not in report.message and report.prepaid is not None  # last good figures kept
    backoff = web.store.backoffs.get(BACKOFF_SCOPE)
    assert backoff is not None and backoff.until - web.clock.now() >= timedelta(hours=1)
    sent = web.web_requests()
    web.server.set_web_scenario("normal")
    blocked_at = web.clock.now()
    for minutes in (5, 20, 59):
        web.clock.set(blocked_at + timedelta(minutes=minutes))
        assert web.monitor.refresh().status is Status.BLOCKED
    assert web.web_requests() == sent  # nothing sent inside the pause
    web.clock.set(backoff.until + timedelta(seconds=1))
    assert web.monitor.refresh().status is Status.OK


@pytest.mark.parametrize("scenario", ["logged_out", "forbidden_json"])
def test_an_expired_session_asks_for_a_login_once(web: Web, scenario: str) -> None:
    web.server.set_web_scenario(scenario)
    report = web.monitor.refresh()
    assert report.status is Status.LOGIN_NEEDED
    assert report.message == "the claude.ai session has expired: log in to claude.ai in Firefox again"
    sent = web.web_requests()
    for _ in range(3):
        web.clock.advance(timedelta(minutes=5))
        assert web.monitor.refresh().status is Status.LOGIN_NEEDED
    assert web.web_requests() == sent  # the refused session is not sent again


def test_a_renewed_session_is_used_afterwards(web: Web) -> None:
    web.server.renew_session_every = 1
    web.server.rotate_strict = True
    web.monitor.refresh()
    web.clock.advance(timedelta(minutes=5))
    assert web.monitor.refresh().status is Status.OK  # the old key no longer works: the new one was used
    assert web.searches == 1  # the browser's store was read once


def test_status_shows_web_figures_and_doctor_the_cookie(cli: CliEnv, server: DemoServer) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text(f'[web]\nenabled = true\nsession_key = "{KEY}"\n')
    base = server.base_url
    doc = cli.run("status", "--json", CLAUDE_USAGE_TRAY_WEB_BASE=base).json()
    assert doc["web"] == {
        "status": "ok",
        "message": None,
        "browser": "config file",
        "organization": "jane@example.com's Organization",
        "overage": {"enabled": True, "used": 12.0, "limit": 40.0, "currency": "USD"},
        "prepaid": {"amount": 100.0, "currency": "USD"},
    }
    text = cli.run("status", CLAUDE_USAGE_TRAY_WEB_BASE=base).stdout
    assert "Prepaid credits: $100.00" in text
    doctor = cli.run("doctor", CLAUDE_USAGE_TRAY_WEB_BASE=base).stdout
    assert "claude.ai:     on; session cookie found in config file" in doctor and KEY not in doctor


def test_web_is_off_by_default(cli: CliEnv, server: DemoServer) -> None:
    doc = cli.run("status", "--json").json()
    assert doc["web"] is None
    assert not [r for r in server.requests() if r.path.startswith("/api/organizations")]
    assert "claude.ai:     off" in cli.run("doctor").stdout


def test_usage_from_claude_ai_when_claude_code_is_not_logged_in(
    cli: CliEnv, server: DemoServer, tmp_path: Path
) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text(f'[web]\nenabled = true\nsession_key = "{KEY}"\n')
    result = cli.run(
        "status",
        "--json",
        CLAUDE_USAGE_TRAY_WEB_BASE=server.base_url,
        CLAUDE_CONFIG_DIR=str(tmp_path / "none"),
    )
    code = result.json()["code"]
    assert result.code == 0 and code["status"] == "ok"
    assert [w["id"] for w in code["windows"]][:2] == ["five_hour", "seven_day"]
    assert server.requests("/api/oauth/usage") == []  # no Claude Code token to send
