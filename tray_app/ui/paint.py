"""Pixel helpers shared by the icon and the chart."""

from __future__ import annotations

import math

__all__ = ["RGB", "mix", "snap"]

RGB = tuple[int, int, int]


def snap(value: float) -> int:
    """The nearest whole pixel, halves up."""
    # The builtin's banker's rounding would lay odd and even sizes out differently, and put equal
    # layouts a pixel apart.
    return math.floor(value + 0.5)


def mix(rgb: RGB, base: RGB, share: float) -> RGB:
    """`share` of rgb over base."""
    r, g, b = (snap(c * share + d * (1 - share)) for c, d in zip(rgb, base, strict=True))
    return (r, g, b)
