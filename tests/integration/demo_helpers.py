"""What the demo server tests share: a fake clock, the fixtures, and calls as Claude Code makes them.

pytest finds a fixture by module attribute, so a test module binds these with `clock = demo_helpers.clock`
rather than importing the names, which ruff would report as unused and then as redefined. They are not in
a conftest.py because their names are taken there: `server` in tests/conftest.py is a demo server on the
real clock, which most integration tests want; a module that binds `server = demo_helpers.server` gets
one on the fake clock instead (and its own `clock` fixture, if it defines one, sets where that starts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tray_app.demo import CLIENT_ID, DemoServer
from tray_app.environment import Environment
from tray_app.sources.http import HttpClient

from ..fakes import FakeClock

USAGE = "/api/oauth/usage"
PROFILE = "/api/oauth/profile"
CLAUDE_UA = "claude-code/2.1.221"
START = 1_785_000_000.0  # 2026-07-25T17:20:00Z; a whole-second start keeps reset times exact
# Seconds the `http_client` fixture's client waits for an answer; a module sets HTTP_TIMEOUT to change it.
HTTP_TIMEOUT = 5.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.fromtimestamp(START, UTC))


@pytest.fixture
def server(clock: FakeClock) -> Iterator[DemoServer]:
    """The demo server ("rising" account) on the fake clock."""
    with DemoServer(clock=clock.epoch) as demo:
        yield demo


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """Plain requests, as a test asks the demo server itself."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def http_client(request: pytest.FixtureRequest) -> Iterator[HttpClient]:
    """The program's own HTTP client; modules bind it as `http = demo_helpers.http_client`."""
    client = HttpClient(timeout=getattr(request.module, "HTTP_TIMEOUT", HTTP_TIMEOUT))
    yield client
    client.close()


def app_environment(home: Path, server: DemoServer, claude_dir: Path, **extra: str) -> Environment:
    """What the program is given on a Linux machine pointed at the demo server, for tray_app.wiring: its own
    folder (home: config.toml, the database, logs), every API and claude.ai on the server, Claude Code's
    folder, and extra variables (ANTHROPIC_ADMIN_API_KEY, say). Nothing else of this process's environment."""
    variables = {
        "CLAUDE_USAGE_TRAY_HOME": str(home),
        "CLAUDE_USAGE_TRAY_API_BASE": server.base_url,
        "CLAUDE_USAGE_TRAY_TOKEN_URL": server.token_url,
        "CLAUDE_USAGE_TRAY_WEB_BASE": server.base_url,
        "CLAUDE_CONFIG_DIR": str(claude_dir),
    }
    return Environment({**variables, **extra}, "linux", home / "user-home")


def auth(token: str = DemoServer.DEMO_ACCESS_TOKEN, agent: str = CLAUDE_UA) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "User-Agent": agent, "anthropic-beta": "oauth-2025-04-20"}


def get(http: requests.Session, server: DemoServer, path: str = USAGE, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", auth())
    return http.get(server.base_url + path, headers=headers, timeout=5, **kwargs)


def refresh(
    http: requests.Session, server: DemoServer, token: str, agent: str = "axios/1.7.9"
) -> requests.Response:
    body = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID}
    return http.post(server.token_url, json=body, headers={"User-Agent": agent}, timeout=5)
