"""`watch`: the live terminal dashboard; it polls only when no tray is running to do it."""

from __future__ import annotations

from tray_app.clock import Clock
from tray_app.environment import Environment
from tray_app.instance import AlreadyRunning, InstanceLock
from tray_app.watch import WatchState, run_watch
from tray_app.wiring.app import App, poll_timing, sources_of


def run(app: App, env: Environment, clock: Clock) -> int:
    stale_after = poll_timing(app).stale_after

    sources = sources_of(app)

    def load() -> WatchState:
        reports = sources.stored(stale_after)
        return WatchState(reports.code, reports.console, reports.web)

    def poll() -> WatchState:
        reports = sources.ask_all()
        return WatchState(reports.code, reports.console, reports.web)

    seen = [app.store.data_version()]

    def changed() -> bool:
        version = app.store.data_version()
        if version == seen[0]:
            return False
        seen[0] = version
        return True

    return run_watch(
        load,
        changed,
        None if _tray_running(app) else poll,
        poll_every=app.settings.code_poll_seconds,
        thresholds=app.settings.thresholds,
        tz_factory=clock.local_tz,
        clock=clock.now,
        stdout=env.stdout,
        stderr=env.stderr,
    )


def _tray_running(app: App) -> bool:
    """A running tray already polls and writes the database: then the dashboard only reads it."""
    lock = InstanceLock(app.settings.paths.database.parent)
    try:
        lock.acquire()
    except AlreadyRunning:
        return True
    lock.release()
    return False
