"""Month-to-date figures, projections and budget alerts: hand-computed tables, exact Decimals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tray_app.core.console import (
    Budgets,
    ClaudeCodeLine,
    ConsoleReport,
    CostLine,
    TokenLine,
    Workspace,
    project_month_end,
    summarize,
)
from tray_app.core.models import Status
from tray_app.core.rules import AlertRules, RulesState, step_console

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # 20.5 days left in November


def cost(
    day: int, cents: str, workspace: str | None = "w1", model: str | None = "m1", month: int = 11
) -> CostLine:
    return CostLine(date(2026, month, day), workspace, "desc", model, "tokens", Decimal(cents), "USD")


def test_sums_are_exact_decimals() -> None:
    # Three amounts whose float sum is not exact: 0.1 + 0.2 style drift must not appear.
    lines = [cost(1, "10.1"), cost(2, "20.2"), cost(3, "0.3")]
    figures = summarize(NOW, lines, [], [], [], None, Budgets())
    assert figures.mtd_cost == Decimal("0.306")
    assert figures.month == "2026-11"


def test_other_months_are_left_out() -> None:
    lines = [cost(31, "99999", month=10), cost(5, "250")]
    assert summarize(NOW, lines, [], [], [], None, Budgets()).mtd_cost == Decimal("2.5")


def test_models_workspaces_and_my_claude_code() -> None:
    lines = [
        cost(1, "1000", "w1", "claude-opus"),
        cost(1, "500", None, "claude-opus"),
        cost(2, "250", "w2", None),
        cost(2, "125", "w-gone", "claude-new"),
    ]
    tokens = [
        TokenLine(date(2026, 11, 1), "claude-opus", 100, 20, 300, 40),
        TokenLine(date(2026, 11, 2), "claude-opus", 1, 2, 3, 4),
    ]
    mine = [
        ClaudeCodeLine(date(2026, 11, 1), "Jane@Example.com", None, Decimal("1025"), "USD"),
        ClaudeCodeLine(date(2026, 11, 1), "omar@example.com", None, Decimal("5000"), "USD"),
        ClaudeCodeLine(date(2026, 11, 2), None, "ci-bot", Decimal("700"), "USD"),
        ClaudeCodeLine(date(2026, 10, 31), "jane@example.com", None, Decimal("9999"), "USD"),
    ]
    workspaces = [
        Workspace("w1", "Production", False),
        Workspace("w2", "Research", False),
        Workspace("w3", "Idle", False),
    ]
    budgets = Budgets(Decimal(100), {"Research": Decimal(50), "w3": Decimal(10)})
    figures = summarize(NOW, lines, tokens, mine, workspaces, "jane@example.com", budgets)
    assert [(m.model, m.cost, m.input_tokens, m.output_tokens) for m in figures.by_model] == [
        ("claude-opus", Decimal(15), 101, 22),
        ("other (web search, code execution)", Decimal("2.5"), 0, 0),
        ("claude-new", Decimal("1.25"), 0, 0),
    ]
    assert [(w.name, w.cost, w.budget) for w in figures.workspaces] == [
        ("Production", Decimal(10), None),
        ("Default workspace", Decimal(5), None),
        ("Research", Decimal("2.5"), Decimal(50)),
        ("w-gone", Decimal("1.25"), None),  # a workspace we have no name for shows its id
        ("Idle", Decimal(0), Decimal(10)),  # budgeted, nothing spent: still listed
    ]
    assert figures.my_claude_code_cost == Decimal("10.25")  # case-insensitive email, this month only
    assert figures.budget == Decimal(100)


def test_projection_weights_recent_days() -> None:
    # Nine complete days: the last seven count, yesterday the most. Today (partial) is in the MTD only.
    daily = {date(2026, 11, d): Decimal(10) for d in range(1, 8)}
    daily |= {date(2026, 11, 8): Decimal(20), date(2026, 11, 9): Decimal(40), date(2026, 11, 10): Decimal(5)}
    mtd = sum(daily.values(), Decimal(0))
    weights = [Decimal("0.75") ** age for age in range(7)]
    recent = [Decimal(40), Decimal(20), Decimal(10), Decimal(10), Decimal(10), Decimal(10), Decimal(10)]
    per_day = sum((w * c for w, c in zip(weights, recent, strict=True)), Decimal(0)) / sum(
        weights, Decimal(0)
    )
    expected = mtd + per_day * Decimal("20.5")
    assert project_month_end(daily, mtd, NOW, []) == expected


def test_projection_needs_two_complete_days_or_a_day_of_snapshots() -> None:
    start = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    daily = {date(2026, 11, 1): Decimal(10), date(2026, 11, 2): Decimal(3)}
    assert project_month_end(daily, Decimal(13), start, []) is None
    snaps = [(start - timedelta(hours=6), Decimal(11)), (start, Decimal(13))]
    left = Decimal((datetime(2026, 12, 1, tzinfo=UTC) - start).total_seconds()) / 86400
    assert project_month_end(daily, Decimal(13), start, snaps) == Decimal(13) + Decimal(8) * left
    short = [(start - timedelta(hours=2), Decimal(11)), (start, Decimal(13))]
    assert project_month_end(daily, Decimal(13), start, short) is None


def report_with(
    mtd: str, budget: str | None, projected: str | None = None, workspace_budget: str | None = None
) -> ConsoleReport:
    lines = [cost(1, str(Decimal(mtd) * 100), "w1")]
    budgets = Budgets(
        None if budget is None else Decimal(budget),
        {"Production": Decimal(workspace_budget)} if workspace_budget else {},
    )
    figures = summarize(NOW, lines, [], [], [Workspace("w1", "Production", False)], None, budgets)
    if projected is not None:
        from dataclasses import replace

        figures = replace(figures, projected_month_end_cost=Decimal(projected))
    return ConsoleReport(Status.OK, None, "Org", NOW, figures)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("400", "1000", None)], []),
        ([("500", "1000", None)], ["Claude API spend: 50 % of the $1,000.00 budget"]),
        ([("500", "1000", None), ("550", "1000", None)], ["Claude API spend: 50 % of the $1,000.00 budget"]),
        ([("900", "1000", None)], ["Claude API spend: 80 % of the $1,000.00 budget"]),
        ([("1200", "1000", None)], ["Claude API spend: budget reached"]),
        (
            [("300", "1000", "1500"), ("350", "1000", "1600")],
            ["Claude API spend: on pace to pass the budget"],
        ),
        ([("300", None, "1500")], []),
    ],
)
def test_budget_alerts_once_per_month(
    steps: list[tuple[str, str | None, str | None]], expected: list[str]
) -> None:
    state, titles = RulesState(), []
    for mtd, budget, projected in steps:
        state, alerts = step_console(state, report_with(mtd, budget, projected), AlertRules())
        titles += [a.title for a in alerts]
    assert titles == expected


def test_budget_alert_body_and_workspace_budget() -> None:
    _, alerts = step_console(RulesState(), report_with("90", None, workspace_budget="100"), AlertRules())
    assert [(a.title, a.body) for a in alerts] == [
        ("Claude API spend of Production: 80 % of the $100.00 budget", "$90.00 of $100.00 spent this month.")
    ]


def test_no_budget_alerts_from_a_failed_refresh() -> None:
    report = report_with("2000", "1000")
    failed = ConsoleReport(Status.ERROR, "boom", None, None, report.figures)
    assert step_console(RulesState(), failed, AlertRules()) == (RulesState(), [])
