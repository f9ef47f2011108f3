"""Simulated Anthropic OAuth endpoints on a loopback port, for --demo mode and for the tests."""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import logging
import math
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)

# Under these the profile endpoint fails like the usage endpoint, so a client never sees a
# working profile next to a failing usage call.
_FAILING_SCENARIOS: tuple[str, ...] = (
    "unauthorized",
    "expired",
    "scope",
    "rate_limited",
    "rate_limited_date",
    "rate_limited_zero",
    "rate_limited_none",
    "server_error",
    "overloaded",
    "html",
)
SCENARIOS: tuple[str, ...] = (
    "rising",
    "full",
    "minimal",
    "enterprise",
    "no_usage_yet",
    *_FAILING_SCENARIOS,
    "html_ok",
    "truncated",
    "slow",
)

USAGE_PATH = "/api/oauth/usage"
PROFILE_PATH = "/api/oauth/profile"
TOKEN_PATH = "/v1/oauth/token"
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"

_HOUR = 3600.0
_SESSION_PERIOD = 5 * _HOUR
# The rising scenario starts two hours into a session so the first look already shows some usage.
_VIRTUAL_START = 2 * _HOUR
_WEEKLY_RESET_AFTER = 3 * 24 * _HOUR

_TOKEN_SCOPE = "user:inference user:profile user:sessions:claude_code user:mcp_servers user:file_upload"
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
_RATE_LIMIT_MESSAGE = "Rate limited. Please try again later."

# api-reference 1.4.3, kept as text so no module-level object can be mutated by a caller.
_FULL_EXAMPLE = """
{
  "five_hour": {"utilization": 10.0, "resets_at": "2026-08-04T16:20:00.001100+00:00",
                "limit_dollars": null, "used_dollars": null, "remaining_dollars": null},
  "seven_day": {"utilization": 29.0, "resets_at": "2026-08-06T19:00:00.001127+00:00",
                "limit_dollars": null, "used_dollars": null, "remaining_dollars": null},
  "seven_day_oauth_apps": null,
  "seven_day_opus": null,
  "seven_day_sonnet": null,
  "seven_day_cowork": null,
  "iguana_necktie": null,
  "extra_usage": {
    "is_enabled": false, "monthly_limit": 4000, "used_credits": 0.0, "utilization": 0.0,
    "currency": "EUR", "decimal_places": 2, "disabled_reason": "out_of_credits",
    "user_disabled": false, "spend_limit_reached": false, "credits_ever_enabled": true,
    "daily": null, "weekly": null
  },
  "limits": [
    {"kind": "session", "group": "session", "percent": 10, "severity": "normal",
     "resets_at": "2026-08-04T16:20:00.001100+00:00", "scope": null, "is_active": false},
    {"kind": "weekly_all", "group": "weekly", "percent": 29, "severity": "normal",
     "resets_at": "2026-08-06T19:00:00.001127+00:00", "scope": null, "is_active": false},
    {"kind": "weekly_scoped", "group": "weekly", "percent": 32, "severity": "normal",
     "resets_at": "2026-08-06T19:00:00.001438+00:00",
     "scope": {"model": {"id": null, "display_name": "Fable"}, "surface": null},
     "is_active": true}
  ],
  "spend": {
    "used":  {"amount_minor": 0,    "currency": "EUR", "exponent": 2},
    "limit": {"amount_minor": 4000, "currency": "EUR", "exponent": 2},
    "percent": 0, "severity": "normal", "enabled": false, "disabled_reason": "out_of_credits",
    "cap": {"money": {"amount_minor": 4000, "currency": "EUR", "exponent": 2}, "credits": null},
    "balance": null, "auto_reload": null, "disclaimer": "\u2026",
    "can_purchase_credits": false, "can_toggle": false
  },
  "member_dashboard_available": false
}
"""

