"""The Usage & Cost Analytics API (beta): its cost rows, who and what spent, and its refusals.

Pure: pages in, frozen values out. Amounts are decimal strings in cents with fractional cents and stay
Decimal, exact, until display. A malformed row is skipped and counted (the caller logs the count once),
never fatal; only a page that is not a JSON object, or has no data list, is a ShapeError.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tray_app.core.console import top_and_others
from tray_app.core.errors import ShapeError
from tray_app.core.timeparse import parse_timestamp

# The API says "always USD"; a cost without a currency is read as that.
DEFAULT_CURRENCY = "USD"
TOP = 5
DELETED = "deleted"
# A key in one of these states no longer spends; it keeps its id and its name says "deleted".
GONE_KEY_STATUSES = frozenset({"archived", "deleted"})
# The statuses whose error envelope means "this key or organization cannot use the Analytics API".
REFUSAL_STATUSES = frozenset({400, 403, 404})

# Normalised actor types, from the API's actor object types.
USER = "user"
SERVICE_ACCOUNT = "service_account"
API_KEY = "api_key"
FEDERATED = "federated"
_ACTOR_TYPES = {
    "user_actor": USER,
    "service_account_actor": SERVICE_ACCOUNT,
    "api_actor": API_KEY,
    "federated_actor": FEDERATED,
}
# The id field of each actor type (a federated actor's id field is not documented: "id" is tried).
_ACTOR_ID_FIELDS = {
    USER: ("user_id", "id"),
    SERVICE_ACCOUNT: ("service_account_id", "id"),
    API_KEY: ("api_key_id", "id"),
    FEDERATED: ("federated_actor_id", "id", "user_id"),
}
# Labels for rows that carry no value for a dimension, so every grouping still sums to the total.
NO_KEY = "no API key"
NO_ACTOR = "no actor"
NO_MODEL = "no model"
DEFAULT_WORKSPACE = "Default workspace"


@dataclass(frozen=True)
class Actor:
    """Who spent: type is user, service_account, api_key or federated; id is always there."""

    type: str
    id: str
    name: str | None = None
    email: str | None = None
    deleted: bool = False

    @property
    def display_name(self) -> str:
        shown = self.name or self.email or self.id
        return f"{shown} ({DELETED})" if self.deleted else shown


@dataclass(frozen=True)
class CostRow:
    """One analytics/cost row; group fields are None unless the request grouped by them."""

    starting_at: datetime
    ending_at: datetime | None
    amount: Decimal  # cents, post-discount, pre-credit, exact
    list_amount: Decimal | None
    currency: str
    requests: int | None
    api_key_id: str | None = None
    actor: Actor | None = None
    actor_type: str | None = None
    model: str | None = None
    workspace_id: str | None = None


@dataclass(frozen=True)
class CostPage:
    """One page: its usable rows, how many were skipped, and the cursor of the next page.

    next_page is None on the last page. dangling is True when the page said has_more but gave no token
    to follow: the caller cannot go on, and should say the month may be incomplete.
    """

    rows: tuple[CostRow, ...]
    skipped: int
    next_page: str | None
    dangling: bool = False


@dataclass(frozen=True)
class GroupTotal:
    """The spend of one key, actor, model or workspace; id None for "others" and for rows without one."""

    id: str | None
    name: str
    cost: Decimal  # cents
    actor: Actor | None = None


@dataclass(frozen=True)
class Breakdown:
    """The month's spend in one currency, grouped four ways; each grouping sums exactly to total."""

    currency: str
    total: Decimal  # cents
    by_api_key: tuple[GroupTotal, ...]
    by_actor: tuple[GroupTotal, ...]
    by_model: tuple[GroupTotal, ...]
    by_workspace: tuple[GroupTotal, ...]
    other_currency_rows: int = 0


