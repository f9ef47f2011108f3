"""The demo server itself: queued answers, the request log, control endpoints, its life as a process."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tray_app.demo import DemoResponse, DemoServer

from ..fakes import FakeClock
from . import demo_helpers
from .demo_helpers import CLAUDE_UA, PROFILE, START, USAGE, auth, get, refresh

# The shared fixtures, bound by name so that pytest finds them in this module.
clock = demo_helpers.clock
server = demo_helpers.server
http = demo_helpers.http

REPO = Path(__file__).resolve().parents[2]


def test_stop_does_not_wait_for_a_sleeping_answer(clock: FakeClock) -> None:
    demo = DemoServer("slow", clock=clock.epoch).start()
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
    with DemoServer(clock=clock.epoch) as one, DemoServer("expired", clock=clock.epoch) as two:
        assert one.base_url != two.base_url
        assert get(http, one).status_code == 200
        assert get(http, two).status_code == 401
        assert len(one.requests()) == len(two.requests()) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no SIGTERM to stop it gracefully")
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


def test_a_long_running_demo_keeps_only_its_latest_requests(http: requests.Session) -> None:
    # The tray's --demo runs for days with the server inside it: its request log must not grow for ever.
    with DemoServer("full", keep_requests=5) as bounded:
        for _ in range(12):
            http.get(
                bounded.base_url + "/api/oauth/usage", headers=auth(DemoServer.DEMO_ACCESS_TOKEN), timeout=5
            )
        assert len(bounded.requests()) == 5
