"""The fault matrix: every way the network or a server can fail, against each of the three sources.

Code mode (/api/oauth/usage), Console mode (the Admin API) and the claude.ai session, each the program as
`run` wires it (tray_app.wiring) on one fake clock, start from a database holding one good poll, meet one
fault through the real polling thread's tick, and must then: keep running, show the right state with a
message naming the problem, back off exactly when the server asked for it (shared through the database,
with nothing sent inside the pause), keep showing the last good figures, and leave nothing wrong in the
database. A table of every outcome is printed at the end.

Console mode meets its faults on the legacy cost report: the demo server refuses it the Analytics API (the
fallback path, remembered from the first poll on). The Analytics API's own faults are in
test_console_sources.py.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import re
import shutil
import socket
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport, Status
from tray_app.core.reports import TickResult
from tray_app.core.viewmodel import ViewModel, all_rows
from tray_app.core.web_report import WebReport
from tray_app.demo import (
    COST_REPORT_PATH,
    MESSAGES_REPORT_PATH,
    USAGE_PATH,
    WEB_CHAT_ORG_UUID,
    WEB_ORGANIZATIONS_PATH,
    DemoResponse,
    DemoServer,
)
from tray_app.monitors import code as code_monitor
from tray_app.monitors import console as console_monitor
from tray_app.monitors import web as web_monitor
from tray_app.monitors.code import CodeMonitor
from tray_app.monitors.web import WebUsageMonitor
from tray_app.sources.admin_key import ENV_ADMIN_KEY
from tray_app.sources.http import MAX_BODY_BYTES
from tray_app.wiring.app import open_app, settings_for
from tray_app.wiring.tray import build_poller

from ..conftest import write_login
from ..fakes import FakeClock
from .demo_helpers import app_environment

CODE, CONSOLE, WEB = "code", "console", "web"
SOURCES = (CODE, CONSOLE, WEB)
# The timeout cases use a short one so each takes half a second; the rest keep a roomy one, so a busy
# machine never turns a good answer into a timeout.
SHORT_TIMEOUT = 0.5
TIMEOUT = 5.0
GOOD_POLL = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # early in a month: few Console days to fetch
FAULT_AT = GOOD_POLL + timedelta(minutes=3)
WEB_USAGE_PATH = f"/api/organizations/{WEB_CHAT_ORG_UUID}/usage"
PORTAL_PATH = "/portal/login"
# The request each source makes first in a refresh (a fault there stops the whole refresh), and the
# answer that carries its figures.
FIRST_PATH = {CODE: USAGE_PATH, CONSOLE: COST_REPORT_PATH, WEB: WEB_ORGANIZATIONS_PATH}
FIGURES_PATH = {CODE: USAGE_PATH, CONSOLE: COST_REPORT_PATH, WEB: WEB_USAGE_PATH}
BACKOFF_SCOPE = {
    CODE: code_monitor.BACKOFF_SCOPE,
    CONSOLE: console_monitor.BACKOFF_SCOPE,
    WEB: web_monitor.BACKOFF_SCOPE,
}
TABLES = ("window_snapshots", "kv", "backoff", "console_days", "console_snapshots")
# What a failed poll may change in the database besides the back-off: bookkeeping, never figures. The
# alert rules' memory is among it: they count the failures towards "cannot update".
FAILURE_KEYS = {
    "code.last_attempt",
    "code.refused_token",
    "console.refused_key",
    "web.refused_session",
    "alerts.state",
}
# claude.ai stays away at least a quarter of an hour after a 429 (web_monitor), an hour after a check.
WEB_MIN_PAUSE = 900.0

_HTML = (("Content-Type", "text/html; charset=utf-8"),)
_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_CHALLENGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body>'
    b"<script>(function(){window._cf_chl_opt={cvId: '3',cType: 'managed'};}());</script></body></html>\n"
)
_PORTAL = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in to Hotel WiFi</title></head>\n"
    b'<body><form method="post" action="/login"><input name="room"><button>Connect</button></form></body>'
    b"</html>\n"
)


# --- the rig: a demo server, a copy of the good database, one source of the program `run` wires -------


Report = CodeReport | ConsoleReport | WebReport


def envelope(status: int, kind: str, message: str, *headers: tuple[str, str]) -> DemoResponse:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fault"}
    return DemoResponse(status, json.dumps(body).encode(), headers)


def json_answer(body: Any) -> DemoResponse:
    # allow_nan: some cases serve the NaN and Infinity tokens Python's json reader accepts.
    return DemoResponse(200, json.dumps(body, allow_nan=True).encode())


@dataclass(frozen=True)
class Inputs:
    """What the user has on the machine: a Claude Code login, and a Firefox profile logged in to claude.ai."""

    claude_dir: Path
    firefox_cookies: Path


def settings_file(source: str, inputs: Inputs) -> str:
    """The config.toml that makes `run` watch this one source (see Rig)."""
    if source == CONSOLE:
        return '[console]\nuser_email = "jane@example.com"\nbudget = 3000\n'
    if source == WEB:
        cookies = json.dumps(str(inputs.firefox_cookies))  # a TOML basic string
        return f'[web]\nenabled = true\nbrowser = "firefox"\ncookie_file = {cookies}\n'
    return ""


class Rig:
    """One source as `run` wires it (tray_app.wiring: open_app, then build_poller), every part reading one
    fake clock: real HTTP to a demo server, a real Store, the real Poller with its alert rules and view.

    Which source is decided as on a user's machine: Code mode with a Claude Code login; Console mode
    alone with an admin key and no login; claude.ai's usage standing in for Code mode with the session
    switched on and no login (its forecasts from the same stored history).
    """

    def __init__(
        self,
        source: str,
        folder: Path,
        inputs: Inputs,
        now: datetime,
        start: Path | None,
        shared: tuple[DemoServer, FakeClock] | None = None,
    ) -> None:
        self.source = source
        # A shared server (and the clock it reads) outlives the rig: many short rigs can use one.
        self.own_server = shared is None
        if shared is None:
            self.clock = FakeClock(now)
            self.server = DemoServer("full", clock=self.clock.epoch).start()
        else:
            self.server, self.clock = shared
            self.clock.set(now)
        if source == CONSOLE:
            self.server.analytics.refusal = "forbidden"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.toml").write_text(settings_file(source, inputs))
        self.db_path = folder / "usage_history.db"
        if start is not None:
            shutil.copyfile(start, self.db_path)
        login = inputs.claude_dir if source == CODE else folder / "no-claude-login"
        extra = {ENV_ADMIN_KEY: DemoServer.DEMO_ADMIN_KEY} if source == CONSOLE else {}
        self.env = app_environment(folder, self.server, login, **extra)
        self.settings = settings_for("run", self.env)
        assert self.settings.paths.database == self.db_path
        self.timeout = TIMEOUT
        self.views: list[ViewModel] = []
        self.served: Any = None  # the changed answer a case served, to check what was stored from it
        self.cleanups: list[Callable[[], None]] = []
        self._running = contextlib.ExitStack()
        self.base_url = self.server.base_url
        self.connect(self.base_url)

    def short_timeout(self) -> None:
        """From now on every request gives up after SHORT_TIMEOUT seconds."""
        self.timeout = SHORT_TIMEOUT
        self.connect(self.base_url)

    def connect(self, base_url: str) -> None:
        """The program started afresh against base_url (the demo server, or somewhere unreachable): every
        API and claude.ai there, and the HTTP timeout of the moment. The settings are changed in memory,
        as the file would refuse a half-second timeout and a host that is not local."""
        self._running.close()
        self.base_url = base_url
        settings = replace(
            self.settings, api_base=base_url, web_base=base_url, http_timeout_seconds=self.timeout
        )
        self._running = contextlib.ExitStack()
        self.app = self._running.enter_context(open_app(settings, self.env, self.clock))
        self.poller = build_poller(self.app, self.clock, self._publish)
        app = self.app
        if self.source == CODE:
            assert isinstance(app.monitor, CodeMonitor) and app.console is None, app
        elif self.source == CONSOLE:
            assert app.monitor is None and app.console is not None, app
        else:
            assert isinstance(app.monitor, WebUsageMonitor) and app.console is None, app

    def _publish(self, result: TickResult) -> None:
        self.views.append(result.view)

    def tick(self, *, refresh_now: bool = False) -> None:
        """One step of the polling thread; refresh_now is the menu's "Refresh now"."""
        if refresh_now:
            self.poller.refresh_now()
        self.poller.tick()

    @property
    def report(self) -> Report:
        reports = self.poller.reports
        if self.source == CODE:
            assert reports.code is not None
            return reports.code
        if self.source == CONSOLE:
            assert reports.console is not None
            return reports.console
        last = self.app.web_monitor.last
        assert last is not None
        return last

    def shown(self) -> Any:
        """The figures the tray shows now, to compare before and after a fault."""
        if self.source == CONSOLE:
            return figures(self.report)
        windows = self.poller.reports.code
        assert windows is not None
        return figures(self.report), figures(windows)[1:]

    def stored(self) -> Any:
        """The figures the tray shows from the database alone, as at start-up (same form as shown())."""
        if self.source == CONSOLE:
            assert self.app.console is not None
            return figures(self.app.console.stored_report())
        code = self.app.monitor
        assert code is not None
        windows = code.stored_report(timedelta(days=365))
        if self.source == CODE:
            return figures(windows), figures(windows)[1:]
        return figures(self.app.web_monitor.stored_report()), figures(windows)[1:]

    def five_hour(self) -> int | None:
        """The 5-hour figure the icon shows, as a whole percent."""
        return self.views[-1].icon.percent

    def menu_text(self) -> str:
        """Every row, the submenus' included (a Console problem is told in its breakdown)."""
        return "\n".join(row.text for row in all_rows(self.views[-1].menu))

    def backoff_seconds(self) -> float | None:
        backoff = self.app.store.backoffs.get(BACKOFF_SCOPE[self.source])
        return None if backoff is None else (backoff.until - self.clock.now()).total_seconds()

    def sent(self) -> int:
        return len(self.server.requests())

    def close(self) -> None:
        self._running.close()
        if self.own_server:
            self.server.stop()
        for cleanup in self.cleanups:
            cleanup()


