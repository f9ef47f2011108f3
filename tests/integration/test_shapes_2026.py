"""The usage answer's 2026 shapes, served by the demo server, read by the real `status --json`: every
window once, by its name, with the flags a user acts on (blocked, binding, other)."""

from __future__ import annotations

from typing import Any

import pytest

from tray_app.demo import DemoServer

from ..conftest import CliEnv


def windows(cli: CliEnv, server: DemoServer, scenario: str) -> list[tuple[Any, ...]]:
    server.set_scenario(scenario)
    server.grants_scenario = "absent"
    doc = cli.run("status", "--json").json()
    assert doc["code"]["status"] == "ok", doc["code"]
    return [
        (w["id"], w["label"], w["utilization"], w["blocked"], w["binding"], w["other"])
        for w in doc["code"]["windows"]
    ]


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        # Flat codename keys without limits[]: Fable and Claude Design named, the zeroed codename hidden.
        (
            "codenames_flat",
            [
                ("five_hour", "5-hour", 34.0, False, False, False),
                ("seven_day", "Weekly", 61.0, False, False, False),
                ("seven_day_fable", "Weekly · Fable", 88.0, False, False, False),
                ("seven_day_claude_design", "Weekly · Claude Design", 12.0, False, False, False),
            ],
        ),
        # limits[] and no flat key: the same windows, the binding one marked.
        (
            "limits_only",
            [
                ("five_hour", "5-hour", 34.0, False, False, False),
                ("seven_day", "Weekly", 61.0, False, False, False),
                ("seven_day_fable", "Weekly · Fable", 88.0, False, True, False),
            ],
        ),
        # seven_day null: the week comes from limits[] weekly_all.
        (
            "weekly_null",
            [
                ("five_hour", "5-hour", 34.0, False, False, False),
                ("seven_day", "Weekly", 61.0, False, True, False),
            ],
        ),
        # A locked window is blocked at 72 %.
        (
            "locked",
            [
                ("five_hour", "5-hour", 72.0, True, True, False),
                ("seven_day", "Weekly", 61.0, False, False, False),
            ],
        ),
        # A codename nobody named: kept, by its key, as another limit.
        (
            "unknown_codename",
            [
                ("five_hour", "5-hour", 34.0, False, False, False),
                ("seven_day", "Weekly", 61.0, False, False, False),
                ("harbor_lantern", "harbor_lantern", 50.0, False, False, True),
            ],
        ),
        # The complaint of the year: Fable blocks while the 5-hour window says 40 %; shown once.
        (
            "blocked_fable",
            [
                ("five_hour", "5-hour", 40.0, False, False, False),
                ("seven_day", "Weekly", 61.0, False, False, False),
                ("seven_day_fable", "Weekly · Fable", 100.0, True, True, False),
            ],
        ),
    ],
)
def test_every_2026_shape_gives_each_window_once(
    cli: CliEnv, server: DemoServer, scenario: str, expected: list[tuple[Any, ...]]
) -> None:
    assert windows(cli, server, scenario) == expected


def test_the_blocked_fable_week_leads_the_text_status(cli: CliEnv, server: DemoServer) -> None:
    server.set_scenario("blocked_fable")
    lines = cli.run("status").stdout.splitlines()
    # Before any figure that looks fine (the 5-hour window's 40 %), what stops the user and until when.
    assert lines[2].startswith("Fable weekly limit reached - resets "), lines
