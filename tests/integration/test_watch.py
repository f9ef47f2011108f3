"""`watch`: the dashboard against golden text, and run_watch for real in a child under a pseudo-terminal.

UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/test_watch.py     rewrites tests/golden/watch_*.txt
"""

from __future__ import annotations

import io
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from tray_app.core.console import ConsoleReport, ModelSpend, MonthFigures, WorkspaceSpend
from tray_app.core.models import (
    Account,
    CodeReport,
    ExtraUsage,
    Forecast,
    Source,
    Status,
    UsageWindow,
    WindowReport,
)
from tray_app.core.web import Overage, Prepaid
from tray_app.core.web_report import WebReport
from tray_app.watch import INSTALL_HINT, WatchState, dashboard, render_dashboard, run_watch

from .. import spenders_data as spenders
from ..conftest import REPO

if sys.platform != "win32":  # the pseudo-terminal that run_watch is driven on below is POSIX-only
    import fcntl
    import pty
    import termios

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
NOW = datetime(2025, 11, 14, 14, 2, 5, tzinfo=UTC)
ACCOUNT = Account("jane@example.com", "Max 5x", "jane@example.com's Organization")


def _window(window_id: str, label: str, percent: float, resets_in: timedelta | None) -> UsageWindow:
    return UsageWindow(window_id, label, percent, None if resets_in is None else NOW + resets_in)


def _code(status: Status = Status.OK, message: str | None = None, *, extra: bool = True) -> CodeReport:
    five = WindowReport(
        _window("five_hour", "5-hour", 62.0, timedelta(hours=2, minutes=14)),
        Forecast(22.0, 118.0, NOW + timedelta(hours=1, minutes=43)),
        Source.CLAUDE_CODE,
        NOW - timedelta(seconds=20),
    )
    week = WindowReport(
        _window("seven_day", "Weekly", 41.0, timedelta(days=3, hours=4)),
        Forecast(0.4, 70.0, None),
        Source.ANTHROPIC,
        NOW - timedelta(minutes=3),
    )
    opus = WindowReport(
        _window("seven_day_opus", "Weekly · Opus", 0.4, None),
        Forecast(None, None, None),
        Source.ANTHROPIC,
        NOW - timedelta(minutes=3),
    )
    return CodeReport(
        status,
        message,
        ACCOUNT,
        NOW - timedelta(seconds=20),
        (five, week, opus),
        ExtraUsage(True, 12.0, 40.0, "EUR", 30.0) if extra else None,
    )


def _console() -> ConsoleReport:
    figures = MonthFigures(
        month="2025-11",
        currency="USD",
        mtd_cost=Decimal("1234.56"),
        projected_month_end_cost=Decimal("2611.40"),
        budget=Decimal("3000"),
        by_model=(
            ModelSpend(
                "claude-sonnet-4-5-20250929", Decimal("1000.50"), 12_345_678, 2_345_678, 98_765_432, 1_234_567
            ),
            ModelSpend("claude-haiku-4-5", Decimal("234.06"), 845_200, 120_000, 0, 312),
        ),
        workspaces=(
            WorkspaceSpend("wrkspc_1", "Research", Decimal("900"), Decimal("1000")),
            WorkspaceSpend(None, "Default workspace", Decimal("334.56"), None),
        ),
        my_email="jane@example.com",
        my_claude_code_cost=Decimal("12.34"),
        daily=(),
    )
    # Read back from the database: STALE by construction, the age of the figures is what counts.
    return ConsoleReport(
        Status.STALE, "figures from the database", "Acme Inc", NOW - timedelta(minutes=4), figures
    )


STATES: dict[str, Callable[[], WatchState]] = {
    "code": lambda: WatchState(_code(), None, None),
    "console": lambda: WatchState(None, _console(), None),
    "error": lambda: WatchState(
        _code(Status.LOGIN_NEEDED, "Claude Code login expired: run `claude` to log in again [tui]"),
        ConsoleReport(Status.OFFLINE, "cannot reach api.anthropic.com", None, None, None),
        WebReport(Status.BLOCKED, "claude.ai asked for a browser check", "chrome", None, None, None),
    ),
    "everything": lambda: WatchState(
        _code(extra=False),
        _console(),
        WebReport(
            Status.OK, None, "firefox", "Jane", Overage(True, 12.0, 40.0, "EUR"), Prepaid(100.0, "USD")
        ),
    ),
    "not_set_up": lambda: WatchState(None, None, None),
}