def figures(report: Report) -> Any:
    """The figures a report shows, to compare before and after a fault."""
    if isinstance(report, CodeReport):
        windows = tuple((w.window.id, w.window.utilization, w.window.resets_at) for w in report.windows)
        return report.updated_at, windows, report.extra_usage
    if isinstance(report, ConsoleReport):
        shown = report.figures
        summary = (
            None
            if shown is None
            else (shown.month, shown.mtd_cost, shown.by_model, shown.workspaces, shown.my_claude_code_cost)
        )
        return report.organization, summary
    return report.updated_at, report.organization, report.overage, report.prepaid


# --- the database before and after ----------------------------------------------------------------


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        return {table: sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in TABLES}


def _strict_json(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"{token} stored in the database: {text[:120]}")

    return json.loads(text, parse_constant=refuse)


def assert_nothing_impossible(tables: dict[str, list[tuple[Any, ...]]]) -> None:
    """No NaN or infinity anywhere, no utilization outside 0-100, every JSON text strictly JSON."""
    for name, rows in tables.items():
        for row in rows:
            for cell in row:
                if isinstance(cell, float):
                    assert math.isfinite(cell), f"{name}: {row}"
                if isinstance(cell, str) and cell[:1] in "[{":
                    _strict_json(cell)
    for row in tables["window_snapshots"]:
        assert 0.0 <= row[3] <= 100.0, row
    for row in tables["console_snapshots"]:
        assert Decimal(row[2]).is_finite(), row


