"""Console refreshes with the Analytics API: who spent, exact to the cent, the cost report as fallback,
three requests a refresh, paging, and the two sources compared."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tray_app.config import ConsoleSettings
from tray_app.core.console import SOURCE_ANALYTICS, SOURCE_COST_REPORT, MonthFigures, Spenders
from tray_app.core.models import Status
from tray_app.demo import COST_REPORT_PATH, DemoServer
from tray_app.demo.analytics import ANALYTICS_COST_PATH, ANALYTICS_REFUSALS
from tray_app.demo.analytics_data import AnalyticsRecord, analytics_records
from tray_app.demo.common import DemoResponse, envelope
from tray_app.monitors.console import ConsoleMonitor
from tray_app.sources.console_analytics import API_KEYS_PATH, AnalyticsApi
from tray_app.sources.console_api import ConsoleApi
from tray_app.sources.http import HttpClient
from tray_app.store import Store

from ..fakes import FakeClock

KEY = DemoServer.DEMO_ADMIN_KEY
# Thursday 26 November 2026, 14:30 UTC: the deleted key and user spent only on the first seven days.
NOW = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
DELETED_KEY = "apikey_01DemoOldIngest9Rw4Zd"
DELETED_USER = "user_01DemoRobin1Xe4Kc7Pw2Dq"


class Rig:
    """A demo Admin API on a fake clock, one database file, and monitors on both (as processes would)."""

    def __init__(self, server: DemoServer, db: Path, clock: FakeClock, settings: ConsoleSettings) -> None:
        self.server, self.db, self.clock, self.settings = server, db, clock, settings
        self.http = HttpClient(10)
        self.stores: list[Store] = []
        self.monitor = self.new_monitor()

    def new_monitor(self) -> ConsoleMonitor:
        """A monitor of its own (its own store connection and clients): another process, say."""
        store = Store.open(self.db)
        self.stores.append(store)
        console = ConsoleApi(self.http, self.server.base_url, KEY, "test")
        analytics = AnalyticsApi(self.http, self.server.base_url, KEY, "test")
        return ConsoleMonitor(store, console, self.settings, clock=self.clock.now, analytics=analytics)

    def figures(self, monitor: ConsoleMonitor | None = None) -> MonthFigures:
        report = (monitor or self.monitor).refresh()
        assert report.status is Status.OK, report.message
        assert report.figures is not None
        return report.figures

    def close(self) -> None:
        for store in self.stores:
            store.close()
        self.http.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def rig(tmp_path: Path, clock: FakeClock) -> Iterator[Rig]:
    settings = ConsoleSettings(user_email="jane@example.com", api_key_budgets={"prod-backend": Decimal(500)})
    with DemoServer("full", clock=clock.epoch) as server:
        made = Rig(server, tmp_path / "c.db", clock, settings)
        yield made
        made.close()


def raw_records(now: datetime) -> list[AnalyticsRecord]:
    """The demo's raw records of the month to now: what the expected sums are computed from."""
    first = now.date().replace(day=1)
    return [
        record
        for n in range((now.date() - first).days + 1)
        for record in analytics_records(first + timedelta(days=n), now)
    ]


def raw_dollars(now: datetime, key: Callable[[AnalyticsRecord], Any]) -> dict[Any, Decimal]:
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for record in raw_records(now):
        sums[key(record)] += Decimal(record.amount) / 100
    return dict(sums)


def spenders_of(figures: MonthFigures) -> Spenders:
    assert figures.source == SOURCE_ANALYTICS
    assert figures.spenders is not None
    return figures.spenders


def test_totals_by_key_actor_and_model_equal_the_raw_records_and_the_month(rig: Rig) -> None:
    figures = rig.figures()
    who = spenders_of(figures)
    month = sum(raw_dollars(NOW, lambda r: None).values(), Decimal(0))
    assert figures.mtd_cost == month > 0
    assert {k.id: k.cost for k in who.by_api_key} == raw_dollars(NOW, lambda r: r.api_key_id)
    assert {a.id: a.cost for a in who.by_actor} == raw_dollars(NOW, lambda r: r.actor_id)
    by_model = {m.model: m.cost for m in figures.by_model}
    assert by_model == {
        (model or "other (web search, code execution)"): cost
        for model, cost in raw_dollars(NOW, lambda r: r.model).items()
    }
    # Each breakdown is the month to the cent, exactly (Decimal, no rounding).
    for costs in ([k.cost for k in who.by_api_key], [a.cost for a in who.by_actor], list(by_model.values())):
        assert sum(costs, Decimal(0)) == figures.mtd_cost


