"""Free limit resets (issue 15, item 4) on a fake clock against the demo server: what they cost in
requests, that their 429 leaves the usage polls alone, that the redeem endpoint is never touched, and
what the menu and `status --json` show for a usable grant, an ineligible login and no answer."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tray_app.core.errors import UsageError
from tray_app.core.models import Status
from tray_app.core.report import status_document
from tray_app.core.view import ViewOptions, present
from tray_app.core.viewmodel import ViewModel, all_rows
from tray_app.demo import DemoServer
from tray_app.demo.grants import GRANT_ID, is_redeem_path
from tray_app.monitors.code import CodeMonitor
from tray_app.poller import Poller, PollTiming, Sources
from tray_app.sources.code_api import CodeApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import BackoffScope, Store

from ..fakes import FakeClock
from .test_polite_polling import Rig as PollingRig

USAGE = "/api/oauth/usage"
HOUR = 3600.0
LOCAL = timezone(timedelta(hours=-5))  # not UTC: the expiry date must be the user's own
START = datetime(2026, 12, 3, 9, 0, 0, 250_000, tzinfo=UTC)


class Rig(PollingRig):
    """The polite-polling rig, with what the free resets add: their requests, the menu's every row."""

    def usage_polls(self) -> list[float]:
        return [r.at for r in self.server.requests(USAGE) if "cedar_ember" not in r.query]

    def grant_requests(self) -> list[float]:
        return [r.at for r in self.server.requests(USAGE) if "cedar_ember=1" in r.query]

    def menu(self) -> list[str]:
        """Every row, the submenus' included: the free reset waits in "More limits"."""
        return [row.text for row in all_rows(self.published[-1].menu)]

    def redeemed(self) -> list[str]:
        return [r.path for r in self.server.requests() if is_redeem_path(r.path)]


Build = Callable[..., Rig]


@pytest.fixture
def build(tmp_path: Path, claude_dir: Path) -> Iterator[Build]:
    """The real poller and CodeMonitor, asking for grants as the wiring does, on one fake clock."""
    http = HttpClient(5)
    with contextlib.ExitStack() as stack:
        clock = FakeClock(START, LOCAL)
        server = stack.enter_context(DemoServer("rising", clock=clock.epoch))

        def make(grants: str = "present", database: str = "h.db") -> Rig:
            server.grants_scenario = grants
            store = stack.enter_context(Store.open(tmp_path / database))
            api = CodeApi(http, server.base_url, "2.1.278")
            monitor = CodeMonitor(
                store,
                ClaudeCredentialStore(claude_dir),
                api,
                None,
                clock.now,
                shared_freshness=timedelta(0),
                local_tz=clock.local_tz,
                ask_reset_grants=True,
            )
            published: list[ViewModel] = []
            poller = Poller(
                Sources(monitor),
                lambda reports: present(reports, clock.now(), clock.local_tz(), ViewOptions()),
                lambda result: published.append(result.view),
                PollTiming(),
                clock=clock,
            )
            return Rig(server, store, monitor, poller, clock, published)

        yield make
    http.close()


def test_grants_cost_one_request_an_hour_beside_the_usage_polls(build: Build) -> None:
    rig = build()
    rig.run_until(3 * HOUR)
    polls, asked = rig.usage_polls(), rig.grant_requests()
    assert len(polls) >= 3 * HOUR / 900  # the usage polls go on at their own pace
    assert len(asked) == 3  # at 0 h, 1 h and 2 h: no more
    assert all(b - a >= HOUR for a, b in zip(asked, asked[1:], strict=False))
    grant_agents = {r.headers["user-agent"] for r in rig.server.requests(USAGE) if r.query}
    poll_agents = {r.headers["user-agent"] for r in rig.server.requests(USAGE) if not r.query}
    assert grant_agents == {"claude-cli/2.1.278 (external, cli)"}  # the only agent the grants are shown to
    assert poll_agents == {"claude-code/2.1.278"}  # the usage poll keeps the agent that avoids the 429s
    assert rig.redeemed() == []


