"""After each poll: run the alert rules, remember what fired, pass on what is not muted. Never raises."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from tray_app.alert_settings import NotificationSettings, in_quiet_hours
from tray_app.clock import local_tz, utc_now
from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport
from tray_app.core.rules import Alert, RulesState, forget_old, step, step_console
from tray_app.store import Store

logger = logging.getLogger(__name__)


class NotificationSwitch:
    """On/off and snooze, kept in the database so every process and the next start agree."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._store.switches.notifications_on()

    def set_enabled(self, enabled: bool) -> None:
        self._store.switches.set_notifications_on(enabled, self._clock())

    @property
    def snoozed_until(self) -> datetime | None:
        until = self._store.switches.snoozed_until()
        return until if until is not None and until > self._clock() else None

    def snooze(self, until: datetime | None) -> None:
        self._store.switches.set_snoozed_until(until, self._clock())


def tomorrow_morning(now: datetime, tz: tzinfo) -> datetime:
    """08:00 local time on the next calendar day: what "snooze until tomorrow" means."""
    local = now.astimezone(tz)
    return (local + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)


class AlertCenter:
    """Holds the rules' state (loaded once, saved when it changes) and delivers alerts."""

    def __init__(
        self,
        store: Store,
        settings: NotificationSettings,
        switch: NotificationSwitch,
        clock: Callable[[], datetime] = utc_now,
        tz: Callable[[], tzinfo] = local_tz,
    ) -> None:
        self._store = store
        self._settings = settings
        self._switch = switch
        self._clock = clock
        self._tz = tz
        self._state: RulesState | None = None

    def _load(self) -> RulesState:
        stored = self._store.alert_state.load()
        return RulesState() if stored is None else stored

    def process(self, report: CodeReport) -> list[Alert]:
        """Step the rules with a fresh poll's report; returns the alerts to deliver (muted ones are only
        remembered, so they do not fire again once notifications are back on)."""
        try:
            return self._process(report)
        except Exception:
            # Alerts are a service on top of the figures: a bug here must not stop the polling.
            logger.exception("alert processing failed")
            return []

    def process_console(self, report: ConsoleReport) -> list[Alert]:
        """Budget alerts after a fresh Console refresh."""
        try:
            return self._apply(lambda state, now, tz: step_console(state, report, self._settings.rules))
        except Exception:
            logger.exception("alert processing failed")
            return []

    def _process(self, report: CodeReport) -> list[Alert]:
        return self._apply(lambda state, now, tz: step(state, report, now, tz, self._settings.rules))

    def _apply(
        self, rule: Callable[[RulesState, datetime, tzinfo], tuple[RulesState, list[Alert]]]
    ) -> list[Alert]:
        now, tz = self._clock(), self._tz()
        before = self._state if self._state is not None else self._load()
        state, alerts = rule(before, now, tz)
        state = forget_old(state, now)
        if state != before:
            self._store.alert_state.save(state, now)
        self._state = state
        muted = self._muted(now, tz)
        if muted:
            for alert in alerts:
                logger.info("notification muted (%s): %s", muted, alert.title)
            return []
        return alerts

    def _muted(self, now: datetime, tz: tzinfo) -> str | None:
        if not self._switch.enabled:
            return "turned off"
        if self._switch.snoozed_until is not None:
            return "snoozed"
        if in_quiet_hours(self._settings.quiet_hours, now.astimezone(tz).time()):
            return "quiet hours"
        return None