# api-reference 1.4.3, "Older/minimal shape".
_MINIMAL_EXAMPLE = """
{
  "five_hour": {"utilization": 61.0, "resets_at": "2026-01-28T07:59:59.571404+00:00"},
  "seven_day": {"utilization": 22.0, "resets_at": "2026-02-03T09:59:59.571468+00:00"},
  "seven_day_oauth_apps": null,
  "seven_day_opus": {"utilization": 0.0, "resets_at": null},
  "extra_usage": {"is_enabled": false, "monthly_limit": null, "used_credits": null, "utilization": null}
}
"""

# api-reference 1.5.
_PROFILE = """
{
  "account": {
    "uuid": "11111111-1111-4111-8111-111111111111",
    "full_name": "Jane Doe",
    "display_name": "Jane",
    "email": "jane@example.com",
    "has_claude_max": true,
    "has_claude_pro": false,
    "created_at": "2025-03-01T12:00:00.000000Z"
  },
  "organization": {
    "uuid": "22222222-2222-4222-8222-222222222222",
    "name": "jane@example.com's Organization",
    "organization_type": "claude_max",
    "billing_type": "stripe_subscription",
    "rate_limit_tier": "default_claude_max_5x",
    "seat_tier": null,
    "has_extra_usage_enabled": false,
    "subscription_status": "active",
    "subscription_created_at": "2025-03-01T12:00:00.000000Z",
    "cc_onboarding_flags": {},
    "claude_code_trial_ends_at": null,
    "claude_code_trial_duration_days": null,
    "payment_auth_hosted_invoice_url": null
  },
  "application": {"uuid": "33333333-3333-4333-8333-333333333333", "name": "Claude Code",
                  "slug": "claude-code"},
  "enabled_plugins": []
}
"""

