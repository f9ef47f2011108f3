"""The alert rules as tables: a run of polls in, the exact notifications a user reads out, poll by poll."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from tray_app.core.codec import rules_state_from_dict, rules_state_to_dict
from tray_app.core.models import (
    FIVE_HOUR,
    SEVEN_DAY,
    CodeReport,
    ExtraUsage,
    Forecast,
    Status,
    UsageWindow,
    WindowReport,
)
from tray_app.core.rules import (
    DEFAULT_LADDER,
    Alert,
    AlertKind,
    AlertRules,
    RulesState,
    forget_old,
    period_key,
    step,
)

# Tuesday 4 August 2026. The 5-hour period ends at 16:20, the next one at 21:20, the week on Thursday.
RESET = datetime(2026, 8, 4, 16, 20, tzinfo=UTC)
NEXT_RESET = RESET + timedelta(hours=5)
WEEK_RESET = datetime(2026, 8, 6, 19, 0, tzinfo=UTC)
# The keys are stored, so their form is pinned here as literal Unix seconds.
P1 = 1785860400  # 16:20
P2 = 1785878400  # 21:20
PW = 1786042800  # Thursday 19:00
P1_NEXT_BUCKET = 1785861000  # 16:30

DEFAULTS = AlertRules()
NO_FORECAST = Forecast(None, None, None)
FABLE = "seven_day_fable"
RESTART = "restart"  # a row that stores the state through the codec and loads it back

Row = tuple[datetime, CodeReport, list[Alert]] | str


def at(
    hour: int, minute: int = 0, second: int = 0, microsecond: int = 0, *, day: int = 4, month: int = 8
) -> datetime:
    return datetime(2026, month, day, hour, minute, second, microsecond, tzinfo=UTC)


def five(
    utilization: float, resets_at: datetime | None = RESET, forecast: Forecast = NO_FORECAST
) -> WindowReport:
    return WindowReport(UsageWindow(FIVE_HOUR, "5-hour", utilization, resets_at), forecast)


def weekly(
    utilization: float, resets_at: datetime | None = WEEK_RESET, forecast: Forecast = NO_FORECAST
) -> WindowReport:
    return WindowReport(UsageWindow(SEVEN_DAY, "Weekly", utilization, resets_at), forecast)


def fable(utilization: float, resets_at: datetime | None = WEEK_RESET) -> WindowReport:
    return WindowReport(UsageWindow(FABLE, "Weekly · Fable", utilization, resets_at), NO_FORECAST)


def pace(limit_at: datetime, projected: float = 130.0) -> Forecast:
    return Forecast(rate_per_hour=25.0, projected_at_reset=projected, limit_at=limit_at)


def ok(*windows: WindowReport, extra: ExtraUsage | None = None) -> CodeReport:
    return CodeReport(Status.OK, None, None, None, windows, extra)


def down(status: Status, message: str | None = None, *windows: WindowReport) -> CodeReport:
    return CodeReport(status, message, None, None, windows, None)


def spent(
    used: float, limit: float | None = 200.0, currency: str = "USD", enabled: bool = True
) -> ExtraUsage:
    return ExtraUsage(enabled=enabled, used=used, limit=limit, currency=currency, utilization=None)


def threshold(key: str, title: str, body: str) -> Alert:
    return Alert(f"threshold:{key}", AlertKind.THRESHOLD, title, body)


def blocked(key: str, title: str, body: str) -> Alert:
    return Alert(f"blocked:{key}", AlertKind.BLOCKED, title, body)


def pace_alert(key: str, body: str, title: str = "Claude 5-hour limit: on pace to run out") -> Alert:
    return Alert(f"pace:{key}", AlertKind.PACE, title, body)


def reset(key: str, body: str, title: str = "Claude 5-hour limit reset") -> Alert:
    return Alert(f"reset:{key}", AlertKind.RESET, title, body)


def failure(started: datetime, title: str, body: str) -> Alert:
    trouble = "login" if title.endswith("login needed") else "update"
    return Alert(f"failure:{round(started.timestamp())}:{trouble}", AlertKind.FAILURE, title, body)


def extra(key: str, title: str, body: str) -> Alert:
    return Alert(f"extra:{key}", AlertKind.EXTRA_USAGE, title, body)


def replay(rows: Sequence[Row], rules: AlertRules = DEFAULTS) -> None:
    """Feed the rows' reports through step in order; every poll must give exactly its alerts."""
    state = RulesState()
    seen: list[tuple[datetime, list[Alert]]] = []
    wanted: list[tuple[datetime, list[Alert]]] = []
    for row in rows:
        if isinstance(row, str):
            # What a restart keeps: the state as the store holds it, through real JSON text.
            state = rules_state_from_dict(json.loads(json.dumps(rules_state_to_dict(state))))
            continue
        now, report, alerts = row
        state, fired = step(state, report, now, UTC, rules)
        seen.append((now, fired))
        wanted.append((now, alerts))
    assert seen == wanted


def case(name: str, *rows: Row, rules: AlertRules = DEFAULTS) -> object:
    return pytest.param(list(rows), rules, id=name)


