"""Free limit resets (`cedar_ember`): the parser, the stored form, the menu row, the JSON, and the
notification when a limit is hit while a reset is usable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tray_app.core.grants import (
    decode_reset_grants,
    encode_reset_grants,
    parse_cedar_ember,
    reset_grant_row,
    reset_grants_json,
)
from tray_app.core.models import CodeReport, Forecast, ResetGrants, Status, UsageWindow, WindowReport
from tray_app.core.rules import AlertRules, RulesState, step

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
LOCAL = timezone(timedelta(hours=2))
GRANT_ID = "opus55-launch-promax-20260921"


def grant(**changes: Any) -> dict[str, Any]:
    """The grant of api-2026.md 3.2's example, with changes (a None value drops the field)."""
    base: dict[str, Any] = {
        "id": GRANT_ID,
        "label": "Claude Opus 5.5 launch: one usage-limit reset for Pro and Max",
        "resets_total": 1,
        "resets_left": 1,
        "starts_at": "2026-09-22T16:00:00+00:00",
        "ends_at": "2026-10-22T16:00:00+00:00",
        "clears": ["five_hour", "seven_day", "seven_day_overage_included"],
        "paused": False,
        "usable_now": True,
        "use_requires_limit": True,
        "percent_used": {"five_hour": 12, "seven_day": 100},
        "blocking": [],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def answer(*grants: dict[str, Any], eligible: Any = True, reason: Any = None) -> dict[str, Any]:
    block = {"eligible": eligible, "ineligible_reason": reason, "grants": list(grants)}
    return {"five_hour": None, "cedar_ember": block, "next_grant_id": GRANT_ID}


def test_the_documented_example_parses_without_the_id() -> None:
    parsed = parse_cedar_ember(answer(grant()), NOW)
    assert parsed is not None and parsed.eligible and parsed.checked_at == NOW
    (only,) = parsed.grants
    assert (only.label, only.resets_left, only.resets_total) == (
        "Claude Opus 5.5 launch: one usage-limit reset for Pro and Max",
        1,
        1,
    )
    assert only.starts_at == datetime(2026, 9, 22, 16, tzinfo=UTC)
    assert only.ends_at == datetime(2026, 10, 22, 16, tzinfo=UTC)
    # Named by our window ids: Fable's week is the window the user sees as seven_day_fable.
    assert only.clears == ("five_hour", "seven_day", "seven_day_fable")
    assert (only.usable_now, only.paused, only.use_requires_limit) == (True, False, True)
    assert GRANT_ID not in repr(parsed)
    assert GRANT_ID not in encode_reset_grants(parsed)


def test_omitted_flags_default_as_the_cli_assumes() -> None:
    parsed = parse_cedar_ember(answer(grant(paused=None, usable_now=None, use_requires_limit=None)), NOW)
    assert parsed is not None
    (only,) = parsed.grants
    assert (only.paused, only.usable_now, only.use_requires_limit) == (False, False, True)


@pytest.mark.parametrize(
    "body",
    [
        {},  # asked without the parameter, or an old server
        {"cedar_ember": None},
        {"cedar_ember": []},
        {"cedar_ember": "yes"},
        [],
        None,
    ],
)
def test_a_missing_or_unreadable_block_is_no_answer(body: Any) -> None:
    assert parse_cedar_ember(body, NOW) is None


def test_ineligible_is_an_answer_with_no_grants() -> None:
    parsed = parse_cedar_ember(answer(grant(), eligible=False, reason="surface"), NOW)
    assert parsed is not None
    assert (parsed.eligible, parsed.ineligible_reason, parsed.grants) == (False, "surface", ())
    assert reset_grant_row(parsed, NOW, LOCAL) is None
    assert reset_grants_json(parsed, NOW) is None


@pytest.mark.parametrize(
    ("bad", "kept"),
    [
        (grant(resets_left="1"), 0),  # a count as a string says nothing countable
        (grant(resets_left=None), 0),
        (grant(resets_left=True), 0),
        ("a grant", 0),
        (grant(paused="false", usable_now="true"), 1),  # strings are not booleans: the defaults
        (grant(starts_at=12, ends_at="not a time", clears="five_hour", label=7), 1),
        (grant(resets_total=None), 1),
    ],
)
def test_malformed_grants_never_crash(bad: Any, kept: int) -> None:
    parsed = parse_cedar_ember(answer(bad, grant(label="second")), NOW)
    assert parsed is not None
    assert len(parsed.grants) == kept + 1
    if kept:
        first = parsed.grants[0]
        assert first.paused is False and first.resets_total >= first.resets_left
        assert first.label  # a grant always has words to show
        if bad.get("usable_now") == "true":
            assert first.usable_now is False  # "true" is not true: the CLI's default


def test_eligible_with_grants_not_a_list() -> None:
    parsed = parse_cedar_ember({"cedar_ember": {"eligible": True, "grants": {"id": GRANT_ID}}}, NOW)
    assert parsed is not None and parsed.eligible and parsed.grants == ()
    assert reset_grant_row(parsed, NOW, LOCAL) is None


def test_the_menu_row_counts_live_grants_and_names_the_expiry_in_local_time() -> None:
    parsed = parse_cedar_ember(answer(grant()), NOW)
    assert reset_grant_row(parsed, NOW, LOCAL) == "Free limit reset available (1 of 1, expires 22 Oct)"
    # Late on the 22nd in UTC is the 23rd further east: the user's own date.
    late = parse_cedar_ember(answer(grant(ends_at="2026-10-22T23:00:00Z")), NOW)
    assert reset_grant_row(late, NOW, LOCAL) == "Free limit reset available (1 of 1, expires 23 Oct)"


@pytest.mark.parametrize(
    "changes",
    [
        {"resets_left": 0},
        {"paused": True},
        {"starts_at": "2026-10-05T00:00:00Z"},  # not started
        {"ends_at": "2026-09-30T00:00:00Z"},  # over
    ],
)
def test_nothing_shows_for_a_used_paused_future_or_expired_grant(changes: dict[str, Any]) -> None:
    parsed = parse_cedar_ember(answer(grant(**changes)), NOW)
    assert reset_grant_row(parsed, NOW, LOCAL) is None
    document = reset_grants_json(parsed, NOW)
    assert document is not None and document["available"] == 0


def test_status_json_shape() -> None:
    parsed = parse_cedar_ember(answer(grant(), grant(label="Other", resets_total=2, resets_left=1)), NOW)
    document = reset_grants_json(parsed, NOW)
    assert document is not None
    assert (document["eligible"], document["available"], document["total"]) == (True, 2, 3)
    assert document["grants"][0] == {
        "label": "Claude Opus 5.5 launch: one usage-limit reset for Pro and Max",
        "resets_left": 1,
        "resets_total": 1,
        "starts_at": "2026-09-22T16:00:00Z",
        "ends_at": "2026-10-22T16:00:00Z",
        "usable_now": True,
        "clears": ["five_hour", "seven_day", "seven_day_fable"],
    }
    assert GRANT_ID not in json.dumps(document)
    assert reset_grants_json(None, NOW) is None


def test_the_stored_form_round_trips_and_bad_text_reads_as_none() -> None:
    parsed = parse_cedar_ember(answer(grant(), grant(paused=True, label="Paused")), NOW)
    assert parsed is not None
    assert decode_reset_grants(encode_reset_grants(parsed)) == parsed
    ineligible = ResetGrants(False, (), NOW, "surface")
    assert decode_reset_grants(encode_reset_grants(ineligible)) == ineligible
    for text in ("", "{", "[]", '{"grants": []}', '{"grants": [], "checked_at": "x"}'):
        assert decode_reset_grants(text) is None


# -- the notification --------------------------------------------------------------------------------


def report(utilization: float, grants: ResetGrants | None, window_id: str = "seven_day") -> CodeReport:
    window = UsageWindow(window_id, "Weekly", utilization, NOW + timedelta(days=2))
    item = WindowReport(window, Forecast(None, None, None))
    return CodeReport(Status.OK, None, None, NOW, (item,), None, reset_grants=grants)


def grant_alerts(state: RulesState, rep: CodeReport, at: datetime = NOW) -> tuple[RulesState, list[str]]:
    """The bodies of the notifications that offer a free reset."""
    state, alerts = step(state, rep, at, LOCAL, AlertRules())
    return state, [a.body for a in alerts if "Reset for free" in a.body]


OFFER = (
    "Claude Code offers a free usage-limit reset (1 of 1 left, expires 22 Oct): "
    'choose "Reset for free" in its limit message.'
)


def test_a_hit_limit_with_a_usable_reset_is_told_once_in_the_limits_own_notification() -> None:
    grants = parse_cedar_ember(answer(grant()), NOW)
    state, alerts = step(RulesState(), report(100.0, grants), NOW, LOCAL, AlertRules())
    # One event, one notification: the limit reached, with how to use the free reset added.
    assert len(alerts) == 1 and alerts[0].title == "Claude weekly limit reached", alerts
    assert alerts[0].body.endswith(f" {OFFER}")
    _, again = grant_alerts(state, report(100.0, grants), NOW + timedelta(minutes=5))
    assert again == []  # the same period: once


def test_a_reset_that_becomes_usable_after_the_limit_was_told_is_told_alone() -> None:
    grants = parse_cedar_ember(answer(grant()), NOW)
    state, _ = step(RulesState(), report(100.0, None), NOW, LOCAL, AlertRules())
    state, told = grant_alerts(state, report(100.0, grants), NOW + timedelta(minutes=5))
    assert told == [f"The weekly limit is reached. {OFFER}"]


def test_no_reset_notification_below_the_limit_without_grants_or_for_a_limit_it_does_not_clear() -> None:
    grants = parse_cedar_ember(answer(grant()), NOW)
    assert grant_alerts(RulesState(), report(99.0, grants))[1] == []
    assert grant_alerts(RulesState(), report(100.0, None))[1] == []
    ineligible = parse_cedar_ember(answer(eligible=False, reason="surface"), NOW)
    assert grant_alerts(RulesState(), report(100.0, ineligible))[1] == []
    design = report(100.0, grants, window_id="seven_day_omelette")  # Claude Design's week: not cleared
    assert grant_alerts(RulesState(), design)[1] == []


def test_a_reset_that_clears_the_fable_week_is_offered_when_fable_blocks() -> None:
    grants = parse_cedar_ember(answer(grant()), NOW)
    fable = report(100.0, grants, window_id="seven_day_fable")
    _, alerts = step(RulesState(), fable, NOW, LOCAL, AlertRules())
    assert len(alerts) == 1 and alerts[0].body.endswith(f" {OFFER}"), alerts
