"""The real `statusline` command fed Claude Code's status-line JSON (api-2026.md section 1), checked on the
SQLite file it writes: what is stored, what is not news, the quiet repeat, a locked file, `--then`, and what
`status` shows afterwards."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ..conftest import CliEnv
from .test_history_statusline import statusline

HOUR = 3600
# A hang (waiting on the lock instead of giving up after 50 ms) fails the test; speed is the benchmarks'.
HANG = 10.0


def payload(**limits: Any) -> str:
    """Claude Code's JSON with the given rate_limits entries (the rest as in the reference's example)."""
    return json.dumps(
        {
            "session_id": "3d1f6a2e-7b4c-4e0a-9f51-2c8d0e6b7a10",
            "version": "2.1.289",
            "model": {"id": "claude-sonnet-5", "display_name": "Sonnet 5"},
            "context_window": {"used_percentage": 21, "remaining_percentage": 79},
            "rate_limits": limits,
        }
    )


def entry(percent: Any, resets_at: Any) -> dict[str, Any]:
    return {"used_percentage": percent, "resets_at": resets_at}


def in_hours(hours: float) -> int:
    """Epoch seconds, whole, `hours` from now on the real clock (the subprocess reads the real clock)."""
    return int(time.time() + hours * HOUR)


def database(cli: CliEnv) -> Path:
    return cli.home / "usage_history.db"


@contextmanager
def opened(cli: CliEnv) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(database(cli), isolation_level=None)) as connection:
        yield connection


def readings(cli: CliEnv) -> dict[str, tuple[str, float, int | None, int]]:
    """window_id -> (label, utilization, resets_at, observed_at) of Claude Code's stored readings."""
    if not database(cli).exists():
        return {}
    with opened(cli) as db:
        rows = db.execute(
            "SELECT window_id, label, utilization, resets_at, observed_at FROM readings WHERE source = ?",
            ("claude_code",),
        ).fetchall()
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def history(cli: CliEnv) -> list[tuple[str, float, int | None]]:
    with opened(cli) as db:
        rows = db.execute("SELECT window_id, utilization, resets_at FROM window_snapshots ORDER BY rowid")
        return [(row[0], row[1], row[2]) for row in rows.fetchall()]


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


# -- shapes: stored or ignored as the reference says -----------------------------------------------


def test_the_three_windows_are_stored_as_claude_code_told_them(cli: CliEnv) -> None:
    five, week, spend = in_hours(3), in_hours(80), in_hours(400)
    spend_limit = {
        "used_percentage": 112,
        "resets_at": spend,
        "used_usd": 560.0,
        "limit_usd": 500.0,
        "period": "monthly",
    }
    before = int(time.time())
    line = ok(
        statusline(
            cli, stdin=payload(five_hour=entry(17, five), seven_day=entry(46, week), spend_limit=spend_limit)
        )
    )
    after = int(time.time())
    assert line == "5h 17% · 7d 46%\n"
    stored = readings(cli)
    assert {wid: row[:3] for wid, row in stored.items()} == {
        "five_hour": ("5-hour", 17.0, five),
        "seven_day": ("Weekly", 46.0, week),
        "spend_limit": ("Spend limit ($560.00 of $500.00)", 112.0, spend),  # overspent: kept above 100
    }
    assert all(before <= row[3] <= after for row in stored.values())
    # Changed figures join the history, where the forecasts find them.
    assert sorted(history(cli)) == [
        ("five_hour", 17.0, five),
        ("seven_day", 46.0, week),
        ("spend_limit", 112.0, spend),
    ]


def test_resets_at_as_iso_text_is_stored_as_the_same_moment(cli: CliEnv) -> None:
    five = in_hours(2)
    iso = datetime.fromtimestamp(five, UTC).isoformat().replace("+00:00", "Z")
    ok(statusline(cli, stdin=payload(five_hour=entry(30, iso))))
    assert readings(cli)["five_hour"][:3] == ("5-hour", 30.0, five)


def test_105_percent_of_the_5_hour_window_is_stored_as_100(cli: CliEnv) -> None:
    ok(statusline(cli, stdin=payload(five_hour=entry(105, in_hours(1)))))
    assert readings(cli)["five_hour"][1] == 100.0


