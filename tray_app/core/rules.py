"""Alert rules: step(state, report, now) -> (state, alerts). Each alert fires once per crossing.

Every alert has a key that names what it is about and the window period (or month, or failure
episode) it belongs to. A key in state.fired never fires again, and the fired keys are stored, so a
restart replays nothing. A new period makes new keys: that is the re-arming.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum

from tray_app.core.blocked import still_blocked
from tray_app.core.console import ConsoleReport, KeySpend, MonthFigures
from tray_app.core.grants import grant_clearing, grant_offer
from tray_app.core.models import FIVE_HOUR, CodeReport, ExtraUsage, Status, UsageWindow, WindowReport
from tray_app.core.report import format_money, format_percent, reset_phrase, sentence

DEFAULT_LADDER: tuple[float, ...] = (50.0, 75.0, 90.0, 100.0)
# resets_at wobbles by fractions of a second between polls; periods are hours apart.
_PERIOD_ROUNDING = 600
# The statuses in which the figures shown are old ones: a failure episode goes on, no figure is fresh.
FAILING = (Status.LOGIN_NEEDED, Status.OFFLINE, Status.ERROR)


class AlertKind(StrEnum):
    THRESHOLD = "threshold"
    BLOCKED = "blocked"  # a window at 100 % or locked: told once per period, whatever the thresholds
    PACE = "pace"
    RESET = "reset"
    FAILURE = "failure"
    EXTRA_USAGE = "extra_usage"
    RESET_GRANT = "reset_grant"
    BUDGET = "budget"


@dataclass(frozen=True)
class Alert:
    key: str
    kind: AlertKind
    title: str
    body: str


@dataclass(frozen=True)
class AlertRules:
    """Which alerts are on. ladders maps a window id to its thresholds; () turns a window off."""

    ladder: tuple[float, ...] = DEFAULT_LADDER
    ladders: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    pace: bool = True
    pace_rearm_after: timedelta = timedelta(minutes=30)
    # A weekly window's pace clears every evening and returns every working day; warning again each time
    # would be a notification a day about the same week. It needs a whole day back under the limit.
    weekly_pace_rearm_after: timedelta = timedelta(hours=24)
    reset: bool = True
    reset_after_peak: float = 90.0  # announce a reset only when the ended period got this high
    failures_after: int = 3
    # An outage must also have lasted this long: a wake-up or a Wi-Fi hiccup fails three quick polls.
    failure_grace: timedelta = timedelta(minutes=5)
    extra_usage_amounts: tuple[float, ...] = ()
    budget_ladder: tuple[float, ...] = (50.0, 80.0, 100.0)  # percent of a Console budget
    budget_projection: bool = True

    def ladder_for(self, window_id: str) -> tuple[float, ...]:
        return self.ladders.get(window_id, self.ladder)


@dataclass(frozen=True)
class RulesState:
    """What the rules remember between polls (and, stored, between runs)."""

    fired: frozenset[str] = frozenset()
    failures: int = 0
    episode_started: datetime | None = None
    # window id -> (period key, highest utilization seen in that period)
    peaks: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    # window id -> since when its pace has been back under the limit
    pace_clear_since: Mapping[str, datetime] = field(default_factory=dict)


def period_key(resets_at: datetime | None) -> int | None:
    """A window period's identity: its reset time, rounded so sub-second wobble is the same period."""
    if resets_at is None:
        return None
    return round(resets_at.timestamp() / _PERIOD_ROUNDING) * _PERIOD_ROUNDING


def _period(window: UsageWindow, state: RulesState) -> int | None:
    """period_key, except that a reset time close to the window's known period is that period."""
    if window.resets_at is None:
        return None
    known = state.peaks.get(window.id)
    # Rounding alone would split one period whose reset time wobbles across a rounding boundary.
    if known is not None and abs(window.resets_at.timestamp() - known[0]) < _PERIOD_ROUNDING:
        return known[0]
    return period_key(window.resets_at)


def _name(item: WindowReport) -> str:
    """'5-hour', 'weekly', 'weekly (Fable)': how a notification names the window."""
    if item.window.id == FIVE_HOUR:
        return "5-hour"
    base, _, model = item.window.label.partition(" · ")
    return f"{base.lower()} ({model})" if model else base.lower()


