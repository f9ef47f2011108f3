"""Opening URLs, files and folders with the desktop's own programs, without waiting for them."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import webbrowser
from pathlib import Path

logger = logging.getLogger(__name__)


def open_url(url: str) -> None:
    if not webbrowser.open(url):
        logger.warning("no browser could be started for %s", url)


def open_path(path: Path) -> None:
    """Show a file or folder in the system's default application."""
    try:
        if sys.platform == "win32":
            os.startfile(path)  # noqa: S606 - Windows only
            return
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        subprocess.Popen(
            [opener, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
    except OSError as exc:
        logger.warning("cannot open %s: %s", path, exc.strerror or exc)
