"""Console mode (Admin API) figures: normalized report rows, and the month-to-date summary built from them.

Money is Decimal throughout: the API sends cost amounts as decimal strings in cents, and sums of floats
would drift from the Console's own totals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

from tray_app.core.models import Status


@dataclass(frozen=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    archived: bool


@dataclass(frozen=True)
class CostLine:
    """One cost_report result (grouped by workspace_id and description) of one UTC day."""

    day: date
    workspace_id: str | None  # None: the Default Workspace
    description: str | None
    model: str | None  # None for costs that are not per token (web search, code execution)
    cost_type: str | None
    amount_cents: Decimal  # lowest currency units, exactly as the API's decimal string
    currency: str


@dataclass(frozen=True)
class TokenLine:
    """One usage_report/messages result (grouped by model) of one UTC day."""

    day: date
    model: str | None
    uncached_input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int  # 1 h + 5 min ephemeral cache writes


@dataclass(frozen=True)
class ClaudeCodeLine:
    """One usage_report/claude_code record: one actor's day, with its estimated cost."""

    day: date
    email: str | None  # user_actor
    api_key_name: str | None  # api_actor
    cost_cents: Decimal
    currency: str


OTHER_COSTS = "other (web search, code execution)"
DEFAULT_WORKSPACE = "Default workspace"
_CENTS = Decimal(100)
# Yesterday counts fully, the day before three quarters as much, and so on back a week.
_DAY_WEIGHT = Decimal("0.75")
_WEIGHTED_DAYS = 7
_MIN_COMPLETE_DAYS = 2
_MIN_SNAPSHOT_SPAN = timedelta(hours=6)


@dataclass(frozen=True)
class ModelSpend:
    model: str
    cost: Decimal
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int


@dataclass(frozen=True)
class WorkspaceSpend:
    id: str | None
    name: str
    cost: Decimal
    budget: Decimal | None


# Where the month's spend came from: the Usage & Cost Analytics API (beta), or the legacy cost report.
SOURCE_ANALYTICS = "analytics"
SOURCE_COST_REPORT = "cost_report"


@dataclass(frozen=True)
class KeySpend:
    """One API key's month to date (major currency units), from the Analytics API.

    id is None for the "others" line and for spend that went through no API key. A key archived or no
    longer listed keeps its id and is deleted (its name says so).
    """

    id: str | None
    name: str
    cost: Decimal
    deleted: bool = False
    budget: Decimal | None = None  # from [console.api_key_budgets], by key name or id
    projected_month_end_cost: Decimal | None = None


@dataclass(frozen=True)
class ActorSpend:
    """One actor's month to date (major currency units), from the Analytics API.

    type is "user", "service_account", "api_key" or "federated"; None for the "others" line and for
    spend with no actor. A deleted user keeps its id and is deleted (its name says so).
    """

    type: str | None
    id: str | None
    name: str
    email: str | None
    cost: Decimal
    deleted: bool = False


@dataclass(frozen=True)
class Spenders:
    """Who and what spent the month: every key and actor, largest first; each sums to the month's total.

    my_api_cost: the month's spend of the user whose email is configured, None when no row is theirs.
    """

    by_api_key: tuple[KeySpend, ...]
    by_actor: tuple[ActorSpend, ...]
    my_api_cost: Decimal | None = None


@dataclass(frozen=True)
class MonthFigures:
    """The organization's month to date, in major currency units."""

    month: str  # "YYYY-MM"
    currency: str
    mtd_cost: Decimal
    projected_month_end_cost: Decimal | None
    budget: Decimal | None
    by_model: tuple[ModelSpend, ...]
    workspaces: tuple[WorkspaceSpend, ...]
    my_email: str | None
    my_claude_code_cost: Decimal | None
    daily: tuple[tuple[date, Decimal], ...]
    source: str = SOURCE_COST_REPORT
    spenders: Spenders | None = None  # only from the Analytics API


@dataclass(frozen=True)
class Budgets:
    organization: Decimal | None = None
    workspaces: Mapping[str, Decimal] = field(default_factory=dict)  # by workspace id or name