def _threshold_alert(item: WindowReport, threshold: float, now: datetime, tz: tzinfo, key: str) -> Alert:
    window = item.window
    what = f"Claude {_name(item)} limit"
    title = f"{what} reached" if threshold >= 100 else f"{what}: {format_percent(window.utilization)} used"
    body = f"{sentence(reset_phrase(window.resets_at, now, tz, window.utilization))}."
    projected = item.forecast.projected_at_reset
    if threshold < 100 and projected is not None and projected > 100:
        body += f" On pace for {projected:.0f} % by then."
    return Alert(key, AlertKind.THRESHOLD, title, body)


def _window_alerts(
    item: WindowReport, state: RulesState, rules: AlertRules, now: datetime, tz: tzinfo
) -> tuple[RulesState, list[Alert]]:
    window = item.window
    if rules.ladders.get(window.id) == ():
        return state, []  # the user turned this window's alerts off
    period = _period(window, state)
    state, blocked = _blocked_alert(item, period, state, now, tz)
    if not rules.ladder_for(window.id):
        return state, blocked  # thresholds off for every window: being stopped is still news
    if period is None:
        # Not started: no thresholds or pace without a period, but the last period may have ended.
        state, reset = _reset_alert(item, None, state, rules, now)
        return state, blocked + reset
    alerts: list[Alert] = []
    fired = set(state.fired)
    crossed = [t for t in rules.ladder_for(window.id) if window.utilization >= t]
    new = [t for t in crossed if f"threshold:{window.id}:{period}:{t:g}" not in fired]
    fired.update(f"threshold:{window.id}:{period}:{t:g}" for t in crossed)
    if new:
        # Several thresholds in one jump: one notification, naming the highest.
        top = max(new)
        alerts.append(_threshold_alert(item, top, now, tz, f"threshold:{window.id}:{period}:{top:g}"))
        # One notification for one block: "limit reached" at a 100 threshold already says it, and a
        # lower threshold crossed in the same jump says less than the block does.
        if top >= 100:
            blocked = []
        elif blocked:
            alerts = []
    state = replace(state, fired=frozenset(fired))
    state, pace = _pace_alert(item, period, state, rules, now, tz)
    state, reset = _reset_alert(item, period, state, rules, now)
    return state, blocked + alerts + pace + reset


def _blocked_alert(
    item: WindowReport, period: int | None, state: RulesState, now: datetime, tz: tzinfo
) -> tuple[RulesState, list[Alert]]:
    """'Claude weekly (Fable) limit reached', once per window and period ("blocked:<window>:<period>")."""
    window = item.window
    unknown = f"blocked:{window.id}:none"
    if not still_blocked(window, now):
        # A block without a reset time has no period to make a new key: it re-arms when it lifts.
        return (replace(state, fired=state.fired - {unknown}) if unknown in state.fired else state), []
    key = unknown if period is None else f"blocked:{window.id}:{period}"
    if key in state.fired:
        return state, []
    title = f"Claude {_name(item)} limit {'locked' if window.locked else 'reached'}"
    body = f"{sentence(reset_phrase(window.resets_at, now, tz, window.utilization))}."
    return replace(state, fired=state.fired | {key}), [Alert(key, AlertKind.BLOCKED, title, body)]


def _pace_alert(
    item: WindowReport, period: int, state: RulesState, rules: AlertRules, now: datetime, tz: tzinfo
) -> tuple[RulesState, list[Alert]]:
    window, limit_at = item.window, item.forecast.limit_at
    key = f"pace:{window.id}:{period}"
    clear = dict(state.pace_clear_since)
    if not rules.pace or window.resets_at is None:
        return state, []
    if limit_at is None:
        # Back under the limit: after a while the warning may be given again in this period.
        since = clear.setdefault(window.id, now)
        rearm = rules.pace_rearm_after if window.id == FIVE_HOUR else rules.weekly_pace_rearm_after
        if key in state.fired and now - since >= rearm:
            return replace(state, fired=state.fired - {key}, pace_clear_since=clear), []
        return replace(state, pace_clear_since=clear), []
    clear.pop(window.id, None)
    state = replace(state, pace_clear_since=clear)
    if key in state.fired or window.utilization >= 100:
        return state, []
    title = f"Claude {_name(item)} limit: on pace to run out"
    body = (
        f"On pace to hit the limit at {_clock_time(limit_at, now, tz)}, "
        f"before the {_clock_time(window.resets_at, now, tz)} reset."
    )
    return replace(state, fired=state.fired | {key}), [Alert(key, AlertKind.PACE, title, body)]


