"""`claude-usage-tray watch`: a live full-screen terminal dashboard of the figures the tray shows.

Rich is optional (the `tui` extra) and imported only inside functions, so the rest of the program
runs without it. This module reads nothing itself: it renders what the callables it is given return.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, TextIO

from tray_app.clock import local_tz, utc_now
from tray_app.core.console import ConsoleReport, MonthFigures
from tray_app.core.models import CodeReport, ExtraUsage, Status, WindowReport
from tray_app.core.report import (
    OTHER_LIMITS,
    USAGE_CREDITS,
    extra_usage_phrase,
    format_age,
    format_money,
    format_percent,
    month_phrase,
    pace_phrase,
    reset_phrase,
    sentence,
    source_phrase,
)
from tray_app.core.spend_lines import (
    BY_API_KEY,
    BY_PERSON,
    key_rows,
    own_spend_lines,
    person_label,
    person_rows,
    source_line,
)
from tray_app.core.view import NOT_SET_UP, ViewOptions, level_for
from tray_app.core.viewmodel import Level
from tray_app.core.web_report import WebReport, web_lines

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.text import Text

logger = logging.getLogger(__name__)

INSTALL_HINT = "claude-usage-tray watch needs Rich: pip install 'claude-usage-tray[tui]'"
EXIT_OK = 0
EXIT_NO_RICH = 2
DEFAULT_THRESHOLDS: tuple[float, float, float] = ViewOptions().thresholds
BAR_WIDTH = 30
MIN_BAR_WIDTH = 10
WIDE_TABLE = 72  # room for the per-model cache columns
EXTRA_LABEL = USAGE_CREDITS
# Amber and orange between green and red, as the tray icon colours its gauge.
LEVEL_STYLES = {
    Level.LOW: "green",
    Level.MEDIUM: "yellow",
    Level.HIGH: "dark_orange",
    Level.CRITICAL: "red",
}
_SOFT = (Status.OK, Status.STALE)


@dataclass(frozen=True)
class WatchState:
    """Everything the dashboard shows; None for a source that is not set up.

    notice: a problem of the dashboard itself (the figures could not be read), shown above them.
    """

    code: CodeReport | None
    console: ConsoleReport | None
    web: WebReport | None
    notice: str | None = None


def _cells(percent: float | None, width: int) -> int:
    if percent is None:
        return 0
    return round(min(max(percent, 0.0), 100.0) / 100 * width)


def _level_style(percent: float, thresholds: Sequence[float]) -> str:
    return LEVEL_STYLES[level_for(percent, thresholds)]


def _bar(percent: float, projected: float | None, width: int, thresholds: Sequence[float]) -> Text:
    """Used cells solid, the way to the projection at reset shaded, the rest light."""
    from rich.text import Text

    used = _cells(percent, width)
    ahead = max(used, _cells(projected, width))
    bar = Text()
    bar.append("█" * used, style=_level_style(percent, thresholds))
    if projected is not None and ahead > used:
        bar.append("▒" * (ahead - used), style=_level_style(projected, thresholds))
    bar.append("░" * (width - ahead), style="grey42")
    return bar


@dataclass(frozen=True)
class _Gauge:
    """One row: label, bar (none when percent is None), percent and a phrase; the pace line below it."""

    label: str
    percent: float | None
    projected: float | None
    tail: str
    pace: str | None = None
    alarm: bool = False


class _Gauges:
    """Rows of gauges in aligned columns, whose bars shrink so that the phrases fit narrow terminals."""

    def __init__(self, rows: Sequence[_Gauge], thresholds: Sequence[float]) -> None:
        self._rows = tuple(rows)
        self._thresholds = thresholds

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        label_width = max(len(row.label) for row in self._rows)
        tails = max((len(row.tail) for row in self._rows if row.percent is not None), default=0)
        room = options.max_width - label_width - tails - len("    100 %    ")
        bar_width = max(MIN_BAR_WIDTH, min(BAR_WIDTH, room))
        for row in self._rows:
            line = Text().append(f"{row.label:<{label_width}}", style="bold").append("  ")
            if row.percent is not None:
                line.append_text(_bar(row.percent, row.projected, bar_width, self._thresholds))
                style = f"bold {_level_style(row.percent, self._thresholds)}"
                line.append(f"  {format_percent(row.percent):>6}", style=style)
                line.append("  " if row.tail else "")
            line.append(row.tail)
            yield line
            if row.pace is not None:
                indent = Text(" " * (label_width + 2))
                yield indent.append(row.pace, style="bold red" if row.alarm else "dim")


def _problem_box(title: str, message: str) -> RenderableType:
    from rich.panel import Panel
    from rich.text import Text

    return Panel(
        Text(message),
        title=Text(title, style="bold red"),
        title_align="left",
        border_style="red",
    )


def _status_parts(
    status: Status, message: str | None, updated_at: datetime | None, now: datetime
) -> list[RenderableType]:
    """'Updated 20 s ago' (as `status` says it), and a red box when something is wrong.

    Figures read back from the database are STALE by construction; their age says all there is to say.
    """
    from rich.text import Text

    parts: list[RenderableType] = []
    words = status.value.replace("_", " ")
    if status not in _SOFT:
        parts.append(_problem_box(sentence(words), message or words))
    if updated_at is not None:
        parts.append(Text(f"Updated {format_age(now - updated_at)}", style="dim"))
    elif status in _SOFT:
        parts.append(Text(message or words, style="yellow"))
    return parts


def _window_gauge(item: WindowReport, now: datetime, tz: tzinfo) -> _Gauge:
    window, fc = item.window, item.forecast
    return _Gauge(
        # A gauge table has no room for a heading row: the other limits carry it in their label.
        label=f"{OTHER_LIMITS} · {window.label}" if window.other else window.label,
        percent=window.utilization,
        projected=fc.projected_at_reset,
        tail=reset_phrase(window.resets_at, now, tz, window.utilization),
        pace=f"{sentence(pace_phrase(item, tz))} · {source_phrase(item, now)}",
        alarm=fc.limit_at is not None or (fc.projected_at_reset or 0.0) > 100,
    )


def _extra_gauge(extra: ExtraUsage) -> _Gauge:
    with_bar = extra.enabled and extra.limit is not None and extra.utilization is not None
    return _Gauge(EXTRA_LABEL, extra.utilization if with_bar else None, None, extra_usage_phrase(extra))


def _code_panel(report: CodeReport, now: datetime, tz: tzinfo, thresholds: Sequence[float]) -> RenderableType:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    parts: list[RenderableType] = []
    account = report.account
    who = [part for part in ((account.email, account.plan) if account else ()) if part]
    if who:
        parts.append(Text(" · ".join(who), style="bold"))
    parts += _status_parts(report.status, report.message, report.updated_at, now)
    gauges = [_window_gauge(item, now, tz) for item in report.windows]
    if report.extra_usage is not None:
        gauges.append(_extra_gauge(report.extra_usage))
    if gauges:
        parts += [Text(), _Gauges(gauges, thresholds)]
    else:
        parts.append(Text("No usage figures yet."))
    return Panel(
        Group(*parts), title=Text("Claude Code", style="bold"), title_align="left", border_style="cyan"
    )


def format_tokens(count: int) -> str:
    """'312', '45.2 k', '1.3 M', '2.05 B': token counts short enough for a table cell."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f} k"
    if count < 1_000_000_000:
        return f"{count / 1_000_000:.1f} M"
    return f"{count / 1_000_000_000:.2f} B"


