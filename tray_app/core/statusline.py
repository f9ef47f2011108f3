"""One short line for Claude Code's status line: '5h 62% ↑ 112% at reset · 7d 41% · $1,234 MTD'."""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tray_app.core.errors import ConfigError
from tray_app.core.models import FIVE_HOUR, SEVEN_DAY, CodeReport
from tray_app.core.report import format_age, format_money

# Older figures get their age appended, so a stalled tray is never mistaken for a quiet one.
SHOW_AGE_AFTER = timedelta(minutes=5)
FIELDS = ("five_hour", "five_hour_projection", "five_hour_resets", "weekly", "mtd", "age")


def statusline_fields(
    code: CodeReport | None,
    mtd: Decimal | None,
    currency: str,
    now: datetime,
    claude_code_percent: float | None,
) -> dict[str, str]:
    """The named pieces of the line; '' for what is unknown.

    Claude Code's own 5-hour figure (from its status-line input) stands in when nothing is stored.
    """
    by_id = {item.window.id: item for item in code.windows} if code is not None else {}
    five, week = by_id.get(FIVE_HOUR), by_id.get(SEVEN_DAY)
    fields = dict.fromkeys(FIELDS, "")
    if five is not None:
        fields["five_hour"] = f"{five.window.utilization:.0f}%"
        projected = five.forecast.projected_at_reset
        if five.forecast.limit_at is not None and projected is not None:
            fields["five_hour_projection"] = f"{projected:.0f}%"
        if five.window.resets_at is not None and five.window.resets_at > now:
            left = five.window.resets_at - now
            fields["five_hour_resets"] = (
                f"{int(left.total_seconds() // 3600)}h{int(left.total_seconds() % 3600 // 60):02d}"
            )
    elif claude_code_percent is not None:
        fields["five_hour"] = f"{claude_code_percent:.0f}%"
    if week is not None:
        fields["weekly"] = f"{week.window.utilization:.0f}%"
    if mtd is not None:
        fields["mtd"] = format_money(float(mtd), currency).split(".")[0]
    if code is not None and code.updated_at is not None and now - code.updated_at > SHOW_AGE_AFTER:
        fields["age"] = format_age(now - code.updated_at)
    return fields


def default_line(fields: Mapping[str, str]) -> str:
    parts = []
    if fields["five_hour"]:
        five = f"5h {fields['five_hour']}"
        if fields["five_hour_projection"]:
            five += f" ↑ {fields['five_hour_projection']} at reset"
        parts.append(five)
    if fields["weekly"]:
        parts.append(f"7d {fields['weekly']}")
    if fields["mtd"]:
        parts.append(f"{fields['mtd']} MTD")
    if not parts:
        return "Claude usage: no data yet"
    line = " · ".join(parts)
    return f"{line} ({fields['age']})" if fields["age"] else line


def check_template(template: str) -> None:
    """ConfigError naming the first unknown {field}, so a typo is one clear line."""
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name not in FIELDS:
            raise ConfigError(f"statusline --format: unknown field {{{name}}}; known: {', '.join(FIELDS)}")


def render_statusline(fields: Mapping[str, Any], template: str | None) -> str:
    if template is None:
        return default_line(fields)
    check_template(template)
    return template.format_map(dict(fields))