def valid_percents(body: Any) -> set[float]:
    """Every figure in a served answer that could be a utilization, as the design reads it (0-100)."""
    found: set[float] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            found.add(min(100.0, max(0.0, float(value))))

    walk(body)
    return found


@dataclass
class Change:
    """What one poll changed in the database."""

    added: dict[str, list[tuple[Any, ...]]]
    removed: dict[str, list[tuple[Any, ...]]]
    kv_keys: set[str]


def diff(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> Change:
    added = {t: [r for r in after[t] if r not in before[t]] for t in TABLES}
    removed = {t: [r for r in before[t] if r not in after[t]] for t in TABLES}
    old_kv = {row[0]: row[1:] for row in before["kv"]}
    new_kv = {row[0]: row[1:] for row in after["kv"]}
    keys = {key for key in old_kv.keys() | new_kv.keys() if old_kv.get(key) != new_kv.get(key)}
    return Change(added, removed, keys)


def assert_rejected(change: Change, source: str) -> None:
    """A failed poll stores no figures: no rows, no changed answers, only bookkeeping and a back-off."""
    for table in ("window_snapshots", "console_days", "console_snapshots"):
        assert not change.added[table] and not change.removed[table], (table, change.added[table])
    assert change.kv_keys <= FAILURE_KEYS, change.kv_keys
    scopes = {row[0] for row in change.added["backoff"] + change.removed["backoff"]}
    assert scopes <= {BACKOFF_SCOPE[source]}, scopes


# --- outcomes and the table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    case: str
    source: str
    status: str
    message: str
    backoff: str
    kept: str
    then: str


OUTCOMES: list[Outcome] = []


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@pytest.fixture(scope="module", autouse=True)
def outcome_table(pytestconfig: pytest.Config) -> Iterator[None]:
    """Prints every case's outcome once the module is done, past pytest's output capture."""
    yield
    if not OUTCOMES:
        return
    head = Outcome("case", "source", "status", "message", "back-off", "figures", "next refresh")
    widths = (36, 7, 12, 8, 22, 32, 100)
    order = {source: index for index, source in enumerate(SOURCES)}
    rows = [head, *sorted(OUTCOMES, key=lambda o: (CASE_ORDER.get(o.case, 999), o.case, order[o.source]))]
    lines = ["", "Fault matrix (case x source -> outcome):"]
    for o in rows:
        cells = (o.case, o.source, o.status, o.backoff, o.kept, o.then, o.message)
        lines.append(
            " | ".join(_cell(text, width).ljust(width) for text, width in zip(cells, widths, strict=True))
        )
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    reporter = pytestconfig.pluginmanager.getplugin("terminalreporter")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        for line in lines:
            if reporter is not None:
                reporter.write_line(line.rstrip())
            else:
                print(line.rstrip())


def short(message: str | None) -> str:
    """A message for the table: ports left out (they change every run), the age of kept figures too."""
    text = re.sub(r"(127\.0\.0\.1|localhost|fault-matrix\.invalid):\d+", r"\1", message or "-")
    return text.removesuffix(" (showing figures from 3 min ago)")


# --- the good database every case starts from -----------------------------------------------------


@dataclass
class World:
    folder: Path
    inputs: Inputs
    baselines: dict[str, Path] = field(default_factory=dict)
    answers: dict[tuple[str, datetime], list[tuple[str, Any]]] = field(default_factory=dict)
    serial: int = 0

    def rig(
        self, source: str, now: datetime = FAULT_AT, shared: tuple[DemoServer, FakeClock] | None = None
    ) -> Rig:
        self.serial += 1
        folder = self.folder / f"rig{self.serial}"
        return Rig(source, folder, self.inputs, now, self.baselines[source], shared)

    def good_answers(self, source: str, now: datetime) -> list[tuple[str, Any]]:
        """(path, JSON body) of every answer one good refresh at `now` gets, in the order asked."""
        key = (source, now)
        if key not in self.answers:
            rig = self.rig(source, now)
            try:
                rig.tick()
                assert rig.report.status is Status.OK, rig.report.message
                answers: list[tuple[str, Any]] = []
                for asked in rig.server.requests():
                    if asked.path not in {path for path, _ in answers}:
                        again = rig.server.answer(
                            asked.method, asked.path, asked.headers, asked.body, asked.query
                        )
                        answers.append((asked.path, json.loads(again.body)))
                self.answers[key] = answers
            finally:
                rig.close()
        return copy.deepcopy(self.answers[key])

    def good_answer(self, source: str, path: str, now: datetime = FAULT_AT) -> Any:
        return next(body for asked, body in self.good_answers(source, now) if asked == path)


def firefox_cookies(path: Path, session_key: str) -> None:
    """A Firefox cookie store (moz_cookies, schema 16: expiry in milliseconds) logged in to claude.ai."""
    path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute(
            "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL DEFAULT '',"
            " name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, lastAccessed INTEGER,"
            " creationTime INTEGER, isSecure INTEGER, isHttpOnly INTEGER, inBrowserElement INTEGER DEFAULT 0,"
            " sameSite INTEGER DEFAULT 0, schemeMap INTEGER DEFAULT 0,"
            " isPartitionedAttributeSet INTEGER DEFAULT 0,"
            " CONSTRAINT moz_uniqueid UNIQUE (name, host, path, originAttributes))"
        )
        con.execute("PRAGMA user_version = 16")
        created = int(GOOD_POLL.timestamp() * 10**6)
        expiry = int((GOOD_POLL + timedelta(days=365)).timestamp() * 1000)
        con.execute(
            "INSERT INTO moz_cookies (name, value, host, path, expiry, lastAccessed, creationTime, isSecure,"
            " isHttpOnly) VALUES ('sessionKey', ?, '.claude.ai', '/', ?, ?, ?, 1, 1)",
            (session_key, expiry, created, created),
        )
        con.commit()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("fault_matrix")
    inputs = Inputs(folder / "claude", folder / "firefox" / "cookies.sqlite")
    write_login(inputs.claude_dir, expires_in=None)  # the fixed clock is in the past of any real expiry
    firefox_cookies(inputs.firefox_cookies, DemoServer.DEMO_SESSION_KEY)
    made = World(folder, inputs)
    for source in SOURCES:
        rig = Rig(source, folder / f"baseline-{source}", inputs, GOOD_POLL, None)
        try:
            rig.tick()
            assert rig.report.status is Status.OK, rig.report.message
        finally:
            rig.close()
        made.baselines[source] = rig.db_path
    yield made


# --- the cases -------------------------------------------------------------------------------------


Check = Callable[["Rig", "Change"], str]


@dataclass(frozen=True)
class Expect:
    status: Status
    words: tuple[str, ...] = ()
    pause: float | None = None  # seconds of shared back-off the fault must start
    login: bool = False  # the credential was refused: it is not sent again
    # For a usable answer: checks what was stored and shown instead of the last good figures (and says
    # what, for the table). None: the answer must be rejected and the last good figures kept.
    check: Check | None = None


@dataclass(frozen=True)
class Case:
    id: str
    inject: Callable[[Rig, World], None]
    expect: dict[str, Expect]


def every(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(SOURCES, expect)


def queue(response: DemoResponse) -> Callable[[Rig, World], None]:
    def inject(rig: Rig, world: World) -> None:
        rig.server.queue(FIRST_PATH[rig.source], response)

    return inject


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def refused(rig: Rig, world: World) -> None:
    rig.connect(f"http://127.0.0.1:{closed_port()}")


def dns_failure(rig: Rig, world: World) -> None:
    # .invalid never resolves (RFC 6761), so the failure is the resolver's, not a missing server's.
    rig.connect(f"http://fault-matrix.invalid:{closed_port()}")


class Backlog:
    """A listening socket that never accepts, its queue filled: a further connect hangs unanswered."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port: int = self.listener.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self.fillers.append(filler)

    def close(self) -> None:
        for sock in (*self.fillers, self.listener):
            sock.close()


def connect_timeout(rig: Rig, world: World) -> None:
    backlog = Backlog()
    rig.cleanups.append(backlog.close)
    rig.short_timeout()
    rig.connect(f"http://127.0.0.1:{backlog.port}")


def read_timeout(rig: Rig, world: World) -> None:
    rig.short_timeout()
    rig.server.queue(FIRST_PATH[rig.source], DemoResponse(200, b"{}", delay=SHORT_TIMEOUT * 6))


def captive_portal(rig: Rig, world: World) -> None:
    portal = rig.server.base_url.replace("127.0.0.1", "localhost") + PORTAL_PATH
    rig.server.queue(FIRST_PATH[rig.source], DemoResponse(302, b"", (("Location", portal), *_HTML)))
    rig.server.queue(PORTAL_PATH, DemoResponse(200, _PORTAL, _HTML))


def cut_off(rig: Rig, world: World) -> None:
    body = json.dumps(world.good_answer(rig.source, FIRST_PATH[rig.source])).encode()
    rig.server.queue(FIRST_PATH[rig.source], DemoResponse(200, body, cut_after=len(body) // 2))


def half_json(rig: Rig, world: World) -> None:
    body = json.dumps(world.good_answer(rig.source, FIRST_PATH[rig.source])).encode()
    rig.server.queue(FIRST_PATH[rig.source], DemoResponse(200, body[: len(body) // 2]))


def slow_drip(rig: Rig, world: World) -> None:
    body = json.dumps(world.good_answer(rig.source, FIRST_PATH[rig.source])).encode()
    # Each byte arrives well inside the read timeout; the whole answer would take minutes.
    rig.short_timeout()
    rig.server.queue(FIRST_PATH[rig.source], DemoResponse(200, body, drip=SHORT_TIMEOUT / 5))


def ten_megabytes(rig: Rig, world: World) -> None:
    good = world.good_answer(rig.source, FIRST_PATH[rig.source])
    padded = (
        {"padding": "x" * 10_000_000, "data": good} if isinstance(good, dict) else [*good, "x" * 10_000_000]
    )
    rig.server.queue(FIRST_PATH[rig.source], json_answer(padded))


def retry_after_date(rig: Rig, world: World) -> None:
    when = formatdate(rig.clock.epoch() + 120, usegmt=True)
    rig.server.queue(
        FIRST_PATH[rig.source], envelope(429, "rate_limit_error", "Rate limited.", ("retry-after", when))
    )


def with_figures(
    change: Callable[[Any, str], None], console_path: str = COST_REPORT_PATH
) -> Callable[[Rig, World], None]:
    """Serve the good answer of the source's figures with one change made to it."""

    def inject(rig: Rig, world: World) -> None:
        path = console_path if rig.source == CONSOLE else FIGURES_PATH[rig.source]
        body = world.good_answer(rig.source, path)
        change(body, rig.source)
        rig.served = body
        rig.server.queue(path, json_answer(body))

    return inject


def _usage_windows(body: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """The 5-hour window of a usage answer, as its flat key and its limits[] entry (field names differ)."""
    yield body["five_hour"], "utilization"
    for limit in body.get("limits", []):
        if limit.get("kind") == "session":
            yield limit, "percent"


def _results(body: Any) -> Iterator[dict[str, Any]]:
    for bucket in body["data"]:
        yield from bucket["results"]


def set_utilization(value: float) -> Callable[[Any, str], None]:
    def change(body: Any, source: str) -> None:
        if source == CONSOLE:
            # The Admin API has no utilization. Its impossible figures are negative token counts; its
            # figures past 100 % are a month's spend past the budget.
            for result in _results(body):
                if value < 0:
                    result["uncached_input_tokens"] = result["output_tokens"] = -1500
                else:
                    result["amount"] = str(Decimal(result["amount"]) * 50)
            return
        for window, name in _usage_windows(body):
            window[name] = value

    return change


def set_nan(body: Any, source: str) -> None:
    if source == CONSOLE:
        strange: list[Any] = ["NaN", float("nan"), "Infinity", float("inf")]
        for result, value in zip(_results(body), strange, strict=False):
            result["amount"] = value
        return
    for (window, name), value in zip(_usage_windows(body), (float("nan"), float("inf")), strict=False):
        window[name] = value


def set_resets(value: str) -> Callable[[Any, str], None]:
    def change(body: Any, source: str) -> None:
        if source == CONSOLE:
            # The Admin API's dates are its buckets' days.
            for bucket in body["data"]:
                bucket["starting_at"] = value
            return
        for window, _ in _usage_windows(body):
            window["resets_at"] = value

    return change


# --- what a usable answer must leave behind --------------------------------------------------------


def window_rows(rig: Rig, change: Change) -> dict[str, tuple[Any, ...]]:
    """The window rows the poll stored, by window id; each figure one the server sent as valid."""
    rows = change.added["window_snapshots"]
    valid = valid_percents(rig.served)
    assert rows and all(row[3] in valid for row in rows), (rows, valid)
    assert {row[0] for row in rows} == {int(rig.clock.epoch())}
    return {row[1]: row for row in rows}


def five_hour_shown(rig: Rig, percent: int) -> str:
    assert f"5-hour {percent} % · " in rig.menu_text()
    assert rig.five_hour() == percent
    return f"new: 5h {percent} %"


def stored_utilization(percent: float) -> Check:
    def check(rig: Rig, change: Change) -> str:
        # The design (core/parse.py): the server's figure as sent, impossible ones pulled into 0-100.
        assert window_rows(rig, change)["five_hour"][3] == percent
        return five_hour_shown(rig, int(percent))

    return check


def unreadable_window_left_out(rig: Rig, change: Change) -> str:
    rows = window_rows(rig, change)
    # Neither a NaN nor a made-up number: the 5-hour window is absent from this answer, the rest stored.
    assert "five_hour" not in rows and "seven_day" in rows, rows
    assert not any(line.startswith("5-hour ") for line in rig.menu_text().splitlines())
    return "new: 5h left out"


def stored_reset(expected: datetime | None, shown: str) -> Check:
    def check(rig: Rig, change: Change) -> str:
        row = window_rows(rig, change)["five_hour"]
        assert row[4] == (None if expected is None else int(expected.timestamp())), row
        assert shown in rig.menu_text()
        return "new: " + shown.lower()

    return check


def console_figures(rig: Rig, change: Change) -> Any:
    rows = change.added["console_snapshots"]
    report = rig.report
    assert isinstance(report, ConsoleReport) and report.figures is not None
    assert len(rows) == 1 and Decimal(rows[0][2]) == report.figures.mtd_cost, rows
    return report.figures


def no_negative_tokens(rig: Rig, change: Change) -> str:
    console_figures(rig, change)
    stored = [row for row in change.added["console_days"] if row[0] == "tokens"]
    counts = [value for row in stored for line in json.loads(row[2]) for value in line.values()]
    assert stored and not [n for n in counts if isinstance(n, int) and n < 0], stored
    return "new: no count < 0"


def past_the_budget(rig: Rig, change: Change) -> str:
    shown = console_figures(rig, change)
    share = shown.mtd_cost / Decimal(3000) * 100
    # Over budget is shown as it is: only the drawing of a gauge may stop at 100 %.
    assert share > 100 and f"({share:.0f} %)" in rig.menu_text()
    return f"new: {share:.0f} % of budget"


def strange_amounts_skipped(rig: Rig, change: Change) -> str:
    console_figures(rig, change)
    served = sum(len(bucket["results"]) for bucket in rig.served["data"])
    stored = [row for row in change.added["console_days"] if row[0] == "cost"]
    lines = sum(len(json.loads(row[2])) for row in stored)
    assert lines == served - 4, (lines, served)
    return "new: 4 rows skipped"


LOGIN_WEB = "the claude.ai session has expired: log in to claude.ai in Firefox again"
RATE_LIMIT = ("rate limiting us (HTTP 429)", "next try at")

CASES: tuple[Case, ...] = (
    Case("connection refused", refused, every(Expect(Status.OFFLINE, ("offline: cannot reach",)))),
    Case(
        "DNS failure",
        dns_failure,
        every(Expect(Status.OFFLINE, ("offline: cannot reach fault-matrix.invalid",))),
    ),
    Case(
        "connect timeout",
        connect_timeout,
        every(Expect(Status.OFFLINE, ("offline: no answer", "in time"))),
    ),
    Case(
        "read timeout",
        read_timeout,
        every(Expect(Status.OFFLINE, ("offline: no answer", "in time"))),
    ),
    Case("slow drip", slow_drip, every(Expect(Status.OFFLINE, ("sent its answer too slowly",)))),
    Case(
        "500",
        queue(envelope(500, "api_error", "Internal server error")),
        every(Expect(Status.ERROR, ("HTTP 500", "Internal server error"))),
    ),
    Case(
        "502 with an HTML body",
        queue(DemoResponse(502, _BAD_GATEWAY, _HTML)),
        every(Expect(Status.ERROR, ("HTTP 502 (an HTML page, not the API)",))),
    ),
    Case(
        "503 with Retry-After",
        queue(envelope(503, "overloaded_error", "Overloaded", ("retry-after", "120"))),
        {
            CODE: Expect(Status.RATE_LIMITED, ("HTTP 503", "next try at"), pause=120),
            CONSOLE: Expect(Status.RATE_LIMITED, ("HTTP 503", "next try at"), pause=120),
            WEB: Expect(Status.RATE_LIMITED, ("HTTP 503", "next try at"), pause=WEB_MIN_PAUSE),
        },
    ),
    Case(
        "429 Retry-After seconds",
        queue(envelope(429, "rate_limit_error", "Rate limited.", ("retry-after", "300"))),
        {
            CODE: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=300),
            CONSOLE: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=300),
            WEB: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=WEB_MIN_PAUSE),
        },
    ),
    Case(
        "429 Retry-After HTTP-date",
        retry_after_date,
        {
            CODE: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=120),
            CONSOLE: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=120),
            WEB: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=WEB_MIN_PAUSE),
        },
    ),
    Case(
        "429 Retry-After 0",
        queue(envelope(429, "rate_limit_error", "Rate limited.", ("retry-after", "0"))),
        {
            # 0 is what the server tells agents it distrusts: a minute's floor, never a hammering.
            CODE: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=60),
            CONSOLE: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=60),
            WEB: Expect(Status.RATE_LIMITED, RATE_LIMIT, pause=WEB_MIN_PAUSE),
        },
    ),
    Case(
        "401",
        queue(envelope(401, "authentication_error", "Invalid bearer token")),
        {
            CODE: Expect(Status.LOGIN_NEEDED, ("refused this login: run `claude auth login`",), login=True),
            CONSOLE: Expect(Status.LOGIN_NEEDED, ("Admin API key was refused (HTTP 401)",), login=True),
            WEB: Expect(Status.LOGIN_NEEDED, (LOGIN_WEB,), login=True),
        },
    ),
    Case(
        "403 scope",
        queue(envelope(403, "permission_error", "OAuth token does not meet scope requirement user:profile")),
        {
            CODE: Expect(Status.LOGIN_NEEDED, ("lacks the user:profile scope",), login=True),
            CONSOLE: Expect(Status.LOGIN_NEEDED, ("Admin API key lacks the rights",), login=True),
            WEB: Expect(Status.LOGIN_NEEDED, (LOGIN_WEB,), login=True),
        },
    ),
    Case(
        "403 Cloudflare challenge",
        queue(DemoResponse(403, _CHALLENGE, (*_HTML, ("cf-mitigated", "challenge")))),
        {
            # Not a logout: the login stays in use, and nobody is told to log in again.
            CODE: Expect(Status.ERROR, ("Cloudflare's browser check (HTTP 403)",)),
            CONSOLE: Expect(Status.ERROR, ("Cloudflare's browser check (HTTP 403)",)),
            WEB: Expect(Status.BLOCKED, ("claude.ai is asking for a browser check",), pause=3600),
        },
    ),
    Case(
        "403 JSON",
        queue(envelope(403, "permission_error", "We are unable to serve your request")),
        {
            CODE: Expect(Status.LOGIN_NEEDED, ("denied access to usage for this login",), login=True),
            CONSOLE: Expect(Status.LOGIN_NEEDED, ("Admin API key lacks the rights",), login=True),
            WEB: Expect(Status.LOGIN_NEEDED, (LOGIN_WEB,), login=True),
        },
    ),
    Case(
        "404",
        queue(envelope(404, "not_found_error", "Not found")),
        every(Expect(Status.ERROR, ("HTTP 404: Not found",))),
    ),
    Case(
        "malformed JSON",
        queue(DemoResponse(200, b'{"five_hour": {"utilization": 12.0,, "data": [}')),
        every(Expect(Status.ERROR, ("malformed JSON",))),
    ),
    Case("truncated body (connection cut)", cut_off, every(Expect(Status.OFFLINE, ("was cut off",)))),
    Case("truncated body (half the JSON)", half_json, every(Expect(Status.ERROR, ("malformed JSON",)))),
    Case(
        "10 MB body",
        ten_megabytes,
        every(Expect(Status.ERROR, (f"larger than {MAX_BODY_BYTES} bytes",))),
    ),
    Case(
        "utilization below 0",
        with_figures(set_utilization(-7.5), console_path=MESSAGES_REPORT_PATH),
        {
            CODE: Expect(Status.OK, check=stored_utilization(0.0)),
            CONSOLE: Expect(Status.OK, check=no_negative_tokens),
            WEB: Expect(Status.OK, check=stored_utilization(0.0)),
        },
    ),
    Case(
        "utilization above 100",
        with_figures(set_utilization(130.0)),
        {
            CODE: Expect(Status.OK, check=stored_utilization(100.0)),
            CONSOLE: Expect(Status.OK, check=past_the_budget),
            WEB: Expect(Status.OK, check=stored_utilization(100.0)),
        },
    ),
    Case(
        "utilization NaN / Infinity",
        with_figures(set_nan),
        {
            CODE: Expect(Status.OK, check=unreadable_window_left_out),
            CONSOLE: Expect(Status.OK, check=strange_amounts_skipped),
            WEB: Expect(Status.OK, check=unreadable_window_left_out),
        },
    ),
    Case(
        "resets_at in the past",
        with_figures(set_resets("2026-10-02T00:00:00Z")),
        {
            CODE: Expect(Status.OK, check=stored_reset(datetime(2026, 10, 2, tzinfo=UTC), "reset due at")),
            CONSOLE: Expect(Status.ERROR, ("cost report has a day (2026-10-02) that was not asked for",)),
            WEB: Expect(Status.OK, check=stored_reset(datetime(2026, 10, 2, tzinfo=UTC), "reset due at")),
        },
    ),
    Case(
        "resets_at unparseable",
        with_figures(set_resets("in a while")),
        {
            CODE: Expect(Status.OK, check=stored_reset(None, "reset time not given")),
            CONSOLE: Expect(Status.ERROR, ("cost report has a day without a readable date",)),
            WEB: Expect(Status.OK, check=stored_reset(None, "reset time not given")),
        },
    ),
    Case(
        "captive portal (302 to a login page)",
        captive_portal,
        every(
            Expect(
                Status.OFFLINE,
                ("redirected the request to localhost", "/portal/login", "Wi-Fi login page"),
            )
        ),
    ),
    Case(
        "captive portal (200 HTML page)",
        queue(DemoResponse(200, _PORTAL, _HTML)),
        every(Expect(Status.ERROR, ("answered with an HTML page (text/html), not JSON",))),
    ),
)
CASE_ORDER = {case.id: index for index, case in enumerate(CASES)}
WRONG_TYPES = ("wrong types: string for a number", "wrong types: list for an object", "wrong types: null")
CASE_ORDER.update({name: len(CASES) + index for index, name in enumerate(WRONG_TYPES)})


