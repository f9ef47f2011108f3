"""Who and what spent the Console month, in words: the rows the menu, `status`, `watch` and the details
window share (the top five API keys and people, the rest as one "others (n)" row), the user's own
spend, and where the month's figures came from.

Only the Analytics API says who spent (MonthFigures.spenders); a month from the cost report has no rows
here, and reads exactly as it did before the Analytics API.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tray_app.core.console import (
    SOURCE_ANALYTICS,
    ActorSpend,
    ConsoleReport,
    KeySpend,
    MonthFigures,
    top_actor_spend,
    top_key_spend,
)
from tray_app.core.money import format_money

BY_API_KEY = "By API key"
BY_PERSON = "By person"
TOP_SPENDERS = 5
SOURCE_NAMES = {SOURCE_ANALYTICS: "Analytics API (beta)"}
COST_REPORT = "cost report"


@dataclass(frozen=True)
class SpendRow:
    """One key or person: its name ('prod-backend (deleted)', 'others (3)') and what it spent, in words
    ('$312.40', '$312.40 of $500.00 (62 %)'); budget and share only for a key with a budget."""

    name: str
    amount: str
    cost: Decimal
    deleted: bool
    email: str | None = None
    budget: str | None = None
    share: float | None = None  # percent of the budget


def _key_row(key: KeySpend, currency: str) -> SpendRow:
    amount = format_money(key.cost, currency)
    if not key.budget:
        return SpendRow(key.name, amount, key.cost, key.deleted)
    budget = format_money(key.budget, currency)
    share = float(key.cost / key.budget * 100)
    return SpendRow(
        key.name, f"{amount} of {budget} ({share:.0f} %)", key.cost, key.deleted, None, budget, share
    )


def _actor_row(actor: ActorSpend, currency: str) -> SpendRow:
    return SpendRow(actor.name, format_money(actor.cost, currency), actor.cost, actor.deleted, actor.email)


def key_rows(figures: MonthFigures) -> tuple[SpendRow, ...]:
    """The five keys that spent most and the rest as one row; none when the month says nothing of keys."""
    if figures.spenders is None:
        return ()
    keys = top_key_spend(figures.spenders.by_api_key, TOP_SPENDERS)
    return tuple(_key_row(key, figures.currency) for key in keys)


def person_rows(figures: MonthFigures) -> tuple[SpendRow, ...]:
    """The five people (or service accounts, keys) that spent most and the rest as one row."""
    if figures.spenders is None:
        return ()
    actors = top_actor_spend(figures.spenders.by_actor, TOP_SPENDERS)
    return tuple(_actor_row(actor, figures.currency) for actor in actors)


def person_label(row: SpendRow) -> str:
    """'Raj Patel · raj@example.com'; the name alone when it is the email or there is none."""
    if row.email and row.email.casefold() != row.name.casefold():
        return f"{row.name} · {row.email}"
    return row.name


def own_spend_lines(figures: MonthFigures) -> list[str]:
    """'Your Claude Code usage: $28.40 (jane@example.com)' and 'Your API spend: $12.34 (...)', as known."""
    lines = []
    if figures.my_claude_code_cost is not None:
        mine = format_money(float(figures.my_claude_code_cost), figures.currency)
        lines.append(f"Your Claude Code usage: {mine} ({figures.my_email})")
    my_api = None if figures.spenders is None else figures.spenders.my_api_cost
    if my_api is not None:
        who = f" ({figures.my_email})" if figures.my_email else ""
        lines.append(f"Your API spend: {format_money(my_api, figures.currency)}{who}")
    return lines


def source_line(report: ConsoleReport) -> str | None:
    """'Source: Analytics API (beta)', 'Source: cost report', with the reason the Analytics API was not
    used when it was tried; None without figures."""
    figures = report.figures
    if figures is None:
        return None
    line = f"Source: {SOURCE_NAMES.get(figures.source, COST_REPORT)}"
    return line if report.source_note is None else f"{line} · {report.source_note}"


def spender_lines(figures: MonthFigures) -> list[str]:
    """'By API key:' and 'By person:' with their rows indented, as `status` prints them."""
    lines: list[str] = []
    keys, people = key_rows(figures), person_rows(figures)
    if keys:
        lines += [f"{BY_API_KEY}:", *(f"    {row.name}: {row.amount}" for row in keys)]
    if people:
        lines += [f"{BY_PERSON}:", *(f"    {person_label(row)}: {row.amount}" for row in people)]
    return lines
