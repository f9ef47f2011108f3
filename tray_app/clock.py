"""The one place that reads the wall clock: now, the local time zone, monotonic time, waiting."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, tzinfo
from typing import Protocol


class Clock(Protocol):
    """Everything the program asks of time; tests pass a fake one and step it by hand."""

    def now(self) -> datetime:
        """The current moment, as an aware UTC datetime."""
        ...

    def local_tz(self) -> tzinfo:
        """The user's time zone, read afresh (it changes when a laptop travels)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps; stands still while the machine sleeps."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch; jumps when the machine wakes or the time is set."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Block until the event is set or the timeout passes; True when it was set."""
        ...

    def sleep(self, seconds: float) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_tz() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return utc_now()

    def local_tz(self) -> tzinfo:
        return local_tz()

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(timeout)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