SECRETS = (DemoServer.DEMO_ACCESS_TOKEN, DemoServer.DEMO_ADMIN_KEY, DemoServer.DEMO_SESSION_KEY)


@pytest.fixture(autouse=True)
def no_escapes_in_the_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing escaped a monitor (the poller would log it at ERROR, "failed unexpectedly"), the demo
    server's handler never broke, and no log line holds a secret."""
    caplog.set_level(logging.DEBUG)
    yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    leaked = [r.getMessage() for r in caplog.records if any(s in r.getMessage() for s in SECRETS)]
    assert not leaked, leaked


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault(world: World, case: Case, source: str) -> None:
    expect = case.expect[source]
    rig = world.rig(source)
    try:
        run_case(rig, world, case, expect)
    finally:
        rig.close()


def run_case(rig: Rig, world: World, case: Case, expect: Expect) -> None:
    source = rig.source
    shown_before = rig.stored()
    before = dump(rig.db_path)
    case.inject(rig, world)
    sent_before = rig.sent()
    rig.tick()

    report = rig.report
    after = dump(rig.db_path)
    change = diff(before, after)
    assert_nothing_impossible(after)
    assert report.status is expect.status, report.message
    message = report.message or ""
    for words in expect.words:
        assert words in message, message
    assert not [secret for secret in SECRETS if secret in message]
    if expect.status is not Status.OK:
        # The user sees the problem in the menu, and that the figures beside it are old ones.
        assert message in rig.menu_text()
        assert "(showing figures from 3 min ago)" in message, message
    assert rig.server.requests(PORTAL_PATH) == []  # credentials never follow a redirect

    if expect.check is not None:
        kept = expect.check(rig, change)
    else:
        assert_rejected(change, source)
        assert rig.shown() == shown_before  # the last good figures are still shown
        kept = "kept"
        if isinstance(report, ConsoleReport) and report.figures is not None:
            kept = f"kept: ${report.figures.mtd_cost:,.2f}"
        if source != CONSOLE:
            # The menu still lists the last good 5-hour figure, and so does the icon unless it has to
            # call for a login instead.
            windows = {window: utilization for window, utilization, _ in shown_before[1][0]}
            percent = round(windows["five_hour"])
            assert f"5-hour {percent} % · " in rig.menu_text()
            assert rig.five_hour() == (None if expect.status is Status.LOGIN_NEEDED else percent)
            kept = f"kept: 5h {percent} %"

    pause = rig.backoff_seconds()
    if expect.pause is None:
        assert pause is None, f"unexpected back-off of {pause} s"
        backoff = "-"
    else:
        assert pause is not None and expect.pause - 2 <= pause <= expect.pause + 1, pause
        backoff = f"{pause:.0f} s"
    then = next_refresh(rig, expect, sent_before)
    OUTCOMES.append(Outcome(case.id, source, report.status.value, short(report.message), backoff, kept, then))


