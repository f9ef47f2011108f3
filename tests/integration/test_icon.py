"""The tray icon: golden PNGs at the sizes the hosts show, and the properties a user would notice.

Golden images are tests/golden/icon_<case>_<size>.png. 64 and 44 px are drawn directly (Linux and
Windows, macOS @2x); 22 and 16 px are the 64 px image resized with LANCZOS, as the tray hosts do.
After a deliberate change to the drawing, rewrite them with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/test_icon.py

then look at the new PNGs (enlarged) before committing them with the change.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from tray_app.core.viewmodel import Badge, IconSpec, IconStyle, Level
from tray_app.ui.icon import (
    ICON_SIZE_DEFAULT,
    ICON_SIZE_MACOS,
    LEVEL_COLORS,
    IconRenderer,
    render_icon,
)

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# Antialiasing may drift by a few levels between Pillow releases; a wrong colour or a missing mark
# moves many channels by far more than this.
MAX_CHANNEL_DRIFT = 8
NOISE = 2  # differences up to this are rounding, not counted as "differing"
MAX_DIFFERING_SHARE = 0.01

TILE = (31, 31, 31)


def spec(
    percent: int | None = 42,
    level: Level = Level.LOW,
    *,
    gauge: float | None = None,
    weekly: float | None = 30.0,
    weekly_level: Level = Level.LOW,
    badge: Badge = Badge.NONE,
    style: IconStyle = IconStyle.COLOR,
    blocked: bool = False,
) -> IconSpec:
    if gauge is None and percent is not None:
        gauge = float(percent)
    return IconSpec(percent, gauge, weekly, level, weekly_level, badge, style, blocked)


CASES: dict[str, IconSpec] = {
    "low": spec(42, Level.LOW, weekly=20),
    "medium": spec(63, Level.MEDIUM, weekly=55, weekly_level=Level.MEDIUM),
    "high": spec(81, Level.HIGH, weekly=30),
    "critical": spec(95, Level.CRITICAL, weekly=92, weekly_level=Level.CRITICAL),
    "zero": spec(0, Level.LOW, weekly=0),
    "full": spec(100, Level.CRITICAL, weekly=64, weekly_level=Level.MEDIUM),
    "pace": spec(58, Level.MEDIUM, weekly=40, badge=Badge.PACE),
    "stale": spec(67, Level.MEDIUM, weekly=35, badge=Badge.STALE),
    "offline": spec(67, Level.MEDIUM, weekly=35, badge=Badge.OFFLINE),
    "login": spec(None, gauge=None, weekly=None, badge=Badge.LOGIN),
    "no_data": spec(None, gauge=None, weekly=None, badge=Badge.NO_DATA),
    "mono_dark": spec(78, Level.HIGH, weekly=45, style=IconStyle.MONO_DARK),
    "mono_dark_pace": spec(78, Level.HIGH, weekly=45, badge=Badge.PACE, style=IconStyle.MONO_DARK),
    "mono_dark_stale": spec(78, Level.HIGH, weekly=45, badge=Badge.STALE, style=IconStyle.MONO_DARK),
    "mono_light": spec(34, Level.LOW, weekly=60, style=IconStyle.MONO_LIGHT),
    "mono_light_offline": spec(34, weekly=60, badge=Badge.OFFLINE, style=IconStyle.MONO_LIGHT),
    "mono_light_login": spec(None, weekly=None, badge=Badge.LOGIN, style=IconStyle.MONO_LIGHT),
    # Issue 15: the Fable week at 100 % under a 5-hour window at 40 %.
    "blocked": spec(40, Level.LOW, weekly=41, blocked=True),
    "mono_dark_blocked": spec(40, Level.LOW, weekly=41, style=IconStyle.MONO_DARK, blocked=True),
    "mono_light_blocked": spec(40, Level.LOW, weekly=41, style=IconStyle.MONO_LIGHT, blocked=True),
}
BLOCKED_CASES = ("blocked", "mono_dark_blocked", "mono_light_blocked")
SIZES = (ICON_SIZE_DEFAULT, ICON_SIZE_MACOS, 22, 16)


def shown(icon_spec: IconSpec, size: int) -> Image.Image:
    """The image as a host shows it: drawn at 64 or 44 px, smaller sizes resized from 64 px."""
    if size in (ICON_SIZE_DEFAULT, ICON_SIZE_MACOS):
        return render_icon(icon_spec, size)
    return render_icon(icon_spec, ICON_SIZE_DEFAULT).resize((size, size), Image.Resampling.LANCZOS)


def pixels(image: Image.Image) -> list[tuple[int, ...]]:
    """The RGBA pixels, row by row (getdata is deprecated in recent Pillow)."""
    data = image.convert("RGBA").tobytes()
    return [tuple(data[i : i + 4]) for i in range(0, len(data), 4)]


def drift(actual: Image.Image, expected: Image.Image) -> tuple[int, int]:
    """Largest channel difference and the number of pixels that differ beyond rounding noise."""
    worst = differing = 0
    for a, e in zip(pixels(actual), pixels(expected), strict=True):
        if a[3] == 0 and e[3] == 0:
            continue  # the colour of a fully transparent pixel is never seen
        delta = max(abs(x - y) for x, y in zip(a, e, strict=True))
        worst = max(worst, delta)
        differing += delta > NOISE
    return worst, differing


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_icon_matches_its_golden_image(name: str, size: int, tmp_path: Path) -> None:
    path = GOLDEN / f"icon_{name}_{size}.png"
    actual = shown(CASES[name], size)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        actual.save(path)
    assert path.exists(), f"{path.name} is missing; run with UPDATE_GOLDEN=1 to create it"
    with Image.open(path) as stored:
        expected = stored.copy()
    assert (expected.size, expected.mode) == (actual.size, actual.mode)
    worst, differing = drift(actual, expected)
    if worst > MAX_CHANNEL_DRIFT or differing >= MAX_DIFFERING_SHARE * size * size:
        actual.save(tmp_path / path.name)
        pytest.fail(
            f"{path.name}: channels differ by up to {worst}, {differing} pixels beyond noise; "
            f"the new drawing is {tmp_path / path.name}"
        )


def test_every_icon_golden_belongs_to_a_case() -> None:
    expected = {f"icon_{name}_{size}.png" for name in CASES for size in SIZES}
    assert {p.name for p in GOLDEN.glob("icon_*.png")} == expected


def test_the_golden_comparison_catches_a_wrong_colour_and_a_missing_mark() -> None:
    low = render_icon(CASES["low"], 64)
    assert drift(render_icon(spec(42, Level.MEDIUM, weekly=20), 64), low)[0] > MAX_CHANNEL_DRIFT
    pace = render_icon(CASES["pace"], 64)
    no_mark = render_icon(spec(58, Level.MEDIUM, weekly=40), 64)
    assert drift(no_mark, pace)[0] > MAX_CHANNEL_DRIFT


def close(rgb: tuple[int, ...], other: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(rgb, other, strict=True))


def dominant(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The commonest opaque colour in `box` that is ink, not the tile or the ringing at its edges."""
    counts = Counter(
        (r, g, b) for r, g, b, a in pixels(image.crop(box)) if a == 255 and not close((r, g, b), TILE, 48)
    )
    return counts.most_common(1)[0][0]


