"""Claude Code's readings in the shared database: the statusline's quick write, everyone else's read.

The write runs on every prompt Claude Code draws, so it is one short transaction on a connection of its
own that waits at most FEED_WAIT_MS for a busy file and then gives up (the line is printed either way).
Only news is written (core.readings.is_news); the same figures again refresh their time at most every
REPEAT_QUIET, and a changed figure is also added to the window history, where forecasts find it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from tray_app.core.models import Source, UsageWindow
from tray_app.core.readings import Reading, is_news, same_period
from tray_app.core.timeparse import from_epoch, to_epoch
from tray_app.store import files
from tray_app.store.database import Database
from tray_app.store.schema import SCHEMA_VERSION, migrate

FEED_WAIT_MS = 50
# Claude Code re-renders (and re-sends the same figures) up to every second while it works.
REPEAT_QUIET = timedelta(seconds=5)

_SELECT = "SELECT window_id, label, utilization, resets_at, observed_at FROM readings WHERE source = ?"
_UPSERT = (
    "INSERT INTO readings (source, window_id, label, utilization, resets_at, observed_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, window_id) DO UPDATE SET label = excluded.label,"
    " utilization = excluded.utilization, resets_at = excluded.resets_at, observed_at = excluded.observed_at"
)
_HISTORY = (
    "INSERT INTO window_snapshots (at, window_id, label, utilization, resets_at) VALUES (?, ?, ?, ?, ?)"
)


class Recorded(StrEnum):
    """What became of one statusline call's figures (logged at debug level, asserted by tests)."""

    STORED = "stored"
    UNCHANGED = "unchanged"  # nothing new, or heard again within REPEAT_QUIET
    NOTHING = "nothing"  # the JSON carried no readable rate_limits
    BUSY = "busy"  # another process held the file longer than FEED_WAIT_MS
    FAILED = "failed"  # the file could not be opened or written


def _readings(rows: Sequence[Any], source: Source) -> dict[str, Reading]:
    found = {}
    for window_id, label, utilization, resets_at, observed_at in rows:
        try:
            reset = None if resets_at is None else from_epoch(int(resets_at))
            window = UsageWindow(str(window_id), str(label), float(utilization), reset)
            found[str(window_id)] = Reading(window, from_epoch(int(observed_at)), source)
        except (TypeError, ValueError, OverflowError, OSError):
            # A row another program wrote by hand: unknown, and the next reading writes over it.
            continue
    return found


def _known(connection: sqlite3.Connection) -> dict[str, Reading]:
    return _readings(connection.execute(_SELECT, (Source.CLAUDE_CODE.value,)).fetchall(), Source.CLAUDE_CODE)


def _plan(
    windows: Sequence[UsageWindow], known: dict[str, Reading], now: datetime
) -> list[tuple[UsageWindow, bool]]:
    """The windows to write and whether each is a changed figure (then it also joins the history)."""
    plan = []
    for window in windows:
        heard = Reading(window, now, Source.CLAUDE_CODE)
        old = known.get(window.id)
        if old is None:
            plan.append((window, True))
            continue
        if not is_news(heard, old):
            continue  # a lower figure for the same period (another session's older one): old news
        unchanged = (
            old.window.utilization == window.utilization
            and old.window.label == window.label
            and same_period(old.window.resets_at, window.resets_at)
        )
        if not unchanged:
            plan.append((window, True))
        elif now - old.observed_at >= REPEAT_QUIET:
            plan.append((window, False))
    return plan


def _connect(path: Path) -> sqlite3.Connection:
    """A connection that waits FEED_WAIT_MS at most; the file is created (private) if there is none."""
    if not path.exists():
        files.open_or_replace(path).close()  # the first reading ever: made as the tray would make it
    connection = sqlite3.connect(str(path), timeout=FEED_WAIT_MS / 1000, isolation_level=None)
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version < SCHEMA_VERSION:
            migrate(connection, path)  # a tray of an older version made it; this takes the lock briefly
    except BaseException:
        connection.close()
        raise
    return connection


def record_fed(path: Path, windows: Sequence[UsageWindow], now: datetime) -> Recorded:
    """Store Claude Code's figures for windows if they are news; never waits long, never raises."""
    if not windows:
        return Recorded.NOTHING
    try:
        connection = _connect(path)
    except (sqlite3.Error, OSError) as exc:
        return Recorded.BUSY if isinstance(exc, sqlite3.Error) and files.is_busy(exc) else Recorded.FAILED
    try:
        # Read first without the write lock: while Claude Code idles it re-sends the same figures, and
        # those calls should not queue behind the tray for a lock they do not need.
        if not _plan(windows, _known(connection), now):
            return Recorded.UNCHANGED
        with files.transaction(connection):
            plan = _plan(windows, _known(connection), now)  # again under the lock: another may have written
            at = to_epoch(now)
            for window, changed in plan:
                reset = None if window.resets_at is None else to_epoch(window.resets_at)
                values = (window.label, window.utilization, reset)
                connection.execute(_UPSERT, (Source.CLAUDE_CODE.value, window.id, *values, at))
                if changed:
                    connection.execute(_HISTORY, (at, window.id, *values))
        return Recorded.STORED if plan else Recorded.UNCHANGED
    except sqlite3.Error as exc:
        return Recorded.BUSY if files.is_busy(exc) else Recorded.FAILED
    except (TypeError, ValueError, OverflowError):
        # A row another program wrote by hand (text where a number belongs): the line is printed anyway.
        return Recorded.FAILED
    finally:
        with contextlib.suppress(sqlite3.Error):
            connection.close()


class Readings:
    """The stored readings of the other sources, through the Store's shared connection."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def fed(self) -> tuple[Reading, ...]:
        """Claude Code's latest reading of each window it reported (passed periods included)."""
        with self._db.lock:
            rows = self._db.select(_SELECT, (Source.CLAUDE_CODE.value,))
        try:
            return tuple(_readings(rows, Source.CLAUDE_CODE).values())
        except (TypeError, ValueError):
            return ()  # a row another program wrote by hand: no readings rather than a crash

    def last_heard(self) -> datetime | None:
        """When the statusline last passed us Claude Code's figures (for `doctor`)."""
        heard = [reading.observed_at for reading in self.fed()]
        return max(heard) if heard else None
