"""Admin API pages -> console rows: the documented examples, and the odd pages a server may send."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tray_app.core.console import ClaudeCodeLine, CostLine, Organization, TokenLine, Workspace
from tray_app.core.console_parse import (
    parse_claude_code_page,
    parse_cost_page,
    parse_organization,
    parse_usage_page,
    parse_users,
    parse_workspaces,
)
from tray_app.core.errors import ShapeError

# api-reference 3.5, 3.6 and 3.7, as written there.
USAGE_EXAMPLE = """
{
  "data": [
    {"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
     "results": [
       {"uncached_input_tokens": 1500,
        "cache_creation": {"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
        "cache_read_input_tokens": 200, "output_tokens": 500,
        "server_tool_use": {"web_search_requests": 10},
        "model": "claude-opus-4-6", "workspace_id": null, "api_key_id": null,
        "service_tier": null, "context_window": null}
     ]},
    {"starting_at": "2025-08-02T00:00:00Z", "ending_at": "2025-08-03T00:00:00Z", "results": []}
  ],
  "has_more": true,
  "next_page": "page_MjAyNS0wNS0xNFQwMDowMDowMFo="
}
"""
COST_EXAMPLE = """
{
  "data": [
    {"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
     "results": [
       {"amount": "123.78912", "currency": "USD", "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
        "description": "Claude Sonnet 4 Usage - Input Tokens", "cost_type": "tokens",
        "token_type": "uncached_input_tokens", "model": "claude-sonnet-4-20250514",
        "service_tier": "standard", "context_window": "0-200k", "inference_geo": null},
       {"amount": "5.0", "currency": "USD", "workspace_id": null,
        "description": "Web Search Usage", "cost_type": "web_search",
        "token_type": null, "model": null, "service_tier": null, "context_window": null,
        "inference_geo": null}
     ]}
  ],
  "has_more": false,
  "next_page": null
}
"""
CLAUDE_CODE_EXAMPLE = """
{
  "data": [
    {"date": "2025-09-08T00:00:00Z",
     "actor": {"type": "user_actor", "email_address": "developer@company.com"},
     "organization_id": "dc9f6c26-b22c-4831-8d01-0446bada88f1",
     "customer_type": "api",
     "terminal_type": "vscode",
     "is_remote": false,
     "core_metrics": {"num_sessions": 5, "lines_of_code": {"added": 1543, "removed": 892},
                      "commits_by_claude_code": 12, "pull_requests_by_claude_code": 2},
     "tool_actions": {"edit_tool": {"accepted": 45, "rejected": 5}},
     "model_breakdown": [
       {"model": "claude-opus-4-8",
        "tokens": {"input": 100000, "output": 35000, "cache_read": 10000, "cache_creation": 5000},
        "estimated_cost": {"currency": "USD", "amount": 1025}}
     ]}
  ],
  "has_more": false,
  "next_page": null
}
"""
USERS_EXAMPLE = """
{
  "data": [
    {"id": "user_01WCz1FkmYMm4gnmykNKUu3Q", "added_at": "2024-10-30T23:58:27.427722Z",
     "email": "user@emaildomain.com", "name": "Jane Doe", "role": "user", "type": "user"}
  ],
  "first_id": "user_01WCz1FkmYMm4gnmykNKUu3Q",
  "has_more": true,
  "last_id": "user_01WCz1FkmYMm4gnmykNKUu3Q"
}
"""
WORKSPACES_EXAMPLE = """
{"data": [{"id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "name": "Workspace Name", "type": "workspace",
           "created_at": "2024-10-30T23:58:27.427722Z", "archived_at": null,
           "display_color": "#6C5BB9"}],
 "first_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "last_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
 "has_more": false}
"""

AUG_1 = date(2025, 8, 1)


def cost_page(*results: Any, **envelope: Any) -> dict[str, Any]:
    bucket = {
        "starting_at": "2026-03-02T00:00:00Z",
        "ending_at": "2026-03-03T00:00:00Z",
        "results": list(results),
    }
    return {"data": [bucket], "has_more": False, "next_page": None, **envelope}


def usage_page(*results: Any) -> dict[str, Any]:
    bucket = {
        "starting_at": "2026-03-02T00:00:00Z",
        "ending_at": "2026-03-03T00:00:00Z",
        "results": list(results),
    }
    return {"data": [bucket], "has_more": False, "next_page": None}


def code_page(*records: Any) -> dict[str, Any]:
    return {"data": list(records), "has_more": False, "next_page": None}


def code_record(actor: Any, breakdown: Any, day: Any = "2026-03-02T00:00:00Z") -> dict[str, Any]:
    return {"date": day, "actor": actor, "model_breakdown": breakdown}


# -- the documented examples ---------------------------------------------------------------------------------


def test_cost_example_keeps_amounts_exact_and_the_default_workspace_as_none() -> None:
    lines, next_page = parse_cost_page(json.loads(COST_EXAMPLE))
    assert lines == [
        CostLine(
            AUG_1,
            "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
            "Claude Sonnet 4 Usage - Input Tokens",
            "claude-sonnet-4-20250514",
            "tokens",
            Decimal("123.78912"),
            "USD",
        ),
        CostLine(AUG_1, None, "Web Search Usage", None, "web_search", Decimal("5.0"), "USD"),
    ]
    assert sum(line.amount_cents for line in lines) == Decimal("128.78912")
    assert next_page is None


def test_usage_example_sums_both_cache_writes_and_returns_the_next_page() -> None:
    lines, next_page = parse_usage_page(json.loads(USAGE_EXAMPLE))
    assert lines == [TokenLine(AUG_1, "claude-opus-4-6", 1500, 500, 200, 1500)]
    assert next_page == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="


def test_claude_code_example_reads_the_actor_and_the_cost_in_cents() -> None:
    lines, next_page = parse_claude_code_page(json.loads(CLAUDE_CODE_EXAMPLE))
    assert lines == [ClaudeCodeLine(date(2025, 9, 8), "developer@company.com", None, Decimal(1025), "USD")]
    assert next_page is None


def test_users_example_gives_emails_and_the_last_id_as_cursor() -> None:
    assert parse_users(json.loads(USERS_EXAMPLE)) == (
        ["user@emaildomain.com"],
        "user_01WCz1FkmYMm4gnmykNKUu3Q",
    )


def test_workspaces_example() -> None:
    found = parse_workspaces(json.loads(WORKSPACES_EXAMPLE))
    assert found == ([Workspace("wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "Workspace Name", archived=False)], None)


def test_organization_example() -> None:
    body = {"id": "12345678-1234-5678-1234-567812345678", "name": "Organization Name", "type": "organization"}
    assert parse_organization(body) == Organization(
        "12345678-1234-5678-1234-567812345678", "Organization Name"
    )


# -- pages that are not pages --------------------------------------------------------------------------------

PARSERS = [parse_users, parse_workspaces, parse_cost_page, parse_usage_page, parse_claude_code_page]


@pytest.mark.parametrize("parse", PARSERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "body",
    [None, [], "data", 42, {}, {"data": None}, {"data": {"a": 1}}, {"results": []}],
    ids=["null", "list", "string", "number", "empty", "data-null", "data-object", "no-data"],
)
def test_a_page_without_a_data_list_is_a_shape_error(parse: Any, body: Any) -> None:
    with pytest.raises(ShapeError):
        parse(body)


@pytest.mark.parametrize(
    "body", [None, [], "org", {}, {"id": None, "name": "x"}, {"id": "", "name": "x"}, {"name": "x"}]
)
def test_an_organization_without_an_id_is_a_shape_error(body: Any) -> None:
    with pytest.raises(ShapeError):
        parse_organization(body)


def test_an_organization_without_a_name_is_named_by_its_id() -> None:
    assert parse_organization({"id": "org-1", "name": None}) == Organization("org-1", "org-1")


@pytest.mark.parametrize("parse", PARSERS, ids=lambda f: f.__name__)
def test_an_empty_data_list_is_no_rows(parse: Any) -> None:
    assert parse({"data": [], "has_more": False, "next_page": None, "first_id": None, "last_id": None}) == (
        [],
        None,
    )


# -- cursors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        ({"has_more": True, "next_page": "p2"}, "p2"),
        ({"has_more": False, "next_page": "p2"}, None),  # has_more is the word that ends paging
        ({"has_more": True, "next_page": None}, None),
        ({"has_more": True, "next_page": ""}, None),
        ({"has_more": True, "next_page": 7}, None),
        ({"next_page": "p2"}, "p2"),  # no has_more: the token still leads on
        ({"has_more": True}, None),
    ],
)
def test_report_cursor(envelope: dict[str, Any], expected: str | None) -> None:
    body = {"data": [], **envelope}
    for parse in (parse_cost_page, parse_usage_page, parse_claude_code_page):
        assert parse(body)[1] == expected


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        ({"has_more": True, "last_id": "b"}, "b"),
        ({"has_more": False, "last_id": "b"}, None),
        ({"last_id": "b"}, None),
        ({"has_more": True, "last_id": None}, "b"),  # falls back to the last item's id
        ({"has_more": True, "last_id": ""}, "b"),
        ({"has_more": "yes", "last_id": "b"}, None),
    ],
)
def test_id_cursor(envelope: dict[str, Any], expected: str | None) -> None:
    body = {"data": [{"id": "a", "email": "a@x", "name": "A"}, {"id": "b", "email": "b@x", "name": "B"}]}
    body.update(envelope)
    assert parse_users(body)[1] == expected
    assert parse_workspaces(body)[1] == expected


def test_id_cursor_on_an_empty_page_with_has_more_stops() -> None:
    assert parse_users({"data": [], "has_more": True, "last_id": None}) == ([], None)


# -- odd rows are skipped, good ones kept --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("123.45678", Decimal("123.45678")),
        ("0", Decimal(0)),
        ("  7.5 ", Decimal("7.5")),
        ("1e3", Decimal(1000)),
        ("-2.50", Decimal("-2.50")),  # a credit stays a credit
        (12, Decimal(12)),
        (0.1, Decimal("0.1")),  # a JSON number, read from its shortest text, not its binary value
        ("12,5", None),
        ("", None),
        ("NaN", None),
        ("Infinity", None),
        (None, None),
        (True, None),
        ({"value": "1"}, None),
    ],
)
def test_cost_amounts(amount: Any, expected: Decimal | None) -> None:
    lines, _ = parse_cost_page(cost_page({"amount": amount, "currency": "USD"}))
    assert [line.amount_cents for line in lines] == ([] if expected is None else [expected])


def test_cost_results_tolerate_missing_and_odd_fields() -> None:
    lines, _ = parse_cost_page(
        cost_page(
            {"amount": "1.5"},
            {
                "amount": "2",
                "currency": "",
                "workspace_id": 7,
                "description": ["x"],
                "model": "",
                "cost_type": 3,
            },
            "not a result",
            None,
            {"currency": "USD"},
        )
    )
    expected = CostLine(date(2026, 3, 2), None, None, None, None, Decimal("1.5"), "USD")
    assert lines == [expected, CostLine(date(2026, 3, 2), None, None, None, None, Decimal(2), "USD")]


def test_cost_keeps_an_unknown_model_and_another_currency() -> None:
    lines, _ = parse_cost_page(
        cost_page(
            {"amount": "9.99", "currency": "EUR", "model": "claude-fable-5-20261101", "cost_type": "tokens"}
        )
    )
    assert (lines[0].model, lines[0].currency, lines[0].amount_cents) == (
        "claude-fable-5-20261101",
        "EUR",
        Decimal("9.99"),
    )


@pytest.mark.parametrize(
    "bucket",
    [
        {"ending_at": "2026-03-03T00:00:00Z", "results": [{"amount": "1"}]},
        {"starting_at": "yesterday", "results": [{"amount": "1"}]},
        {"starting_at": None, "results": [{"amount": "1"}]},
        {"starting_at": "2026-03-02T00:00:00Z", "results": None},
        {"starting_at": "2026-03-02T00:00:00Z"},
        "bucket",
        None,
    ],
)
def test_broken_buckets_are_skipped_and_the_rest_kept(bucket: Any) -> None:
    good = {"starting_at": "2026-03-01T00:00:00Z", "results": [{"amount": "3"}]}
    lines, _ = parse_cost_page({"data": [bucket, good], "has_more": False})
    assert [(line.day, line.amount_cents) for line in lines] == [(date(2026, 3, 1), Decimal(3))]


def test_bucket_day_is_the_utc_day_of_its_start() -> None:
    body = {"data": [{"starting_at": "2026-03-01T23:30:00-02:00", "results": [{"amount": "1"}]}]}
    assert parse_cost_page(body)[0][0].day == date(2026, 3, 2)


def test_empty_buckets_give_no_rows() -> None:
    body = {"data": [{"starting_at": f"2026-03-0{d}T00:00:00Z", "results": []} for d in (1, 2, 3)]}
    assert parse_cost_page(body) == ([], None)
    assert parse_usage_page(body) == ([], None)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"uncached_input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 30, "model": "m"},
            (10, 20, 30, 0),
        ),
        (
            {"uncached_input_tokens": 5.0, "cache_creation": {"ephemeral_5m_input_tokens": 7}, "model": "m"},
            (5, 0, 0, 7),
        ),
        (
            {"output_tokens": 2, "cache_creation": {"ephemeral_1h_input_tokens": 3}, "model": "m"},
            (0, 2, 0, 3),
        ),
        # Impossible counts are read as absent, not as zero-crashes.
        (
            {
                "uncached_input_tokens": -4,
                "output_tokens": 1.5,
                "cache_read_input_tokens": True,
                "model": "m",
            },
            None,
        ),
        ({"uncached_input_tokens": "12", "model": "m"}, None),
        ({"model": "m", "cache_creation": None}, None),
        ({"model": "m", "cache_creation": {"ephemeral_1h_input_tokens": float("nan")}}, None),
    ],
)
def test_usage_token_counts(result: dict[str, Any], expected: tuple[int, int, int, int] | None) -> None:
    lines, _ = parse_usage_page(usage_page(result))
    if expected is None:
        assert lines == []
    else:
        uncached, output, read, written = expected
        assert lines == [TokenLine(date(2026, 3, 2), "m", uncached, output, read, written)]


def test_usage_model_may_be_null_or_unknown() -> None:
    lines, _ = parse_usage_page(
        usage_page(
            {"output_tokens": 1, "model": None}, {"output_tokens": 2, "model": "claude-fable-5-20261101"}
        )
    )
    assert [line.model for line in lines] == [None, "claude-fable-5-20261101"]


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ({"type": "user_actor", "email_address": "jane@example.com"}, ("jane@example.com", None)),
        ({"type": "api_actor", "api_key_name": "ci-bot"}, (None, "ci-bot")),
        # The name must match the kind: a mislabelled actor names nobody rather than the wrong one.
        ({"type": "api_actor", "email_address": "jane@example.com"}, (None, None)),
        ({"type": "robot_actor", "name": "r2"}, (None, None)),
        ({"type": "user_actor", "email_address": ""}, (None, None)),
        (None, (None, None)),
        ("jane@example.com", (None, None)),
    ],
)
def test_claude_code_actors(actor: Any, expected: tuple[str | None, str | None]) -> None:
    lines, _ = parse_claude_code_page(code_page(code_record(actor, [])))
    assert [(line.email, line.api_key_name) for line in lines] == [expected]
    assert lines[0].cost_cents == 0


@pytest.mark.parametrize(
    ("breakdown", "expected"),
    [
        ([{"estimated_cost": {"currency": "USD", "amount": 1025}}], Decimal(1025)),
        ([{"estimated_cost": {"currency": "USD", "amount": 914.39}}], Decimal("914.39")),
        (
            [
                {"estimated_cost": {"currency": "USD", "amount": 0.1}},
                {"estimated_cost": {"currency": "USD", "amount": 0.2}},
            ],
            Decimal("0.3"),  # exact, where floats would give 0.30000000000000004
        ),
        ([{"estimated_cost": {"amount": "12.5"}}, {"estimated_cost": {"amount": None}}], Decimal("12.5")),
        (
            [{"estimated_cost": None}, {"tokens": {}}, "entry", None, {"estimated_cost": {"amount": 2}}],
            Decimal(2),
        ),
        ([{"estimated_cost": {"amount": True}}], Decimal(0)),
        (None, Decimal(0)),
        ({"estimated_cost": {"amount": 3}}, Decimal(0)),
    ],
)
def test_claude_code_cost_is_the_exact_sum_of_the_breakdown(breakdown: Any, expected: Decimal) -> None:
    actor = {"type": "user_actor", "email_address": "jane@example.com"}
    lines, _ = parse_claude_code_page(code_page(code_record(actor, breakdown)))
    assert lines[0].cost_cents == expected
    assert lines[0].currency == "USD"


def test_claude_code_records_without_a_date_are_skipped() -> None:
    actor = {"type": "api_actor", "api_key_name": "k"}
    lines, _ = parse_claude_code_page(
        code_page(code_record(actor, [], day=None), "record", code_record(actor, [], day="2026-03-02"))
    )
    assert [line.day for line in lines] == [date(2026, 3, 2)]


def test_workspaces_archived_unnamed_and_broken() -> None:
    body = {
        "data": [
            {"id": "w1", "name": "Prod", "archived_at": None},
            {"id": "w2", "name": "Old", "archived_at": "2025-12-01T00:00:00Z"},
            {"id": "w3"},
            {"name": "no id"},
            {"id": 4, "name": "numeric id"},
            "w5",
        ],
        "has_more": False,
    }
    assert parse_workspaces(body) == (
        [Workspace("w1", "Prod", False), Workspace("w2", "Old", True), Workspace("w3", "w3", False)],
        None,
    )


def test_users_without_an_email_are_skipped() -> None:
    body = {
        "data": [{"id": "a", "email": "a@x"}, {"id": "b", "email": None}, {"id": "c"}, None],
        "has_more": False,
    }
    assert parse_users(body) == (["a@x"], None)
