"""The alert center with a real SQLite store: once per crossing across restarts, muting, snoozing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from tray_app.alert_settings import NotificationSettings, parse_notification_settings
from tray_app.alerts import AlertCenter, NotificationSwitch, tomorrow_morning
from tray_app.core.models import CodeReport, Forecast, Status, UsageWindow, WindowReport
from tray_app.store import Store

from .store_helpers import put_values

NOW = datetime(2026, 8, 4, 14, 0, tzinfo=UTC)
RESET = datetime(2026, 8, 4, 16, 20, tzinfo=UTC)


def report(utilization: float) -> CodeReport:
    window = UsageWindow("five_hour", "5-hour", utilization, RESET)
    return CodeReport(Status.OK, None, None, NOW, (WindowReport(window, Forecast(None, None, None)),), None)


class Outbox:
    """What reached the notifier: the alert centre passes on only what is not muted."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []


class Delivering:
    def __init__(self, alerts: AlertCenter, outbox: Outbox) -> None:
        self.alerts, self.outbox = alerts, outbox

    def process(self, r: CodeReport) -> None:
        self.outbox.sent += [(alert.title, alert.body) for alert in self.alerts.process(r)]


def center(
    store: Store, outbox: Outbox, settings: NotificationSettings | None = None, now: datetime = NOW
) -> Delivering:
    clock = lambda: now  # noqa: E731 - a fixed moment
    alerts = AlertCenter(
        store, settings or NotificationSettings(), NotificationSwitch(store, clock), clock, lambda: UTC
    )
    return Delivering(alerts, outbox)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "alerts.db") as opened:
        yield opened


def test_crossings_notify_once_even_across_a_restart(tmp_path: Path) -> None:
    outbox = Outbox()
    with Store.open(tmp_path / "a.db") as store:
        first = center(store, outbox)
        for value in (30.0, 55.0, 56.0, 74.0):
            first.process(report(value))
    with Store.open(tmp_path / "a.db") as store:  # the program restarts
        second = center(store, outbox)
        second.process(report(74.0))
        second.process(report(80.0))
    assert [title for title, _ in outbox.sent] == [
        "Claude 5-hour limit: 55 % used",
        "Claude 5-hour limit: 80 % used",
    ]
    assert outbox.sent[0][1] == "Resets in 2 h 20 m (at 16:20)."


def test_turned_off_snoozed_and_quiet_hours_mute_but_still_count(store: Store) -> None:
    outbox = Outbox()
    switch = NotificationSwitch(store, lambda: NOW)
    switch.set_enabled(False)
    center(store, outbox).process(report(55.0))
    switch.set_enabled(True)
    center(store, outbox).process(report(56.0))  # 50 % was crossed while off: it is not told later
    assert outbox.sent == []
    switch.snooze(NOW + timedelta(hours=1))
    center(store, outbox).process(report(76.0))
    assert outbox.sent == []
    later = NOW + timedelta(hours=1, minutes=1)
    center(store, outbox, now=later).process(report(91.0))
    assert [title for title, _ in outbox.sent] == ["Claude 5-hour limit: 91 % used"]
    quiet = NotificationSettings(quiet_hours=(time(14, 0), time(15, 0)))
    center(store, outbox, quiet).process(report(100.0))
    assert len(outbox.sent) == 1


def test_snooze_expires_and_survives_a_restart(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        NotificationSwitch(store, lambda: NOW).snooze(NOW + timedelta(hours=1))
    with Store.open(tmp_path / "s.db") as store:
        assert NotificationSwitch(store, lambda: NOW).snoozed_until == NOW + timedelta(hours=1)
        assert NotificationSwitch(store, lambda: NOW + timedelta(hours=2)).snoozed_until is None


def test_a_bug_in_the_rules_never_reaches_the_poller(store: Store) -> None:
    alerts = AlertCenter(store, NotificationSettings(), NotificationSwitch(store), lambda: NOW, lambda: UTC)
    broken = CodeReport(Status.OK, None, None, NOW, None, None)  # type: ignore[arg-type]
    assert alerts.process(broken) == []  # logged, swallowed
    assert [a.title for a in alerts.process(report(99.0))] == ["Claude 5-hour limit: 99 % used"]


def test_unreadable_stored_state_starts_afresh(store: Store) -> None:
    put_values(store.path, {"alerts.state": "{not json"})  # damaged, or written by another version
    outbox = Outbox()
    center(store, outbox).process(report(60.0))
    assert [title for title, _ in outbox.sent] == ["Claude 5-hour limit: 60 % used"]


def test_tomorrow_morning_is_eight_oclock_the_next_day() -> None:
    assert tomorrow_morning(datetime(2026, 8, 4, 23, 30, tzinfo=UTC), UTC) == datetime(
        2026, 8, 5, 8, 0, tzinfo=UTC
    )
    assert tomorrow_morning(datetime(2026, 8, 4, 1, 0, tzinfo=UTC), UTC) == datetime(
        2026, 8, 5, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("table", "warning"),
    [
        ({"thresholds": [50, 150]}, "notifications.thresholds must be increasing percentages"),
        ({"thresholds": "high"}, "(got 'high'); using the default"),
        ({"pace": "yes"}, "notifications.pace must be true or false"),
        ({"windows": {"seven_day": [90, 50]}}, "notifications.windows.seven_day must be increasing"),
        ({"quiet_hours": ["22:00"]}, "notifications.quiet_hours must be two different times"),
        ({"backend": "pigeon"}, 'notifications.backend must be one of "auto"'),
        ({"colour": 1}, "unknown setting notifications.colour ignored"),
    ],
)
def test_bad_notification_settings_keep_the_defaults(table: dict[str, object], warning: str) -> None:
    settings, warnings = parse_notification_settings(table, Path("config.toml"))
    assert len(warnings) == 1 and warning in warnings[0]
    assert settings == NotificationSettings()


def test_good_notification_settings() -> None:
    settings, warnings = parse_notification_settings(
        {
            "thresholds": [80, 95],
            "windows": {"seven_day": False},
            "quiet_hours": ["22:00", "07:30"],
            "extra_usage_amounts": [25, 10],
            "failures_after": 0,
            "backend": "log",
        },
        Path("config.toml"),
    )
    assert warnings == []
    assert settings.rules.ladder == (80.0, 95.0) and settings.rules.ladder_for("seven_day") == ()
    assert settings.rules.extra_usage_amounts == (10.0, 25.0)
    assert settings.quiet_hours == (time(22, 0), time(7, 30)) and settings.backend == "log"
