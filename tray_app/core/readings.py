"""Readings of limit windows from more than one source, and which of them is the news.

Claude Code pipes `rate_limits` (taken from the headers of its own API calls) to its status-line command
on every render (api-2026.md section 1); the usage endpoint answers our polls. Neither carries the time
its figure was true, and Claude Code passes the same figures again while idle, so the rule is the one
that holds for the limits themselves: within one period (the same reset time) usage only rises. A lower
figure for the same period is older news; a later reset time starts afresh.

Pure: no I/O, imported by the statusline, which runs on every prompt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tray_app.core.models import FIVE_HOUR, SEVEN_DAY, Source, UsageWindow
from tray_app.core.numbers import finite_number
from tray_app.core.timeparse import from_epoch, parse_timestamp

# resets_at wobbles by fractions of a second between answers (and the two sources round it differently);
# a new period moves it by hours. The forecast groups its history with the same tolerance.
SAME_PERIOD_TOLERANCE = timedelta(minutes=10)
SPEND_LIMIT = "spend_limit"


# The windows Claude Code's feed carries, in display order, with the labels the endpoint's get.
_FED_WINDOWS: tuple[tuple[str, str], ...] = (
    (FIVE_HOUR, "5-hour"),
    (SEVEN_DAY, "Weekly"),
    (SPEND_LIMIT, "Spend limit"),
)
FED_WINDOW_IDS = tuple(window_id for window_id, _ in _FED_WINDOWS)


@dataclass(frozen=True)
class Reading:
    """One window's figure as one source told it, and when we heard it."""

    window: UsageWindow
    observed_at: datetime
    source: Source


def _reset_time(value: object) -> datetime | None:
    """Epoch seconds as documented; ISO text as early write-ups said (both are accepted)."""
    seconds = finite_number(value)
    if seconds is not None:
        try:
            return from_epoch(seconds) if seconds > 0 else None
        except (OverflowError, OSError, ValueError):
            return None
    return parse_timestamp(value)


def _money(value: object) -> str | None:
    amount = finite_number(value)
    return None if amount is None or amount < 0 else f"${amount:,.2f}"


def _spend_label(raw: Mapping[str, object]) -> str:
    """'Spend limit ($560.00 of $500.00)' when the gateway says the amounts (Claude Code 2.1.284 on)."""
    used, limit = _money(raw.get("used_usd")), _money(raw.get("limit_usd"))
    if used is not None and limit is not None:
        return f"Spend limit ({used} of {limit})"
    return "Spend limit"


def _fed_window(window_id: str, label: str, raw: object, now: datetime) -> UsageWindow | None:
    if not isinstance(raw, Mapping):
        return None
    percent = finite_number(raw.get("used_percentage"))
    if percent is None or percent < 0:
        return None
    resets_at = _reset_time(raw.get("resets_at"))
    if resets_at is None or resets_at <= now:
        # Claude Code sends a window with its reset time. Without one the period is unknown, and the rule
        # that tells news from old news cannot be applied; a passed one belongs to a period that is over.
        return None
    if window_id == SPEND_LIMIT:
        # A gateway's spend cap may be overspent: its figure is shown as it is.
        return UsageWindow(window_id, _spend_label(raw), percent, resets_at)
    # As the endpoint's figures: a 105 seen once in the wild is pulled into 0-100.
    return UsageWindow(window_id, label, min(100.0, percent), resets_at)


def parse_rate_limits(document: object, now: datetime) -> tuple[UsageWindow, ...]:
    """The windows in the `rate_limits` of Claude Code's status-line JSON; () when absent or unreadable.

    Absence means unknown, never 0: a window that is missing or malformed is simply not among them.
    """
    limits = document.get("rate_limits") if isinstance(document, Mapping) else None
    if not isinstance(limits, Mapping):
        return ()
    windows = (_fed_window(wid, label, limits.get(wid), now) for wid, label in _FED_WINDOWS)
    return tuple(window for window in windows if window is not None)


def same_period(first: datetime | None, second: datetime | None) -> bool:
    if first is None or second is None:
        return first is second
    return abs(first - second) <= SAME_PERIOD_TOLERANCE


def is_news(candidate: Reading, known: Reading) -> bool:
    """Whether candidate should be shown instead of known (both of one window).

    Same period: only a higher figure is news, or the same figure heard later. Otherwise the later reset
    time is the current period; a window without a reset time (not started) gives way to a later hearing.
    """
    new, old = candidate.window, known.window
    if same_period(new.resets_at, old.resets_at):
        if new.utilization != old.utilization:
            return new.utilization > old.utilization
        return candidate.observed_at >= known.observed_at
    if new.resets_at is not None and old.resets_at is not None:
        return new.resets_at > old.resets_at
    return candidate.observed_at >= known.observed_at


def merge(polled: Sequence[Reading], fed: Iterable[Reading], now: datetime | None) -> tuple[Reading, ...]:
    """The polled windows in their order, each replaced by a fed reading that is news; then fed windows
    the poll did not have. Fed readings whose reset has passed by now are dropped (Claude Code drops
    them too); now None keeps them all.
    """
    current = [
        reading
        for reading in fed
        if now is None or reading.window.resets_at is None or reading.window.resets_at > now
    ]
    by_id = {reading.window.id: reading for reading in current}
    merged = []
    for reading in polled:
        other = by_id.pop(reading.window.id, None)
        merged.append(
            _with_flags_of(reading, other) if other is not None and is_news(other, reading) else reading
        )
    order = {window_id: index for index, window_id in enumerate(FED_WINDOW_IDS)}
    rest = sorted(by_id.values(), key=lambda reading: order.get(reading.window.id, len(order)))
    return tuple(merged + rest)


def _with_flags_of(polled: Reading, fed: Reading) -> Reading:
    """fed's figure, with what only the endpoint knows of the same period (locked, binding) kept."""
    if not same_period(polled.window.resets_at, fed.window.resets_at):
        return fed  # a new period: the old one's lock and binding say nothing about it
    window = replace(fed.window, locked=polled.window.locked, binding=polled.window.binding)
    return replace(fed, window=window)


def fresh(fed: Iterable[Reading], now: datetime, within: timedelta) -> bool:
    """Whether Claude Code told us both the 5-hour and the weekly figure within the last `within`."""
    heard = {reading.window.id: reading.observed_at for reading in fed}
    return all(
        window_id in heard and now - heard[window_id] <= within for window_id in (FIVE_HOUR, SEVEN_DAY)
    )
