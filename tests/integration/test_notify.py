"""Notification delivery against a real notification server on a private D-Bus session bus.

notify-send, plyer and the tray's D-Bus route talk to tests/integration/notifyd.py, a recording
org.freedesktop.Notifications server on a dbus-daemon of our own (no service activation, so "no
server" really means none). osascript is a recording stand-in on a temporary PATH.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tray_app.ui.notify import (
    BACKEND_NAMES,
    FallbackNotifier,
    JsonLinesNotifier,
    NotifyError,
    NotifySendNotifier,
    NullNotifier,
    OsascriptNotifier,
    PlyerNotifier,
    PystrayNotifier,
    build_notifier,
)

from .notifyd import NAME, NotificationServer, PrivateBus

APP = "claude-usage-tray"
LOGGER = "tray_app.ui.notify"
LINUX = sys.platform.startswith("linux")


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateBus]:
    """A dbus-daemon of our own for this module. Fails (never skips) on Linux when a part is missing."""
    if not LINUX:
        pytest.skip("D-Bus notifications exist on Linux only")
    missing = [program for program in ("dbus-daemon", "notify-send") if shutil.which(program) is None]
    if importlib.util.find_spec("gi") is None:
        missing.append("PyGObject (pip install 'PyGObject<3.51')")
    if missing:
        pytest.fail(f"the notification tests need: {', '.join(missing)} (Debian: dbus libnotify-bin)")
    private = PrivateBus(tmp_path_factory.mktemp("bus"))
    try:
        yield private
    finally:
        private.close()


@pytest.fixture
def session(bus: PrivateBus, monkeypatch: pytest.MonkeyPatch) -> PrivateBus:
    """Point this process (and the commands it runs) at the private bus; no server owns the name yet."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    monkeypatch.delenv("DISPLAY", raising=False)  # nothing may autolaunch another bus through X11
    assert not bus.has_owner(NAME)
    return bus


@pytest.fixture
def servers(session: PrivateBus, tmp_path: Path) -> Iterator[Callable[..., NotificationServer]]:
    """start(hang=False) -> a recording notification server on the bus; all are ended after the test."""
    started: list[NotificationServer] = []

    def start(*, hang: bool = False) -> NotificationServer:
        server = NotificationServer(session, tmp_path / f"received-{len(started)}.jsonl", hang=hang)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def warnings_logged(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    caplog.set_level(logging.INFO, logger=LOGGER)

    def collect() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]

    return collect


def icon_file(folder: Path) -> Path:
    path = folder / "icons" / "claude-usage-tray.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return path


