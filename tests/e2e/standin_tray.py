"""Stand-in for the real tray program: a small pystray icon used to prove the e2e harness works."""

from __future__ import annotations

import signal
import sys
from typing import Any

import pystray
from gi.repository import GLib
from PIL import Image

RED = (220, 40, 40, 255)
GREEN = (40, 160, 40, 255)


def make_image(color: tuple[int, int, int, int]) -> Image.Image:
    # A full opaque square, so that every pixel of the docked icon has the colour.
    return Image.new("RGBA", (64, 64), color)


def main() -> int:
    clicks = 0

    def on_refresh(icon: Any, item: Any) -> None:
        nonlocal clicks
        clicks += 1
        icon.icon = make_image(GREEN)
        print("REFRESH", clicks, flush=True)

    def on_quit(icon: Any, item: Any) -> None:
        print("QUIT", flush=True)
        icon.stop()

    icon = pystray.Icon(
        "claude-usage-tray",
        make_image(RED),
        "Claude usage (stand-in)",
        menu=pystray.Menu(
            pystray.MenuItem(lambda item: f"Clicks: {clicks}", None, enabled=False),
            pystray.MenuItem("Refresh now", on_refresh),
            pystray.Menu.SEPARATOR,
            pystray.MenuItem("Quit", on_quit),
        ),
    )

    def on_sigterm() -> bool:
        print("SIGTERM", flush=True)
        icon.stop()
        return False  # GLib.SOURCE_REMOVE: run once

    def setup(icon: Any) -> None:
        icon.visible = True
        print("VISIBLE", type(icon).__module__, flush=True)

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, on_sigterm)
    icon.run(setup)
    print("STOPPED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
