"""The history chart's colours, light and dark."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tray_app.core.viewmodel import Level
from tray_app.ui.icon import LEVEL_COLORS
from tray_app.ui.paint import RGB, mix

__all__ = ["CHART_THEMES", "ChartTheme"]


@dataclass(frozen=True)
class ChartTheme:
    """The colours of one theme."""

    background: RGB
    plot: RGB  # the plot areas
    future: RGB  # the part of the time axis after now
    over: RGB  # the band above 100 %
    text: RGB
    muted: RGB
    grid: RGB
    axis: RGB
    usage: RGB
    fill_alpha: int  # of the usage colour under the line
    projection: RGB
    reset: RGB
    gap: RGB
    hatch: RGB
    bar: RGB
    today_bar: RGB
    guides: tuple[RGB, RGB, RGB, RGB]  # 50, 75, 90 and 100 %


def _guides(base: RGB, share: float) -> tuple[RGB, RGB, RGB, RGB]:
    # The icon's level colours, so 50/75/90 % read as the same yellow/orange/red as the tray icon.
    medium, high, critical = (LEVEL_COLORS[level] for level in (Level.MEDIUM, Level.HIGH, Level.CRITICAL))
    return (mix(medium, base, share), mix(high, base, share), mix(critical, base, share), critical)


_WHITE = (255, 255, 255)
_NEAR_BLACK = (22, 23, 26)

CHART_THEMES: Mapping[str, ChartTheme] = MappingProxyType(
    {
        "light": ChartTheme(
            background=_WHITE,
            plot=(250, 250, 252),
            future=(240, 241, 246),
            over=(253, 235, 234),
            text=(28, 30, 36),
            muted=(96, 100, 112),
            grid=(226, 228, 234),
            axis=(150, 154, 166),
            usage=(37, 99, 235),
            fill_alpha=38,
            projection=(214, 32, 178),
            reset=(88, 92, 104),
            gap=(236, 237, 241),
            hatch=(208, 210, 218),
            bar=(13, 148, 136),
            today_bar=(126, 205, 197),
            # Yellow on white needs darkening to be seen at all.
            guides=((212, 158, 0), (232, 106, 0), (214, 40, 36), LEVEL_COLORS[Level.CRITICAL]),
        ),
        "dark": ChartTheme(
            background=_NEAR_BLACK,
            plot=(29, 30, 34),
            future=(38, 39, 46),
            over=(58, 28, 30),
            text=(232, 233, 238),
            muted=(156, 160, 172),
            grid=(52, 54, 62),
            axis=(98, 102, 114),
            usage=(96, 165, 250),
            fill_alpha=50,
            projection=(255, 72, 224),
            reset=(176, 180, 192),
            gap=(36, 37, 42),
            hatch=(62, 64, 74),
            bar=(45, 212, 191),
            today_bar=(30, 110, 102),
            guides=_guides(_NEAR_BLACK, 0.85),
        ),
    }
)
