"""Limit hits read from a real database file: written through the Store, and kept across the v3 -> v4
migration that added the `locked` column."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tray_app.core.limit_hits import all_episodes
from tray_app.core.models import CodeReport, Forecast, LimitHit, Snapshot, Status, UsageWindow, WindowReport
from tray_app.monitors.limit_hits import RecentLimitHits
from tray_app.store import SCHEMA_VERSION, Store
from tray_app.store.schema import MIGRATIONS

from .store_helpers import plain

T0 = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
FIVE_RESET = T0 + timedelta(hours=5)
NEXT_FIVE_RESET = FIVE_RESET + timedelta(hours=5)
FABLE_RESET = T0 + timedelta(days=3)


def five(percent: float, reset: datetime = FIVE_RESET) -> UsageWindow:
    return UsageWindow("five_hour", "5-hour", percent, reset)


def fable(percent: float, locked: bool = False) -> UsageWindow:
    return UsageWindow("seven_day_overage_included", "Fable weekly", percent, FABLE_RESET, locked=locked)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def fill(store: Store) -> None:
    """A morning: the 5-hour window hits its limit, the app quits and comes back, the period resets and
    it is hit again; Fable's weekly limit is locked below 100 % and stays so."""
    store.add_windows(minutes(0), [five(80), fable(60)])
    store.add_windows(minutes(30), [five(100), fable(61, locked=True)])
    store.add_windows(minutes(31), [five(97), fable(61, locked=True)])  # a stale lower figure
    # (quit at 31, back at 200)
    store.add_windows(minutes(200), [five(100), fable(62, locked=True)])
    store.add_windows(minutes(320), [five(4, NEXT_FIVE_RESET), fable(62, locked=True)])
    store.add_windows(minutes(500), [five(100, NEXT_FIVE_RESET), fable(62, locked=True)])


def test_hits_from_rows_written_through_the_store(tmp_path: Path) -> None:
    with Store.open(tmp_path / "usage_history.db") as store:
        fill(store)
        found = store.limit_log.hits(T0 - timedelta(days=1), minutes(510))
    assert found == [
        LimitHit("five_hour", "5-hour", minutes(30), FIVE_RESET),
        LimitHit("seven_day_overage_included", "Fable weekly", minutes(30), None),
        LimitHit("five_hour", "5-hour", minutes(500), None),
    ]
    assert plain(tmp_path / "usage_history.db", "SELECT SUM(locked) FROM window_snapshots") == [(5,)]


def test_the_reduced_read_finds_what_every_row_finds(tmp_path: Path) -> None:
    # Many rows between the hits: SQLite leaves them out, and the episodes are the same.
    with Store.open(tmp_path / "usage_history.db") as store:
        for minute in range(0, 600, 2):
            reset = FIVE_RESET if minute < 300 else NEXT_FIVE_RESET
            figure = 100.0 if 120 <= minute < 300 or minute >= 560 else 50.0 + minute / 100
            stale = 98.0 if minute == 150 else figure
            store.add_windows(minutes(minute), [five(stale, reset)])
        every = store.window_history("five_hour", T0)
        reduced = store.limit_log.hits(T0, minutes(599))
    assert reduced == all_episodes({"five_hour": every}, {"five_hour": "5-hour"}, minutes(599))
    assert [(hit.started_at, hit.ended_at) for hit in reduced] == [
        (minutes(120), FIVE_RESET),
        (minutes(560), None),
    ]


def _version_3_file(path: Path) -> None:
    """A database as the previous release left it: schema version 3, rows without `locked`."""
    conn = sqlite3.connect(path)
    try:
        for migration in MIGRATIONS[:3]:
            for statement in migration:
                conn.execute(statement)
        conn.executemany(
            "INSERT INTO window_snapshots (at, window_id, label, utilization, resets_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (int(minutes(0).timestamp()), "five_hour", "5-hour", 90.0, int(FIVE_RESET.timestamp())),
                (int(minutes(10).timestamp()), "five_hour", "5-hour", 100.0, int(FIVE_RESET.timestamp())),
            ],
        )
        conn.execute("PRAGMA user_version = 3")
        conn.commit()
    finally:
        conn.close()


