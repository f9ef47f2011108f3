"""No token ever reaches output, a log line, the database or an exception message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tray_app.core.errors import UsageError
from tray_app.demo import SCENARIOS, DemoServer
from tray_app.sources.code_api import CodeApi, TokenEndpoint
from tray_app.sources.http import HttpClient

from ..conftest import CliEnv, write_login


def everything_written(home: Path) -> str:
    """Every log file and every row of every table of the database, as text."""
    parts = [path.read_text(errors="replace") for path in (home / "logs").glob("*.log*")]
    database = home / "usage_history.db"
    if database.exists():
        with sqlite3.connect(database) as db:
            parts.extend(db.iterdump())
        db.close()
    return "\n".join(parts)


def secrets_of(server: DemoServer) -> set[str]:
    # The demo login plus every token the server issued during the run (rotated pairs).
    return (
        {DemoServer.DEMO_ACCESS_TOKEN, DemoServer.DEMO_REFRESH_TOKEN, DemoServer.DEMO_ADMIN_KEY}
        | server.valid_access_tokens
        | server.valid_refresh_tokens
        | server.valid_session_keys
        | set(server.issued_session_keys)
    )


def test_cli_outputs_logs_and_database_hold_no_secret(
    cli: CliEnv, server: DemoServer, claude_dir: Path
) -> None:
    outputs: list[str] = []
    for scenario in SCENARIOS:
        if scenario == "slow":
            continue
        server.set_scenario(scenario)
        result = cli.run("-v", "status", "--json")
        outputs += [result.stdout, result.stderr]
        # Forget the shared answer, back-off and refused token so the next scenario asks the server.
        with sqlite3.connect(cli.home / "usage_history.db") as db:
            db.execute("DELETE FROM kv WHERE key IN ('code.last_attempt', 'code.refused_token')")
            db.execute("DELETE FROM backoff")
        db.close()
    # The opt-in refresh path too: an expired login refreshed and written back.
    server.set_scenario("full")
    write_login(claude_dir, expires_in=-60)
    (cli.home / "config.toml").write_text('token_refresh = "self"\n')
    refreshed = cli.run("-v", "status")
    assert refreshed.code == 0, refreshed.stderr
    # Console mode, working and refused, with the admin key from the environment.
    for admin_scenario in ("normal", "unauthorized", "rate_limited"):
        server.set_admin_scenario(admin_scenario)
        console = cli.run("-v", "status", "--json", ANTHROPIC_ADMIN_API_KEY=DemoServer.DEMO_ADMIN_KEY)
        outputs += [console.stdout, console.stderr]
    assert "Demo Org" in "".join(outputs)
    server.set_admin_scenario("normal")
    # The claude.ai session, working, renewed, challenged and expired, from a pasted key.
    (cli.home / "config.toml").write_text(
        f'token_refresh = "self"\n[web]\nenabled = true\nsession_key = "{DemoServer.DEMO_SESSION_KEY}"\n'
    )
    server.renew_session_every = 1
    for web_scenario in ("normal", "challenge_header", "logged_out"):
        server.set_web_scenario(web_scenario)
        with sqlite3.connect(cli.home / "usage_history.db") as db:
            db.execute("DELETE FROM backoff")
        db.close()
        web = cli.run("-v", "status", "--json", CLAUDE_USAGE_TRAY_WEB_BASE=server.base_url)
        outputs += [web.stdout, web.stderr]
    server.set_web_scenario("normal")
    doctor = cli.run("-v", "doctor", ANTHROPIC_ADMIN_API_KEY=DemoServer.DEMO_ADMIN_KEY)
    outputs += [refreshed.stdout, refreshed.stderr, doctor.stdout, doctor.stderr]
    written = "\n".join(outputs) + everything_written(cli.home)
    assert "jane@example.com" in written  # the scan really saw the program's output
    for secret in secrets_of(server):
        assert secret not in written


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "slow"])
def test_exception_messages_hold_no_secret(server: DemoServer, scenario: str) -> None:
    server.set_scenario(scenario)
    http = HttpClient(5)
    messages = []
    try:
        CodeApi(http, server.base_url, "2.1.0").usage(DemoServer.DEMO_ACCESS_TOKEN)
    except UsageError as exc:
        messages.append(f"{exc!s} {exc!r}")
    for refresh in (DemoServer.DEMO_REFRESH_TOKEN, "sk-ant-ort01-not-known"):
        try:
            TokenEndpoint(http, server.token_url, "test").refresh(refresh)
        except UsageError as exc:
            messages.append(f"{exc!s} {exc!r}")
    http.close()
    for secret in secrets_of(server) | {"sk-ant-ort01-not-known"}:
        assert all(secret not in message for message in messages)


def test_a_token_echoed_by_a_server_is_scrubbed(server: DemoServer) -> None:
    # A misbehaving proxy that reflects the Authorization header into its error message.
    from tray_app.demo import DemoResponse

    echoed = f'{{"error": {{"message": "bad header Bearer {DemoServer.DEMO_ACCESS_TOKEN}"}}}}'.encode()
    server.queue("/api/oauth/usage", DemoResponse(400, echoed))
    http = HttpClient(5)
    with pytest.raises(UsageError) as caught:
        CodeApi(http, server.base_url, "2.1.0").usage(DemoServer.DEMO_ACCESS_TOKEN)
    http.close()
    assert DemoServer.DEMO_ACCESS_TOKEN not in str(caught.value)
    assert "bad header" in str(caught.value)
