"""A limit the table of names does not know: kept, shown under "Other limits", logged once per process."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tray_app.core.models import Status
from tray_app.core.report import code_report_json, render_text
from tray_app.demo import DemoServer
from tray_app.demo.common import json_response
from tray_app.monitors.code import CodeMonitor
from tray_app.sources.code_api import CodeApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import Store

from . import demo_helpers

USAGE = "/api/oauth/usage"
HTTP_TIMEOUT = 2.0
http = demo_helpers.http_client


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "home" / "usage_history.db") as opened:
        yield opened


def body(**codenames: dict[str, Any]) -> dict[str, Any]:
    week_end = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    session_end = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    return {
        "five_hour": {"utilization": 40.0, "resets_at": session_end, "locked_reason": None},
        "seven_day": None,
        "nimbus_quill": {"utilization": 0.0, "resets_at": None},
        "limits": [
            {"kind": "weekly_all", "percent": 61, "resets_at": week_end, "scope": None, "is_active": False},
            {
                "kind": "weekly_scoped",
                "percent": 100,
                "resets_at": week_end,
                "scope": {"model": {"id": None, "display_name": "Fable"}, "surface": None},
                "is_active": True,
            },
        ],
        **codenames,
    }


def unknown_key_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "our table does not name" in r.getMessage()]


def test_an_unknown_limit_is_shown_and_logged_once(
    server: DemoServer, store: Store, http: HttpClient, claude_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monitor = CodeMonitor(store, ClaudeCredentialStore(claude_dir), CodeApi(http, server.base_url, "2.1.0"))
    otter = {"utilization": 45.5, "resets_at": None}
    server.queue(
        USAGE,
        json_response(200, body(velvet_otter=otter)),
        json_response(200, body(velvet_otter=otter)),
        json_response(200, body(velvet_otter=otter, plum_crow={"utilization": 3})),
    )
    caplog.set_level(logging.INFO, logger="tray_app.monitors.code")
    reports = [monitor.poll(force=True) for _ in range(3)]
    assert [r.status for r in reports] == [Status.OK] * 3
    assert len(server.requests(USAGE)) == 3
    assert unknown_key_lines(caplog) == [
        "the usage answer has a limit our table does not name: velvet_otter (shown under its key)",
        "the usage answer has a limit our table does not name: plum_crow (shown under its key)",
    ]

    last = reports[-1]
    now = datetime.now(UTC)
    text = render_text(last, now, UTC)
    lines = [line.split("  ")[0] for line in text.splitlines()]
    assert lines[2].startswith("Fable weekly limit reached - resets ")
    assert [line for line in lines if line and not line.startswith(("Claude", "Updated"))] == [
        # Fable's week is at 100 % in this answer: what stops the user is said first.
        lines[2],
        "5-hour",
        "Weekly",
        "Weekly · Fable",
        "Other limits",
        "velvet_otter",
        "plum_crow",
    ]
    windows = json.loads(json.dumps(code_report_json(last)))["windows"]
    assert [(w["id"], w["blocked"], w["binding"], w["other"]) for w in windows] == [
        ("five_hour", False, False, False),
        ("seven_day", False, False, False),
        ("seven_day_fable", True, True, False),
        ("velvet_otter", False, False, True),
        ("plum_crow", False, False, True),
    ]
