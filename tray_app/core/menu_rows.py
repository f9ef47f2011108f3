"""The tray's menu, short enough for a laptop screen: at most MAX_TOP_ROWS rows at the top level.

The top level answers "am I about to be stopped, when does it free up, what did we spend": the block and
the status, one line per window that matters, usage credits, one Console line. The rest is one click
away in submenus ("More limits", the Console breakdown, "Notifications", "More"). Figure rows carry
Action.OPEN_DETAILS: an item with an action is drawn as readable text rather than greyed out, and a
click on a figure opens the details window, where the figures are drawn in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from tray_app.core.blocked import blocked_phrase, blocking_window
from tray_app.core.console import ConsoleReport, MonthFigures
from tray_app.core.grants import reset_grant_row
from tray_app.core.limit_export import week_row
from tray_app.core.models import FIVE_HOUR, SEVEN_DAY, CodeReport, Source, Status, WindowReport
from tray_app.core.report import (
    OTHER_LIMITS,
    USAGE_CREDITS,
    console_status_line,
    extra_usage_phrase,
    format_money,
    format_percent,
    month_lines,
    reset_phrase,
    sentence,
    source_phrase,
)
from tray_app.core.reports import Reports
from tray_app.core.spend_lines import (
    BY_API_KEY,
    BY_PERSON,
    key_rows,
    own_spend_lines,
    person_rows,
    source_line,
)
from tray_app.core.view_options import ViewOptions, status_row
from tray_app.core.viewmodel import SEPARATOR, Action, MenuRow
from tray_app.core.web_report import web_lines

# An 800-pixel screen shows about twenty rows of a GTK or Windows menu, with the panel taking its share.
MAX_TOP_ROWS = 18
# From this figure on a window earns a line of its own at the top level (the icon's first threshold).
HOT_PERCENT = 50.0
MORE_LIMITS = "More limits"

NOT_SET_UP = (
    "Not set up: run `claude auth login` (Claude Code),",
    "or set ANTHROPIC_ADMIN_API_KEY (Console)",
)


def _details(text: str) -> MenuRow:
    return MenuRow(text, Action.OPEN_DETAILS)


def rate_phrase(rate_per_hour: float) -> str:
    """'+12 %/h', '+0.4 %/h', '0 %/h': tenths only where they still say something (below 10)."""
    rate = round(rate_per_hour, 1)
    if rate == 0:
        return "0 %/h"
    return f"{rate:+.1f} %/h" if abs(rate) < 10 else f"{rate:+.0f} %/h"


def short_reset(item: WindowReport, now: datetime, tz: tzinfo) -> str:
    """'resets 16:20' within the next 20 hours, 'resets Thu 19:00' further out."""
    window = item.window
    if window.resets_at is None or window.resets_at <= now:
        return reset_phrase(window.resets_at, now, tz, window.utilization)
    local = window.resets_at.astimezone(tz)
    return (
        f"resets {local:%H:%M}"
        if window.resets_at - now < timedelta(hours=20)
        else f"resets {local:%a %H:%M}"
    )


def _figure(item: WindowReport, marks: bool) -> str:
    window = item.window
    text = f"{window.label} {format_percent(window.utilization)}"
    if window.locked:
        text += " (locked)"  # the figure alone would not say it: a locked window may be far from 100 %
    if marks and window.binding:
        text += " (binding)"  # limits[].is_active: the limit that binds now
    return text


def window_row(item: WindowReport, now: datetime, tz: tzinfo) -> MenuRow:
    """'5-hour 62 % · resets 16:20 · → 112 % at reset · from Claude Code, 20 s ago': a top-level window in
    one line, with where its figure came from (the two sources can be minutes apart)."""
    parts = [_figure(item, marks=False), short_reset(item, now, tz)]
    projected = item.forecast.projected_at_reset
    if projected is not None and not item.window.blocked:  # a blocked window has no pace worth telling
        parts.append(f"→ {projected:.0f} % at reset")
    parts.append(source_phrase(item, now))
    return _details(" · ".join(parts))


def more_limits_row(item: WindowReport, now: datetime, tz: tzinfo) -> MenuRow:
    """A window in "More limits": its marks, reset, pace and where its figure came from."""
    window = item.window
    parts = [_figure(item, marks=True), reset_phrase(window.resets_at, now, tz, window.utilization)]
    forecast = item.forecast
    if forecast.rate_per_hour is not None and not window.blocked:
        parts.append(rate_phrase(forecast.rate_per_hour))
        if forecast.projected_at_reset is not None:
            parts.append(f"→ {forecast.projected_at_reset:.0f} % at reset")
        if forecast.limit_at is not None:
            local = forecast.limit_at.astimezone(tz)
            today = local.date() == now.astimezone(tz).date()
            parts.append(f"limit at {local:%H:%M}" if today else f"limit at {local:%a %H:%M}")
    parts.append(source_phrase(item, now))
    return _details(" · ".join(parts))


def _main_windows(report: CodeReport) -> list[WindowReport]:
    main = [item for item in report.windows if item.window.id in (FIVE_HOUR, SEVEN_DAY)]
    return main or list(report.windows[:1])


def _hot_first(windows: Sequence[WindowReport]) -> list[WindowReport]:
    """Windows that matter beyond the main two, the ones that stop the user first, then the fullest."""
    hot = [item for item in windows if item.window.blocked or item.window.utilization >= HOT_PERCENT]
    return sorted(hot, key=lambda item: (not item.window.blocked, -item.window.utilization))


def _code_head(report: CodeReport, now: datetime, tz: tzinfo, options: ViewOptions) -> list[MenuRow]:
    blocking = blocking_window((item.window for item in report.windows), now)
    # First: the answer to "why can't I work?" must not need a scroll, a search or a submenu.
    head = [] if blocking is None else [_details(sentence(blocked_phrase(blocking, now, tz)))]
    return [*head, status_row(report, now, options)]


def _more_limits(
    report: CodeReport, others: Sequence[WindowReport], now: datetime, tz: tzinfo
) -> list[MenuRow]:
    rows: list[MenuRow] = []
    first_other = next((item for item in others if item.window.other), None)
    for item in others:
        if item is first_other:
            rows.append(MenuRow(OTHER_LIMITS))
        rows.append(more_limits_row(item, now, tz))
    grant_row = reset_grant_row(report.reset_grants, now, tz)
    hits_row = week_row(report.limit_hits, now)
    rows += [_details(row) for row in (grant_row, hits_row) if row is not None]
    return rows


def _code_figures(
    report: CodeReport, now: datetime, tz: tzinfo, options: ViewOptions, room: int
) -> list[MenuRow]:
    """Block, status, windows and credits; room is the rows the rest of the menu leaves over."""
    head = _code_head(report, now, tz, options)
    extra = report.extra_usage
    credits = [] if extra is None else [_details(f"{USAGE_CREDITS}: {extra_usage_phrase(extra)}")]
    main = _main_windows(report)
    hot = _hot_first([item for item in report.windows if item not in main])
    # The "More limits" row is counted whether or not it is needed: the room is a ceiling, not a target.
    room_for_hot = max(0, room - len(head) - len(credits) - len(main) - 1)
    shown = {id(item) for item in [*main, *hot[:room_for_hot]]}
    top = [window_row(item, now, tz) for item in report.windows if id(item) in shown]
    more = _more_limits(report, [item for item in report.windows if id(item) not in shown], now, tz)
    if more:
        top.append(MenuRow(MORE_LIMITS, children=tuple(more)))
    return [*head, *top, *credits]


def _spenders(figures: MonthFigures) -> list[MenuRow]:
    """'By API key' and 'By person': submenus of the top five and the others ('prod-backend  $812.40')."""
    rows = []
    for label, spent in ((BY_API_KEY, key_rows(figures)), (BY_PERSON, person_rows(figures))):
        if spent:
            rows.append(
                MenuRow(label, children=tuple(_details(f"{row.name}  {row.amount}") for row in spent))
            )
    return rows


def _breakdown(console: ConsoleReport, figures: MonthFigures, tz: tzinfo) -> list[MenuRow]:
    """The month by model and workspace, by API key and person, the user's own spend, and why the month
    comes from the cost report when the Analytics API was tried."""
    rows = [_details(line) for line in month_lines(figures, tz)] + _spenders(figures)
    rows += [_details(line) for line in own_spend_lines(figures)]
    source = source_line(console)
    if console.source_note and source is not None:
        rows.append(_details(source))  # 'Source: cost report · The Analytics API refused this key ...'
    return rows


def console_row(console: ConsoleReport, now: datetime, tz: tzinfo) -> MenuRow:
    """'This month $1,475.78 · projected $1,762 · budget 49 %', opening the breakdown."""
    head = "Console" + (f" · {console.organization}" if console.organization else "")
    children = [_details(head), _details(console_status_line(console, now))]
    figures = console.figures
    if figures is None:
        return MenuRow(f"Console: {console_status_line(console, now)}", children=tuple(children))
    children += _breakdown(console, figures, tz)
    text = f"This month {format_money(float(figures.mtd_cost), figures.currency)}"
    if figures.projected_month_end_cost is not None:
        projected = format_money(float(figures.projected_month_end_cost), figures.currency)
        text += f" · projected {projected.split('.')[0]}"
    if figures.budget:
        text += f" · budget {figures.mtd_cost / figures.budget * 100:.0f} %"
    return MenuRow(text, children=tuple(children))


def menu_rows(
    reports: Reports, now: datetime, tz: tzinfo, options: ViewOptions, notices: Sequence[str] = ()
) -> tuple[MenuRow, ...]:
    """The whole menu, top to bottom: block and status, windows, credits, Console spend, actions.

    notices are one-line problems of our own (the settings file, the history database) to show.
    """
    report, console, web = reports.code, reports.console, reports.web
    rest: list[MenuRow] = []
    if web is not None:
        show_overage = report is None or report.extra_usage is None
        # The problem is told beside the claude.ai switch, under "More": it is not a figure.
        rest += [_details(line) for line in web_lines(replace(web, message=None), show_overage)]
    if console is not None:
        rest.append(console_row(console, now, tz))
    problems = [MenuRow(notice[:1].upper() + notice[1:]) for notice in notices]
    actions = _actions(reports, now, tz, options)
    room = MAX_TOP_ROWS - len(rest) - len(problems) - len(actions)
    rows = rest if report is None else _code_figures(report, now, tz, options, room) + rest
    if not rows:
        rows = [MenuRow(line) for line in NOT_SET_UP]
    return tuple(rows + problems + actions)


def _actions(reports: Reports, now: datetime, tz: tzinfo, options: ViewOptions) -> list[MenuRow]:
    return [
        SEPARATOR,
        MenuRow("Details…", Action.OPEN_DETAILS, default=True),
        MenuRow("Refresh now", Action.REFRESH),
        MenuRow("Open usage page", Action.OPEN_USAGE_PAGE),
        MenuRow("Show history", Action.SHOW_HISTORY),
        _notifications(now, tz, options),
        MenuRow("More", children=tuple(_more(reports, options))),
        SEPARATOR,
        MenuRow("Quit", Action.QUIT),
    ]


def _more(reports: Reports, options: ViewOptions) -> list[MenuRow]:
    """The account, the setup and the app's own files: needed now and then, not at a glance."""
    rows: list[MenuRow] = []
    account = None if reports.code is None else reports.code.account
    who = [part for part in ((account.email, account.plan) if account else ()) if part]
    if who:
        rows.append(_details(" · ".join(who)))
    rows += _feed_offer(reports, options)
    rows.append(MenuRow("Use claude.ai browser session", Action.TOGGLE_WEB, checked=options.web_enabled))
    web = reports.web
    if web is not None and web.status is not Status.OK and web.message:
        rows.append(_details(f"claude.ai: {web.message}"))
    if options.autostart is not None:
        rows.append(MenuRow("Start at login", Action.TOGGLE_AUTOSTART, checked=options.autostart))
    return [
        *rows,
        MenuRow("Open settings file", Action.OPEN_SETTINGS),
        MenuRow("Open log folder", Action.OPEN_LOGS),
        MenuRow(f"About {options.app_name}", Action.ABOUT),
    ]


