"""What the tray shows, as plain data: the icon's description, the tooltip and the menu rows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How full a window is, by the configured thresholds (default 50/75/90)."""

    LOW = "low"  # below the first threshold
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Badge(StrEnum):
    """The one condition the icon calls out besides the level; NONE when all is well."""

    NONE = "none"
    PACE = "pace"  # projected to hit the limit before the reset
    STALE = "stale"  # figures are old (rate limited, or a failing server)
    OFFLINE = "offline"
    LOGIN = "login"  # login needed: no number to show
    NO_DATA = "no_data"  # nothing fetched yet


class IconStyle(StrEnum):
    COLOR = "color"
    MONO_DARK = "mono-dark"  # black glyphs: light bars, and the macOS template image
    MONO_LIGHT = "mono-light"  # white glyphs: dark bars


@dataclass(frozen=True)
class IconSpec:
    """Everything that decides the icon's pixels; equal specs draw identical images."""

    percent: int | None  # the big number: 5-hour utilization, rounded (None: no number)
    gauge: float | None  # 0-100 fill of the main gauge
    weekly: float | None  # 0-100 fill of the thin weekly gauge
    level: Level
    weekly_level: Level
    badge: Badge
    style: IconStyle
    # Some window (any, model-scoped ones included) is at 100 % or locked: a mark of its own, because
    # the number shows only the 5-hour figure and a 40 % there says nothing about a blocked week.
    blocked: bool = False


class Action(StrEnum):
    OPEN_DETAILS = "open_details"
    REFRESH = "refresh"
    OPEN_USAGE_PAGE = "open_usage_page"
    SHOW_HISTORY = "show_history"
    TOGGLE_NOTIFICATIONS = "toggle_notifications"
    SNOOZE_HOUR = "snooze_hour"
    SNOOZE_TOMORROW = "snooze_tomorrow"
    RESUME_NOTIFICATIONS = "resume_notifications"
    TOGGLE_WEB = "toggle_web"
    TOGGLE_AUTOSTART = "toggle_autostart"
    INSTALL_STATUSLINE = "install_statusline"
    OPEN_SETTINGS = "open_settings"
    OPEN_LOGS = "open_logs"
    ABOUT = "about"
    QUIT = "quit"


@dataclass(frozen=True)
class MenuRow:
    """One menu line. A row with no action is information (shown disabled); text '' is a separator.

    A row with children opens them as a submenu (its action is then not used).
    """

    text: str
    action: Action | None = None
    checked: bool | None = None
    default: bool = False
    children: tuple[MenuRow, ...] = ()

    @property
    def is_separator(self) -> bool:
        return self.text == ""


def all_rows(rows: tuple[MenuRow, ...]) -> list[MenuRow]:
    """Every row, submenus' included, in reading order: a submenu row before its children."""
    found: list[MenuRow] = []
    for row in rows:
        found += [row, *all_rows(row.children)]
    return found


SEPARATOR = MenuRow("")


@dataclass(frozen=True)
class ViewModel:
    icon: IconSpec
    title: str  # tooltip / accessible title: the one-line summary
    menu: tuple[MenuRow, ...]
