"""No token ever reaches output, a log line, the database or an exception message."""

from __future__ import annotations

import shutil
import sqlite3
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tray_app.core.errors import UsageError
from tray_app.demo import SCENARIOS, DemoServer
from tray_app.sources.code_api import CodeApi, TokenEndpoint
from tray_app.sources.http import HttpClient

from ..conftest import CliEnv, write_login
from ..secret_scan import leaks_in_files, leaks_in_text


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


# -- the suite-wide scan itself ------------------------------------------------------------------


def test_the_suite_wide_scan_finds_a_planted_leak_and_spares_test_inputs(tmp_path: Path) -> None:
    # tests/conftest.py runs this scan over every file of the run; it must see a leak where one is.
    token = DemoServer.DEMO_ACCESS_TOKEN
    (tmp_path / "home" / "logs").mkdir(parents=True)
    (tmp_path / "home" / "logs" / "claude-usage-tray.log.1").write_text(f"oops {token}\n")
    with sqlite3.connect(tmp_path / "home" / "usage_history.db") as db:
        db.execute("CREATE TABLE kv (key TEXT, value TEXT)")
        db.execute("INSERT INTO kv VALUES ('x', ?)", (f"Bearer {DemoServer.DEMO_ADMIN_KEY}",))
    db.close()
    (tmp_path / "home" / "clean.log").write_text("sk-ant-[redacted] is all a log may hold\n")
    write_login(tmp_path / "claude")  # Claude Code's own file: a secret by design
    (tmp_path / "firefox").mkdir()
    (tmp_path / "firefox" / "cookies.sqlite").write_text(DemoServer.DEMO_SESSION_KEY)

    found = {path.relative_to(tmp_path).as_posix(): leaks for path, leaks in leaks_in_files(tmp_path)}
    shutil.rmtree(tmp_path / "home")  # planted for this test only: the run's own scan must not see them

    assert set(found) == {"home/logs/claude-usage-tray.log.1", "home/usage_history.db"}
    assert found["home/logs/claude-usage-tray.log.1"] == [token[:16] + "…"]
    assert leaks_in_text(f"failed with {DemoServer.DEMO_REFRESH_TOKEN}") == ["sk-ant-ort01-dem…"]
    assert leaks_in_text("sk-ant-[redacted], sk-ant-admin prefix") == []


# -- transport security --------------------------------------------------------------------------


@pytest.fixture
def untrusted_https(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server on loopback with a self-signed certificate nobody trusts; records requests."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_tls_verification_cannot_be_turned_off(cli: CliEnv, untrusted_https: tuple[str, list[str]]) -> None:
    base, seen = untrusted_https
    cli.home.mkdir(parents=True)
    # Every way a user or a guide might try: settings keys, and the environment of requests and Python.
    (cli.home / "config.toml").write_text("verify_tls = false\nverify = false\ninsecure = true\n")
    result = cli.run(
        "status",
        CLAUDE_USAGE_TRAY_API_BASE=base,
        REQUESTS_CA_BUNDLE="",
        CURL_CA_BUNDLE="",
        PYTHONHTTPSVERIFY="0",
    )
    assert result.code == 4  # offline: no usable answer
    assert "the TLS certificate of 127.0.0.1" in result.stdout + result.stderr
    for key in ("verify_tls", "verify", "insecure"):
        assert f"unknown setting {key!r} ignored" in result.stderr
    assert seen == []  # no request, and so no token, ever crossed the untrusted connection


@pytest.mark.parametrize(
    ("setting", "env_name"),
    [
        ("api_base", "CLAUDE_USAGE_TRAY_API_BASE"),
        ("token_url", "CLAUDE_USAGE_TRAY_TOKEN_URL"),
        ("web_base", "CLAUDE_USAGE_TRAY_WEB_BASE"),
    ],
)
def test_plain_http_is_refused_for_every_remote_base_url(cli: CliEnv, setting: str, env_name: str) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text(f'{setting} = "http://proxy.example.net:8080"\n')
    from_file = cli.run("status")
    assert from_file.code == 2
    assert f"{setting}: 'http://proxy.example.net:8080' is not an https URL" in from_file.stderr
    (cli.home / "config.toml").unlink()
    remote: dict[str, Any] = {env_name: "http://10.0.0.8"}
    from_env = cli.run("status", **remote)
    assert from_env.code == 2 and f"{env_name}: 'http://10.0.0.8' is not an https URL" in from_env.stderr
    # Loopback is how the demo and these tests run, in every spelling.
    for loopback in ("http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"):
        local: dict[str, Any] = {env_name: loopback}
        assert cli.run("status", **local).code != 2


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no owner/group/other file modes")
def test_everything_the_program_writes_is_owner_only(cli: CliEnv, tmp_path: Path) -> None:
    chart = tmp_path / "exports" / "chart.png"
    chart.parent.mkdir()
    assert cli.run("status").code == 0
    assert cli.run("history", "--chart", str(chart)).code == 0
    written = [*cli.home.rglob("*"), cli.home, chart]
    assert {"usage_history.db", "logs", "claude-usage-tray.log"} <= {p.name for p in written}
    for path in written:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is {oct(path.stat().st_mode & 0o777)}"
