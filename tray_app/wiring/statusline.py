"""The statusline's graph: the history database, read-only, found from the environment alone.

Kept to the store and the Environment so a prompt pays for nothing else (no requests, no settings file).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tray_app.environment import Environment
from tray_app.store import Store
from tray_app.store.readings import FEED_WAIT_MS


@contextlib.contextmanager
def open_history(env: Environment) -> Iterator[Store | None]:
    """The history database read-only; None when there is none yet (or not of this program's schema).

    Only the environment can move the database, so the settings file is not read.
    """
    # A prompt must not wait on a file another program holds: without it the line shows less, at once.
    store = Store.open_readonly(env.paths.database, busy_timeout_ms=FEED_WAIT_MS)
    try:
        yield store
    finally:
        if store is not None:
            store.close()
