"""Which limit stops the user now, and the words for it: shared by the icon, tooltip, menu and alerts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from tray_app.core.models import FIVE_HOUR, UsageWindow

# A window whose reset time nobody told us sorts as freeing up last: we cannot promise anything sooner.
_NEVER = float("inf")


def still_blocked(window: UsageWindow, now: datetime) -> bool:
    """Blocked, and its period not over: a stored 100 % from before its reset stops nobody."""
    return window.blocked and (window.resets_at is None or window.resets_at > now)


def blocking_window(windows: Iterable[UsageWindow], now: datetime) -> UsageWindow | None:
    """The blocked window to name when several are: the one that frees up last.

    Only when that one resets can the user work again as before (a 5-hour block inside a Fable week
    block still leaves Fable blocked after the 5 hours), so its reset is the honest "back at" time. The
    binding flag only breaks ties: its meaning is not settled (api-2026.md 2.2), reset times are.
    """
    blocked = [w for w in windows if still_blocked(w, now)]
    if not blocked:
        return None
    return max(
        blocked,
        key=lambda w: (_NEVER if w.resets_at is None else w.resets_at.timestamp(), w.binding),
    )


def limit_name(window: UsageWindow) -> str:
    """'5-hour limit', 'Weekly limit', 'Fable weekly limit' (from the label 'Weekly · Fable')."""
    if window.id == FIVE_HOUR:
        return "5-hour limit"
    base, _, scope = window.label.partition(" · ")
    if scope:
        return f"{scope} {base.lower()} limit"
    return f"{base} limit"


def _when(moment: datetime, now: datetime, tz: tzinfo) -> str:
    """'16:20' today, 'Sun 06:12' on another day."""
    local = moment.astimezone(tz)
    return f"{local:%H:%M}" if local.date() == now.astimezone(tz).date() else f"{local:%a %H:%M}"


def blocked_phrase(window: UsageWindow, now: datetime, tz: tzinfo) -> str:
    """'Fable weekly limit reached - resets Sun 06:12'; a locked window says 'locked'."""
    state = "locked" if window.locked else "reached"
    text = f"{limit_name(window)} {state}"
    if window.resets_at is not None:
        text += f" - resets {_when(window.resets_at, now, tz)}"
    return text
