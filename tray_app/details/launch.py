"""Starting the details window from the tray: a process of its own, so the tray's memory stays as is."""

from __future__ import annotations

import logging
import subprocess
import sys

from tray_app.environment import Environment

logger = logging.getLogger(__name__)


def open_details(env: Environment) -> None:
    """Start `claude-usage-tray details` detached; if a window is open it comes to the front instead."""
    argv = [sys.executable, "-m", "tray_app", "details"]
    try:
        subprocess.Popen(
            argv,
            env=dict(env.environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        logger.warning("cannot start the details window: %s", exc.strerror or exc)