def _feed_offer(reports: Reports, options: ViewOptions) -> list[MenuRow]:
    """The one-click install of our status line, while Claude Code is not feeding us figures."""
    fed = reports.code is not None and any(item.source is Source.CLAUDE_CODE for item in reports.code.windows)
    if options.feed_installed is not False or fed:
        return []
    return [MenuRow("Get live figures from Claude Code (add status line)", Action.INSTALL_STATUSLINE)]


def _notifications(now: datetime, tz: tzinfo, options: ViewOptions) -> MenuRow:
    """'Notifications' with the switch and the snoozes inside; its label tells when they are off."""
    switch = MenuRow("Notifications on", Action.TOGGLE_NOTIFICATIONS, checked=options.notifications_on)
    if not options.notifications_on:
        return MenuRow("Notifications: off", children=(switch,))
    until = options.snoozed_until
    if until is not None and until > now:
        local = until.astimezone(tz)
        when = f"{local:%H:%M}" if local.date() == now.astimezone(tz).date() else f"{local:%a %H:%M}"
        resume = MenuRow(f"Snoozed until {when}: resume now", Action.RESUME_NOTIFICATIONS)
        return MenuRow(f"Notifications: snoozed until {when}", children=(switch, resume))
    snoozes = (
        MenuRow("Snooze for 1 hour", Action.SNOOZE_HOUR),
        MenuRow("Snooze until tomorrow", Action.SNOOZE_TOMORROW),
    )
    return MenuRow("Notifications", children=(switch, *snoozes))