NUMBER_AREA = (4, 6, 60, 39)  # in the 64 px image


def test_each_level_gives_the_number_its_own_colour() -> None:
    colours = {level: dominant(render_icon(spec(88, level), 64), NUMBER_AREA) for level in Level}
    assert colours == dict(LEVEL_COLORS)
    assert len(set(colours.values())) == len(Level)


@pytest.mark.parametrize("badge", [Badge.STALE, Badge.OFFLINE])
def test_old_figures_are_grey(badge: Badge) -> None:
    image = render_icon(spec(88, Level.CRITICAL, weekly=90, weekly_level=Level.HIGH, badge=badge), 64)
    r, g, b = dominant(image, NUMBER_AREA)
    assert r == g == b
    for rgba in pixels(image):
        assert not any(close(rgba[:3], c) for c in LEVEL_COLORS.values()), "a live level colour shows"


def test_the_main_gauge_fills_with_the_usage_and_the_weekly_gauge_wears_its_own_level() -> None:
    red = LEVEL_COLORS[Level.CRITICAL]
    filled = []
    for gauge in (0.0, 25.0, 50.0, 75.0, 100.0):
        image = render_icon(spec(50, Level.CRITICAL, gauge=gauge, weekly=100, weekly_level=Level.LOW), 64)
        row = pixels(image.crop((0, 47, 64, 48)))
        filled.append(sum(close(rgba[:3], red, 40) for rgba in row))
        assert close(dominant(image, (0, 54, 64, 58)), LEVEL_COLORS[Level.LOW])
    assert filled[0] == 0
    assert filled == sorted(filled) and len(set(filled)) == len(filled)
    assert filled[2] == pytest.approx(filled[4] / 2, abs=1)