# What a user must see in each, whatever the golden file says: the golden could be rewritten blindly.
MUST_SHOW = {
    "code": [
        "jane@example.com · Max 5x",
        "Updated 20 s ago",
        "62 %",
        "resets in 2 h 14 m (at 16:16)",
        "22.0 %/h · projected 118 % at reset · limit at 15:45 · from Claude Code, 20 s ago",
        "resets Mon 18:02 (in 3 d 4 h)",
        "0.4 %/h · projected 70 % at reset · from Anthropic, 3 min ago",
        "€12.00 of €40.00 this month",
    ],
    "console": [
        "Console · Acme Inc",
        "Updated 4 min ago",
        "This month: $1,234.56 · projected $2,611 by Nov 30 · budget $3,000.00 (41 %)",
        "claude-sonnet-4-5-20250929",
        "$1,000.50",
        "12.3 M",
        "Research",
        "$1,000.00",
        "90 %",
        "Your Claude Code usage: $12.34 (jane@example.com)",
    ],
    "error": [
        "Login needed",
        "run `claude` to log in again [tui]",
        "Offline",
        "Blocked",
        "No spend figures yet.",
    ],
    "everything": [
        "5-hour",
        "Usage credits: €12.00 of €40.00 this month",
        "Prepaid credits: $100.00",
        "Acme Inc",
    ],
    "not_set_up": [
        "Not set up: run `claude auth login` (Claude Code),",
        "or set ANTHROPIC_ADMIN_API_KEY (Console)",
    ],
}


@pytest.mark.parametrize("name", sorted(STATES))
def test_dashboard_matches_its_golden_text(name: str) -> None:
    text = render_dashboard(STATES[name](), NOW, UTC, width=100)
    assert "\x1b" not in text
    for phrase in MUST_SHOW[name]:
        assert phrase in text, f"{phrase!r} missing from:\n{text}"
    path = GOLDEN / f"watch_{name}.txt"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs:\n{text}"


def _section(text: str, title: str) -> str:
    """The lines of the panel whose top border carries title, down to its bottom border."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"╭─ {title}"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("╰"))
    return "\n".join(lines[start : end + 1])


def test_problems_sit_in_a_box_of_their_own() -> None:
    text = render_dashboard(STATES["error"](), NOW, UTC)
    code = _section(text, "Claude Code")
    # The message is inside a nested box (│ ╭─ Login needed ...), not loose in the panel; figures stay.
    assert "│ ╭─ Login needed" in code and "│ │ Claude Code login expired" in code
    assert "Updated 20 s ago" in code and "62 %" in code
    # The web problem is not repeated as a "claude.ai: ..." line under its box.
    assert "claude.ai: " not in text


def test_countdowns_move_with_the_clock_alone() -> None:
    state = STATES["code"]()
    later = render_dashboard(state, NOW + timedelta(minutes=1), UTC)
    assert "Updated 1 min ago" in later and "resets in 2 h 13 m (at 16:16)" in later
    assert "Claude usage · 14:03:05" in later


def _bar_colour(percent: float) -> str:
    window = WindowReport(
        _window("five_hour", "5-hour", percent, timedelta(hours=1)), Forecast(None, None, None)
    )
    report = CodeReport(Status.OK, None, None, NOW, (window,), None)
    console = Console(file=io.StringIO(), width=100, color_system="256", force_terminal=True)
    console.print(dashboard(WatchState(report, None, None), NOW, UTC))
    assert isinstance(console.file, io.StringIO)
    match = re.search(r"\x1b\[([0-9;]+)m█", console.file.getvalue())
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize(
    ("percent", "sgr"),
    [(20.0, "32"), (50.0, "33"), (80.0, "38;5;208"), (90.0, "31"), (100.0, "31")],
    ids=["green", "amber at 50", "orange at 75-90", "red at 90", "red when full"],
)
def test_bars_take_the_colour_of_their_level(percent: float, sgr: str) -> None:
    assert _bar_colour(percent) == sgr


def test_narrow_terminals_keep_money_whole() -> None:
    text = render_dashboard(STATES["everything"](), NOW, UTC, width=64)
    assert "$1,000.50" in text and "$234.06" in text and "12.3 M" in text
    assert "Cache read" not in text  # given up first when the table would not fit


def _rows(text: str, heading: str) -> list[str]:
    """A table's rows under its heading, as the panel shows them (borders and padding cut off)."""
    lines = [line.strip("│ ").rstrip() for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(heading)) + 2  # past the rule
    end = next(i for i in range(start, len(lines)) if not lines[i])
    return [" ".join(line.split()) for line in lines[start:end]]


