"""The database file kept safe: private modes, WAL, damaged files moved aside and replaced."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tray_app.core.models import Snapshot
from tray_app.store import SCHEMA_VERSION, Store
from tray_app.store.files import move_aside

from .store_helpers import NOW, RESET, plain, windows


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    # With umask 0, anything not created with an explicit mode would come out world-readable.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# -- private files and folders ------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="umask and POSIX modes 0600/0700 do not exist on Windows")
@pytest.mark.usefixtures("open_umask")
def test_fresh_database_is_private_wal_and_current(tmp_path: Path) -> None:
    folder = tmp_path / "claude-usage"
    path = folder / "usage_history.db"
    with Store.open(path) as store:
        store.add_windows(NOW, windows(1.0))
        assert _mode(folder) == 0o700
        assert _mode(path) == 0o600
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and _mode(wal) == 0o600
    assert plain(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] == [(4,)]
    assert plain(path, "PRAGMA journal_mode") == [("wal",)]
    tables = {name for (name,) in plain(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"window_snapshots", "kv", "backoff", "console_days", "readings"} <= tables


@pytest.mark.skipif(
    sys.platform == "win32", reason="POSIX folder modes (0755 -> 0700) do not exist on Windows"
)
def test_existing_folder_of_ours_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    Store.open(folder / "usage_history.db").close()
    assert _mode(folder) == 0o700


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
        store.add_windows(NOW, windows(12.0))
        assert store.window_history("five_hour", NOW) == [Snapshot(NOW, 12.0, RESET)]

    [moved] = _corrupt_names(tmp_path, before, after)
    assert (tmp_path / moved).read_bytes() == original
    assert plain(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("tray_app.store")
    ]
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
        move_aside(path, when)
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
    move_aside(path, when)
    assert (tmp_path / "usage_history.db.corrupt-20260804T090507.1").read_bytes() == b"db2"
    assert moved.read_bytes() == b"db"


def test_healthy_database_is_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    Store.open(path).close()
    Store.open(path).close()
    assert sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name) == []
