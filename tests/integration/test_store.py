"""The SQLite store against real files: reopening, migration, legacy tables, retention, queries."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.core.models import Account, Backoff, CodeUsage, ExtraUsage, Snapshot, UsageWindow
from tray_app.store import SCHEMA_VERSION, BackoffScope, Store

from .store_helpers import NOW, RESET, plain, put_values, windows


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "usage_history.db") as opened:
        yield opened


# -- reopening ----------------------------------------------------------------------------------


def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    usage = CodeUsage(tuple(windows(33.0)), ExtraUsage(True, 5.0, 20.0, "USD", 25.0))
    with Store.open(path) as store:
        store.add_windows(NOW, windows(33.0))
        store.save_code_usage(NOW, usage)
        store.save_account(NOW, Account("a@example.com", "max", None))
        store.backoffs.set(BackoffScope.CODE, Backoff(NOW + timedelta(minutes=5), "429", 2))
    with Store.open(path) as store:
        assert store.snapshot_count() == 2
        assert store.latest_window_time() == NOW
        assert store.window_history("five_hour", NOW) == [Snapshot(NOW, 33.0, RESET)]
        assert store.last_code_usage() == (NOW, usage)
        assert store.account() == (NOW, Account("a@example.com", "max", None))
        assert store.backoffs.get(BackoffScope.CODE) == Backoff(NOW + timedelta(minutes=5), "429", 2)


def test_empty_store_answers_none(store: Store) -> None:
    assert store.latest_window_time() is None
    assert store.snapshot_count() == 0
    assert store.window_history("five_hour", NOW - timedelta(days=30)) == []
    assert store.last_code_usage() is None
    assert store.account() is None
    assert store.backoffs.get(BackoffScope.CODE) is None
    assert store.code_cache.last_attempt() is None


def test_newer_schema_is_used_without_migrating(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "usage_history.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with caplog.at_level(logging.WARNING, logger="tray_app.store"), Store.open(path) as store:
        store.add_windows(NOW, windows(5.0))
        assert store.snapshot_count() == 2
    assert plain(path, "PRAGMA user_version") == [(7,)]
    assert any("newer" in record.getMessage() for record in caplog.records)


# -- legacy terminal-monitor tables -------------------------------------------------------------


def _legacy_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE usage_snapshots (
            timestamp INTEGER PRIMARY KEY, credits_used INTEGER, utilization_percent REAL, resets_at TEXT);
        CREATE INDEX idx_timestamp ON usage_snapshots(timestamp DESC);
        CREATE TABLE console_usage_snapshots (
            timestamp INTEGER PRIMARY KEY, mtd_cost REAL, ytd_cost REAL, workspace_costs_json TEXT);
        """
    )
    t = int(NOW.timestamp())
    conn.executemany(
        "INSERT INTO usage_snapshots VALUES (?, ?, ?, ?)",
        [
            (t - 30 * 86400, 1, 1.0, ""),  # older than any retention: must survive prune
            (t - 3600, 100, 20.0, "2026-08-04T16:20:00.001100+00:00"),
            (t - 1800, 150, 25.5, ""),
            (t - 900, 160, None, ""),  # no utilization: skipped
            (t, 170, 99.0, "2026-08-04T16:20:00+00:00"),  # same second as one of our rows
        ],
    )
    conn.execute("INSERT INTO console_usage_snapshots VALUES (?, ?, ?, ?)", (t, 12.5, 80.0, "[]"))
    conn.commit()
    conn.close()


LEGACY_DUMP = (
    "SELECT 'u', timestamp, credits_used, utilization_percent, resets_at FROM usage_snapshots"
    " UNION ALL SELECT 'c', timestamp, mtd_cost, ytd_cost, workspace_costs_json FROM console_usage_snapshots"
    " ORDER BY 1, 2"
)


LEGACY_SCHEMA = (
    "SELECT sql FROM sqlite_master WHERE name IN ('usage_snapshots', 'console_usage_snapshots') ORDER BY name"
)


