"""Draws the application icon as PNG, ICO and ICNS from one description, in the live icon's gauge language.

Run it from anywhere: `.venv/bin/python icons/make_icons.py [--out DIR]` rewrites every file in this
folder (or in DIR). The tile, its outline and the two gauges are the tray icon's own drawing
(`tray_app.ui.icon.render_icon`); only the "C" dial in place of the number is drawn here, in the same
level colours. Every size is drawn natively, never scaled down from a bigger picture, so 16 px stays crisp.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

# Draw with this checkout's tray_app, not whichever copy the venv last installed.
_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from tray_app.core.viewmodel import Badge, IconSpec, IconStyle, Level  # noqa: E402
from tray_app.ui.icon import LEVEL_COLORS, render_icon  # noqa: E402

NAME = "claude-usage-tray"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 256)
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)  # what Pillow's ICNS writer stores (16 px has no PNG slot)

_RGB = tuple[int, int, int]
_SUPERSAMPLE = 4
_GRID = 64  # the live icon's layout square; the dial is described in the same units


@dataclass(frozen=True)
class AppIconDesign:
    """Everything that decides the application icon's pixels: a change to the design is one edit here."""

    tile: IconSpec  # the live icon with no number: its tile, outline and the two gauges
    dial_colors: tuple[_RGB, ...]  # the segments of the "C", from its lower tip round to its upper tip
    dial_stops: tuple[float, ...]  # where each colour ends, in percent of the sweep (the last is 100)
    dial_top: float  # in units of the 64-unit layout square; the dial is centred left to right
    dial_bottom: float
    dial_stroke: float
    dial_opening: float  # degrees of the gap on the right that makes it a "C"
    icns_inset: float  # share of each side left empty on macOS, whose icons sit inside a margin


DESIGN = AppIconDesign(
    tile=IconSpec(
        percent=None,
        gauge=62.0,
        weekly=38.0,
        level=Level.LOW,
        weekly_level=Level.LOW,
        badge=Badge.NONE,
        style=IconStyle.COLOR,
    ),
    dial_colors=tuple(LEVEL_COLORS[level] for level in Level),
    # The default alert thresholds (50, 75, 90): the dial is the scale the icon's colours follow.
    dial_stops=(50.0, 75.0, 90.0, 100.0),
    # The live icon's number row: the dial stands where the number would be.
    dial_top=6.0,
    dial_bottom=39.0,
    dial_stroke=7.0,  # the weight of the live icon's digits
    dial_opening=100.0,
    icns_inset=100 / 1024,  # Apple's icon grid: an 824 px shape on the 1024 px canvas
)


def draw_app_icon(size: int, design: AppIconDesign = DESIGN) -> Image.Image:
    """The application icon as a square RGBA image of `size` pixels."""
    image = render_icon(design.tile, size)
    image.alpha_composite(_draw_dial(size, design))
    return image


def draw_icns_frame(size: int, design: AppIconDesign = DESIGN) -> Image.Image:
    """The icon inside the transparent margin macOS expects, on a `size`-pixel canvas."""
    inner = size - 2 * round(size * design.icns_inset)
    frame = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    offset = (size - inner) // 2
    frame.alpha_composite(draw_app_icon(inner, design), (offset, offset))
    return frame


def _px(units: float, size: int) -> int:
    # Snapped to the target's pixels with the live icon's rounding (half up), so the two line up.
    return math.floor(units * size / _GRID + 0.5)


def _draw_dial(size: int, design: AppIconDesign) -> Image.Image:
    # Whole-pixel box and stroke, as the live icon's digits have: at 16 px a 2 px ring, not a blur.
    top, bottom = _px(design.dial_top, size), _px(design.dial_bottom, size)
    left = (size - (bottom - top)) // 2
    right = left + bottom - top
    stroke = max(1, _px(design.dial_stroke, size))
    s = _SUPERSAMPLE
    canvas = Image.new("RGBA", (size * s, size * s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    box = (left * s, top * s, right * s - 1, bottom * s - 1)
    # PIL measures angles clockwise from 3 o'clock: the sweep runs from the lower tip of the "C"
    # through the bottom and the left side to the upper tip.
    start = design.dial_opening / 2
    sweep = 360.0 - design.dial_opening
    begin = 0.0
    for color, stop in zip(design.dial_colors, design.dial_stops, strict=True):
        end = start + sweep * stop / 100
        draw.arc(box, start + sweep * begin / 100, end, fill=(*color, 255), width=stroke * s)
        begin = stop
    return canvas.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(out: Path, design: AppIconDesign = DESIGN) -> list[Path]:
    """Every icon file into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    images = {size: draw_app_icon(size, design) for size in PNG_SIZES}
    written = []
    for size, image in images.items():
        path = out / f"{NAME}-{size}.png"
        image.save(path, optimize=True)
        written.append(path)
    # The ICO writer would shrink the biggest image for every size; hand it each size drawn natively.
    ico = out / f"{NAME}.ico"
    largest = images[max(ICO_SIZES)]
    others = [images[size] for size in ICO_SIZES if size != max(ICO_SIZES)]
    largest.save(ico, sizes=[(size, size) for size in ICO_SIZES], append_images=others)
    written.append(ico)
    icns = out / f"{NAME}.icns"
    frames = {size: draw_icns_frame(size, design) for size in ICNS_SIZES}
    frames[max(ICNS_SIZES)].save(icns, append_images=list(frames.values()))
    written.append(icns)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent, help="folder to write to (this one)"
    )
    args = parser.parse_args(argv)
    for path in write_icons(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
