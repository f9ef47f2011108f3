"""Which pystray backend to use, decided before pystray is imported (its import can crash otherwise)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

ENV_BACKEND = "PYSTRAY_BACKEND"
XORG_WARNING = (
    "no GTK or AppIndicator support found (PyGObject and the gir1.2-gtk-3.0 and "
    "gir1.2-ayatanaappindicator3-0.1 packages): using the bare X11 tray, which has no menu and no clicks"
)


@dataclass(frozen=True)
class BackendChoice:
    name: str  # a pystray backend name
    warning: str | None  # why the choice is poor, for the log and `doctor`


def _typelib_available(namespace: str, version: str) -> bool:
    try:
        import gi

        gi.require_version(namespace, version)
    except (ImportError, ValueError):
        return False
    return True


def detect_backend(environ: Mapping[str, str] | None = None, platform: str = sys.platform) -> BackendChoice:
    """appindicator (StatusNotifierItem) if its typelib exists, else gtk (XEMBED), else xorg, warned."""
    env = os.environ if environ is None else environ
    if env.get(ENV_BACKEND):
        return BackendChoice(env[ENV_BACKEND], None)
    if platform == "darwin":
        return BackendChoice("darwin", None)
    if platform == "win32":
        return BackendChoice("win32", None)
    if _typelib_available("Gtk", "3.0"):
        for namespace in ("AyatanaAppIndicator3", "AppIndicator3"):
            if _typelib_available(namespace, "0.1"):
                return BackendChoice("appindicator", None)
        return BackendChoice("gtk", None)
    return BackendChoice("xorg", XORG_WARNING)


def select_backend(
    environ: MutableMapping[str, str] | None = None, platform: str = sys.platform
) -> BackendChoice:
    """Detect and pin the backend in the environment, so `import pystray` tries only that one."""
    env = os.environ if environ is None else environ
    choice = detect_backend(env, platform)
    env[ENV_BACKEND] = choice.name
    return choice