def next_refresh(rig: Rig, expect: Expect, sent_before: int) -> str:
    """The user's "Refresh now" after the fault: paused, refused credential left alone, or asked again."""
    if expect.pause is not None:
        rig.clock.advance(expect.pause / 2)
        sent = rig.sent()
        rig.tick(refresh_now=True)
        assert rig.sent() == sent, "a request went out inside the back-off"
        assert rig.report.status is expect.status
        rig.clock.advance(expect.pause / 2 + 2)
        rig.tick(refresh_now=True)
        assert rig.report.status is Status.OK, rig.report.message
        return f"paused, 0 sent; OK after {expect.pause:g} s"
    rig.clock.advance(timedelta(minutes=1))
    if rig.base_url != rig.server.base_url:
        rig.connect(rig.server.base_url)  # the network is back
    sent = rig.sent()
    rig.tick(refresh_now=True)
    if expect.login:
        assert rig.sent() == sent, "a refused credential was sent again"
        assert rig.report.status is Status.LOGIN_NEEDED
        return "refused login not resent"
    assert rig.sent() > sent
    if expect.status is Status.LOGIN_NEEDED:
        assert rig.report.status is Status.OK
        return "asks again: OK"
    assert rig.report.status is Status.OK, rig.report.message
    return "recovers: OK"