def _clock_time(moment: datetime, now: datetime, tz: tzinfo) -> str:
    """'15:05' today, 'Sat 19:00' on another day: a weekly window's limit and reset are often days apart."""
    local = moment.astimezone(tz)
    return f"{local:%H:%M}" if local.date() == now.astimezone(tz).date() else f"{local:%a %H:%M}"


def _reset_alert(
    item: WindowReport, period: int | None, state: RulesState, rules: AlertRules, now: datetime
) -> tuple[RulesState, list[Alert]]:
    window = item.window
    peaks = dict(state.peaks)
    previous = peaks.get(window.id)
    if previous is None or previous[0] == period:
        if period is not None:
            peaks[window.id] = (period, max(window.utilization, previous[1] if previous else 0.0))
        return replace(state, peaks=peaks), []
    ended, peak = previous
    if period is None:
        # The server drops the reset time once a period is over and nothing new is used yet; before
        # the period's end a missing reset time is a glitch, not a reset.
        if now.timestamp() < ended - _PERIOD_ROUNDING / 2:
            return state, []
        # The ended period's peak is spent: a later poll must not announce it again, fired key or not.
        peaks[window.id] = (ended, window.utilization)
    else:
        peaks[window.id] = (period, window.utilization)
    state = replace(state, peaks=peaks)
    # A resets_at that moved earlier is a correction, not the end of a period.
    if period is not None and period < ended:
        return state, []
    # Keyed by the period that ended, so "not started" and the next period announce it only once.
    key = f"reset:{window.id}:{ended}"
    if not rules.reset or peak < rules.reset_after_peak or key in state.fired:
        return state, []
    alert = Alert(
        key,
        AlertKind.RESET,
        f"Claude {_name(item)} limit reset",
        f"You're back to {format_percent(window.utilization)}.",
    )
    return replace(state, fired=state.fired | {key}), [alert]


def _failure_alert(
    report: CodeReport, state: RulesState, rules: AlertRules, now: datetime
) -> tuple[RulesState, list[Alert]]:
    if report.status not in FAILING:
        if report.status is Status.OK:
            return replace(state, failures=0, episode_started=None), []
        return state, []  # rate limited or stale: neither a failure nor a recovery
    started = state.episode_started or now
    state = replace(state, failures=state.failures + 1, episode_started=started)
    # Keyed by the kind of trouble too: an outage that turns into a login problem is told once more.
    trouble = "login" if report.status is Status.LOGIN_NEEDED else "update"
    key = f"failure:{round(started.timestamp())}:{trouble}"
    if state.failures < rules.failures_after or key in state.fired:
        return state, []
    if trouble == "update" and now - started < rules.failure_grace:
        return state, []  # a login problem needs the user at once; a network one may pass by itself
    title = (
        "Claude usage: login needed"
        if report.status is Status.LOGIN_NEEDED
        else "Claude usage: cannot update"
    )
    alert = Alert(key, AlertKind.FAILURE, title, report.message or report.status.value.replace("_", " "))
    return replace(state, fired=state.fired | {key}), [alert]


def _extra_usage_alerts(
    extra: ExtraUsage | None, state: RulesState, rules: AlertRules, now: datetime, tz: tzinfo
) -> tuple[RulesState, list[Alert]]:
    if extra is None or not extra.enabled:
        return state, []
    month = now.astimezone(tz).strftime("%Y-%m")
    passed = [a for a in rules.extra_usage_amounts if extra.used >= a]
    new = [a for a in passed if f"extra:{month}:{a:g}" not in state.fired]
    fired = state.fired | {f"extra:{month}:{a:g}" for a in passed}
    if not new:
        return replace(state, fired=fired), []
    top = max(new)
    limit = "" if extra.limit is None else f" of {format_money(extra.limit, extra.currency)}"
    alert = Alert(
        f"extra:{month}:{top:g}",
        AlertKind.EXTRA_USAGE,
        f"Claude usage credits: {format_money(top, extra.currency)} passed",
        f"{format_money(extra.used, extra.currency)}{limit} spent this month.",
    )
    return replace(state, fired=fired), [alert]


