"""The Analytics API core: cost rows, paging, actors and key names, exact grouping, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tray_app.core.analytics import (
    API_KEY,
    DEFAULT_WORKSPACE,
    FEDERATED,
    NO_ACTOR,
    NO_KEY,
    NO_MODEL,
    SERVICE_ACCOUNT,
    USER,
    Actor,
    CostRow,
    GroupTotal,
    cents_to_dollars,
    key_name,
    parse_actor,
    parse_api_keys,
    parse_cost_page,
    parse_cost_row,
    parse_refusal,
    summarise,
    token_repeats,
    top_with_others,
)
from tray_app.core.errors import ShapeError

ALICE = {"type": "user_actor", "user_id": "user_01A", "email_address": "a@x.io", "name": "Alice"}
BOB_GONE = {
    "type": "user_actor",
    "user_id": "user_01B",
    "email_address": "b@x.io",
    "name": "Bob",
    "deleted": True,
}
SVC = {"type": "service_account_actor", "service_account_id": "svac_01S"}
KEY_ACTOR = {"type": "api_actor", "api_key_id": "k1"}


def row(
    amount: Any = "100.5",
    day: int = 1,
    key: str | None = "apikey_01K",
    actor: Any = None,
    model: str | None = "claude-sonnet-5",
    workspace: str | None = None,
    **cost: Any,
) -> dict[str, Any]:
    return {
        "starting_at": f"2026-10-{day:02d}T00:00:00Z",
        "ending_at": f"2026-10-{day + 1:02d}T00:00:00Z",
        "group": {
            "api_key_id": key,
            "actor": actor,
            "actor_type": None,
            "model": model,
            "workspace_id": workspace,
            "service_tier": None,
            "product": None,
        },
        "cost": {"amount": amount, "list_amount": "120.0", "currency": "USD", "requests": 3, **cost},
    }


def rows_of(*items: dict[str, Any]) -> list[CostRow]:
    page = parse_cost_page({"data": list(items), "has_more": False, "next_page": None})
    assert page.skipped == 0
    return list(page.rows)


# ---- rows ----


def test_the_documented_example_row_is_read_exactly() -> None:
    body = {
        "data": [row("12345.678", model="claude-sonnet-5")],
        "has_more": False,
        "next_page": None,
    }
    page = parse_cost_page(body)
    (only,) = page.rows
    assert only.amount == Decimal("12345.678")
    assert only.list_amount == Decimal("120.0")
    assert only.currency == "USD" and only.requests == 3
    assert only.starting_at == datetime(2026, 10, 1, tzinfo=UTC)
    assert only.ending_at == datetime(2026, 10, 2, tzinfo=UTC)
    assert only.api_key_id == "apikey_01K" and only.model == "claude-sonnet-5"
    assert only.actor is None and only.workspace_id is None
    assert cents_to_dollars(only.amount) == Decimal("123.45678")
    assert page.skipped == 0 and page.next_page is None and not page.dangling


def test_requests_null_currency_missing_and_group_missing_are_accepted() -> None:
    item = row(requests=None)
    del item["cost"]["currency"]
    del item["group"]
    parsed = parse_cost_row(item)
    assert parsed is not None
    assert parsed.requests is None and parsed.currency == "USD" and parsed.api_key_id is None


@pytest.mark.parametrize(
    "broken",
    [
        None,
        "row",
        [],
        {},
        row(amount=None),
        row(amount=12.5),  # a float has already lost exactness: refused
        row(amount="12,5"),
        row(amount="NaN"),
        row(amount="Infinity"),
        row(amount=True),
        {**row(), "starting_at": "yesterday"},
        {**row(), "cost": "100"},
        row(currency=7),
        row(actor={"type": "user_actor"}),  # an actor without an id
        row(actor={"type": "martian_actor", "id": "m1"}),
    ],
)
def test_a_malformed_row_is_skipped_and_counted(broken: Any) -> None:
    page = parse_cost_page({"data": [row("1"), broken, row("2")]})
    assert [r.amount for r in page.rows] == [Decimal(1), Decimal(2)]
    assert page.skipped == 1


def test_an_integer_amount_is_exact() -> None:
    parsed = parse_cost_row(row(amount=250))
    assert parsed is not None and parsed.amount == Decimal(250)


@pytest.mark.parametrize("body", [None, [], "text", {}, {"data": None}, {"data": {}}])
def test_a_page_without_a_data_list_is_a_shape_error(body: Any) -> None:
    with pytest.raises(ShapeError):
        parse_cost_page(body)


# ---- paging ----


@pytest.mark.parametrize(
    ("fields", "token", "dangling"),
    [
        ({"has_more": True, "next_page": "p2"}, "p2", False),
        ({"has_more": False, "next_page": None}, None, False),
        ({"has_more": False, "next_page": "p2"}, None, False),  # has_more false wins
        ({}, None, False),  # neither field: the last page
        ({"next_page": "p2"}, "p2", False),  # a token without has_more is followed
        ({"next_page": None}, None, False),
        ({"has_more": True}, None, True),  # more, but nothing to follow
        ({"has_more": True, "next_page": ""}, None, True),
        ({"has_more": True, "next_page": 7}, None, True),
    ],
)
def test_the_next_page_cursor(fields: dict[str, Any], token: str | None, dangling: bool) -> None:
    page = parse_cost_page({"data": [], **fields})
    assert (page.next_page, page.dangling) == (token, dangling)


def test_a_repeated_token_is_told_apart() -> None:
    seen: set[str] = set()
    assert not token_repeats(None, seen)
    assert not token_repeats("p2", seen)
    seen.add("p2")
    assert token_repeats("p2", seen)
    assert not token_repeats("p3", seen)
    assert not token_repeats(None, seen)


def test_a_caller_following_a_server_that_repeats_its_token_stops() -> None:
    pages: dict[str | None, dict[str, Any]] = {
        None: {"data": [row("1")], "has_more": True, "next_page": "p2"}
    }
    pages["p2"] = {"data": [row("2")], "has_more": True, "next_page": "p2"}
    seen: set[str] = set()
    token: str | None = None
    total = Decimal(0)
    for _ in range(10):
        page = parse_cost_page(pages[token])
        total += sum((r.amount for r in page.rows), Decimal(0))
        if page.next_page is None or token_repeats(page.next_page, seen):
            break
        seen.add(page.next_page)
        token = page.next_page
    assert total == Decimal(3) and seen == {"p2"}


# ---- actors ----


def test_actor_shapes_are_normalised() -> None:
    assert parse_actor(ALICE) == Actor(USER, "user_01A", "Alice", "a@x.io", False)
    assert parse_actor(SVC) == Actor(SERVICE_ACCOUNT, "svac_01S")
    assert parse_actor(KEY_ACTOR) == Actor(API_KEY, "k1")
    assert parse_actor({"type": "federated_actor", "id": "fed_1", "name": "Okta"}) == Actor(
        FEDERATED, "fed_1", "Okta"
    )
    # Without a type field, the id field names the actor.
    assert parse_actor({"user_id": "user_01C", "name": "Cy"}) == Actor(USER, "user_01C", "Cy")
    assert parse_actor({"service_account_id": "svac_2"}) == Actor(SERVICE_ACCOUNT, "svac_2")
    for odd in (None, "user", {}, {"type": "user_actor", "user_id": ""}, {"type": "federated_actor"}):
        assert parse_actor(odd) is None


def test_a_deleted_user_keeps_its_id_and_says_deleted() -> None:
    actor = parse_actor(BOB_GONE)
    assert actor is not None and actor.id == "user_01B" and actor.deleted
    assert actor.display_name == "Bob (deleted)"
    nameless = parse_actor({"type": "user_actor", "user_id": "user_01Z", "deleted": True})
    assert nameless is not None and nameless.display_name == "user_01Z (deleted)"
    # deleted must be true, not merely truthy
    assert parse_actor({**ALICE, "deleted": "yes"}) == Actor(USER, "user_01A", "Alice", "a@x.io", False)


def test_key_names_and_deleted_keys() -> None:
    keys = {
        "k1": ("ci", "active"),
        "k2": ("old", "archived"),
        "k3": ("paused", "inactive"),
        "k4": ("", "deleted"),
    }
    assert key_name("k1", keys) == "ci"
    assert key_name("k2", keys) == "old (deleted)"
    assert key_name("k3", keys) == "paused"
    assert key_name("k4", keys) == "k4 (deleted)"
    assert key_name("gone", keys) == "gone (deleted)"


def test_the_api_keys_list_gives_the_name_map_and_its_cursor() -> None:
    body = {
        "data": [
            {"id": "apikey_1", "name": "ci", "status": "active", "type": "api_key"},
            {"id": "apikey_2", "name": "old", "status": "archived"},
            {"name": "no id"},
            "junk",
        ],
        "first_id": "apikey_1",
        "last_id": "apikey_2",
        "has_more": True,
    }
    keys, after = parse_api_keys(body)
    assert keys == {"apikey_1": ("ci", "active"), "apikey_2": ("old", "archived")}
    assert after == "apikey_2"
    assert parse_api_keys({**body, "has_more": False})[1] is None
    assert parse_api_keys({"data": [{"id": "a"}], "has_more": True})[1] == "a"
    with pytest.raises(ShapeError):
        parse_api_keys({"has_more": False})


# ---- grouping ----


def month() -> list[CostRow]:
    return rows_of(
        row("1000.25", 1, "k1", ALICE, "claude-sonnet-5", "wrkspc_A"),
        row("500.125", 2, "k1", ALICE, "claude-opus-5", "wrkspc_A"),
        row("300.0005", 2, "k2", BOB_GONE, "claude-sonnet-5", None),
        row("200", 3, "k3", SVC, "claude-sonnet-5", "wrkspc_B"),
        row("0.001", 3, None, None, None, None),
        row("42.42", 4, "k1", KEY_ACTOR, "claude-opus-5", "wrkspc_B"),
    )


def test_each_grouping_sums_exactly_to_the_month_total() -> None:
    rows = month()
    breakdown = summarise(rows, keys={"k1": ("ci", "active"), "k2": ("old", "archived")})
    independent = sum(
        (Decimal(a) for a in ("1000.25", "500.125", "300.0005", "200", "0.001", "42.42")), Decimal(0)
    )
    assert breakdown.total == independent == Decimal("2042.7965")
    for grouping in (breakdown.by_api_key, breakdown.by_actor, breakdown.by_model, breakdown.by_workspace):
        assert sum((t.cost for t in grouping), Decimal(0)) == breakdown.total
        assert all(isinstance(t.cost, Decimal) for t in grouping)


def test_totals_by_key_are_named_largest_first() -> None:
    breakdown = summarise(month(), keys={"k1": ("ci", "active"), "k2": ("old", "archived")})
    assert [(t.id, t.name, t.cost) for t in breakdown.by_api_key] == [
        ("k1", "ci", Decimal("1542.795")),
        ("k2", "old (deleted)", Decimal("300.0005")),
        ("k3", "k3 (deleted)", Decimal("200")),
        (None, NO_KEY, Decimal("0.001")),
    ]


def test_without_the_key_list_keys_are_shown_by_id_and_none_is_deleted() -> None:
    breakdown = summarise(month())
    assert {t.id: t.name for t in breakdown.by_api_key} == {"k1": "k1", "k2": "k2", "k3": "k3", None: NO_KEY}


def test_totals_by_actor_model_and_workspace() -> None:
    breakdown = summarise(month(), keys={"k1": ("ci", "active")}, workspaces={"wrkspc_A": "Research"})
    by_actor = {t.name: (t.cost, t.actor) for t in breakdown.by_actor}
    assert by_actor["Alice"][0] == Decimal("1500.375")
    assert by_actor["Alice"][1] == Actor(USER, "user_01A", "Alice", "a@x.io")
    assert by_actor["Bob (deleted)"][0] == Decimal("300.0005")
    assert by_actor["service account svac_01S"][0] == Decimal("200")  # no name but its id
    assert by_actor["ci (API key)"][0] == Decimal("42.42")  # an API key acting alone, named from the key list
    assert by_actor[NO_ACTOR] == (Decimal("0.001"), None)
    assert {t.name: t.cost for t in breakdown.by_model} == {
        "claude-sonnet-5": Decimal("1500.2505"),
        "claude-opus-5": Decimal("542.545"),
        NO_MODEL: Decimal("0.001"),
    }
    assert {t.name: t.cost for t in breakdown.by_workspace} == {
        "Research": Decimal("1500.375"),
        "wrkspc_B": Decimal("242.42"),
        DEFAULT_WORKSPACE: Decimal("300.0015"),
    }


def test_a_user_deleted_mid_month_is_shown_deleted_with_all_its_spend() -> None:
    alive = {**BOB_GONE, "deleted": False}
    breakdown = summarise(
        rows_of(row("10", 1, actor=alive), row("5", 3, actor=BOB_GONE), row("1", 2, actor=alive))
    )
    (only,) = breakdown.by_actor
    assert (only.id, only.name, only.cost) == ("user:user_01B", "Bob (deleted)", Decimal(16))
    assert only.actor is not None and only.actor.id == "user_01B"


def test_fractional_cents_sum_exactly() -> None:
    rows = rows_of(*(row("0.001", 1 + i % 28, f"k{i % 7}", model=f"m{i % 3}") for i in range(1000)))
    breakdown = summarise(rows)
    assert breakdown.total == Decimal("1.000")
    assert sum((t.cost for t in breakdown.by_api_key), Decimal(0)) == Decimal("1.000")
    assert sum((t.cost for t in breakdown.by_model), Decimal(0)) == Decimal("1.000")
    assert sum(0.001 for _ in range(1000)) != 1.0  # what a float would have done


def test_rows_in_another_currency_are_left_out_and_counted() -> None:
    rows = rows_of(row("10"), row("99", currency="EUR"), row("5"))
    breakdown = summarise(rows)
    assert breakdown.total == Decimal(15) and breakdown.other_currency_rows == 1
    assert summarise(rows, currency="EUR").total == Decimal(99)


def test_an_empty_month() -> None:
    breakdown = summarise([])
    assert breakdown.total == Decimal(0)
    assert breakdown.by_api_key == breakdown.by_actor == breakdown.by_model == breakdown.by_workspace == ()


def test_top_five_and_others_summed() -> None:
    totals = [GroupTotal(f"k{i}", f"key {i}", Decimal(i) + Decimal("0.001")) for i in range(1, 9)]
    shown = top_with_others(totals)
    assert [t.name for t in shown] == ["key 8", "key 7", "key 6", "key 5", "key 4", "others (3)"]
    assert shown[-1].id is None and shown[-1].cost == Decimal("6.003")
    assert sum((t.cost for t in shown), Decimal(0)) == sum((t.cost for t in totals), Decimal(0))
    assert top_with_others(totals[:5]) == tuple(sorted(totals[:5], key=lambda t: -t.cost))
    assert top_with_others([]) == ()


# ---- refusals ----


def envelope(kind: str, message: str = "no") -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"}


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "invalid_request_error"), (403, "permission_error"), (404, "not_found_error")],
)
def test_each_refusal_shape_is_a_refusal_with_its_message(status: int, kind: str) -> None:
    for body in (envelope(kind, "not enabled for this organization"),):
        for shape in (body, json.dumps(body), json.dumps(body).encode()):
            refusal = parse_refusal(status, shape)
            assert refusal.refused and refusal.status == status
            assert refusal.error_type == kind and refusal.message == "not enabled for this organization"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, envelope("authentication_error")),  # a bad key everywhere, not a refusal of this API
        (429, envelope("rate_limit_error")),
        (500, envelope("api_error")),
        (529, envelope("overloaded_error")),
        (404, "<html>Not Found</html>"),  # a proxy, not the API
        (404, b"\xff\xfe"),
        (403, {"error": "forbidden"}),
        (403, {"type": "error", "error": {"message": "no type"}}),
        (400, {"type": "other", "error": {"type": "invalid_request_error"}}),
        (404, None),
        (404, []),
    ],
)
def test_other_answers_are_not_refusals(status: int, body: Any) -> None:
    assert not parse_refusal(status, body).refused


def test_a_refusal_without_a_message_still_counts() -> None:
    refusal = parse_refusal(403, {"type": "error", "error": {"type": "permission_error"}})
    assert refusal.refused and refusal.message == ""