# --- wrong types in every field --------------------------------------------------------------------

ANY = "*"  # any index of a list: a change at a path applies to every element there
JsonPath = tuple[str, ...]
# When each source asks the endpoints it does not ask every time: the profile at most daily (Code), the
# organization, workspaces and Claude Code report at most hourly (Console).
EVERY_ENDPOINT_AT = {
    CODE: GOOD_POLL + timedelta(hours=25),
    CONSOLE: GOOD_POLL + timedelta(minutes=61),
    WEB: FAULT_AT,
}


def _kind(node: Any) -> str:
    if isinstance(node, bool) or node is None:
        return "other"
    if isinstance(node, int | float):
        return "number"
    return "object" if isinstance(node, dict) else "list" if isinstance(node, list) else "other"


def json_paths(body: Any) -> dict[JsonPath, set[str]]:
    """Every path of an answer (list indices as ANY), with the kinds of value found there."""
    found: dict[JsonPath, set[str]] = {}

    def walk(node: Any, path: JsonPath) -> None:
        found.setdefault(path, set()).add(_kind(node))
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for value in node:
                walk(value, (*path, ANY))

    walk(body, ())
    return found


def replaced(node: Any, path: JsonPath, make: Callable[[Any], Any]) -> Any:
    """A copy of node with make(value) in place of every value at path."""
    if not path:
        return make(node)
    head, rest = path[0], path[1:]
    if head == ANY and isinstance(node, list):
        return [replaced(item, rest, make) for item in node]
    if isinstance(node, dict) and head in node:
        return {**node, head: replaced(node[head], rest, make)}
    return node


