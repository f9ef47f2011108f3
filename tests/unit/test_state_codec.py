"""The shared small values' codec: the exact stored texts, round trips, and what bad text reads as."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tray_app.core import state_codec as codec
from tray_app.core.console import Organization, Workspace
from tray_app.core.errors import ShapeError
from tray_app.core.rules import RulesState
from tray_app.core.state import CachedOrganization, CachedWorkspaces, ClaudeVersion, Refusal, WebLast
from tray_app.core.web import Overage, Prepaid

NOW = datetime(2026, 8, 4, 12, 0, tzinfo=UTC)  # 1785844800


@pytest.mark.parametrize(
    ("on", "text"),
    [(True, "on"), (False, "off")],
)
def test_switch(on: bool, text: str) -> None:
    assert codec.encode_switch(on) == text
    assert codec.decode_switch(text) is on


@pytest.mark.parametrize("text", ["", "ON", "true", "1", " on"])
def test_switch_other_text_is_no_choice(text: str) -> None:
    assert codec.decode_switch(text) is None


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (NOW, "1785844800"),
        (NOW.astimezone(timezone(timedelta(hours=2))), "1785844800"),  # the zone does not matter
        (NOW + timedelta(microseconds=999_999), "1785844800"),  # whole seconds, rounded down
        (None, ""),
    ],
)
def test_epoch_text(moment: datetime | None, text: str) -> None:
    assert codec.encode_epoch(moment) == text


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("1785844800", NOW),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("", None),
        ("-5", None),
        ("1785844800.5", None),
        ("soon", None),
        ("１２３", None),  # digits to str.isdigit, but not ours
        ("9" * 30, None),  # beyond any date
    ],
)
def test_epoch_decoding(text: str, moment: datetime | None) -> None:
    decoded = codec.decode_epoch(text)
    assert decoded == moment
    assert decoded is None or decoded.tzinfo is UTC


@pytest.mark.parametrize(
    ("refusal", "timed", "text"),
    [
        (Refusal("0123456789abcdef", "expired"), False, "0123456789abcdef:expired"),
        (Refusal("fedcba9876543210"), False, "fedcba9876543210"),
        (Refusal("aaaa", "HTTP 401: bad key", NOW), True, "aaaa:1785844800:HTTP 401: bad key"),
        (Refusal("aaaa", "", NOW), True, "aaaa:1785844800:"),
    ],
)
def test_refusal_round_trip(refusal: Refusal, timed: bool, text: str) -> None:
    assert codec.encode_refusal(refusal) == text
    assert codec.decode_refusal(text, timed=timed) == refusal


@pytest.mark.parametrize("text", ["aaaa", "aaaa:", "aaaa:later:HTTP 401", ":1785844800x:"])
def test_timed_refusal_without_a_time_is_none(text: str) -> None:
    assert codec.decode_refusal(text, timed=True) is None


def test_rules_state_round_trip() -> None:
    state = RulesState(frozenset({"a", "b"}), 1, NOW, {"five_hour": (1785860400, 55.5)}, {"seven_day": NOW})
    assert codec.decode_rules_state(codec.encode_rules_state(state)) == state


@pytest.mark.parametrize("text", ["", "{not json", "[]", "null", '{"fired": "all"}'])
def test_unreadable_rules_state_raises_shape_error(text: str) -> None:
    with pytest.raises(ShapeError):
        codec.decode_rules_state(text)


WEB_LAST = WebLast("Acme", "Chrome", Overage(False, 0.0, None, "EUR"), Prepaid(3.0, "EUR"), NOW)


@pytest.mark.parametrize(
    ("value", "encode", "decode"),
    [
        (WEB_LAST, codec.encode_web_last, codec.decode_web_last),
        (WebLast(None, None, None, None, NOW), codec.encode_web_last, codec.decode_web_last),
        (
            CachedOrganization(Organization("org-1", "Acme"), NOW),
            codec.encode_organization,
            codec.decode_organization,
        ),
        (
            CachedOrganization(Organization("org-1", "Acme"), None),
            codec.encode_organization,
            codec.decode_organization,
        ),
        (
            CachedWorkspaces((Workspace("w1", "One", False), Workspace("w2", "Two", False)), NOW),
            codec.encode_workspaces,
            codec.decode_workspaces,
        ),
        (CachedWorkspaces((), None), codec.encode_workspaces, codec.decode_workspaces),
        (ClaudeVersion("2.1.3", NOW), codec.encode_claude_version, codec.decode_claude_version),
    ],
)
def test_round_trips(value: object, encode: Callable[[object], str], decode: Callable[[str], object]) -> None:
    assert decode(encode(value)) == value


def test_archived_workspaces_come_back_as_in_use() -> None:
    text = codec.encode_workspaces(CachedWorkspaces((Workspace("w1", "Old", True),), NOW))
    assert text == '{"items": [{"id": "w1", "name": "Old"}], "fetched_at": 1785844800}'
    decoded = codec.decode_workspaces(text)
    assert decoded is not None and decoded.workspaces == (Workspace("w1", "Old", False),)


@pytest.mark.parametrize(
    ("text", "fetched_at"),
    [
        ('{"id": "o", "name": "Acme"}', None),
        ('{"id": "o", "name": "Acme", "fetched_at": "1785844800"}', None),
        ('{"id": "o", "name": "Acme", "fetched_at": true}', None),
        ('{"id": "o", "name": "Acme", "fetched_at": 1785844800}', NOW),
    ],
)
def test_a_cache_without_a_usable_time_is_due(text: str, fetched_at: datetime | None) -> None:
    decoded = codec.decode_organization(text)
    assert decoded is not None and decoded.fetched_at == fetched_at
    assert decoded.organization.name == "Acme"


@pytest.mark.parametrize(
    ("decode", "text"),
    [
        (codec.decode_web_last, "{not json"),
        (codec.decode_web_last, "[]"),
        (codec.decode_web_last, '{"prepaid": {"amount": 1}}'),
        (codec.decode_web_last, '{"fetched_at": "noon"}'),
        (codec.decode_organization, '{"id": "o"}'),
        (codec.decode_organization, "null"),
        (codec.decode_workspaces, '{"fetched_at": 1}'),
        (codec.decode_workspaces, '{"items": [{"name": "no id"}]}'),
        (codec.decode_workspaces, '{"items": 3}'),
        (codec.decode_claude_version, "2.1.3"),
        (codec.decode_claude_version, "2.1.3@"),
        (codec.decode_claude_version, "2.1.3@yesterday"),
    ],
)
def test_unreadable_caches_are_none(decode: Callable[[str], object], text: str) -> None:
    assert decode(text) is None


def test_web_last_without_a_time_is_from_the_epoch() -> None:
    # As before typed state: the figures show, marked as very old.
    decoded = codec.decode_web_last('{"organization": "Acme"}')
    assert decoded == WebLast("Acme", None, None, None, datetime(1970, 1, 1, tzinfo=UTC))
