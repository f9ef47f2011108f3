"""Which slow-changing Console parts one refresh asks for, within its request budget.

Pure. The month's spend is asked on every refresh; everything else (tokens, the organization, the
workspaces, the API key names, a day of the Claude Code report, the daily cross-check) is a Part that is
due once its interval has passed. Parts with nothing stored to show are asked at once whatever the
budget (the month's first refresh); the others share what is left of the budget, the most overdue first,
and a part that does not fit waits for the next refresh. So a refresh's cost does not grow with the day
of the month, and the hourly parts spread over several refreshes instead of piling onto one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# At most this many requests per refresh once the month's figures are stored (the spend query included).
REFRESH_REQUESTS = 3


@dataclass(frozen=True)
class Part:
    """One thing a refresh may ask for with one request.

    fetched_at None: never fetched. needed: nothing of it is stored, so the figures cannot be shown
    without it: it is asked whatever the budget.
    """

    name: str
    fetched_at: datetime | None
    interval: timedelta
    needed: bool = False

    def lateness(self, now: datetime) -> float:
        """How many intervals ago it was last fetched; infinite when never."""
        if self.fetched_at is None:
            return float("inf")
        return (now - self.fetched_at) / self.interval

    def due(self, now: datetime) -> bool:
        return self.lateness(now) >= 1


def plan(parts: Iterable[Part], now: datetime, budget: int) -> list[Part]:
    """The parts to ask for now: every needed one, then due ones, most overdue first, while budget lasts."""
    every = list(parts)
    chosen = [part for part in every if part.needed]
    waiting = sorted(
        (part for part in every if not part.needed and part.due(now)),
        key=lambda part: (-part.lateness(now), part.name),
    )
    room = max(0, budget - len(chosen))
    return chosen + waiting[:room]
