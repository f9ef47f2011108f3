"""The statusline's graph: the history database, read-only, found from the environment alone.

Kept to the store and the Environment so a prompt pays for nothing else (no requests, no settings file).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tray_app.environment import Environment
from tray_app.store import Store


@contextlib.contextmanager
def open_history(env: Environment) -> Iterator[Store | None]:
    """The history database read-only; None when there is none yet (or not of this program's schema).

    Only the environment can move the database, so the settings file is not read.
    """
    store = Store.open_readonly(env.paths.database)
    try:
        yield store
    finally:
        if store is not None:
            store.close()