@dataclass(frozen=True)
class Refusal:
    """Whether an answer means "this key or organization cannot use the Analytics API"."""

    refused: bool
    status: int
    error_type: str | None = None
    message: str = ""


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _decimal(value: object) -> Decimal | None:
    """An exact amount from a decimal string (or a JSON integer); None when not a finite number.

    A float is refused: the API sends strings, and a float has already lost the fractional cents.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _requests(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _actor_type(item: Mapping[str, Any]) -> str | None:
    declared = _text(item.get("type"))
    if declared is not None:
        return _ACTOR_TYPES.get(declared)
    # Without a type, the id field says which actor it is.
    for kind in (USER, SERVICE_ACCOUNT, API_KEY):
        if _text(item.get(_ACTOR_ID_FIELDS[kind][0])) is not None:
            return kind
    return None


def parse_actor(value: object) -> Actor | None:
    """An actor object -> Actor; None when it is not one (no known type, or no id)."""
    item = _mapping(value)
    kind = _actor_type(item)
    if kind is None:
        return None
    actor_id = next((t for field in _ACTOR_ID_FIELDS[kind] if (t := _text(item.get(field)))), None)
    if actor_id is None:
        return None
    return Actor(
        type=kind,
        id=actor_id,
        name=_text(item.get("name")),
        email=_text(item.get("email_address")) or _text(item.get("email")),
        deleted=item.get("deleted") is True,
    )


def parse_cost_row(value: object) -> CostRow | None:
    """One data row -> CostRow; None when it is malformed (no start, no exact amount, odd currency)."""
    item = _mapping(value)
    starting_at = parse_timestamp(item.get("starting_at"))
    cost = _mapping(item.get("cost"))
    amount = _decimal(cost.get("amount"))
    currency = cost.get("currency", DEFAULT_CURRENCY)
    if starting_at is None or amount is None or not (currency is None or _text(currency)):
        return None
    group = _mapping(item.get("group"))
    raw_actor = group.get("actor")
    actor = parse_actor(raw_actor)
    if raw_actor is not None and actor is None:
        return None
    return CostRow(
        starting_at=starting_at,
        ending_at=parse_timestamp(item.get("ending_at")),
        amount=amount,
        list_amount=_decimal(cost.get("list_amount")),
        currency=_text(currency) or DEFAULT_CURRENCY,
        requests=_requests(cost.get("requests")),
        api_key_id=_text(group.get("api_key_id")),
        actor=actor,
        actor_type=_text(group.get("actor_type")),
        model=_text(group.get("model")),
        workspace_id=_text(group.get("workspace_id")),
    )


def next_page_token(body: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(token of the next page or None on the last, dangling: has_more said true but no token came).

    has_more false ends the paging whatever next_page says; neither field present is the last page;
    a next_page token without has_more is followed.
    """
    token = _text(body.get("next_page"))
    has_more = body.get("has_more")
    if has_more is False:
        return None, False
    if has_more is True and token is None:
        return None, True
    return token, False


def token_repeats(token: str | None, seen: Collection[str]) -> bool:
    """True when token was already asked for: following it again would loop on the same pages."""
    return token is not None and token in seen


def parse_cost_page(body: object) -> CostPage:
    """One GET /v1/organizations/analytics/cost page -> CostPage."""
    if not isinstance(body, Mapping):
        raise ShapeError("the analytics cost answer is not a JSON object")
    data = body.get("data")
    if not isinstance(data, list):
        raise ShapeError("the analytics cost answer has no data list")
    rows = [row for item in data if (row := parse_cost_row(item)) is not None]
    token, dangling = next_page_token(body)
    return CostPage(rows=tuple(rows), skipped=len(data) - len(rows), next_page=token, dangling=dangling)


def key_name(key_id: str, keys: Mapping[str, tuple[str, str]]) -> str:
    """The display name of an API key from {id: (name, status)}; a missing or archived key says deleted."""
    known = keys.get(key_id)
    if known is None:
        return f"{key_id} ({DELETED})"
    name, status = known
    shown = name.strip() or key_id
    return f"{shown} ({DELETED})" if status.strip().lower() in GONE_KEY_STATUSES else shown


def parse_api_keys(body: object) -> tuple[dict[str, tuple[str, str]], str | None]:
    """One GET /v1/organizations/api_keys page -> ({id: (name, status)}, after_id of the next or None)."""
    if not isinstance(body, Mapping):
        raise ShapeError("the API keys answer is not a JSON object")
    data = body.get("data")
    if not isinstance(data, list):
        raise ShapeError("the API keys answer has no data list")
    keys: dict[str, tuple[str, str]] = {}
    for value in data:
        item = _mapping(value)
        key_id = _text(item.get("id"))
        if key_id is not None:
            keys[key_id] = (_text(item.get("name")) or key_id, _text(item.get("status")) or "active")
    after = None
    if body.get("has_more") is True:
        after = _text(body.get("last_id")) or _text(_mapping(data[-1]).get("id") if data else None)
    return keys, after


def _key_label(key_id: str, keys: Mapping[str, tuple[str, str]] | None) -> str:
    # keys None: the key list is not known (yet), so no key can be called deleted; the id is shown.
    return key_id if keys is None else key_name(key_id, keys)


def _actor_label(actor: Actor, keys: Mapping[str, tuple[str, str]] | None) -> str:
    # An API key acting on its own is named like the key, from the key list, and says it is a key (the
    # list is of people and what acts for them); a service account has only its id to show.
    if actor.type == API_KEY and actor.name is None and not actor.deleted:
        return f"{_key_label(actor.id, keys)} (API key)"
    if actor.type == SERVICE_ACCOUNT and actor.name is None:
        return f"service account {actor.display_name}"
    return actor.display_name


