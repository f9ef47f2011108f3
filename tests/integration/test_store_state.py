"""The store's typed accessors against real files, and the stored formats existing databases hold."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from tray_app.core.console import Organization, Workspace
from tray_app.core.models import Backoff
from tray_app.core.rules import RulesState
from tray_app.core.state import (
    CachedApiKeys,
    CachedOrganization,
    CachedWorkspaces,
    ClaudeVersion,
    Refusal,
    WebLast,
)
from tray_app.core.web import Overage, Prepaid
from tray_app.store import BackoffScope, RefusalSource, Store

from .store_helpers import NOW, plain, put_values

HOUR = timedelta(hours=1)
RULES = RulesState(
    frozenset({"five_hour:50"}),
    2,
    NOW - HOUR,
    {"five_hour": (1785860400, 55.0)},
    {"seven_day": NOW},
)
WEB_LAST = WebLast("Acme", "Firefox", Overage(True, 5.5, 20.0, "USD"), Prepaid(12.5, "USD"), NOW)
ORGANIZATION = CachedOrganization(Organization("org-1", "Acme"), NOW)
WORKSPACES = CachedWorkspaces(
    (Workspace("wrkspc_1", "Research", False), Workspace("wrkspc_2", "Ops", False)), NOW
)
API_KEYS = CachedApiKeys(
    {"apikey_01": ("prod-backend", "active"), "apikey_02": ("old-ingest", "archived")}, NOW
)


@dataclass(frozen=True)
class Format:
    """One kv key: its text as this program has always written it, and the same value typed."""

    key: str
    text: str
    read: Callable[[Store], object]
    value: object
    write: Callable[[Store], None]


# NOW is 1785844800 in Unix seconds. The texts are literal on purpose: they are what databases hold.
FORMATS = [
    Format(
        "alerts.state",
        '{"fired": ["five_hour:50"], "failures": 2, "episode_started": "2026-08-04T11:00:00Z",'
        ' "peaks": {"five_hour": [1785860400, 55.0]},'
        ' "pace_clear_since": {"seven_day": "2026-08-04T12:00:00Z"}}',
        lambda s: s.alert_state.load(),
        RULES,
        lambda s: s.alert_state.save(RULES, NOW),
    ),
    Format(
        "notifications.enabled",
        "off",
        lambda s: s.switches.notifications_on(),
        False,
        lambda s: s.switches.set_notifications_on(False, NOW),
    ),
    Format(
        "notifications.snoozed_until",
        "1785848400",
        lambda s: s.switches.snoozed_until(),
        NOW + HOUR,
        lambda s: s.switches.set_snoozed_until(NOW + HOUR, NOW),
    ),
    Format(
        "notifications.snoozed_until",
        "",
        lambda s: s.switches.snoozed_until(),
        None,
        lambda s: s.switches.set_snoozed_until(None, NOW),
    ),
    Format(
        "web.enabled",
        "on",
        lambda s: s.switches.web_session_on(),
        True,
        lambda s: s.switches.set_web_session_on(True, NOW),
    ),
    Format(
        "web.enabled",
        "off",
        lambda s: s.switches.web_session_on(),
        False,
        lambda s: s.switches.set_web_session_on(False, NOW),
    ),
    Format(
        "code.last_attempt",
        "1785844800",
        lambda s: s.code_cache.last_attempt(),
        NOW,
        lambda s: s.code_cache.set_last_attempt(NOW),
    ),
    Format(
        "claude_code.version",
        "2.1.3@1785844800",
        lambda s: s.code_cache.claude_version(),
        ClaudeVersion("2.1.3", NOW),
        lambda s: s.code_cache.set_claude_version(ClaudeVersion("2.1.3", NOW), NOW),
    ),
    Format(
        "code.refused_token",
        "0123456789abcdef:expired",
        lambda s: s.refusals.get(RefusalSource.CODE_TOKEN),
        Refusal("0123456789abcdef", "expired"),
        lambda s: s.refusals.set(RefusalSource.CODE_TOKEN, Refusal("0123456789abcdef", "expired"), NOW),
    ),
    Format(
        "web.refused_session",
        "fedcba9876543210",
        lambda s: s.refusals.get(RefusalSource.WEB_SESSION),
        Refusal("fedcba9876543210"),
        lambda s: s.refusals.set(RefusalSource.WEB_SESSION, Refusal("fedcba9876543210"), NOW),
    ),
    Format(
        "console.refused_key",
        "aaaabbbbccccdddd:1785844800:HTTP 401: invalid x-api-key",
        lambda s: s.refusals.get(RefusalSource.CONSOLE_KEY),
        Refusal("aaaabbbbccccdddd", "HTTP 401: invalid x-api-key", NOW),
        lambda s: s.refusals.set(
            RefusalSource.CONSOLE_KEY, Refusal("aaaabbbbccccdddd", "HTTP 401: invalid x-api-key", NOW), NOW
        ),
    ),
    Format(
        "web.last",
        '{"organization": "Acme", "browser": "Firefox",'
        ' "overage": {"enabled": true, "used": 5.5, "limit": 20.0, "currency": "USD"},'
        ' "prepaid": {"amount": 12.5, "currency": "USD"}, "fetched_at": 1785844800}',
        lambda s: s.web_cache.last(),
        WEB_LAST,
        lambda s: s.web_cache.set_last(WEB_LAST, NOW),
    ),
    Format(
        "web.last",
        '{"organization": null, "browser": null, "overage": null, "prepaid": null, "fetched_at": 1785844800}',
        lambda s: s.web_cache.last(),
        WebLast(None, None, None, None, NOW),
        lambda s: s.web_cache.set_last(WebLast(None, None, None, None, NOW), NOW),
    ),
    Format(
        "console.organization",
        '{"id": "org-1", "name": "Acme", "fetched_at": 1785844800}',
        lambda s: s.console_cache.organization(),
        ORGANIZATION,
        lambda s: s.console_cache.set_organization(ORGANIZATION, NOW),
    ),
    Format(
        "console.workspaces",
        '{"items": [{"id": "wrkspc_1", "name": "Research"}, {"id": "wrkspc_2", "name": "Ops"}],'
        ' "fetched_at": 1785844800}',
        lambda s: s.console_cache.workspaces(),
        WORKSPACES,
        lambda s: s.console_cache.set_workspaces(WORKSPACES, NOW),
    ),
    Format(
        "console.api_keys",
        '{"items": [["apikey_01", "prod-backend", "active"], ["apikey_02", "old-ingest", "archived"]],'
        ' "fetched_at": 1785844800}',
        lambda s: s.console_cache.api_keys(),
        API_KEYS,
        lambda s: s.console_cache.set_api_keys(API_KEYS, NOW),
    ),
]
FORMAT_IDS = [f"{f.key}={f.text[:12]}" for f in FORMATS]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A database of the current schema, closed, as another process or an earlier run left it."""
    database = tmp_path / "usage_history.db"
    Store.open(database).close()
    return database


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with Store.open(path) as opened:
        yield opened


