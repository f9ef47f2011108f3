"""Shared fixtures: demo servers on loopback, throw-away Claude Code logins, isolated app folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tray_app.demo import DemoServer

from .secret_scan import leaks_in_files, leaks_in_text, report

REPO = Path(__file__).resolve().parent.parent

# Root reads and writes any file; without these two capabilities it is bound by file modes like any
# user, so a command prefixed with this meets permissions as an ordinary user does. (Windows has no
# geteuid and no such modes.)
_DROP = "-dac_override,-dac_read_search"
PLAIN_USER: tuple[str, ...] = (
    ("setpriv", "--bounding-set", _DROP, "--inh-caps", _DROP)
    if sys.platform != "win32" and os.geteuid() == 0
    else ()
)

# Every secret the suite uses; test_secrets scans everything the program wrote for these.
ACCESS_TOKEN = DemoServer.DEMO_ACCESS_TOKEN
REFRESH_TOKEN = DemoServer.DEMO_REFRESH_TOKEN


def write_login(
    folder: Path,
    *,
    access: str = ACCESS_TOKEN,
    refresh: str | None = REFRESH_TOKEN,
    expires_in: float | None = 8 * 3600,
    scopes: Any = ("user:inference", "user:profile"),
    extra: dict[str, Any] | None = None,
) -> Path:
    """A Claude Code credentials file like the real one (mode 0600, with other top-level keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    oauth: dict[str, Any] = {"accessToken": access, "subscriptionType": "max"}
    if refresh is not None:
        oauth["refreshToken"] = refresh
    if expires_in is not None:
        oauth["expiresAt"] = int((time.time() + expires_in) * 1000)
    if scopes is not None:
        oauth["scopes"] = list(scopes) if isinstance(scopes, tuple) else scopes
    document = {
        "claudeAiOauth": oauth,
        "mcpOAuth": {"server": {"token": "unrelated"}},
        "organizationUuid": "org-1",
    }
    document.update(extra or {})
    path = folder / ".credentials.json"
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    return path


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer("full") as demo:
        yield demo


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "claude"
    write_login(folder)
    return folder


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class CliEnv:
    """Runs the real program as a subprocess against a demo server, in folders of its own."""

    home: Path
    claude_dir: Path
    api_base: str
    token_url: str

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "ANTHROPIC"))}
        env.update(
            HOME=str(self.home.parent / "user-home"),
            CLAUDE_USAGE_TRAY_HOME=str(self.home),
            CLAUDE_USAGE_TRAY_API_BASE=self.api_base,
            CLAUDE_USAGE_TRAY_TOKEN_URL=self.token_url,
            CLAUDE_CONFIG_DIR=str(self.claude_dir),
        )
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = 60, plain_user: bool = False, **extra_env: str) -> CliResult:
        """plain_user: bound by file modes even as root (see PLAIN_USER)."""
        done = subprocess.run(
            [*(PLAIN_USER if plain_user else ()), sys.executable, "-m", "tray_app.cli", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(**extra_env),
            cwd=REPO,
            check=False,
        )
        # Whatever a test checks, no run of the program may print a secret.
        leaked = leaks_in_text(done.stdout + done.stderr)
        assert not leaked, f"`{' '.join(args)}` printed secrets: {leaked}"
        return CliResult(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli(tmp_path: Path, server: DemoServer, claude_dir: Path) -> CliEnv:
    (tmp_path / "user-home").mkdir()
    return CliEnv(tmp_path / "app-home", claude_dir, server.base_url, server.token_url)


# -- the suite-wide secrets scan -------------------------------------------------------------------

_LEAKS: list[tuple[str, list[str]]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Captured output and logs of every test phase, and the text of every failure."""
    texts = [content for _, content in report.sections]
    if report.failed:
        texts.append(report.longreprtext)
    found = leaks_in_text("\n".join(texts))
    if found:
        _LEAKS.append((f"{report.nodeid} ({report.when})", found))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Then every file the program wrote during the run (logs, databases, exports, child logs)."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    base = factory.getbasetemp()
    leaks = _LEAKS + [(str(path.relative_to(base)), found) for path, found in leaks_in_files(base)]
    if leaks:
        sys.stderr.write(f"\nSECRETS LEAKED during the test run:\n{report(leaks)}\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
