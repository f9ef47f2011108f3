"""Which Console parts a refresh asks for: the needed ones always, the due ones within the budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tray_app.core.refresh_plan import Part, plan

NOW = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


def names(parts: list[Part]) -> list[str]:
    return [part.name for part in parts]


def test_needed_parts_are_asked_whatever_the_budget() -> None:
    parts = [Part(f"day{n}", None, HOUR, needed=True) for n in range(5)]
    assert names(plan(parts, NOW, 2)) == [f"day{n}" for n in range(5)]


def test_due_parts_share_the_budget_most_overdue_first_and_the_rest_wait() -> None:
    parts = [
        Part("organization", NOW - 1.2 * HOUR, HOUR),
        Part("workspaces", NOW - 3 * HOUR, HOUR),
        Part("tokens", NOW - timedelta(minutes=2), timedelta(minutes=1)),
        Part("fresh", NOW - timedelta(minutes=10), HOUR),
        Part("never", None, HOUR),
    ]
    assert names(plan(parts, NOW, 3)) == ["never", "workspaces", "tokens"]
    assert names(plan(parts, NOW, 0)) == []


def test_a_part_not_yet_due_is_not_asked_even_with_budget_left() -> None:
    assert plan([Part("organization", NOW - 0.5 * HOUR, HOUR)], NOW, 3) == []


def test_needed_parts_use_up_the_budget_before_due_ones() -> None:
    parts = [Part("keys", None, HOUR, needed=True), Part("tokens", NOW - HOUR, timedelta(minutes=1))]
    assert names(plan(parts, NOW, 1)) == ["keys"]
    assert names(plan(parts, NOW, 2)) == ["keys", "tokens"]
