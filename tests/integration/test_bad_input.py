"""Bad local input: a broken login file, settings file or history database never stops the program,
says what is wrong in one line, and loses nothing that was already stored.

Root reads and writes any file, so permission cases run the program with the two capabilities that
allow it dropped (setpriv), exactly as an ordinary user meets them. A full disk is a small tmpfs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.core.models import Status, UsageWindow
from tray_app.core.reports import Reports
from tray_app.core.view import ViewOptions, present
from tray_app.demo import DemoServer
from tray_app.environment import Environment
from tray_app.monitors.code import CodeMonitor
from tray_app.sources.code_api import CodeApi
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.sources.http import HttpClient
from tray_app.store import Store
from tray_app.wiring.app import settings_for

from ..conftest import ACCESS_TOKEN, CliEnv, CliResult

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def rows_in(database: Path) -> list[tuple[object, ...]]:
    """Every window row, as any other program reading the file sees it."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT * FROM window_snapshots ORDER BY at, window_id").fetchall()
    db.close()
    return rows


def stored_status(cli: CliEnv) -> list[tuple[str, float, str]]:
    """A first good run, so that there is something to lose; returns the figures it showed."""
    first = cli.run("status", "--json")
    assert first.code == 0, first.stderr
    return figures(first)


def figures(result: CliResult) -> list[tuple[str, float, str]]:
    return [(w["id"], w["utilization"], w["resets_at"]) for w in result.json()["code"]["windows"]]


def windows(utilization: float) -> list[UsageWindow]:
    return [
        UsageWindow("five_hour", "5-hour", utilization, T0 + timedelta(hours=3)),
        UsageWindow("seven_day", "7-day", utilization / 2, T0 + timedelta(days=4)),
    ]


# -- the Claude Code login -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("missing", "Claude Code is not logged in on this machine"),
        ("empty", "are empty"),
        ("not json", "are not valid JSON"),
        ("login is a list", "no Claude Code login"),
        ("token is a number", "no access token"),
        ("null everywhere", "no Claude Code login"),
        pytest.param(
            "unreadable",
            "permission denied",
            marks=pytest.mark.skipif(
                sys.platform == "win32", reason="chmod(0) does not make a file unreadable on Windows"
            ),
        ),
    ],
)
def test_a_broken_login_file_keeps_the_stored_figures(
    cli: CliEnv, server: DemoServer, damage: str, words: str
) -> None:
    before = stored_status(cli)
    stored_rows = rows_in(cli.home / "usage_history.db")
    sent = len(server.requests("/api/oauth/usage"))
    login = cli.claude_dir / ".credentials.json"
    if damage == "missing":
        login.unlink()
    elif damage == "unreadable":
        login.chmod(0)
    else:
        content = {
            "empty": b"",
            "not json": b'{"claudeAiOauth": {"accessToken": "sk-ant-oat01-',
            "login is a list": json.dumps({"claudeAiOauth": ["a", "b"]}).encode(),
            "token is a number": json.dumps(
                {"claudeAiOauth": {"accessToken": 42, "expiresAt": "soon"}}
            ).encode(),
            "null everywhere": json.dumps({"claudeAiOauth": None, "organizationUuid": None}).encode(),
        }[damage]
        login.write_bytes(content)

    result = cli.run("status", "--json", plain_user=True)

    assert result.code == 3, result.stderr  # login needed
    report = result.json()["code"]
    assert report["status"] == "login_needed" and words in report["message"]
    assert "\n" not in report["message"]
    # The figures of the last good poll are still what the user sees, and nothing was sent or stored.
    assert figures(result) == before
    assert len(server.requests("/api/oauth/usage")) == sent
    assert rows_in(cli.home / "usage_history.db") == stored_rows


