"""Analytics cost rows to and from JSON-ready dicts, for the per-day cache in the database.

Amounts are kept as their exact decimal text; a float would round the fractional cents away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tray_app.core.analytics import Actor, CostRow
from tray_app.core.errors import ShapeError
from tray_app.core.timeparse import iso_utc, parse_timestamp


def _actor_json(actor: Actor | None) -> dict[str, Any] | None:
    if actor is None:
        return None
    return {
        "type": actor.type,
        "id": actor.id,
        "name": actor.name,
        "email": actor.email,
        "deleted": actor.deleted,
    }


def rows_to_json(rows: Sequence[CostRow]) -> list[dict[str, Any]]:
    return [
        {
            "starting_at": iso_utc(row.starting_at),
            "ending_at": None if row.ending_at is None else iso_utc(row.ending_at),
            "amount": str(row.amount),
            "list_amount": None if row.list_amount is None else str(row.list_amount),
            "currency": row.currency,
            "requests": row.requests,
            "api_key_id": row.api_key_id,
            "actor": _actor_json(row.actor),
            "actor_type": row.actor_type,
            "model": row.model,
            "workspace_id": row.workspace_id,
        }
        for row in rows
    ]


def _text(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    if value is not None and not isinstance(value, str):
        raise ShapeError(f"stored analytics {name} is not text")
    return value


def _moment(item: Mapping[str, Any], name: str, required: bool) -> datetime | None:
    moment = parse_timestamp(item.get(name))
    if moment is None and (required or item.get(name) is not None):
        raise ShapeError(f"stored analytics {name} is not a time")
    return moment


def _amount(item: Mapping[str, Any], name: str) -> Decimal | None:
    raw = item.get(name)
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise ShapeError(f"stored analytics {name} is not a number") from None


def _actor(value: object) -> Actor | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ShapeError("a stored analytics actor is not an object")
    kind, actor_id = _text(value, "type"), _text(value, "id")
    if kind is None or actor_id is None:
        raise ShapeError("a stored analytics actor has no type or id")
    return Actor(kind, actor_id, _text(value, "name"), _text(value, "email"), value.get("deleted") is True)


def rows_from_json(rows: object) -> list[CostRow]:
    """The rows stored by rows_to_json; ShapeError when they are not that shape."""
    if not isinstance(rows, list):
        raise ShapeError("stored analytics rows are not a list")
    parsed = []
    for item in rows:
        if not isinstance(item, Mapping):
            raise ShapeError("a stored analytics row is not an object")
        amount = _amount(item, "amount")
        starting_at = _moment(item, "starting_at", required=True)
        requests = item.get("requests")
        if amount is None or starting_at is None:
            raise ShapeError("a stored analytics row has no amount")
        if requests is not None and (not isinstance(requests, int) or isinstance(requests, bool)):
            raise ShapeError("stored analytics requests is not a whole number")
        parsed.append(
            CostRow(
                starting_at=starting_at,
                ending_at=_moment(item, "ending_at", required=False),
                amount=amount,
                list_amount=_amount(item, "list_amount"),
                currency=_text(item, "currency") or "USD",
                requests=requests,
                api_key_id=_text(item, "api_key_id"),
                actor=_actor(item.get("actor")),
                actor_type=_text(item, "actor_type"),
                model=_text(item, "model"),
                workspace_id=_text(item, "workspace_id"),
            )
        )
    return parsed