def test_login_shows_an_amber_mark_and_empty_gauges() -> None:
    image = render_icon(spec(70, Level.HIGH, weekly=70, badge=Badge.LOGIN), 64)
    assert dominant(image, NUMBER_AREA) == LEVEL_COLORS[Level.MEDIUM]
    for rgba in pixels(image.crop((0, 42, 64, 60))):
        assert not close(rgba[:3], LEVEL_COLORS[Level.HIGH], 60), "the gauges show a fill"


def test_the_pace_mark_stays_visible_at_16_px() -> None:
    small = shown(CASES["pace"], 16)
    magenta = [p for p in pixels(small) if p[0] > 180 and p[2] > 140 and p[1] < 120]
    assert magenta, "no magenta pixel left at 16 px"


@pytest.mark.parametrize("style", list(IconStyle))
@pytest.mark.parametrize("badge", [b for b in Badge if b is not Badge.NONE])
def test_every_badge_changes_the_image(badge: Badge, style: IconStyle) -> None:
    plain = render_icon(spec(57, Level.MEDIUM, style=style), 64)
    marked = render_icon(spec(57, Level.MEDIUM, badge=badge, style=style), 64)
    assert plain.tobytes() != marked.tobytes()


@pytest.mark.parametrize("badge", list(Badge))
@pytest.mark.parametrize(("style", "glyph"), [(IconStyle.MONO_DARK, 0), (IconStyle.MONO_LIGHT, 255)])
def test_mono_styles_draw_one_colour_and_carry_the_shape_in_alpha(
    style: IconStyle, glyph: int, badge: Badge
) -> None:
    for size in (ICON_SIZE_MACOS, ICON_SIZE_DEFAULT):
        image = render_icon(spec(99, Level.CRITICAL, badge=badge, style=style), size)
        for band in "RGB":
            assert set(image.getchannel(band).tobytes()) == {glyph}
        alpha = image.getchannel("A").tobytes()
        assert min(alpha) == 0 and max(alpha) > 0


def test_mono_levels_do_not_change_the_pixels() -> None:
    # Levels are colours and mono has none: the number and the gauge fill carry the information.
    images = {render_icon(spec(50, level, style=IconStyle.MONO_DARK), 44).tobytes() for level in Level}
    assert len(images) == 1


@pytest.mark.parametrize("style", list(IconStyle))
@pytest.mark.parametrize("size", [16, 22, 24, 32, ICON_SIZE_MACOS, ICON_SIZE_DEFAULT, 128])
def test_the_icon_is_a_square_rgba_image_of_the_requested_size(size: int, style: IconStyle) -> None:
    image = render_icon(spec(73, Level.HIGH, style=style), size)
    assert image.mode == "RGBA"
    assert image.size == (size, size)
    assert max(image.getchannel("A").tobytes()) == 255


def test_a_size_below_one_pixel_is_refused() -> None:
    with pytest.raises(ValueError):
        render_icon(CASES["low"], 0)
    with pytest.raises(ValueError):
        IconRenderer(0)


def test_the_renderer_draws_an_unchanged_spec_once() -> None:
    renderer = IconRenderer(ICON_SIZE_DEFAULT)
    first = renderer.image(spec(42))
    assert renderer.image(spec(42)) is first  # an equal spec, not the same object
    assert renderer.renders == 1
    assert first.tobytes() == render_icon(spec(42), ICON_SIZE_DEFAULT).tobytes()
    other = renderer.image(spec(43))
    assert other is not first
    assert renderer.renders == 2
    assert renderer.image(spec(42)) is first
    assert renderer.renders == 2


