"""What the details window shows, as plain text and colours: built from stored reports, no Tk here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from tray_app.core.console import ConsoleReport
from tray_app.core.grants import reset_grant_row
from tray_app.core.models import CodeReport, WindowReport
from tray_app.core.report import (
    USAGE_CREDITS,
    console_status_line,
    extra_usage_phrase,
    format_money,
    format_percent,
    month_phrase,
    pace_phrase,
    reset_phrase,
    sentence,
    source_phrase,
    status_line,
)
from tray_app.core.reports import Reports
from tray_app.core.spend_lines import key_rows, person_rows
from tray_app.core.view import level_for
from tray_app.core.viewmodel import Level

TOP_ROWS = 3  # models and workspaces shown: the window is a glance, `status` lists them all


@dataclass(frozen=True)
class Card:
    """One usage window: a bar in the icon's level colour and four lines of words."""

    heading: str  # "5-hour: 40 % used"
    fraction: float  # how full the bar is, 0..1
    level: Level
    reset: str
    pace: str
    source: str


@dataclass(frozen=True)
class DetailsContent:
    code_heading: str | None  # None: Console mode only
    code_status: str
    cards: tuple[Card, ...]
    extras: tuple[str, ...]  # usage credits, free resets
    console_heading: str | None  # None: no Console
    console_lines: tuple[str, ...]

    def texts(self) -> list[str]:
        """Every line of words in the order the window shows them (the test hook dumps these)."""
        lines = [] if self.code_heading is None else [self.code_heading, self.code_status]
        for card in self.cards:
            lines += [card.heading, card.reset, card.pace, card.source]
        lines += list(self.extras)
        if self.console_heading is not None:
            lines += [self.console_heading, *self.console_lines]
        return lines


def details_content(
    reports: Reports, now: datetime, tz: tzinfo, thresholds: Sequence[float]
) -> DetailsContent:
    code, console = reports.code, reports.console
    cards: tuple[Card, ...] = ()
    extras: list[str] = []
    heading, status = None, ""
    if code is not None:
        heading, status = _code_heading(code), status_line(code, now)
        cards = tuple(_card(item, now, tz, thresholds) for item in code.windows)
        if code.extra_usage is not None:
            extras.append(f"{USAGE_CREDITS}: {extra_usage_phrase(code.extra_usage)}")
        grants = reset_grant_row(code.reset_grants, now, tz)
        if grants is not None:
            extras.append(grants)
    console_heading, console_lines = (None, ()) if console is None else _console(console, now, tz)
    return DetailsContent(heading, status, cards, tuple(extras), console_heading, console_lines)


def _code_heading(report: CodeReport) -> str:
    parts = ["Claude Code"]
    if report.account is not None:
        parts += [part for part in (report.account.email, report.account.plan) if part]
    return " · ".join(parts)


def _card(item: WindowReport, now: datetime, tz: tzinfo, thresholds: Sequence[float]) -> Card:
    window = item.window
    used = window.utilization
    heading = f"{window.label}: {format_percent(used)} used"
    if window.locked:
        heading += " · blocked"
    # A locked window is at its limit whatever its figure says: the bar says so too.
    fraction = 1.0 if window.locked else max(0.0, min(used, 100.0)) / 100
    level = Level.CRITICAL if window.locked else level_for(used, thresholds)
    return Card(
        heading,
        fraction,
        level,
        sentence(reset_phrase(window.resets_at, now, tz, used)),
        sentence(pace_phrase(item, tz, now)),
        sentence(f"updated {source_phrase(item, now)}"),
    )


def _console(report: ConsoleReport, now: datetime, tz: tzinfo) -> tuple[str, tuple[str, ...]]:
    heading = "Console" + (f" · {report.organization}" if report.organization else "")
    figures = report.figures
    lines = [console_status_line(report, now)]
    if figures is None:
        return heading, (*lines, "No spend figures yet.")
    lines.append(month_phrase(figures, tz))
    money = figures.currency
    models = sorted(figures.by_model, key=lambda m: m.cost, reverse=True)[:TOP_ROWS]
    if models:
        lines.append(
            "Top models: " + ", ".join(f"{m.model} {format_money(float(m.cost), money)}" for m in models)
        )
    spaces = sorted(figures.workspaces, key=lambda w: w.cost, reverse=True)[:TOP_ROWS]
    if spaces:
        lines.append(
            "Top workspaces: " + ", ".join(f"{w.name} {format_money(float(w.cost), money)}" for w in spaces)
        )
    for label, spent in (("Top API keys", key_rows(figures)), ("Top people", person_rows(figures))):
        if spent:  # the top five and the others: who spent is known from the Analytics API only
            lines.append(f"{label}: " + ", ".join(f"{row.name} {row.amount}" for row in spent))
    if figures.my_claude_code_cost is not None:
        lines.append(f"Your Claude Code usage: {format_money(float(figures.my_claude_code_cost), money)}")
    my_api = None if figures.spenders is None else figures.spenders.my_api_cost
    if my_api is not None:
        lines.append(f"Your API spend: {format_money(my_api, money)}")
    return heading, tuple(lines)
