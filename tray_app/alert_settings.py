"""The [notifications] table of config.toml. A wrong value is reported and its default kept:
a typo in an alert setting must not stop the tray."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any

from tray_app.core.rules import AlertRules

BACKENDS = ("auto", "notify-send", "plyer", "pystray", "osascript", "log", "none")


@dataclass(frozen=True)
class NotificationSettings:
    rules: AlertRules = field(default_factory=AlertRules)
    quiet_hours: tuple[time, time] | None = None
    backend: str = "auto"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ladder(value: object) -> tuple[float, ...] | None:
    """Increasing percentages from 1 to 100; [] or false turns the alerts off."""
    if value is False:
        return ()
    if not isinstance(value, list) or not all(_is_number(v) and 1 <= v <= 100 for v in value):
        return None
    ladder = tuple(float(v) for v in value)
    return ladder if list(ladder) == sorted(set(ladder)) else None


def _clock_time(value: object) -> time | None:
    if not isinstance(value, str):
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def _quiet_hours(value: object) -> tuple[time, time] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    start, end = _clock_time(value[0]), _clock_time(value[1])
    return None if start is None or end is None or start == end else (start, end)


def _amounts(value: object) -> tuple[float, ...] | None:
    if not isinstance(value, list) or not all(_is_number(v) and v > 0 for v in value):
        return None
    return tuple(sorted(float(v) for v in value))


class _Reader:
    """Collects valid values and one warning per invalid one."""

    def __init__(self, table: Mapping[str, Any], path: Path) -> None:
        self.table, self.path = table, path
        self.warnings: list[str] = []

    def bad(self, key: str, expected: str) -> None:
        value = self.table.get(key)
        shown = f" (got {value!r})" if value is not None else ""
        self.warnings.append(f"{self.path}: notifications.{key} must be {expected}{shown}; using the default")

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if isinstance(value, bool):
            return value
        self.bad(key, "true or false")
        return default


def _window_ladders(reader: _Reader, windows: object) -> dict[str, tuple[float, ...]]:
    ladders: dict[str, tuple[float, ...]] = {}
    if not isinstance(windows, Mapping):
        reader.warnings.append(f"{reader.path}: notifications.windows must be a table; ignored")
        return ladders
    for window_id, value in windows.items():
        ladder = _ladder(value)
        if ladder is None:
            reader.warnings.append(
                f"{reader.path}: notifications.windows.{window_id} must be increasing percentages "
                f"from 1 to 100 or false (got {value!r}); using the default"
            )
        else:
            ladders[str(window_id)] = ladder
    return ladders


_KNOWN = (
    "thresholds",
    "windows",
    "pace",
    "reset",
    "failures_after",
    "extra_usage_amounts",
    "quiet_hours",
    "backend",
)


def _rules(reader: _Reader) -> AlertRules:
    table, rules = reader.table, AlertRules()
    if "thresholds" in table:
        ladder = _ladder(table["thresholds"])
        if ladder is None:
            reader.bad("thresholds", "increasing percentages from 1 to 100, like [50, 75, 90, 100]")
        else:
            rules = replace(rules, ladder=ladder)
    if "windows" in table:
        rules = replace(rules, ladders=_window_ladders(reader, table["windows"]))
    rules = replace(rules, pace=reader.flag("pace", rules.pace), reset=reader.flag("reset", rules.reset))
    failures = table.get("failures_after", rules.failures_after)
    if isinstance(failures, int) and not isinstance(failures, bool) and 0 <= failures <= 100:
        # 0 turns the failure alert off: no episode is ever that long.
        rules = replace(rules, failures_after=failures if failures else 10**9)
    else:
        reader.bad("failures_after", "a whole number from 0 (off) to 100")
    if "extra_usage_amounts" in table:
        amounts = _amounts(table["extra_usage_amounts"])
        if amounts is None:
            reader.bad("extra_usage_amounts", "a list of positive amounts, like [10, 25, 50]")
        else:
            rules = replace(rules, extra_usage_amounts=amounts)
    return rules


def parse_notification_settings(table: object, path: Path) -> tuple[NotificationSettings, list[str]]:
    """Settings from the [notifications] table, and a warning for every value that was not usable."""
    if not isinstance(table, Mapping):
        return NotificationSettings(), [f"{path}: notifications must be a table; using the defaults"]
    reader = _Reader(table, path)
    for key in sorted(set(table) - set(_KNOWN)):
        reader.warnings.append(f"{path}: unknown setting notifications.{key!s} ignored")
    rules = _rules(reader)
    quiet = None
    if "quiet_hours" in table:
        quiet = _quiet_hours(table["quiet_hours"])
        if quiet is None:
            reader.bad("quiet_hours", 'two different times, like ["22:00", "07:00"]')
    backend = table.get("backend", "auto")
    if backend not in BACKENDS:
        reader.bad("backend", "one of " + ", ".join(f'"{b}"' for b in BACKENDS))
        backend = "auto"
    return NotificationSettings(rules, quiet, str(backend)), reader.warnings


def in_quiet_hours(quiet: tuple[time, time] | None, now: time) -> bool:
    """True inside [start, end), a span that may wrap past midnight."""
    if quiet is None:
        return False
    start, end = quiet
    return start <= now < end if start < end else now >= start or now < end