THRESHOLDS = [
    case(
        "climbing-one-threshold-at-a-time",
        (at(12), ok(five(10)), []),
        (
            at(13),
            ok(five(50)),
            [
                threshold(
                    f"five_hour:{P1}:50", "Claude 5-hour limit: 50 % used", "Resets in 3 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(13, 30), ok(five(62)), []),
        (
            at(14),
            ok(five(75)),
            [
                threshold(
                    f"five_hour:{P1}:75", "Claude 5-hour limit: 75 % used", "Resets in 2 h 20 m (at 16:20)."
                )
            ],
        ),
        (
            at(15),
            ok(five(91)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 91 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (
            at(16),
            ok(five(100)),
            [threshold(f"five_hour:{P1}:100", "Claude 5-hour limit reached", "Resets in 20 m (at 16:20).")],
        ),
        (at(16, 10), ok(five(100)), []),
    ),
    case(
        "jump-across-several-names-the-highest-once",
        (at(12), ok(five(20)), []),
        (
            at(12, 5),
            ok(five(93)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 93 % used", "Resets in 4 h 15 m (at 16:20)."
                )
            ],
        ),
        # 50 and 75 were passed in the same jump: they stay quiet for the rest of the period.
        (at(12, 10), ok(five(95)), []),
        (
            at(12, 15),
            ok(five(100)),
            [
                threshold(
                    f"five_hour:{P1}:100", "Claude 5-hour limit reached", "Resets in 4 h 5 m (at 16:20)."
                )
            ],
        ),
    ),
    case(
        "jump-from-zero-to-full",
        (at(12), ok(five(0)), []),
        (
            at(12, 5),
            ok(five(100)),
            [
                threshold(
                    f"five_hour:{P1}:100", "Claude 5-hour limit reached", "Resets in 4 h 15 m (at 16:20)."
                )
            ],
        ),
        (at(12, 10), ok(five(100)), []),
    ),
    case(
        "flapping-around-a-threshold-does-not-repeat",
        (at(12), ok(five(40)), []),
        (
            at(13),
            ok(five(74)),
            [
                threshold(
                    f"five_hour:{P1}:50", "Claude 5-hour limit: 74 % used", "Resets in 3 h 20 m (at 16:20)."
                )
            ],
        ),
        (
            at(13, 1),
            ok(five(76)),
            [
                threshold(
                    f"five_hour:{P1}:75", "Claude 5-hour limit: 76 % used", "Resets in 3 h 19 m (at 16:20)."
                )
            ],
        ),
        (at(13, 2), ok(five(74)), []),
        (at(13, 3), ok(five(76)), []),
        (at(13, 4), ok(five(74.5)), []),
        (at(13, 5), ok(five(75)), []),
    ),
    case(
        "first-run-already-past-a-threshold-notifies-once",
        (
            at(14),
            ok(five(80)),
            [
                threshold(
                    f"five_hour:{P1}:75", "Claude 5-hour limit: 80 % used", "Resets in 2 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(14, 5), ok(five(80)), []),
        (at(14, 10), ok(five(84)), []),
    ),
    case(
        "first-run-at-the-limit-says-reached-once",
        (
            at(14),
            ok(five(100)),
            [
                threshold(
                    f"five_hour:{P1}:100", "Claude 5-hour limit reached", "Resets in 2 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(14, 5), ok(five(100)), []),
    ),
    case(
        "the-body-adds-the-projection-below-100-but-not-at-100",
        (
            at(14),
            ok(five(76, forecast=Forecast(20.0, 130.4, None))),
            [
                threshold(
                    f"five_hour:{P1}:75",
                    "Claude 5-hour limit: 76 % used",
                    "Resets in 2 h 20 m (at 16:20). On pace for 130 % by then.",
                )
            ],
        ),
        (
            at(14, 30),
            ok(five(91, forecast=Forecast(20.0, 99.9, None))),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 91 % used", "Resets in 1 h 50 m (at 16:20)."
                )
            ],
        ),
        (
            at(15),
            ok(five(100, forecast=Forecast(20.0, 126.0, None))),
            [
                threshold(
                    f"five_hour:{P1}:100", "Claude 5-hour limit reached", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
    ),
    case(
        "per-window-ladders",
        (
            at(12),
            ok(five(55), weekly(55)),
            [
                threshold(
                    f"five_hour:{P1}:50", "Claude 5-hour limit: 55 % used", "Resets in 4 h 20 m (at 16:20)."
                )
            ],
        ),
        (
            at(13),
            ok(five(60), weekly(85)),
            [
                threshold(
                    f"seven_day:{PW}:80", "Claude weekly limit: 85 % used", "Resets Thu 19:00 (in 2 d 6 h)."
                )
            ],
        ),
        (
            at(14),
            ok(five(60), weekly(96)),
            [
                threshold(
                    f"seven_day:{PW}:95", "Claude weekly limit: 96 % used", "Resets Thu 19:00 (in 2 d 5 h)."
                )
            ],
        ),
        # Being stopped is told whatever the thresholds (issue 15), once.
        (
            at(15),
            ok(five(60), weekly(100)),
            [blocked(f"seven_day:{PW}", "Claude weekly limit reached", "Resets Thu 19:00 (in 2 d 4 h).")],
        ),
        (at(16), ok(five(60), weekly(100)), []),
        rules=AlertRules(ladders={SEVEN_DAY: (80.0, 95.0)}),
    ),
    case(
        "a-changed-default-ladder-applies-to-every-window",
        (at(12), ok(five(59), weekly(59)), []),
        (
            at(13),
            ok(five(61), weekly(59)),
            [
                threshold(
                    f"five_hour:{P1}:60", "Claude 5-hour limit: 61 % used", "Resets in 3 h 20 m (at 16:20)."
                )
            ],
        ),
        (
            at(14),
            ok(five(100), weekly(60)),
            [
                blocked(f"five_hour:{P1}", "Claude 5-hour limit reached", "Resets in 2 h 20 m (at 16:20)."),
                threshold(
                    f"seven_day:{PW}:60", "Claude weekly limit: 60 % used", "Resets Thu 19:00 (in 2 d 5 h)."
                ),
            ],
        ),
        rules=AlertRules(ladder=(60.0,)),
    ),
    case(
        "a-window-turned-off-stays-quiet-the-others-do-not",
        (
            at(12),
            ok(five(100), weekly(52)),
            [
                threshold(
                    f"seven_day:{PW}:50", "Claude weekly limit: 52 % used", "Resets Thu 19:00 (in 2 d 7 h)."
                )
            ],
        ),
        (at(13), ok(five(100), weekly(52)), []),
        rules=AlertRules(ladders={FIVE_HOUR: ()}),
    ),
    case(
        "model-scoped-weekly-windows-are-named-by-model",
        (
            at(14),
            ok(five(20), weekly(40), fable(76)),
            [
                threshold(
                    f"{FABLE}:{PW}:75",
                    "Claude weekly (Fable) limit: 76 % used",
                    "Resets Thu 19:00 (in 2 d 5 h).",
                )
            ],
        ),
        (
            at(15),
            ok(five(51), weekly(40), fable(100)),
            [
                threshold(
                    f"five_hour:{P1}:50", "Claude 5-hour limit: 51 % used", "Resets in 1 h 20 m (at 16:20)."
                ),
                threshold(
                    f"{FABLE}:{PW}:100",
                    "Claude weekly (Fable) limit reached",
                    "Resets Thu 19:00 (in 2 d 4 h).",
                ),
            ],
        ),
        (at(16), ok(five(51), weekly(40), fable(100)), []),
    ),
    case(
        "a-window-without-a-reset-time-waits-for-one",
        (at(12), ok(five(60, None)), []),
        (at(12, 5), ok(five(60, None)), []),
        (
            at(12, 10),
            ok(five(60)),
            [
                threshold(
                    f"five_hour:{P1}:50", "Claude 5-hour limit: 60 % used", "Resets in 4 h 10 m (at 16:20)."
                )
            ],
        ),
    ),
    case(
        "stored-figures-of-a-failed-poll-fire-nothing-the-next-fresh-poll-does",
        (at(12), ok(five(40)), []),
        (at(12, 5), down(Status.OFFLINE, "No connection", five(95, forecast=pace(at(14)))), []),
        (at(12, 10), down(Status.STALE, None, five(95, forecast=pace(at(14)))), []),
        (at(12, 15), down(Status.RATE_LIMITED, "Rate limited", five(95, forecast=pace(at(14)))), []),
        (at(12, 20), down(Status.ERROR, "Server error", five(95, forecast=pace(at(14)))), []),
        (
            at(12, 25),
            ok(five(95, forecast=pace(at(14)))),
            [
                threshold(
                    f"five_hour:{P1}:90",
                    "Claude 5-hour limit: 95 % used",
                    "Resets in 3 h 55 m (at 16:20). On pace for 130 % by then.",
                ),
                pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 14:00, before the 16:20 reset."),
            ],
        ),
    ),
]

# resets_at wobbles by fractions of a second from poll to poll, as the real server's does.
WOBBLE_LOW = datetime(2026, 8, 4, 16, 19, 59, 571404, tzinfo=UTC)
WOBBLE_HIGH = datetime(2026, 8, 4, 16, 20, 0, 1100, tzinfo=UTC)
# The same wobble where a reset time sits on the edge between two rounding buckets.
EDGE_LOW = datetime(2026, 8, 4, 16, 24, 59, 800000, tzinfo=UTC)
EDGE_HIGH = datetime(2026, 8, 4, 16, 25, 0, 200000, tzinfo=UTC)

PERIODS = [
    case(
        "reset-announced-and-thresholds-re-armed",
        (
            at(15),
            ok(five(92)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 92 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(16, 21), ok(five(0, NEXT_RESET)), [reset(f"five_hour:{P1}", "You're back to 0 %.")]),
        (at(16, 30), ok(five(0, NEXT_RESET)), []),
        (
            at(17),
            ok(five(55, NEXT_RESET)),
            [
                threshold(
                    f"five_hour:{P2}:50", "Claude 5-hour limit: 55 % used", "Resets in 4 h 20 m (at 21:20)."
                )
            ],
        ),
        (
            at(18),
            ok(five(92, NEXT_RESET)),
            [
                threshold(
                    f"five_hour:{P2}:90", "Claude 5-hour limit: 92 % used", "Resets in 3 h 20 m (at 21:20)."
                )
            ],
        ),
    ),
    case(
        "reset-into-a-window-not-started-yet-is-announced-at-once",
        # After a reset the server reports no reset time until the next message starts a period.
        (
            at(15),
            ok(five(96)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 96 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(16, 21), ok(five(0, None)), [reset(f"five_hour:{P1}", "You're back to 0 %.")]),
        (at(16, 40), ok(five(0, None)), []),
        (at(17), ok(five(3, at(22))), []),
        (at(18), ok(five(4, at(22))), []),
    ),
    case(
        "no-reset-time-before-the-period-ends-is-not-a-reset",
        (
            at(15),
            ok(five(96)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 96 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(15, 30), ok(five(0, None)), []),
        (at(15, 35), ok(five(97)), []),
        (at(16, 25), ok(five(0, None)), [reset(f"five_hour:{P1}", "You're back to 0 %.")]),
    ),
    case(
        "reset-of-a-period-that-reached-90-exactly",
        (
            at(15),
            ok(five(90)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 90 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(16, 21), ok(five(0, NEXT_RESET)), [reset(f"five_hour:{P1}", "You're back to 0 %.")]),
    ),
    case(
        "reset-counts-the-highest-seen-in-the-period-not-the-last",
        (
            at(15),
            ok(five(91)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 91 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(16), ok(five(88)), []),
        (at(16, 21), ok(five(0, NEXT_RESET)), [reset(f"five_hour:{P1}", "You're back to 0 %.")]),
    ),
    case(
        "reset-of-a-period-below-90-is-not-announced",
        (
            at(15),
            ok(five(89)),
            [
                threshold(
                    f"five_hour:{P1}:75", "Claude 5-hour limit: 89 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(16, 21), ok(five(0, NEXT_RESET)), []),
        (at(16, 22), ok(five(0, None)), []),
    ),
    case(
        "reset-seen-late-says-where-usage-is-now",
        (
            at(15),
            ok(five(95)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 95 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (
            at(18),
            ok(five(12, NEXT_RESET)),
            [reset(f"five_hour:{P1}", "You're back to 12 %.")],
        ),
    ),
    case(
        "reset-alert-turned-off",
        (
            at(15),
            ok(five(95)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 95 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(16, 21), ok(five(0, NEXT_RESET)), []),
        rules=AlertRules(reset=False),
    ),
    case(
        "weekly-reset-is-announced-too",
        (
            at(15),
            ok(weekly(100, at(16))),
            [
                threshold(
                    f"seven_day:{P1 - 1200}:100",
                    "Claude weekly limit reached",
                    "Resets in 1 h 0 m (at 16:00).",
                )
            ],
        ),
        (
            at(16, 1),
            ok(weekly(0, WEEK_RESET)),
            [reset(f"seven_day:{P1 - 1200}", "You're back to 0 %.", title="Claude weekly limit reset")],
        ),
    ),
    case(
        "a-reset-time-moved-hours-earlier-is-a-correction-not-a-reset",
        (
            at(15),
            ok(five(95, NEXT_RESET)),
            [
                threshold(
                    f"five_hour:{P2}:90", "Claude 5-hour limit: 95 % used", "Resets in 6 h 20 m (at 21:20)."
                )
            ],
        ),
        (at(15, 5), ok(five(10, RESET)), []),
    ),
    case(
        "sub-second-wobble-of-the-reset-time-is-one-period",
        (
            at(14),
            ok(five(60, WOBBLE_LOW)),
            [
                threshold(
                    f"five_hour:{P1}:50", "Claude 5-hour limit: 60 % used", "Resets in 2 h 19 m (at 16:19)."
                )
            ],
        ),
        (at(14, 1), ok(five(62, WOBBLE_HIGH)), []),
        (at(14, 2), ok(five(63, WOBBLE_LOW)), []),
        (
            at(15),
            ok(five(92, WOBBLE_HIGH)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 92 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(15, 1), ok(five(93, WOBBLE_LOW)), []),
    ),
    case(
        "wobble-across-a-rounding-edge-is-still-one-period",
        (
            at(15),
            ok(five(92, EDGE_LOW)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 92 % used", "Resets in 1 h 24 m (at 16:24)."
                )
            ],
        ),
        # Neither a second 90 % alert nor a "reset" of a period that has not ended.
        (at(15, 1), ok(five(93, EDGE_HIGH)), []),
        (
            at(15, 2),
            ok(five(100, EDGE_LOW)),
            [
                threshold(
                    f"five_hour:{P1}:100", "Claude 5-hour limit reached", "Resets in 1 h 22 m (at 16:24)."
                )
            ],
        ),
        (at(15, 3), ok(five(100, EDGE_HIGH)), []),
        (at(15, 4), ok(five(100, EDGE_LOW)), []),
    ),
    case(
        "wobble-across-a-rounding-edge-starting-high",
        (
            at(15),
            ok(five(92, EDGE_HIGH)),
            [
                threshold(
                    f"five_hour:{P1_NEXT_BUCKET}:90",
                    "Claude 5-hour limit: 92 % used",
                    "Resets in 1 h 25 m (at 16:25).",
                )
            ],
        ),
        (at(15, 1), ok(five(93, EDGE_LOW)), []),
        (at(15, 2), ok(five(94, EDGE_HIGH)), []),
    ),
]

PACE = [
    case(
        "pace-warning-once-per-period-and-only-with-enough-data",
        (at(13), ok(five(40)), []),
        (at(13, 5), ok(five(41, forecast=Forecast(30.0, None, None))), []),
        (at(13, 8), ok(five(42, forecast=Forecast(10.0, 72.0, None))), []),
        (
            at(13, 10),
            ok(five(42, forecast=pace(at(15, 30)))),
            [pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 15:30, before the 16:20 reset.")],
        ),
        (at(13, 20), ok(five(46, forecast=pace(at(15, 25)))), []),
        (
            at(13, 30),
            ok(five(50, forecast=pace(at(15, 20), projected=121.0))),
            [
                threshold(
                    f"five_hour:{P1}:50",
                    "Claude 5-hour limit: 50 % used",
                    "Resets in 2 h 50 m (at 16:20). On pace for 121 % by then.",
                )
            ],
        ),
    ),
    case(
        "pace-flapping-does-not-repeat-30-minutes-under-re-arms",
        (
            at(12),
            ok(five(30, forecast=pace(at(15, 5)))),
            [pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 15:05, before the 16:20 reset.")],
        ),
        (at(12, 10), ok(five(31)), []),
        (at(12, 20), ok(five(33, forecast=pace(at(15, 10)))), []),
        (at(12, 25), ok(five(33)), []),
        (at(12, 54), ok(five(34)), []),
        # Only 29 minutes back under the limit: not yet a new warning.
        (at(12, 55), ok(five(36, forecast=pace(at(15, 30)))), []),
        (at(13), ok(five(36)), []),
        (at(13, 30), ok(five(37)), []),
        (
            at(13, 35),
            ok(five(40, forecast=pace(at(15, 45)))),
            [pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 15:45, before the 16:20 reset.")],
        ),
        (at(13, 40), ok(five(42, forecast=pace(at(15, 45)))), []),
    ),
    case(
        "weekly-pace-warns-once-a-working-day-not-after-every-evening",
        (
            at(10),
            ok(weekly(30, forecast=pace(at(18, day=5)))),
            [
                pace_alert(
                    f"seven_day:{PW}",
                    "On pace to hit the limit at Wed 18:00, before the Thu 19:00 reset.",
                    title="Claude weekly limit: on pace to run out",
                )
            ],
        ),
        # The evening and night back under the limit, then a new working morning: the same week's
        # warning is not given again.
        (at(19), ok(weekly(34)), []),
        (at(23), ok(weekly(34)), []),
        (at(9, day=5), ok(weekly(36, forecast=pace(at(17, day=5)))), []),
        (at(12, day=5), ok(weekly(40)), []),
        # A whole day under the limit re-arms it.
        (at(13, day=6), ok(weekly(42)), []),
        (
            at(14, day=6),
            ok(weekly(45, forecast=pace(at(17, day=6)))),
            [
                pace_alert(
                    f"seven_day:{PW}",
                    "On pace to hit the limit at 17:00, before the 19:00 reset.",
                    title="Claude weekly limit: on pace to run out",
                )
            ],
        ),
    ),
    case(
        "pace-re-armed-by-a-new-period",
        (
            at(12),
            ok(five(30, forecast=pace(at(15, 5)))),
            [pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 15:05, before the 16:20 reset.")],
        ),
        (
            at(17),
            ok(five(20, NEXT_RESET, forecast=pace(at(20, 10)))),
            [pace_alert(f"five_hour:{P2}", "On pace to hit the limit at 20:10, before the 21:20 reset.")],
        ),
        (at(17, 5), ok(five(22, NEXT_RESET, forecast=pace(at(20, 10)))), []),
    ),
    case(
        "pace-warning-at-99-comes-with-the-threshold",
        (
            at(15),
            ok(five(99, forecast=pace(at(15, 5)))),
            [
                threshold(
                    f"five_hour:{P1}:90",
                    "Claude 5-hour limit: 99 % used",
                    "Resets in 1 h 20 m (at 16:20). On pace for 130 % by then.",
                ),
                pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 15:05, before the 16:20 reset."),
            ],
        ),
    ),
    case(
        "no-pace-warning-once-the-limit-is-reached",
        (
            at(15),
            ok(five(100, forecast=pace(at(15, 5)))),
            [
                threshold(
                    f"five_hour:{P1}:100", "Claude 5-hour limit reached", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        (at(15, 5), ok(five(100, forecast=pace(at(15, 10)))), []),
    ),
    case(
        "pace-warning-turned-off",
        (at(12), ok(five(30, forecast=pace(at(15, 5)))), []),
        (at(13), ok(five(45, forecast=pace(at(15, 5)))), []),
        rules=AlertRules(pace=False),
    ),
]

OFFLINE = "No connection to api.anthropic.com"
LOGIN = "Claude Code is logged out: run claude and type /login"

FAILURES = [
    case(
        "third-failure-in-a-row-alerts-once-per-episode-after-five-minutes",
        (at(12), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 1), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 3), down(Status.OFFLINE, OFFLINE), []),  # three failures, but only three minutes
        (
            at(12, 5),
            down(Status.OFFLINE, OFFLINE),
            [failure(at(12), "Claude usage: cannot update", OFFLINE)],
        ),
        (at(12, 7), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 8), down(Status.ERROR, "Server error 503"), []),
        (at(12, 9), ok(five(10)), []),
        (at(12, 10), down(Status.ERROR, "Server error 500"), []),
        (at(12, 12), down(Status.ERROR, "Server error 500"), []),
        (
            at(12, 16),
            down(Status.ERROR, "Server error 500"),
            [failure(at(12, 10), "Claude usage: cannot update", "Server error 500")],
        ),
    ),
    case(
        "a-wake-up-with-three-quick-failures-stays-quiet",
        (at(7), down(Status.OFFLINE, OFFLINE), []),
        (at(7, 0, 30), down(Status.OFFLINE, OFFLINE), []),
        (at(7, 1, 30), down(Status.OFFLINE, OFFLINE), []),
        (at(7, 3, 30), down(Status.OFFLINE, OFFLINE), []),
        (at(7, 4), ok(five(10)), []),
    ),
    case(
        "short-outages-ended-by-a-good-poll-stay-quiet",
        (at(12), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 1), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 2), ok(five(10)), []),
        (at(12, 3), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 4), down(Status.ERROR, None), []),
        (at(12, 5), ok(five(10)), []),
        (at(12, 6), down(Status.OFFLINE, OFFLINE), []),
    ),
    case(
        "rate-limited-and-stale-neither-count-nor-end-an-episode",
        (at(12), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 1), down(Status.RATE_LIMITED, "Rate limited"), []),
        (at(12, 2), down(Status.RATE_LIMITED, "Rate limited"), []),
        (at(12, 3), down(Status.STALE, None), []),
        (at(12, 4), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 5), down(Status.RATE_LIMITED, "Rate limited"), []),
        (
            at(12, 6),
            down(Status.OFFLINE, OFFLINE),
            [failure(at(12), "Claude usage: cannot update", OFFLINE)],
        ),
    ),
    case(
        "login-needed",
        (at(12), down(Status.LOGIN_NEEDED, LOGIN), []),
        (at(12, 1), down(Status.LOGIN_NEEDED, LOGIN), []),
        (
            at(12, 2),
            down(Status.LOGIN_NEEDED, LOGIN),
            [failure(at(12), "Claude usage: login needed", LOGIN)],
        ),
        (at(12, 30), down(Status.LOGIN_NEEDED, LOGIN), []),
    ),
    case(
        "without-a-message-the-status-is-named",
        (
            at(12),
            down(Status.LOGIN_NEEDED),
            [failure(at(12), "Claude usage: login needed", "login needed")],
        ),
        (at(12, 1), ok(), []),
        (at(12, 2), down(Status.OFFLINE), [failure(at(12, 2), "Claude usage: cannot update", "offline")]),
        rules=AlertRules(failures_after=1, failure_grace=timedelta(0)),
    ),
]

EXTRA_USAGE = [
    case(
        "extra-usage-alerts-are-off-by-default",
        (at(12), ok(five(10), extra=spent(150.0)), []),
        (at(13), ok(five(10), extra=spent(500.0, limit=None)), []),
    ),
    case(
        "extra-usage-once-per-month-per-amount-naming-the-highest",
        (at(12), ok(extra=spent(5.0)), []),
        (
            at(13),
            ok(extra=spent(60.0)),
            [
                extra(
                    "2026-08:50", "Claude usage credits: $50.00 passed", "$60.00 of $200.00 spent this month."
                )
            ],
        ),
        (at(14), ok(extra=spent(70.0)), []),
        (
            at(9, day=20),
            ok(extra=spent(150.0)),
            [
                extra(
                    "2026-08:100",
                    "Claude usage credits: $100.00 passed",
                    "$150.00 of $200.00 spent this month.",
                )
            ],
        ),
        (at(9, day=21), ok(extra=spent(180.0)), []),
        (
            at(0, 30, day=1, month=9),
            ok(extra=spent(12.0)),
            [
                extra(
                    "2026-09:10", "Claude usage credits: $10.00 passed", "$12.00 of $200.00 spent this month."
                )
            ],
        ),
        (at(8, day=2, month=9), ok(extra=spent(12.5)), []),
        rules=AlertRules(extra_usage_amounts=(10.0, 50.0, 100.0)),
    ),
    case(
        "extra-usage-without-a-limit-in-euros",
        (
            at(12),
            ok(extra=spent(1234.5, limit=None, currency="EUR")),
            [extra("2026-08:1000", "Claude usage credits: €1,000.00 passed", "€1,234.50 spent this month.")],
        ),
        rules=AlertRules(extra_usage_amounts=(1000.0,)),
    ),
    case(
        "extra-usage-switched-off-on-the-account-or-not-fresh",
        (at(12), ok(extra=spent(80.0, enabled=False)), []),
        (at(13), CodeReport(Status.STALE, None, None, None, (), spent(80.0)), []),
        rules=AlertRules(extra_usage_amounts=(50.0,)),
    ),
]

RESTARTS = [
    case(
        "restart-does-not-replay-a-threshold",
        (
            at(14),
            ok(five(80)),
            [
                threshold(
                    f"five_hour:{P1}:75", "Claude 5-hour limit: 80 % used", "Resets in 2 h 20 m (at 16:20)."
                )
            ],
        ),
        RESTART,
        (at(14, 5), ok(five(80)), []),
        (
            at(15),
            ok(five(92)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 92 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        RESTART,
        (at(15, 5), ok(five(92)), []),
    ),
    case(
        "restart-replays-nothing-of-anything",
        (
            at(14),
            ok(five(95, forecast=pace(at(14, 30))), fable(100), extra=spent(60.0)),
            [
                threshold(
                    f"five_hour:{P1}:90",
                    "Claude 5-hour limit: 95 % used",
                    "Resets in 2 h 20 m (at 16:20). On pace for 130 % by then.",
                ),
                pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 14:30, before the 16:20 reset."),
                threshold(
                    f"{FABLE}:{PW}:100",
                    "Claude weekly (Fable) limit reached",
                    "Resets Thu 19:00 (in 2 d 5 h).",
                ),
                extra(
                    "2026-08:50", "Claude usage credits: $50.00 passed", "$60.00 of $200.00 spent this month."
                ),
            ],
        ),
        RESTART,
        (at(14, 5), ok(five(95, forecast=pace(at(14, 30))), fable(100), extra=spent(60.0)), []),
        rules=AlertRules(extra_usage_amounts=(50.0,)),
    ),
    case(
        "restart-keeps-the-failure-episode",
        # A start time with microseconds: the episode's key must survive the store exactly.
        (at(12, 0, 0, 600_000), down(Status.OFFLINE, OFFLINE), []),
        (at(12, 1), down(Status.OFFLINE, OFFLINE), []),
        RESTART,
        (
            at(12, 6),
            down(Status.OFFLINE, OFFLINE),
            [failure(at(12, 0, 0, 600_000), "Claude usage: cannot update", OFFLINE)],
        ),
        RESTART,
        (at(12, 7), down(Status.OFFLINE, OFFLINE), []),
    ),
    case(
        "restart-keeps-the-peak-for-the-reset-alert",
        (
            at(15),
            ok(five(95)),
            [
                threshold(
                    f"five_hour:{P1}:90", "Claude 5-hour limit: 95 % used", "Resets in 1 h 20 m (at 16:20)."
                )
            ],
        ),
        RESTART,
        (at(16, 25), ok(five(0, None)), [reset(f"five_hour:{P1}", "You're back to 0 %.")]),
        RESTART,
        (at(16, 30), ok(five(0, None)), []),
    ),
    case(
        "restart-keeps-the-pace-re-arm-clock",
        (
            at(12),
            ok(five(30, forecast=pace(at(15, 5)))),
            [
                pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 15:05, before the 16:20 reset."),
            ],
        ),
        (at(12, 10), ok(five(31)), []),
        RESTART,
        (at(12, 40), ok(five(33)), []),
        (
            at(12, 45),
            ok(five(36, forecast=pace(at(15, 30)))),
            [pace_alert(f"five_hour:{P1}", "On pace to hit the limit at 15:30, before the 16:20 reset.")],
        ),
    ),
]


@pytest.mark.parametrize(("rows", "rules"), THRESHOLDS + PERIODS + PACE + FAILURES + EXTRA_USAGE + RESTARTS)
def test_polls_give_exactly_these_alerts(rows: list[Row], rules: AlertRules) -> None:
    replay(rows, rules)


def test_defaults_are_the_documented_ones() -> None:
    rules = AlertRules()
    assert DEFAULT_LADDER == (50.0, 75.0, 90.0, 100.0)
    assert (rules.ladder, rules.pace, rules.reset, rules.reset_after_peak) == (
        DEFAULT_LADDER,
        True,
        True,
        90.0,
    )
    assert (rules.failures_after, rules.extra_usage_amounts) == (3, ())
    assert rules.failure_grace == timedelta(minutes=5)
    assert rules.pace_rearm_after == timedelta(minutes=30)
    assert rules.weekly_pace_rearm_after == timedelta(hours=24)


@pytest.mark.parametrize(
    ("resets_at", "expected"),
    [(None, None), (RESET, P1), (WOBBLE_LOW, P1), (WOBBLE_HIGH, P1), (NEXT_RESET, P2)],
)
def test_period_key(resets_at: datetime | None, expected: int | None) -> None:
    assert period_key(resets_at) == expected


def test_a_reset_is_announced_once_even_when_old_fired_keys_are_forgotten() -> None:
    # Fired keys of ended periods may be pruned from the store; the ended period's peak must not fire twice.
    state, _ = step(RulesState(), ok(five(95)), at(15), UTC, DEFAULTS)
    state, first = step(state, ok(five(0, None)), at(16, 21), UTC, DEFAULTS)
    assert [alert.kind for alert in first] == [AlertKind.RESET]
    forgotten = RulesState(peaks=state.peaks)
    for now, report in [(at(16, 25), ok(five(0, None))), (at(17), ok(five(2, at(22))))]:
        forgotten, again = step(forgotten, report, now, UTC, DEFAULTS)
        assert again == []


def test_an_outage_that_turns_into_a_login_problem_is_told_again() -> None:
    state = RulesState()
    told = []
    for step_number, status in enumerate([Status.OFFLINE] * 3 + [Status.ERROR] + [Status.LOGIN_NEEDED] * 2):
        report = CodeReport(status, "why", None, None, (), None)
        state, alerts = step(state, report, at(12, 2 * step_number), UTC, AlertRules())
        told += [a.title for a in alerts]
    assert told == ["Claude usage: cannot update", "Claude usage: login needed"]


def test_a_window_turned_off_gives_no_alert_at_all() -> None:
    rules = AlertRules(ladders={"five_hour": ()})
    over = Forecast(30.0, 150.0, at(13))
    state, alerts = step(RulesState(), ok(five(95, forecast=over)), at(12), UTC, rules)
    assert alerts == []


def test_forget_old_keeps_what_can_still_fire() -> None:
    now = at(12)
    old_period = round((now - timedelta(days=60)).timestamp())
    live_period = round((now + timedelta(hours=2)).timestamp())
    episode = now - timedelta(days=50)
    state = RulesState(
        fired=frozenset(
            {
                f"threshold:five_hour:{old_period}:50",
                f"threshold:five_hour:{live_period}:50",
                f"pace:five_hour:{old_period}",
                f"failure:{round(episode.timestamp())}:update",
                "failure:1000:update",
                f"extra:{now:%Y-%m}:10",
                "extra:2001-01:10",
            }
        ),
        episode_started=episode,
    )
    assert forget_old(state, now).fired == {
        f"threshold:five_hour:{live_period}:50",
        f"failure:{round(episode.timestamp())}:update",
        f"extra:{now:%Y-%m}:10",
    }


NEXT_WEEK_RESET = WEEK_RESET + timedelta(days=7)
PW_NEXT = PW + 7 * 86400


def locked_weekly(utilization: float, resets_at: datetime | None = WEEK_RESET) -> WindowReport:
    return WindowReport(UsageWindow(SEVEN_DAY, "Weekly", utilization, resets_at, locked=True), NO_FORECAST)


@pytest.mark.parametrize(
    ("rows", "rules"),
    [
        case(
            "the-fable-week-blocks-under-a-40-percent-5-hour-window-once-per-period-even-with-thresholds-off",
            (at(12), ok(five(40), weekly(41), fable(99)), []),
            (
                at(13),
                ok(five(40), weekly(41), fable(100)),
                [
                    blocked(
                        f"{FABLE}:{PW}",
                        "Claude weekly (Fable) limit reached",
                        "Resets Thu 19:00 (in 2 d 6 h).",
                    )
                ],
            ),
            (at(14), ok(five(45), weekly(41), fable(100)), []),
            RESTART,
            (at(15), ok(five(45), weekly(41), fable(100)), []),
            # The next week is a new period: blocked again, told again.
            (
                at(12, day=10),
                ok(five(40), weekly(41, NEXT_WEEK_RESET), fable(100, NEXT_WEEK_RESET)),
                [
                    blocked(
                        f"{FABLE}:{PW_NEXT}",
                        "Claude weekly (Fable) limit reached",
                        "Resets Thu 19:00 (in 3 d 7 h).",
                    )
                ],
            ),
            rules=AlertRules(ladder=()),
        ),
        case(
            "a-jump-past-lower-thresholds-into-a-block-is-one-notification",
            (at(12), ok(fable(40)), []),
            (
                at(13),
                ok(fable(100)),
                [
                    blocked(
                        f"{FABLE}:{PW}",
                        "Claude weekly (Fable) limit reached",
                        "Resets Thu 19:00 (in 2 d 6 h).",
                    )
                ],
            ),
            rules=AlertRules(ladder=(50.0, 75.0, 90.0)),
        ),
        case(
            "a-locked-window-says-locked-whatever-its-figure",
            (
                at(12),
                ok(five(10), locked_weekly(30)),
                [blocked(f"seven_day:{PW}", "Claude weekly limit locked", "Resets Thu 19:00 (in 2 d 7 h).")],
            ),
            (at(13), ok(five(10), locked_weekly(30)), []),
        ),
        case(
            "a-block-without-a-reset-time-is-told-again-only-after-it-lifted",
            (
                at(12),
                ok(locked_weekly(30, None)),
                [blocked("seven_day:none", "Claude weekly limit locked", "Reset time not given.")],
            ),
            (at(13), ok(locked_weekly(30, None)), []),
            (at(14), ok(weekly(30, None)), []),
            (
                at(15),
                ok(locked_weekly(30, None)),
                [blocked("seven_day:none", "Claude weekly limit locked", "Reset time not given.")],
            ),
        ),
        case(
            "a-window-turned-off-by-itself-is-not-told-blocked",
            (at(12), ok(five(40), fable(100)), []),
            rules=AlertRules(ladders={FABLE: ()}),
        ),
    ],
)
def test_a_block_is_told_once_per_period(rows: list[Row], rules: AlertRules) -> None:
    replay(rows, rules)
