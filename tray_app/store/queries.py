"""The Store: history of usage windows, Console figures and last answers, over one shared connection."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from tray_app.core.codec import account_from_dict, account_to_dict, usage_from_dict, usage_to_dict
from tray_app.core.errors import ShapeError
from tray_app.core.models import FIVE_HOUR, Account, CodeUsage, Snapshot, UsageWindow
from tray_app.core.timeparse import from_epoch, parse_timestamp, to_epoch
from tray_app.store import files
from tray_app.store.buffer import upsert_kv
from tray_app.store.database import Database
from tray_app.store.history import RecentHistory, snapshots
from tray_app.store.limits import LimitLog
from tray_app.store.readings import Readings
from tray_app.store.schema import LEGACY_FIVE_HOUR, SCHEMA_VERSION
from tray_app.store.state import (
    AlertState,
    Backoffs,
    CodeCache,
    ConsoleCache,
    Refusals,
    Switches,
    WebCache,
)

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_CODE_USAGE_KEY = "code_usage"
_ACCOUNT_KEY = "account"
_LAST_PRUNE_KEY = "store.last_prune"
_PRUNE_INTERVAL_S = 3600


class Store:
    """One SQLite connection shared by the poller thread and the main thread, guarded by a lock.

    A file that cannot be written (locked by another program, read-only, disk full, deleted, or not
    openable at all) never stops the program: new figures wait in memory, reads include them, `problem`
    says what is wrong in one line, and they are written as soon as the file takes them again.
    The small shared values are reached through typed accessors: backoffs, refusals, alert_state,
    switches, code_cache, web_cache and console_cache; Claude Code's readings through readings; the
    limit hits in the history through limit_log.
    """

    def __init__(
        self,
        connection: sqlite3.Connection | None,
        path: Path,
        retention_days: int,
        problem: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        reading_only: bool = False,
    ) -> None:
        """reading_only: connection is a read-only fallback, swapped for a writable one when possible."""
        self._db = Database(connection, path, problem, monotonic, reading_only=reading_only)
        self.path = path
        self.retention_days = retention_days
        self.backoffs = Backoffs(self._db)
        self.refusals = Refusals(self._db)
        self.alert_state = AlertState(self._db)
        self.switches = Switches(self._db)
        self.code_cache = CodeCache(self._db)
        self.web_cache = WebCache(self._db)
        self.console_cache = ConsoleCache(self._db)
        self.readings = Readings(self._db)
        self.limit_log = LimitLog(self._db)
        self._recent = RecentHistory()

    @classmethod
    def open(cls, path: Path, retention_days: int = 7) -> Store:
        """Open (creating, migrating, or replacing a corrupt file as needed) the database at path.

        A file that cannot be opened gives a Store that keeps figures in memory and says why in `problem`.
        """
        try:
            connection = files.open_or_replace(path)
        except (sqlite3.Error, OSError) as exc:
            problem = files.describe(exc, path)
            # What is stored can usually still be shown, and the file is tried again now and then.
            reader = files.connect_for_reading(path)
            if reader is not None and not files.writable(path):
                problem = f"cannot save history to {path}: the file or its folder is read-only"
            logger.warning("%s; keeping new figures in memory", problem)
            return cls(reader, path, retention_days, problem=problem, reading_only=True)
        return cls(connection, path, retention_days)

    @classmethod
    def open_readonly(cls, path: Path, busy_timeout_ms: int = files.BUSY_TIMEOUT_MS) -> Store | None:
        """A fast read-only view for the statusline: no checks, no migration, nothing created.

        None when there is no database yet, or it has not been brought to this program's schema.
        busy_timeout_ms: how long a read waits for a file another program holds locked.
        """
        if not path.exists():
            return None
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            (version,) = connection.execute("PRAGMA user_version").fetchone()
        except sqlite3.Error:
            return None
        if version != SCHEMA_VERSION:
            connection.close()
            return None
        return cls(connection, path, retention_days=0)

    @property
    def problem(self) -> str | None:
        """Why history is not being saved right now (one line naming the file), None when all is well."""
        return self._db.problem

    def window_rows(self, since: datetime) -> list[tuple[datetime, str, str, float, datetime | None]]:
        """Every stored window row from since on, oldest first (time, id, label, utilization, reset)."""
        cutoff = to_epoch(since)
        with self._db.lock:
            rows = self._db.select(
                "SELECT at, window_id, label, utilization, resets_at FROM window_snapshots"
                " WHERE at >= ? ORDER BY at, window_id",
                (cutoff,),
            )
            waiting = [row[:5] for row in self._db.pending.windows if row[0] >= cutoff]
        if waiting:
            rows = sorted(rows + waiting, key=lambda row: (row[0], row[1]))
        return [
            (from_epoch(at), str(wid), str(label), float(util), None if reset is None else from_epoch(reset))
            for at, wid, label, util, reset in rows
        ]

    def console_rows(self, since: datetime) -> list[tuple[datetime, str, Decimal]]:
        """Our Console snapshots from since on, oldest first: (time, month, month-to-date cost)."""
        cutoff = to_epoch(since)
        with self._db.lock:
            rows = self._db.select(
                "SELECT at, month, mtd_cost FROM console_snapshots WHERE at >= ? ORDER BY at", (cutoff,)
            )
            rows += [
                (at, month, cost) for at, month, cost, _ in self._db.pending.console_snapshots if at >= cutoff
            ]
        rows.sort(key=lambda row: row[0])
        return [(from_epoch(at), str(month), Decimal(cost)) for at, month, cost in rows]

    def data_version(self) -> int:
        """Changes whenever another connection (another process) commits: cheap change detection."""
        with self._db.lock:
            found = self._db.select("PRAGMA data_version", ())
        return int(found[0][0]) if found else -1

    def close(self) -> None:
        """Save what still waits if the file takes it, then close; the Store must not be used afterwards."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- window history -------------------------------------------------------------------------

    def add_windows(self, at: datetime, windows: Sequence[UsageWindow]) -> None:
        """Record one row per window, all with the same time, in one transaction."""
        at_s = to_epoch(at)
        rows = [
            (
                at_s,
                w.id,
                w.label,
                w.utilization,
                None if w.resets_at is None else to_epoch(w.resets_at),
                int(w.locked),
            )
            for w in windows
        ]
        with self._db.lock:
            self._db.pending.windows.extend(rows)
            self._db.flush()

    def window_history(self, window_id: str, since: datetime) -> list[Snapshot]:
        """Snapshots of window_id at or after since, oldest first (five_hour includes legacy rows)."""
        cutoff = to_epoch(since)
        with self._db.lock:
            rows = self._db.select(
                "SELECT at, utilization, resets_at FROM window_snapshots"
                " WHERE window_id = ? AND at >= ? ORDER BY at, rowid",
                (window_id, cutoff),
            )
            waiting, legacy = self._beside_table(window_id, cutoff)
        return _with_legacy(snapshots(rows + waiting), legacy)

    def recent_window_histories(
        self, window_ids: Sequence[str], since: datetime
    ) -> dict[str, list[Snapshot]]:
        """window_history of each window, the same rows, with the file read only for what changed.

        For a poll, which asks for the same hours every few minutes: the rows read last time are kept in
        memory (see RecentHistory for when they are trusted), so only the rows written since are read.
        """
        cutoff = to_epoch(since)
        with self._db.lock:
            conn = self._db.connection
            kept = None
            if conn is not None:
                try:
                    kept = self._recent.read(conn, window_ids, cutoff)
                except sqlite3.Error:
                    self._recent.forget()  # window_history meets the error again, and says so
            if kept is None:
                return {window_id: self.window_history(window_id, since) for window_id in window_ids}
            beside = {window_id: self._beside_table(window_id, cutoff) for window_id in window_ids}
        return {
            window_id: _with_legacy(rows + snapshots(beside[window_id][0]), beside[window_id][1])
            for window_id, rows in kept.items()
        }

    def _beside_table(
        self, window_id: str, cutoff: int
    ) -> tuple[list[tuple[int, float, int | None]], list[Snapshot]]:
        """A window's rows waiting in memory, and the terminal monitor's (five_hour). Caller has the lock."""
        waiting = [
            (at, util, reset)
            for at, wid, _, util, reset, _ in self._db.pending.windows
            if wid == window_id and at >= cutoff
        ]
        return waiting, self._legacy_five_hour(cutoff) if window_id == FIVE_HOUR else []

    def latest_window_time(self) -> datetime | None:
        """The time of the newest of our window rows (legacy rows not counted), None when empty."""
        with self._db.lock:
            found = self._db.select("SELECT MAX(at) FROM window_snapshots", ())
            times = [row[0] for row in self._db.pending.windows]
        if found and found[0][0] is not None:
            times.append(found[0][0])
        return from_epoch(max(times)) if times else None

    def snapshot_count(self) -> int:
        """How many window rows we hold (legacy rows not counted), including rows waiting in memory."""
        with self._db.lock:
            found = self._db.select("SELECT COUNT(*) FROM window_snapshots", ())
            waiting = len(self._db.pending.windows)
        return (int(found[0][0]) if found else 0) + waiting

    def prune(self, now: datetime) -> int:
        """Delete our window rows older than the retention; at most once an hour. Returns rows deleted."""
        now_s = to_epoch(now)
        with self._db.lock:
            conn = self._db.connection
            if conn is None or self._db.pending:
                return 0  # the file is not taking writes: pruning can wait for it
            try:
                deleted = self._prune(conn, now_s)
            except sqlite3.Error as exc:
                self._db.failed(exc, "write")
                return 0
            if deleted:
                self._recent.forget()  # the only rows this connection ever takes out of the table
            return deleted

    def _prune(self, conn: sqlite3.Connection, now_s: int) -> int:
        with files.transaction(conn):
            row = conn.execute("SELECT value FROM kv WHERE key = ?", (_LAST_PRUNE_KEY,)).fetchone()
            last = _int_or_none(row[0]) if row else None
            # A clock set backwards (last in the future) must not block pruning for good.
            if last is not None and 0 <= now_s - last < _PRUNE_INTERVAL_S:
                return 0
            cutoff = now_s - self.retention_days * 86400
            cursor = conn.execute("DELETE FROM window_snapshots WHERE at < ?", (cutoff,))
            conn.execute("DELETE FROM console_snapshots WHERE at < ?", (cutoff,))
            # Cached report days are needed for the current month only; keep two months for the chart.
            oldest_day = (from_epoch(now_s) - timedelta(days=62)).date().isoformat()
            conn.execute("DELETE FROM console_days WHERE day < ?", (oldest_day,))
            upsert_kv(conn, _LAST_PRUNE_KEY, str(now_s), now_s)
            return cursor.rowcount

    # -- last answers ---------------------------------------------------------------------------

    def save_code_usage(self, fetched_at: datetime, usage: CodeUsage) -> None:
        """Remember the latest usage answer so a restart can show it before the first poll."""
        self._db.set_value(_CODE_USAGE_KEY, json.dumps(usage_to_dict(usage)), fetched_at)

    def last_code_usage(self) -> tuple[datetime, CodeUsage] | None:
        """The latest saved usage and when it was fetched; None when absent or unreadable."""
        return self._decoded(_CODE_USAGE_KEY, usage_from_dict)

    def save_account(self, fetched_at: datetime, account: Account) -> None:
        """Remember who is logged in."""
        self._db.set_value(_ACCOUNT_KEY, json.dumps(account_to_dict(account)), fetched_at)

    def account(self) -> tuple[datetime, Account] | None:
        """The saved account and when it was fetched; None when absent or unreadable."""
        return self._decoded(_ACCOUNT_KEY, account_from_dict)

    def _decoded(self, key: str, decode: Callable[[dict[str, Any]], _T]) -> tuple[datetime, _T] | None:
        row = self._db.value(key)
        if row is None:
            return None
        text, updated_at = row
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ShapeError("not a JSON object")
            return from_epoch(updated_at), decode(data)
        except (ValueError, ShapeError) as exc:
            # Written by another version or damaged; the next successful poll overwrites it.
            logger.warning("Ignoring unreadable stored value %r: %s", key, type(exc).__name__)
            return None

    # -- console mode ---------------------------------------------------------------------------

    def save_console_days(self, kind: str, days: Mapping[date, str], fetched_at: datetime) -> None:
        """Replace the cached rows (JSON text) of these days for one report kind."""
        at = to_epoch(fetched_at)
        with self._db.lock:
            for day, rows in days.items():
                self._db.pending.console_days[(kind, day.isoformat())] = (rows, at)
            self._db.flush()

    def console_fetched(self, kind: str, since: date) -> dict[date, datetime]:
        """When each cached day of a report kind from since on was fetched, without its rows."""
        first = since.isoformat()
        with self._db.lock:
            found = self._db.select(
                "SELECT day, fetched_at FROM console_days WHERE kind = ? AND day >= ?", (kind, first)
            )
            found += [
                (day, at)
                for (day_kind, day), (_rows, at) in self._db.pending.console_days.items()
                if day_kind == kind and day >= first
            ]
        return {date.fromisoformat(day): from_epoch(at) for day, at in found}

    def console_days(self, kind: str, since: date) -> dict[date, tuple[datetime, str]]:
        """Cached days of a report kind from since on: day -> (when fetched, rows as JSON text)."""
        first = since.isoformat()
        with self._db.lock:
            found = self._db.select(
                "SELECT day, fetched_at, rows FROM console_days WHERE kind = ? AND day >= ?", (kind, first)
            )
            found += [
                (day, at, rows)
                for (day_kind, day), (rows, at) in self._db.pending.console_days.items()
                if day_kind == kind and day >= first
            ]
        return {date.fromisoformat(day): (from_epoch(at), rows) for day, at, rows in found}

    def add_console_snapshot(
        self, at: datetime, month: str, mtd_cost: Decimal, workspaces: Mapping[str, Decimal]
    ) -> None:
        """One row per Console refresh; amounts stored as exact decimal strings."""
        costs = json.dumps({name: str(cost) for name, cost in workspaces.items()})
        with self._db.lock:
            self._db.pending.console_snapshots.append((to_epoch(at), month, str(mtd_cost), costs))
            self._db.flush()

    def console_snapshots(self, since: datetime) -> list[tuple[datetime, Decimal]]:
        """(time, month-to-date cost) from since on, oldest first, with the terminal monitor's rows."""
        cutoff = to_epoch(since)
        with self._db.lock:
            rows = self._db.select(
                "SELECT at, mtd_cost FROM console_snapshots WHERE at >= ? ORDER BY at", (cutoff,)
            )
            rows += [(at, cost) for at, _, cost, _ in self._db.pending.console_snapshots if at >= cutoff]
            legacy = self._legacy_console(cutoff)
        ours = [(from_epoch(at), Decimal(cost)) for at, cost in rows]
        seen = {to_epoch(at) for at, _ in ours}
        return sorted(ours + [row for row in legacy if to_epoch(row[0]) not in seen])

    # -- the terminal monitor's tables ----------------------------------------------------------

    def _legacy_console(self, cutoff: int) -> list[tuple[datetime, Decimal]]:
        # The terminal monitor's MTD rows (dollars as REAL); read only, never changed.
        conn = self._db.connection
        if conn is None:
            return []
        try:
            rows = conn.execute(
                "SELECT timestamp, mtd_cost FROM console_usage_snapshots"
                " WHERE timestamp >= ? AND mtd_cost IS NOT NULL",
                (cutoff,),
            ).fetchall()
        except sqlite3.Error:
            return []  # no such table (or another shape): nothing to read
        return [(from_epoch(int(at)), Decimal(str(cost))) for at, cost in rows if isinstance(at, int | float)]

    def _legacy_five_hour(self, cutoff: int) -> list[Snapshot]:
        """The terminal monitor's rows at or after cutoff; [] when its table is absent or unreadable."""
        exists = self._db.select(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LEGACY_FIVE_HOUR,)
        )
        conn = self._db.connection
        if not exists or conn is None:
            return []
        try:
            rows = conn.execute(
                "SELECT timestamp, utilization_percent, resets_at FROM usage_snapshots"
                " WHERE timestamp >= ? AND utilization_percent IS NOT NULL ORDER BY timestamp",
                (cutoff,),
            ).fetchall()
        except sqlite3.Error as exc:
            logger.warning("Cannot read the terminal monitor's usage_snapshots table: %s", exc)
            return []
        return [
            Snapshot(from_epoch(at), float(util), parse_timestamp(resets))
            for at, util, resets in rows
            if isinstance(at, int) and isinstance(util, int | float)
        ]


def _with_legacy(ours: list[Snapshot], legacy: list[Snapshot]) -> list[Snapshot]:
    """Our snapshots and the terminal monitor's of the seconds we have none of, by time."""
    if not legacy:
        return ours
    seen = {to_epoch(snapshot.at) for snapshot in ours}
    merged = ours + [snapshot for snapshot in legacy if to_epoch(snapshot.at) not in seen]
    merged.sort(key=lambda snapshot: snapshot.at)
    return merged


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