_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_CAPTIVE_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in to Hotel WiFi</title></head>\n"
    b'<body><h1>Welcome!</h1><form method="post" action="/login">'
    b'<input name="room"><input name="surname"><button>Connect</button></form></body></html>\n'
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the demo server received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass(frozen=True)
class DemoResponse:
    """A canned answer; without a content-type header it is sent as application/json."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


def _epoch_at(virtual_seconds: float, started_at: float, speed: float) -> float:
    return started_at + (virtual_seconds - _VIRTUAL_START) / speed


def _stamp(epoch: float, microseconds: int) -> str:
    # Whole seconds rounded up (never before the true end of the period) plus the small fraction the
    # real server shows, e.g. "2026-08-04T16:20:00.001100+00:00".
    moment = datetime.fromtimestamp(math.ceil(epoch), tz=UTC) + timedelta(microseconds=microseconds)
    return moment.isoformat()


def _severity(percent: int) -> str:
    if percent >= 90:
        return "critical"
    return "warning" if percent >= 75 else "normal"


def _window(utilization: float, resets_at: str | None) -> dict[str, Any]:
    return {
        "utilization": utilization,
        "resets_at": resets_at,
        "limit_dollars": None,
        "used_dollars": None,
        "remaining_dollars": None,
    }


def _limit(kind: str, utilization: float, resets_at: str, scope: dict[str, Any] | None) -> dict[str, Any]:
    percent = round(utilization)
    return {
        "kind": kind,
        "group": "session" if kind == "session" else "weekly",
        "percent": percent,
        "severity": _severity(percent),
        "resets_at": resets_at,
        "scope": scope,
        "is_active": False,
    }


def _money(amount_minor: int) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "USD", "exponent": 2}


def _rising_extras() -> dict[str, Any]:
    return {
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 4000,
            "used_credits": 1234.0,
            "utilization": round(1234.0 / 4000 * 100, 2),
            "currency": "USD",
            "decimal_places": 2,
            "disabled_reason": None,
            "user_disabled": False,
            "spend_limit_reached": False,
            "credits_ever_enabled": True,
            "daily": None,
            "weekly": None,
        },
        "spend": {
            "used": _money(1234),
            "limit": _money(4000),
            "percent": 31,
            "severity": "normal",
            "enabled": True,
            "disabled_reason": None,
            "cap": {"money": _money(4000), "credits": None},
            "balance": None,
            "auto_reload": None,
            "disclaimer": "Demo data: no real spend.",
            "can_purchase_credits": False,
            "can_toggle": False,
        },
        "member_dashboard_available": False,
    }


def rising_usage_body(
    virtual_seconds: float, *, started_at: float | None = None, speed: float = 1.0
) -> dict[str, Any]:
    """The "rising" /api/oauth/usage body at a virtual time (seconds since the simulated history began).

    `started_at` is the Unix time at which the virtual clock read 2 h (the server start); when None it is
    now, so callers building several bodies for one history must pass one value to get equal resets_at.
    """
    anchor = time.time() if started_at is None else started_at
    hours = virtual_seconds / _HOUR
    period_start = math.floor(virtual_seconds / _SESSION_PERIOD) * _SESSION_PERIOD
    session = round(min(100.0, 22.0 * (virtual_seconds - period_start) / _HOUR), 1)
    weekly = round(min(100.0, 41.0 + 0.4 * hours), 1)
    scoped = round(min(100.0, 32.0 + 0.3 * hours), 1)
    session_reset = _stamp(_epoch_at(period_start + _SESSION_PERIOD, anchor, speed), 1100)
    weekly_end = _epoch_at(_VIRTUAL_START + _WEEKLY_RESET_AFTER, anchor, speed)
    weekly_reset = _stamp(weekly_end, 1127)
    fable = {"model": {"id": None, "display_name": "Fable"}, "surface": None}
    limits = [
        _limit("session", session, session_reset, None),
        _limit("weekly_all", weekly, weekly_reset, None),
        _limit("weekly_scoped", scoped, _stamp(weekly_end, 1438), fable),
    ]
    # The real server flags the limit that binds first; the fullest one is the closest stand-in.
    max(limits, key=lambda entry: int(entry["percent"]))["is_active"] = True
    return {
        "five_hour": _window(session, session_reset),
        "seven_day": _window(weekly, weekly_reset),
        "seven_day_oauth_apps": None,
        "seven_day_opus": None,
        "seven_day_sonnet": None,
        "seven_day_cowork": None,
        "iguana_necktie": None,
        "limits": limits,
        **_rising_extras(),
    }


def _shift_resets(value: Any, delta: timedelta) -> Any:
    if isinstance(value, dict):
        shifted: dict[str, Any] = {}
        for key, item in value.items():
            if key == "resets_at" and isinstance(item, str):
                shifted[key] = (datetime.fromisoformat(item) + delta).isoformat()
            else:
                shifted[key] = _shift_resets(item, delta)
        return shifted
    if isinstance(value, list):
        return [_shift_resets(item, delta) for item in value]
    return value


def _future_example(text: str, now: float) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text)
    base = datetime.fromisoformat(body["five_hour"]["resets_at"]).timestamp()
    # Whole hours keep each timestamp's minutes, seconds and microseconds; the session lands 2-3 h ahead.
    hours = math.ceil((now + 2 * _HOUR - base) / _HOUR)
    shifted: dict[str, Any] = _shift_resets(body, timedelta(hours=hours))
    return shifted


def _enterprise_body() -> dict[str, Any]:
    return {
        "five_hour": None,
        "seven_day": None,
        "seven_day_opus": None,
        "seven_day_sonnet": None,
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 100000,
            "used_credits": 4132,
            "utilization": 4.13,
            "currency": "USD",
            "decimal_places": 2,
        },
    }


def _no_usage_body(now: float) -> dict[str, Any]:
    week_end = datetime.fromtimestamp(math.ceil(now / _HOUR) * _HOUR + 6 * 24 * _HOUR, tz=UTC)
    lantern_end = datetime.fromtimestamp(math.ceil(now / _HOUR) * _HOUR + 3 * _HOUR, tz=UTC)
    return {
        "five_hour": {"utilization": 0.0, "resets_at": None},
        "seven_day": {"utilization": 5, "resets_at": week_end.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "seven_day_opus": None,
        # Codename windows appear without notice; clients must ignore them, not crash or show them.
        "harbor_lantern": {"utilization": 50.0, "resets_at": lantern_end.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
        "cinder_cove": {"utilization": 12, "resets_at": None},
        "wattle_ember": None,
        "extra_usage": {
            "is_enabled": False,
            "monthly_limit": None,
            "used_credits": None,
            "utilization": None,
        },
    }


def _json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> DemoResponse:
    return DemoResponse(status, json.dumps(payload).encode("utf-8"), (("Content-Type", _JSON), *headers))


def _rate_limited(*headers: tuple[str, str]) -> DemoResponse:
    return _json_response(
        429, {"error": {"message": _RATE_LIMIT_MESSAGE, "type": "rate_limit_error"}}, headers
    )


def _header(response: DemoResponse, name: str) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value
    return None


def _token_fields(content_type: str, body: bytes) -> dict[str, str]:
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            return {}
        if not isinstance(decoded, dict):
            return {}
        return {str(key): value for key, value in decoded.items() if isinstance(value, str)}
    return {key: values[0] for key, values in urllib.parse.parse_qs(text).items()}


class _HTTPServer(ThreadingHTTPServer):
    # server_close() would otherwise join every handler thread, including ones parked on an idle
    # keep-alive connection of a client that never hangs up; stop() shuts those sockets down instead.
    block_on_close = False

    def __init__(self, address: tuple[str, int], demo: DemoServer) -> None:
        super().__init__(address, _Handler)
        self.demo = demo
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._closing = False

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)
            closing = self._closing
        if closing:
            _hang_up(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def hang_up_all(self) -> None:
        with self._connections_lock:
            self._closing = True
            connections = list(self._connections)
        for connection in connections:
            _hang_up(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        # Clients that time out or hang up mid-answer are part of the simulation, not faults.
        if isinstance(error, ConnectionError | TimeoutError):
            logger.debug("demo client went away: %s", type(error).__name__)
        else:
            logger.error("demo server failed on a request", exc_info=error)


def _hang_up(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 with Content-Length on every answer lets requests keep its connections alive.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, each answer would wait ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        # Always drain the body, or its bytes would be read as the next request on this connection.
        body = self.rfile.read(length) if length > 0 else b""
        path = urllib.parse.urlsplit(self.path).path
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.demo.answer(self.command, path, headers, body)
        if response.delay > 0 and self.server.demo.pause(response.delay):
            self.close_connection = True
            return
        self.send_response(response.status, "Site Overloaded" if response.status == 529 else None)
        for name, value in response.headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        if _header(response, "content-type") is None:
            self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)


class DemoServer:
    """Loopback stand-in for api.anthropic.com's /api/oauth/* and the platform token endpoint."""

    DEMO_ACCESS_TOKEN = "sk-ant-oat01-demo-access-token"
    DEMO_REFRESH_TOKEN = "sk-ant-ort01-demo-refresh-token"

    def __init__(
        self,
        scenario: str = "rising",
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        _check_scenario(scenario)
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = speed
        self.slow_seconds = 3.0
        self.valid_access_tokens: set[str] = {self.DEMO_ACCESS_TOKEN}
        self.valid_refresh_tokens: set[str] = {self.DEMO_REFRESH_TOKEN}
        self._scenario = scenario
        self._clock = clock
        self._address = (host, port)
        self._started_at = clock()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._queued: dict[str, collections.deque[DemoResponse]] = {}
        self._recorded: list[RecordedRequest] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._usage_answers: dict[str, Callable[[], DemoResponse]] = {
            "rising": lambda: _json_response(200, self.rising_body()),
            "full": lambda: _json_response(200, _future_example(_FULL_EXAMPLE, self._clock())),
            "minimal": lambda: _json_response(200, _future_example(_MINIMAL_EXAMPLE, self._clock())),
            "enterprise": lambda: _json_response(200, _enterprise_body()),
            "no_usage_yet": lambda: _json_response(200, _no_usage_body(self._clock())),
            "unauthorized": _invalid_bearer,
            "expired": lambda: _envelope(
                401,
                "authentication_error",
                "OAuth token has expired. Please obtain a new token or refresh your existing token.",
            ),
            "scope": lambda: _envelope(
                403,
                "permission_error",
                "OAuth token does not meet scope requirement user:profile",
                details=True,
            ),
            "rate_limited": lambda: _rate_limited(("retry-after", "300")),
            "rate_limited_date": lambda: _rate_limited(
                ("retry-after", formatdate(self._clock() + 120, usegmt=True))
            ),
            "rate_limited_zero": lambda: _rate_limited(("retry-after", "0")),
            "rate_limited_none": lambda: _rate_limited(),
            "server_error": lambda: _json_response(
                500, {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
            ),
            "overloaded": lambda: _envelope(529, "overloaded_error", "Overloaded"),
            "html": lambda: DemoResponse(502, _BAD_GATEWAY_PAGE, (("Content-Type", _HTML),)),
            "html_ok": lambda: DemoResponse(200, _CAPTIVE_PAGE, (("Content-Type", _HTML),)),
            "truncated": self._truncated,
            "slow": lambda: replace(_json_response(200, self.rising_body()), delay=self.slow_seconds),
        }

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> DemoServer:
        """Bind the port (0 = any free one) and serve from a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("demo server already started")
        self._stopping.clear()
        self._started_at = self._clock()
        self._httpd = _HTTPServer(self._address, self)
        # stop() waits up to one poll interval; short keeps a test suite of many servers fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="demo-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and release the port; safe to call twice."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.hang_up_all()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("demo server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    # -- controls for tests and --demo -----------------------------------------------------------

    @property
    def scenario(self) -> str:
        return self._scenario

    def set_scenario(self, name: str) -> None:
        _check_scenario(name)
        self._scenario = name

    def queue(self, path: str, *responses: DemoResponse) -> None:
        """One-shot answers for path, served first-in first-out before any rule or scenario."""
        with self._lock:
            self._queued.setdefault(path, collections.deque()).extend(responses)

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        """The requests received so far (control endpoints excluded), optionally for one path."""
        with self._lock:
            return [r for r in self._recorded if path is None or r.path == path]

    @property
    def started_at(self) -> float:
        """Clock time at which the virtual clock of the rising scenario read 2 h."""
        return self._started_at

    def virtual_seconds(self) -> float:
        return _VIRTUAL_START + (self._clock() - self._started_at) * self.speed

    def epoch_at(self, virtual_seconds: float) -> float:
        """Clock time at which the rising scenario reaches the given virtual time."""
        return _epoch_at(virtual_seconds, self._started_at, self.speed)

    def rising_body(self) -> dict[str, Any]:
        return rising_usage_body(self.virtual_seconds(), started_at=self._started_at, speed=self.speed)

    # -- request handling (called from the handler threads) --------------------------------------

    def pause(self, seconds: float) -> bool:
        """Wait up to seconds; True when the server is stopping meanwhile."""
        return self._stopping.wait(seconds)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> DemoResponse:
        if path.startswith("/_demo/"):
            return self._control(method, path, body)
        with self._lock:
            self._recorded.append(RecordedRequest(method, path, dict(headers), body, self._clock()))
            waiting = self._queued.get(path)
            if waiting:
                return waiting.popleft()
        if method == "GET" and path in (USAGE_PATH, PROFILE_PATH):
            return self._oauth_api(path, headers)
        if method == "POST" and path == TOKEN_PATH:
            return self._refresh(headers, body)
        return _envelope(404, "not_found_error", f"Not found: {method} {path}")

    def _oauth_api(self, path: str, headers: dict[str, str]) -> DemoResponse:
        authorization = headers.get("authorization", "")
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        if token not in self.valid_access_tokens:
            return _invalid_bearer()
        if path == USAGE_PATH and not headers.get("user-agent", "").startswith("claude-code/"):
            # The real server puts unknown agents in a far stricter bucket that answers 429 at once.
            return _rate_limited(("retry-after", "0"))
        scenario = self._scenario
        if path == PROFILE_PATH and scenario not in _FAILING_SCENARIOS:
            return _json_response(200, json.loads(_PROFILE))
        return self._usage_answers[scenario]()

    def _refresh(self, headers: dict[str, str], body: bytes) -> DemoResponse:
        fields = _token_fields(headers.get("content-type", ""), body)
        if fields.get("grant_type") != "refresh_token" or fields.get("client_id") != CLIENT_ID:
            return _json_response(
                400, {"error": "invalid_request", "error_description": "Invalid request format"}
            )
        # Opposite of the usage endpoint: the token endpoint throttles Claude Code's own agent string.
        if headers.get("user-agent", "").startswith("claude-code/"):
            return _json_response(
                429, {"error": {"type": "rate_limit_error", "message": _RATE_LIMIT_MESSAGE}}
            )
        with self._lock:
            old = fields.get("refresh_token", "")
            if old not in self.valid_refresh_tokens:
                return _json_response(
                    400, {"error": "invalid_grant", "error_description": "Refresh token not found or invalid"}
                )
            # Rotation: the old refresh token dies; the old access token lives until it expires.
            self.valid_refresh_tokens.discard(old)
            access = "sk-ant-oat01-demo-" + secrets.token_hex(16)
            refresh = "sk-ant-ort01-demo-" + secrets.token_hex(16)
            self.valid_access_tokens.add(access)
            self.valid_refresh_tokens.add(refresh)
        profile = json.loads(_PROFILE)
        return _json_response(
            200,
            {
                "token_type": "Bearer",
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": 28800,
                "scope": _TOKEN_SCOPE,
                "account": {"uuid": profile["account"]["uuid"], "email_address": profile["account"]["email"]},
                "organization": {
                    "uuid": profile["organization"]["uuid"],
                    "name": profile["organization"]["name"],
                },
            },
        )

    def _truncated(self) -> DemoResponse:
        full = json.dumps(self.rising_body()).encode("utf-8")
        return DemoResponse(200, full[: len(full) // 2], (("Content-Type", _JSON),))

    def _control(self, method: str, path: str, body: bytes) -> DemoResponse:
        if method == "POST" and path == "/_demo/scenario":
            try:
                name = json.loads(body)["scenario"]
                self.set_scenario(name)
            except (ValueError, KeyError, TypeError) as exc:
                return _envelope(400, "invalid_request_error", str(exc))
            return _json_response(200, {"scenario": name})
        if method == "GET" and path == "/_demo/requests":
            # Authorization values stay out: this list is printed by subprocess tests.
            listing = [
                {"method": r.method, "path": r.path, "user_agent": r.headers.get("user-agent"), "at": r.at}
                for r in self.requests()
            ]
            return _json_response(200, listing)
        return _envelope(404, "not_found_error", f"Not found: {method} {path}")


def _check_scenario(name: str) -> None:
    if name not in SCENARIOS:
        raise ValueError(f"unknown demo scenario {name!r}; known: {', '.join(SCENARIOS)}")


def _envelope(status: int, kind: str, message: str, *, details: bool = False) -> DemoResponse:
    error: dict[str, Any] = {"type": kind, "message": message}
    if details:
        error["details"] = {"error_visibility": "user_facing"}
    return _json_response(
        status, {"type": "error", "error": error, "request_id": "req_demo" + secrets.token_hex(8)}
    )


def _invalid_bearer() -> DemoResponse:
    return _envelope(401, "authentication_error", "Invalid bearer token", details=True)


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m tray_app.demo`: serve until SIGTERM/SIGINT, after printing the base URL on one line."""
    parser = argparse.ArgumentParser(prog="python -m tray_app.demo", description=__doc__)
    parser.add_argument("--scenario", choices=SCENARIOS, default="rising")
    parser.add_argument("--speed", type=_positive_float, default=1.0, help="virtual seconds per real second")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with DemoServer(args.scenario, speed=args.speed, port=args.port) as server:
        print(server.base_url, flush=True)
        # A short timeout keeps the main thread responsive to signals on every platform.
        while not stopping.wait(0.5):
            pass


if __name__ == "__main__":
    main()
