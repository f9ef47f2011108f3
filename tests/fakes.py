"""Fakes shared by the tests: a clock that moves only when told to."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, tzinfo

DEFAULT_START = datetime(2026, 8, 4, 12, 0, tzinfo=UTC)


class FakeClock:
    """tray_app.clock.Clock with time in the test's hands.

    advance() moves both clocks, suspend() only the wall clock (the machine slept). wait() does not block:
    it returns whether the event was set, after moving time on by the timeout when it was not.
    """

    def __init__(self, start: datetime = DEFAULT_START, tz: tzinfo = UTC, mono: float = 1000.0) -> None:
        self._wall = start.timestamp()
        self._mono = mono
        self._tz = tz

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._wall, UTC)

    def local_tz(self) -> tzinfo:
        return self._tz

    def monotonic(self) -> float:
        return self._mono

    def wall(self) -> float:
        return self._wall

    def epoch(self) -> float:
        """The wall clock for DemoServer(clock=...), which wants epoch seconds."""
        return self._wall

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if event.is_set():
            return True
        self.advance(timeout)
        return False

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, by: float | timedelta) -> None:
        """Move both clocks on, by seconds or a timedelta."""
        seconds = _seconds(by)
        self._wall += seconds
        self._mono += seconds

    def suspend(self, by: float | timedelta) -> None:
        self._wall += _seconds(by)

    def set(self, moment: datetime) -> None:
        """Jump the wall clock (and the monotonic one with it, if forward)."""
        delta = moment.timestamp() - self._wall
        self._wall = moment.timestamp()
        self._mono += max(0.0, delta)


def _seconds(by: float | timedelta) -> float:
    return by.total_seconds() if isinstance(by, timedelta) else by