def test_a_version_3_file_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    _version_3_file(path)
    with Store.open(path) as store:
        store.add_windows(minutes(20), [five(100)])
        history = store.window_history("five_hour", T0)
        found = store.limit_log.hits(T0, minutes(30))
    assert SCHEMA_VERSION == 4
    assert plain(path, "PRAGMA user_version") == [(4,)]
    assert history == [
        Snapshot(minutes(0), 90.0, FIVE_RESET),
        Snapshot(minutes(10), 100.0, FIVE_RESET),
        Snapshot(minutes(20), 100.0, FIVE_RESET),
    ]
    assert plain(path, "SELECT locked FROM window_snapshots ORDER BY at") == [(0,), (0,), (0,)]
    assert found == [LimitHit("five_hour", "5-hour", minutes(10), None)]


def test_a_version_3_file_that_can_only_be_read_still_gives_its_hits(tmp_path: Path) -> None:
    path = tmp_path / "usage_history.db"
    _version_3_file(path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    store = Store(conn, path, retention_days=7, reading_only=True)
    try:
        assert store.limit_log.hits(T0, minutes(30)) == [LimitHit("five_hour", "5-hour", minutes(10), None)]
        assert store.problem is None
    finally:
        store.close()


def test_a_week_of_polls_is_read_quickly(tmp_path: Path) -> None:
    # A week of one-minute polls of four windows (40,000 rows), two hits: what the tray reads for the
    # menu's weekly count, at most every few minutes.
    path = tmp_path / "usage_history.db"
    start = T0 - timedelta(days=7)
    with Store.open(path) as store:
        rows = []
        for minute in range(7 * 24 * 60):
            at = int((start + timedelta(minutes=minute)).timestamp())
            period = int((start + timedelta(hours=5 * (minute // 300 + 1))).timestamp())
            hit = 100.0 if minute % 3000 > 2900 else 40.0
            for window_id in ("five_hour", "seven_day", "seven_day_opus", "seven_day_overage_included"):
                rows.append((at, window_id, window_id, hit if window_id == "five_hour" else 30.0, period, 0))
        store._db.pending.windows.extend(rows)  # one transaction instead of 10,000
        with store._db.lock:
            store._db.flush()
        began = time.perf_counter()
        found = store.limit_log.hits(start, T0)
        took = time.perf_counter() - began
    assert len(found) == 3 and all(hit.window_id == "five_hour" for hit in found)
    assert took < 0.25, f"a week's limit hits took {took * 1000:.0f} ms"


def week_report(*windows: UsageWindow) -> CodeReport:
    items = tuple(WindowReport(window, Forecast(None, None, None)) for window in windows)
    return CodeReport(Status.OK, None, None, T0, items, None)


def test_the_menus_week_of_hits_follows_a_limit_at_once_and_the_rest_within_an_hour(tmp_path: Path) -> None:
    with Store.open(tmp_path / "usage_history.db") as store:
        recent = RecentLimitHits(store)
        store.add_windows(minutes(0), [five(80), fable(60)])
        assert recent.for_report(week_report(five(80), fable(60)), minutes(0)) == ()
        # The 5-hour window reaches its limit: the menu's hits show it on the same report.
        store.add_windows(minutes(10), [five(100), fable(60)])
        shown = recent.for_report(week_report(five(100), fable(60)), minutes(10))
        assert [hit.window_id for hit in shown] == ["five_hour"]
        # Fable's limit is reached and left again between two of our reports (rows another process
        # wrote): no report saw it blocked, so it is read within the hour, not on every report.
        store.add_windows(minutes(20), [five(100), fable(100)])
        store.add_windows(minutes(25), [five(100), fable(99)])
        assert len(recent.for_report(week_report(five(100), fable(99)), minutes(40))) == 1
        later = recent.for_report(week_report(five(100), fable(99)), minutes(71))
        assert [hit.window_id for hit in later] == ["five_hour", "seven_day_overage_included"]