def all_null(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: all_null(value) for key, value in node.items()}
    if isinstance(node, list):
        return [all_null(value) for value in node]
    return None


def _as_text(value: Any) -> Any:
    return str(value) if _kind(value) == "number" else value


def _in_a_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


def endpoint_answers(world: World, source: str) -> list[tuple[datetime, str, Any]]:
    """Every endpoint a source uses, with the first time after the good poll it is asked again (each
    refresh then costs as few requests as possible) and its good answer at that time."""
    first = world.good_answers(source, FAULT_AT)
    later = world.good_answers(source, EVERY_ENDPOINT_AT[source])
    asked = {path for path, _ in first}
    return [(FAULT_AT, path, body) for path, body in first] + [
        (EVERY_ENDPOINT_AT[source], path, body) for path, body in later if path not in asked
    ]


def mutations(kind: str, body: Any) -> Iterator[tuple[str, Any]]:
    """(label, changed answer) for one kind of wrong type, at every path of a good answer in turn."""
    wanted, make = {
        WRONG_TYPES[0]: ("number", _as_text),
        WRONG_TYPES[1]: ("object", _in_a_list),
        WRONG_TYPES[2]: (None, lambda _: None),
    }[kind]
    for path, kinds in json_paths(body).items():
        if wanted is None or wanted in kinds:
            yield "/".join(path) or "(the whole answer)", replaced(body, path, make)
    if wanted is None:
        yield "(every value null)", all_null(body)