def month_start(now: datetime) -> datetime:
    """00:00 UTC on the first day of now's UTC month: month-to-date is measured from here."""
    utc = now.astimezone(UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime) -> datetime:
    start = month_start(now)
    return (start + timedelta(days=32)).replace(day=1)


def _daily(costs: Sequence[CostLine], first: date, today: date) -> dict[date, Decimal]:
    days = {first + timedelta(days=n): Decimal(0) for n in range((today - first).days + 1)}
    for line in costs:
        if line.day in days:
            days[line.day] += line.amount_cents / _CENTS
    return days


def project_month_end(
    daily: Mapping[date, Decimal], mtd: Decimal, now: datetime, snapshots: Sequence[tuple[datetime, Decimal]]
) -> Decimal | None:
    """Month-end cost from the recent spending rate; None when there is too little data to say.

    The rate is a weighted mean of the last complete days (recent ones count more); in the first
    days of a month, the month-to-date snapshots of the last day stand in for it.
    """
    today = now.astimezone(UTC).date()
    complete = sorted((day, cost) for day, cost in daily.items() if day < today)[-_WEIGHTED_DAYS:]
    remaining_days = Decimal((next_month_start(now) - now).total_seconds()) / Decimal(86400)
    if len(complete) >= _MIN_COMPLETE_DAYS:
        weights = [_DAY_WEIGHT**age for age in range(len(complete))]
        costs = [cost for _, cost in reversed(complete)]
        per_day = sum((w * c for w, c in zip(weights, costs, strict=True)), Decimal(0)) / sum(weights)
        return mtd + per_day * remaining_days
    recent = sorted(s for s in snapshots if s[0] >= month_start(now) and now - s[0] <= timedelta(days=1))
    if len(recent) < 2 or recent[-1][0] - recent[0][0] < _MIN_SNAPSHOT_SPAN:
        return None
    span_days = Decimal((recent[-1][0] - recent[0][0]).total_seconds()) / Decimal(86400)
    per_day = max(Decimal(0), recent[-1][1] - recent[0][1]) / span_days
    return mtd + per_day * remaining_days


def _by_model(costs: Sequence[CostLine], tokens: Sequence[TokenLine]) -> tuple[ModelSpend, ...]:
    cost: dict[str, Decimal] = {}
    counts: dict[str, list[int]] = {}
    for line in costs:
        name = line.model or OTHER_COSTS
        cost[name] = cost.get(name, Decimal(0)) + line.amount_cents / _CENTS
    for token in tokens:
        name = token.model or OTHER_COSTS
        total = counts.setdefault(name, [0, 0, 0, 0])
        for index, value in enumerate(
            (
                token.uncached_input_tokens,
                token.output_tokens,
                token.cache_read_input_tokens,
                token.cache_creation_input_tokens,
            )
        ):
            total[index] += value
    rows = [
        ModelSpend(name, cost.get(name, Decimal(0)), *counts.get(name, [0, 0, 0, 0]))
        for name in set(cost) | set(counts)
    ]
    return tuple(sorted(rows, key=lambda m: (-m.cost, m.model)))


def _workspaces(
    costs: Sequence[CostLine], workspaces: Sequence[Workspace], budgets: Budgets
) -> tuple[WorkspaceSpend, ...]:
    names = {w.id: w.name for w in workspaces}
    spent: dict[str | None, Decimal] = {}
    for line in costs:
        spent[line.workspace_id] = spent.get(line.workspace_id, Decimal(0)) + line.amount_cents / _CENTS
    for workspace in workspaces:
        if workspace.id in budgets.workspaces or workspace.name in budgets.workspaces:
            spent.setdefault(workspace.id, Decimal(0))
    rows = []
    for workspace_id, total in spent.items():
        name = DEFAULT_WORKSPACE if workspace_id is None else names.get(workspace_id, workspace_id)
        budget = budgets.workspaces.get(workspace_id or "") or budgets.workspaces.get(name)
        rows.append(WorkspaceSpend(workspace_id, name, total, budget))
    return tuple(sorted(rows, key=lambda w: (-w.cost, w.name)))