def test_a_login_rewritten_in_place_while_being_read(claude_dir: Path) -> None:
    # Claude Code may truncate and rewrite the file as we read it; every read must still find the login.
    path = claude_dir / ".credentials.json"
    whole = path.read_bytes()
    stop = threading.Event()

    def rewrite_in_place() -> None:
        while not stop.is_set():
            with path.open("r+b") as handle:
                handle.truncate(0)
                handle.write(whole[: len(whole) // 2])
                handle.flush()
                time.sleep(0.003)
                handle.write(whole[len(whole) // 2 :])
            time.sleep(0.03)

    writer = threading.Thread(target=rewrite_in_place)
    writer.start()
    failures = []
    try:
        for _ in range(150):
            store = ClaudeCredentialStore(claude_dir, platform="linux")  # a fresh reader: no cached copy
            try:
                assert store.load().credentials.access_token == ACCESS_TOKEN
            except Exception as exc:  # noqa: BLE001 - counted and shown below
                failures.append(str(exc))
            time.sleep(0.002)
    finally:
        stop.set()
        writer.join()
    assert failures == []


# -- the settings file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("retention_days = [", "not valid TOML"),
        (
            "code_poll_seconds = 'fast'",
            "code_poll_seconds must be a whole number from 60 to 3600 (got 'fast')",
        ),
        ("code_poll_seconds = 5", "code_poll_seconds must be a whole number from 60 to 3600 (got 5)"),
        ("retention_days = 0", "retention_days must be a whole number from 1 to 3650 (got 0)"),
        ("thresholds = 'high'", "thresholds must be"),
        ("[console]\nbudget = -5", "console.budget must be a positive amount"),
        ("[web]\nenabled = 'yes'", "web.enabled must be true or false"),
        ("[web]\nfavourite = 1", "unknown setting web.favourite"),
        ("console = 3", "console must be a table"),
    ],
)
def test_a_broken_settings_file_stops_a_command_with_one_line(cli: CliEnv, config: str, words: str) -> None:
    stored_status(cli)
    stored_rows = rows_in(cli.home / "usage_history.db")
    (cli.home / "config.toml").write_text(config + "\n")

    result = cli.run("status")

    assert result.code == 2
    assert words in result.stderr and str(cli.home / "config.toml") in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert rows_in(cli.home / "usage_history.db") == stored_rows
    assert (cli.home / "config.toml").read_text() == config + "\n"  # never "repaired" behind the user's back


def test_unknown_settings_are_named_and_the_rest_applies(cli: CliEnv) -> None:
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text("colour = 'red'\nretention_days = 2\n")
    result = cli.run("doctor")
    assert "unknown setting 'colour' ignored" in result.stderr


def test_the_tray_starts_on_defaults_when_the_settings_file_is_broken(cli: CliEnv) -> None:
    # A tray started at login has no terminal to print to: it must start, and say why in its menu.
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text("code_poll_seconds = 1\n")

    settings = settings_for("run", Environment(cli.env(), sys.platform, cli.home.parent / "user-home"))

    assert settings.code_poll_seconds == 180  # the default, not the refused value
    assert settings.file_problem is not None and "code_poll_seconds" in settings.file_problem
    menu = present(Reports(), T0, UTC, ViewOptions(), notices=[settings.file_problem]).menu
    assert any("using the default settings" in row.text for row in menu)


# -- the history database ------------------------------------------------------------------------


@pytest.fixture
def monitor_parts(
    tmp_path: Path, server: DemoServer, claude_dir: Path
) -> Iterator[tuple[Path, HttpClient, ClaudeCredentialStore]]:
    http = HttpClient(timeout=2.0)
    yield tmp_path / "app-home", http, ClaudeCredentialStore(claude_dir, platform="linux")
    http.close()


def make_monitor(
    store: Store, server: DemoServer, parts: tuple[Path, HttpClient, ClaudeCredentialStore]
) -> CodeMonitor:
    _, http, credentials = parts
    return CodeMonitor(
        store, credentials, CodeApi(http, server.base_url, "2.1.0"), shared_freshness=timedelta(0)
    )


class LockHolder:
    """Another program holding the database's write lock until told to let go."""

    def __init__(self, database: Path) -> None:
        script = (
            "import sqlite3, sys\n"
            f"db = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n"
            "db.execute('COMMIT')\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.wait(timeout=10) == 0


def test_a_database_locked_for_long_keeps_figures_in_memory_then_saves_them(
    server: DemoServer, monitor_parts: tuple[Path, HttpClient, ClaudeCredentialStore]
) -> None:
    database = monitor_parts[0] / "usage_history.db"
    with Store.open(database) as store:
        monitor = make_monitor(store, server, monitor_parts)
        assert monitor.poll().status is Status.OK
        holder = LockHolder(database)
        try:
            during = [monitor.poll() for _ in range(4)]
        finally:
            holder.release()
        # Polling went on with real figures; the menu says why they are not being saved.
        assert all(report.status is Status.OK and report.windows for report in during)
        assert store.problem is not None and "locked by another program" in store.problem
        assert str(database) in store.problem
        menu = present(
            Reports(during[-1]), datetime.now(UTC), UTC, ViewOptions(), notices=[store.problem]
        ).menu
        assert any(row.text.startswith("Cannot save history to") for row in menu)
        assert store.snapshot_count() == 5 * 3  # the waiting rows count, and the forecast reads them

        monitor.poll()
        assert store.problem is None
    # Every poll's figures reached the file once the lock was gone: 6 polls of 3 windows.
    assert len(rows_in(database)) == 6 * 3


def test_the_cli_says_the_database_is_locked_and_still_answers(cli: CliEnv) -> None:
    Store.open(cli.home / "usage_history.db").close()
    holder = LockHolder(cli.home / "usage_history.db")
    try:
        result = cli.run("status")
    finally:
        holder.release()
    assert result.code == 0 and "5-hour" in result.stdout
    assert f"warning: cannot save history to {cli.home / 'usage_history.db'}: it is locked" in result.stderr


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX modes: Windows chmod only sets a file's read-only flag (folders stay writable)",
)
def test_a_read_only_database_is_shown_and_not_changed(cli: CliEnv) -> None:
    stored_status(cli)
    database = cli.home / "usage_history.db"
    stored_rows = rows_in(database)
    database.chmod(0o400)
    cli.home.chmod(0o500)  # no -wal or -shm can be made beside it either
    try:
        result = cli.run("status", "--json", plain_user=True)
        doctor = cli.run("doctor", plain_user=True)
    finally:
        cli.home.chmod(0o700)
    assert result.code == 0, result.stderr
    assert figures(result), "fresh figures are still shown"
    assert f"cannot save history to {database}: the file or its folder is read-only" in result.stderr
    assert "problem: cannot save history" in doctor.stdout
    assert rows_in(database) == stored_rows
    assert oct(database.stat().st_mode & 0o777) == oct(0o400)  # the user's choice of mode is kept


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass  # ENOSPC: the disk is full, as intended
    finally:
        os.close(fd)
    return filler


@pytest.mark.skipif(sys.platform == "win32", reason="the small full disk is a tmpfs made with `mount`")
def test_a_full_disk_loses_no_figures(
    small_disk: Path, server: DemoServer, monitor_parts: tuple[Path, HttpClient, ClaudeCredentialStore]
) -> None:
    database = small_disk / "app-home" / "usage_history.db"
    with Store.open(database) as store:
        monitor = make_monitor(store, server, monitor_parts)
        monitor.poll()
        filler = fill(small_disk)
        during = [monitor.poll() for _ in range(30)]
        assert all(report.status is Status.OK for report in during)
        assert store.problem == f"cannot save history to {database}: the disk is full"
        filler.unlink()
        monitor.poll()
        assert store.problem is None
        history = store.window_history("five_hour", T0 - timedelta(days=1))
    on_disk = rows_in(database)
    assert len(on_disk) == 32 * 3
    assert [row[0] for row in on_disk if row[1] == "five_hour"] == [int(s.at.timestamp()) for s in history]


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="checks POSIX modes 0600/0700; Windows also refuses to delete a database that is open",
)
def test_a_database_deleted_while_running_is_written_back_whole(
    server: DemoServer, monitor_parts: tuple[Path, HttpClient, ClaudeCredentialStore]
) -> None:
    home = monitor_parts[0]
    database = home / "usage_history.db"
    with Store.open(database) as store:
        monitor = make_monitor(store, server, monitor_parts)
        for _ in range(3):
            monitor.poll()
        shutil.rmtree(home)  # the user cleans up the whole folder while the tray runs
        monitor.poll()
        assert store.problem is None
    assert len(rows_in(database)) == 4 * 3  # the three earlier polls too, not only the newest
    assert database.stat().st_mode & 0o077 == 0 and home.stat().st_mode & 0o077 == 0


def test_a_database_damaged_while_running_is_moved_aside_and_polling_goes_on(tmp_path: Path) -> None:
    database = tmp_path / "usage_history.db"
    with Store.open(database) as store:
        for minute in range(2000):
            store.add_windows(T0 + timedelta(minutes=minute), windows(minute / 20))
        with sqlite3.connect(database) as other:
            other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        other.close()
        size = database.stat().st_size
        with database.open("r+b") as handle:  # a disk error scribbles over everything past page 2
            handle.seek(8192)
            handle.write(os.urandom(size - 8192))
        other = sqlite3.connect(database)
        with pytest.raises(sqlite3.DatabaseError):
            other.execute("INSERT INTO kv VALUES ('poke', 'x', 1)")  # another process notices first
        with contextlib.suppress(sqlite3.Error):
            other.close()

        store.window_history("five_hour", T0)  # our next read meets the damage
        assert store.problem is not None and "moved aside" in store.problem
        store.add_windows(T0 + timedelta(days=2), windows(10.0))
        assert store.problem is None
    aside = [p.name for p in tmp_path.iterdir() if p.name.startswith("usage_history.db.corrupt-")]
    assert len(aside) == 1, "the damaged file is kept for a post-mortem"
    assert len(rows_in(database)) == 2


def test_a_database_that_cannot_be_opened_at_all_keeps_figures_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    with Store.open(blocked / "usage_history.db") as store:
        assert store.problem is not None and str(blocked / "usage_history.db") in store.problem
        store.add_windows(T0, windows(12.0))
        assert [s.utilization for s in store.window_history("five_hour", T0)] == [12.0]
        assert store.latest_window_time() == T0
