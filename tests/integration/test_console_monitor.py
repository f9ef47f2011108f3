"""Console refreshes against the demo Admin API: exact money, few requests, month edges, failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

import tray_app.monitors.console
from tray_app.config import ConsoleSettings
from tray_app.core.console_codec import lines_from_json
from tray_app.core.models import Status
from tray_app.demo import (
    CLAUDE_CODE_REPORT_PATH,
    COST_REPORT_PATH,
    MESSAGES_REPORT_PATH,
    WORKSPACES_PATH,
    DemoServer,
)
from tray_app.monitors.console import BACKOFF_SCOPE, ConsoleMonitor
from tray_app.sources.console_api import ConsoleApi
from tray_app.sources.http import HttpClient
from tray_app.store import Store

from ..fakes import FakeClock

KEY = DemoServer.DEMO_ADMIN_KEY


class Setup:
    def __init__(self, server: DemoServer, store: Store, clock: FakeClock, settings: ConsoleSettings) -> None:
        self.server, self.store, self.clock, self.settings = server, store, clock, settings
        self.http = HttpClient(10)
        self.api = ConsoleApi(self.http, server.base_url, KEY, "test")
        self.monitor = ConsoleMonitor(store, self.api, settings, clock=clock.now)

    def raw(self, path: str, **params: Any) -> dict[str, Any]:
        """A page fetched with plain requests, to compute expected figures independently."""
        query = [
            (k.replace("__", "[]"), v)
            for k, values in params.items()
            for v in (values if isinstance(values, list) else [values])
        ]
        response = requests.get(
            self.server.base_url + path,
            params=query,
            headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
            timeout=10,
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    clock = FakeClock(datetime(2026, 11, 26, 14, 30, tzinfo=UTC))
    settings = ConsoleSettings(user_email="jane@example.com", budget=Decimal(3000))
    with (
        DemoServer("full", clock=clock.epoch) as server,
        Store.open(tmp_path / "c.db") as store,
    ):
        made = Setup(server, store, clock, settings)
        yield made
        made.http.close()


def month_cost_from_raw(setup: Setup, start: str, end: str) -> Decimal:
    total, page = Decimal(0), None
    while True:
        params: dict[str, Any] = {
            "starting_at": start,
            "ending_at": end,
            "limit": 31,
            "group_by__": ["workspace_id", "description"],
        }
        if page:
            params["page"] = page
        body = setup.raw(COST_REPORT_PATH, **params)
        total += sum((Decimal(r["amount"]) for bucket in body["data"] for r in bucket["results"]), Decimal(0))
        if not body["has_more"]:
            return total / 100
        page = body["next_page"]


def test_month_to_date_is_exact(setup: Setup) -> None:
    report = setup.monitor.refresh()
    assert report.status is Status.OK and report.figures is not None
    figures = report.figures
    expected = month_cost_from_raw(setup, "2026-11-01T00:00:00Z", "2026-11-26T14:30:00Z")
    assert figures.mtd_cost == expected  # Decimal, to the last digit: no float drift
    assert sum((m.cost for m in figures.by_model), Decimal(0)) == expected
    assert sum((w.cost for w in figures.workspaces), Decimal(0)) == expected
    assert figures.month == "2026-11" and report.organization == "Demo Org"
    assert any(w.id is None and w.name == "Default workspace" for w in figures.workspaces)
    assert any(m.model == "claude-fable-5-20261101" for m in figures.by_model)  # a model we do not know
    assert (
        figures.projected_month_end_cost is not None and figures.projected_month_end_cost > figures.mtd_cost
    )


def test_my_claude_code_cost_is_mine_only(setup: Setup) -> None:
    figures = setup.monitor.refresh().figures
    assert figures is not None
    expected = Decimal(0)
    for day in range(1, 27):
        body = setup.raw(CLAUDE_CODE_REPORT_PATH, starting_at=f"2026-11-{day:02d}", limit=1000)
        for record in body["data"]:
            if record["actor"].get("email_address") == "jane@example.com":
                expected += sum(
                    (Decimal(str(m["estimated_cost"]["amount"])) for m in record["model_breakdown"]),
                    Decimal(0),
                )
    assert figures.my_claude_code_cost == expected / 100 and expected > 0


def test_after_the_first_refresh_each_costs_at_most_three_requests(setup: Setup) -> None:
    setup.monitor.refresh()
    first = setup.api.requests_made
    assert first >= 26  # the month's Claude Code report is one request per day the first time
    setup.clock.advance(timedelta(minutes=2))
    setup.monitor.refresh()
    assert setup.api.requests_made - first <= 3
    cost_calls = setup.server.requests(COST_REPORT_PATH)
    assert parse_qs(cost_calls[-1].query)["starting_at"] == ["2026-11-25T00:00:00Z"]  # only unsettled days
    # A long gap, then two hours of refreshes two minutes apart across midnight: the hourly parts come
    # due together and the new day begins, yet no refresh costs more than three requests, and each
    # hourly part is still asked about every hour.
    setup.clock.advance(timedelta(hours=9, minutes=8))  # 23:40
    workspaces_before = len(setup.server.requests(WORKSPACES_PATH))
    most = 0
    for _ in range(60):
        before = setup.api.requests_made
        setup.monitor.refresh()
        most = max(most, setup.api.requests_made - before)
        setup.clock.advance(timedelta(minutes=2))
    assert most <= 3
    assert len(setup.server.requests(WORKSPACES_PATH)) - workspaces_before >= 2
    claude_code_days = {
        parse_qs(r.query)["starting_at"][0] for r in setup.server.requests(CLAUDE_CODE_REPORT_PATH)
    }
    assert "2026-11-27" in claude_code_days  # the new day's Claude Code report


def test_past_days_come_from_the_database(setup: Setup) -> None:
    setup.monitor.refresh()
    setup.clock.advance(timedelta(minutes=2))
    before = len(setup.server.requests(MESSAGES_REPORT_PATH))
    report = setup.monitor.refresh()
    assert len(setup.server.requests(MESSAGES_REPORT_PATH)) == before + 1
    assert report.figures is not None and report.figures.daily[0][0].isoformat() == "2026-11-01"


def test_a_cached_day_is_parsed_once_until_it_is_fetched_again(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []

    def counting(kind: str, rows: object) -> list[Any]:
        parsed.append(kind)
        return lines_from_json(kind, rows)

    monkeypatch.setattr(tray_app.monitors.console, "lines_from_json", counting)
    setup.monitor.refresh()
    assert len(parsed) == 3 * 26  # cost, tokens and Claude Code, November 1-26
    parsed.clear()
    setup.clock.advance(timedelta(minutes=2))
    report = setup.monitor.refresh()
    # Only the days fetched again (the 25th and 26th of cost and tokens) are read again.
    assert sorted(parsed) == ["cost", "cost", "tokens", "tokens"]
    fresh = ConsoleMonitor(setup.store, setup.api, setup.settings, clock=setup.clock.now)
    assert report.figures is not None and report.figures == fresh.stored_report().figures


@pytest.mark.parametrize(
    ("now", "month", "days"),
    [
        (datetime(2026, 3, 1, 0, 30, tzinfo=UTC), "2026-03", 1),
        (datetime(2026, 2, 28, 23, 59, tzinfo=UTC), "2026-02", 28),
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), "2028-02", 29),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), "2026-12", 31),
    ],
)
def test_utc_month_edges(tmp_path: Path, now: datetime, month: str, days: int) -> None:
    clock = FakeClock(now)
    with (
        DemoServer("full", clock=clock.epoch) as server,
        Store.open(tmp_path / "e.db") as store,
    ):
        http = HttpClient(10)
        monitor = ConsoleMonitor(
            store, ConsoleApi(http, server.base_url, KEY, "t"), ConsoleSettings(), clock=clock.now
        )
        figures = monitor.refresh().figures
        http.close()
    assert figures is not None and figures.month == month
    assert len(figures.daily) == days and figures.daily[0][0].day == 1
    if days == 1:
        assert figures.projected_month_end_cost is None  # half an hour of a month says nothing yet


def test_rate_limit_is_shared_and_keeps_the_figures(setup: Setup) -> None:
    setup.monitor.refresh()
    setup.server.set_admin_scenario("rate_limited")
    setup.clock.advance(timedelta(minutes=2))
    limited = setup.monitor.refresh()
    assert limited.status is Status.RATE_LIMITED and limited.figures is not None
    assert "showing figures from 2 min ago" in (limited.message or "")
    backoff = setup.store.backoffs.get(BACKOFF_SCOPE)
    assert backoff is not None and backoff.until == setup.clock.now() + timedelta(seconds=60)
    setup.server.set_admin_scenario("normal")
    before = setup.api.requests_made
    setup.clock.advance(timedelta(seconds=30))
    assert setup.monitor.refresh().status is Status.RATE_LIMITED
    assert setup.api.requests_made == before  # nothing sent inside the back-off
    setup.clock.advance(timedelta(seconds=31))
    assert setup.monitor.refresh().status is Status.OK


@pytest.mark.parametrize(("scenario", "words"), [("unauthorized", "HTTP 401"), ("forbidden", "HTTP 403")])
def test_refused_key_says_so_without_the_key(setup: Setup, scenario: str, words: str) -> None:
    setup.server.set_admin_scenario(scenario)
    report = setup.monitor.refresh()
    assert report.status is Status.LOGIN_NEEDED
    assert words in (report.message or "") and "Admin API key" in (report.message or "")
    assert KEY not in (report.message or "") and "sk-ant" not in (report.message or "")


def test_a_refused_key_is_not_resent_for_an_hour_but_a_new_key_is_tried_at_once(setup: Setup) -> None:
    setup.server.set_admin_scenario("unauthorized")
    assert setup.monitor.refresh().status is Status.LOGIN_NEEDED
    sent = setup.api.requests_made
    for _ in range(29):  # an hour of refreshes every two minutes, in this process or another
        setup.clock.advance(timedelta(minutes=2))
        again = setup.monitor.refresh()
        assert again.status is Status.LOGIN_NEEDED and "next try at" in (again.message or "")
    assert setup.api.requests_made == sent
    # The user pastes a new key: it is asked with at once.
    other = ConsoleApi(setup.http, setup.server.base_url, KEY + "-new", "test")
    ConsoleMonitor(setup.store, other, ConsoleSettings(), clock=setup.clock.now).refresh()
    assert other.requests_made > 0
    # The server forgave the old key: after the hour it is tried again, and works.
    setup.server.set_admin_scenario("normal")
    setup.clock.advance(timedelta(minutes=2))
    assert setup.monitor.refresh().status is Status.OK


def test_server_trouble_is_an_error_with_the_last_figures(setup: Setup) -> None:
    setup.monitor.refresh()
    setup.server.set_admin_scenario("server_error")
    setup.clock.advance(timedelta(minutes=2))
    report = setup.monitor.refresh()
    assert report.status is Status.ERROR and report.figures is not None


def test_stored_report_reads_no_network(setup: Setup) -> None:
    setup.monitor.refresh()
    before = setup.api.requests_made
    stored = setup.monitor.stored_report()
    assert stored.figures is not None and setup.api.requests_made == before


def test_snapshots_are_kept_per_refresh(setup: Setup) -> None:
    setup.monitor.refresh()
    setup.clock.advance(timedelta(minutes=2))
    setup.monitor.refresh()
    snapshots = setup.store.console_snapshots(setup.clock.now() - timedelta(hours=1))
    assert len(snapshots) == 2 and snapshots[0][1] <= snapshots[1][1]
