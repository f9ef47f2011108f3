"""The packaging tests' helpers: the repository's folders and the real command-line tools they run."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ICONS = REPO / "icons"
PACKAGING = REPO / "packaging"


def require_linux_tool(program: str, package: str) -> str:
    """The path of `program`. Off Linux the test is skipped; on Linux a missing tool fails it, so that a
    machine without it cannot pass silently (scripts/setup.sh --test installs `package`)."""
    if not sys.platform.startswith("linux"):
        pytest.skip(f"{program} is a Linux tool")
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is missing; install the Debian package {package}", pytrace=False)
    return path


def desktop_entry(path: Path) -> dict[str, str]:
    """The [Desktop Entry] group of a .desktop file, keys as written."""
    entries: dict[str, str] = {}
    group = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
        elif group == "Desktop Entry" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entries[key.strip()] = value.strip()
    return entries