def test_the_console_panel_says_who_spent_and_where_the_month_came_from() -> None:
    text = render_dashboard(WatchState(None, spenders.console(), None), spenders.NOW, UTC, width=100)
    assert _rows(text, "By API key") == [
        "prod-backend $812.40",
        "claude-code-team $312.40 $500.00 62 %",
        "research-notebooks $150.00",
        "old-ci (deleted) $90.00",
        "staging $60.00",
        "others (3) $50.98",
    ]
    assert _rows(text, "By person") == [
        "ci-runner $700.00",
        "Raj Patel · raj@example.com $400.00",
        "prod-backend $200.00",
        "Mia Chen (deleted) · mia@example.com $100.00",
        "okta:sam $50.00",
        "others (2) $25.78",
    ]
    assert "Your API spend: $12.34 (jane@example.com)" in text
    assert "Source: Analytics API (beta)" in text
    assert text.index("Default workspace") < text.index("By API key") < text.index("Your API spend")


def test_a_month_from_the_cost_report_shows_no_spenders_and_tells_why_when_the_analytics_api_refused() -> (
    None
):
    plain = render_dashboard(
        WatchState(None, spenders.console(spenders.COST_REPORT_FIGURES), None), spenders.NOW, UTC
    )
    assert "By API key" not in plain and "By person" not in plain and "Source" not in plain
    refused = spenders.console(spenders.COST_REPORT_FIGURES, spenders.NOTE)
    text = render_dashboard(WatchState(None, refused, None), spenders.NOW, UTC, width=200)
    assert f"Source: cost report · {spenders.NOTE}" in text and "By API key" not in text


# --- run_watch for real: a child process on a pseudo-terminal ---------------------------------------

CHILD = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tray_app.core.models import Account, CodeReport, Status, Forecast, UsageWindow, WindowReport
from tray_app.watch import WatchState, run_watch

DATA = Path(sys.argv[1])
POLL_EVERY = float(sys.argv[2])  # 0: no poll callable, as when a tray is fetching alongside
START = datetime.now(UTC)
seen = {"text": None, "polls": 0}


def state(email):
    window = UsageWindow("five_hour", "5-hour", float(DATA.read_text()), START + timedelta(hours=3))
    report = CodeReport(
        Status.OK, None, Account(email, "Max", None), START - timedelta(seconds=15),
        (WindowReport(window, Forecast(None, None, None)),), None,
    )
    return WatchState(report, None, None)


def load():
    return state("loaded@example.com")


def changed():
    text = DATA.read_text()
    fresh, seen["text"] = text != seen["text"], text
    return fresh


def poll():
    seen["polls"] += 1
    return state(f"poll-{seen['polls']}@example.com")


