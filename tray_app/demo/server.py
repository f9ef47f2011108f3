"""The loopback HTTP server that serves every simulated API under one base URL, and its test controls."""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tray_app.demo.admin import ADMIN_PATHS, admin_answer, check_admin_scenario
from tray_app.demo.analytics import (
    ANALYTICS_CONTROL_PATH,
    ANALYTICS_PATHS,
    AnalyticsSwitches,
    analytics_answer,
    configure,
)
from tray_app.demo.claude_web import check_web_scenario, is_web_path, new_session_key, web_answer
from tray_app.demo.common import JSON, DemoResponse, envelope, json_response
from tray_app.demo.grants import is_redeem_path, queue_key, redeem_answer, with_grants
from tray_app.demo.oauth import (
    PROFILE_PATH,
    TOKEN_PATH,
    USAGE_PATH,
    VIRTUAL_START,
    check_scenario,
    epoch_at,
    oauth_answer,
    refresh_answer,
    rising_usage_body,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the demo server received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    query: str = ""  # the raw query string, without the "?"


def _header(response: DemoResponse, name: str) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value
    return None


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
        target = urllib.parse.urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.demo.answer(self.command, target.path, headers, body, target.query)
        if response.delay > 0 and self.server.demo.pause(response.delay):
            self.close_connection = True
            return
        self.send_response(response.status, "Site Overloaded" if response.status == 529 else None)
        for name, value in response.headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        if _header(response, "content-type") is None:
            self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.cut_after is not None:
            self.wfile.write(response.body[: response.cut_after])
            self.wfile.flush()
            self.close_connection = True
            _hang_up(self.connection)
            return
        if response.drip > 0:
            self._drip(response.body, response.drip)
            return
        self.wfile.write(response.body)

    def _drip(self, body: bytes, pause: float) -> None:
        self.close_connection = True
        for index in range(len(body)):
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            # A client that gave up makes the next write fail; a stopping server ends the drip at once.
            if self.server.demo.pause(pause):
                return


class DemoServer:
    """Loopback stand-in for api.anthropic.com's /api/oauth/* and Admin API, the token endpoint, and
    claude.ai's session-cookie endpoints, all under one base URL."""

    DEMO_ACCESS_TOKEN = "sk-ant-oat01-demo-access-token"
    DEMO_REFRESH_TOKEN = "sk-ant-ort01-demo-refresh-token"
    DEMO_ADMIN_KEY = "sk-ant-admin01-demo-admin-key"
    DEMO_SESSION_KEY = "sk-ant-sid01-demo-session-key"

    def __init__(
        self,
        scenario: str = "rising",
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_scenario: str = "normal",
        web_scenario: str = "normal",
        keep_requests: int | None = None,
    ) -> None:
        """keep_requests bounds the requests remembered for requests() (None: all, as tests want)."""
        check_scenario(scenario)
        check_admin_scenario(admin_scenario)
        check_web_scenario(web_scenario)
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = speed
        self.slow_seconds = 3.0
        self.valid_access_tokens: set[str] = {self.DEMO_ACCESS_TOKEN}
        self.valid_refresh_tokens: set[str] = {self.DEMO_REFRESH_TOKEN}
        self.valid_admin_keys: set[str] = {self.DEMO_ADMIN_KEY}
        # The most items or buckets one Admin API page holds whatever limit was asked; None: as asked.
        self.admin_page_cap: int | None = None
        # How the Analytics API (beta) answers: refusals, a repeated page token, a page size cap.
        self.analytics = AnalyticsSwitches()
        self.valid_session_keys: set[str] = {self.DEMO_SESSION_KEY}
        # Every Nth authenticated 200 answer of claude.ai sets a new sessionKey cookie; 0 never does.
        self.renew_session_every = 0
        # When True a renewal also ends the key it replaced, as a strict server would.
        self.rotate_strict = False
        self.issued_session_keys: list[str] = []
        self._web_answers = 0
        self._scenario = scenario
        self._admin_scenario = admin_scenario
        self._web_scenario = web_scenario
        # The free limit resets of the usage answer (demo.grants): one of GRANT_SCENARIOS.
        self.grants_scenario = "present"
        self._clock = clock
        self._address = (host, port)
        self._started_at = clock()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._queued: dict[str, collections.deque[DemoResponse]] = {}
        # The tray's --demo runs for days: there only the latest few are kept, or memory would grow.
        self._recorded: collections.deque[RecordedRequest] = collections.deque(maxlen=keep_requests)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

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
        check_scenario(name)
        self._scenario = name

    @property
    def admin_scenario(self) -> str:
        """How the Admin API endpoints answer: "normal" or one of the failures of ADMIN_SCENARIOS."""
        return self._admin_scenario

    def set_admin_scenario(self, name: str) -> None:
        check_admin_scenario(name)
        self._admin_scenario = name

    @property
    def web_scenario(self) -> str:
        """How the claude.ai endpoints answer: "normal" or one of the failures of WEB_SCENARIOS."""
        return self._web_scenario

    def set_web_scenario(self, name: str) -> None:
        check_web_scenario(name)
        self._web_scenario = name

    def queue(self, path: str, *responses: DemoResponse) -> None:
        """One-shot answers for path, served first-in first-out before any rule or scenario.

        The free-resets request has a queue of its own, USAGE_PATH + GRANTS_QUERY (demo.grants): a test's
        usage answers are for the polls."""
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
        return VIRTUAL_START + (self._clock() - self._started_at) * self.speed

    def epoch_at(self, virtual_seconds: float) -> float:
        """Clock time at which the rising scenario reaches the given virtual time."""
        return epoch_at(virtual_seconds, self._started_at, self.speed)

    def rising_body(self) -> dict[str, Any]:
        return rising_usage_body(self.virtual_seconds(), started_at=self._started_at, speed=self.speed)

    # -- request handling (called from the handler threads) --------------------------------------

    def pause(self, seconds: float) -> bool:
        """Wait up to seconds; True when the server is stopping meanwhile."""
        return self._stopping.wait(seconds)

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes, query: str = ""
    ) -> DemoResponse:
        if path.startswith("/_demo/"):
            return self._control(method, path, body)
        with self._lock:
            self._recorded.append(RecordedRequest(method, path, dict(headers), body, self._clock(), query))
            waiting = self._queued.get(queue_key(path, query))
            if waiting:
                return waiting.popleft()
        return self._route(method, path, headers, body, query)

    def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes, query: str
    ) -> DemoResponse:
        # The simulations keep no state of their own: each gets what it reads or changes from here, so
        # two servers never share tokens, keys or scenarios.
        if method == "GET" and path in (USAGE_PATH, PROFILE_PATH):
            return with_grants(
                lambda: oauth_answer(
                    path,
                    headers,
                    access_tokens=self.valid_access_tokens,
                    scenario=self._scenario,
                    clock=self._clock,
                    rising_body=self.rising_body,
                    slow_seconds=self.slow_seconds,
                ),
                headers,
                query if path == USAGE_PATH else "",
                self.grants_scenario,
                self._clock,
            )
        if method == "POST" and is_redeem_path(path):
            return redeem_answer()
        if method == "GET" and path in ADMIN_PATHS:
            return admin_answer(
                path,
                headers,
                query,
                admin_keys=self.valid_admin_keys,
                scenario=self._admin_scenario,
                clock=self._clock,
                page_cap=self.admin_page_cap,
            )
        if method == "GET" and path in ANALYTICS_PATHS:
            return self._analytics(path, headers, query)
        if method == "GET" and is_web_path(path):
            return web_answer(
                path,
                headers,
                scenario=self._web_scenario,
                knows=self._knows_session,
                renew=self._renew_session,
                rising_body=self.rising_body,
                clock=self._clock,
            )
        if method == "POST" and path == TOKEN_PATH:
            return refresh_answer(
                headers,
                body,
                lock=self._lock,
                access_tokens=self.valid_access_tokens,
                refresh_tokens=self.valid_refresh_tokens,
            )
        return envelope(404, "not_found_error", f"Not found: {method} {path}")

    def _analytics(self, path: str, headers: dict[str, str], query: str) -> DemoResponse:
        return analytics_answer(
            path,
            headers,
            query,
            admin_keys=self.valid_admin_keys,
            scenario=self._admin_scenario,
            clock=self._clock,
            switches=self.analytics,
        )

    def _knows_session(self, key: str) -> bool:
        with self._lock:
            return key in self.valid_session_keys

    def _renew_session(self, key: str) -> str | None:
        """Count an authenticated claude.ai answer; every renew_session_every-th one gets a new key."""
        with self._lock:
            self._web_answers += 1
            every = self.renew_session_every
            if every <= 0 or self._web_answers % every:
                return None
            new_key = new_session_key()
            self.valid_session_keys.add(new_key)
            self.issued_session_keys.append(new_key)
            if self.rotate_strict:
                self.valid_session_keys.discard(key)
        return new_key

    def _control(self, method: str, path: str, body: bytes) -> DemoResponse:
        switches: dict[str, tuple[str, Callable[[str], None]]] = {
            "/_demo/scenario": ("scenario", self.set_scenario),
            "/_demo/admin_scenario": ("admin_scenario", self.set_admin_scenario),
            "/_demo/web_scenario": ("web_scenario", self.set_web_scenario),
        }
        if method == "POST" and path == ANALYTICS_CONTROL_PATH:
            return configure(self.analytics, body)
        if method == "POST" and path in switches:
            key, switch = switches[path]
            try:
                name = json.loads(body)["scenario"]
                switch(name)
            except (ValueError, KeyError, TypeError) as exc:
                return envelope(400, "invalid_request_error", str(exc))
            return json_response(200, {key: name})
        if method == "GET" and path == "/_demo/requests":
            # Authorization and Cookie values stay out: this list is printed by subprocess tests.
            listing = [
                {"method": r.method, "path": r.path, "user_agent": r.headers.get("user-agent"), "at": r.at}
                for r in self.requests()
            ]
            return json_response(200, listing)
        return envelope(404, "not_found_error", f"Not found: {method} {path}")
