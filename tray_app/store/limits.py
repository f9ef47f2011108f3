"""The rows of the window history that limit hits are found in (core.limit_hits), read cheaply.

A week of polls is tens of thousands of rows, nearly all of them below the limit and in the middle of a
period: they change no episode. SQLite hands over only the rows that can (at the limit or locked, the
one after such a row, and the first of each new reset time), so finding a week's hits reads a handful
of rows instead of converting every one in Python.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from tray_app.core.limit_hits import all_episodes
from tray_app.core.models import LimitHit, Snapshot
from tray_app.core.timeparse import from_epoch, to_epoch
from tray_app.store.database import Database

# The rows core.limit_hits.episodes can act on: a start (blocked), the first row after a blocked one
# (what ends an episode of a window without a reset time) and the first row of a new reset time (what
# ends one early). Leaving out the others changes no episode: within a period they are ignored.
_RELEVANT = """
SELECT at, window_id, label, utilization, resets_at, locked FROM (
    SELECT rowid, at, window_id, label, utilization, resets_at, {locked} AS locked,
        LAG(utilization >= 100 OR {locked} != 0) OVER w AS after_blocked,
        LAG(resets_at, 1, -1) OVER w AS previous_reset
    FROM window_snapshots WHERE at >= ?
    WINDOW w AS (PARTITION BY window_id ORDER BY at, rowid)
)
WHERE utilization >= 100 OR locked != 0 OR after_blocked OR resets_at IS NOT previous_reset
ORDER BY window_id, at, rowid
"""
Row = tuple[int, str, str, float, int | None, int]


class LimitLog:
    """Limit hits from the stored window history, through the Store's shared connection."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def hits(self, since: datetime, now: datetime) -> list[LimitHit]:
        """Every window's limit hits seen from since on, by start (one open while it lasts)."""
        rows = self._rows(to_epoch(since))
        histories: dict[str, list[Snapshot]] = {}
        labels: dict[str, str] = {}
        for at, window_id, label, utilization, reset, locked in rows:
            when = None if reset is None else from_epoch(reset)
            snapshot = Snapshot(from_epoch(at), float(utilization), when, bool(locked))
            histories.setdefault(window_id, []).append(snapshot)
            labels[window_id] = label  # the newest name a window had
        return all_episodes(histories, labels, now)

    def _rows(self, cutoff: int) -> list[Row]:
        with self._db.lock:
            rows: list[Row] = []
            conn = self._db.connection
            if conn is not None:
                rows = self._select(conn, cutoff)
            waiting = [row for row in self._db.pending.windows if row[0] >= cutoff]
        if waiting:
            # Rows kept in memory while the file was busy: few, and all of them count.
            rows = sorted(rows + waiting, key=lambda row: (row[1], row[0]))
        return rows

    def _select(self, conn: sqlite3.Connection, cutoff: int) -> list[Row]:
        try:
            return conn.execute(_RELEVANT.format(locked="locked"), (cutoff,)).fetchall()
        except sqlite3.OperationalError:
            pass  # a file this program may only read, of schema version 3 or older: nothing was locked
        try:
            return conn.execute(_RELEVANT.format(locked="0"), (cutoff,)).fetchall()
        except sqlite3.Error as exc:
            self._db.failed(exc, "read")
            return []
