"""present(reports, now) -> ViewModel: the icon and the tooltip decided here, the menu in core.menu_rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from tray_app.core.blocked import blocked_phrase, blocking_window
from tray_app.core.console import ConsoleReport
from tray_app.core.menu_rows import NOT_SET_UP, menu_rows
from tray_app.core.models import FIVE_HOUR, SEVEN_DAY, CodeReport, Source, Status, UsageWindow, WindowReport
from tray_app.core.report import console_status_line, format_money, format_percent, status_line
from tray_app.core.reports import Reports
from tray_app.core.view_options import ViewOptions, is_stale, status_row
from tray_app.core.viewmodel import Badge, IconSpec, Level, ViewModel

# Kept importable from here, where the rest of the app has always found them.
__all__ = ["NOT_SET_UP", "USAGE_PAGE_URL", "ViewOptions", "level_for", "menu_rows", "present"]

USAGE_PAGE_URL = "https://claude.ai/settings/usage"
# Windows truncates tooltips at 128 UTF-16 units (and pystray raises past it).
MAX_TITLE = 127


def level_for(utilization: float, thresholds: Sequence[float]) -> Level:
    """LOW below the first threshold, then MEDIUM, HIGH, CRITICAL from the last one."""
    passed = sum(1 for threshold in thresholds if utilization >= threshold)
    return (Level.LOW, Level.MEDIUM, Level.HIGH, Level.CRITICAL)[min(passed, 3)]


def _primary(report: CodeReport) -> WindowReport | None:
    # The 5-hour window leads; accounts without one (Enterprise, credit plans) lead with the week.
    by_id = {item.window.id: item for item in report.windows}
    return by_id.get(FIVE_HOUR) or by_id.get(SEVEN_DAY)


def _weekly(report: CodeReport, primary: WindowReport | None) -> WindowReport | None:
    weekly = next((item for item in report.windows if item.window.id == SEVEN_DAY), None)
    return None if weekly is primary else weekly


def _fresh_from_claude_code(item: WindowReport, now: datetime, options: ViewOptions) -> bool:
    """A figure Claude Code's status line gave lately: current even while the endpoint is paused or
    failing (the icon would otherwise go grey just when a busy session makes the figures matter)."""
    heard = item.observed_at
    return item.source is Source.CLAUDE_CODE and heard is not None and now - heard <= options.stale_after


def _badge(report: CodeReport, primary: WindowReport | None, now: datetime, options: ViewOptions) -> Badge:
    if report.status is Status.LOGIN_NEEDED:
        return Badge.LOGIN
    if report.status is Status.OFFLINE:
        return Badge.OFFLINE
    if primary is None:
        return Badge.NO_DATA
    if is_stale(report, now, options) and not _fresh_from_claude_code(primary, now, options):
        return Badge.STALE
    if primary.forecast.limit_at is not None:
        return Badge.PACE
    return Badge.NONE


def _drawable(utilization: float | None) -> float | None:
    # A gauge is at most 64 px wide: whole percents are all it can show, and a spec that changes only
    # in tenths would miss the icon cache and redraw the tray icon after every poll for nothing.
    return None if utilization is None else float(round(utilization))


def icon_spec(report: CodeReport, now: datetime, options: ViewOptions) -> IconSpec:
    """What the icon must show for this report."""
    primary = _primary(report)
    weekly = _weekly(report, primary)
    badge = _badge(report, primary, now, options)
    shown = primary if badge is not Badge.LOGIN else None
    utilization = None if shown is None else shown.window.utilization
    return IconSpec(
        percent=None if utilization is None else round(utilization),
        gauge=_drawable(utilization),
        weekly=None if weekly is None or badge is Badge.LOGIN else _drawable(weekly.window.utilization),
        level=level_for(utilization or 0.0, options.thresholds),
        weekly_level=level_for(0.0 if weekly is None else weekly.window.utilization, options.thresholds),
        badge=badge,
        style=options.style,
        # No figures to stand behind (login needed, nothing fetched): no claim that anything is blocked.
        blocked=badge not in (Badge.LOGIN, Badge.NO_DATA) and _blocking(report, now) is not None,
    )


def _blocking(report: CodeReport, now: datetime) -> UsageWindow | None:
    return blocking_window((item.window for item in report.windows), now)


def _short_label(item: WindowReport) -> str:
    return "5-hour" if item.window.id == FIVE_HOUR else item.window.label


def title_text(report: CodeReport, now: datetime, tz: tzinfo, options: ViewOptions) -> str:
    """The one-line summary for the tooltip."""
    if report.status is Status.LOGIN_NEEDED:
        text = f"Claude usage: {report.message or 'login needed'}"
    elif not report.windows:
        text = f"Claude usage: {status_line(report, now)}"
    else:
        # The block leads: the tooltip is cut at 127 characters, and it is what the user must know.
        blocking = _blocking(report, now)
        parts = [] if blocking is None else [blocked_phrase(blocking, now, tz)]
        for item in report.windows[:2]:
            part = f"{_short_label(item)} {format_percent(item.window.utilization)}"
            if item.window.id == FIVE_HOUR and item.window.resets_at is not None:
                part += f" (resets {item.window.resets_at.astimezone(tz):%H:%M})"
            parts.append(part)
        primary = _primary(report)
        if primary is not None and primary.forecast.limit_at is not None:
            parts.append(f"limit at {primary.forecast.limit_at.astimezone(tz):%H:%M}")
        text = "Claude: " + " · ".join(parts)
        if report.status is not Status.OK or is_stale(report, now, options):
            text += f" — {status_row(report, now, options).text}"
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def _console_icon(console: ConsoleReport | None, options: ViewOptions) -> IconSpec:
    """Console only: the share of the monthly budget, or no number when there is no budget."""
    figures = None if console is None else console.figures
    badge = Badge.NO_DATA if figures is None else Badge.NONE
    if console is not None and console.status is Status.LOGIN_NEEDED:
        badge = Badge.LOGIN
    elif console is not None and console.status is Status.OFFLINE:
        badge = Badge.OFFLINE
    share: float | None = None
    if figures is not None and figures.budget:
        share = float(figures.mtd_cost / figures.budget * 100)
        projected = figures.projected_month_end_cost
        if badge is Badge.NONE and projected is not None and projected > figures.budget:
            badge = Badge.PACE
    if console is None:
        badge = Badge.LOGIN  # nothing configured: the menu says what to set up
    shown = None if share is None else min(share, 100.0)
    return IconSpec(
        percent=None if shown is None or badge is Badge.LOGIN else round(shown),
        gauge=_drawable(shown),
        weekly=None,
        level=level_for(shown or 0.0, options.thresholds),
        weekly_level=Level.LOW,
        badge=badge,
        style=options.style,
    )


def _console_title(console: ConsoleReport | None, now: datetime) -> str:
    if console is None:
        return "Claude usage: not set up — run `claude auth login` or set ANTHROPIC_ADMIN_API_KEY"
    if console.figures is None:
        return f"Claude Console: {console_status_line(console, now)}"
    figures = console.figures
    return f"Claude Console: {format_money(float(figures.mtd_cost), figures.currency)} this month"


def present(
    reports: Reports, now: datetime, tz: tzinfo, options: ViewOptions, notices: Sequence[str] = ()
) -> ViewModel:
    """Everything the tray shows at this moment: Code mode leads the icon when it is set up."""
    report, console = reports.code, reports.console
    if report is None:
        title = _console_title(console, now)
        return ViewModel(
            icon=_console_icon(console, options),
            title=title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…",
            menu=menu_rows(reports, now, tz, options, notices),
        )
    title = title_text(report, now, tz, options)
    if console is not None and console.figures is not None:
        spend = format_money(float(console.figures.mtd_cost), console.figures.currency)
        title = f"{title} · {spend} this month"
    return ViewModel(
        icon=icon_spec(report, now, options),
        title=title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…",
        menu=menu_rows(reports, now, tz, options, notices),
    )
