"""`status` and `status --json` tell who and what spent the Console month (Analytics API) and where the
month's figures came from; a month from the cost report keeps its text, with its source named."""

from __future__ import annotations

import json
from datetime import UTC

from tray_app.core.console import ConsoleReport
from tray_app.core.models import Status
from tray_app.core.report import console_report_json, render_console_text, status_document

from ..spenders_data import ACTORS, COST_REPORT_FIGURES, KEYS, NOTE, NOW, console


def test_status_lists_the_top_keys_and_people_and_the_source() -> None:
    text = render_console_text(console(), NOW, UTC)
    assert text.splitlines()[8:] == [
        "By API key:",
        "    prod-backend: $812.40",
        "    claude-code-team: $312.40 of $500.00 (62 %)",
        "    research-notebooks: $150.00",
        "    old-ci (deleted): $90.00",
        "    staging: $60.00",
        "    others (3): $50.98",
        "By person:",
        "    ci-runner: $700.00",
        "    Raj Patel · raj@example.com: $400.00",
        "    prod-backend: $200.00",
        "    Mia Chen (deleted) · mia@example.com: $100.00",
        "    okta:sam: $50.00",
        "    others (2): $25.78",
        "Your Claude Code usage: $28.40 (jane@example.com)",
        "Your API spend: $12.34 (jane@example.com)",
        "Source: Analytics API (beta)",
    ]
    assert text.splitlines()[7] == "    Default workspace: $475.78"  # after the workspaces


def test_a_month_from_the_cost_report_names_its_source_and_why() -> None:
    lines = render_console_text(console(COST_REPORT_FIGURES), NOW, UTC).splitlines()
    assert lines[-2:] == ["Your Claude Code usage: $28.40 (jane@example.com)", "Source: cost report"]
    assert not any(line.startswith(("By ", "Your API spend")) for line in lines)
    refused = render_console_text(console(COST_REPORT_FIGURES, NOTE), NOW, UTC).splitlines()
    assert refused == [*lines[:-1], f"Source: cost report · {NOTE}"]


def test_json_has_every_key_and_actor_the_source_and_my_api_cost() -> None:
    document = console_report_json(console())
    assert document["source"] == "analytics" and document["source_note"] is None
    assert document["my_api_cost"] == 12.34
    assert len(document["by_api_key"]) == len(KEYS) == 8  # all of them, not the top five
    assert document["by_api_key"][:2] == [
        {
            "id": "apikey_01",
            "name": "prod-backend",
            "cost": 812.4,
            "deleted": False,
            "budget": None,
            "projected_month_end_cost": 6100.0,
        },
        {
            "id": "apikey_02",
            "name": "claude-code-team",
            "cost": 312.4,
            "deleted": False,
            "budget": 500.0,
            "projected_month_end_cost": None,
        },
    ]
    assert document["by_api_key"][3]["deleted"] is True
    assert len(document["by_actor"]) == len(ACTORS) == 7
    assert document["by_actor"][1] == {
        "type": "user",
        "id": "user_01",
        "name": "Raj Patel",
        "email": "raj@example.com",
        "cost": 400.0,
        "deleted": False,
    }
    assert [actor["type"] for actor in document["by_actor"]] == [
        "service_account",
        "user",
        "api_key",
        "user",
        "federated",
        "user",
        "user",
    ]
    # The existing fields are all still there, under their names.
    assert document["mtd_cost"] == 1475.78 and document["my_claude_code_cost"] == 28.4
    json.dumps(status_document(None, NOW, console()))  # plain JSON types throughout


def test_json_of_a_month_from_the_cost_report_and_of_no_figures() -> None:
    refused = console_report_json(console(COST_REPORT_FIGURES, NOTE))
    assert (refused["source"], refused["source_note"]) == ("cost_report", NOTE)
    assert (refused["by_api_key"], refused["by_actor"], refused["my_api_cost"]) == ([], [], None)
    empty = console_report_json(
        ConsoleReport(Status.OFFLINE, "cannot reach api.anthropic.com", None, None, None)
    )
    assert (empty["source"], empty["source_note"], empty["by_api_key"], empty["by_actor"]) == (
        None,
        None,
        [],
        [],
    )
    assert empty["my_api_cost"] is None
