"""Light or dark: the desktop's own choice where it can be read cheaply, else the setting."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

_ASK_TIMEOUT = 1.5  # seconds: a desktop that does not answer by then gets the light theme


@dataclass(frozen=True)
class Palette:
    background: str
    card: str
    text: str
    muted: str
    track: str
    chart: str  # the chart's own theme name (tray_app.ui.chart_theme)


PALETTES: Mapping[str, Palette] = {
    "light": Palette("#f4f4f4", "#ffffff", "#1f1f1f", "#5f5f5f", "#dddddd", "light"),
    "dark": Palette("#1e1e1e", "#2a2a2a", "#ececec", "#a8a8a8", "#444444", "dark"),
}


def choose_theme(setting: str, platform: str, environ: Mapping[str, str]) -> str:
    """ "light" or "dark": the setting unless it is "auto", then the desktop's mode, else light."""
    if setting in PALETTES:
        return setting
    return system_theme(platform, environ) or "light"


def system_theme(platform: str, environ: Mapping[str, str]) -> str | None:
    """The desktop's light/dark mode, or None when it cannot be read (every failure is quiet)."""
    if platform == "win32":
        return _windows_theme()
    if platform == "darwin":
        answer = _ask(["defaults", "read", "-g", "AppleInterfaceStyle"])
        # The key exists only in dark mode; `defaults` fails (no answer) in light mode.
        return "dark" if answer and "dark" in answer.lower() else "light"
    gtk_theme = environ.get("GTK_THEME", "")
    if gtk_theme:
        return "dark" if ":dark" in gtk_theme.lower() or "dark" in gtk_theme.lower() else "light"
    scheme = _ask(["gsettings", "get", "org.gnome.desktop.interface", "color-scheme"])
    if scheme is not None and "dark" in scheme:
        return "dark"
    name = _ask(["gsettings", "get", "org.gnome.desktop.interface", "gtk-theme"])
    if name is not None:
        return "dark" if "dark" in name.lower() else "light"
    return "light" if scheme is not None else None


def _ask(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_ASK_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _windows_theme() -> str | None:
    with contextlib.suppress(OSError, ImportError):
        import winreg

        key = winreg.OpenKey(  # type: ignore[attr-defined,unused-ignore]
            winreg.HKEY_CURRENT_USER,  # type: ignore[attr-defined,unused-ignore]
            r"Software\Microsoft\Windows\CurrentVersion\Themes\Personalize",
        )
        with key:
            value, _ = winreg.QueryValueEx(key, "AppsUseLightTheme")  # type: ignore[attr-defined,unused-ignore]
        return "light" if value else "dark"
    return None