def _grouped(
    rows: Iterable[CostRow],
    key_of: Callable[[CostRow], str | None],
    name_of: Callable[[str | None, CostRow], str],
    actor_of: Callable[[CostRow], Actor | None] | None = None,
) -> tuple[GroupTotal, ...]:
    """Rows summed per key_of(row), named by name_of(key, row), largest first (ties by name)."""
    sums: dict[str | None, Decimal] = {}
    firsts: dict[str | None, CostRow] = {}
    for row in rows:
        key = key_of(row)
        sums[key] = sums.get(key, Decimal(0)) + row.amount
        firsts.setdefault(key, row)
    totals = [
        GroupTotal(
            id=key,
            name=name_of(key, firsts[key]),
            cost=cost,
            actor=actor_of(firsts[key]) if actor_of else None,
        )
        for key, cost in sums.items()
    ]
    return tuple(sorted(totals, key=lambda t: (-t.cost, t.name, t.id or "")))


def _actor_key(row: CostRow) -> str | None:
    return f"{row.actor.type}:{row.actor.id}" if row.actor else None


def summarise(
    rows: Iterable[CostRow],
    keys: Mapping[str, tuple[str, str]] | None = None,
    workspaces: Mapping[str, str] | None = None,
    currency: str = DEFAULT_CURRENCY,
) -> Breakdown:
    """The month's rows in one currency -> totals by API key, actor, model and workspace.

    keys is {id: (name, status)} from the API key list, None when that list is not known: then keys are
    shown by id and none is called deleted. Rows without a key, actor or model are summed under a
    label of their own rather than dropped, so each grouping sums exactly to the total.
    Rows in another currency are left out and counted.
    """
    workspaces = workspaces or {}
    every = list(rows)
    kept = [row for row in every if row.currency == currency]
    return Breakdown(
        currency=currency,
        total=sum((row.amount for row in kept), Decimal(0)),
        by_api_key=key_totals(kept, keys),
        by_actor=actor_totals(kept, keys),
        by_model=_grouped(kept, lambda r: r.model, lambda k, _r: k or NO_MODEL),
        by_workspace=_grouped(
            kept,
            lambda r: r.workspace_id,
            lambda k, _r: workspaces.get(k, k) if k else DEFAULT_WORKSPACE,
        ),
        other_currency_rows=len(every) - len(kept),
    )


def key_totals(rows: Sequence[CostRow], keys: Mapping[str, tuple[str, str]] | None) -> tuple[GroupTotal, ...]:
    """The rows summed per API key, named from the key list (see summarise), largest first."""
    return _grouped(rows, lambda r: r.api_key_id, lambda k, _r: _key_label(k, keys) if k else NO_KEY)


def actor_totals(
    rows: Sequence[CostRow], keys: Mapping[str, tuple[str, str]] | None
) -> tuple[GroupTotal, ...]:
    """The rows summed per actor, each as its latest row describes it, largest first."""
    latest_actor = _latest_actors(rows)
    return _grouped(
        rows,
        _actor_key,
        lambda k, r: _actor_label(latest_actor[k], keys) if k else NO_ACTOR,
        lambda r: latest_actor[_actor_key(r)] if r.actor else None,
    )


def _latest_actors(rows: Iterable[CostRow]) -> dict[str | None, Actor]:
    """Each actor as its latest row describes it (a user deleted mid-month is shown as deleted)."""
    latest: dict[str | None, tuple[datetime, Actor]] = {}
    for row in rows:
        if row.actor is None:
            continue
        key = _actor_key(row)
        seen = latest.get(key)
        if seen is None or row.starting_at >= seen[0]:
            latest[key] = (row.starting_at, row.actor)
    return {key: actor for key, (_when, actor) in latest.items()}


def top_with_others(totals: Sequence[GroupTotal], count: int = TOP) -> tuple[GroupTotal, ...]:
    """The first count totals (largest first), and the rest summed as one "others" line."""
    return top_and_others(totals, count, lambda name, cost: GroupTotal(id=None, name=name, cost=cost))


def cents_to_dollars(cents: Decimal) -> Decimal:
    """Cents -> dollars, exactly; rounding is left to display."""
    return cents / 100


def _error_body(body: object) -> Mapping[str, Any] | None:
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    return body if isinstance(body, Mapping) else None


def parse_refusal(status: int, body: object) -> Refusal:
    """A 400/403/404 answer with the API's error envelope -> refused, with its type and message.

    Anything else (another status, an HTML page from a proxy, a body without the envelope) is not a
    refusal: it is a failure of its own, to be retried or reported as such.
    """
    envelope = _error_body(body)
    error = _mapping(envelope.get("error")) if envelope is not None else {}
    error_type = _text(error.get("type"))
    is_envelope = envelope is not None and envelope.get("type") == "error" and error_type is not None
    if status not in REFUSAL_STATUSES or not is_envelope:
        return Refusal(refused=False, status=status, error_type=error_type)
    message = _text(error.get("message")) or ""
    return Refusal(refused=True, status=status, error_type=error_type, message=message)