@pytest.mark.parametrize("stored", FORMATS, ids=FORMAT_IDS)
def test_values_written_in_todays_format_read_through_the_accessors(path: Path, stored: Format) -> None:
    put_values(path, {stored.key: stored.text})
    with Store.open(path) as store:
        assert stored.read(store) == stored.value


@pytest.mark.parametrize("stored", FORMATS, ids=FORMAT_IDS)
def test_accessors_write_todays_format(store: Store, stored: Format) -> None:
    stored.write(store)
    assert plain(store.path, "SELECT value, updated_at FROM kv WHERE key = ?", (stored.key,)) == [
        (stored.text, 1785844800)
    ]


def test_one_database_holds_every_value_at_once(path: Path) -> None:
    # Distinct keys: no accessor reads another's value.
    latest = {f.key: f for f in FORMATS}
    put_values(path, {f.key: f.text for f in latest.values()})
    with Store.open(path) as store:
        assert {key: f.read(store) for key, f in latest.items()} == {
            key: f.value for key, f in latest.items()
        }


def test_a_fresh_database_has_the_defaults(store: Store) -> None:
    assert store.alert_state.load() is None
    assert store.switches.notifications_on() is True
    assert store.switches.snoozed_until() is None
    assert store.switches.web_session_on() is None  # the config file decides
    assert store.code_cache.last_attempt() is None
    assert store.code_cache.claude_version() is None
    assert store.web_cache.last() is None
    assert store.console_cache.organization() is None
    assert store.console_cache.workspaces() is None
    assert store.console_cache.api_keys() is None
    assert all(store.refusals.get(source) is None for source in RefusalSource)
    assert all(store.backoffs.get(scope) is None for scope in BackoffScope)


def test_the_latest_write_wins(store: Store) -> None:
    store.switches.set_notifications_on(False, NOW)
    store.switches.set_notifications_on(True, NOW + timedelta(seconds=1))
    assert store.switches.notifications_on() is True
    assert plain(store.path, "SELECT value, updated_at FROM kv WHERE key = 'notifications.enabled'") == [
        ("on", 1785844801)
    ]