def test_names_not_ids_and_the_deleted_say_so(rig: Rig) -> None:
    who = spenders_of(rig.figures())
    keys = {k.id: k for k in who.by_api_key}
    assert keys["apikey_01DemoProdBackend6Lm2"].name == "prod-backend"
    assert not keys["apikey_01DemoProdBackend6Lm2"].deleted
    gone = keys[DELETED_KEY]
    assert gone.deleted and gone.name == "old-ingest (deleted)" and gone.cost > 0
    actors = {a.id: a for a in who.by_actor}
    assert actors["user_01DemoJane5Wq8Hx2Lk4Pz7"].name == "Jane Doe"
    assert actors["user_01DemoJane5Wq8Hx2Lk4Pz7"].email == "jane@example.com"
    assert actors[DELETED_USER].deleted and "(deleted)" in actors[DELETED_USER].name
    assert {a.type for a in who.by_actor} >= {"user", "service_account", "api_key"}
    # Jane's own API spend: her user rows, summed.
    assert who.my_api_cost == raw_dollars(NOW, lambda r: r.actor_id)["user_01DemoJane5Wq8Hx2Lk4Pz7"]


def test_a_key_budget_carries_its_projection(rig: Rig) -> None:
    keys = {k.name: k for k in spenders_of(rig.figures()).by_api_key}
    backend = keys["prod-backend"]
    assert backend.budget == Decimal(500)
    assert backend.projected_month_end_cost is not None and backend.projected_month_end_cost > backend.cost
    assert keys["staging-ci"].budget is None and keys["staging-ci"].projected_month_end_cost is None


@pytest.mark.parametrize("refusal", sorted(ANALYTICS_REFUSALS))
def test_each_refusal_falls_back_to_the_cost_report_for_a_day_in_every_process(
    rig: Rig, refusal: str
) -> None:
    rig.server.analytics.refusal = refusal
    report = rig.monitor.refresh()
    assert report.status is Status.OK and report.figures is not None
    assert report.figures.source == SOURCE_COST_REPORT and report.figures.spenders is None
    # The same money as the Analytics API would have given.
    assert report.figures.mtd_cost == sum(raw_dollars(NOW, lambda r: None).values(), Decimal(0))
    status, error_type, message = ANALYTICS_REFUSALS[refusal]
    assert report.source_note is not None
    assert f"HTTP {status}" in report.source_note and error_type in report.source_note
    assert message.rstrip(".") + ";" in report.source_note and KEY not in report.source_note
    assert report.source_note.endswith(
        f"the cost report is used until {NOW + timedelta(days=1):%a %H:%M} UTC"
    )
    assert "cost report" in rig.monitor.source_state()
    asked = len(rig.server.requests(ANALYTICS_COST_PATH))
    # Remembered: neither this monitor nor another process on the same database asks again today.
    rig.server.analytics.refusal = None
    other = rig.new_monitor()
    for monitor in (rig.monitor, other):
        rig.clock.advance(timedelta(minutes=2))
        assert rig.figures(monitor).source == SOURCE_COST_REPORT
    assert len(rig.server.requests(ANALYTICS_COST_PATH)) == asked
    # A day later it is asked again, and answers.
    rig.clock.advance(timedelta(days=1))
    assert rig.figures().source == SOURCE_ANALYTICS
    assert len(rig.server.requests(ANALYTICS_COST_PATH)) == asked + 1
    assert "Analytics API" in rig.monitor.source_state()


def test_the_fallback_is_not_remembered_for_another_key(rig: Rig, tmp_path: Path) -> None:
    rig.server.analytics.refusal = "forbidden"
    rig.monitor.refresh()
    rig.server.analytics.refusal = None
    store = Store.open(rig.db)
    rig.stores.append(store)
    other_key = AnalyticsApi(rig.http, rig.server.base_url, KEY + "-rotated", "test")
    console = ConsoleApi(rig.http, rig.server.base_url, KEY, "test")
    monitor = ConsoleMonitor(store, console, rig.settings, clock=rig.clock.now, analytics=other_key)
    before = len(rig.server.requests(ANALYTICS_COST_PATH))
    monitor.refresh()
    assert len(rig.server.requests(ANALYTICS_COST_PATH)) == before + 1