def _money(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else format_money(float(amount), currency)


class _ModelsTable:
    """Cost and tokens per model; the cache columns give way on narrow terminals, then the model name."""

    def __init__(self, figures: MonthFigures) -> None:
        self._figures = figures

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich import box
        from rich.table import Table

        figures = self._figures
        wide = options.max_width >= WIDE_TABLE
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
        table.add_column("Model", overflow="ellipsis")
        table.add_column("Cost", justify="right", no_wrap=True)
        headings = ("Input", "Output", "Cache read", "Cache write") if wide else ("Input", "Output")
        for heading in headings:
            table.add_column(heading, justify="right", style="dim", no_wrap=True)
        for model in figures.by_model:
            counts = [model.input_tokens, model.output_tokens]
            if wide:
                counts += [model.cache_read_input_tokens, model.cache_creation_input_tokens]
            table.add_row(model.model, _money(model.cost, figures.currency), *map(format_tokens, counts))
        yield table


def _workspaces_table(figures: MonthFigures, thresholds: Sequence[float]) -> RenderableType:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
    table.add_column("Workspace", overflow="ellipsis", no_wrap=True)
    table.add_column("Spent", justify="right")
    table.add_column("Budget", justify="right")
    table.add_column("Used", justify="right")
    for workspace in figures.workspaces:
        share = Text()
        if workspace.budget:
            percent = float(workspace.cost / workspace.budget * 100)
            share = Text(format_percent(percent), style=_level_style(percent, thresholds))
        table.add_row(
            workspace.name,
            _money(workspace.cost, figures.currency),
            _money(workspace.budget, figures.currency),
            share,
        )
    return table


def _spenders_tables(figures: MonthFigures, thresholds: Sequence[float]) -> list[RenderableType]:
    """'By API key' (with each key's budget) and 'By person': the top five and the others."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    tables: list[RenderableType] = []
    keys, people = key_rows(figures), person_rows(figures)
    if keys:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
        table.add_column(BY_API_KEY, overflow="ellipsis", no_wrap=True)
        for heading in ("Spent", "Budget", "Used"):
            table.add_column(heading, justify="right", no_wrap=True)
        for row in keys:
            share = Text()
            if row.share is not None:
                share = Text(format_percent(row.share), style=_level_style(row.share, thresholds))
            spent = format_money(row.cost, figures.currency)
            table.add_row(row.name, spent, row.budget or "", share, style="dim" if row.deleted else None)
        tables.append(table)
    if people:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
        table.add_column(BY_PERSON, overflow="ellipsis", no_wrap=True)
        table.add_column("Spent", justify="right", no_wrap=True)
        for row in people:
            table.add_row(person_label(row), row.amount, style="dim" if row.deleted else None)
        tables.append(table)
    return tables


def _figures_parts(
    report: ConsoleReport, figures: MonthFigures, now: datetime, tz: tzinfo, thresholds: Sequence[float]
) -> list[RenderableType]:
    from rich.text import Text

    parts: list[RenderableType] = [Text(month_phrase(figures, tz), style="bold")]
    if figures.budget:
        share = float(figures.mtd_cost / figures.budget * 100)
        end = figures.projected_month_end_cost
        projected = None if end is None else float(end / figures.budget * 100)
        parts.append(_Gauges([_Gauge("Budget", share, projected, "")], thresholds))
    if figures.by_model:
        parts += [Text(), _ModelsTable(figures)]
    if figures.workspaces:
        parts += [Text(), _workspaces_table(figures, thresholds)]
    for spenders in _spenders_tables(figures, thresholds):
        parts += [Text(), spenders]
    own = own_spend_lines(figures)
    if own:
        parts += [Text(), *(Text(line) for line in own)]
    source = source_line(report)
    if source is not None and (figures.spenders is not None or report.source_note):
        parts += [Text(), Text(source, style="dim")]  # a month from the cost report reads as it always did
    return parts


def _console_panel(
    report: ConsoleReport, now: datetime, tz: tzinfo, thresholds: Sequence[float]
) -> RenderableType:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    head = "Console" + (f" · {report.organization}" if report.organization else "")
    parts = _status_parts(report.status, report.message, report.updated_at, now)
    figures = report.figures
    if figures is None:
        parts.append(Text("No spend figures yet."))
    else:
        parts += [Text(), *_figures_parts(report, figures, now, tz, thresholds)]
    return Panel(Group(*parts), title=Text(head, style="bold"), title_align="left", border_style="cyan")


def _web_panel(web: WebReport, code: CodeReport | None) -> RenderableType | None:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    parts: list[RenderableType] = []
    if web.status not in _SOFT:
        words = web.status.value.replace("_", " ")
        parts.append(_problem_box(sentence(words), web.message or words))
    # The problem is in its box already; web_lines would repeat it as "claude.ai: ...".
    show_overage = code is None or code.extra_usage is None
    parts += [Text(line) for line in web_lines(replace(web, message=None), show_overage)]
    if not parts:
        return None
    head = f"claude.ai session ({web.browser})" if web.browser else "claude.ai session"
    return Panel(Group(*parts), title=Text(head, style="bold"), title_align="left", border_style="cyan")


def dashboard(
    state: WatchState, now: datetime, tz: tzinfo, *, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> RenderableType:
    """The whole screen at `now`: Code mode, claude.ai, Console, each in its panel; problems in red."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    header = (
        Text().append("Claude usage", style="bold").append(f" · {now.astimezone(tz):%H:%M:%S}", style="dim")
    )
    parts: list[RenderableType] = [header]
    if state.notice:
        parts.append(_problem_box("Dashboard", state.notice))
    if state.code is not None:
        parts.append(_code_panel(state.code, now, tz, thresholds))
    web = None if state.web is None else _web_panel(state.web, state.code)
    if web is not None:
        parts.append(web)
    if state.console is not None:
        parts.append(_console_panel(state.console, now, tz, thresholds))
    if state.code is None and state.console is None and web is None and not state.notice:
        parts.append(Panel(Text("\n".join(NOT_SET_UP)), border_style="yellow"))
    parts.append(Text("Ctrl+C to quit", style="dim"))
    return Group(*parts)


