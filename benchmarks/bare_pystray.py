"""The smallest tray icon pystray can show: what benchmarks.bare_icon measures the tray against.

A 64 px Pillow image and a one-item menu, on whichever backend PYSTRAY_BACKEND names (the benchmark
pins the one the tray chooses), with GTK's GL off while pystray starts GTK, as tray_app.ui.tray does.
Nothing else is imported: neither tray_app nor the benchmarks' harness, so every byte it holds is the
toolkit's, pystray's, Pillow's and the interpreter's. It runs until it is sent SIGTERM.

Run: PYSTRAY_BACKEND=appindicator python -m benchmarks.bare_pystray
"""

from __future__ import annotations

import os
import sys
from typing import Any

SIZE = 64


def main() -> int:
    # The same switch as tray_app.ui.tray._gtk_without_gl: GL off only while pystray starts GTK, so
    # both programs pick their visuals the same way; a GDK_GL already set is left alone, as there.
    mine = sys.platform.startswith("linux") and "GDK_GL" not in os.environ
    if mine:
        os.environ["GDK_GL"] = "disable"
    try:
        import pystray
    finally:
        if mine:
            os.environ.pop("GDK_GL", None)
    from PIL import Image, ImageDraw

    # More than one colour, so the benchmark sees it drawn (tests.e2e.desktop.wait_for_stable_pixels).
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, SIZE - 5, SIZE - 5), fill=(40, 160, 90, 255), outline=(255, 255, 255, 255), width=4)

    def quit_icon(icon: Any, _item: Any) -> None:
        icon.stop()

    menu = pystray.Menu(pystray.MenuItem("Quit", quit_icon))
    icon = pystray.Icon("bare-pystray", icon=image, title="bare pystray icon", menu=menu)
    icon.run()  # without a setup function pystray makes the icon visible itself
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
