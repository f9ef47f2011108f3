"""SQLite history of usage windows, last answers, shared backoffs and settings; the only sqlite3 user."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from tray_app.core.codec import account_from_dict, account_to_dict, usage_from_dict, usage_to_dict
from tray_app.core.errors import ShapeError
from tray_app.core.models import FIVE_HOUR, Account, Backoff, CodeUsage, Snapshot, UsageWindow
from tray_app.core.timeparse import from_epoch, parse_timestamp, to_epoch

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# Each entry moves the schema from version i to i + 1. Never edit a released entry: append a new one.
# IF NOT EXISTS because the file may be shared with the terminal monitor, which never sets user_version.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS window_snapshots (
            at INTEGER NOT NULL,
            window_id TEXT NOT NULL,
            label TEXT NOT NULL,
            utilization REAL NOT NULL,
            resets_at INTEGER
        )""",
        "CREATE INDEX IF NOT EXISTS window_snapshots_window_at ON window_snapshots (window_id, at)",
        """CREATE TABLE IF NOT EXISTS kv (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS backoff (
            scope TEXT PRIMARY KEY,
            until INTEGER NOT NULL,
            reason TEXT NOT NULL,
            strikes INTEGER NOT NULL
        )""",
    ),
    (
        # Console mode: the Admin API's rows of each UTC day, so past days are fetched once.
        """CREATE TABLE IF NOT EXISTS console_days (
            kind TEXT NOT NULL,
            day TEXT NOT NULL,
            rows TEXT NOT NULL,
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (kind, day)
        )""",
        # One row per Console refresh: month-to-date cost (a decimal string) and per-workspace costs.
        """CREATE TABLE IF NOT EXISTS console_snapshots (
            at INTEGER NOT NULL,
            month TEXT NOT NULL,
            mtd_cost TEXT NOT NULL,
            workspaces TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS console_snapshots_at ON console_snapshots (at)",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)

# The terminal monitor's 5-hour history; read, never written, altered or pruned (it may be running).
_LEGACY_FIVE_HOUR = "usage_snapshots"

_CODE_USAGE_KEY = "code_usage"
_ACCOUNT_KEY = "account"
_LAST_PRUNE_KEY = "store.last_prune"
_PRUNE_INTERVAL_S = 3600
_BUSY_TIMEOUT_MS = 5000
_SIDE_FILES = ("-wal", "-shm", "-journal")


# Rows kept in memory while the file cannot be written (a week of 30 s polls of three windows is
# about 60,000); beyond this the oldest go, so a long outage cannot eat the machine's memory.
MAX_PENDING_ROWS = 60_000
# After a write found the file locked, later attempts wait this long instead of the full busy
# timeout, so a database held by another program for hours does not stall every poll by seconds.
_SHORT_BUSY_TIMEOUT_MS = 250
# A file that could not be opened (or reopened) is tried again at most this often.
_REOPEN_INTERVAL_S = 60.0

_WindowRow = tuple[int, str, str, float, int | None]
_ConsoleRow = tuple[int, str, str, str]


@dataclass
class _Pending:
    """Writes not yet in the file: applied in order by the next flush, and merged into every read."""

    windows: list[_WindowRow] = field(default_factory=list)
    console_snapshots: list[_ConsoleRow] = field(default_factory=list)
    console_days: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    kv: dict[str, tuple[str, int]] = field(default_factory=dict)
    backoff: dict[str, tuple[int, str, int] | None] = field(default_factory=dict)  # None: cleared

    def __bool__(self) -> bool:
        return bool(self.windows or self.console_snapshots or self.console_days or self.kv or self.backoff)

    def rows(self) -> int:
        return len(self.windows) + len(self.console_snapshots)

    def trim(self) -> int:
        """Drop the oldest rows beyond MAX_PENDING_ROWS; returns how many went."""
        dropped = 0
        for rows in (self.windows, self.console_snapshots):
            excess = len(rows) - MAX_PENDING_ROWS
            if excess > 0:
                del rows[:excess]
                dropped += excess
        return dropped

    def write_to(self, conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO window_snapshots (at, window_id, label, utilization, resets_at)"
            " VALUES (?, ?, ?, ?, ?)",
            self.windows,
        )
        conn.executemany(
            "INSERT INTO console_snapshots (at, month, mtd_cost, workspaces) VALUES (?, ?, ?, ?)",
            self.console_snapshots,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO console_days (kind, day, rows, fetched_at) VALUES (?, ?, ?, ?)",
            [(kind, day, rows, at) for (kind, day), (rows, at) in self.console_days.items()],
        )
        for key, (value, at) in self.kv.items():
            _upsert_kv(conn, key, value, at)
        for scope, backoff in self.backoff.items():
            if backoff is None:
                conn.execute("DELETE FROM backoff WHERE scope = ?", (scope,))
            else:
                conn.execute(
                    "INSERT INTO backoff (scope, until, reason, strikes) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (scope) DO UPDATE SET"
                    " until = excluded.until, reason = excluded.reason, strikes = excluded.strikes",
                    (scope, *backoff),
                )


class Store:
    """One SQLite connection shared by the poller thread and the main thread, guarded by a lock.

    A file that cannot be written (locked by another program, read-only, disk full, deleted, or not
    openable at all) never stops the program: new figures wait in memory, reads include them, `problem`
    says what is wrong in one line, and they are written as soon as the file takes them again.
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
        self._conn = connection
        # Re-entrant: a write flushes, and a flush may reattach the file, all under one hold.
        self._lock = threading.RLock()
        self.path = path
        self.retention_days = retention_days
        self._pending = _Pending()
        self._problem = problem
        self._monotonic = monotonic
        self._identity = _identity(path) if connection is not None else None
        self._next_reopen = monotonic() + _REOPEN_INTERVAL_S
        self._reading_only = reading_only and connection is not None

    @classmethod
    def open(cls, path: Path, retention_days: int = 7) -> Store:
        """Open (creating, migrating, or replacing a corrupt file as needed) the database at path.

        A file that cannot be opened gives a Store that keeps figures in memory and says why in `problem`.
        """
        try:
            connection = _open_or_replace(path)
        except (sqlite3.Error, OSError) as exc:
            problem = _describe(exc, path)
            # What is stored can usually still be shown, and the file is tried again now and then.
            reader = _connect_for_reading(path)
            if reader is not None and not _writable(path):
                problem = f"cannot save history to {path}: the file or its folder is read-only"
            logger.warning("%s; keeping new figures in memory", problem)
            return cls(reader, path, retention_days, problem=problem, reading_only=True)
        return cls(connection, path, retention_days)

    @classmethod
    def open_readonly(cls, path: Path) -> Store | None:
        """A fast read-only view for the statusline: no checks, no migration, nothing created.

        None when there is no database yet, or it has not been brought to this program's schema.
        """
        if not path.exists():
            return None
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
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
        return self._problem

    def window_rows(self, since: datetime) -> list[tuple[datetime, str, str, float, datetime | None]]:
        """Every stored window row from since on, oldest first (time, id, label, utilization, reset)."""
        cutoff = to_epoch(since)
        with self._lock:
            rows = self._select(
                "SELECT at, window_id, label, utilization, resets_at FROM window_snapshots"
                " WHERE at >= ? ORDER BY at, window_id",
                (cutoff,),
            )
            waiting = [row for row in self._pending.windows if row[0] >= cutoff]
        if waiting:
            rows = sorted(rows + waiting, key=lambda row: (row[0], row[1]))
        return [
            (from_epoch(at), str(wid), str(label), float(util), None if reset is None else from_epoch(reset))
            for at, wid, label, util, reset in rows
        ]

    def console_rows(self, since: datetime) -> list[tuple[datetime, str, Decimal]]:
        """Our Console snapshots from since on, oldest first: (time, month, month-to-date cost)."""
        cutoff = to_epoch(since)
        with self._lock:
            rows = self._select(
                "SELECT at, month, mtd_cost FROM console_snapshots WHERE at >= ? ORDER BY at", (cutoff,)
            )
            rows += [
                (at, month, cost) for at, month, cost, _ in self._pending.console_snapshots if at >= cutoff
            ]
        rows.sort(key=lambda row: row[0])
        return [(from_epoch(at), str(month), Decimal(cost)) for at, month, cost in rows]

    def data_version(self) -> int:
        """Changes whenever another connection (another process) commits: cheap change detection."""
        with self._lock:
            found = self._select("PRAGMA data_version", ())
        return int(found[0][0]) if found else -1

    def close(self) -> None:
        """Save what still waits if the file takes it, then close; the Store must not be used afterwards."""
        with self._lock:
            self._flush()
            if self._pending:
                logger.warning(
                    "%d history rows could not be saved before closing: %s",
                    self._pending.rows(),
                    self._problem,
                )
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
                self._conn = None

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
            (at_s, w.id, w.label, w.utilization, None if w.resets_at is None else to_epoch(w.resets_at))
            for w in windows
        ]
        with self._lock:
            self._pending.windows.extend(rows)
            self._flush()

    def window_history(self, window_id: str, since: datetime) -> list[Snapshot]:
        """Snapshots of window_id at or after since, oldest first (five_hour includes legacy rows)."""
        cutoff = to_epoch(since)
        with self._lock:
            rows = self._select(
                "SELECT at, utilization, resets_at FROM window_snapshots"
                " WHERE window_id = ? AND at >= ? ORDER BY at",
                (window_id, cutoff),
            )
            rows += [
                (at, util, reset)
                for at, wid, _, util, reset in self._pending.windows
                if wid == window_id and at >= cutoff
            ]
            legacy = self._legacy_five_hour(cutoff) if window_id == FIVE_HOUR else []
        ours = [
            Snapshot(from_epoch(at), float(util), None if resets is None else from_epoch(resets))
            for at, util, resets in rows
        ]
        if not legacy:
            return ours
        seen = {to_epoch(snapshot.at) for snapshot in ours}
        merged = ours + [snapshot for snapshot in legacy if to_epoch(snapshot.at) not in seen]
        merged.sort(key=lambda snapshot: snapshot.at)
        return merged

    def latest_window_time(self) -> datetime | None:
        """The time of the newest of our window rows (legacy rows not counted), None when empty."""
        with self._lock:
            found = self._select("SELECT MAX(at) FROM window_snapshots", ())
            times = [row[0] for row in self._pending.windows]
        if found and found[0][0] is not None:
            times.append(found[0][0])
        return from_epoch(max(times)) if times else None

    def snapshot_count(self) -> int:
        """How many window rows we hold (legacy rows not counted), including rows waiting in memory."""
        with self._lock:
            found = self._select("SELECT COUNT(*) FROM window_snapshots", ())
            waiting = len(self._pending.windows)
        return (int(found[0][0]) if found else 0) + waiting

    def prune(self, now: datetime) -> int:
        """Delete our window rows older than the retention; at most once an hour. Returns rows deleted."""
        now_s = to_epoch(now)
        with self._lock:
            if self._conn is None or self._pending:
                return 0  # the file is not taking writes: pruning can wait for it
            try:
                return self._prune(self._conn, now_s)
            except sqlite3.Error as exc:
                self._failed(exc, "write")
                return 0

    def _prune(self, conn: sqlite3.Connection, now_s: int) -> int:
        with _transaction(conn):
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
            _upsert_kv(conn, _LAST_PRUNE_KEY, str(now_s), now_s)
            return cursor.rowcount

    # -- last answers ---------------------------------------------------------------------------

    def save_code_usage(self, fetched_at: datetime, usage: CodeUsage) -> None:
        """Remember the latest usage answer so a restart can show it before the first poll."""
        self.set_value(_CODE_USAGE_KEY, json.dumps(usage_to_dict(usage)), fetched_at)

    def last_code_usage(self) -> tuple[datetime, CodeUsage] | None:
        """The latest saved usage and when it was fetched; None when absent or unreadable."""
        return self._decoded(_CODE_USAGE_KEY, usage_from_dict)

    def save_account(self, fetched_at: datetime, account: Account) -> None:
        """Remember who is logged in."""
        self.set_value(_ACCOUNT_KEY, json.dumps(account_to_dict(account)), fetched_at)

    def account(self) -> tuple[datetime, Account] | None:
        """The saved account and when it was fetched; None when absent or unreadable."""
        return self._decoded(_ACCOUNT_KEY, account_from_dict)

    # -- console mode ---------------------------------------------------------------------------

    def save_console_days(self, kind: str, days: Mapping[date, str], fetched_at: datetime) -> None:
        """Replace the cached rows (JSON text) of these days for one report kind."""
        at = to_epoch(fetched_at)
        with self._lock:
            for day, rows in days.items():
                self._pending.console_days[(kind, day.isoformat())] = (rows, at)
            self._flush()

    def console_days(self, kind: str, since: date) -> dict[date, tuple[datetime, str]]:
        """Cached days of a report kind from since on: day -> (when fetched, rows as JSON text)."""
        first = since.isoformat()
        with self._lock:
            found = self._select(
                "SELECT day, fetched_at, rows FROM console_days WHERE kind = ? AND day >= ?", (kind, first)
            )
            found += [
                (day, at, rows)
                for (day_kind, day), (rows, at) in self._pending.console_days.items()
                if day_kind == kind and day >= first
            ]
        return {date.fromisoformat(day): (from_epoch(at), rows) for day, at, rows in found}

    def add_console_snapshot(
        self, at: datetime, month: str, mtd_cost: Decimal, workspaces: Mapping[str, Decimal]
    ) -> None:
        """One row per Console refresh; amounts stored as exact decimal strings."""
        costs = json.dumps({name: str(cost) for name, cost in workspaces.items()})
        with self._lock:
            self._pending.console_snapshots.append((to_epoch(at), month, str(mtd_cost), costs))
            self._flush()

    def console_snapshots(self, since: datetime) -> list[tuple[datetime, Decimal]]:
        """(time, month-to-date cost) from since on, oldest first, with the terminal monitor's rows."""
        cutoff = to_epoch(since)
        with self._lock:
            rows = self._select(
                "SELECT at, mtd_cost FROM console_snapshots WHERE at >= ? ORDER BY at", (cutoff,)
            )
            rows += [(at, cost) for at, _, cost, _ in self._pending.console_snapshots if at >= cutoff]
            legacy = self._legacy_console(cutoff)
        ours = [(from_epoch(at), Decimal(cost)) for at, cost in rows]
        seen = {to_epoch(at) for at, _ in ours}
        return sorted(ours + [row for row in legacy if to_epoch(row[0]) not in seen])

    def _legacy_console(self, cutoff: int) -> list[tuple[datetime, Decimal]]:
        # The terminal monitor's MTD rows (dollars as REAL); read only, never changed.
        if self._conn is None:
            return []
        try:
            rows = self._conn.execute(
                "SELECT timestamp, mtd_cost FROM console_usage_snapshots"
                " WHERE timestamp >= ? AND mtd_cost IS NOT NULL",
                (cutoff,),
            ).fetchall()
        except sqlite3.Error:
            return []  # no such table (or another shape): nothing to read
        return [(from_epoch(int(at)), Decimal(str(cost))) for at, cost in rows if isinstance(at, int | float)]

    # -- backoff --------------------------------------------------------------------------------

    def get_backoff(self, scope: str) -> Backoff | None:
        """The stored backoff of scope, even when it has expired (the caller compares with now)."""
        with self._lock:
            if scope in self._pending.backoff:
                row = self._pending.backoff[scope]  # not yet in the file; None: cleared
            else:
                found = self._select("SELECT until, reason, strikes FROM backoff WHERE scope = ?", (scope,))
                row = found[0] if found else None
        if row is None:
            return None
        until, reason, strikes = row
        return Backoff(until=from_epoch(until), reason=str(reason), strikes=int(strikes))

    def set_backoff(self, scope: str, backoff: Backoff) -> None:
        """Store (replace) the backoff of scope so every process sharing the file honours it."""
        with self._lock:
            self._pending.backoff[scope] = (to_epoch(backoff.until), backoff.reason, backoff.strikes)
            self._flush()

    def clear_backoff(self, scope: str) -> None:
        """Forget the backoff of scope (no error when there is none)."""
        with self._lock:
            self._pending.backoff[scope] = None
            self._flush()

    # -- generic key/value ----------------------------------------------------------------------

    def get_value(self, key: str) -> str | None:
        """The stored text of key, None when absent."""
        row = self._kv_row(key)
        return None if row is None else row[0]

    def set_value(self, key: str, value: str, now: datetime) -> None:
        """Store value under key, stamped with now."""
        with self._lock:
            self._pending.kv[key] = (value, to_epoch(now))
            self._flush()

    # -- internals ------------------------------------------------------------------------------

    def _select(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        """Rows of a query; [] (and `problem` set) when the file cannot be read. Caller holds the lock."""
        if self._conn is None:
            return []
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self._failed(exc, "read")
            return []

    def _flush(self) -> None:
        """Write everything waiting in one transaction, or keep it waiting. Caller holds the lock."""
        if not self._pending:
            return
        conn = self._writable_connection()
        if conn is None:
            self._drop_excess()
            return
        try:
            with _transaction(conn):
                self._pending.write_to(conn)
        except sqlite3.Error as exc:
            self._failed(exc, "write")
            self._drop_excess()
            return
        late = self._pending.rows()
        self._pending = _Pending()
        if self._problem is not None:
            logger.warning("History is being saved to %s again (%d rows written late)", self.path, late)
            self._problem = None
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")

    def _writable_connection(self) -> sqlite3.Connection | None:
        """The connection to the file now at path: reopened, rewritten or re-attached as needed."""
        if self._conn is None or self._reading_only:
            if self._monotonic() < self._next_reopen:
                return None
            self._next_reopen = self._monotonic() + _REOPEN_INTERVAL_S
            self._attach()
            return None if self._reading_only else self._conn
        identity = _identity(self.path)
        if identity == self._identity:
            return self._conn
        if identity is None:
            self._write_back_deleted()
        else:
            logger.warning(
                "The history database %s was replaced by another file; using the new one", self.path
            )
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
            self._attach()
        return self._conn

    def _attach(self) -> None:
        try:
            connection = _open_or_replace(self.path)
        except (sqlite3.Error, OSError) as exc:
            if not self._reading_only:
                self._conn = None
                self._set_problem(_describe(exc, self.path))
            return
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn, self._reading_only = connection, False
        self._identity = _identity(self.path)

    def _write_back_deleted(self) -> None:
        """The file was deleted under us: our open connection still holds it all, so copy it back."""
        assert self._conn is not None
        logger.warning("The history database %s was deleted while in use; writing it back", self.path)
        staging = self.path.with_name(self.path.name + ".restoring")
        try:
            _prepare_folder(self.path.parent)
            staging.unlink(missing_ok=True)
            _create_private_file(staging)
            copy = sqlite3.connect(str(staging))
            try:
                self._conn.backup(copy)
            finally:
                copy.close()
            # Closing the old connection removes its -wal/-shm by name: do it before the copy takes the name.
            self._conn.close()
            self._conn = None
            os.replace(staging, self.path)
        except (sqlite3.Error, OSError) as exc:
            self._set_problem(_describe(exc, self.path))
            if self._conn is not None:
                return  # still attached to the deleted file: try again on the next write
        self._attach()

    def _failed(self, exc: sqlite3.Error, action: str) -> None:
        if _is_corruption(exc) and self._conn is not None:
            # Damaged while running: keep the damaged file for a post-mortem and go on with a fresh one.
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
            try:
                _move_aside(self.path, datetime.now(UTC))
            except OSError as move_error:
                logger.warning("Cannot move the damaged database aside: %s", move_error.strerror)
            self._attach()
            self._set_problem(f"{self.path} was damaged; it was moved aside and a new history started")
            return
        if _is_busy(exc) and self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute(f"PRAGMA busy_timeout = {_SHORT_BUSY_TIMEOUT_MS}")
        verb = "save history to" if action == "write" else "read history from"
        self._set_problem(f"cannot {verb} {self.path}: {_reason(exc)}")

    def _set_problem(self, problem: str) -> None:
        if problem != self._problem:
            logger.warning("%s; new figures are kept in memory until the file takes them", problem)
        self._problem = problem

    def _drop_excess(self) -> None:
        dropped = self._pending.trim()
        if dropped:
            logger.warning("Dropped the %d oldest unsaved history rows (kept in memory too long)", dropped)

    def _kv_row(self, key: str) -> tuple[str, int] | None:
        with self._lock:
            if key in self._pending.kv:
                return self._pending.kv[key]
            found = self._select("SELECT value, updated_at FROM kv WHERE key = ?", (key,))
        return None if not found else (str(found[0][0]), int(found[0][1]))

    def _decoded(self, key: str, decode: Callable[[dict[str, Any]], _T]) -> tuple[datetime, _T] | None:
        row = self._kv_row(key)
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

    def _legacy_five_hour(self, cutoff: int) -> list[Snapshot]:
        """The terminal monitor's rows at or after cutoff; [] when its table is absent or unreadable."""
        exists = self._select(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_LEGACY_FIVE_HOUR,)
        )
        if not exists or self._conn is None:
            return []
        try:
            rows = self._conn.execute(
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


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    # IMMEDIATE takes the write lock up front, so a concurrent writer waits on busy_timeout
    # instead of failing mid-transaction with SQLITE_BUSY on lock upgrade.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def _open_or_replace(path: Path) -> sqlite3.Connection:
    _prepare_folder(path.parent)
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        if not _is_corruption(exc):
            raise
        _move_aside(path, datetime.now(UTC))
        # A second failure on a brand-new file is not corruption we can fix: let it raise.
        return _connect(path)


def _connect_for_reading(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to a file we cannot write, or None when it cannot be read either."""
    if not path.is_file():
        return None
    # immutable=1 is the last resort: a WAL file in a read-only folder cannot get its -shm otherwise.
    for options in ("mode=ro", "mode=ro&immutable=1"):
        try:
            connection = sqlite3.connect(f"file:{path}?{options}", uri=True, check_same_thread=False)
        except sqlite3.Error:
            continue
        try:
            connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            if version == SCHEMA_VERSION:
                return connection
        except sqlite3.Error:
            pass
        connection.close()
    return None


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


_REASONS = {
    sqlite3.SQLITE_BUSY: "it is locked by another program",
    sqlite3.SQLITE_LOCKED: "it is locked by another program",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_READONLY: "the file or its folder is read-only",
    sqlite3.SQLITE_PERM: "permission denied",
    sqlite3.SQLITE_CANTOPEN: "the file cannot be opened",
    sqlite3.SQLITE_IOERR: "input/output error",
    sqlite3.SQLITE_CORRUPT: "the file is damaged",
    sqlite3.SQLITE_NOTADB: "the file is not a database",
}


def _reason(exc: sqlite3.Error) -> str:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _REASONS:
        return _REASONS[code & 0xFF]
    return str(exc) or type(exc).__name__


def _describe(exc: sqlite3.Error | OSError, path: Path) -> str:
    if not isinstance(exc, OSError):
        return f"cannot open {path}: {_reason(exc)}"
    reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or type(exc).__name__
    # The folder, not the file, is often what cannot be made or entered: name what failed.
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return f"cannot open {path}: {reason}{where}"


def _connect(path: Path) -> sqlite3.Connection:
    """A configured, checked and migrated connection; sqlite3.DatabaseError when the file is bad."""
    _create_private_file(path)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so the sqlite3 module never opens
    # implicit transactions that would hold locks other processes wait for.
    connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        _enable_wal(connection, path)
        connection.execute("PRAGMA synchronous = NORMAL")
        _quick_check(connection)
        _migrate(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def _enable_wal(connection: sqlite3.Connection, path: Path) -> None:
    try:
        (mode,) = connection.execute("PRAGMA journal_mode = WAL").fetchone()
    except sqlite3.OperationalError as exc:
        # Switching needs a moment alone with the file; if the terminal monitor holds it, keep the
        # old journal mode this run rather than fail to start.
        logger.warning("Could not switch %s to WAL journal mode: %s", path, exc)
        return
    if str(mode).lower() != "wal":
        logger.warning("%s stays in journal mode %s instead of WAL", path, mode)


def _quick_check(connection: sqlite3.Connection) -> None:
    results = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
    if results != ["ok"]:
        raise sqlite3.DatabaseError(f"quick_check failed: {'; '.join(map(str, results[:3]))}")


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version == SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have migrated since.
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            logger.warning(
                "%s has schema version %d, newer than this program's %d; using it without migrating",
                path,
                version,
                SCHEMA_VERSION,
            )
        for index in range(version, SCHEMA_VERSION):
            for statement in _MIGRATIONS[index]:
                connection.execute(statement)
            logger.info("Migrated %s to schema version %d", path, index + 1)
        if version < SCHEMA_VERSION:
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _is_corruption(exc: sqlite3.Error) -> bool:
    """True for a file that is damaged or not a database; False for locked, busy, full, I/O errors."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    # Errors we raise ourselves (quick_check) carry no code and use the plain base class.
    return type(exc) is sqlite3.DatabaseError


def _prepare_folder(folder: Path) -> None:
    """Create folder private to the user, or tighten it to 0700 when it exists and is ours."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
        return
    _tighten(folder, 0o700)


def _create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 before sqlite does, so it is never world-readable."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _tighten(path, 0o600)
        return
    os.close(fd)


def _tighten(path: Path, mode: int) -> None:
    info = path.stat()
    owned = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    current = stat.S_IMODE(info.st_mode)
    if owned and current & ~mode:
        # Only take bits away: a file the user made read-only stays read-only.
        os.chmod(path, current & mode)


def _move_aside(path: Path, now: datetime) -> None:
    """Rename a corrupt database (and its side files) to <name>.corrupt-<UTC time>."""
    target = path.with_name(f"{path.name}.corrupt-{now.astimezone(UTC):%Y%m%dT%H%M%S}")
    suffix = 1
    while target.exists():  # two corruptions in one second: never overwrite the first
        target = path.with_name(f"{path.name}.corrupt-{now.astimezone(UTC):%Y%m%dT%H%M%S}.{suffix}")
        suffix += 1
    os.replace(path, target)
    for side in _SIDE_FILES:
        side_path = path.with_name(path.name + side)
        if side_path.exists():
            # Named after the moved file so sqlite can still open the pair for a post-mortem.
            os.replace(side_path, target.with_name(target.name + side))
    logger.warning("Database %s is corrupt; moved it to %s and started a fresh one", path, target)


def _upsert_kv(conn: sqlite3.Connection, key: str, value: str, at: int) -> None:
    conn.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, at),
    )


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
