"""present(reports, now) -> ViewModel: every word and every icon decision of the tray, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from tray_app.core.blocked import blocked_phrase, blocking_window
from tray_app.core.console import ConsoleReport
from tray_app.core.grants import reset_grant_row
from tray_app.core.limit_export import week_row
from tray_app.core.models import (
    FIVE_HOUR,
    SEVEN_DAY,
    CodeReport,
    Source,
    Status,
    UsageWindow,
    WindowReport,
)
from tray_app.core.report import (
    OTHER_LIMITS,
    USAGE_CREDITS,
    console_lines,
    console_status_line,
    extra_usage_phrase,
    format_age,
    format_money,
    format_percent,
    pace_phrase,
    reset_phrase,
    sentence,
    source_phrase,
    status_line,
)
from tray_app.core.reports import Reports
from tray_app.core.viewmodel import (
    SEPARATOR,
    Action,
    Badge,
    IconSpec,
    IconStyle,
    Level,
    MenuRow,
    ViewModel,
)
from tray_app.core.web_report import web_lines

USAGE_PAGE_URL = "https://claude.ai/settings/usage"
# Windows truncates tooltips at 128 UTF-16 units (and pystray raises past it).
MAX_TITLE = 127


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


def _is_stale(report: CodeReport, now: datetime, options: ViewOptions) -> bool:
    if report.status in (Status.STALE, Status.RATE_LIMITED, Status.ERROR, Status.BLOCKED):
        return True
    return report.updated_at is not None and now - report.updated_at > options.stale_after


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
    if _is_stale(report, now, options) and not _fresh_from_claude_code(primary, now, options):
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
        if report.status is not Status.OK or _is_stale(report, now, options):
            text += f" — {_status_row(report, now, options).text}"
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def _window_rows(item: WindowReport, now: datetime, tz: tzinfo) -> list[MenuRow]:
    window = item.window
    used = f"{window.label}: {format_percent(window.utilization)} used"
    if window.locked:
        used += " (locked)"  # the figure alone would not say it: a locked window may be far from 100 %
    if window.binding:
        used += " (binding)"  # limits[].is_active: the limit that binds now
    if window.id == FIVE_HOUR:
        return [
            MenuRow(used),
            MenuRow(f"    {sentence(reset_phrase(window.resets_at, now, tz, window.utilization))}"),
            MenuRow(f"    {sentence(pace_phrase(item, tz))}"),
            MenuRow(f"    {sentence(source_phrase(item, now))}"),
        ]
    row = f"{used} · {reset_phrase(window.resets_at, now, tz, window.utilization)}"
    # One line per window, its pace included: a model-scoped week can stop the user as surely as the
    # 5 hours. A blocked window has no pace worth telling, and an unknown pace would only add words.
    if item.forecast.rate_per_hour is not None and not window.blocked:
        row += f" · {pace_phrase(item, tz, now)}"
    return [MenuRow(f"{row} · {source_phrase(item, now)}")]


def _status_row(report: CodeReport, now: datetime, options: ViewOptions) -> MenuRow:
    if report.status is Status.OK and report.updated_at is not None and _is_stale(report, now, options):
        return MenuRow(f"Figures from {format_age(now - report.updated_at)}: not updated since")
    return MenuRow(status_line(report, now))


def _code_rows(report: CodeReport, now: datetime, tz: tzinfo, options: ViewOptions) -> list[MenuRow]:
    rows: list[MenuRow] = []
    blocking = _blocking(report, now)
    if blocking is not None:
        # First, above the account: the answer to "why can't I work?" must not need a scroll or a search.
        rows.append(MenuRow(sentence(blocked_phrase(blocking, now, tz))))
    account = report.account
    who = [part for part in ((account.email, account.plan) if account else ()) if part]
    rows.append(MenuRow(" · ".join(who) if who else "Claude Code"))
    rows.append(_status_row(report, now, options))
    if report.windows:
        rows.append(SEPARATOR)
        first_other = next((item for item in report.windows if item.window.other), None)
        for item in report.windows:
            if item is first_other:
                rows.append(MenuRow(OTHER_LIMITS))
            rows += _window_rows(item, now, tz)
    if report.extra_usage is not None:
        rows.append(MenuRow(f"{USAGE_CREDITS}: {extra_usage_phrase(report.extra_usage)}"))
    grant_row = reset_grant_row(report.reset_grants, now, tz)
    if grant_row is not None:
        rows.append(MenuRow(grant_row))
    hits_row = week_row(report.limit_hits, now)
    if hits_row is not None:
        rows.append(MenuRow(hits_row))
    return rows


def _console_rows(console: ConsoleReport, now: datetime, tz: tzinfo) -> list[MenuRow]:
    head = "Console" + (f" · {console.organization}" if console.organization else "")
    rows = [MenuRow(head)]
    if console.status is not Status.OK or console.figures is None:
        rows.append(MenuRow(console_status_line(console, now)))
    rows += [MenuRow(line) for line in console_lines(console, now, tz)]
    return rows


NOT_SET_UP = (
    "Not set up: run `claude auth login` (Claude Code),",
    "or set ANTHROPIC_ADMIN_API_KEY (Console)",
)


def menu_rows(
    reports: Reports, now: datetime, tz: tzinfo, options: ViewOptions, notices: Sequence[str] = ()
) -> tuple[MenuRow, ...]:
    """The whole menu, top to bottom: account, status, windows, extra usage, Console spend, actions.

    notices are one-line problems of our own (the settings file, the history database) to show.
    """
    report, console, web = reports.code, reports.console, reports.web
    rows: list[MenuRow] = [] if report is None else _code_rows(report, now, tz, options)
    if web is not None:
        show_overage = report is None or report.extra_usage is None
        rows += [MenuRow(line) for line in web_lines(web, show_overage)]
    if console is not None:
        if rows:
            rows.append(SEPARATOR)
        rows += _console_rows(console, now, tz)
    if not rows:
        rows = [MenuRow(line) for line in NOT_SET_UP]
    if notices:
        rows += [SEPARATOR, *(MenuRow(notice[:1].upper() + notice[1:]) for notice in notices)]
    rows += [
        SEPARATOR,
        MenuRow("Refresh now", Action.REFRESH, default=True),
        MenuRow("Open usage page", Action.OPEN_USAGE_PAGE),
        MenuRow("Show history", Action.SHOW_HISTORY),
        *_feed_offer(reports, options),
        MenuRow("Notifications", Action.TOGGLE_NOTIFICATIONS, checked=options.notifications_on),
        *_snooze_rows(now, tz, options),
        MenuRow("Use claude.ai browser session", Action.TOGGLE_WEB, checked=options.web_enabled),
        *(
            []
            if options.autostart is None
            else [MenuRow("Start at login", Action.TOGGLE_AUTOSTART, checked=options.autostart)]
        ),
        MenuRow("Open settings file", Action.OPEN_SETTINGS),
        MenuRow("Open log folder", Action.OPEN_LOGS),
        MenuRow(f"About {options.app_name}", Action.ABOUT),
        SEPARATOR,
        MenuRow("Quit", Action.QUIT),
    ]
    return tuple(rows)


def _feed_offer(reports: Reports, options: ViewOptions) -> list[MenuRow]:
    """The one-click install of our status line, while Claude Code is not feeding us figures."""
    fed = reports.code is not None and any(item.source is Source.CLAUDE_CODE for item in reports.code.windows)
    if options.feed_installed is not False or fed:
        return []
    return [MenuRow("Get live figures from Claude Code (add status line)", Action.INSTALL_STATUSLINE)]


def _snooze_rows(now: datetime, tz: tzinfo, options: ViewOptions) -> list[MenuRow]:
    if not options.notifications_on:
        return []
    until = options.snoozed_until
    if until is not None and until > now:
        local = until.astimezone(tz)
        when = f"{local:%H:%M}" if local.date() == now.astimezone(tz).date() else f"{local:%a %H:%M}"
        return [MenuRow(f"    Snoozed until {when}: resume now", Action.RESUME_NOTIFICATIONS)]
    return [
        MenuRow("    Snooze for 1 hour", Action.SNOOZE_HOUR),
        MenuRow("    Snooze until tomorrow", Action.SNOOZE_TOMORROW),
    ]


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
