"""The chart's canvas: shapes drawn supersampled for smooth lines, text set at the final size."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from tray_app.core.chart_layout import Box
from tray_app.ui.chart_theme import ChartTheme
from tray_app.ui.paint import RGB, snap

__all__ = ["Font", "Fonts", "Painter", "Point", "Surface", "load_fonts"]

Point = tuple[float, float]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_SUPERSAMPLE = 3
_FONT_TITLE, _FONT_TEXT, _FONT_SMALL = 20, 15, 14


@dataclass(frozen=True)
class Fonts:
    """The chart's three text sizes; also the widths the layout makes room for."""

    title: Font
    text: Font
    small: Font

    def axis(self, text: str) -> float:
        return self.small.getlength(text)

    def value(self, text: str) -> float:
        return self.text.getlength(text)


def load_fonts() -> Fonts:
    # Pillow's bundled FreeType font: the same glyphs on every machine with the same Pillow.
    return Fonts(
        ImageFont.load_default(size=_FONT_TITLE),
        ImageFont.load_default(size=_FONT_TEXT),
        ImageFont.load_default(size=_FONT_SMALL),
    )


@dataclass(frozen=True)
class _Text:
    xy: Point
    text: str
    font: Font
    fill: RGB
    anchor: str
    backdrop: RGB | None


class Surface:
    """Shapes on a supersampled image, in output-pixel coordinates."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self._draw = ImageDraw.Draw(image)

    @staticmethod
    def _scale(points: Sequence[Point]) -> list[tuple[float, float]]:
        return [(x * _SUPERSAMPLE, y * _SUPERSAMPLE) for x, y in points]

    @staticmethod
    def _width(width: float) -> int:
        return max(1, round(width * _SUPERSAMPLE))

    def rect(self, box: tuple[float, float, float, float], fill: tuple[int, ...]) -> None:
        x0, y0, x1, y1 = (round(v * _SUPERSAMPLE) for v in box)
        if x1 > x0 and y1 > y0:
            self._draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)

    def polygon(self, points: Sequence[Point], fill: tuple[int, ...]) -> None:
        self._draw.polygon(self._scale(points), fill=fill)

    def line(
        self, points: Sequence[Point], fill: tuple[int, ...], width: float, round_ends: bool = False
    ) -> None:
        scaled = self._scale(points)
        pixels = self._width(width)
        if len(scaled) > 1:
            self._draw.line(scaled, fill=fill, width=pixels, joint="curve")
        if round_ends or len(scaled) == 1:
            for x, y in (scaled[0], scaled[-1]):
                r = pixels / 2
                self._draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)

    def dashed(
        self, start: Point, end: Point, fill: tuple[int, ...], width: float, dash: float, gap: float
    ) -> None:
        length = math.dist(start, end)
        if length == 0:
            return
        ux, uy = (end[0] - start[0]) / length, (end[1] - start[1]) / length
        offset = 0.0
        while offset < length:
            stop = min(length, offset + dash)
            a = (start[0] + ux * offset, start[1] + uy * offset)
            b = (start[0] + ux * stop, start[1] + uy * stop)
            self.line([a, b], fill, width)
            offset += dash + gap

    def hline(self, y: float, left: float, right: float, fill: tuple[int, ...], width: int = 1) -> None:
        """A horizontal rule on whole output pixels: gridlines stay crisp instead of smeared over two rows."""
        top = snap(y - width / 2)
        self.rect((left, top, right, top + width), fill)

    def vline(self, x: float, top: float, bottom: float, fill: tuple[int, ...], width: int = 1) -> None:
        left = snap(x - width / 2)
        self.rect((left, top, left + width, bottom), fill)

    def dot(self, centre: Point, radius: float, fill: tuple[int, ...]) -> None:
        x, y = centre[0] * _SUPERSAMPLE, centre[1] * _SUPERSAMPLE
        r = radius * _SUPERSAMPLE
        self._draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


class Painter(Surface):
    """The whole chart: shapes supersampled for smooth lines, text queued and set at the final size."""

    def __init__(self, size: tuple[int, int], theme: ChartTheme, fonts: Fonts) -> None:
        width, height = size
        super().__init__(Image.new("RGB", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), theme.background))
        self.size = size
        self.theme = theme
        self.fonts = fonts
        self._texts: list[_Text] = []

    def layer(self) -> Surface:
        """A transparent surface to draw on; `clip` puts its part inside a box onto the chart."""
        return Surface(Image.new("RGBA", self.image.size, (0, 0, 0, 0)))

    def clip(self, layer: Surface, box: Box) -> None:
        left, top, right, bottom = (v * _SUPERSAMPLE for v in box)
        region = layer.image.crop((left, top, right, bottom))
        self.image.paste(region, (left, top), region)

    def text(
        self,
        xy: Point,
        text: str,
        font: Font,
        fill: RGB,
        anchor: str = "la",
        backdrop: RGB | None = None,
    ) -> None:
        self._texts.append(_Text(xy, text, font, fill, anchor, backdrop))

    def finish(self) -> Image.Image:
        # A box filter: no ringing around thin lines, unlike the sharper resampling filters.
        image = self.image.reduce(_SUPERSAMPLE)
        draw = ImageDraw.Draw(image)
        for t in self._texts:
            if t.backdrop is not None:
                x0, y0, x1, y1 = draw.textbbox(t.xy, t.text, font=t.font, anchor=t.anchor)
                draw.rectangle((x0 - 4, y0 - 3, x1 + 3, y1 + 2), fill=t.backdrop)
            draw.text(t.xy, t.text, font=t.font, fill=t.fill, anchor=t.anchor)
        return image
