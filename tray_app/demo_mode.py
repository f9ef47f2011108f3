"""`--demo`: simulated servers, a throw-away login and a separate, pre-seeded demo database."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from tray_app.config import (
    ENV_API_BASE,
    ENV_CLAUDE_CONFIG_DIR,
    ENV_TOKEN_URL,
    ENV_WEB_BASE,
    ConsoleSettings,
    Settings,
    WebSettings,
)
from tray_app.core.parse import parse_usage
from tray_app.core.timeparse import from_epoch
from tray_app.demo import DemoServer, rising_usage_body
from tray_app.demo.claude_code_session import ClaudeCodeSession
from tray_app.paths import ENV_HOME, Paths
from tray_app.store import Store

# The demo server's virtual clock starts 2 h into a 5-hour period; an hour of earlier polls makes
# the forecast visible on the very first `status --demo`.
_SEED_SPAN = timedelta(hours=1)
_SEED_STEP = timedelta(minutes=2)
_VIRTUAL_AT_START = 2 * 3600.0
# Real credentials and servers a child of the demo must not inherit (the demo's own come from its file).
_REAL_SECRETS = frozenset(
    {"ANTHROPIC_ADMIN_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", ENV_API_BASE, ENV_TOKEN_URL, ENV_WEB_BASE}
)
# What the demo server remembers of the requests it answered; nothing in the tray reads them.
DEMO_REQUESTS_KEPT = 1000


def _write_demo_login(folder: Path, now: float) -> None:
    folder.mkdir(mode=0o700)
    document = {
        "claudeAiOauth": {
            "accessToken": DemoServer.DEMO_ACCESS_TOKEN,
            "refreshToken": DemoServer.DEMO_REFRESH_TOKEN,
            "expiresAt": int((now + 8 * 3600) * 1000),
            "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
            "subscriptionType": "max",
            "rateLimitTier": "default_claude_max_5x",
        }
    }
    path = folder / ".credentials.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)


def _write_demo_config(path: Path, server: DemoServer) -> None:
    """The demo's own settings as a settings file, for a process started from the demo tray: the same
    simulated servers, login and keys, never the real ones."""
    text = f"""# Written by --demo for the processes it starts (the details window); removed with the demo.
api_base = "{server.base_url}"
token_url = "{server.token_url}"
web_base = "{server.base_url}"
token_refresh = "off"

[web]
enabled = true
session_key = "{DemoServer.DEMO_SESSION_KEY}"

[console]
admin_api_key = "{DemoServer.DEMO_ADMIN_KEY}"
user_email = "jane@example.com"
budget = 3000

[console.workspace_budgets]
Research = 800

[console.api_key_budgets]
prod-backend = 400
"""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def demo_environment(environ: Mapping[str, str], settings: Settings) -> dict[str, str]:
    """The environment for a process that is to see the running demo: its folder, its login, and none
    of the user's real keys (the demo must never send them anywhere)."""
    child = {key: value for key, value in environ.items() if key not in _REAL_SECRETS}
    child[ENV_HOME] = str(settings.paths.config_file.parent)
    if settings.claude_config_dir is not None:
        child[ENV_CLAUDE_CONFIG_DIR] = str(settings.claude_config_dir)
    return child


def _seed_history(database: Path, started_at: float, speed: float) -> None:
    # Seeded in virtual time: an hour of the simulated account, however fast the demo runs.
    steps = int(_SEED_SPAN / _SEED_STEP)
    with Store.open(database) as store:
        for step in range(steps, 0, -1):
            virtual_back = step * _SEED_STEP.total_seconds()
            body = rising_usage_body(_VIRTUAL_AT_START - virtual_back, started_at=started_at, speed=speed)
            store.add_windows(from_epoch(started_at - virtual_back / speed), parse_usage(body).windows)


@contextmanager
def start_demo(settings: Settings, speed: float = 1.0) -> Iterator[Settings]:
    """Settings that point every part of the program at in-process demo servers; cleaned up after."""
    with tempfile.TemporaryDirectory(prefix="claude-usage-tray-demo-") as scratch:
        root = Path(scratch)
        server = DemoServer("rising", speed=speed, keep_requests=DEMO_REQUESTS_KEPT).start()
        session: ClaudeCodeSession | None = None
        try:
            started_at = time.time()
            _write_demo_login(root / "claude", started_at)
            # The names CLAUDE_USAGE_TRAY_HOME=root gives, so another process (the details window) can
            # be pointed at this demo with nothing but its environment (see demo_environment).
            database = root / "usage_history.db"
            _seed_history(database, started_at, speed)
            # A Claude Code session on the same simulated account: the icon moves between endpoint polls.
            session = ClaudeCodeSession(database, server.rising_body, speed=speed).start()
            _write_demo_config(root / "config.toml", server)
            yield replace(
                settings,
                paths=Paths(root / "config.toml", database, settings.paths.log_dir),
                api_base=server.base_url,
                token_url=server.token_url,
                claude_config_dir=root / "claude",
                token_refresh="off",
                # And the claude.ai session, with a pasted demo key: overage and prepaid credits.
                web=WebSettings(enabled=True, session_key=DemoServer.DEMO_SESSION_KEY),
                web_base=server.base_url,
                # Console mode too, on the same simulated servers: the demo shows both at once.
                console=ConsoleSettings(
                    admin_api_key=DemoServer.DEMO_ADMIN_KEY,
                    user_email="jane@example.com",
                    budget=Decimal(3000),
                    workspace_budgets={"Research": Decimal(800)},
                    # prod-backend spends some $450 a month: past 50 % by mid-month, on pace to pass it.
                    api_key_budgets={"prod-backend": Decimal(400)},
                    poll_seconds=max(1.0, min(settings.console.poll_seconds, 600 / speed)),
                ),
                # A loopback server needs no politeness; a fast poll lets a sped-up demo move visibly.
                code_poll_seconds=max(0.2, min(settings.code_poll_seconds, 300 / speed)),
            )
        finally:
            if session is not None:
                session.stop()  # before the folder with its database goes
            server.stop()
