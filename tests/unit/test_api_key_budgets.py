"""Per-API-key budgets: the [console.api_key_budgets] setting, the lookup, and their notifications."""

from __future__ import annotations

import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from tray_app.config import load_settings
from tray_app.core.codec import rules_state_from_dict, rules_state_to_dict
from tray_app.core.console import ConsoleReport, KeySpend, MonthFigures, Spenders, key_budget
from tray_app.core.errors import ConfigError
from tray_app.core.models import Status
from tray_app.core.rules import AlertRules, RulesState, forget_old, step_console
from tray_app.environment import Environment
from tray_app.wiring.app import settings_for

from .test_console import NOW

KEY_ID = "apikey_01DemoProdBackend6Lm2"


def report(*keys: KeySpend, month: str = "2026-11") -> ConsoleReport:
    figures = MonthFigures(
        month=month,
        currency="USD",
        mtd_cost=sum((k.cost for k in keys), Decimal(0)),
        projected_month_end_cost=None,
        budget=None,
        by_model=(),
        workspaces=(),
        my_email=None,
        my_claude_code_cost=None,
        daily=(),
        spenders=Spenders(by_api_key=keys, by_actor=()),
    )
    return ConsoleReport(Status.OK, None, "Org", NOW, figures)


def prod(cost: str, projected: str | None = None, budget: str | None = "500") -> KeySpend:
    return KeySpend(
        KEY_ID,
        "prod-backend",
        Decimal(cost),
        budget=None if budget is None else Decimal(budget),
        projected_month_end_cost=None if projected is None else Decimal(projected),
    )


def run(state: RulesState, console: ConsoleReport) -> tuple[RulesState, list[tuple[str, str]]]:
    state, alerts = step_console(state, console, AlertRules())
    return state, [(a.title, a.body) for a in alerts]


def test_a_key_at_85_percent_gives_one_80_percent_alert_once_a_month() -> None:
    state, told = run(RulesState(), report(prod("425")))
    assert told == [
        ("API key prod-backend: 80 % of the $500.00 budget", "$425.00 of $500.00 spent this month.")
    ]
    # The 50 % it passed on the way is folded in (as for the organization's and workspaces' budgets).
    assert {key for key in state.fired if key.startswith("budget:2026-11:api-key:")} == {
        f"budget:2026-11:api-key:{KEY_ID}:50",
        f"budget:2026-11:api-key:{KEY_ID}:80",
    }
    again, told = run(state, report(prod("425")))
    assert told == [] and again == state
    # Stored and read back (as the tray does between runs): still nothing.
    stored = rules_state_from_dict(rules_state_to_dict(state))
    assert run(stored, report(prod("430")))[1] == []
    # The next month re-arms it.
    _, told = run(stored, report(prod("425"), month="2026-12"))
    assert told == [
        ("API key prod-backend: 80 % of the $500.00 budget", "$425.00 of $500.00 spent this month.")
    ]


def test_the_ladder_goes_on_to_the_budget_reached() -> None:
    state, first = run(RulesState(), report(prod("260")))
    state, second = run(state, report(prod("510")))
    assert [title for title, _ in first + second] == [
        "API key prod-backend: 50 % of the $500.00 budget",
        "API key prod-backend: budget reached",
    ]


def test_on_pace_to_pass_its_budget_once_a_month() -> None:
    state, told = run(RulesState(), report(prod("100", projected="620")))
    assert told == [
        (
            "API key prod-backend: on pace to pass its budget",
            "Projected $620.00 by month end; the budget is $500.00.",
        )
    ]
    assert run(state, report(prod("120", projected="650")))[1] == []
    # Not when the projection stays under the budget, nor once the budget is passed, nor when it is off.
    assert run(RulesState(), report(prod("100", projected="480")))[1] == []
    assert [t for t, _ in run(RulesState(), report(prod("510", projected="900")))[1]] == [
        "API key prod-backend: budget reached"
    ]
    _, alerts = step_console(
        RulesState(), report(prod("100", projected="620")), AlertRules(budget_projection=False)
    )
    assert alerts == []


def test_keys_without_a_budget_and_the_others_line_are_quiet() -> None:
    others = KeySpend(None, "others (3)", Decimal(900))
    assert run(RulesState(), report(prod("900", projected="2000", budget=None), others)) == (RulesState(), [])
    assert run(RulesState(), replace(report(), figures=None)) == (RulesState(), [])


