"""The SQLite store against real files: creation, migration, legacy tables, corruption, retention."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.core.models import Account, Backoff, CodeUsage, ExtraUsage, Snapshot, UsageWindow
from tray_app.store import SCHEMA_VERSION, Store, _move_aside

NOW = datetime(2026, 8, 4, 12, 0, tzinfo=UTC)
RESET = datetime(2026, 8, 4, 16, 20, tzinfo=UTC)


def _windows(five: float, seven: float = 10.0) -> list[UsageWindow]:
    return [
        UsageWindow("five_hour", "5-hour", five, RESET),
        UsageWindow("seven_day", "7-day", seven, None),
    ]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _plain(path: Path, sql: str) -> list[tuple[object, ...]]:
    """What any other program (the terminal monitor, sqlite3 CLI) sees in the file."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "usage_history.db") as opened:
        yield opened


@pytest.fixture
def open_umask() -> Iterator[None]:
    # With umask 0, anything not created with an explicit mode would come out world-readable.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# -- creation and reopening ---------------------------------------------------------------------


@pytest.mark.usefixtures("open_umask")
def test_fresh_database_is_private_wal_and_current(tmp_path: Path) -> None:
    folder = tmp_path / "claude-usage"
    path = folder / "usage_history.db"
    with Store.open(path) as store:
        store.add_windows(NOW, _windows(1.0))
        assert _mode(folder) == 0o700
        assert _mode(path) == 0o600
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and _mode(wal) == 0o600
    assert _plain(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] == [(2,)]
    assert _plain(path, "PRAGMA journal_mode") == [("wal",)]
    tables = {name for (name,) in _plain(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"window_snapshots", "kv", "backoff"} <= tables


def test_existing_folder_of_ours_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    Store.open(folder / "usage_history.db").close()
    assert _mode(folder) == 0o700


def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    usage = CodeUsage(tuple(_windows(33.0)), ExtraUsage(True, 5.0, 20.0, "USD", 25.0))
    with Store.open(path) as store:
        store.add_windows(NOW, _windows(33.0))
        store.save_code_usage(NOW, usage)
        store.save_account(NOW, Account("a@example.com", "max", None))
        store.set_backoff("usage", Backoff(NOW + timedelta(minutes=5), "429", 2))
    with Store.open(path) as store:
        assert store.snapshot_count() == 2
        assert store.latest_window_time() == NOW
        assert store.window_history("five_hour", NOW) == [Snapshot(NOW, 33.0, RESET)]
        assert store.last_code_usage() == (NOW, usage)
        assert store.account() == (NOW, Account("a@example.com", "max", None))
        assert store.get_backoff("usage") == Backoff(NOW + timedelta(minutes=5), "429", 2)


def test_empty_store_answers_none(store: Store) -> None:
    assert store.latest_window_time() is None
    assert store.snapshot_count() == 0
    assert store.window_history("five_hour", NOW - timedelta(days=30)) == []
    assert store.last_code_usage() is None
    assert store.account() is None
    assert store.get_backoff("usage") is None
    assert store.get_value("missing") is None


def test_newer_schema_is_used_without_migrating(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "usage_history.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with caplog.at_level(logging.WARNING, logger="tray_app.store"), Store.open(path) as store:
        store.add_windows(NOW, _windows(5.0))
        assert store.snapshot_count() == 2
    assert _plain(path, "PRAGMA user_version") == [(7,)]
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
    before = _plain(path, LEGACY_DUMP)
    legacy_schema = _plain(path, LEGACY_SCHEMA)

    with Store.open(path, retention_days=7) as store:
        store.add_windows(NOW, _windows(40.0))
        history = store.window_history("five_hour", NOW - timedelta(hours=2))
        assert store.prune(NOW + timedelta(days=1)) == 0
        assert store.snapshot_count() == 2  # legacy rows are not ours to count

    assert history == [
        Snapshot(NOW - timedelta(hours=1), 20.0, datetime(2026, 8, 4, 16, 20, 0, 1100, tzinfo=UTC)),
        Snapshot(NOW - timedelta(minutes=30), 25.5, None),
        Snapshot(NOW, 40.0, RESET),  # our row wins over the legacy row of the same second
    ]
    # Another program reading with plain sqlite3 finds its data and its tables exactly as it left them.
    assert _plain(path, LEGACY_DUMP) == before
    assert _plain(path, LEGACY_SCHEMA) == legacy_schema
    assert {"window_snapshots", "console_snapshots", "console_days"} <= {
        name for (name,) in _plain(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert _plain(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


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
        store.add_windows(NOW, _windows(3.0))
        assert store.window_history("five_hour", NOW) == [Snapshot(NOW, 3.0, RESET)]
    assert "usage_snapshots" in caplog.text


# -- corruption ---------------------------------------------------------------------------------

CORRUPT_NAME = re.compile(r"^usage_history\.db\.corrupt-(\d{8}T\d{6})$")


def _corrupt_names(folder: Path, before: datetime, after: datetime) -> list[str]:
    """The moved-aside file names, checked against the UTC clock around the open."""
    names = sorted(p.name for p in folder.iterdir() if CORRUPT_NAME.match(p.name))
    for name in names:
        match = CORRUPT_NAME.match(name)
        assert match is not None
        stamp = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        assert before.replace(microsecond=0) <= stamp <= after
    return names


def _truncated_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.executemany("INSERT INTO t VALUES (?)", [(os.urandom(500),) for _ in range(200)])
    conn.commit()
    conn.close()
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(8192))
    # A junk WAL beside it must not break the fresh database (sqlite itself discards it on close).
    path.with_name(path.name + "-wal").write_bytes(os.urandom(4096))


@pytest.mark.parametrize("damage", [_random_bytes, _truncated_db], ids=["random-bytes", "truncated"])
def test_corrupt_file_is_moved_aside_and_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: object
) -> None:
    path = tmp_path / "usage_history.db"
    assert callable(damage)
    damage(path)
    original = path.read_bytes()

    before = datetime.now(UTC)
    with caplog.at_level(logging.WARNING, logger="tray_app.store"), Store.open(path) as store:
        after = datetime.now(UTC)
        store.add_windows(NOW, _windows(12.0))
        assert store.window_history("five_hour", NOW) == [Snapshot(NOW, 12.0, RESET)]

    [moved] = _corrupt_names(tmp_path, before, after)
    assert (tmp_path / moved).read_bytes() == original
    assert _plain(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "tray_app.store"]
    assert len(warnings) == 1
    assert str(path) in warnings[0].getMessage() and moved in warnings[0].getMessage()


def test_side_files_move_with_the_corrupt_database(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # sqlite deletes a junk WAL when the last connection closes, so side files survive only while
    # another process holds the file open; exercise the renaming itself directly.
    path = tmp_path / "usage_history.db"
    for suffix, content in [("", b"db"), ("-wal", b"wal"), ("-shm", b"shm")]:
        path.with_name(path.name + suffix).write_bytes(content)
    when = datetime(2026, 8, 4, 9, 5, 7, tzinfo=UTC)
    with caplog.at_level(logging.WARNING, logger="tray_app.store"):
        _move_aside(path, when)
    moved = tmp_path / "usage_history.db.corrupt-20260804T090507"
    assert moved.read_bytes() == b"db"
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"wal"
    assert moved.with_name(moved.name + "-shm").read_bytes() == b"shm"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("usage_history.db")) == [
        moved.name,
        moved.name + "-shm",
        moved.name + "-wal",
    ]
    [record] = caplog.records
    assert str(path) in record.getMessage() and str(moved) in record.getMessage()

    # A second corruption in the same second never overwrites the first.
    path.write_bytes(b"db2")
    _move_aside(path, when)
    assert (tmp_path / "usage_history.db.corrupt-20260804T090507.1").read_bytes() == b"db2"
    assert moved.read_bytes() == b"db"


def test_healthy_database_is_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    Store.open(path).close()
    Store.open(path).close()
    assert sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name) == []


# -- retention ----------------------------------------------------------------------------------


def test_prune_deletes_only_old_rows_and_runs_at_most_hourly(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    _legacy_file(path)
    legacy_before = _plain(path, LEGACY_DUMP)
    with Store.open(path, retention_days=7) as store:
        store.add_windows(NOW - timedelta(days=8), _windows(1.0))
        store.add_windows(NOW - timedelta(days=6), _windows(2.0))

        assert store.prune(NOW) == 2
        assert store.snapshot_count() == 2
        assert [s.utilization for s in store.window_history("seven_day", NOW - timedelta(days=30))] == [10.0]

        # Rows that became old within the hour wait for the next prune.
        store.add_windows(NOW - timedelta(days=9), _windows(3.0))
        assert store.prune(NOW + timedelta(minutes=59)) == 0
        assert store.snapshot_count() == 4
        assert store.prune(NOW + timedelta(minutes=60)) == 2
        assert store.snapshot_count() == 2
    assert _plain(path, LEGACY_DUMP) == legacy_before


def test_prune_runs_again_when_the_clock_went_back(store: Store) -> None:
    assert store.prune(NOW) == 0
    store.add_windows(NOW - timedelta(days=30), _windows(1.0))
    assert store.prune(NOW - timedelta(days=1)) == 2


def test_prune_rate_limit_is_shared_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    with Store.open(path) as first:
        first.prune(NOW)
    with Store.open(path) as second:
        second.add_windows(NOW - timedelta(days=30), _windows(1.0))
        assert second.prune(NOW + timedelta(minutes=10)) == 0


# -- key/value, code usage, backoff -------------------------------------------------------------


def test_backoff_set_get_clear(store: Store) -> None:
    first = Backoff(until=NOW + timedelta(seconds=90), reason="rate limited", strikes=1)
    store.set_backoff("code_usage", first)
    assert store.get_backoff("code_usage") == first
    assert store.get_backoff("profile") is None

    second = Backoff(until=NOW + timedelta(minutes=10), reason="rate limited again", strikes=2)
    store.set_backoff("code_usage", second)
    assert store.get_backoff("code_usage") == second

    # Expired backoffs are still returned; deciding whether one applies is the caller's job.
    expired = Backoff(until=NOW - timedelta(days=1), reason="old", strikes=3)
    store.set_backoff("profile", expired)
    assert store.get_backoff("profile") == expired

    store.clear_backoff("code_usage")
    store.clear_backoff("never-set")
    assert store.get_backoff("code_usage") is None
    assert store.get_backoff("profile") == expired


def test_code_usage_round_trip_and_overwrite(store: Store) -> None:
    first = CodeUsage(tuple(_windows(10.0)), None)
    second = CodeUsage(tuple(_windows(20.0)), ExtraUsage(False, 0.0, None, "USD", None))
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
    store.set_value("code_usage", stored, NOW)
    with caplog.at_level(logging.WARNING, logger="tray_app.store"):
        assert store.last_code_usage() is None
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    assert stored not in caplog.text  # values are never logged


def test_malformed_stored_account_reads_as_none(store: Store) -> None:
    store.set_value("account", '{"email": 42}', NOW)
    assert store.account() is None


def test_generic_values(store: Store) -> None:
    store.set_value("alerts.last", "five_hour:80", NOW)
    store.set_value("alerts.last", "five_hour:90", NOW + timedelta(seconds=1))
    assert store.get_value("alerts.last") == "five_hour:90"


# -- sharing ------------------------------------------------------------------------------------


def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    with Store.open(path) as one, Store.open(path) as two:
        one.add_windows(NOW, _windows(50.0))
        assert two.window_history("five_hour", NOW) == [Snapshot(NOW, 50.0, RESET)]

        two.set_backoff("usage", Backoff(NOW + timedelta(minutes=1), "429", 1))
        assert one.get_backoff("usage") == Backoff(NOW + timedelta(minutes=1), "429", 1)

        usage = CodeUsage(tuple(_windows(51.0)), None)
        one.save_code_usage(NOW, usage)
        assert two.last_code_usage() == (NOW, usage)
        two.clear_backoff("usage")
        assert one.get_backoff("usage") is None


def test_threads_share_one_store(store: Store) -> None:
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        try:
            for i in range(25):
                store.add_windows(NOW + timedelta(seconds=offset * 100 + i), _windows(float(i)))
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
        store.add_windows(NOW + timedelta(minutes=minutes), _windows(value, seven=value * 10))

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