def summarize(
    now: datetime,
    costs: Sequence[CostLine],
    tokens: Sequence[TokenLine],
    claude_code: Sequence[ClaudeCodeLine],
    workspaces: Sequence[Workspace],
    my_email: str | None,
    budgets: Budgets,
    snapshots: Sequence[tuple[datetime, Decimal]] = (),
) -> MonthFigures:
    """Month-to-date figures from this month's rows (rows of other months are ignored)."""
    first = month_start(now).date()
    today = now.astimezone(UTC).date()
    costs = [c for c in costs if first <= c.day <= today]
    tokens = [t for t in tokens if first <= t.day <= today]
    daily = _daily(costs, first, today)
    mtd = sum(daily.values(), Decimal(0))
    mine = None
    if my_email:
        wanted = my_email.casefold()
        mine = sum(
            (
                c.cost_cents / _CENTS
                for c in claude_code
                if first <= c.day <= today and (c.email or "").casefold() == wanted
            ),
            Decimal(0),
        )
    return MonthFigures(
        month=f"{first:%Y-%m}",
        currency=next((c.currency for c in costs), "USD"),
        mtd_cost=mtd,
        projected_month_end_cost=project_month_end(daily, mtd, now, snapshots),
        budget=budgets.organization,
        by_model=_by_model(costs, tokens),
        workspaces=_workspaces(costs, workspaces, budgets),
        my_email=my_email,
        my_claude_code_cost=mine,
        daily=tuple(sorted(daily.items())),
    )


@dataclass(frozen=True)
class ConsoleReport:
    """The outcome of a Console refresh (or a read of the cache), ready to present."""

    status: Status
    message: str | None
    organization: str | None
    updated_at: datetime | None
    figures: MonthFigures | None
    # Why the month comes from the cost report although the Analytics API was tried (its refusal, and
    # when it is asked again); None when the Analytics API answered or was not tried.
    source_note: str | None = None


class _Spend(Protocol):
    @property
    def id(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def cost(self) -> Decimal: ...


_S = TypeVar("_S", bound=_Spend)


def top_and_others(items: Sequence[_S], count: int, others: Callable[[str, Decimal], _S]) -> tuple[_S, ...]:
    """The count largest (ties by name, then id), and the rest summed as one line that others(name, cost)
    makes, named "others (n)"."""
    ranked = sorted(items, key=lambda item: (-item.cost, item.name, item.id or ""))
    shown, rest = ranked[:count], ranked[count:]
    if not rest:
        return tuple(shown)
    return (*shown, others(f"others ({len(rest)})", sum((item.cost for item in rest), Decimal(0))))


def top_key_spend(keys: Sequence[KeySpend], count: int = 5) -> tuple[KeySpend, ...]:
    """The count largest keys, and the rest summed as one "others (n)" line (id None)."""
    return top_and_others(keys, count, lambda name, cost: KeySpend(None, name, cost))


def top_actor_spend(actors: Sequence[ActorSpend], count: int = 5) -> tuple[ActorSpend, ...]:
    """The count largest actors, and the rest summed as one "others (n)" line (type and id None)."""
    return top_and_others(actors, count, lambda name, cost: ActorSpend(None, None, name, None, cost))


_DELETED_SUFFIX = " (deleted)"


def key_budget(key_id: str | None, key_name: str, budgets: Mapping[str, Decimal]) -> Decimal | None:
    """An API key's budget from [console.api_key_budgets]: by its id first, then by its name as written,
    then by that name without the " (deleted)" a deleted key's name ends with. None: no budget."""
    if key_id is not None and key_id in budgets:
        return budgets[key_id]
    if key_name in budgets:
        return budgets[key_name]
    if key_name.endswith(_DELETED_SUFFIX):
        return budgets.get(key_name.removesuffix(_DELETED_SUFFIX))
    return None
