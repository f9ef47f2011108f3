"""`run`: the tray icon, one per user, until Quit."""

from __future__ import annotations

import logging

from tray_app.clock import Clock
from tray_app.commands import ExitCode
from tray_app.environment import Environment
from tray_app.instance import AlreadyRunning, InstanceLock
from tray_app.wiring.app import App, pin_tray_backend

logger = logging.getLogger(__name__)


def run(app: App, env: Environment, clock: Clock) -> int:
    if not env.has_display:
        print(
            "claude-usage-tray: no graphical session (DISPLAY is not set); use `claude-usage-tray status`",
            file=env.stderr,
        )
        return ExitCode.USAGE
    choice = pin_tray_backend(env)
    if choice.warning:
        logger.warning("%s", choice.warning)
        print(f"claude-usage-tray: warning: {choice.warning}", file=env.stderr)
    lock = InstanceLock(app.settings.paths.database.parent)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"claude-usage-tray: {exc}; nothing to do", file=env.stderr)
        return ExitCode.ALREADY_RUNNING
    try:
        return _show_tray(app, env, clock)
    finally:
        lock.release()


def _show_tray(app: App, env: Environment, clock: Clock) -> int:
    # Imported only now: pystray must not be imported before its backend is pinned.
    from tray_app.wiring.tray import build_tray_app

    try:
        return build_tray_app(app, env, clock).run()
    except Exception as exc:
        # Most often a display that went away or a broken GTK install; the log has the traceback.
        logger.exception("the tray could not run")
        print(
            f"claude-usage-tray: cannot show the tray icon ({type(exc).__name__}); see the log",
            file=env.stderr,
        )
        return ExitCode.FAILURE