def test_the_renderer_forgets_the_least_recently_used_spec() -> None:
    renderer = IconRenderer(ICON_SIZE_MACOS, capacity=2)
    a, b, c = spec(10), spec(20), spec(30)
    renderer.image(a)
    renderer.image(b)
    renderer.image(a)  # a is now more recent than b
    renderer.image(c)  # evicts b
    assert renderer.renders == 3
    renderer.image(a)
    assert renderer.renders == 3
    renderer.image(b)
    assert renderer.renders == 4


@pytest.mark.parametrize("size", [64, 44, 22, 16])
@pytest.mark.parametrize("gauge", [0.1, 0.2, 0.3, 0.5, 1.1])
@pytest.mark.parametrize("badge", [Badge.NONE, Badge.PACE])
def test_a_gauge_thinner_than_a_pixel_draws_an_empty_gauge(size: int, gauge: float, badge: Badge) -> None:
    # A fresh 5-hour window at 0.2 % used to raise in Pillow and, on the poller thread, stop polling.
    thin = render_icon(spec(0, Level.LOW, gauge=gauge, weekly=gauge, badge=badge), size)
    assert thin.size == (size, size)
    empty = render_icon(spec(0, Level.LOW, gauge=0.0, weekly=0.0, badge=badge), size)
    green = LEVEL_COLORS[Level.LOW]
    assert (
        sum(close(rgba[:3], green, 40) for rgba in pixels(thin))
        <= sum(close(rgba[:3], green, 40) for rgba in pixels(empty)) + size
    )  # at most a sliver of fill


def blocked_mark_shows(image: Image.Image, mono: bool) -> bool:
    """The "no entry" sign in the corner: a disc centred at 51/64 of the size, radius 11/64, with a bar
    across its centre. Colour: red above and below the centre, white at it. Mono: ink above and below,
    a hole (alpha 0) at it. This is how a screenshot of the tray can recognise the mark, too."""
    size = image.width
    everything = pixels(image)
    centre = int(51 * size / 64)
    reach = round(11 * size / 64 * 0.7)
    middle = everything[centre * size + centre]
    ends = [everything[(centre + dy) * size + centre] for dy in (-reach, reach)]
    if mono:
        return middle[3] <= 16 and all(end[3] >= 200 for end in ends)
    red = all(end[0] >= 200 and end[1] <= 80 and end[2] <= 80 and end[3] == 255 for end in ends)
    return red and min(middle[:3]) >= 230


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", BLOCKED_CASES)
def test_the_blocked_goldens_show_the_mark(name: str, size: int) -> None:
    # Checked on the stored PNGs, so goldens rewritten from a drawing that lost the mark fail here.
    with Image.open(GOLDEN / f"icon_{name}_{size}.png") as stored:
        expected = stored.copy()
    mono = CASES[name].style is not IconStyle.COLOR
    assert blocked_mark_shows(expected, mono)
    assert not blocked_mark_shows(shown(replace(CASES[name], blocked=False), size), mono)


@pytest.mark.parametrize("badge", [Badge.PACE, Badge.OFFLINE, Badge.STALE])
def test_the_blocked_mark_wins_the_corner_and_keeps_its_colours_on_old_figures(badge: Badge) -> None:
    image = shown(spec(40, Level.LOW, badge=badge, blocked=True), 16)
    assert blocked_mark_shows(image, mono=False)
    magenta = [p for p in pixels(image) if p[0] > 180 and p[2] > 140 and p[1] < 120]
    assert not magenta, "the pace triangle shows beside the blocked mark"


def test_the_renderer_draws_a_blocked_spec_apart_from_an_unblocked_one() -> None:
    renderer = IconRenderer(ICON_SIZE_DEFAULT)
    plain, blocked = renderer.image(spec(40)), renderer.image(spec(40, blocked=True))
    assert renderer.renders == 2 and plain.tobytes() != blocked.tobytes()
