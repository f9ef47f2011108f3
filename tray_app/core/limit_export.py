"""Limit hits for people and programs: `history --limits` as a table, CSV or JSON, and status --json."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from tray_app.core.limit_hits import counts, limit_hit_json
from tray_app.core.models import LimitHit
from tray_app.core.report import format_duration
from tray_app.core.timeparse import iso_utc

CSV_COLUMNS = ("window", "label", "started_at", "ended_at", "seconds")
ONGOING = "ongoing"
WEEK = timedelta(days=7)


def limit_hits_json(hits: Sequence[LimitHit], since: datetime, now: datetime) -> dict[str, Any]:
    return {"schema": 1, "since": iso_utc(since), "limit_hits": [limit_hit_json(hit, now) for hit in hits]}


def limit_hits_csv(hits: Sequence[LimitHit], now: datetime) -> str:
    """One row per hit; ended_at is empty while it goes on."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for hit in hits:
        ended = "" if hit.ended_at is None else iso_utc(hit.ended_at)
        seconds = max(0, int(hit.duration(now).total_seconds()))
        writer.writerow([hit.window_id, hit.label, iso_utc(hit.started_at), ended, seconds])
    return out.getvalue()


def _local(moment: datetime, tz: tzinfo) -> str:
    return f"{moment.astimezone(tz):%a %d %b %H:%M}"


def limit_hits_text(hits: Sequence[LimitHit], now: datetime, tz: tzinfo) -> str:
    """A table in the user's own time, newest last; a line saying so when there were none."""
    if not hits:
        return "No limit hits in this period.\n"
    rows = [("Window", "Started", "Ended", "Lasted")]
    for hit in hits:
        ended = ONGOING if hit.ended_at is None else _local(hit.ended_at, tz)
        lasted = format_duration(hit.duration(now)) + (" so far" if hit.ended_at is None else "")
        rows.append((hit.label, _local(hit.started_at, tz), ended, lasted))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]])
        for row in rows
    ]
    zone = f"{now.astimezone(tz):%Z}"
    return "\n".join(line.rstrip() for line in lines) + f"\n({len(hits)} in all; times in {zone})\n"


def week_row(hits: Sequence[LimitHit], now: datetime) -> str | None:
    """The menu's count of the last seven days' hits per window; None when there were none.

    Window labels can hold a middle dot themselves ("Weekly · Fable"), so the counts go in brackets.
    """
    counted = counts(hits, now - WEEK)
    if not counted:
        return None
    return "Limit hits, past 7 days: " + ", ".join(f"{label} ({count})" for label, count in counted.items())
