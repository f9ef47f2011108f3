"""The poll's history kept in memory (Store.recent_window_histories) is exactly what reading the file gives.

Another Store on the same file stands for another process (a second `status`, a second tray, a web
fallback elsewhere): it writes rows older than ours, rows of the same second, and prunes with its own
clock. Our Store prunes too, writes with a clock set back, keeps rows in memory while the file is locked,
and moves to another connection. After every step the kept history must equal a fresh read by the same
Store and a read by a third connection, and the forecasts built on them must be equal too.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.core.models import CodeUsage, Status, UsageWindow
from tray_app.core.report import build_code_report
from tray_app.core.timeparse import to_epoch
from tray_app.monitors.code import RECENT_HISTORY
from tray_app.store import Store, files

IDS = ("five_hour", "seven_day", "seven_day_opus")
START = datetime(2026, 8, 4, 9, 0, tzinfo=UTC)  # the 5-hour window resets at 10:00 and 15:00
STEP = timedelta(seconds=30)


def usage_at(at: datetime, wobble: float = 0.0) -> CodeUsage:
    """What the server would say at `at`; wobble makes another process's figures differ from ours."""
    midnight = datetime(at.year, at.month, at.day, tzinfo=UTC)
    five_reset = midnight + timedelta(hours=5 * (1 + (at - midnight) // timedelta(hours=5)))
    in_period = (at - five_reset + timedelta(hours=5)) / timedelta(hours=1)
    hours = (at - START) / timedelta(hours=1)
    windows = (
        UsageWindow("five_hour", "5-hour", round(min(100.0, 18 * in_period + wobble), 1), five_reset),
        UsageWindow(
            "seven_day", "7-day", round(30 + 0.5 * hours + wobble, 1), datetime(2026, 8, 7, tzinfo=UTC)
        ),
        UsageWindow("seven_day_opus", "Opus", round(10 + 0.2 * hours, 1), None),
    )
    return CodeUsage(windows, None)


def seed(path: Path, since: datetime, until: datetime) -> None:
    """30 s polls of another program, written straight into the file."""
    rows = []
    at = since
    while at < until:
        rows += [
            (
                to_epoch(at),
                w.id,
                w.label,
                w.utilization,
                None if w.resets_at is None else to_epoch(w.resets_at),
            )
            for w in usage_at(at).windows
        ]
        at += STEP
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO window_snapshots (at, window_id, label, utilization, resets_at)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()


def same_as_the_file(
    ours: Store, reader: Store | None, now: datetime, since: datetime, ids: Sequence[str] = IDS
) -> None:
    """reader: another connection to compare with, when the file holds all our rows (none wait in memory)."""
    kept = ours.recent_window_histories(ids, since)
    fresh = {window_id: ours.window_history(window_id, since) for window_id in ids}
    assert kept == fresh
    if reader is not None:
        assert kept == {window_id: reader.window_history(window_id, since) for window_id in ids}
    stored = (now, usage_at(now))
    assert build_code_report(Status.OK, None, None, stored, kept) == build_code_report(
        Status.OK, None, None, stored, fresh
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    database = tmp_path / "usage_history.db"
    Store.open(database).close()  # the tables
    seed(database, START - timedelta(hours=7), START)
    return database


def test_kept_history_matches_the_file_across_another_writer_and_prunes(path: Path) -> None:
    with (
        Store.open(path, retention_days=1) as ours,
        Store.open(path, retention_days=1) as other,
        Store.open(path) as reader,
    ):
        now = START
        for step in range(1, 241):
            now += STEP
            ours.add_windows(now, usage_at(now).windows)
            if step % 7 == 0:  # another process's poll that finished late: older than our newest row
                other.add_windows(now - timedelta(seconds=45), usage_at(now, wobble=0.3).windows)
            if step % 11 == 0:  # ... and one in the same second as ours
                other.add_windows(now, usage_at(now, wobble=0.7).windows)
            if step == 60:  # another process prunes by a clock a day ahead: rows of our six hours go
                assert other.prune(now + timedelta(days=1) - timedelta(hours=2)) > 0
            if step == 150:  # our own prune takes every row, the newest (largest rowid) too
                assert ours.prune(now + timedelta(days=2)) > 0
            if step == 170:  # a clock set back: our row is older than rows kept already
                ours.add_windows(now - timedelta(minutes=10), usage_at(now, wobble=0.5).windows)
            since = now - (timedelta(hours=7) if step == 100 else RECENT_HISTORY)  # once a longer span
            same_as_the_file(ours, reader, now, since)


def test_kept_history_matches_the_file_in_a_random_mix_of_writes(path: Path) -> None:
    rng = random.Random(20260804)
    with (
        Store.open(path, retention_days=1) as ours,
        Store.open(path, retention_days=1) as other,
        Store.open(path) as reader,
    ):
        now = START
        for _ in range(400):
            action = rng.choices(["poll", "other", "other prune", "our prune", "back"], [60, 25, 4, 4, 7])[0]
            if action == "poll":
                now += STEP
                ours.add_windows(now, usage_at(now).windows)
            elif action == "other":
                at = now + timedelta(seconds=rng.randint(-900, 60))
                other.add_windows(at, usage_at(at, wobble=rng.random()).windows)
            elif action == "back":
                at = now - timedelta(seconds=rng.randint(0, 900))
                ours.add_windows(at, usage_at(at, wobble=rng.random()).windows)
            else:
                pruning = other if action == "other prune" else ours
                pruning.prune(now + timedelta(days=1) - timedelta(minutes=rng.randint(0, 420)))
            ids = rng.sample(IDS, rng.randint(1, 3)) if rng.random() < 0.1 else IDS
            since = now - RECENT_HISTORY - timedelta(minutes=rng.choice([0, 0, 0, 0, 30]))
            same_as_the_file(ours, reader, now, since, ids)


def test_rows_waiting_in_memory_while_the_file_is_locked_are_read_the_same(path: Path) -> None:
    connection = files.open_or_replace(path)
    connection.execute("PRAGMA busy_timeout = 0")  # the lock below is found at once, not after 5 s
    with Store(connection, path, retention_days=7) as ours, Store.open(path) as reader:
        now = START
        for step in range(1, 13):
            now += STEP
            locker = None
            if step in (5, 6, 7):
                locker = sqlite3.connect(path, isolation_level=None)
                locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
            ours.add_windows(now, usage_at(now).windows)
            assert (ours.problem is not None) == (locker is not None)
            same_as_the_file(ours, None if locker else reader, now, now - RECENT_HISTORY)
            if locker is not None:
                locker.execute("COMMIT")
                locker.close()


def test_a_store_that_moves_to_another_connection_reads_the_file_afresh(path: Path) -> None:
    clock = [0.0]
    read_only = files.connect_for_reading(path)
    assert read_only is not None
    # The file could not be opened for writing at start: reads from a read-only connection, writes wait.
    with (
        Store(read_only, path, 7, problem="read-only", monotonic=lambda: clock[0], reading_only=True) as ours,
        Store.open(path) as reader,
    ):
        now = START
        for step in range(1, 9):
            now += STEP
            if step == 5:
                clock[0] = 3600.0  # time to try the file again: it takes the rows, on a new connection
            ours.add_windows(now, usage_at(now).windows)
            same_as_the_file(ours, reader if step >= 5 else None, now, now - RECENT_HISTORY)
        assert ours.problem is None


def test_the_terminal_monitors_rows_are_merged_as_in_a_fresh_read(path: Path) -> None:
    legacy = sqlite3.connect(path, isolation_level=None)
    legacy.execute(
        "CREATE TABLE usage_snapshots (timestamp INTEGER PRIMARY KEY, credits_used INTEGER,"
        " utilization_percent REAL, resets_at TEXT)"
    )
    with Store.open(path) as ours, Store.open(path) as reader:
        now = START
        for step in range(1, 21):
            now += STEP
            ours.add_windows(now, usage_at(now).windows)
            if step % 3 == 0:  # the terminal monitor, still running, writes its own table
                for at in (now - timedelta(seconds=15), now):
                    legacy.execute(
                        "INSERT OR REPLACE INTO usage_snapshots VALUES (?, 1, ?, ?)",
                        (
                            to_epoch(at),
                            50.0 + step,
                            f"{usage_at(now).windows[0].resets_at:%Y-%m-%dT%H:%M:%S}Z",
                        ),
                    )
            same_as_the_file(ours, reader, now, now - RECENT_HISTORY)
    legacy.close()