def test_legacy_file_is_migrated_and_its_rows_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    _legacy_file(path)
    before = plain(path, LEGACY_DUMP)
    legacy_schema = plain(path, LEGACY_SCHEMA)

    with Store.open(path, retention_days=7) as store:
        store.add_windows(NOW, windows(40.0))
        history = store.window_history("five_hour", NOW - timedelta(hours=2))
        assert store.prune(NOW + timedelta(days=1)) == 0
        assert store.snapshot_count() == 2  # legacy rows are not ours to count

    assert history == [
        Snapshot(NOW - timedelta(hours=1), 20.0, datetime(2026, 8, 4, 16, 20, 0, 1100, tzinfo=UTC)),
        Snapshot(NOW - timedelta(minutes=30), 25.5, None),
        Snapshot(NOW, 40.0, RESET),  # our row wins over the legacy row of the same second
    ]
    # Another program reading with plain sqlite3 finds its data and its tables exactly as it left them.
    assert plain(path, LEGACY_DUMP) == before
    assert plain(path, LEGACY_SCHEMA) == legacy_schema
    assert {"window_snapshots", "console_snapshots", "console_days"} <= {
        name for (name,) in plain(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert plain(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_legacy_rows_only_for_five_hour(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    _legacy_file(path)
    with Store.open(path) as store:
        assert store.window_history("seven_day", NOW - timedelta(days=60)) == []
        assert len(store.window_history("five_hour", NOW - timedelta(days=60))) == 4


def test_legacy_table_with_another_shape_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "usage_history.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE usage_snapshots (timestamp INTEGER PRIMARY KEY, something TEXT)")
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        store.add_windows(NOW, windows(3.0))
        assert store.window_history("five_hour", NOW) == [Snapshot(NOW, 3.0, RESET)]
    assert "usage_snapshots" in caplog.text


# -- retention ----------------------------------------------------------------------------------


def test_prune_deletes_only_old_rows_and_runs_at_most_hourly(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    _legacy_file(path)
    legacy_before = plain(path, LEGACY_DUMP)
    with Store.open(path, retention_days=7) as store:
        store.add_windows(NOW - timedelta(days=8), windows(1.0))
        store.add_windows(NOW - timedelta(days=6), windows(2.0))

        assert store.prune(NOW) == 2
        assert store.snapshot_count() == 2
        assert [s.utilization for s in store.window_history("seven_day", NOW - timedelta(days=30))] == [10.0]

        # Rows that became old within the hour wait for the next prune.
        store.add_windows(NOW - timedelta(days=9), windows(3.0))
        assert store.prune(NOW + timedelta(minutes=59)) == 0
        assert store.snapshot_count() == 4
        assert store.prune(NOW + timedelta(minutes=60)) == 2
        assert store.snapshot_count() == 2
    assert plain(path, LEGACY_DUMP) == legacy_before


def test_prune_runs_again_when_the_clock_went_back(store: Store) -> None:
    assert store.prune(NOW) == 0
    store.add_windows(NOW - timedelta(days=30), windows(1.0))
    assert store.prune(NOW - timedelta(days=1)) == 2


def test_prune_rate_limit_is_shared_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    with Store.open(path) as first:
        first.prune(NOW)
    with Store.open(path) as second:
        second.add_windows(NOW - timedelta(days=30), windows(1.0))
        assert second.prune(NOW + timedelta(minutes=10)) == 0


# -- last answers -------------------------------------------------------------------------------


def test_code_usage_round_trip_and_overwrite(store: Store) -> None:
    first = CodeUsage(tuple(windows(10.0)), None)
    second = CodeUsage(tuple(windows(20.0)), ExtraUsage(False, 0.0, None, "USD", None))
    store.save_code_usage(NOW, first)
    assert store.last_code_usage() == (NOW, first)
    store.save_code_usage(NOW + timedelta(minutes=5), second)
    assert store.last_code_usage() == (NOW + timedelta(minutes=5), second)


@pytest.mark.parametrize(
    "stored",
    ["{not json", "[]", '{"windows": 5}', '{"windows": [{"id": "five_hour"}]}', "null"],
)
def test_malformed_stored_code_usage_reads_as_none(
    store: Store, caplog: pytest.LogCaptureFixture, stored: str
) -> None:
    put_values(store.path, {"code_usage": stored})
    with caplog.at_level(logging.WARNING, logger="tray_app.store"):
        assert store.last_code_usage() is None
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    assert stored not in caplog.text  # values are never logged


def test_malformed_stored_account_reads_as_none(store: Store) -> None:
    put_values(store.path, {"account": '{"email": 42}'})
    assert store.account() is None


# -- sharing ------------------------------------------------------------------------------------


def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    with Store.open(path) as one, Store.open(path) as two:
        one.add_windows(NOW, windows(50.0))
        assert two.window_history("five_hour", NOW) == [Snapshot(NOW, 50.0, RESET)]

        two.backoffs.set(BackoffScope.WEB, Backoff(NOW + timedelta(minutes=1), "429", 1))
        assert one.backoffs.get(BackoffScope.WEB) == Backoff(NOW + timedelta(minutes=1), "429", 1)

        usage = CodeUsage(tuple(windows(51.0)), None)
        one.save_code_usage(NOW, usage)
        assert two.last_code_usage() == (NOW, usage)
        two.backoffs.clear(BackoffScope.WEB)
        assert one.backoffs.get(BackoffScope.WEB) is None


def test_threads_share_one_store(store: Store) -> None:
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        try:
            for i in range(25):
                store.add_windows(NOW + timedelta(seconds=offset * 100 + i), windows(float(i)))
                store.window_history("five_hour", NOW)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert store.snapshot_count() == 4 * 25 * 2


# -- history queries ----------------------------------------------------------------------------


def test_window_history_is_ascending_and_filtered_by_since(store: Store) -> None:
    # Written out of order on purpose: the answer is ordered by time, not by insertion.
    for minutes, value in [(30, 3.0), (0, 1.0), (45, 4.0), (15, 2.0)]:
        store.add_windows(NOW + timedelta(minutes=minutes), windows(value, seven=value * 10))

    five = store.window_history("five_hour", NOW + timedelta(minutes=15))
    assert [(s.at, s.utilization) for s in five] == [
        (NOW + timedelta(minutes=15), 2.0),
        (NOW + timedelta(minutes=30), 3.0),
        (NOW + timedelta(minutes=45), 4.0),
    ]
    assert all(s.resets_at == RESET for s in five)
    seven = store.window_history("seven_day", NOW + timedelta(minutes=16))
    assert [s.utilization for s in seven] == [30.0, 40.0]
    assert all(s.resets_at is None for s in seven)
    assert store.window_history("seven_day_opus", NOW) == []
    assert store.latest_window_time() == NOW + timedelta(minutes=45)


def test_times_are_aware_utc_whole_seconds(store: Store) -> None:
    local = datetime(2026, 8, 4, 14, 0, 0, 750_000, tzinfo=UTC).astimezone()
    store.add_windows(local, [UsageWindow("five_hour", "5-hour", 9.0, RESET.replace(microsecond=500))])
    [snapshot] = store.window_history("five_hour", NOW)
    assert snapshot.at == datetime(2026, 8, 4, 14, 0, tzinfo=UTC)
    assert snapshot.at.utcoffset() == timedelta(0)
    assert snapshot.resets_at == RESET