def test_only_the_windows_present_are_stored(cli: CliEnv) -> None:
    ok(statusline(cli, stdin=payload(seven_day=entry(46, in_hours(80)))))
    assert list(readings(cli)) == ["seven_day"]  # the 5-hour figure is unknown, not 0


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "not json",
        "[1, 2, 3]",
        json.dumps({"model": {"id": "x"}}),  # before the session's first API response
        json.dumps({"rate_limits": None}),
        json.dumps({"rate_limits": "17%"}),
        payload(),
        payload(five_hour=entry("17", 1_900_000_000), seven_day=entry(True, 1_900_000_000)),
        payload(five_hour=entry(-3, 1_900_000_000), seven_day={"resets_at": 1_900_000_000}),
        payload(five_hour=entry(80, int(time.time()) - 60)),  # its reset has passed
        '{"rate_limits": {"five_hour": {"used_percentage": NaN, "resets_at": 1900000000}}}',
    ],
)
def test_no_readable_figure_stores_nothing_and_the_line_is_printed(cli: CliEnv, stdin: str) -> None:
    assert ok(statusline(cli, stdin=stdin)) == "Claude usage: no data yet\n"
    assert readings(cli) == {}


def test_a_malformed_window_beside_a_good_one_stores_the_good_one(cli: CliEnv) -> None:
    week = in_hours(80)
    ok(statusline(cli, stdin=payload(five_hour=entry("high", in_hours(1)), seven_day=entry(46, week))))
    assert {wid: row[1] for wid, row in readings(cli).items()} == {"seven_day": 46.0}


# -- only news is written ----------------------------------------------------------------------------


def test_a_lower_figure_for_the_same_period_does_not_replace_a_higher_one(cli: CliEnv) -> None:
    five = in_hours(3)
    ok(statusline(cli, stdin=payload(five_hour=entry(40, five))))
    stored, snapshots = readings(cli), history(cli)
    # Another session's older figure; its reset time wobbles by a second, as between two answers.
    line = ok(statusline(cli, stdin=payload(five_hour=entry(35, five + 1))))
    assert line == "5h 40%\n"
    assert readings(cli) == stored
    assert history(cli) == snapshots  # nor does it enter the history
    ok(statusline(cli, stdin=payload(five_hour=entry(41, five))))
    assert readings(cli)["five_hour"][1] == 41.0
    assert [u for _, u, _ in history(cli)] == [40.0, 41.0]


def test_a_new_reset_time_starts_afresh_with_a_lower_figure(cli: CliEnv) -> None:
    ok(statusline(cli, stdin=payload(five_hour=entry(97, in_hours(0.5)))))
    later = in_hours(5.5)
    assert ok(statusline(cli, stdin=payload(five_hour=entry(2, later)))) == "5h 2%\n"
    assert readings(cli)["five_hour"][1:3] == (2.0, later)
    assert [u for _, u, _ in history(cli)] == [97.0, 2.0]


def test_the_same_figures_again_within_5_s_write_nothing(cli: CliEnv) -> None:
    same = payload(five_hour=entry(17, in_hours(3)), seven_day=entry(46, in_hours(80)))
    ok(statusline(cli, stdin=same))
    stored, snapshots = readings(cli), history(cli)
    with opened(cli) as watcher:
        (version,) = watcher.execute("PRAGMA data_version").fetchone()
        ok(statusline(cli, stdin=same))
        ok(statusline(cli, stdin=same))
        heard = min(row[3] for row in stored.values())
        if time.time() - heard >= 4:  # observed_at keeps whole seconds: 4 s of a 5 s quiet used up
            pytest.skip("this machine took too long for two runs inside the 5 s quiet; nothing to judge")
        # No commit at all: the tray, which follows data_version, is not woken for nothing.
        assert watcher.execute("PRAGMA data_version").fetchone() == (version,)
    assert readings(cli) == stored and history(cli) == snapshots


def test_the_same_figures_after_5_s_refresh_their_time_only(cli: CliEnv) -> None:
    same = payload(five_hour=entry(17, in_hours(3)))
    ok(statusline(cli, stdin=same))
    with opened(cli) as db:
        db.execute("UPDATE readings SET observed_at = observed_at - 6")
    (aged,) = (row[3] for row in readings(cli).values())
    snapshots = history(cli)
    ok(statusline(cli, stdin=same))
    (label, percent, _, heard) = readings(cli)["five_hour"]
    assert (label, percent) == ("5-hour", 17.0) and heard >= aged + 6
    assert history(cli) == snapshots  # the figure did not change: no new history point


# -- a locked file -------------------------------------------------------------------------------------


