"""Writes waiting in memory while the database file cannot take them, written in order when it can."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

# Rows kept in memory while the file cannot be written (a week of polls of three windows at the
# fastest pace the settings allow, 60 s, is about 30,000); beyond this the oldest go, so a long outage
# cannot eat the machine's memory.
MAX_PENDING_ROWS = 60_000

WindowRow = tuple[int, str, str, float, int | None, int]  # ..., resets_at, locked (0 or 1)
ConsoleRow = tuple[int, str, str, str]


@dataclass
class Pending:
    """Writes not yet in the file: applied in order by the next flush, and merged into every read."""

    windows: list[WindowRow] = field(default_factory=list)
    console_snapshots: list[ConsoleRow] = field(default_factory=list)
    console_days: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    kv: dict[str, tuple[str, int]] = field(default_factory=dict)
    backoff: dict[str, tuple[int, str, int] | None] = field(default_factory=dict)  # None: cleared

    def __bool__(self) -> bool:
        return bool(self.windows or self.console_snapshots or self.console_days or self.kv or self.backoff)

    def rows(self) -> int:
        return len(self.windows) + len(self.console_snapshots)

    def trim(self) -> int:
        """Drop the oldest rows beyond MAX_PENDING_ROWS; returns how many went."""
        dropped = 0
        for rows in (self.windows, self.console_snapshots):
            excess = len(rows) - MAX_PENDING_ROWS
            if excess > 0:
                del rows[:excess]
                dropped += excess
        return dropped

    def write_to(self, conn: sqlite3.Connection) -> None:
        """Apply everything waiting; the caller holds the transaction."""
        conn.executemany(
            "INSERT INTO window_snapshots (at, window_id, label, utilization, resets_at, locked)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            self.windows,
        )
        conn.executemany(
            "INSERT INTO console_snapshots (at, month, mtd_cost, workspaces) VALUES (?, ?, ?, ?)",
            self.console_snapshots,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO console_days (kind, day, rows, fetched_at) VALUES (?, ?, ?, ?)",
            [(kind, day, rows, at) for (kind, day), (rows, at) in self.console_days.items()],
        )
        for key, (value, at) in self.kv.items():
            upsert_kv(conn, key, value, at)
        for scope, backoff in self.backoff.items():
            if backoff is None:
                conn.execute("DELETE FROM backoff WHERE scope = ?", (scope,))
            else:
                conn.execute(
                    "INSERT INTO backoff (scope, until, reason, strikes) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (scope) DO UPDATE SET"
                    " until = excluded.until, reason = excluded.reason, strikes = excluded.strikes",
                    (scope, *backoff),
                )


def upsert_kv(conn: sqlite3.Connection, key: str, value: str, at: int) -> None:
    conn.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, value, at),
    )
