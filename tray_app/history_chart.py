"""Gathers the chart's data from the database (no network): used by `history --chart` and the menu."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from tray_app.core.chart_model import ChartInput
from tray_app.core.models import FIVE_HOUR, SEVEN_DAY
from tray_app.poller import ConsoleSource, UsageSource
from tray_app.store import Store


def chart_input(
    store: Store, code: UsageSource | None, console: ConsoleSource | None, now: datetime, tz: tzinfo
) -> ChartInput:
    five = None
    if code is not None:
        report = code.stored_report(timedelta(days=3650))
        five = next((item for item in report.windows if item.window.id == FIVE_HOUR), None)
    figures = None if console is None else console.stored_report().figures
    return ChartInput(
        now=now,
        tz=tz,
        five_hour=store.window_history(FIVE_HOUR, now - timedelta(hours=24)),
        five_hour_forecast=None if five is None else five.forecast,
        five_hour_resets_at=None if five is None else five.window.resets_at,
        weekly=store.window_history(SEVEN_DAY, now - timedelta(days=7)),
        console_daily=() if figures is None else figures.daily,
        console_projection=None if figures is None else figures.projected_month_end_cost,
        currency="USD" if figures is None else figures.currency,
        limit_hits=tuple(store.limit_log.hits(now - timedelta(days=7), now)),
    )