def test_after_the_months_first_refresh_each_costs_at_most_three_requests(rig: Rig) -> None:
    rig.figures()
    # Two hours of refreshes two minutes apart from 23:00, across midnight, with every hourly part
    # (organization, workspaces, key names, two days of the Claude Code report) and the daily
    # cross-check coming due: never more than three requests.
    rig.clock.advance(timedelta(hours=8, minutes=30))
    counts = []
    for _ in range(60):
        rig.clock.advance(timedelta(minutes=2))
        before = rig.monitor.requests_made
        figures = rig.figures()
        counts.append(rig.monitor.requests_made - before)
    assert max(counts) <= 3, counts
    assert figures.source == SOURCE_ANALYTICS
    # Only the days that can still change are asked again: yesterday and today.
    last = rig.server.requests(ANALYTICS_COST_PATH)[-1].query
    assert "starting_at=2026-11-26T00%3A00%3A00Z" in last and "ending_at=2026-11-27T01%3A00%3A00Z" in last
    assert len(rig.server.requests(API_KEYS_PATH)) >= 2  # key names hourly, not every refresh
    assert figures.mtd_cost == sum(raw_dollars(rig.clock.now(), lambda r: None).values(), Decimal(0))


def test_several_pages_give_the_same_month(rig: Rig) -> None:
    rig.server.analytics.page_cap = 40  # the month is about 500 rows
    figures = rig.figures()
    assert len(rig.server.requests(ANALYTICS_COST_PATH)) > 10  # the month came in many pages
    assert figures.mtd_cost == sum(raw_dollars(NOW, lambda r: None).values(), Decimal(0))
    assert {k.id: k.cost for k in spenders_of(figures).by_api_key} == raw_dollars(NOW, lambda r: r.api_key_id)


def test_a_repeated_page_token_stops_with_an_error_and_keeps_the_last_figures(rig: Rig) -> None:
    good = rig.figures()
    rig.server.analytics.repeat_page_token = True
    rig.server.analytics.page_cap = 3
    rig.clock.advance(timedelta(minutes=2))
    before = len(rig.server.requests(ANALYTICS_COST_PATH))
    report = rig.monitor.refresh()
    assert len(rig.server.requests(ANALYTICS_COST_PATH)) - before <= 3  # no loop
    assert report.status is not Status.OK
    assert report.message is not None and "page" in report.message
    assert report.figures is not None and report.figures.mtd_cost == good.mtd_cost


def test_a_difference_between_the_sources_is_logged_with_both_figures(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.figures()
    # A settled day's cached analytics rows off by a cent and a half: the next cross-check must say so.
    store = rig.stores[0]
    day = date(2026, 11, 10)
    ((fetched, raw),) = [v for d, v in store.console_days("analytics", day).items() if d == day]
    rows = json.loads(raw)
    rows[0]["amount"] = str(Decimal(rows[0]["amount"]) + Decimal("1.5"))
    store.save_console_days("analytics", {day: json.dumps(rows)}, fetched + timedelta(seconds=1))
    with caplog.at_level(logging.WARNING, logger="tray_app.monitors.console"):
        for _ in range(3):
            rig.clock.advance(timedelta(minutes=2))
            rig.figures()
    told = [r.getMessage() for r in caplog.records if "2026-11-10" in r.getMessage()]
    assert len(told) == 1, told
    expected = sum((Decimal(r.amount) for r in analytics_records(day, NOW)), Decimal(0))
    tampered = expected + Decimal("1.5")
    assert f"the Analytics API says ${tampered / 100:,.2f} ({tampered.normalize():f} cents)" in told[0]
    assert f"the cost report ${expected / 100:,.2f} ({expected.normalize():f} cents)" in told[0]
    assert len(rig.server.requests(COST_REPORT_PATH)) >= 1


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (envelope(500, "api_error", "Internal server error"), Status.ERROR, "HTTP 500"),
        (DemoResponse(200, b'{"data": [,'), Status.ERROR, "malformed JSON"),
        (
            DemoResponse(403, b"<html>Just a moment...</html>", (("content-type", "text/html"),)),
            Status.ERROR,
            "403",
        ),
        (
            envelope(401, "authentication_error", "invalid x-api-key"),
            Status.LOGIN_NEEDED,
            "refused (HTTP 401)",
        ),
        (
            envelope(429, "rate_limit_error", "Rate limited.", headers=(("retry-after", "300"),)),
            Status.RATE_LIMITED,
            "next try at",
        ),
    ],
    ids=["500", "malformed JSON", "403 HTML page", "401", "429"],
)
def test_other_analytics_failures_are_failures_not_a_fallback(
    rig: Rig, answer: DemoResponse, status: Status, words: str
) -> None:
    good = rig.figures()
    rig.clock.advance(timedelta(minutes=2))
    rig.server.queue(ANALYTICS_COST_PATH, answer)
    report = rig.monitor.refresh()
    assert report.status is status and report.message is not None and words in report.message, report.message
    assert report.figures is not None and report.figures.mtd_cost == good.mtd_cost  # the last good ones
    assert report.figures.source == SOURCE_ANALYTICS and report.source_note is None
    assert "Analytics API (beta)" in rig.monitor.source_state()  # nothing remembered as a refusal