def read_log(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------------------- notify-send


def test_notify_send_delivers_with_our_app_name_icon_and_an_expiry(
    servers: Callable[..., NotificationServer], tmp_path: Path
) -> None:
    server = servers()
    icon = icon_file(tmp_path)
    notifier = NotifySendNotifier(APP, icon)

    notifier.send("5-hour limit: 80 % used", "Resets at 16:20.\nOn pace for 104 % by then.")
    notifier.send("-5 % since the last poll", "a title that looks like an option")

    calls = server.calls()
    assert [(c["app_name"], c["app_icon"], c["summary"], c["body"], c["expire_timeout"]) for c in calls] == [
        (APP, str(icon), "5-hour limit: 80 % used", "Resets at 16:20.\nOn pace for 104 % by then.", 10_000),
        (APP, str(icon), "-5 % since the last poll", "a title that looks like an option", 10_000),
    ]


def test_no_server_falls_through_to_the_log_and_warns_once(
    session: PrivateBus, tmp_path: Path, warnings_logged: Callable[[], list[str]]
) -> None:
    with pytest.raises(NotifyError, match=r"notify-send exited with 1: .*ServiceUnknown"):
        NotifySendNotifier(APP, None).send("title", "body")

    log_file = tmp_path / "state" / "notifications.jsonl"
    notifier = build_notifier(
        "notify-send", platform="linux", app_name=APP, icon_path=None, log_file=log_file, tray_notify=None
    )
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert notifier.send("Weekly limit: 90 % used", "Resets Thu 19:00.") == "log"
    first = warnings_logged()
    assert len(first) == 1
    assert first[0].startswith("notifications through notify-send failed: notify-send exited with 1")
    assert "org.freedesktop.Notifications" in first[0]

    assert notifier.send("Weekly limit reached", 'Quote " and \\ kept') == "log"
    assert notifier.send("Sign-in needed", "Run claude to sign in again.") == "log"
    assert warnings_logged() == first  # nothing new while it keeps failing

    entries = read_log(log_file)
    assert [(e["title"], e["body"]) for e in entries] == [
        ("Weekly limit: 90 % used", "Resets Thu 19:00."),
        ("Weekly limit reached", 'Quote " and \\ kept'),
        ("Sign-in needed", "Run claude to sign in again."),
    ]
    for entry in entries:
        at = datetime.fromisoformat(entry["at"])
        assert at.utcoffset() == timedelta(0) and before <= at <= datetime.now(UTC)
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700


def test_delivery_resumes_when_the_server_returns_and_a_new_failure_is_logged_again(
    servers: Callable[..., NotificationServer], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    log_file = tmp_path / "notifications.jsonl"
    notifier = build_notifier(
        "notify-send", platform="linux", app_name=APP, icon_path=None, log_file=log_file, tray_notify=None
    )

    def messages() -> list[tuple[str, str]]:
        return [(r.levelname, r.getMessage()[:40]) for r in caplog.records if r.name == LOGGER]

    assert notifier.send("one", "no server yet") == "log"
    server = servers()
    assert notifier.send("two", "server up") == "notify-send"
    assert notifier.send("three", "still up") == "notify-send"
    assert [c["summary"] for c in server.calls()] == ["two", "three"]
    server.stop()
    assert notifier.send("four", "server gone") == "log"
    assert notifier.send("five", "still gone") == "log"

    assert messages() == [
        ("WARNING", "notifications through notify-send failed"),
        ("INFO", "notifications through notify-send work a"),
        ("WARNING", "notifications through notify-send failed"),
    ]
    assert [e["title"] for e in read_log(log_file)] == ["one", "four", "five"]


def test_a_hung_notification_server_costs_only_the_command_timeout(
    servers: Callable[..., NotificationServer],
) -> None:
    server = servers(hang=True)
    started = time.monotonic()
    with pytest.raises(NotifyError, match=r"did not finish within 0\.5 s"):
        NotifySendNotifier(APP, None, timeout=0.5).send("stuck", "daemon")
    assert time.monotonic() - started < 3
    assert [c["summary"] for c in server.calls()] == ["stuck"]


# ------------------------------------------------------------------------- auto order on a real bus


def test_auto_on_linux_without_a_server_reaches_the_log_instead_of_silent_routes(
    session: PrivateBus, tmp_path: Path, warnings_logged: Callable[[], list[str]]
) -> None:
    tray_calls: list[tuple[str, str]] = []
    log_file = tmp_path / "notifications.jsonl"
    notifier = build_notifier(
        "auto",
        platform="linux",
        app_name=APP,
        icon_path=None,
        log_file=log_file,
        tray_notify=lambda message, title: tray_calls.append((message, title)),
    )
    assert notifier.names == ("notify-send", "plyer", "pystray", "log")

    assert notifier.send("Weekly limit: 90 % used", "Resets Thu 19:00.") == "log"
    assert notifier.send("Weekly limit reached", "Resets Thu 19:00.") == "log"

    # plyer and pystray on Linux report success whatever happens; neither may swallow the alert.
    assert tray_calls == []
    assert [e["title"] for e in read_log(log_file)] == ["Weekly limit: 90 % used", "Weekly limit reached"]
    assert [m.split(" failed")[0] for m in warnings_logged()] == [
        "notifications through notify-send",
        "notifications through plyer",
        "notifications through pystray",
    ]


def test_auto_on_linux_uses_the_tray_when_notify_send_is_missing(
    servers: Callable[..., NotificationServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = servers()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    tray_calls: list[tuple[str, str]] = []
    notifier = build_notifier(
        "auto",
        platform="linux",
        app_name=APP,
        icon_path=None,
        log_file=tmp_path / "notifications.jsonl",
        tray_notify=lambda message, title: tray_calls.append((message, title)),
    )

    assert notifier.send("5-hour limit: 95 % used", "Resets at 16:20.") == "pystray"
    assert tray_calls == [("Resets at 16:20.", "5-hour limit: 95 % used")]  # pystray: message first
    assert server.calls() == []  # the stand-in tray callable, not notify-send, got it
    assert not (tmp_path / "notifications.jsonl").exists()


def test_plyer_on_linux_delivers_only_through_dbus_python(
    servers: Callable[..., NotificationServer], tmp_path: Path
) -> None:
    server = servers()
    icon = icon_file(tmp_path)
    notifier = PlyerNotifier(APP, icon, platform="linux")
    if importlib.util.find_spec("dbus") is None or os.path.isdir("/app"):
        # plyer would shell out to notify-send (or gdbus), drop icon and expiry, and hide failures.
        with pytest.raises(NotifyError, match=r"plyer would use (notify-send|a gdbus portal call) here"):
            notifier.send("title", "body")
        assert server.calls() == []
    else:
        notifier.send("title", "body")
        (call,) = server.calls()
        assert (call["app_name"], call["app_icon"], call["expire_timeout"]) == (APP, str(icon), 10_000)


# ----------------------------------------------------------------------------------------- osascript


@pytest.fixture
def osascript(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """install(exit_code=0, stderr="") puts a stand-in osascript on PATH; returns its argv record."""
    if sys.platform == "win32":
        pytest.skip("the stand-in is a script with a #! line")

    def install(exit_code: int = 0, stderr: str = "") -> Path:
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        record = tmp_path / "osascript-argv.jsonl"
        program = folder / "osascript"
        program.write_text(
            f"#!{sys.executable}\n"
            "import json, sys\n"
            f"with open({str(record)!r}, 'a') as f: f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
            f"sys.stderr.write({stderr!r})\n"
            f"sys.exit({exit_code})\n"
        )
        program.chmod(0o755)
        monkeypatch.setenv("PATH", str(folder))
        return record

    return install


@pytest.mark.parametrize(
    ("title", "body", "script"),
    [
        (
            "Weekly limit: 90 % used",
            "Resets Thu 19:00.",
            r'"Resets Thu 19:00." with title "Weekly limit: 90 % used"',
        ),
        ('Say "hi"', "C:\\Users\\me", r'"C:\\Users\\me" with title "Say \"hi\""'),
        ('back\\"slash', '\\\\"', r'"\\\\\"" with title "back\\\"slash"'),
        ("two\nlines", "cr\r\nlf\ttab", r'"cr\r\nlf\ttab" with title "two\nlines"'),
        ("bell\x07 and del\x7f", "5-hour · 90 % 🔥", r'"5-hour · 90 % 🔥" with title "bell and del"'),
        ("", "' single ' quotes", '"\' single \' quotes" with title ""'),
    ],
    ids=[
        "plain",
        "quotes-and-backslashes",
        "backslash-before-quote",
        "line-breaks",
        "control-chars",
        "empty",
    ],
)
def test_osascript_gets_a_correctly_escaped_applescript(
    osascript: Callable[..., Path], title: str, body: str, script: str
) -> None:
    record = osascript()
    OsascriptNotifier().send(title, body)
    assert [json.loads(line) for line in record.read_text().splitlines()] == [
        ["-e", f"display notification {script}"]
    ]


def test_osascript_failure_raises_with_its_error_line(osascript: Callable[..., Path]) -> None:
    osascript(
        exit_code=1, stderr="0:57: execution error: Not authorized to send Apple events (-1743)\nmore\n"
    )
    with pytest.raises(NotifyError, match=r"osascript exited with 1: 0:57: execution error: Not authorized"):
        OsascriptNotifier().send("title", "body")


def test_osascript_missing_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NotifyError, match="osascript is not installed"):
        OsascriptNotifier().send("title", "body")


# ------------------------------------------------------------------------------ pystray, null, order


def test_pystray_notifier_hands_message_and_title_to_the_tray() -> None:
    calls: list[tuple[str, str]] = []
    PystrayNotifier(lambda message, title: calls.append((message, title))).send("Title", "Body")
    assert calls == [("Body", "Title")]

    def broken(message: str, title: str) -> None:
        raise NotImplementedError("xorg has no notifications")

    with pytest.raises(NotifyError, match="NotImplementedError: xorg has no notifications"):
        PystrayNotifier(broken).send("Title", "Body")

    blocked = PystrayNotifier(lambda m, t: calls.append((m, t)), precheck=lambda: "no notification service")
    with pytest.raises(NotifyError, match="no notification service"):
        blocked.send("Other", "Body")
    assert calls == [("Body", "Title")]


AUTO = {
    "linux": ("notify-send", "plyer", "pystray", "log"),
    "freebsd14": ("notify-send", "plyer", "pystray", "log"),
    "darwin": ("osascript", "plyer", "pystray", "log"),
    "win32": ("pystray", "plyer", "log"),
}


@pytest.mark.parametrize(("platform", "names"), AUTO.items(), ids=AUTO.keys())
def test_auto_order_per_platform(platform: str, names: tuple[str, ...], tmp_path: Path) -> None:
    def build(tray: Callable[[str, str], None] | None) -> FallbackNotifier:
        return build_notifier(
            "auto", platform=platform, app_name=APP, icon_path=None, log_file=tmp_path / "n", tray_notify=tray
        )

    assert build(lambda message, title: None).names == names
    # Without a tray that can notify (pystray's xorg backend, or no tray at all) that route is left out.
    assert build(None).names == tuple(name for name in names if name != "pystray")


@pytest.mark.parametrize(
    ("choice", "names"),
    [
        ("notify-send", ("notify-send", "log")),
        ("plyer", ("plyer", "log")),
        ("pystray", ("pystray", "log")),
        ("osascript", ("osascript", "log")),
        ("log", ("log",)),
        ("none", ("none",)),
    ],
)
def test_a_specific_choice_keeps_the_log_as_safety_net(
    choice: str, names: tuple[str, ...], tmp_path: Path
) -> None:
    notifier = build_notifier(
        choice,
        platform="linux",
        app_name=APP,
        icon_path=None,
        log_file=tmp_path / "n",
        tray_notify=lambda message, title: None,
    )
    assert notifier.names == names


@pytest.mark.parametrize("choice", ["dunst", "Auto", "", "notify_send"])
def test_unknown_choice_raises_value_error_listing_the_valid_names(choice: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=rf"unknown notification backend {choice!r}") as raised:
        build_notifier(
            choice, platform="linux", app_name=APP, icon_path=None, log_file=tmp_path / "n", tray_notify=None
        )
    assert all(name in str(raised.value) for name in BACKEND_NAMES)


def test_none_sends_nothing_and_writes_nothing(
    tmp_path: Path, warnings_logged: Callable[[], list[str]]
) -> None:
    tray_calls: list[tuple[str, str]] = []
    notifier = build_notifier(
        "none",
        platform="linux",
        app_name=APP,
        icon_path=None,
        log_file=tmp_path / "notifications.jsonl",
        tray_notify=lambda message, title: tray_calls.append((message, title)),
    )
    assert notifier.backends and all(isinstance(b, NullNotifier) for b in notifier.backends)
    assert notifier.send("Weekly limit reached", "Resets Thu 19:00.") == "none"
    assert tray_calls == []
    assert list(tmp_path.iterdir()) == []
    assert warnings_logged() == []


# ------------------------------------------------------------------------------------ never raising


class Exploding:
    def __init__(self, name: str, error: Exception) -> None:
        self.name = name
        self.error = error
        self.calls = 0

    def send(self, title: str, body: str) -> None:
        self.calls += 1
        raise self.error


class Recording:
    name = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, title: str, body: str) -> None:
        self.sent.append((title, body))


def test_fallback_never_raises_whatever_a_backend_raises(
    caplog: pytest.LogCaptureFixture, warnings_logged: Callable[[], list[str]]
) -> None:
    broken = Exploding("buggy", KeyError("hints"))
    refused = Exploding("refused", NotifyError("no service"))
    recording = Recording()
    notifier = FallbackNotifier([broken, refused, recording])

    for _ in range(3):
        assert notifier.send("title", "body") == "recording"
    assert broken.calls == refused.calls == 3
    assert recording.sent == [("title", "body")] * 3
    suffix = " (trying the next way; not logged again until it works)"
    assert warnings_logged() == [
        "notifications through buggy failed: KeyError: 'hints'" + suffix,
        "notifications through refused failed: no service" + suffix,
    ]
    # An unexpected exception is a bug: its traceback goes to the log; an expected failure's does not.
    tracebacks = [r.exc_info is not None for r in caplog.records if r.levelno == logging.WARNING]
    assert tracebacks == [True, False]

    # Nothing left that works: still no exception, just None.
    hopeless = FallbackNotifier([Exploding("a", ZeroDivisionError("x")), Exploding("b", OSError(5, "EIO"))])
    assert hopeless.send("title", "body") is None
    assert FallbackNotifier([]).send("title", "body") is None


def test_the_log_backend_failing_is_a_notify_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(NotifyError, match="cannot write"):
        JsonLinesNotifier(blocker / "notifications.jsonl").send("title", "body")
