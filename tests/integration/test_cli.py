"""The real program as a subprocess: commands, exit codes, cross-process back-off, bad input."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.demo import DemoServer
from tray_app.demo.grants import asks_for_grants
from tray_app.demo.server import RecordedRequest
from tray_app.monitors.code import CodeMonitor
from tray_app.sources.code_api import CodeApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import Store

from ..conftest import CliEnv, write_login

USAGE = "/api/oauth/usage"


def polls(server: DemoServer) -> list[RecordedRequest]:
    """The usage polls, without the hourly free-resets request (?cedar_ember=1) to the same path."""
    return [r for r in server.requests(USAGE) if not asks_for_grants(r.query)]


def test_version_and_help(cli: CliEnv) -> None:
    version = cli.run("--version")
    assert version.code == 0 and version.stdout.startswith("claude-usage-tray 0.")
    helped = cli.run("--help")
    assert helped.code == 0
    for line in (
        "0  ok",
        "2  usage or configuration error",
        "3  login needed",
        "4  network or server failure",
    ):
        assert line in helped.stdout


def test_status_prints_the_figures(cli: CliEnv, server: DemoServer) -> None:
    result = cli.run("status")
    assert result.code == 0, result.stderr
    assert "jane@example.com · Max 5x" in result.stdout
    assert "5-hour" in result.stdout and "10 %" in result.stdout and "Weekly · Fable" in result.stdout
    assert "Usage credits" in result.stdout and "€" in result.stdout


def test_status_json_is_the_documented_document(cli: CliEnv) -> None:
    doc = cli.run("status", "--json").json()
    assert doc["schema"] == 1 and doc["console"] is None
    assert doc["generated_at"].endswith("Z")
    code = doc["code"]
    assert code["status"] == "ok" and code["message"] is None
    assert code["account"] == {
        "email": "jane@example.com",
        "plan": "Max 5x",
        "organization": "jane@example.com's Organization",
    }
    five = code["windows"][0]
    assert set(five) == {
        "id",
        "label",
        "utilization",
        "resets_at",
        "blocked",
        "binding",
        "other",
        "rate_per_hour",
        "projected_at_reset",
        "limit_at",
        "source",
        "observed_at",
    }
    assert (five["id"], five["utilization"], five["rate_per_hour"]) == ("five_hour", 10.0, None)
    # The demo's answer marks the Fable week as the limit that binds now; nothing stops the user.
    flags = [(w["id"], w["blocked"], w["binding"], w["other"]) for w in code["windows"]]
    assert flags == [
        ("five_hour", False, False, False),
        ("seven_day", False, False, False),
        ("seven_day_fable", False, True, False),
    ]
    # Polled just now from the endpoint: the source and the time it was heard, as the document's time.
    assert (five["source"], five["observed_at"]) == ("anthropic", code["updated_at"])
    assert code["extra_usage"] == {
        "enabled": False,
        "used": 0.0,
        "limit": 40.0,
        "currency": "EUR",
        "utilization": 0.0,
    }
    # The demo's login has one free limit reset: counted, labelled, and without its id.
    grants = code["reset_grants"]
    assert (grants["eligible"], grants["available"], grants["total"]) == (True, 1, 1)
    assert set(grants["grants"][0]) == {
        "label",
        "resets_left",
        "resets_total",
        "starts_at",
        "ends_at",
        "usable_now",
        "clears",
    }


def test_offline_reads_only_the_database(cli: CliEnv, server: DemoServer) -> None:
    empty = cli.run("status", "--offline", "--json")
    assert empty.code == 0 and empty.json()["code"]["windows"] == []
    cli.run("status")
    sent = len(server.requests())
    stored = cli.run("status", "--offline", "--json")
    assert stored.code == 0 and [w["id"] for w in stored.json()["code"]["windows"]][0] == "five_hour"
    assert len(server.requests()) == sent


@pytest.mark.parametrize(
    ("scenario", "code", "status"),
    [
        ("unauthorized", 3, "login_needed"),
        ("scope", 3, "login_needed"),
        ("rate_limited", 4, "rate_limited"),
        ("server_error", 4, "error"),
        ("html", 4, "error"),
    ],
)
def test_exit_codes(cli: CliEnv, server: DemoServer, scenario: str, code: int, status: str) -> None:
    server.set_scenario(scenario)
    result = cli.run("status", "--json")
    assert result.code == code
    assert result.json()["code"]["status"] == status


def test_not_logged_in_is_exit_3(cli: CliEnv, tmp_path: Path) -> None:
    result = cli.run("status", CLAUDE_CONFIG_DIR=str(tmp_path / "empty"))
    assert result.code == 3
    assert "not logged in" in result.stdout and "run `claude auth login`" in result.stdout


def test_unreachable_server_is_exit_4(cli: CliEnv) -> None:
    with DemoServer() as gone:
        base = gone.base_url
    result = cli.run("status", CLAUDE_USAGE_TRAY_API_BASE=base)
    assert result.code == 4
    assert "offline: cannot reach" in result.stdout


def age_database(home: Path, seconds: int) -> None:
    """Pretend the last poll happened `seconds` earlier (as if time had passed)."""
    with sqlite3.connect(home / "usage_history.db") as db:
        db.execute("UPDATE kv SET updated_at = updated_at - ?", (seconds,))
        db.execute(
            "UPDATE kv SET value = CAST(CAST(value AS INTEGER) - ? AS TEXT) WHERE key = 'code.last_attempt'",
            (seconds,),
        )
        db.execute("UPDATE window_snapshots SET at = at - ?", (seconds,))


def test_back_off_is_shared_across_processes(cli: CliEnv, server: DemoServer) -> None:
    assert cli.run("status").code == 0
    age_database(cli.home, 60)
    server.set_scenario("rate_limited")
    first = cli.run("status", "--json")
    assert first.code == 4 and first.json()["code"]["status"] == "rate_limited"
    sent = len(server.requests(USAGE))
    server.set_scenario("full")
    second = cli.run("status", "--json")  # another process, inside the 300 s back-off
    assert len(server.requests(USAGE)) == sent
    code = second.json()["code"]
    assert second.code == 4 and code["status"] == "rate_limited"
    assert "showing figures from 1 min ago" in code["message"]
    assert code["windows"][0]["utilization"] == 10.0


def test_a_second_process_shares_a_fresh_answer(cli: CliEnv, server: DemoServer) -> None:
    assert cli.run("status").code == 0
    assert cli.run("status").code == 0
    assert len(polls(server)) == 1
    assert len(server.requests(USAGE)) == 2  # and the free resets, asked by the first one only


def test_user_agent_is_claude_code(cli: CliEnv, server: DemoServer) -> None:
    cli.run("status")
    assert polls(server)[-1].headers["user-agent"].startswith("claude-code/")
    # The free resets are listed only to the CLI's own agent string: that request alone sends it.
    grants = [r for r in server.requests(USAGE) if asks_for_grants(r.query)]
    assert [r.headers["user-agent"].startswith("claude-cli/") for r in grants] == [True]


def test_doctor_tells_where_things_are_without_the_token(cli: CliEnv, claude_dir: Path) -> None:
    result = cli.run("doctor")
    assert result.code == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"file {claude_dir / '.credentials.json'}" in out and "has user:profile" in out
    assert "jane@example.com · Max 5x" in out
    assert str(cli.home / "usage_history.db") in out
    assert "reachable (HTTP" in out and "off (read-only" in out
    assert "sk-ant-" not in out


def test_doctor_reports_an_expired_login(cli: CliEnv, claude_dir: Path) -> None:
    write_login(claude_dir, expires_in=-120)
    result = cli.run("doctor")
    assert result.code == 3 and "EXPIRED 2 min ago: run `claude auth login`" in result.stdout


def test_corrupt_database_is_moved_aside_and_the_program_goes_on(cli: CliEnv) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "usage_history.db").write_bytes(b"this is not a database" * 100)
    result = cli.run("status")
    assert result.code == 0
    assert len(list(cli.home.glob("usage_history.db.corrupt-*"))) == 1
    log = (cli.home / "logs" / "claude-usage-tray.log").read_text()
    assert "corrupt" in log.lower()


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("retention_days = 'week'", "retention_days must be a whole number from 1 to 3650 (got 'week')"),
        # Under the floor of 60 s (the old default of 30 s included): the usage endpoint throttles.
        ("code_poll_seconds = 30", "code_poll_seconds must be a whole number from 60 to 3600 (got 30)"),
        ("token_refresh = 'always'", 'token_refresh must be one of "off", "self"'),
        ("retention_days = [", "not valid TOML"),
        (
            "api_base = 'http://example.com'",
            "config.toml: api_base: 'http://example.com' is not an https URL",
        ),
    ],
)
def test_bad_config_is_one_clear_line_and_exit_2(cli: CliEnv, config: str, words: str) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text(config + "\n")
    result = cli.run("status")
    assert result.code == 2
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_plain_http_to_a_remote_host_is_refused(cli: CliEnv) -> None:
    result = cli.run("status", CLAUDE_USAGE_TRAY_API_BASE="http://api.example.com")
    assert (
        result.code == 2
        and "CLAUDE_USAGE_TRAY_API_BASE: 'http://api.example.com' is not an https URL" in result.stderr
    )


def test_unknown_config_keys_are_warned_about(cli: CliEnv) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text("retention_days = 3\ncolour = 'red'\n")
    result = cli.run("status")
    assert result.code == 0
    assert "unknown setting 'colour' ignored" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no owner/group/other file modes")
def test_files_are_owner_only(cli: CliEnv) -> None:
    cli.run("status")
    for path in (cli.home / "usage_history.db", cli.home / "logs" / "claude-usage-tray.log"):
        assert path.stat().st_mode & 0o077 == 0, path
    assert (cli.home / "logs").stat().st_mode & 0o077 == 0


def test_demo_needs_no_account(tmp_path: Path) -> None:
    env = CliEnv(
        tmp_path / "home", tmp_path / "no-claude", "https://api.anthropic.com", "https://platform.claude.com"
    )
    (tmp_path / "user-home").mkdir()
    result = env.run("--demo", "status")
    assert result.code == 0, result.stderr
    assert "Demo mode" in result.stdout and "projected" in result.stdout and "limit at" in result.stdout
    assert not (tmp_path / "home" / "usage_history.db").exists()  # the demo has its own database
    doc = env.run("status", "--demo", "--json").json()
    assert doc["code"]["windows"][0]["rate_per_hour"] == pytest.approx(22.0, abs=0.5)


def test_legacy_history_file_keeps_working(cli: CliEnv) -> None:
    cli.home.mkdir(parents=True)
    now = int(datetime.now(UTC).timestamp())
    with sqlite3.connect(cli.home / "usage_history.db") as db:
        db.execute(
            "CREATE TABLE usage_snapshots (timestamp INTEGER PRIMARY KEY, credits_used INTEGER, "
            "utilization_percent REAL, resets_at TEXT)"
        )
        db.execute(
            "CREATE TABLE console_usage_snapshots (timestamp INTEGER PRIMARY KEY, mtd_cost REAL, "
            "workspace_costs_json TEXT)"
        )
        db.execute(
            "INSERT INTO usage_snapshots VALUES (?, 0, 4.0, '2020-01-01T00:00:00+00:00')", (now - 600,)
        )
        db.execute("INSERT INTO console_usage_snapshots VALUES (?, 12.5, '[]')", (now - 600,))
    db.close()
    assert cli.run("status").code == 0
    with sqlite3.connect(cli.home / "usage_history.db") as db:
        assert db.execute("SELECT utilization_percent FROM usage_snapshots").fetchall() == [(4.0,)]
        assert db.execute("SELECT mtd_cost FROM console_usage_snapshots").fetchall() == [(12.5,)]
    db.close()


def test_monitor_in_this_process_and_cli_share_one_database(cli: CliEnv, server: DemoServer) -> None:
    # The tray (in-process here) and a `status --offline` from a terminal read the same figures.
    with Store.open(cli.home / "usage_history.db") as store:
        http = HttpClient(5)
        CodeMonitor(
            store,
            ClaudeCredentialStore(cli.claude_dir),
            CodeApi(http, server.base_url, "2.1.0"),
            clock=lambda: datetime.now(UTC) - timedelta(seconds=30),
        ).poll()
        http.close()
    doc = cli.run("status", "--offline", "--json").json()
    assert doc["code"]["status"] == "ok" and doc["code"]["windows"][0]["utilization"] == 10.0


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in `claude` is a #!/bin/sh script")
def test_user_agent_follows_the_installed_claude_code(
    cli: CliEnv, server: DemoServer, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text("#!/bin/sh\necho '2.1.221 (Claude Code)'\n")
    claude.chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"
    assert cli.run("status", PATH=path).code == 0
    assert polls(server)[-1].headers["user-agent"] == "claude-code/2.1.221"
    # Cached for a day: a later run does not ask `claude` again, even when it is gone.
    claude.unlink()
    age_database(cli.home, 60)
    assert cli.run("status", PATH=path).code == 0
    assert polls(server)[-1].headers["user-agent"] == "claude-code/2.1.221"


def test_a_bad_notification_setting_warns_and_keeps_running(cli: CliEnv) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text("[notifications]\nthresholds = [50, 150]\n")
    result = cli.run("status")
    assert result.code == 0
    assert "notifications.thresholds must be increasing percentages" in result.stderr
    assert "using the default" in result.stderr


ADMIN = DemoServer.DEMO_ADMIN_KEY


def test_both_modes_in_status(cli: CliEnv) -> None:
    doc = cli.run("status", "--json", ANTHROPIC_ADMIN_API_KEY=ADMIN).json()
    assert doc["code"]["status"] == "ok"
    console = doc["console"]
    assert console["status"] == "ok" and console["organization"] == "Demo Org"
    assert console["mtd_cost"] > 0 and console["currency"] == "USD"
    assert set(console) >= {
        "month",
        "projected_month_end_cost",
        "budget",
        "by_model",
        "workspaces",
        "my_email",
        "my_claude_code_cost",
    }
    assert console["my_email"] == "jane@example.com"  # from the Claude Code account
    # Issue 17: who spent, from the Analytics API, every key and actor, each list the month's total.
    assert console["source"] == "analytics" and console["source_note"] is None
    keys = {key["name"]: key for key in console["by_api_key"]}
    assert keys["prod-backend"]["id"] == "apikey_01DemoProdBackend6Lm2" and keys["prod-backend"]["cost"] > 0
    for spenders in (console["by_api_key"], console["by_actor"]):
        assert abs(sum(s["cost"] for s in spenders) - console["mtd_cost"]) < 0.01 * len(spenders)
    jane = next(a for a in console["by_actor"] if a["email"] == "jane@example.com")
    assert jane["type"] == "user" and console["my_api_cost"] == jane["cost"]
    text = cli.run("status", ANTHROPIC_ADMIN_API_KEY=ADMIN).stdout
    assert "5-hour" in text and "Console · Demo Org" in text and "This month: $" in text


def test_console_only_when_claude_code_is_not_logged_in(cli: CliEnv, tmp_path: Path) -> None:
    result = cli.run(
        "status", "--json", ANTHROPIC_ADMIN_API_KEY=ADMIN, CLAUDE_CONFIG_DIR=str(tmp_path / "none")
    )
    doc = result.json()
    assert result.code == 0 and doc["code"] is None and doc["console"]["status"] == "ok"
    assert doc["console"]["my_claude_code_cost"] is None  # no email known: set console.user_email
    doctor = cli.run("doctor", ANTHROPIC_ADMIN_API_KEY=ADMIN, CLAUDE_CONFIG_DIR=str(tmp_path / "none")).stdout
    assert "Console mode:  on, Admin API key from the environment variable ANTHROPIC_ADMIN_API_KEY" in doctor
    assert "Mode:          Console" in doctor
    assert ADMIN not in doctor and ADMIN not in result.stdout


def test_doctor_says_where_console_spend_comes_from_and_when_it_falls_back(
    cli: CliEnv, server: DemoServer
) -> None:
    doctor = cli.run("doctor", ANTHROPIC_ADMIN_API_KEY=ADMIN).stdout
    assert "Spend from:    the Analytics API (beta)" in doctor
    # A refusal seen by one process (`status`) is remembered in the database for the next (`doctor`).
    server.analytics.refusal = "forbidden"
    assert cli.run("status", ANTHROPIC_ADMIN_API_KEY=ADMIN).code == 0
    doctor = cli.run("doctor", ANTHROPIC_ADMIN_API_KEY=ADMIN).stdout
    line = next(line for line in doctor.splitlines() if line.startswith("Spend from:"))
    assert "the cost report: the Analytics API refused this key (HTTP 403, permission_error)" in line
    assert "asked again after" in line and ADMIN not in doctor


def test_a_key_that_is_not_an_admin_key_is_refused(cli: CliEnv) -> None:
    result = cli.run("status", ANTHROPIC_ADMIN_API_KEY="sk-ant-api03-regular-key-not-admin")
    assert result.code == 2
    assert "not an Admin API key (it must start with sk-ant-admin)" in result.stderr
    assert "regular-key" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no owner/group/other file modes")
def test_admin_key_from_the_credentials_file_with_a_permission_warning(cli: CliEnv) -> None:
    cli.home.mkdir(parents=True)
    path = cli.home / "credentials.json"
    path.write_text(json.dumps({"anthropicConsole": {"adminApiKey": ADMIN}}))
    path.chmod(0o644)
    doctor = cli.run("doctor").stdout
    assert f"Admin API key from the credentials file {path}" in doctor
    assert "others may read it (mode 0644): chmod 600 it" in doctor
    assert ADMIN not in doctor


def test_console_settings_and_budget(cli: CliEnv) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text(
        '[console]\nuser_email = "omar@example.com"\nbudget = 5000\n'
        "[console.workspace_budgets]\nResearch = 800\n"
    )
    console = cli.run("status", "--json", ANTHROPIC_ADMIN_API_KEY=ADMIN).json()["console"]
    assert console["budget"] == 5000.0 and console["my_email"] == "omar@example.com"
    research = next(w for w in console["workspaces"] if w["name"] == "Research")
    assert research["budget"] == 800.0


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("[console]\nbudget = -5\n", "console.budget must be a positive amount"),
        ("[console]\npoll_seconds = 5\n", "console.poll_seconds must be a whole number from 60 to 3600"),
        ("[console]\nuser_email = 42\n", "console.user_email must be an email address"),
        ("[console]\nbudgte = 5\n", "unknown setting console.budgte"),
    ],
)
def test_bad_console_settings(cli: CliEnv, config: str, words: str) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text(config)
    result = cli.run("status")
    assert result.code == 2 and words in result.stderr
