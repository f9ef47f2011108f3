"""The one table of the usage endpoint's window keys: what each is called, and which keys are no windows.

The endpoint names its limits by codename (api-2026.md 2.1). Claude Code's own label table says which
limit a codename is; where nobody knows, the key is kept as it is and shown under "Other limits".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tray_app.core.models import FIVE_HOUR, SEVEN_DAY, UsageWindow


@dataclass(frozen=True)
class LimitName:
    """window_id: the id we store and show (stable: history and `[notifications]` keys use it).

    quiet_at_zero: shown only above 0 % (or locked). For keys whose meaning is a guess: one such key
    (nimbus_quill) arrives as a zeroed object on many accounts, and a row of "0 %" for a limit nobody
    can explain is noise, while any figure above 0 may be what stops the user.
    """

    window_id: str
    label: str
    quiet_at_zero: bool = False


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def scoped_id(display_name: str) -> str | None:
    """The window id of a model-scoped weekly limit: "Fable" -> seven_day_fable (None: no letters)."""
    slug = _NOT_SLUG.sub("_", display_name.lower()).strip("_")
    return f"seven_day_{slug}" if slug else None


def _weekly(name: str, quiet_at_zero: bool = False) -> LimitName:
    window_id = scoped_id(name)
    assert window_id is not None
    return LimitName(window_id, f"Weekly · {name}", quiet_at_zero)


def _unnamed(key: str) -> LimitName:
    return LimitName(key, key, quiet_at_zero=True)


# In display order after the 5-hour and the all-models week. The flat key for Fable and Claude Design
# maps to the id limits[] gives the same model ("Fable" -> seven_day_fable), so the two sources meet in
# one window; seven_day_fable is also the id earlier versions stored and users name in their settings.
NAMED: dict[str, LimitName] = {
    FIVE_HOUR: LimitName(FIVE_HOUR, "5-hour"),
    SEVEN_DAY: LimitName(SEVEN_DAY, "Weekly"),
    "seven_day_overage_included": _weekly("Fable"),
    "seven_day_omelette": _weekly("Claude Design"),
    "seven_day_opus": _weekly("Opus"),
    "seven_day_sonnet": _weekly("Sonnet"),
    # Meanings below are one client's guess (api-2026.md 2.1): named, but quiet at 0 %.
    "seven_day_sonnet_max": _weekly("Sonnet Max", quiet_at_zero=True),
    "seven_day_cowork": _weekly("Cowork", quiet_at_zero=True),
    "seven_day_routines": _weekly("Routines", quiet_at_zero=True),
    "seven_day_oauth_apps": _weekly("OAuth apps", quiet_at_zero=True),
    "omelette_promotional": LimitName("omelette_promotional", "Claude Design · promotional", True),
}

# Codenames seen in the wild whose meaning nobody has found: shown under "Other limits" by key, only
# above 0 %, and not reported as new (they are not news to us).
KNOWN_UNNAMED: dict[str, LimitName] = {
    key: _unnamed(key)
    for key in (
        "nimbus_quill",
        "tangelo",
        "iguana_necktie",
        "cinder_cove",
        "amber_ladder",
        "juniper_tide",
        "copper_kite",
        "harbor_lantern",
        "wattle_ember",
        "amber_gauge",
    )
}

# Top-level keys that are never windows, whatever they hold (extra_usage even has a utilization).
NOT_WINDOWS = frozenset(
    {
        "limits",
        "extra_usage",
        "spend",
        "seven_day_breakdown",
        "cedar_ember",
        "member_dashboard_available",
    }
)

# limits[] kinds that stand for a flat window.
LIMIT_KINDS = {"session": FIVE_HOUR, "weekly_all": SEVEN_DAY}

_ORDER = {name.window_id: index for index, name in enumerate(NAMED.values())}


def display_rank(window_id: str, other: bool) -> tuple[int, int]:
    """Sort key: 5-hour, weekly, the named windows in table order, model-scoped ones the table does not
    name, then Other limits (a stable sort keeps each group in the order it came)."""
    if other:
        return (3, 0)
    if window_id in _ORDER:
        return (0, _ORDER[window_id])
    return (1, 0)


def unknown_keys(windows: Iterable[UsageWindow]) -> list[str]:
    """The keys of windows our table does not know: news about the API, worth a line in the log."""
    return [w.id for w in windows if w.other and w.id not in KNOWN_UNNAMED]
