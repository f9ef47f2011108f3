"""The Code-mode report: forecasts attached to windows, the `status --json` document and its text form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from tray_app.core.blocked import blocked_phrase, blocking_window
from tray_app.core.forecast import MIN_SPAN, forecast
from tray_app.core.grants import reset_grants_json
from tray_app.core.limit_hits import limit_hit_json
from tray_app.core.models import (
    Account,
    CodeReport,
    CodeUsage,
    ExtraUsage,
    Snapshot,
    Source,
    Status,
    WindowReport,
)
from tray_app.core.money import format_money as format_money  # re-exported: status, tray and rules
from tray_app.core.readings import Reading, merge
from tray_app.core.timeparse import iso_utc

if TYPE_CHECKING:  # only annotations: the statusline must not pay for importing Console mode
    from tray_app.core.console import ConsoleReport, MonthFigures

JSON_SCHEMA_VERSION = 1
_CENT = Decimal("0.01")


def build_code_report(
    status: Status,
    message: str | None,
    account: Account | None,
    stored: tuple[datetime, CodeUsage] | None,
    histories: Mapping[str, Sequence[Snapshot]],
    min_span: timedelta = MIN_SPAN,
    *,
    fed: Sequence[Reading] = (),
    now: datetime | None = None,
    source: Source = Source.ANTHROPIC,
) -> CodeReport:
    """Attach a forecast to every window of the stored figures (empty when nothing is stored).

    fed: Claude Code's readings, shown instead of a stored figure when they are news (core.readings);
    now drops those of a period already over. source: where the stored figures came from.
    """
    polled = () if stored is None else tuple(Reading(w, stored[0], source) for w in stored[1].windows)
    readings = merge(polled, fed, now)
    if not readings:
        return CodeReport(status, message, account, None if stored is None else stored[0], (), _extra(stored))
    windows = tuple(
        WindowReport(
            r.window,
            forecast(r.window, histories.get(r.window.id, ()), r.observed_at, min_span),
            r.source,
            r.observed_at,
        )
        for r in readings
    )
    updated_at = max(r.observed_at for r in readings)
    return CodeReport(status, message, account, updated_at, windows, _extra(stored))


def _extra(stored: tuple[datetime, CodeUsage] | None) -> ExtraUsage | None:
    return None if stored is None else stored[1].extra_usage


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def _rounded(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def _extra_json(extra: ExtraUsage | None) -> dict[str, Any] | None:
    if extra is None:
        return None
    return {
        "enabled": extra.enabled,
        "used": round(extra.used, 2),
        "limit": _rounded(extra.limit),
        "currency": extra.currency,
        "utilization": extra.utilization,
    }


def code_report_json(report: CodeReport, now: datetime | None = None) -> dict[str, Any]:
    """The "code" object of `status --json` (a stable interface: extend it, never rename).

    now: the moment the free resets are counted at (None: when they were last asked for).
    """
    return {
        "status": report.status.value,
        "message": report.message,
        "account": None
        if report.account is None
        else {
            "email": report.account.email,
            "plan": report.account.plan,
            "organization": report.account.organization,
        },
        "updated_at": _iso(report.updated_at),
        "windows": [
            {
                "id": item.window.id,
                "label": item.window.label,
                "utilization": item.window.utilization,
                "resets_at": _iso(item.window.resets_at),
                "blocked": item.window.blocked,
                "binding": item.window.binding,
                "other": item.window.other,
                "rate_per_hour": _rounded(item.forecast.rate_per_hour),
                "projected_at_reset": _rounded(item.forecast.projected_at_reset, 1),
                "limit_at": _iso(item.forecast.limit_at),
                "source": item.source.value,
                "observed_at": _iso(item.observed_at),
            }
            for item in report.windows
        ],
        "extra_usage": _extra_json(report.extra_usage),
        "reset_grants": reset_grants_json(report.reset_grants, now),
        # Our own history's episodes at 100 % or locked in the last seven days (core.limit_hits).
        "limit_hits": [limit_hit_json(hit, now) for hit in report.limit_hits],
    }


def money(amount: Decimal | None) -> float | None:
    """A JSON number in major units, rounded to cents (exact sums are kept as Decimal until here)."""
    return None if amount is None else float(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def console_report_json(report: ConsoleReport) -> dict[str, Any]:
    """The "console" object of `status --json`."""
    figures = report.figures
    document: dict[str, Any] = {
        "status": report.status.value,
        "message": report.message,
        "organization": report.organization,
        "updated_at": _iso(report.updated_at),
        "month": None,
        "currency": "USD",
        "mtd_cost": None,
        "projected_month_end_cost": None,
        "budget": None,
        "by_model": [],
        "workspaces": [],
        "my_email": None,
        "my_claude_code_cost": None,
        "source": None,  # "analytics" (the Usage & Cost Analytics API) or "cost_report"
        "source_note": report.source_note,
        "by_api_key": [],  # who and what spent: only from the Analytics API, every key and actor
        "by_actor": [],
        "my_api_cost": None,
    }
    if figures is None:
        return document
    document.update(_spenders_json(figures))
    document.update(
        month=figures.month,
        currency=figures.currency,
        mtd_cost=money(figures.mtd_cost),
        projected_month_end_cost=money(figures.projected_month_end_cost),
        budget=money(figures.budget),
        by_model=[
            {
                "model": m.model,
                "cost": money(m.cost),
                "input_tokens": m.input_tokens,
                "output_tokens": m.output_tokens,
                "cache_read_input_tokens": m.cache_read_input_tokens,
                "cache_creation_input_tokens": m.cache_creation_input_tokens,
            }
            for m in figures.by_model
        ],
        workspaces=[
            {"id": w.id, "name": w.name, "cost": money(w.cost), "budget": money(w.budget)}
            for w in figures.workspaces
        ],
        my_email=figures.my_email,
        my_claude_code_cost=money(figures.my_claude_code_cost),
    )
    return document


def _spenders_json(figures: MonthFigures) -> dict[str, Any]:
    spenders = figures.spenders
    if spenders is None:
        return {"source": figures.source}
    return {
        "source": figures.source,
        "by_api_key": [
            {
                "id": k.id,
                "name": k.name,
                "cost": money(k.cost),
                "deleted": k.deleted,
                "budget": money(k.budget),
                "projected_month_end_cost": money(k.projected_month_end_cost),
            }
            for k in spenders.by_api_key
        ],
        "by_actor": [
            {
                "type": a.type,
                "id": a.id,
                "name": a.name,
                "email": a.email,
                "cost": money(a.cost),
                "deleted": a.deleted,
            }
            for a in spenders.by_actor
        ],
        "my_api_cost": money(spenders.my_api_cost),
    }


def status_document(
    code: CodeReport | None,
    generated_at: datetime,
    console: ConsoleReport | None = None,
    web: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole `status --json` document (web: the claude.ai object, already rendered, or None)."""
    return {
        "schema": JSON_SCHEMA_VERSION,
        "generated_at": iso_utc(generated_at),
        "code": None if code is None else code_report_json(code, generated_at),
        "console": None if console is None else console_report_json(console),
        "web": web,
    }


