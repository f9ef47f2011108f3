"""The Analytics API rows as Console figures: keys and actors in dollars, budgets, the codec, differences."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tray_app.core.analytics import Actor, CostRow
from tray_app.core.analytics_codec import rows_from_json, rows_to_json
from tray_app.core.console import CostLine
from tray_app.core.errors import ShapeError
from tray_app.core.spenders import cost_lines, differing_days, spenders

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
JANE = Actor("user", "user_jane", "Jane Doe", "Jane@Example.com")
ROBIN = Actor("user", "user_robin", "Robin", "robin@example.com", deleted=True)
KEYS = {"key_a": ("backend", "active"), "key_old": ("old-ingest", "archived")}


def row(day: int, cents: str, key: str | None, actor: Actor | None, model: str | None = "m") -> CostRow:
    start = datetime(2026, 11, day, tzinfo=UTC)
    return CostRow(start, start + timedelta(days=1), Decimal(cents), None, "USD", 1, key, actor, None, model)


ROWS = [
    *(row(day, "1000.0005", "key_a", JANE) for day in range(1, 20)),
    row(3, "250.25", "key_old", ROBIN),
    row(19, "0.0005", None, None, None),
]


def test_keys_and_actors_in_dollars_each_summing_to_the_month_exactly() -> None:
    who = spenders(ROWS, KEYS, "jane@example.com", lambda _i, _n: None, NOW)
    total = sum((r.amount for r in ROWS), Decimal(0)) / 100
    assert sum((k.cost for k in who.by_api_key), Decimal(0)) == total
    assert sum((a.cost for a in who.by_actor), Decimal(0)) == total
    keys = {k.id: k for k in who.by_api_key}
    assert keys["key_a"].name == "backend" and keys["key_a"].cost == Decimal("190.0000950")
    assert keys["key_old"].deleted and keys["key_old"].name == "old-ingest (deleted)"
    assert keys[None].name == "no API key"
    actors = {a.id: a for a in who.by_actor}
    assert actors["user_robin"].deleted and actors["user_robin"].name == "Robin (deleted)"
    assert who.my_api_cost == keys["key_a"].cost  # the email matched without regard to case


def test_my_api_cost_is_none_when_no_row_is_mine() -> None:
    assert spenders(ROWS, KEYS, "someone@else.com", lambda _i, _n: None, NOW).my_api_cost is None


def test_keys_unknown_while_the_key_list_is_not_fetched_are_shown_by_id_not_as_deleted() -> None:
    keys = {k.id: k for k in spenders(ROWS, None, None, lambda _i, _n: None, NOW).by_api_key}
    assert keys["key_old"].name == "key_old" and not keys["key_old"].deleted


def test_a_budgeted_key_gets_a_projection_from_its_own_days() -> None:
    who = spenders(ROWS, KEYS, None, lambda key_id, _n: Decimal(300) if key_id == "key_a" else None, NOW)
    key = next(k for k in who.by_api_key if k.id == "key_a")
    # $10 a day, 10.5 days left in November after 20 Nov 12:00.
    assert key.budget == Decimal(300)
    assert key.projected_month_end_cost is not None
    assert abs(key.projected_month_end_cost - (key.cost + Decimal("105"))) < Decimal("0.01")


def test_rows_survive_the_cache_exactly() -> None:
    stored = json.loads(json.dumps(rows_to_json(ROWS)))
    assert rows_from_json(stored) == ROWS


@pytest.mark.parametrize(
    "broken",
    [{"amount": "1"}, {"starting_at": "2026-11-01T00:00:00Z", "amount": "x"}, "not a row"],
)
def test_unreadable_cached_rows_are_a_shape_error(broken: object) -> None:
    with pytest.raises(ShapeError):
        rows_from_json([broken])


def test_cost_lines_carry_day_model_workspace_and_exact_cents() -> None:
    (line,) = cost_lines([row(3, "250.25", "key_old", ROBIN)])
    assert (line.day, line.model, line.amount_cents) == (date(2026, 11, 3), "m", Decimal("250.25"))


def test_differing_days_names_only_the_days_that_differ_with_both_sums() -> None:
    report = [CostLine(date(2026, 11, d), None, None, "m", None, Decimal("1000.0005"), "USD") for d in (1, 2)]
    report.append(CostLine(date(2026, 11, 3), None, None, "m", None, Decimal("1000"), "USD"))
    days = [date(2026, 11, d) for d in (1, 2, 3)]
    assert differing_days(ROWS, report, days) == [(date(2026, 11, 3), Decimal("1250.2505"), Decimal("1000"))]