def _reset_grant_alert(
    report: CodeReport, state: RulesState, now: datetime, tz: tzinfo
) -> tuple[RulesState, list[Alert]]:
    """A limit is hit and a free reset that clears it is usable: say so, and where Claude Code offers it
    (we never spend one). Once per blocked window and period ("grant:<window>:<period>"); a window
    without a reset time is keyed by the grant's expiry instead, so it is told once per grant."""
    blocked = [item for item in report.windows if item.window.blocked]
    grant = grant_clearing(report.reset_grants, (item.window.id for item in blocked), now)
    if grant is None or report.reset_grants is None:
        return state, []
    cleared = [item for item in blocked if not grant.clears or item.window.id in grant.clears]
    expiry = 0 if grant.ends_at is None else round(grant.ends_at.timestamp())
    keys = {f"grant:{item.window.id}:{_period(item.window, state) or expiry}": item for item in cleared}
    new = [item for key, item in keys.items() if key not in state.fired]
    state = replace(state, fired=state.fired | set(keys))
    if not new:
        return state, []
    key = next(key for key, item in keys.items() if item is new[0])
    body = (
        f"The {_name(new[0])} limit is reached. Claude Code offers a free usage-limit reset "
        f'({grant_offer(report.reset_grants, now, tz)}): choose "Reset for free" in its limit message.'
    )
    return state, [Alert(key, AlertKind.RESET_GRANT, "Claude: a free limit reset is available", body)]


def step(
    state: RulesState, report: CodeReport, now: datetime, tz: tzinfo, rules: AlertRules
) -> tuple[RulesState, list[Alert]]:
    """Apply one poll's report: the new state and the alerts to deliver (usually none)."""
    alerts: list[Alert] = []
    state, failure = _failure_alert(report, state, rules, now)
    alerts += failure
    if report.status is Status.OK:
        # Only fresh figures move the rules on; stored ones shown during a failure were seen already.
        for item in report.windows:
            state, found = _window_alerts(item, state, rules, now, tz)
            alerts += found
        state, extra = _extra_usage_alerts(report.extra_usage, state, rules, now, tz)
        alerts += extra
        state, granted = _reset_grant_alert(report, state, now, tz)
        alerts = _told_together(alerts, granted)
    return state, alerts


def _told_together(alerts: list[Alert], granted: list[Alert]) -> list[Alert]:
    """One notification per event: a limit reached in this poll and a free reset that clears it are told
    in one (the limit's, with the reset's sentence added); a reset that becomes usable later is told alone."""
    if not granted:
        return alerts
    # Keys name the window second: "grant:<window>:<period>", "blocked:<window>:…", "threshold:<window>:…".
    window_id = granted[0].key.split(":")[1]
    offer = granted[0].body.split(". ", 1)[-1]  # after "The <window> limit is reached."
    for index, alert in enumerate(alerts):
        if alert.kind in (AlertKind.BLOCKED, AlertKind.THRESHOLD) and alert.key.split(":")[1] == window_id:
            merged = replace(alert, body=f"{alert.body} {offer}")
            return [*alerts[:index], merged, *alerts[index + 1 :]]
    return alerts + granted


# Fired keys older than this cannot come back: their periods, episodes and months are over.
FORGET_AFTER = timedelta(days=40)


def _key_is_current(key: str, state: RulesState, now: datetime) -> bool:
    kind, _, rest = key.partition(":")
    cutoff = now - FORGET_AFTER
    if kind in ("extra", "budget", "budget-projection"):
        month = rest.partition(":")[0]
        return month >= f"{cutoff:%Y-%m}"
    if kind == "failure":
        started = state.episode_started
        if started is not None and rest.startswith(f"{round(started.timestamp())}:"):
            return True
        stamp = rest.partition(":")[0]
    else:
        stamp = rest.split(":")[1] if rest.count(":") else ""
    return not stamp.lstrip("-").isdigit() or int(stamp) >= cutoff.timestamp()


def forget_old(state: RulesState, now: datetime) -> RulesState:
    """Drop fired keys of periods, episodes and months long over, so the stored state stays small."""
    kept = frozenset(key for key in state.fired if _key_is_current(key, state, now))
    return state if kept == state.fired else replace(state, fired=kept)


