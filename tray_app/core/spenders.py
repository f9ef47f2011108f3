"""The Analytics API's month, in the Console report's terms: its cost lines, and who and what spent.

Pure. Rows come from tray_app.core.analytics (cents, exact); what leaves here is in major units, still
exact, as the rest of the Console figures are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from tray_app.core.analytics import (
    API_KEY,
    GONE_KEY_STATUSES,
    USER,
    CostRow,
    GroupTotal,
    actor_totals,
    cents_to_dollars,
    key_totals,
)
from tray_app.core.console import ActorSpend, CostLine, KeySpend, Spenders, month_start, project_month_end

# {key id: (name, status)} from the API key list; None while that list is not known.
KeyNames = Mapping[str, tuple[str, str]] | None
# (key id, key name) -> the key's budget, or None.
BudgetOf = Callable[[str, str], Decimal | None]


def row_day(row: CostRow) -> date:
    """The UTC day a daily row belongs to."""
    return row.starting_at.astimezone(UTC).date()


def cost_lines(rows: Iterable[CostRow]) -> list[CostLine]:
    """Analytics rows as cost-report lines, so the month's total, days, models and workspaces are
    summed by the same code whichever source they came from."""
    return [
        CostLine(
            day=row_day(row),
            workspace_id=row.workspace_id,
            description=None,
            model=row.model,
            cost_type=None,
            amount_cents=row.amount,
            currency=row.currency,
        )
        for row in rows
    ]


def _key_gone(key_id: str, keys: KeyNames) -> bool:
    if keys is None:
        return False  # not known yet: no key can be called deleted
    known = keys.get(key_id)
    return known is None or known[1].strip().lower() in GONE_KEY_STATUSES


def _key_spend(
    total: GroupTotal,
    keys: KeyNames,
    budget: Decimal | None,
    daily: Mapping[str | None, dict[date, Decimal]],
    now: datetime,
) -> KeySpend:
    cost = cents_to_dollars(total.cost)
    if total.id is None:
        return KeySpend(None, total.name, cost)
    projected = project_month_end(daily.get(total.id, {}), cost, now, ()) if budget is not None else None
    return KeySpend(total.id, total.name, cost, _key_gone(total.id, keys), budget, projected)


def _actor_spend(total: GroupTotal, keys: KeyNames) -> ActorSpend:
    cost = cents_to_dollars(total.cost)
    actor = total.actor
    if actor is None:
        return ActorSpend(None, None, total.name, None, cost)
    deleted = actor.deleted or (actor.type == API_KEY and _key_gone(actor.id, keys))
    return ActorSpend(actor.type, actor.id, total.name, actor.email, cost, deleted)


def _daily_by_key(rows: Sequence[CostRow], now: datetime) -> dict[str | None, dict[date, Decimal]]:
    """Each key's spend per day of the month so far (major units), every day present."""
    first, today = month_start(now).date(), now.astimezone(UTC).date()
    days = [date.fromordinal(n) for n in range(first.toordinal(), today.toordinal() + 1)]
    daily: dict[str | None, dict[date, Decimal]] = {}
    for row in rows:
        per_day = daily.setdefault(row.api_key_id, dict.fromkeys(days, Decimal(0)))
        day = row_day(row)
        if day in per_day:
            per_day[day] += cents_to_dollars(row.amount)
    return daily


def spenders(
    rows: Sequence[CostRow],
    keys: KeyNames,
    my_email: str | None,
    budget_of: BudgetOf,
    now: datetime,
    currency: str = "USD",
) -> Spenders:
    """Every key and actor of the month's rows, largest first; each list sums to the month's total.

    A key with a budget carries its month-end projection from its own recent days.
    """
    kept = [row for row in rows if row.currency == currency]
    key_sums = key_totals(kept, keys)
    budgets = {t.id: budget_of(t.id, t.name) for t in key_sums if t.id is not None}
    # Each key's days are summed only when a key has a budget to project against (most months none).
    budgeted = any(budget is not None for budget in budgets.values())
    daily = _daily_by_key(kept, now) if budgeted else {}
    by_key = tuple(
        _key_spend(total, keys, budgets.get(total.id) if total.id else None, daily, now) for total in key_sums
    )
    by_actor = tuple(_actor_spend(total, keys) for total in actor_totals(kept, keys))
    mine = None
    if my_email:
        wanted = my_email.casefold()
        own = [a.cost for a in by_actor if a.type == USER and (a.email or "").casefold() == wanted]
        mine = sum(own, Decimal(0)) if own else None
    return Spenders(by_key, by_actor, mine)


def differing_days(
    rows: Iterable[CostRow], report: Iterable[CostLine], days: Iterable[date]
) -> list[tuple[date, Decimal, Decimal]]:
    """(day, Analytics API cents, cost report cents) for each of days on which the two sums differ."""
    wanted = set(days)
    analytics: dict[date, Decimal] = dict.fromkeys(wanted, Decimal(0))
    legacy: dict[date, Decimal] = dict.fromkeys(wanted, Decimal(0))
    for row in rows:
        if row_day(row) in wanted:
            analytics[row_day(row)] += row.amount
    for line in report:
        if line.day in wanted:
            legacy[line.day] += line.amount_cents
    return [(day, analytics[day], legacy[day]) for day in sorted(wanted) if analytics[day] != legacy[day]]
