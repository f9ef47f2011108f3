"""Window history rows as snapshots, and the recent ones kept in memory between polls."""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tray_app.core.models import Snapshot
from tray_app.core.timeparse import from_epoch

# Past this rowid SQLite picks new ones at random instead of one above the largest (it never gets
# there: 2^63 rows), and "the rows past the last one read" would no longer be the new rows.
_LAST_SEQUENTIAL_ROWID = 2**63 - 2
# The order of Store.window_history: by time, then in the order written (the index's own order).
_WINDOW_ROWS = (
    "SELECT rowid, at, utilization, resets_at FROM window_snapshots"
    " WHERE window_id = ? AND at >= ? ORDER BY at, rowid"
)
_COUNT_KEPT = "SELECT COUNT(*) FROM window_snapshots WHERE window_id = ? AND at >= ? AND rowid <= ?"
_ROWS_AFTER = "SELECT rowid, window_id, at, utilization, resets_at FROM window_snapshots WHERE rowid > ?"


def snapshots(rows: Iterable[tuple[int, float, int | None]]) -> list[Snapshot]:
    """Snapshots of (at, utilization, resets_at) rows.

    A window's reset time is the same over hundreds of rows (a whole period), so each distinct one is
    converted once (converting it for every row was a quarter of the CPU of a poll's history read).
    """
    rows = list(rows)
    resets = {reset: None if reset is None else from_epoch(reset) for reset in {row[2] for row in rows}}
    return [Snapshot(from_epoch(at), float(util), resets[reset]) for at, util, reset in rows]


@dataclass
class _Window:
    cutoff: int  # the rows at or after it, of our table only (not those waiting in memory, not legacy)
    rows: list[tuple[int, int, Snapshot]]  # (at, rowid, snapshot), in the order _WINDOW_ROWS reads


class RecentHistory:
    """Our table's rows of some windows from a cutoff on, kept between polls: the same rows a fresh
    read gives, while reading from the file only the rows added since the last call.

    Inserts, ours or another process's (a second `status`, a web fallback, Claude Code's status line
    every few seconds), get a rowid above every existing one, so they are exactly the rows past the
    largest rowid read. Deletes are prunes: after our own the Store calls forget(); another process's
    shows when SQLite's data_version says another connection committed, and then each kept window's
    rows are counted in the file (an index range, not a read of the rows): one fewer and the rows are
    read afresh. A connection that is another one (the file reopened or replaced) reads afresh too, and
    a cutoff earlier than the kept one reads that window afresh.
    The caller holds the Store's lock; sqlite3.Error passes through (then call forget()).
    """

    def __init__(self) -> None:
        self._conn: sqlite3.Connection | None = None
        self._version = 0
        self._last_rowid = 0
        self._windows: dict[str, _Window] = {}

    def forget(self) -> None:
        """Read everything afresh next time (after this connection deleted rows)."""
        self._conn = None
        self._windows = {}

    def read(
        self, conn: sqlite3.Connection, window_ids: Sequence[str], cutoff: int
    ) -> dict[str, list[Snapshot]] | None:
        """Each window's rows at or after cutoff, oldest first; None when another process wrote meanwhile."""
        version = _data_version(conn)
        afresh = conn is not self._conn or self._last_rowid > _LAST_SEQUENTIAL_ROWID
        if not afresh and version != self._version:
            afresh = not self._kept_rows_intact(conn)
        self._version = version
        if afresh:
            self._conn, self._windows = conn, {}
            (last,) = conn.execute("SELECT MAX(rowid) FROM window_snapshots").fetchone()
            self._last_rowid = last or 0
        else:
            self._add_rows_after_last(conn)
        windows = {}
        for window_id in window_ids:
            kept = self._windows.get(window_id)
            if kept is None or cutoff < kept.cutoff:
                kept = _Window(cutoff, _read_window(conn, window_id, cutoff))
            elif cutoff > kept.cutoff:
                kept.cutoff = cutoff
                del kept.rows[: bisect.bisect_left(kept.rows, cutoff, key=_time)]
            windows[window_id] = kept
        if _data_version(conn) != version:
            # Another process committed while these were read: they may mix before and after.
            self.forget()
            return None
        self._windows = windows
        return {window_id: [row[2] for row in kept.rows] for window_id, kept in windows.items()}

    def _kept_rows_intact(self, conn: sqlite3.Connection) -> bool:
        """Whether every kept row is still in the file, after another connection committed."""
        for window_id, kept in self._windows.items():
            (count,) = conn.execute(_COUNT_KEPT, (window_id, kept.cutoff, self._last_rowid)).fetchone()
            if count != len(kept.rows):
                return False
        return True

    def _add_rows_after_last(self, conn: sqlite3.Connection) -> None:
        added = conn.execute(_ROWS_AFTER, (self._last_rowid,)).fetchall()
        if not added:
            return
        self._last_rowid = max(row[0] for row in added)
        for window_id, kept in self._windows.items():
            new = [row for row in added if row[1] == window_id and row[2] >= kept.cutoff]
            if not new:
                continue
            converted = snapshots((at, util, reset) for _, _, at, util, reset in new)
            rows = sorted(
                ((row[2], row[0], snap) for row, snap in zip(new, converted, strict=True)),
                key=_time_and_rowid,
            )
            late = bool(kept.rows) and _time_and_rowid(rows[0]) < _time_and_rowid(kept.rows[-1])
            kept.rows += rows
            if late:
                # Written late (kept in memory while the file was locked), older than the newest kept:
                # sorted into place by (time, rowid) as the file orders them; those two never tie.
                kept.rows.sort(key=_time_and_rowid)


def _time(row: tuple[int, int, Snapshot]) -> int:
    return row[0]


def _time_and_rowid(row: tuple[int, int, Snapshot]) -> tuple[int, int]:
    return row[0], row[1]


def _read_window(conn: sqlite3.Connection, window_id: str, cutoff: int) -> list[tuple[int, int, Snapshot]]:
    rows = conn.execute(_WINDOW_ROWS, (window_id, cutoff)).fetchall()
    converted = snapshots((at, util, reset) for _, at, util, reset in rows)
    return [(row[1], row[0], snap) for row, snap in zip(rows, converted, strict=True)]


def _data_version(conn: sqlite3.Connection) -> int:
    (version,) = conn.execute("PRAGMA data_version").fetchone()
    return int(version)
