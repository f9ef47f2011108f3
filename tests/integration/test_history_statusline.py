"""`history` exports and the `statusline` command, against databases the real program filled."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tray_app.demo import DemoServer

from ..conftest import REPO, CliEnv

ADMIN = DemoServer.DEMO_ADMIN_KEY


def age(home: Path, seconds: int) -> None:
    with sqlite3.connect(home / "usage_history.db") as db:
        db.execute("UPDATE kv SET updated_at = updated_at - ?", (seconds,))
        db.execute("UPDATE window_snapshots SET at = at - ?", (seconds,))
        db.execute("UPDATE console_snapshots SET at = at - ?", (seconds,))
    db.close()


def test_csv_export_round_trips(cli: CliEnv, server: DemoServer) -> None:
    cli.run("status", ANTHROPIC_ADMIN_API_KEY=ADMIN)
    age(cli.home, 60)
    server.set_scenario("minimal")
    cli.run("status", ANTHROPIC_ADMIN_API_KEY=ADMIN)
    out = cli.run("history", "--since", "1h")
    assert out.code == 0
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    with sqlite3.connect(cli.home / "usage_history.db") as db:
        stored = db.execute(
            "SELECT window_id, utilization FROM window_snapshots ORDER BY at, window_id"
        ).fetchall()
        mtd = db.execute("SELECT mtd_cost FROM console_snapshots ORDER BY at").fetchall()
    db.close()
    code = [(r["window"], float(r["utilization"])) for r in rows if r["source"] == "code"]
    assert code == [(w, u) for w, u in stored] and len(code) == 6
    assert [r["mtd_cost"] for r in rows if r["source"] == "console"] == [m for (m,) in mtd]
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)


def test_json_export_and_since(cli: CliEnv) -> None:
    cli.run("status")
    age(cli.home, 3 * 3600)
    cli.run("status")
    recent = cli.run("history", "--since", "1h", "--format", "json").json()
    everything = cli.run("history", "--since", "1d", "--format", "json").json()
    assert len(recent["code"]) == 3 and len(everything["code"]) == 6
    assert recent["code"][0] == {
        "time": recent["code"][0]["time"],
        "window": "five_hour",
        "label": "5-hour",
        "utilization": 10.0,
        "resets_at": recent["code"][0]["resets_at"],
    }


def test_bad_since_is_one_clear_line(cli: CliEnv) -> None:
    result = cli.run("history", "--since", "yesterday")
    assert result.code == 2 and "'yesterday' is not a duration like 30m, 24h, 7d or 2w" in result.stderr


def statusline(
    cli: CliEnv, *args: str, stdin: str | None = None, timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    """The command as Claude Code runs it: a fresh process, the JSON on standard input."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tray_app.entry import main; sys.exit(main())",
            "statusline",
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli.env(**env),
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def test_statusline_fresh_and_with_console(cli: CliEnv, server: DemoServer) -> None:
    cli.run("status")
    assert statusline(cli).stdout == "5h 10% · 7d 29%\n"
    cli.run("status", ANTHROPIC_ADMIN_API_KEY=ADMIN)
    line = statusline(cli).stdout
    assert line.startswith("5h 10% · 7d 29% · $") and line.endswith(" MTD\n")


def test_statusline_says_how_old_stale_figures_are(cli: CliEnv) -> None:
    cli.run("status")
    age(cli.home, 12 * 60)
    assert statusline(cli).stdout == "5h 10% · 7d 29% (12 min ago)\n"


def test_statusline_sends_no_request(cli: CliEnv, server: DemoServer) -> None:
    cli.run("status")
    sent = len(server.requests())
    statusline(cli)
    assert len(server.requests()) == sent


def test_statusline_empty_and_console_only(cli: CliEnv, tmp_path: Path) -> None:
    assert statusline(cli).stdout == "Claude usage: no data yet\n"
    cli.run("status", ANTHROPIC_ADMIN_API_KEY=ADMIN, CLAUDE_CONFIG_DIR=str(tmp_path / "none"))
    line = statusline(cli).stdout
    assert line.startswith("$") and line.endswith(" MTD\n")


def test_statusline_uses_claude_codes_own_figure_when_nothing_is_stored(cli: CliEnv) -> None:
    five_hour = {"used_percentage": 37.4, "resets_at": int(time.time()) + 3600}
    payload = json.dumps({"model": {"id": "x"}, "rate_limits": {"five_hour": five_hour}})
    assert statusline(cli, stdin="not json").stdout == "Claude usage: no data yet\n"
    assert statusline(cli, stdin=payload).stdout == "5h 37%\n"
    # Recorded: a later render without figures (a malformed one) shows what Claude Code last told us.
    assert statusline(cli, stdin="not json").stdout == "5h 37%\n"


def test_statusline_template(cli: CliEnv) -> None:
    cli.run("status")
    assert statusline(cli, "--format", "{five_hour}|{weekly}|{mtd}").stdout == "10%|29%|\n"
    bad = statusline(cli, "--format", "{fivehour}")
    assert (
        bad.returncode == 2 and "unknown field {fivehour}" in bad.stderr and len(bad.stderr.splitlines()) == 1
    )


def test_statusline_through_the_main_cli_too(cli: CliEnv) -> None:
    cli.run("status")
    assert cli.run("statusline").stdout == "5h 10% · 7d 29%\n"