@pytest.mark.parametrize("begin", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])
def test_a_locked_database_still_prints_the_line_and_stores_nothing(cli: CliEnv, begin: str) -> None:
    five = in_hours(3)
    ok(statusline(cli, stdin=payload(five_hour=entry(40, five))))
    with opened(cli) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # as the app makes it
    stored, snapshots = readings(cli), history(cli)
    with opened(cli) as holder:
        holder.execute(begin)  # another process (the tray, `status`) in the middle of a write
        holder.execute("UPDATE kv SET updated_at = updated_at")
        done = statusline(cli, stdin=payload(five_hour=entry(45, five)), timeout=HANG)
        holder.execute("ROLLBACK")
    # The figure Claude Code just passed is shown, though it could not be stored.
    assert ok(done) == "5h 45%\n"
    assert readings(cli) == stored and history(cli) == snapshots
    # Once the file is free again, the next render stores it.
    ok(statusline(cli, stdin=payload(five_hour=entry(45, five))))
    assert readings(cli)["five_hour"][1] == 45.0


def test_a_locked_database_with_then_still_runs_their_command(cli: CliEnv) -> None:
    ok(statusline(cli, stdin=payload(five_hour=entry(40, in_hours(3)))))
    stored = readings(cli)
    sent = payload(five_hour=entry(45, in_hours(3)))
    with opened(cli) as holder:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE kv SET updated_at = updated_at")
        done = statusline(cli, "--then", "cat", stdin=sent, timeout=HANG)
        holder.execute("ROLLBACK")
    assert ok(done) == sent
    assert readings(cli) == stored


# -- wrapping another status line ----------------------------------------------------------------------


def test_then_records_too_and_passes_the_input_through_unchanged(cli: CliEnv) -> None:
    five = in_hours(3)
    sent = payload(five_hour=entry(23, five), seven_day=entry(51, in_hours(80)))
    assert ok(statusline(cli, "--then", "cat", stdin=sent)) == sent
    assert {wid: row[1] for wid, row in readings(cli).items()} == {"five_hour": 23.0, "seven_day": 51.0}
    # Their exit status is theirs, and the figures are recorded before their command runs.
    failed = statusline(cli, "--then", "cat >/dev/null; exit 3", stdin=payload(five_hour=entry(24, five)))
    assert failed.returncode == 3 and failed.stdout == ""
    assert readings(cli)["five_hour"][1] == 24.0


# -- what status shows afterwards ----------------------------------------------------------------------


def window(document: dict[str, Any], window_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(w for w in document["code"]["windows"] if w["id"] == window_id)
    return found


def test_status_shows_claude_codes_figure_with_its_source_and_time(cli: CliEnv) -> None:
    polled = cli.run("status", "--json").json()
    five = window(polled, "five_hour")
    assert (five["utilization"], five["source"]) == (10.0, "anthropic")
    reset = int(datetime.fromisoformat(five["resets_at"]).timestamp())
    ok(statusline(cli, stdin=payload(five_hour=entry(37, reset), seven_day=entry(20, reset + 2 * HOUR))))
    heard = readings(cli)["five_hour"][3]
    shown = cli.run("status", "--json").json()
    five = window(shown, "five_hour")
    assert (five["utilization"], five["source"]) == (37.0, "claude_code")
    assert five["observed_at"] == datetime.fromtimestamp(heard, UTC).isoformat().replace("+00:00", "Z")
    # The endpoint's weekly 29 % stands against Claude Code's lower 20 % for the same week.
    week = window(shown, "seven_day")
    assert (week["utilization"], week["source"]) == (29.0, "anthropic")
    text = cli.run("status").stdout
    assert "From Claude Code, " in text and "From Anthropic, " in text


def test_status_shows_a_window_only_claude_code_knows(cli: CliEnv) -> None:
    cli.run("status")
    spend = {"used_percentage": 112, "resets_at": in_hours(400), "used_usd": 560, "limit_usd": 500}
    ok(statusline(cli, stdin=payload(spend_limit=spend)))
    shown = window(cli.run("status", "--json").json(), "spend_limit")
    assert shown["label"] == "Spend limit ($560.00 of $500.00)"
    assert (shown["utilization"], shown["source"]) == (112.0, "claude_code")
    assert shown["observed_at"] is not None


def test_a_hand_written_reading_row_does_not_stop_the_line(cli: CliEnv) -> None:
    reset = in_hours(2)
    assert statusline(cli, stdin=payload(five_hour=entry(20, reset))).returncode == 0
    with opened(cli) as db:  # another program wrote text where numbers belong
        db.execute("UPDATE readings SET resets_at = 'soon', observed_at = 'now'")
    done = statusline(cli, stdin=payload(five_hour=entry(30, reset)), timeout=HANG)
    assert done.returncode == 0 and done.stdout.startswith("5h 30%"), done
    assert readings(cli)["five_hour"][1:3] == (30.0, reset)  # the broken row was written over
