"""The application icons in icons/: every size and format there, and icons/make_icons.py draws them again."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import IcnsImagePlugin, IcoImagePlugin, Image, ImageChops

from .tools import ICONS

NAME = "claude-usage-tray"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 256)  # Windows: 16/24/32 for the tray and lists, 48-256 for Explorer
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)  # every slot Pillow's ICNS writer fills
# LANCZOS resampling may differ in the last bit between Pillow builds; a design change moves far more.
TOLERANCE = 2
STALE = "the committed icons differ from what the design draws: run .venv/bin/python icons/make_icons.py"


def _png(folder: Path, size: int) -> Image.Image:
    with Image.open(folder / f"{NAME}-{size}.png") as image:
        image.load()
        return image


def _loaded(image: Image.Image) -> Image.Image:
    image.load()  # while the file is still open
    return image


def _ico_frames(path: Path) -> dict[int, Image.Image]:
    with Image.open(path) as ico:
        assert isinstance(ico, IcoImagePlugin.IcoImageFile)
        return {width: _loaded(ico.ico.getimage((width, height))) for width, height in ico.info["sizes"]}


def _icns_frames(path: Path) -> dict[int, Image.Image]:
    with Image.open(path) as icns:
        assert isinstance(icns, IcnsImagePlugin.IcnsImageFile)
        return {w * scale: _loaded(icns.icns.getimage((w, h, scale))) for w, h, scale in icns.info["sizes"]}


def _max_difference(a: Image.Image, b: Image.Image) -> int:
    assert a.size == b.size and a.mode == b.mode == "RGBA"
    return max(ImageChops.difference(a, b).tobytes())


def _alpha(image: Image.Image, xy: tuple[int, int]) -> int:
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple)
    return int(pixel[3])


@pytest.mark.parametrize("size", PNG_SIZES)
def test_png_at_each_size_is_square_rgba_on_a_rounded_tile(size: int) -> None:
    image = _png(ICONS, size)
    assert image.size == (size, size)
    assert image.mode == "RGBA"
    # The live icon's rounded tile: a see-through corner, an opaque middle.
    assert _alpha(image, (0, 0)) < 255
    assert _alpha(image, (size // 2, size // 2)) == 255


def test_ico_holds_every_windows_size_each_drawn_natively() -> None:
    frames = _ico_frames(ICONS / f"{NAME}.ico")
    assert sorted(frames) == list(ICO_SIZES)
    for size, frame in frames.items():
        assert frame.size == (size, size)
        # The same pixels as the PNG of that size: drawn at 16 px, not shrunk from 256 px.
        assert _max_difference(frame.convert("RGBA"), _png(ICONS, size)) == 0, size


def test_icns_opens_with_every_macos_size_inside_its_margin() -> None:
    frames = _icns_frames(ICONS / f"{NAME}.icns")
    assert sorted(frames) == list(ICNS_SIZES)
    for size, frame in frames.items():
        assert frame.size == (size, size)
        assert frame.mode == "RGBA"
    big = frames[1024]
    # macOS icons sit inside a transparent margin (about 100 px at 1024); the tile fills the rest.
    assert _alpha(big, (50, 512)) == 0
    assert _alpha(big, (512, 50)) == 0
    assert _alpha(big, (512, 512)) == 255


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("icons")
    subprocess.run(
        [sys.executable, str(ICONS / "make_icons.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    yield out


def test_make_icons_writes_exactly_the_committed_files(regenerated: Path) -> None:
    made = sorted(path.name for path in regenerated.iterdir())
    committed = sorted(path.name for path in ICONS.iterdir() if path.suffix in {".png", ".ico", ".icns"})
    assert made == committed
    assert len(made) == len(PNG_SIZES) + 2


@pytest.mark.parametrize("size", PNG_SIZES)
def test_make_icons_reproduces_each_committed_png(regenerated: Path, size: int) -> None:
    assert _max_difference(_png(regenerated, size), _png(ICONS, size)) <= TOLERANCE, STALE


def test_make_icons_reproduces_the_committed_ico_and_icns(regenerated: Path) -> None:
    for frames in (_ico_frames, _icns_frames):
        suffix = ".ico" if frames is _ico_frames else ".icns"
        made, committed = frames(regenerated / f"{NAME}{suffix}"), frames(ICONS / f"{NAME}{suffix}")
        assert sorted(made) == sorted(committed)
        for size in made:
            difference = _max_difference(made[size].convert("RGBA"), committed[size].convert("RGBA"))
            assert difference <= TOLERANCE, f"{suffix} at {size} px: {STALE}"
