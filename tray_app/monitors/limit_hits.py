"""The week's limit hits for every report the Code monitor builds, read from the history sparingly.

A report is built on every poll and again whenever Claude Code's status line brings news (every few
seconds while it works), but the week's hits change only when a window reaches or leaves its limit.
So the history is read again when the set of windows at their limit differs from the last read: a hit
starting, or ending, shows at once. Otherwise the hits can change only by an old one passing the week's
edge, or by a limit reached and left between two reports (another process's rows), so an hourly read
is enough; at every 5 minutes it was the polling thread's largest cost (23 ms a read, benchmarks.polling).
One read of a week of one-minute polls of four windows takes about 65 ms
(tests/integration/test_store_limits.py).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from tray_app.core.models import CodeReport, LimitHit
from tray_app.store import Store

SPAN = timedelta(days=7)
REFRESH = timedelta(hours=1)


class RecentLimitHits:
    """The limit hits of the last SPAN, kept between reports (shared by the poller and main threads)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._read_at: datetime | None = None
        self._blocked: frozenset[str] = frozenset()
        self._hits: tuple[LimitHit, ...] = ()

    def for_report(self, report: CodeReport, now: datetime) -> tuple[LimitHit, ...]:
        blocked = frozenset(item.window.id for item in report.windows if item.window.blocked)
        with self._lock:
            read_at = self._read_at
            # A clock set back (read_at in the future) reads afresh rather than trusting old hits.
            fresh = read_at is not None and timedelta(0) <= now - read_at < REFRESH
            if not fresh or blocked != self._blocked:
                self._hits = tuple(self._store.limit_log.hits(now - SPAN, now))
                self._read_at, self._blocked = now, blocked
            return self._hits
