"""The stored history as CSV (for spreadsheets) or JSON (for scripts)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from tray_app.core.timeparse import iso_utc

WindowRow = tuple[datetime, str, str, float, datetime | None]
ConsoleRow = tuple[datetime, str, Decimal]
CSV_COLUMNS = ("time", "source", "window", "label", "utilization", "resets_at", "month", "mtd_cost")


def history_csv(windows: Sequence[WindowRow], console: Sequence[ConsoleRow]) -> str:
    """One row per stored window snapshot ("code") and per Console refresh ("console"), by time."""
    rows: list[tuple[datetime, list[str]]] = [
        (at, [iso_utc(at), "code", wid, label, f"{util:g}", "" if reset is None else iso_utc(reset), "", ""])
        for at, wid, label, util, reset in windows
    ]
    rows += [(at, [iso_utc(at), "console", "", "", "", "", month, str(cost)]) for at, month, cost in console]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(row for _, row in sorted(rows, key=lambda pair: pair[0]))
    return out.getvalue()


def history_json(
    windows: Sequence[WindowRow], console: Sequence[ConsoleRow], since: datetime
) -> dict[str, Any]:
    return {
        "schema": 1,
        "since": iso_utc(since),
        "code": [
            {
                "time": iso_utc(at),
                "window": wid,
                "label": label,
                "utilization": util,
                "resets_at": None if reset is None else iso_utc(reset),
            }
            for at, wid, label, util, reset in windows
        ],
        # Money as a decimal string: exact, as stored.
        "console": [
            {"time": iso_utc(at), "month": month, "mtd_cost": str(cost)} for at, month, cost in console
        ],
    }
