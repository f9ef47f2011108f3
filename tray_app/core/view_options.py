"""What the user chose to see (ViewOptions), and whether the figures are stale: shared by the icon, the
tooltip (core.view) and the menu (core.menu_rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tray_app.core.models import CodeReport, Status
from tray_app.core.report import format_age, status_line
from tray_app.core.viewmodel import Action, IconStyle, MenuRow


@dataclass(frozen=True)
class ViewOptions:
    """User choices that change what is shown."""

    thresholds: tuple[float, float, float] = (50.0, 75.0, 90.0)
    style: IconStyle = IconStyle.COLOR
    notifications_on: bool = True
    snoozed_until: datetime | None = None
    web_enabled: bool = False
    autostart: bool | None = None  # None: this platform or install cannot start at login
    stale_after: timedelta = timedelta(minutes=3)
    app_name: str = "claude-usage-tray"
    # Whether our status line is in Claude Code's settings; None: not known or not Code mode (no offer).
    feed_installed: bool | None = None


def is_stale(report: CodeReport, now: datetime, options: ViewOptions) -> bool:
    if report.status in (Status.STALE, Status.RATE_LIMITED, Status.ERROR, Status.BLOCKED):
        return True
    return report.updated_at is not None and now - report.updated_at > options.stale_after


def status_row(report: CodeReport, now: datetime, options: ViewOptions) -> MenuRow:
    """'Updated 20 s ago', or what is wrong with the figures; a click opens the details window."""
    if report.status is Status.OK and report.updated_at is not None and is_stale(report, now, options):
        return MenuRow(
            f"Figures from {format_age(now - report.updated_at)}: not updated since", Action.OPEN_DETAILS
        )
    return MenuRow(status_line(report, now), Action.OPEN_DETAILS)
