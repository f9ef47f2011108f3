"""After each poll: run the alert rules, remember what fired, deliver unless muted. Never raises."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

from tray_app.alert_settings import NotificationSettings, in_quiet_hours
from tray_app.core.codec import rules_state_from_dict, rules_state_to_dict
from tray_app.core.console import ConsoleReport
from tray_app.core.errors import ShapeError
from tray_app.core.models import CodeReport
from tray_app.core.rules import Alert, RulesState, forget_old, step, step_console
from tray_app.core.timeparse import from_epoch, to_epoch
from tray_app.store import Store

logger = logging.getLogger(__name__)

STATE_KEY = "alerts.state"
ENABLED_KEY = "notifications.enabled"
SNOOZE_KEY = "notifications.snoozed_until"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _local_tz() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


class NotificationSwitch:
    """On/off and snooze, kept in the database so every process and the next start agree."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = _utcnow) -> None:
        self._store = store
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._store.get_value(ENABLED_KEY) != "off"

    def set_enabled(self, enabled: bool) -> None:
        self._store.set_value(ENABLED_KEY, "on" if enabled else "off", self._clock())

    @property
    def snoozed_until(self) -> datetime | None:
        value = self._store.get_value(SNOOZE_KEY)
        if not value or not value.isdigit():
            return None
        until = from_epoch(int(value))
        return until if until > self._clock() else None

    def snooze(self, until: datetime | None) -> None:
        self._store.set_value(SNOOZE_KEY, "" if until is None else str(to_epoch(until)), self._clock())


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
        send: Callable[[str, str], str | None],
        switch: NotificationSwitch,
        clock: Callable[[], datetime] = _utcnow,
        tz: Callable[[], tzinfo] = _local_tz,
    ) -> None:
        self._store = store
        self._settings = settings
        self._send = send
        self._switch = switch
        self._clock = clock
        self._tz = tz
        self._state: RulesState | None = None

    def _load(self) -> RulesState:
        raw = self._store.get_value(STATE_KEY)
        if raw:
            try:
                return rules_state_from_dict(json.loads(raw))
            except (ValueError, ShapeError) as exc:
                # Losing the memory of fired alerts can repeat one notification; refusing to run is worse.
                logger.warning("stored alert state unreadable (%s); starting afresh", exc)
        return RulesState()

    def process(self, report: CodeReport) -> list[Alert]:
        """Step the rules with a fresh poll's report; returns the alerts that fired (delivered or muted)."""
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
            self._store.set_value(STATE_KEY, json.dumps(rules_state_to_dict(state)), now)
        self._state = state
        muted = self._muted(now, tz)
        for alert in alerts:
            if muted:
                logger.info("notification muted (%s): %s", muted, alert.title)
                continue
            backend = self._send(alert.title, alert.body)
            logger.info("notification via %s: %s", backend or "nothing (all backends failed)", alert.title)
        return alerts

    def _muted(self, now: datetime, tz: tzinfo) -> str | None:
        if not self._switch.enabled:
            return "turned off"
        if self._switch.snoozed_until is not None:
            return "snoozed"
        if in_quiet_hours(self._settings.quiet_hours, now.astimezone(tz).time()):
            return "quiet hours"
        return None
