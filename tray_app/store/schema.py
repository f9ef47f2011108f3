"""The history database's tables and their migrations, counted by PRAGMA user_version."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

logger = logging.getLogger(__name__)

# Each entry moves the schema from version i to i + 1. Never edit a released entry: append a new one.
# IF NOT EXISTS because the file may be shared with the terminal monitor, which never sets user_version.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS window_snapshots (
            at INTEGER NOT NULL,
            window_id TEXT NOT NULL,
            label TEXT NOT NULL,
            utilization REAL NOT NULL,
            resets_at INTEGER
        )""",
        "CREATE INDEX IF NOT EXISTS window_snapshots_window_at ON window_snapshots (window_id, at)",
        """CREATE TABLE IF NOT EXISTS kv (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS backoff (
            scope TEXT PRIMARY KEY,
            until INTEGER NOT NULL,
            reason TEXT NOT NULL,
            strikes INTEGER NOT NULL
        )""",
    ),
    (
        # Console mode: the Admin API's rows of each UTC day, so past days are fetched once.
        """CREATE TABLE IF NOT EXISTS console_days (
            kind TEXT NOT NULL,
            day TEXT NOT NULL,
            rows TEXT NOT NULL,
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (kind, day)
        )""",
        # One row per Console refresh: month-to-date cost (a decimal string) and per-workspace costs.
        """CREATE TABLE IF NOT EXISTS console_snapshots (
            at INTEGER NOT NULL,
            month TEXT NOT NULL,
            mtd_cost TEXT NOT NULL,
            workspaces TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS console_snapshots_at ON console_snapshots (at)",
    ),
    (
        # The latest figure of each window as a source other than our own poll told it (Claude Code's
        # status-line feed): one row per source and window, replaced only by news (core.readings).
        """CREATE TABLE IF NOT EXISTS readings (
            source TEXT NOT NULL,
            window_id TEXT NOT NULL,
            label TEXT NOT NULL,
            utilization REAL NOT NULL,
            resets_at INTEGER,
            observed_at INTEGER NOT NULL,
            PRIMARY KEY (source, window_id)
        )""",
    ),
    (
        # The server's locked_reason on a window (issue 15): a limit hit even below 100 %. Older rows: 0.
        "ALTER TABLE window_snapshots ADD COLUMN locked INTEGER NOT NULL DEFAULT 0",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

# The terminal monitor's 5-hour history; read, never written, altered or pruned (it may be running).
LEGACY_FIVE_HOUR = "usage_snapshots"


def migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Bring the file to SCHEMA_VERSION in one transaction; a newer file is used as it is."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version == SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have migrated since.
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            logger.warning(
                "%s has schema version %d, newer than this program's %d; using it without migrating",
                path,
                version,
                SCHEMA_VERSION,
            )
        for index in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[index]:
                connection.execute(statement)
            logger.info("Migrated %s to schema version %d", path, index + 1)
        if version < SCHEMA_VERSION:
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
