"""One SQLite connection that outlives a file that cannot be written: writes wait, reads include them."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tray_app.clock import utc_now
from tray_app.core.models import Backoff
from tray_app.core.timeparse import from_epoch, to_epoch
from tray_app.store import files
from tray_app.store.buffer import Pending

logger = logging.getLogger(__name__)

# After a write found the file locked, later attempts wait this long instead of the full busy
# timeout, so a database held by another program for hours does not stall every poll by seconds.
_SHORT_BUSY_TIMEOUT_MS = 250
# A file that could not be opened (or reopened) is tried again at most this often.
_REOPEN_INTERVAL_S = 60.0


class Database:
    """The connection shared by the poller thread and the main thread, guarded by `lock`.

    A file that cannot be written (locked by another program, read-only, disk full, deleted, or not
    openable at all) never stops the program: writes wait in `pending`, `problem` says what is wrong in
    one line, and they are written as soon as the file takes them again.
    """

    def __init__(
        self,
        connection: sqlite3.Connection | None,
        path: Path,
        problem: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        reading_only: bool = False,
    ) -> None:
        """reading_only: connection is a read-only fallback, swapped for a writable one when possible."""
        self._conn = connection
        # Re-entrant: a write flushes, and a flush may reattach the file, all under one hold.
        self.lock = threading.RLock()
        self.path = path
        self.pending = Pending()
        self._problem = problem
        self._monotonic = monotonic
        self._identity = files.identity(path) if connection is not None else None
        self._next_reopen = monotonic() + _REOPEN_INTERVAL_S
        self._reading_only = reading_only and connection is not None

    @property
    def problem(self) -> str | None:
        return self._problem

    @property
    def connection(self) -> sqlite3.Connection | None:
        """The open connection, for reads that handle their own errors (the legacy tables)."""
        return self._conn

    def select(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        """Rows of a query; [] (and `problem` set) when the file cannot be read. Caller holds the lock."""
        if self._conn is None:
            return []
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self.failed(exc, "read")
            return []

    def flush(self) -> None:
        """Write everything waiting in one transaction, or keep it waiting. Caller holds the lock."""
        if not self.pending:
            return
        conn = self._writable_connection()
        if conn is None:
            self._drop_excess()
            return
        try:
            with files.transaction(conn):
                self.pending.write_to(conn)
        except sqlite3.Error as exc:
            self.failed(exc, "write")
            self._drop_excess()
            return
        late = self.pending.rows()
        self.pending = Pending()
        if self._problem is not None:
            logger.warning("History is being saved to %s again (%d rows written late)", self.path, late)
            self._problem = None
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"PRAGMA busy_timeout = {files.BUSY_TIMEOUT_MS}")

    def close(self) -> None:
        """Save what still waits if the file takes it, then close."""
        with self.lock:
            self.flush()
            if self.pending:
                logger.warning(
                    "%d history rows could not be saved before closing: %s",
                    self.pending.rows(),
                    self._problem,
                )
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
                self._conn = None

    # -- the kv and backoff tables, for the typed accessors of state.py --------------------------

    def value(self, key: str) -> tuple[str, int] | None:
        """The stored text of key and when it was written (Unix seconds); None when absent."""
        with self.lock:
            if key in self.pending.kv:
                return self.pending.kv[key]
            found = self.select("SELECT value, updated_at FROM kv WHERE key = ?", (key,))
        return None if not found else (str(found[0][0]), int(found[0][1]))

    def set_value(self, key: str, value: str, now: datetime) -> None:
        with self.lock:
            self.pending.kv[key] = (value, to_epoch(now))
            self.flush()

    def backoff(self, scope: str) -> Backoff | None:
        with self.lock:
            if scope in self.pending.backoff:
                row = self.pending.backoff[scope]  # not yet in the file; None: cleared
            else:
                found = self.select("SELECT until, reason, strikes FROM backoff WHERE scope = ?", (scope,))
                row = found[0] if found else None
        if row is None:
            return None
        until, reason, strikes = row
        return Backoff(until=from_epoch(until), reason=str(reason), strikes=int(strikes))

    def set_backoff(self, scope: str, backoff: Backoff | None) -> None:
        """Store (replace) the backoff of scope; None forgets it."""
        row = None if backoff is None else (to_epoch(backoff.until), backoff.reason, backoff.strikes)
        with self.lock:
            self.pending.backoff[scope] = row
            self.flush()

    # -- keeping a writable file -----------------------------------------------------------------

    def _writable_connection(self) -> sqlite3.Connection | None:
        """The connection to the file now at path: reopened, rewritten or re-attached as needed."""
        if self._conn is None or self._reading_only:
            if self._monotonic() < self._next_reopen:
                return None
            self._next_reopen = self._monotonic() + _REOPEN_INTERVAL_S
            self._attach()
            return None if self._reading_only else self._conn
        identity = files.identity(self.path)
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
            connection = files.open_or_replace(self.path)
        except (sqlite3.Error, OSError) as exc:
            if not self._reading_only:
                self._conn = None
                self._set_problem(files.describe(exc, self.path))
            return
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn, self._reading_only = connection, False
        self._identity = files.identity(self.path)

    def _write_back_deleted(self) -> None:
        """The file was deleted under us: our open connection still holds it all, so copy it back."""
        assert self._conn is not None
        logger.warning("The history database %s was deleted while in use; writing it back", self.path)
        staging = self.path.with_name(self.path.name + ".restoring")
        try:
            files.prepare_folder(self.path.parent)
            staging.unlink(missing_ok=True)
            files.create_private_file(staging)
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
            self._set_problem(files.describe(exc, self.path))
            if self._conn is not None:
                return  # still attached to the deleted file: try again on the next write
        self._attach()

    def failed(self, exc: sqlite3.Error, action: str) -> None:
        """Record why a read or write failed; a file found damaged is moved aside and started afresh."""
        if files.is_corruption(exc) and self._conn is not None:
            # Damaged while running: keep the damaged file for a post-mortem and go on with a fresh one.
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
            try:
                files.move_aside(self.path, utc_now())
            except OSError as move_error:
                logger.warning("Cannot move the damaged database aside: %s", move_error.strerror)
            self._attach()
            self._set_problem(f"{self.path} was damaged; it was moved aside and a new history started")
            return
        if files.is_busy(exc) and self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute(f"PRAGMA busy_timeout = {_SHORT_BUSY_TIMEOUT_MS}")
        verb = "save history to" if action == "write" else "read history from"
        self._set_problem(f"cannot {verb} {self.path}: {files.reason(exc)}")

    def _set_problem(self, problem: str) -> None:
        if problem != self._problem:
            logger.warning("%s; new figures are kept in memory until the file takes them", problem)
        self._problem = problem

    def _drop_excess(self) -> None:
        dropped = self.pending.trim()
        if dropped:
            logger.warning("Dropped the %d oldest unsaved history rows (kept in memory too long)", dropped)