def test_a_429_on_the_grants_request_does_not_pause_the_usage_polls(build: Build) -> None:
    rig = build("rate_limited")
    rig.run_until(2 * HOUR + 60)
    polls, asked = rig.usage_polls(), rig.grant_requests()
    assert rig.monitor.backoff_until() is None
    assert rig.store.backoffs.get(BackoffScope.CODE) is None
    assert rig.store.backoffs.get(BackoffScope.CODE_GRANTS) is not None  # its own pause
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    assert gaps and max(gaps) <= 900 + 2  # never slower than the idle pace: no pause came from the 429
    assert any(text.startswith("Updated") for text in rig.menu())  # fresh figures, no pause
    assert len(asked) <= 3 and all(b - a >= HOUR for a, b in zip(asked, asked[1:], strict=False))
    assert not any(text.startswith("Free limit reset") for text in rig.menu())
    assert rig.redeemed() == []


def test_a_usable_grant_shows_in_the_menu_and_in_status_json_without_its_id(
    build: Build, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rig = build()
    rig.run_until(60)
    expires = rig.clock.now() + timedelta(days=30)
    local = expires.astimezone(LOCAL)
    assert f"Free limit reset available (1 of 1, expires {local.day} {local:%b})" in rig.menu()

    report = rig.monitor.stored_report(timedelta(hours=1))
    document = status_document(report, rig.clock.now())
    grants = document["code"]["reset_grants"]
    assert (grants["eligible"], grants["available"], grants["total"]) == (True, 1, 1)
    assert grants["grants"][0]["label"].startswith("Claude Opus 5.5 launch")
    assert grants["grants"][0]["usable_now"] is True
    assert grants["grants"][0]["clears"] == ["five_hour", "seven_day", "seven_day_fable"]
    assert "id" not in grants["grants"][0]

    # The redemption handle is nowhere: not in the output, the log or the database file.
    assert GRANT_ID not in json.dumps(document)
    assert GRANT_ID not in caplog.text
    rig.store.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("h.db*"))
    assert b"Claude Opus 5.5 launch" in stored  # the answer is kept ...
    assert GRANT_ID.encode() not in stored  # ... without the id
    assert rig.redeemed() == []


@pytest.mark.parametrize("scenario", ["ineligible", "absent"])
def test_an_ineligible_or_missing_answer_shows_nothing_and_is_no_error(build: Build, scenario: str) -> None:
    rig = build(scenario)
    rig.run_until(60)
    assert len(rig.grant_requests()) == 1
    report = rig.monitor.stored_report(timedelta(hours=1))
    assert report.status is Status.OK
    assert status_document(report, rig.clock.now())["code"]["reset_grants"] is None
    assert not any("reset available" in text for text in rig.menu())
    assert any(text.startswith("Updated") for text in rig.menu())  # fresh figures, no pause
    assert rig.redeemed() == []


def test_another_process_shares_the_answer_and_the_hourly_rule(build: Build, tmp_path: Path) -> None:
    first = build()
    first.run_until(60)
    # A second process on the same database (a `status`, a second tray) half an hour later.
    first.clock.advance(1800)
    second = build(database="h.db")
    second.run_until(60)
    assert len(second.grant_requests()) == 1  # still the first process's one request
    assert any(text.startswith("Free limit reset available") for text in second.menu())


def test_the_demo_records_a_redeem_if_one_were_ever_sent(build: Build) -> None:
    # The guard the other tests rely on can fail: a POST to the redeem endpoint is recorded.
    rig = build()
    http = HttpClient(5)
    try:
        with pytest.raises(UsageError):
            http.request_json(
                "POST",
                f"{rig.server.base_url}/api/organizations/org-demo/reset_rate_limits",
                {"Authorization": f"Bearer {DemoServer.DEMO_ACCESS_TOKEN}"},
                json_body={"program": "cedar_ember", "grant_id": GRANT_ID, "request_id": "x"},
            )
    finally:
        http.close()
    assert rig.redeemed() == ["/api/organizations/org-demo/reset_rate_limits"]
