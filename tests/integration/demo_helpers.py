"""What the demo server tests share: a fake clock, the fixtures, and calls as Claude Code makes them.

pytest finds a fixture by module attribute, so a test module binds these with `clock = demo_helpers.clock`
rather than importing the names, which ruff would report as unused and then as redefined.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tray_app.demo import CLIENT_ID, DemoServer

USAGE = "/api/oauth/usage"
PROFILE = "/api/oauth/profile"
CLAUDE_UA = "claude-code/2.1.221"
START = 1_785_000_000.0  # 2026-07-25T17:20:00Z; a whole-second start keeps reset times exact


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


def refresh(
    http: requests.Session, server: DemoServer, token: str, agent: str = "axios/1.7.9"
) -> requests.Response:
    body = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID}
    return http.post(server.token_url, json=body, headers={"User-Agent": agent}, timeout=5)
