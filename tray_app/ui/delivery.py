"""Sends notifications on a thread of their own, in order, so neither the poller nor the UI waits on them."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence

from tray_app.core.rules import Alert

logger = logging.getLogger(__name__)


class NotificationQueue:
    """Takes alerts from any thread and hands them, one at a time, to the notifier chain.

    A notifier can take seconds (a hung daemon, plyer's Windows balloon); that must stall neither the
    polling nor the menu. The thread starts with the first notification, so a quiet tray has none.
    """

    def __init__(self, send: Callable[[str, str], str | None]) -> None:
        self._send = send
        self._queue: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            self.send(alert.title, alert.body)

    def send(self, title: str, body: str) -> None:
        """Queue one notification; returns at once."""
        self._queue.put((title, body))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="notifications", daemon=True)
                self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (up to timeout), then end the thread."""
        self._queue.put(None)
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            title, body = item
            try:
                backend = self._send(title, body)
            except Exception:
                # The chain never raises by design; a bug in it must still not end the deliveries.
                logger.exception("notification failed unexpectedly")
                continue
            logger.info("notification via %s: %s", backend or "nothing (all backends failed)", title)