def month_phrase(figures: MonthFigures, tz: tzinfo) -> str:
    """'This month: $1,234.56 · projected $2,100 by Nov 30 · budget $3,000 (41 %)'."""
    text = f"This month: {format_money(float(figures.mtd_cost), figures.currency)}"
    if figures.projected_month_end_cost is not None:
        last_day = datetime.strptime(figures.month + "-01", "%Y-%m-%d") + timedelta(days=32)
        last_day = last_day.replace(day=1) - timedelta(days=1)
        projected = format_money(float(figures.projected_month_end_cost), figures.currency).split(".")[0]
        text += f" · projected {projected} by {last_day:%b} {last_day.day}"
    if figures.budget is not None:
        share = figures.mtd_cost / figures.budget * 100
        text += f" · budget {format_money(float(figures.budget), figures.currency)} ({share:.0f} %)"
    return text


def console_lines(report: ConsoleReport, now: datetime, tz: tzinfo) -> list[str]:
    """The Console figures as lines of text, as `status` prints them: the month by model and workspace,
    by API key and person (top five and the others), the user's own spend, and the figures' source."""
    from tray_app.core.spend_lines import own_spend_lines, source_line, spender_lines

    figures = report.figures
    if figures is None:
        return []
    source = source_line(report)
    lines = [*month_lines(figures, tz), *spender_lines(figures), *own_spend_lines(figures)]
    return lines if source is None else [*lines, source]


def month_lines(figures: MonthFigures, tz: tzinfo) -> list[str]:
    """The month's total, then its models and workspaces indented below it (shared with the tray menu)."""
    lines = [month_phrase(figures, tz)]
    for model in figures.by_model:
        lines.append(f"    {model.model}: {format_money(float(model.cost), figures.currency)}")
    for workspace in figures.workspaces:
        spent = format_money(float(workspace.cost), figures.currency)
        if workspace.budget is not None:
            spent += f" of {format_money(float(workspace.budget), figures.currency)}"
        label = workspace.name if workspace.id is None else f"Workspace {workspace.name}"
        lines.append(f"    {label}: {spent}")
    return lines


def console_status_line(report: ConsoleReport, now: datetime) -> str:
    if report.status is Status.OK and report.updated_at is not None:
        return f"Updated {format_age(now - report.updated_at)}"
    return report.message or report.status.value.replace("_", " ")


def render_console_text(report: ConsoleReport, now: datetime, tz: tzinfo) -> str:
    """The Console part of `status`."""
    head = "Console" + (f" · {report.organization}" if report.organization else "")
    lines = [head, console_status_line(report, now), "", *console_lines(report, now, tz)]
    if report.figures is None:
        lines.append("No spend figures yet.")
    return "\n".join(lines).rstrip() + "\n"