def test_a_deleted_key_with_a_budget() -> None:
    gone = KeySpend("apikey_01Gone", "old-ingest (deleted)", Decimal(45), deleted=True, budget=Decimal(50))
    state, told = run(RulesState(), report(gone))
    assert told == [
        ("API key old-ingest (deleted): 80 % of the $50.00 budget", "$45.00 of $50.00 spent this month.")
    ]
    # Keyed by its id: the same key under its old name (before it was deleted) is not told twice.
    before = replace(gone, name="old-ingest", deleted=False)
    assert run(state, report(before))[1] == []


def test_a_key_without_an_id_is_keyed_by_its_name() -> None:
    nameless = KeySpend(None, "ci", Decimal(9), budget=Decimal(10))
    state, told = run(RulesState(), report(nameless))
    assert [t for t, _ in told] == ["API key ci: 80 % of the $10.00 budget"]
    assert "budget:2026-11:api-key:ci:80" in state.fired
    assert run(state, report(nameless))[1] == []


def test_a_key_and_a_workspace_of_the_same_name_are_told_apart() -> None:
    key = KeySpend(None, "Research", Decimal(9), budget=Decimal(10))
    console = report(key)
    assert console.figures is not None
    state = RulesState(fired=frozenset({"budget:2026-11:Research:80", "budget:2026-11:Research:50"}))
    assert [t for t, _ in run(state, console)[1]] == ["API key Research: 80 % of the $10.00 budget"]


def test_key_budget_fired_keys_are_forgotten_with_their_month() -> None:
    state, _ = run(RulesState(), report(prod("100", projected="620")))
    assert state.fired == {f"budget-projection:2026-11:api-key:{KEY_ID}"}
    assert forget_old(state, NOW) == state
    assert forget_old(state, NOW.replace(year=2027, month=1, day=25)).fired == frozenset()


@pytest.mark.parametrize(
    ("key_id", "name", "expected"),
    [
        (KEY_ID, "prod-backend", Decimal(1)),  # the id first
        ("apikey_other", "prod-backend", Decimal(2)),  # then the name as written
        (None, "prod-backend", Decimal(2)),
        ("apikey_gone", "old-ingest (deleted)", Decimal(3)),  # a deleted key's name without its suffix
        ("apikey_gone", "both (deleted)", Decimal(5)),  # the name as written comes first
        ("apikey_other", "Prod-Backend", None),  # names are compared as written
        ("apikey_other", "unknown", None),
    ],
)
def test_key_budget_lookup(key_id: str | None, name: str, expected: Decimal | None) -> None:
    budgets = {
        KEY_ID: Decimal(1),
        "prod-backend": Decimal(2),
        "old-ingest": Decimal(3),
        "both": Decimal(4),
        "both (deleted)": Decimal(5),
    }
    assert key_budget(key_id, name, budgets) == expected


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_setting_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[console]\nbudget = 3000\n[console.workspace_budgets]\nResearch = 800\n"
        '[console.api_key_budgets]\nprod-backend = 400\n"apikey_01X" = 12.5\n',
    )
    console = load_settings({}, path, home=tmp_path).console
    assert console.api_key_budgets == {"prod-backend": Decimal(400), "apikey_01X": Decimal("12.5")}
    assert console.workspace_budgets == {"Research": Decimal(800)}
    assert load_settings({}, write(tmp_path, "[console]\n"), home=tmp_path).console.api_key_budgets == {}


@pytest.mark.parametrize(
    "table",
    [
        "[console.api_key_budgets]\nprod-backend = 0\n",
        "[console.api_key_budgets]\nprod-backend = -5\n",
        '[console.api_key_budgets]\nprod-backend = "500"\n',
        "[console.api_key_budgets]\nprod-backend = true\n",
        "[console]\napi_key_budgets = 500\n",
    ],
)
def test_a_bad_table_is_one_line_naming_the_problem(tmp_path: Path, table: str) -> None:
    path = write(tmp_path, f"code_poll_seconds = 300\n{table}")
    with pytest.raises(ConfigError) as refused:
        load_settings({}, path, home=tmp_path)
    assert str(refused.value) == (
        f"{path}: console.api_key_budgets must map API key names or ids to positive amounts"
    )
    # As for workspace_budgets: a command stops; the tray starts on the defaults and says why.
    home = tmp_path / "home"
    env = Environment({"CLAUDE_USAGE_TRAY_HOME": str(tmp_path)}, sys.platform, home)
    settings = settings_for("run", env)
    assert settings.file_problem == f"{refused.value}; using the default settings"
    assert settings.code_poll_seconds == 180.0 and settings.console.api_key_budgets == {}
