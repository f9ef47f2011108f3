"""Code mode end to end in-process: real requests to the demo servers, real SQLite, real credential files."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.clock import SYSTEM_CLOCK
from tray_app.core.errors import (
    AuthError,
    AuthKind,
    NetworkError,
    RateLimited,
    ServerError,
    ShapeError,
    UsageError,
)
from tray_app.core.models import CodeReport, Status, TokenGrant
from tray_app.demo import DemoResponse, DemoServer
from tray_app.monitors.code import BACKOFF_SCOPE, CodeMonitor
from tray_app.sources.code_api import CodeApi, TokenEndpoint
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import Store

from ..conftest import ACCESS_TOKEN, REFRESH_TOKEN, write_login
from ..fakes import FakeClock
from . import demo_helpers

USAGE = "/api/oauth/usage"
TOKEN = "/v1/oauth/token"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "home" / "usage_history.db") as opened:
        yield opened


# The shared HttpClient fixture, bound by name so that pytest finds it in this module; it waits this long.
HTTP_TIMEOUT = 2.0
http = demo_helpers.http_client


MonitorFactory = Callable[..., CodeMonitor]


@pytest.fixture
def make_monitor(server: DemoServer, store: Store, http: HttpClient, claude_dir: Path) -> MonitorFactory:
    def build(
        *,
        refresh: bool = False,
        clock: Callable[[], datetime] | None = None,
        endpoint: TokenEndpoint | None = None,
    ) -> CodeMonitor:
        token_endpoint = endpoint or (TokenEndpoint(http, server.token_url, "test") if refresh else None)
        return CodeMonitor(
            store,
            ClaudeCredentialStore(claude_dir),
            CodeApi(http, server.base_url, "2.1.0"),
            token_endpoint,
            clock or SYSTEM_CLOCK.now,
        )

    return build


def window_ids(report: CodeReport) -> list[str]:
    return [item.window.id for item in report.windows]


# --- the client against each answer ------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "windows", "extra_enabled"),
    [
        ("full", ["five_hour", "seven_day", "seven_day_fable"], False),
        ("minimal", ["five_hour", "seven_day", "seven_day_opus"], None),
        ("enterprise", [], True),
        ("no_usage_yet", ["five_hour", "seven_day", "harbor_lantern", "cinder_cove"], None),
        ("rising", ["five_hour", "seven_day", "seven_day_fable"], True),
    ],
)
def test_every_usage_shape(
    server: DemoServer, http: HttpClient, scenario: str, windows: list[str], extra_enabled: bool | None
) -> None:
    server.set_scenario(scenario)
    usage = CodeApi(http, server.base_url, "2.1.0").usage(ACCESS_TOKEN)
    assert [w.id for w in usage.windows] == windows
    assert (None if usage.extra_usage is None else usage.extra_usage.enabled) == extra_enabled


def test_request_carries_the_headers_the_server_needs(server: DemoServer, http: HttpClient) -> None:
    CodeApi(http, server.base_url, "2.1.221").usage(ACCESS_TOKEN)
    lowered = server.requests(USAGE)[-1].headers
    assert lowered["user-agent"] == "claude-code/2.1.221"
    assert lowered["anthropic-beta"] == "oauth-2025-04-20"
    assert lowered["authorization"] == f"Bearer {ACCESS_TOKEN}"


@pytest.mark.parametrize(
    ("scenario", "error", "detail"),
    [
        ("unauthorized", AuthError, AuthKind.INVALID),
        ("expired", AuthError, AuthKind.EXPIRED),
        ("scope", AuthError, AuthKind.SCOPE),
        ("rate_limited", RateLimited, 300.0),
        ("rate_limited_zero", RateLimited, 0.0),
        ("rate_limited_none", RateLimited, None),
        ("server_error", ServerError, 500),
        ("overloaded", ServerError, 529),
        ("html", ServerError, 502),
        ("html_ok", ShapeError, "HTML page"),
        ("truncated", ShapeError, "malformed JSON"),
    ],
)
def test_typed_errors(
    server: DemoServer, http: HttpClient, scenario: str, error: type[UsageError], detail: object
) -> None:
    server.set_scenario(scenario)
    with pytest.raises(error) as caught:
        CodeApi(http, server.base_url, "2.1.0").usage(ACCESS_TOKEN)
    exc = caught.value
    if isinstance(exc, AuthError):
        assert exc.kind is detail
    elif isinstance(exc, RateLimited):
        assert exc.retry_after == detail
    elif isinstance(exc, ServerError):
        assert exc.status == detail
    else:
        assert str(detail) in str(exc)


def test_retry_after_http_date(server: DemoServer, http: HttpClient) -> None:
    server.set_scenario("rate_limited_date")
    with pytest.raises(RateLimited) as caught:
        CodeApi(http, server.base_url, "2.1.0").usage(ACCESS_TOKEN)
    assert caught.value.retry_after is not None and 110 <= caught.value.retry_after <= 121


def test_slow_reply_is_a_timeout(server: DemoServer) -> None:
    server.set_scenario("slow")
    server.slow_seconds = 3.0
    client = HttpClient(timeout=1.0)
    with pytest.raises(NetworkError, match="in time"):
        CodeApi(client, server.base_url, "2.1.0").usage(ACCESS_TOKEN)
    client.close()


def test_connection_refused_is_offline(http: HttpClient) -> None:
    with DemoServer() as gone:
        base = gone.base_url
    with pytest.raises(NetworkError, match="cannot reach"):
        CodeApi(http, base, "2.1.0").usage(ACCESS_TOKEN)


def test_unknown_user_agent_is_throttled_so_ours_must_not_be(server: DemoServer, http: HttpClient) -> None:
    api = CodeApi(http, server.base_url, "2.1.0")
    api.user_agent = "python-requests/2"
    with pytest.raises(RateLimited):
        api.usage(ACCESS_TOKEN)


# --- the monitor: states, storage and politeness -----------------------------------------------


def test_poll_stores_one_row_per_window_and_last_good(make_monitor: MonitorFactory, store: Store) -> None:
    report = make_monitor().poll()
    assert report.status is Status.OK
    assert window_ids(report) == ["five_hour", "seven_day", "seven_day_fable"]
    assert store.snapshot_count() == 3
    last = store.last_code_usage()
    assert last is not None and [w.id for w in last[1].windows] == window_ids(report)
    assert report.account is not None and report.account.email == "jane@example.com"
    assert report.account.plan == "Max 5x"


def test_forecast_uses_stored_history(store: Store, http: HttpClient, claude_dir: Path) -> None:
    # Twelve polls five minutes apart on the rising account (22 %/h on the 5-hour window); the
    # server and the monitor share one moving clock.
    clock = FakeClock(datetime.now(UTC))
    start = clock.now()
    with DemoServer("rising", clock=clock.epoch) as rising:
        monitor = CodeMonitor(
            store, ClaudeCredentialStore(claude_dir), CodeApi(http, rising.base_url, "2.1.0"), None, clock.now
        )
        reports = []
        for step in range(12):
            clock.set(start + timedelta(minutes=5 * step))
            reports.append(monitor.poll())
    assert reports[1].windows[0].forecast.rate_per_hour is None  # two points: too little to say
    five = reports[-1].windows[0]
    assert five.window.utilization == pytest.approx(44 + 22 * 55 / 60, abs=0.2)
    assert five.forecast.rate_per_hour == pytest.approx(22.0, abs=0.5)
    assert five.forecast.projected_at_reset is not None and five.forecast.projected_at_reset > 100
    assert five.forecast.limit_at is not None


def test_429_backoff_is_stored_and_honoured(
    server: DemoServer, make_monitor: MonitorFactory, store: Store
) -> None:
    clock = FakeClock(datetime.now(UTC))
    start = clock.now()
    monitor = make_monitor(clock=clock.now)
    assert monitor.poll().status is Status.OK
    server.set_scenario("rate_limited")
    clock.set(start + timedelta(minutes=1))
    limited = monitor.poll()
    assert limited.status is Status.RATE_LIMITED
    assert "showing figures from 1 min ago" in (limited.message or "")
    assert window_ids(limited) == ["five_hour", "seven_day", "seven_day_fable"]  # last good kept
    backoff = store.backoffs.get(BACKOFF_SCOPE)
    assert backoff is not None and backoff.strikes == 1
    assert backoff.until == pytest.approx(clock.now() + timedelta(seconds=300), abs=timedelta(seconds=2))
    server.set_scenario("full")
    before = len(server.requests(USAGE))
    clock.set(start + timedelta(minutes=4))
    assert monitor.poll().status is Status.RATE_LIMITED
    assert len(server.requests(USAGE)) == before  # nothing sent inside the back-off
    clock.set(start + timedelta(minutes=7))
    assert monitor.poll().status is Status.OK
    assert store.backoffs.get(BACKOFF_SCOPE) is None


def test_retry_after_zero_still_pauses_and_escalates(
    server: DemoServer, make_monitor: MonitorFactory, store: Store
) -> None:
    clock = FakeClock(datetime.now(UTC))
    monitor = make_monitor(clock=clock.now)
    server.set_scenario("rate_limited_zero")
    pauses = []
    for _ in range(3):
        monitor.poll()
        backoff = store.backoffs.get(BACKOFF_SCOPE)
        assert backoff is not None
        pauses.append(round((backoff.until - clock.now()).total_seconds()))
        clock.set(backoff.until + timedelta(seconds=1))
    assert pauses == pytest.approx([60, 120, 240], abs=2)


def test_503_retry_after_is_a_shared_pause(
    server: DemoServer, make_monitor: MonitorFactory, store: Store
) -> None:
    server.queue(USAGE, DemoResponse(503, b'{"error": {"message": "busy"}}', (("Retry-After", "90"),)))
    report = make_monitor().poll()
    assert report.status is Status.RATE_LIMITED
    assert store.backoffs.get(BACKOFF_SCOPE) is not None


@pytest.mark.parametrize(
    ("scenario", "status", "words"),
    [
        ("unauthorized", Status.LOGIN_NEEDED, "refused this login: run `claude auth login`"),
        ("expired", Status.LOGIN_NEEDED, "expired: run `claude auth login`"),
        ("scope", Status.LOGIN_NEEDED, "user:profile"),
        ("server_error", Status.ERROR, "HTTP 500"),
        ("html", Status.ERROR, "HTML page"),
        ("truncated", Status.ERROR, "malformed JSON"),
    ],
)
def test_failures_become_states_and_keep_last_good(
    server: DemoServer, make_monitor: MonitorFactory, scenario: str, status: Status, words: str
) -> None:
    monitor = make_monitor()
    monitor.poll()
    server.set_scenario(scenario)
    report = make_monitor(clock=lambda: datetime.now(UTC) + timedelta(minutes=2)).poll()
    assert report.status is status
    assert words in (report.message or "")
    assert "showing figures from 2 min ago" in (report.message or "")
    assert window_ids(report)  # still visible


@pytest.mark.parametrize("scenario", ["scope", "unauthorized", "expired"])
def test_refused_login_is_remembered_not_resent(
    server: DemoServer, make_monitor: MonitorFactory, scenario: str
) -> None:
    server.set_scenario(scenario)
    clock = FakeClock(datetime.now(UTC))
    start = clock.now()
    monitor = make_monitor(clock=clock.now)
    monitor.poll()
    sent = len(server.requests(USAGE))
    for minutes in (1, 2, 3):
        clock.set(start + timedelta(minutes=minutes))
        assert monitor.poll().status is Status.LOGIN_NEEDED
    assert len(server.requests(USAGE)) == sent
    # Another process sees the same refusal without sending the token either.
    assert make_monitor(clock=clock.now).poll().status is Status.LOGIN_NEEDED
    assert len(server.requests(USAGE)) == sent


def test_token_without_profile_scope_is_not_sent(
    server: DemoServer, make_monitor: MonitorFactory, claude_dir: Path
) -> None:
    write_login(claude_dir, scopes=("user:inference",))
    report = make_monitor().poll()
    assert report.status is Status.LOGIN_NEEDED
    assert "run `claude auth login`" in (report.message or "")
    assert server.requests(USAGE) == []


def test_offline_keeps_last_good(
    make_monitor: MonitorFactory, store: Store, claude_dir: Path, http: HttpClient
) -> None:
    make_monitor().poll()
    with DemoServer() as gone:
        base = gone.base_url
    monitor = CodeMonitor(
        store,
        ClaudeCredentialStore(claude_dir),
        CodeApi(http, base, "2.1.0"),
        None,
        lambda: datetime.now(UTC) + timedelta(minutes=1),
    )
    report = monitor.poll()
    assert report.status is Status.OFFLINE
    assert report.message is not None and report.message.startswith("offline: cannot reach")
    assert window_ids(report)


def test_recent_fetch_by_another_process_is_shared(server: DemoServer, make_monitor: MonitorFactory) -> None:
    first, second = make_monitor(), make_monitor()
    first.poll()
    report = second.poll()
    assert report.status is Status.OK
    assert len(server.requests(USAGE)) == 1


def test_stored_report_reads_no_network(server: DemoServer, make_monitor: MonitorFactory) -> None:
    empty = make_monitor().stored_report(timedelta(minutes=1))
    assert empty.status is Status.STALE and empty.windows == ()
    make_monitor().poll()
    sent = len(server.requests())
    fresh = make_monitor().stored_report(timedelta(minutes=1))
    late = make_monitor(clock=lambda: datetime.now(UTC) + timedelta(minutes=5)).stored_report(
        timedelta(minutes=1)
    )
    assert fresh.status is Status.OK
    assert late.status is Status.STALE and "5 min ago" in (late.message or "")
    assert len(server.requests()) == sent


# --- credentials: reload, expiry, opt-in refresh ------------------------------------------------


def test_changed_credentials_file_is_used_on_the_next_poll(
    server: DemoServer, make_monitor: MonitorFactory, claude_dir: Path
) -> None:
    clock = FakeClock(datetime.now(UTC))
    start = clock.now()
    monitor = make_monitor(clock=clock.now)
    assert monitor.poll().status is Status.OK
    # Claude Code refreshed its login: the old token stops working, the file holds the new one.
    new_token = "sk-ant-oat01-rotated-by-claude-code"
    server.valid_access_tokens.discard(ACCESS_TOKEN)
    server.valid_access_tokens.add(new_token)
    write_login(claude_dir, access=new_token)
    clock.set(start + timedelta(minutes=1))
    assert monitor.poll().status is Status.OK
    assert server.requests(USAGE)[-1].headers.get("authorization") == f"Bearer {new_token}"


def test_expired_login_read_only_by_default(
    server: DemoServer, make_monitor: MonitorFactory, claude_dir: Path
) -> None:
    path = write_login(claude_dir, expires_in=-60)
    before = path.read_bytes()
    report = make_monitor().poll()
    assert report.status is Status.LOGIN_NEEDED
    assert report.message == "expired: run `claude auth login` to log in again"
    assert server.requests() == []  # no usage call, no refresh call
    assert path.read_bytes() == before


@pytest.mark.skipif(
    sys.platform == "win32", reason="checks that the login file keeps POSIX mode 0600, which Windows lacks"
)
def test_opt_in_refresh_writes_back_with_everything_else_kept(
    server: DemoServer, make_monitor: MonitorFactory, claude_dir: Path
) -> None:
    path = write_login(claude_dir, expires_in=-60)
    report = make_monitor(refresh=True).poll()
    assert report.status is Status.OK
    saved = json.loads(path.read_text())
    oauth = saved["claudeAiOauth"]
    assert oauth["accessToken"] != ACCESS_TOKEN and oauth["accessToken"] in server.valid_access_tokens
    assert oauth["refreshToken"] != REFRESH_TOKEN and oauth["refreshToken"] in server.valid_refresh_tokens
    assert oauth["expiresAt"] > datetime.now(UTC).timestamp() * 1000 + 7 * 3600 * 1000
    assert saved["mcpOAuth"] == {"server": {"token": "unrelated"}} and saved["organizationUuid"] == "org-1"
    assert oauth["subscriptionType"] == "max"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert server.requests(USAGE)[-1].headers["authorization"] == f"Bearer {oauth['accessToken']}"
    token_call = server.requests(TOKEN)[-1]
    assert not token_call.headers.get("user-agent", "").startswith("claude-code/")


def test_refresh_after_a_401_expired_answer(
    server: DemoServer, make_monitor: MonitorFactory, claude_dir: Path
) -> None:
    server.queue(
        USAGE,
        DemoResponse(
            401,
            json.dumps(
                {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "OAuth token has expired."},
                }
            ).encode(),
        ),
    )
    assert make_monitor(refresh=True).poll().status is Status.OK
    assert len(server.requests(TOKEN)) == 1
    assert len(server.requests(USAGE)) == 2


def test_refresh_does_not_overwrite_a_login_changed_meanwhile(
    server: DemoServer, http: HttpClient, make_monitor: MonitorFactory, claude_dir: Path
) -> None:
    path = write_login(claude_dir, expires_in=-60)
    claude_codes_token = "sk-ant-oat01-written-by-claude-code"
    server.valid_access_tokens.add(claude_codes_token)

    class RacingEndpoint(TokenEndpoint):
        """Claude Code refreshes the same login while our request is in flight."""

        def refresh(self, refresh_token: str) -> TokenGrant:
            grant = super().refresh(refresh_token)
            write_login(claude_dir, access=claude_codes_token, refresh="sk-ant-ort01-claude-code-own")
            return grant

    report = make_monitor(endpoint=RacingEndpoint(http, server.token_url, "test")).poll()
    assert report.status is Status.OK
    oauth = json.loads(path.read_text())["claudeAiOauth"]
    assert oauth["accessToken"] == claude_codes_token  # theirs kept, ours discarded
    assert oauth["refreshToken"] == "sk-ant-ort01-claude-code-own"
    assert server.requests(USAGE)[-1].headers["authorization"] == f"Bearer {claude_codes_token}"


def test_rejected_refresh_token_asks_for_login(
    server: DemoServer, make_monitor: MonitorFactory, claude_dir: Path
) -> None:
    path = write_login(claude_dir, expires_in=-60, refresh="sk-ant-ort01-revoked")
    before = path.read_bytes()
    report = make_monitor(refresh=True).poll()
    assert report.status is Status.LOGIN_NEEDED
    assert "run `claude auth login`" in (report.message or "")
    assert path.read_bytes() == before


def test_missing_login(tmp_path: Path, store: Store, http: HttpClient, server: DemoServer) -> None:
    monitor = CodeMonitor(
        store, ClaudeCredentialStore(tmp_path / "nowhere"), CodeApi(http, server.base_url, "2.1.0")
    )
    report = monitor.poll()
    assert report.status is Status.LOGIN_NEEDED
    assert "not logged in" in (report.message or "") and "run `claude auth login`" in (report.message or "")
