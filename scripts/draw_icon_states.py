"""Draws docs/icon-states.png: every icon state at 22 px (as a panel shows it), on dark and light bars."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from tray_app.core.viewmodel import Badge, IconSpec, IconStyle, Level
from tray_app.ui.icon import render_icon

STATES = [
    ("42 %", IconSpec(42, 42.0, 30.0, Level.LOW, Level.LOW, Badge.NONE, IconStyle.COLOR)),
    ("63 %", IconSpec(63, 63.0, 30.0, Level.MEDIUM, Level.LOW, Badge.NONE, IconStyle.COLOR)),
    ("81 %", IconSpec(81, 81.0, 55.0, Level.HIGH, Level.MEDIUM, Badge.NONE, IconStyle.COLOR)),
    ("95 %", IconSpec(95, 95.0, 91.0, Level.CRITICAL, Level.CRITICAL, Badge.NONE, IconStyle.COLOR)),
    ("pace", IconSpec(58, 58.0, 30.0, Level.MEDIUM, Level.LOW, Badge.PACE, IconStyle.COLOR)),
    ("blocked", IconSpec(40, 40.0, 41.0, Level.LOW, Level.LOW, Badge.NONE, IconStyle.COLOR, blocked=True)),
    ("old", IconSpec(67, 67.0, 30.0, Level.MEDIUM, Level.LOW, Badge.STALE, IconStyle.COLOR)),
    ("offline", IconSpec(67, 67.0, 30.0, Level.MEDIUM, Level.LOW, Badge.OFFLINE, IconStyle.COLOR)),
    ("login", IconSpec(None, None, None, Level.LOW, Level.LOW, Badge.LOGIN, IconStyle.COLOR)),
    ("mono", IconSpec(78, 78.0, 40.0, Level.HIGH, Level.LOW, Badge.PACE, IconStyle.MONO_DARK)),
]
PANEL = 22
SCALE = 3
CELL = 76


def main() -> None:
    width, height = CELL * len(STATES), 2 * (PANEL * SCALE + 12) + 18
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for row, background in enumerate(((40, 40, 40), (236, 236, 236))):
        top = row * (PANEL * SCALE + 12)
        draw.rectangle((0, top, width, top + PANEL * SCALE + 11), fill=background)
        for column, (_label, spec) in enumerate(STATES):
            if row == 0 and spec.style is IconStyle.MONO_DARK:
                spec = IconSpec(**{**spec.__dict__, "style": IconStyle.MONO_LIGHT})
            small = render_icon(spec, 64).resize((PANEL, PANEL), Image.Resampling.LANCZOS)
            big = small.resize((PANEL * SCALE, PANEL * SCALE), Image.Resampling.NEAREST)
            sheet.paste(big, (column * CELL + (CELL - PANEL * SCALE) // 2, top + 6), big)
    for column, (label, _spec) in enumerate(STATES):
        draw.text((column * CELL + CELL // 2, height - 10), label, fill=(0, 0, 0), anchor="mm")
    target = Path(__file__).resolve().parents[1] / "docs" / "icon-states.png"
    sheet.save(target)
    print(target)


if __name__ == "__main__":
    main()