@pytest.mark.parametrize(
    ("key", "text", "read"),
    [
        ("alerts.state", "{not json", lambda s: s.alert_state.load()),
        ("alerts.state", '{"fired": 3}', lambda s: s.alert_state.load()),
        ("web.last", "[1, 2]", lambda s: s.web_cache.last()),
        ("web.last", '{"overage": {"spent": 1}}', lambda s: s.web_cache.last()),
        ("console.organization", '{"id": "x"}', lambda s: s.console_cache.organization()),
        ("console.workspaces", '{"items": [{"id": 1}]}', lambda s: s.console_cache.workspaces()),
        ("claude_code.version", "2.1.3", lambda s: s.code_cache.claude_version()),
        ("console.refused_key", "aaaa:soon:HTTP 401", lambda s: s.refusals.get(RefusalSource.CONSOLE_KEY)),
        ("code.last_attempt", "yesterday", lambda s: s.code_cache.last_attempt()),
    ],
)
def test_unreadable_values_read_as_absent(
    path: Path, key: str, text: str, read: Callable[[Store], object]
) -> None:
    put_values(path, {key: text})
    with Store.open(path) as store:
        assert read(store) is None


def test_unreadable_alert_state_is_said_in_the_log(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    put_values(path, {"alerts.state": "{not json"})
    with caplog.at_level(logging.WARNING, logger="tray_app.store"), Store.open(path) as store:
        assert store.alert_state.load() is None
    assert "stored alert state unreadable" in caplog.text


@pytest.mark.parametrize(
    ("source", "refusal"),
    [
        (RefusalSource.CONSOLE_KEY, Refusal("aaaa", "HTTP 401")),  # wears off: needs a time
        (RefusalSource.CODE_TOKEN, Refusal("bbbb", "expired", NOW)),  # its format has no time
    ],
)
def test_a_refusal_of_the_wrong_shape_is_not_stored(
    store: Store, source: RefusalSource, refusal: Refusal
) -> None:
    with pytest.raises(ValueError):
        store.refusals.set(source, refusal, NOW)
    assert store.refusals.get(source) is None


# -- back-offs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "name"),
    [(BackoffScope.CODE, "code_usage"), (BackoffScope.CONSOLE, "console"), (BackoffScope.WEB, "web")],
)
def test_backoff_rows_keep_their_scope_names(path: Path, scope: BackoffScope, name: str) -> None:
    until = NOW + timedelta(minutes=5)
    with Store.open(path) as store:
        store.backoffs.set(scope, Backoff(until, "HTTP 429", 2))
    assert plain(path, "SELECT scope, until, reason, strikes FROM backoff") == [
        (name, 1785845100, "HTTP 429", 2)
    ]
    with Store.open(path) as store:
        assert store.backoffs.get(scope) == Backoff(until, "HTTP 429", 2)
        assert [s for s in BackoffScope if store.backoffs.get(s) is not None] == [scope]


def test_backoff_set_get_clear(store: Store) -> None:
    first = Backoff(until=NOW + timedelta(seconds=90), reason="rate limited", strikes=1)
    store.backoffs.set(BackoffScope.CODE, first)
    assert store.backoffs.get(BackoffScope.CODE) == first
    assert store.backoffs.get(BackoffScope.CONSOLE) is None

    second = Backoff(until=NOW + timedelta(minutes=10), reason="rate limited again", strikes=2)
    store.backoffs.set(BackoffScope.CODE, second)
    assert store.backoffs.get(BackoffScope.CODE) == second

    # Expired backoffs are still returned; deciding whether one applies is the caller's job.
    expired = Backoff(until=NOW - timedelta(days=1), reason="old", strikes=3)
    store.backoffs.set(BackoffScope.CONSOLE, expired)
    assert store.backoffs.get(BackoffScope.CONSOLE) == expired

    store.backoffs.clear(BackoffScope.CODE)
    store.backoffs.clear(BackoffScope.WEB)  # never set: no error
    assert store.backoffs.get(BackoffScope.CODE) is None
    assert store.backoffs.get(BackoffScope.CONSOLE) == expired


def test_console_days_fetch_times_are_read_without_their_rows(store: Store) -> None:
    day1, day2 = date(2026, 11, 1), date(2026, 11, 2)
    store.save_console_days("cost", {day1: "[]"}, NOW)
    store.save_console_days("cost", {day2: '[{"x": 1}]'}, NOW + timedelta(hours=1))
    store.save_console_days("tokens", {day2: "[]"}, NOW)
    assert store.console_fetched("cost", day1) == {day1: NOW, day2: NOW + timedelta(hours=1)}
    assert store.console_fetched("cost", day2) == {day2: NOW + timedelta(hours=1)}
    assert store.console_fetched("cost", day1) == {
        d: at for d, (at, _) in store.console_days("cost", day1).items()
    }