def format_duration(delta: timedelta) -> str:
    """'2 h 14 m', '45 m', '3 d 4 h', '30 s': compact and never negative."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} m"
    if minutes:
        return f"{minutes} m"
    return f"{secs} s"


def format_age(delta: timedelta) -> str:
    """'just now', '20 s ago', '4 min ago', '2 h 5 m ago'."""
    seconds = int(delta.total_seconds())
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{format_duration(delta)} ago"


def format_percent(value: float) -> str:
    """Whole percent as Claude shows it, one decimal only below 1 % so a fresh window is not '0 %'."""
    return f"{value:.1f} %" if 0 < value < 1 else f"{value:.0f} %"


def reset_phrase(resets_at: datetime | None, now: datetime, tz: tzinfo, used: float = 0.0) -> str:
    """'resets in 2 h 14 m (at 16:20)' today; 'resets Thu 19:00 (in 2 d 3 h)' further out.

    No reset time means a window not started yet, unless it is in use: then the server did not say.
    """
    if resets_at is None:
        return "not started" if used <= 0 else "reset time not given"
    local = resets_at.astimezone(tz)
    left = resets_at - now
    if left <= timedelta(0):
        return f"reset due at {local:%H:%M}"
    if left < timedelta(hours=20):
        return f"resets in {format_duration(left)} (at {local:%H:%M})"
    return f"resets {local:%a %H:%M} (in {format_duration(left)})"


def sentence(text: str) -> str:
    """text with its first letter capitalised and the rest untouched ('resets Thu' stays 'Thu')."""
    return text[:1].upper() + text[1:]


def pace_phrase(item: WindowReport, tz: tzinfo, now: datetime | None = None) -> str:
    """'22 %/h · projected 110 % at reset · limit at 14:32', or why there is no projection.

    now: name the day of a limit that is not today ('limit at Thu 02:10'), as a weekly window's is.
    """
    fc = item.forecast
    if fc.rate_per_hour is None:
        return "pace: not enough history yet"
    parts = [f"{fc.rate_per_hour:.1f} %/h"]
    if fc.projected_at_reset is not None:
        parts.append(f"projected {fc.projected_at_reset:.0f} % at reset")
    if fc.limit_at is not None:
        local = fc.limit_at.astimezone(tz)
        today = now is None or local.date() == now.astimezone(tz).date()
        parts.append(f"limit at {local:%H:%M}" if today else f"limit at {local:%a %H:%M}")
    return " · ".join(parts)


def source_phrase(item: WindowReport, now: datetime) -> str:
    """'from Claude Code, 20 s ago': where a window's figure came from and when it was heard."""
    if item.observed_at is None:
        return f"from {item.source.display}"
    return f"from {item.source.display}, {format_age(now - item.observed_at)}"


def status_line(report: CodeReport, now: datetime) -> str:
    """'Updated 20 s ago', or the problem in plain words."""
    if report.status is Status.OK and report.updated_at is not None:
        return f"Updated {format_age(now - report.updated_at)}"
    return report.message or report.status.value.replace("_", " ")


# The product's word since 2026 for what the API calls extra usage (api-2026.md 2.4); the JSON keeps
# `extra_usage`, a stable interface.
USAGE_CREDITS = "Usage credits"
# The heading of the windows our table of names does not know (UsageWindow.other).
OTHER_LIMITS = "Other limits"


def extra_usage_phrase(extra: ExtraUsage) -> str:
    used = format_money(extra.used, extra.currency)
    if not extra.enabled:
        return f"off ({used} used)"
    if extra.limit is None:
        return f"{used} spent, no monthly limit"
    return f"{used} of {format_money(extra.limit, extra.currency)} this month"


def render_text(report: CodeReport, now: datetime, tz: tzinfo) -> str:
    """The human summary printed by `status`."""
    head = ["Claude Code"]
    if report.account is not None:
        head += [part for part in (report.account.email, report.account.plan) if part]
    lines = [" · ".join(head), status_line(report, now), ""]
    blocking = blocking_window((item.window for item in report.windows), now)
    if blocking is not None:
        # What stops the user comes first, as in the tray's menu, before any figure that looks fine.
        lines[2:2] = [sentence(blocked_phrase(blocking, now, tz))]
    width = max((len(item.window.label) for item in report.windows), default=0)
    width = max(width, len(USAGE_CREDITS))
    first_other = next((item for item in report.windows if item.window.other), None)
    for item in report.windows:
        window = item.window
        if item is first_other:
            lines.append(OTHER_LIMITS)
        percent = format_percent(window.utilization)
        reset = reset_phrase(window.resets_at, now, tz, window.utilization)
        lines.append(f"{window.label:<{width}}  {percent:>6}  {reset}")
        lines.append(f"{'':<{width}}  {'':>6}  {pace_phrase(item, tz)}")
        lines.append(f"{'':<{width}}  {'':>6}  {sentence(source_phrase(item, now))}")
    if report.extra_usage is not None:
        lines.append(f"{USAGE_CREDITS:<{width}}  {'':>6}  {extra_usage_phrase(report.extra_usage)}")
    if not report.windows and report.extra_usage is None:
        lines.append("No usage figures yet.")
    return "\n".join(lines).rstrip() + "\n"
