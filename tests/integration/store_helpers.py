"""What the store's tests share: fixed times, window rows, and the file as another program sees it."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from tray_app.core.models import UsageWindow

NOW = datetime(2026, 8, 4, 12, 0, tzinfo=UTC)
RESET = datetime(2026, 8, 4, 16, 20, tzinfo=UTC)


def windows(five: float, seven: float = 10.0) -> list[UsageWindow]:
    return [
        UsageWindow("five_hour", "5-hour", five, RESET),
        UsageWindow("seven_day", "7-day", seven, None),
    ]


def plain(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """What any other program (the terminal monitor, sqlite3 CLI) sees in the file."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def put_values(path: Path, values: Mapping[str, str], at: datetime = NOW) -> None:
    """Write kv rows as another process (or an earlier version of this program) does."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                "INSERT OR REPLACE INTO kv (key, value, updated_at) VALUES (?, ?, ?)",
                [(key, value, int(at.timestamp())) for key, value in values.items()],
            )
    finally:
        conn.close()