raise SystemExit(
    run_watch(load, changed, poll if POLL_EVERY else None, poll_every=POLL_EVERY or 60.0, tick=0.2)
)
"""

_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class PtyChild:
    """A child process whose terminal is a real pseudo-terminal; its screen output is read as text."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 40, cols: int = 110) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal, so ^C becomes SIGINT
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.raw = b""
        self.mark = 0
        self.returncode: int | None = None

    @property
    def text(self) -> str:
        return _ESCAPES.sub(b"", self.raw).decode("utf-8", "replace")

    def _pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: every holder of the terminal's other end has gone
            return False
        self.raw += chunk
        return bool(chunk)

    def wait_for(self, pattern: str, seconds: float = 8.0) -> re.Match[str]:
        """The next match of pattern drawn after the previous one, within seconds."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + seconds
        while True:
            match = compiled.search(self.text, self.mark)
            if match is not None:
                self.mark = match.end()
                return match
            if time.monotonic() > deadline or not self._pump(0.05):
                raise AssertionError(
                    f"{pattern!r} not drawn within {seconds} s; last output:\n{self.text[-3000:]}"
                )

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait_exit(self, seconds: float = 8.0) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                # What the child wrote last (leaving the alternate screen) may still be unread.
                while select.select([self.fd], [], [], 0.05)[0] and self._pump(0):
                    pass
                self.returncode = os.waitstatus_to_exitcode(status)
                return self.returncode
            self._pump(0.05)
        raise AssertionError(f"still running {seconds} s later; last output:\n{self.text[-3000:]}")

    def close(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.returncode = -signal.SIGKILL
        os.close(self.fd)


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"}}
    env.update(TERM="xterm-256color", PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    env.pop("TTY_COMPATIBLE", None)
    env.pop("TTY_INTERACTIVE", None)
    return env


def _write(path: Path, text: str) -> None:
    # Atomically, so that the child never reads a half-written file.
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(path)


@pytest.fixture
def watch_child(tmp_path: Path) -> Iterator[Callable[[float], tuple[PtyChild, Path]]]:
    if sys.platform == "win32":
        pytest.skip("run_watch is driven here on a pseudo-terminal (pty), which Windows lacks")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    data = tmp_path / "percent.txt"
    _write(data, "42")
    children: list[PtyChild] = []

    def start(poll_every: float) -> tuple[PtyChild, Path]:
        child = PtyChild([sys.executable, str(script), str(data), str(poll_every)], _child_env())
        children.append(child)
        return child, data

    yield start
    for child in children:
        child.close()


def test_watch_draws_reloads_ticks_and_quits_on_ctrl_c(
    watch_child: Callable[[float], tuple[PtyChild, Path]],
) -> None:
    child, data = watch_child(0.0)
    child.wait_for("loaded@example.com · Max")
    child.wait_for(r"5-hour\s+[█░]+\s+42 %\s+resets in 2 h 59 m")
    # The figures stand still, yet the age of the figures moves on its own.
    first = int(child.wait_for(r"Updated (\d+) s ago").group(1))
    child.wait_for(rf"Updated (?!{first} )\d+ s ago")

    _write(data, "77")
    child.wait_for(r"5-hour\s+[█░]+\s+77 %")

    interrupted_at = len(child.raw)
    child.send(b"\x03")  # Ctrl+C, through the terminal's line discipline
    assert child.wait_exit() == 0
    after = child.raw[interrupted_at:]
    assert b"\x1b[?1049l" in after, "the alternate screen was not left"
    assert b"\x1b[?25h" in after, "the cursor was not shown again"
    assert b"Traceback" not in child.raw


def test_watch_polls_by_itself_when_asked(watch_child: Callable[[float], tuple[PtyChild, Path]]) -> None:
    child, _ = watch_child(0.3)
    for count in (1, 2, 3):
        child.wait_for(rf"poll-{count}@example\.com")
    os.kill(child.pid, signal.SIGINT)
    assert child.wait_exit() == 0
    assert b"Traceback" not in child.raw


def test_without_rich_it_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "import tray_app.watch\n"
        "print('rich imported:', 'rich' in sys.modules)\n"
        "sys.modules['rich'] = None  # as if it were not installed\n"
        "raise SystemExit(tray_app.watch.run_watch(lambda: None, lambda: False, None, poll_every=60.0))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == "rich imported: False\n"
    assert result.stderr == INSTALL_HINT + "\n"
    assert "pip install 'claude-usage-tray[tui]'" in result.stderr


def test_a_failing_read_keeps_the_screen_alive_and_says_so() -> None:
    calls = {"changed": 0}

    def load() -> WatchState:
        raise RuntimeError("database is locked")

    def changed() -> bool:
        calls["changed"] += 1
        if calls["changed"] == 3:
            raise KeyboardInterrupt  # what Ctrl+C raises, here on the third tick
        return True

    screen = io.StringIO()
    terminal = Console(file=screen, width=100, height=30, force_terminal=True, color_system=None)
    status = run_watch(
        load,
        changed,
        None,
        poll_every=60.0,
        tick=0.0,
        tz_factory=lambda: UTC,
        clock=lambda: NOW,
        terminal=terminal,
    )
    assert status == 0 and calls["changed"] == 3
    out = screen.getvalue()
    assert "could not read the figures: see the log file" in out
    assert "database is locked" not in out and "Not set up" not in out
