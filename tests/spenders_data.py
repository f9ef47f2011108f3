"""A Console month from the Analytics API: eight API keys (one deleted, one with a budget) and seven
actors, each list summing to the month's total, for the tests of every view that shows who spent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tray_app.core.console import (
    SOURCE_ANALYTICS,
    ActorSpend,
    ConsoleReport,
    KeySpend,
    ModelSpend,
    MonthFigures,
    Spenders,
    WorkspaceSpend,
)
from tray_app.core.models import Status

NOW = datetime(2026, 8, 4, 14, 6, tzinfo=UTC)
TOTAL = Decimal("1475.78")
NOTE = "The Analytics API refused this key (permission_error); using the cost report until 14:02 UTC"

KEYS = (
    KeySpend("apikey_01", "prod-backend", Decimal("812.40"), projected_month_end_cost=Decimal("6100")),
    KeySpend("apikey_02", "claude-code-team", Decimal("312.40"), budget=Decimal("500")),
    KeySpend("apikey_03", "research-notebooks", Decimal("150.00")),
    KeySpend("apikey_04", "old-ci (deleted)", Decimal("90.00"), deleted=True),
    KeySpend("apikey_05", "staging", Decimal("60.00")),
    KeySpend("apikey_06", "evals", Decimal("25.00")),
    KeySpend("apikey_07", "sandbox", Decimal("15.98")),
    KeySpend("apikey_08", "docs-bot", Decimal("10.00")),
)
ACTORS = (
    ActorSpend("service_account", "svcacct_01", "ci-runner", None, Decimal("700.00")),
    ActorSpend("user", "user_01", "Raj Patel", "raj@example.com", Decimal("400.00")),
    ActorSpend("api_key", "apikey_01", "prod-backend", None, Decimal("200.00")),
    ActorSpend("user", "user_02", "Mia Chen (deleted)", "mia@example.com", Decimal("100.00"), deleted=True),
    ActorSpend("federated", "fed_01", "okta:sam", None, Decimal("50.00")),
    ActorSpend("user", "user_03", "Lee Kim", "lee@example.com", Decimal("13.44")),
    ActorSpend("user", "user_04", "Jane Doe", "jane@example.com", Decimal("12.34")),
)
assert sum(k.cost for k in KEYS) == TOTAL and sum(a.cost for a in ACTORS) == TOTAL

COST_REPORT_FIGURES = MonthFigures(
    month="2026-08",
    currency="USD",
    mtd_cost=TOTAL,
    projected_month_end_cost=Decimal("1762.40"),
    budget=Decimal("3000"),
    by_model=(
        ModelSpend("claude-sonnet-4-20250514", Decimal("1000.00"), 0, 0, 0, 0),
        ModelSpend("claude-opus-4-6", Decimal("475.78"), 0, 0, 0, 0),
    ),
    workspaces=(
        WorkspaceSpend("wrkspc_1", "Production", Decimal("1000.00"), None),
        WorkspaceSpend(None, "Default workspace", Decimal("475.78"), None),
    ),
    my_email="jane@example.com",
    my_claude_code_cost=Decimal("28.40"),
    daily=((date(2026, 8, 3), Decimal("400")),),
)
FIGURES = replace(
    COST_REPORT_FIGURES,
    source=SOURCE_ANALYTICS,
    spenders=Spenders(KEYS, ACTORS, my_api_cost=Decimal("12.34")),
)


def console(figures: MonthFigures = FIGURES, note: str | None = None) -> ConsoleReport:
    return ConsoleReport(Status.OK, None, "Demo Org", NOW - timedelta(minutes=2), figures, note)