def render_dashboard(
    state: WatchState,
    now: datetime,
    tz: tzinfo,
    width: int = 100,
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> str:
    """The dashboard as plain text (no colour, no escape codes, no trailing blanks): tests, golden files."""
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(dashboard(state, now, tz, thresholds=thresholds))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def _attempt(fetch: Callable[[], WatchState], state: WatchState, what: str) -> WatchState:
    # The screen loop is a loop boundary: a failed read keeps the last figures and says so.
    try:
        return replace(fetch(), notice=None)
    except Exception:
        logger.exception("watch: %s failed", what)
        return replace(state, notice=f"could not {what} the figures: see the log file")


def _has_changed(changed: Callable[[], bool]) -> bool:
    try:
        return changed()
    except Exception:
        logger.exception("watch: checking the database for changes failed")
        return True  # read again: if the database is unreadable, the read says so on screen


def run_watch(
    load: Callable[[], WatchState],
    changed: Callable[[], bool],
    poll: Callable[[], WatchState] | None,
    *,
    poll_every: float,
    tick: float = 1.0,
    tz_factory: Callable[[], tzinfo] = local_tz,
    clock: Callable[[], datetime] = utc_now,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    terminal: Console | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Show the dashboard full screen until Ctrl+C; returns the exit status (2 without Rich).

    Redraws every `tick` seconds, so countdowns move while the figures stand still; reloads with
    `load()` when `changed()` says the database changed; when `poll` is given (no tray is fetching),
    calls it at start and then every `poll_every` seconds. terminal: Rich's Console on `stdout` (the
    process's own by default); `stderr` gets the hint when Rich is missing.
    """
    try:
        from rich.console import Console
        from rich.live import Live
    except ImportError:
        print(INSTALL_HINT, file=stderr or sys.stderr)
        return EXIT_NO_RICH

    def render(state: WatchState) -> RenderableType:
        return dashboard(state, clock(), tz_factory(), thresholds=thresholds)

    try:
        state = _attempt(load, WatchState(None, None, None), "read")
        next_poll = time.monotonic() if poll is not None else float("inf")
        with Live(
            render(state), console=terminal or Console(file=stdout), screen=True, auto_refresh=False
        ) as live:
            while True:
                if poll is not None and time.monotonic() >= next_poll:
                    state = _attempt(poll, state, "fetch")
                    next_poll = time.monotonic() + poll_every
                elif _has_changed(changed):
                    state = _attempt(load, state, "read")
                live.update(render(state), refresh=True)
                time.sleep(max(0.0, min(tick, next_poll - time.monotonic())))
    except KeyboardInterrupt:
        # Live's exit has already left the alternate screen and shown the cursor again.
        return EXIT_OK
