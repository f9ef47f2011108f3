"""Claude Code's status-line feed as the tray sees it: new readings noticed, freshness for the poll pace.

The statusline runs in Claude Code's process tree and writes to the shared database; the tray learns of
it from SQLite's PRAGMA data_version, which changes whenever another connection commits. Asking it once
a second costs no file read while nothing changed, needs no thread, file watcher or socket of its own,
and works alike on Linux, macOS and Windows (a file watch would need a library per platform, and a
socket from the statusline would cost every prompt a connection attempt when no tray runs).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tray_app.core import readings
from tray_app.core.readings import Reading
from tray_app.store import Store


class ClaudeCodeFeed:
    """The poller's Feed: used on the polling thread only, like the Store it reads."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._version = store.data_version()
        self._fed: tuple[Reading, ...] = store.readings.fed()

    def changed(self) -> bool:
        """Whether another process committed since last asked (new readings, or another's poll)."""
        version = self._store.data_version()
        if version == self._version:
            return False
        self._version = version
        self._fed = self._store.readings.fed()
        return True

    def fresh(self, within: timedelta) -> bool:
        return readings.fresh(self._fed, self._clock(), within)
