"""The week's limit hits where the user sees them: a menu row, and `status --json`'s limit_hits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tray_app.core.limit_export import limit_hits_text
from tray_app.core.models import (
    CodeReport,
    Forecast,
    LimitHit,
    Status,
    UsageWindow,
    WindowReport,
)
from tray_app.core.report import code_report_json
from tray_app.core.reports import Reports
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import all_rows

NOW = datetime(2026, 10, 12, 12, 0, tzinfo=UTC)
FABLE = "seven_day_overage_included"


def report(*hits: LimitHit) -> CodeReport:
    five = UsageWindow("five_hour", "5-hour", 40.0, NOW + timedelta(hours=2))
    return CodeReport(
        Status.OK,
        None,
        None,
        NOW,
        (WindowReport(five, Forecast(None, None, None)),),
        None,
        limit_hits=hits,
    )


def hit(window_id: str, label: str, hours_ago: float, lasted: float | None) -> LimitHit:
    start = NOW - timedelta(hours=hours_ago)
    return LimitHit(window_id, label, start, None if lasted is None else start + timedelta(hours=lasted))


def menu_texts(r: CodeReport) -> list[str]:
    return [row.text for row in all_rows(present(Reports(r), NOW, UTC, ViewOptions()).menu)]


HITS = (
    hit("five_hour", "5-hour", 9 * 24, 1),  # ended nine days ago: not this week
    hit("five_hour", "5-hour", 30, 2),
    hit(FABLE, "Weekly · Fable", 20, None),
    hit("five_hour", "5-hour", 3, 1.5),
)


def test_the_menu_counts_this_weeks_hits_per_window() -> None:
    rows = [text for text in menu_texts(report(*HITS)) if text.startswith("Limit hits")]
    assert rows == ["Limit hits, past 7 days: 5-hour (2), Weekly · Fable (1)"]


def test_no_hits_this_week_no_row() -> None:
    assert not any(text.startswith("Limit hits") for text in menu_texts(report(HITS[0])))
    assert not any(text.startswith("Limit hits") for text in menu_texts(report()))


def test_status_json_lists_the_hits_with_their_seconds() -> None:
    document = code_report_json(report(*HITS[1:3]), NOW)
    assert document["limit_hits"] == [
        {
            "window": "five_hour",
            "label": "5-hour",
            "started_at": "2026-10-11T06:00:00Z",
            "ended_at": "2026-10-11T08:00:00Z",
            "seconds": 7200,
        },
        {
            "window": FABLE,
            "label": "Weekly · Fable",
            "started_at": "2026-10-11T16:00:00Z",
            "ended_at": None,
            "seconds": 72000,
        },
    ]
    assert code_report_json(report(), NOW)["limit_hits"] == []


def test_the_table_names_ongoing_hits_and_times_in_the_users_zone() -> None:
    text = limit_hits_text(HITS[2:], NOW, UTC)
    assert text.splitlines() == [
        "Window          Started           Ended             Lasted",
        "Weekly · Fable  Sun 11 Oct 16:00  ongoing           20 h 0 m so far",
        "5-hour          Mon 12 Oct 09:00  Mon 12 Oct 10:30  1 h 30 m",
        "(2 in all; times in UTC)",
    ]
