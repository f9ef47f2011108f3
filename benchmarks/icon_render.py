"""Measure how long the tray icon takes to draw, uncached and through IconRenderer's cache.

Run from the repository root (so this checkout's code is measured, not the copy installed in the venv):
.venv/bin/python -m benchmarks.icon_render [--count 500]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics
import time
from collections.abc import Callable, Sequence

from benchmarks.harness import machine_line
from tray_app.core.viewmodel import Badge, IconSpec, IconStyle, Level
from tray_app.ui.icon import ICON_SIZE_DEFAULT, ICON_SIZE_MACOS, IconRenderer, render_icon

# A poller ticks every minute or so and the figures move slowly: most ticks repeat the last spec.
_TICKS_PER_CHANGE = 5


def varied_specs(count: int) -> list[IconSpec]:
    """`count` different specs cycling through numbers, levels, badges and styles."""
    levels, badges, styles = list(Level), list(Badge), list(IconStyle)
    specs = []
    for i in range(count):
        percent = (i * 7) % 101
        badge = badges[i % len(badges)]
        specs.append(
            IconSpec(
                percent=None if badge in (Badge.LOGIN, Badge.NO_DATA) else percent,
                gauge=float(percent),
                weekly=float((i * 3) % 101),
                level=levels[percent * len(levels) // 101],
                weekly_level=levels[i % len(levels)],
                badge=badge,
                style=styles[(i // len(badges)) % len(styles)],
            )
        )
    return specs


def timed(draw: Callable[[IconSpec], object], specs: Sequence[IconSpec]) -> list[float]:
    """Milliseconds per call of `draw`, one call per spec."""
    times = []
    for spec in specs:
        start = time.perf_counter()
        draw(spec)
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def report(label: str, times: Sequence[float]) -> None:
    mean = statistics.fmean(times)
    per_second = 1000.0 / mean if mean > 0 else float("inf")
    print(
        f"{label:<30} n={len(times):>6}  mean {mean:8.4f} ms  median {statistics.median(times):8.4f} ms"
        f"  {per_second:10.0f} /s"
    )


def run(count: int) -> None:
    specs = varied_specs(count)
    for size in (ICON_SIZE_DEFAULT, ICON_SIZE_MACOS):
        render_icon(specs[0], size)  # warm-up: first-use imports and allocations
        uncached = timed(functools.partial(render_icon, size=size), specs)
        report(f"{size} px uncached render_icon", uncached)
        for style in IconStyle:
            of_style = [t for t, spec in zip(uncached, specs, strict=True) if spec.style is style]
            report(f"  of which {style.value}", of_style)
        renderer = IconRenderer(size)
        ticks = list(itertools.chain.from_iterable(itertools.repeat(s, _TICKS_PER_CHANGE) for s in specs))
        cached = timed(renderer.image, ticks)
        report(f"{size} px IconRenderer.image", cached)
        hits = [t for i, t in enumerate(cached) if i % _TICKS_PER_CHANGE]
        report(f"{size} px cache hits only", hits)
        print(f"{'':<30} drawn {renderer.renders} of {len(ticks)} ticks")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=500, help="different specs to draw (default 500)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    print(machine_line())
    run(args.count)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