def _budget_alert(
    subject: str,
    whose: str,
    spent: Decimal,
    budget: Decimal,
    figures: MonthFigures,
    state: RulesState,
    rules: AlertRules,
) -> tuple[RulesState, list[Alert]]:
    """Thresholds of one budget (the organization's, a workspace's, an API key's), once per month.

    subject names the budget in the keys ("budget:<month>:<subject>:<threshold>"); whose in the title.
    """
    share = spent / budget * 100
    crossed = [t for t in rules.budget_ladder if share >= Decimal(str(t))]
    keys = {t: f"budget:{figures.month}:{subject}:{t:g}" for t in crossed}
    new = [t for t in crossed if keys[t] not in state.fired]
    state = replace(state, fired=state.fired | set(keys.values()))
    if not new:
        return state, []
    top = max(new)
    amount = format_money(float(budget), figures.currency)
    title = f"{whose}: budget reached" if top >= 100 else f"{whose}: {top:g} % of the {amount} budget"
    body = f"{format_money(float(spent), figures.currency)} of {amount} spent this month."
    return state, [Alert(keys[top], AlertKind.BUDGET, title, body)]


def step_console(
    state: RulesState, report: ConsoleReport, rules: AlertRules
) -> tuple[RulesState, list[Alert]]:
    """Budget alerts from a fresh Console refresh: thresholds and the month-end projection, once a month."""
    figures = report.figures
    if report.status is not Status.OK or figures is None:
        return state, []
    alerts: list[Alert] = []
    if figures.budget:
        spent, budget = figures.mtd_cost, figures.budget
        whose = "Claude API spend"
        state, found = _budget_alert("organization", whose, spent, budget, figures, state, rules)
        alerts += found
        key, title = f"budget-projection:{figures.month}", f"{whose}: on pace to pass the budget"
        projected = figures.projected_month_end_cost
        state, found = _projection_alert(key, title, spent, projected, budget, figures, state, rules)
        alerts += found
    for workspace in figures.workspaces:
        if workspace.budget:
            whose = f"Claude API spend of {workspace.name}"
            state, found = _budget_alert(
                workspace.name, whose, workspace.cost, workspace.budget, figures, state, rules
            )
            alerts += found
    for api_key in figures.spenders.by_api_key if figures.spenders else ():
        state, found = _key_budget_alerts(api_key, figures, state, rules)
        alerts += found
    return state, alerts


def _projection_alert(
    key: str,
    title: str,
    spent: Decimal,
    projected: Decimal | None,
    budget: Decimal,
    figures: MonthFigures,
    state: RulesState,
    rules: AlertRules,
) -> tuple[RulesState, list[Alert]]:
    """'On pace to pass the budget': the month-end projection is over a budget not reached yet; once (key)."""
    if not rules.budget_projection or projected is None or key in state.fired:
        return state, []
    if not projected > budget > spent:
        return state, []
    amount = format_money(float(budget), figures.currency)
    expected = format_money(float(projected), figures.currency)
    body = f"Projected {expected} by month end; the budget is {amount}."
    return replace(state, fired=state.fired | {key}), [Alert(key, AlertKind.BUDGET, title, body)]


def _key_budget_alerts(
    api_key: KeySpend, figures: MonthFigures, state: RulesState, rules: AlertRules
) -> tuple[RulesState, list[Alert]]:
    """An API key's budget ([console.api_key_budgets]): its ladder and its projection, once a month each.

    Keyed by the key's id (by its name when it has none), so a renamed or deleted key is the same key;
    "api-key:" keeps them apart from a workspace of the same name.
    """
    if not api_key.budget:
        return state, []
    subject, whose = f"api-key:{api_key.id or api_key.name}", f"API key {api_key.name}"
    state, alerts = _budget_alert(subject, whose, api_key.cost, api_key.budget, figures, state, rules)
    key, title = f"budget-projection:{figures.month}:{subject}", f"{whose}: on pace to pass its budget"
    spent, projected, budget = api_key.cost, api_key.projected_month_end_cost, api_key.budget
    state, pace = _projection_alert(key, title, spent, projected, budget, figures, state, rules)
    return state, alerts + pace
