"""SQLite history, last answers and shared state; the only user of sqlite3 for our own data."""

from tray_app.store.buffer import MAX_PENDING_ROWS
from tray_app.store.queries import Store
from tray_app.store.schema import SCHEMA_VERSION
from tray_app.store.state import BackoffScope, RefusalSource

__all__ = ["MAX_PENDING_ROWS", "SCHEMA_VERSION", "BackoffScope", "RefusalSource", "Store"]