@dataclass
class Tally:
    statuses: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    problems: list[str] = field(default_factory=list)

    def text(self) -> str:
        return " · ".join(
            f"{status} {count}" for status, count in sorted(self.statuses.items(), reverse=True)
        )


def run_mutation(rig: Rig, world: World, endpoint: str, body: Any, tally: Tally) -> None:
    """One refresh that meets one changed answer; what a user could notice is checked."""
    source = rig.source
    shown_before = rig.stored()
    before = dump(rig.db_path)
    asked = len(rig.server.requests(endpoint))
    rig.server.queue(endpoint, json_answer(body))
    figures_path = FIGURES_PATH[source]
    rig.served = (
        body if endpoint == figures_path else world.good_answer(source, figures_path, rig.clock.now())
    )
    rig.tick()
    assert len(rig.server.requests(endpoint)) > asked, "the changed answer was never asked for"
    report = rig.report
    after = dump(rig.db_path)
    change = diff(before, after)
    assert_nothing_impossible(after)
    # Garbled data is a server problem or a usable answer: never offline, never "log in again".
    assert report.status in (Status.OK, Status.ERROR), (report.status, report.message)
    tally.statuses[report.status.value] = tally.statuses.get(report.status.value, 0) + 1
    if report.status is Status.ERROR:
        assert report.message and "(showing figures from" in report.message, report.message
        assert report.message in rig.menu_text()
    if source == CONSOLE:
        # Costs only ever grow: whatever a garbled answer does, the month's spend shown never drops.
        assert isinstance(report, ConsoleReport) and report.figures is not None
        # (Row-level garbling, e.g. one field of every Claude Code record, lowers that row's figure by
        # design: console_parse skips what it cannot read. Whole days never vanish.)
        baseline = shown_before[1][1]
        assert report.figures.mtd_cost >= baseline, (report.figures.mtd_cost, baseline)
        tally.kept += report.figures.mtd_cost == baseline
        return
    if report.status is Status.ERROR:
        assert_rejected(change, source)
        assert rig.shown() == shown_before
        tally.kept += 1
        return
    valid = valid_percents(rig.served)
    rows = change.added["window_snapshots"]
    assert all(row[3] in valid for row in rows), (rows, valid)
    # An answer taken as usable has figures: it never blanks the icon and the menu.
    shown = rig.poller.reports.code
    assert shown is not None and (shown.windows or shown.extra_usage is not None), shown
    account = rig.app.store.account()
    if source == CODE:
        # A garbled profile never replaces the known account with blanks.
        assert account is not None and account[1].email == "jane@example.com", account


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", WRONG_TYPES)
def test_wrong_types(world: World, kind: str, source: str) -> None:
    answers = endpoint_answers(world, source)
    clock = FakeClock(FAULT_AT)
    tally = Tally()
    with DemoServer("full", clock=clock.epoch) as server:
        for at, endpoint, good in answers:
            for label, body in mutations(kind, good):
                rig = world.rig(source, at, (server, clock))
                try:
                    run_mutation(rig, world, endpoint, body, tally)
                except AssertionError as exc:
                    tally.problems.append(f"{endpoint} {label}: {str(exc)[:300]}")
                finally:
                    rig.close()
    total = sum(tally.statuses.values())
    endpoints = ", ".join(sorted({path.rsplit("/", 1)[-1] for _, path, _ in answers}))
    said = f"{total} changed answers, one path at a time, of: {endpoints}"
    OUTCOMES.append(
        Outcome(kind, source, "ok / error", said, "-", tally.text(), f"last good kept: {tally.kept}/{total}")
    )
    assert not tally.problems, "\n".join(tally.problems)
