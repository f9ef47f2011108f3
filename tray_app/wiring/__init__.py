"""The composition root: the one place that builds adapters, from an Environment and a Clock passed in.

- `tray_app.wiring.app`: the program for one command (store, HTTP client, credentials, the monitors).
- `tray_app.wiring.statusline`: the statusline's smaller graph, the read-only history alone.
- `tray_app.wiring.tray`: the tray icon, notifier, alert centre and poller around an App.

This module imports nothing itself: the statusline runs on every prompt and must not pay for requests
and the rest when it imports its own part. The names of `wiring.app` are served from here on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tray_app.wiring.app import App, autostart_for, open_app, pin_tray_backend, settings_for

__all__ = ["App", "autostart_for", "open_app", "pin_tray_backend", "settings_for"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("tray_app.wiring.app"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
