"""Reading numbers out of JSON that may hold anything: one definition for every parser."""

from __future__ import annotations

import math


def finite_number(value: object) -> float | None:
    """A finite int or float (bool excluded, it is an int in Python); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
