"""Windows and macOS code paths run here against fakes of the OS interfaces they call.

- Start at login on Windows: a `winreg` stand-in (an in-memory HKEY_CURRENT_USER with winreg's calls,
  access rights and errors) is put in sys.modules while the real autostart code runs as on win32.
- The macOS Keychain: a stand-in `security` on PATH that answers like the real one (the password, or
  exit 44 "not found", 36 "interaction not allowed", 51 "denied", 128 "cancelled").
- Windows balloons: a plyer `WindowsNotification` stand-in and a pystray balloon that enforce the
  NOTIFYICONDATAW field sizes; too long a text there means the balloon never appears. The notifier
  chain is also built as the wiring builds it for a win32 Environment, around a Tray with that balloon.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, TypeVar, cast

import pytest
from PIL import Image

from tray_app.autostart import Autostart
from tray_app.config import Settings
from tray_app.core.errors import CredentialsError
from tray_app.core.reports import Reports
from tray_app.core.view import ViewOptions, present
from tray_app.environment import Environment
from tray_app.sources.credentials import ClaudeCredentialStore
from tray_app.ui.icon import ICON_SIZE_DEFAULT, IconRenderer
from tray_app.ui.notify import EXPIRE_SECONDS, FallbackNotifier, build_notifier
from tray_app.ui.tray import Tray
from tray_app.wiring.app import App, settings_for
from tray_app.wiring.tray import notifier_chain, write_notification_icon

from ..conftest import ACCESS_TOKEN, write_login

T = TypeVar("T")

# ------------------------------------------------------------------------------ Windows: the Run key

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
FROZEN_EXE = r"C:\Program Files\Claude Usage Tray\claude-usage-tray.exe"
PYTHON_EXE = r"C:\Users\Jane Doe\AppData\Local\Programs\Python\Python312\python.exe"


class _Handle:
    """An open registry key: a context manager, like winreg's PyHKEY."""

    def __init__(self, path: str, access: int) -> None:
        self.path = path
        self.access = access

    def __enter__(self) -> _Handle:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None

    def Close(self) -> None:  # noqa: N802 - winreg's name
        return None


class FakeWinreg(ModuleType):
    """The part of winreg that autostart uses, over an in-memory HKEY_CURRENT_USER.

    Like the real registry, key paths and value names are case-insensitive, a missing key or value
    raises FileNotFoundError, and writing through a key opened read-only raises PermissionError.
    """

    HKEY_CURRENT_USER = 0x80000001
    KEY_READ = 0x20019
    KEY_SET_VALUE = 0x0002
    KEY_WRITE = 0x20006
    KEY_ALL_ACCESS = 0xF003F
    REG_SZ = 1
    REG_EXPAND_SZ = 2

    def __init__(self) -> None:
        super().__init__("winreg")
        # lower-cased key path -> lower-cased value name -> (name as written, data, type)
        self.keys: dict[str, dict[str, tuple[str, object, int]]] = {}

    def _path(self, root: int, sub_key: str) -> str:
        if root != self.HKEY_CURRENT_USER:
            raise PermissionError(5, "Access is denied")  # the app never needs another hive
        return "hkcu\\" + sub_key.lower()

    def OpenKey(self, key: int, sub_key: str, reserved: int = 0, access: int = KEY_READ) -> _Handle:  # noqa: N802
        path = self._path(key, sub_key)
        if path not in self.keys:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return _Handle(path, access)

    def CreateKey(self, key: int, sub_key: str) -> _Handle:  # noqa: N802
        path = self._path(key, sub_key)
        self.keys.setdefault(path, {})
        return _Handle(path, self.KEY_ALL_ACCESS)

    def QueryValueEx(self, key: _Handle, name: str) -> tuple[object, int]:  # noqa: N802
        try:
            _, data, kind = self.keys[key.path][name.lower()]
        except KeyError:
            raise FileNotFoundError(2, "The system cannot find the file specified") from None
        return data, kind

    def SetValueEx(self, key: _Handle, name: str, reserved: int, kind: int, data: object) -> None:  # noqa: N802
        if not key.access & self.KEY_SET_VALUE:
            raise PermissionError(5, "Access is denied")
        if kind in (self.REG_SZ, self.REG_EXPAND_SZ) and not isinstance(data, str):
            raise TypeError("Objects of type 'int' can not be used as binary registry values")
        self.keys[key.path][name.lower()] = (name, data, kind)

    def DeleteValue(self, key: _Handle, name: str) -> None:  # noqa: N802
        if not key.access & self.KEY_SET_VALUE:
            raise PermissionError(5, "Access is denied")
        if self.keys[key.path].pop(name.lower(), None) is None:
            raise FileNotFoundError(2, "The system cannot find the file specified")

    def run_values(self) -> dict[str, tuple[object, int]]:
        """What Windows starts at login for this user: name -> (command line, type)."""
        values = self.keys.get("hkcu\\" + RUN_KEY.lower(), {})
        return {name: (data, kind) for name, data, kind in values.values()}


@pytest.fixture
def winreg(monkeypatch: pytest.MonkeyPatch) -> FakeWinreg:
    registry = FakeWinreg()
    monkeypatch.setitem(sys.modules, "winreg", registry)
    return registry


def as_windows(monkeypatch: pytest.MonkeyPatch, action: Callable[[], T], *, frozen: bool = True) -> T:
    """Run `action` as the Windows build would: win32, and the program at a path with spaces."""
    with monkeypatch.context() as patch:
        patch.setattr(sys, "platform", "win32")
        patch.setattr(sys, "executable", FROZEN_EXE if frozen else PYTHON_EXE)
        patch.setattr(sys, "frozen", frozen, raising=False)
        return action()


def test_start_at_login_on_windows_writes_a_run_value_that_starts_the_installed_tray(
    winreg: FakeWinreg, monkeypatch: pytest.MonkeyPatch
) -> None:
    autostart = Autostart(platform="win32")
    said = as_windows(monkeypatch, autostart.enable)

    # The path has spaces: unquoted, Windows would try to run C:\Program and the tray would not start.
    command_line = f'"{FROZEN_EXE}" run'
    assert winreg.run_values() == {"claude-usage-tray": (command_line, winreg.REG_SZ)}
    assert said == f"start at login installed: HKCU\\{RUN_KEY}\\claude-usage-tray runs {command_line}"


def test_windows_start_at_login_from_a_python_install_runs_the_module_with_that_python(
    winreg: FakeWinreg, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_windows(monkeypatch, Autostart(platform="win32").enable, frozen=False)
    assert winreg.run_values() == {
        "claude-usage-tray": (f'"{PYTHON_EXE}" -m tray_app run', winreg.REG_SZ),
    }


def test_windows_start_at_login_round_trip_as_the_menu_and_the_command_see_it(
    winreg: FakeWinreg, monkeypatch: pytest.MonkeyPatch
) -> None:
    autostart = Autostart(platform="win32")
    off = as_windows(monkeypatch, autostart.status)
    assert (off.enabled, off.command) == (False, None)
    assert off.where == f"HKCU\\{RUN_KEY}\\claude-usage-tray"

    as_windows(monkeypatch, autostart.enable)
    as_windows(monkeypatch, autostart.enable)  # turning it on twice leaves one entry
    on = as_windows(monkeypatch, autostart.status)
    assert on.enabled  # the menu's "Start at login" shows a tick
    # `autostart status` prints the command joined by spaces: exactly the line Windows runs.
    assert on.command is not None and " ".join(on.command) == f'"{FROZEN_EXE}" run'
    assert list(winreg.run_values()) == ["claude-usage-tray"]

    said = as_windows(monkeypatch, autostart.disable)
    assert said == f"start at login turned off: removed HKCU\\{RUN_KEY}\\claude-usage-tray"
    assert winreg.run_values() == {}
    assert not as_windows(monkeypatch, autostart.status).enabled
    assert as_windows(monkeypatch, autostart.disable) == "start at login was already off"


def test_turning_windows_start_at_login_off_keeps_other_programs_entries(
    winreg: FakeWinreg, monkeypatch: pytest.MonkeyPatch
) -> None:
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
        winreg.SetValueEx(key, "OneDrive", 0, winreg.REG_SZ, '"C:\\OneDrive\\OneDrive.exe" /background')
    autostart = Autostart(platform="win32")
    as_windows(monkeypatch, autostart.enable)
    as_windows(monkeypatch, autostart.disable)
    assert winreg.run_values() == {"OneDrive": ('"C:\\OneDrive\\OneDrive.exe" /background', winreg.REG_SZ)}


def test_windows_status_reads_an_entry_without_a_run_key_as_off(
    winreg: FakeWinreg, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh profile may lack the Run key itself: off, and turning off again is not an error.
    autostart = Autostart(platform="win32")
    assert not as_windows(monkeypatch, autostart.status).enabled
    assert as_windows(monkeypatch, autostart.disable) == "start at login was already off"
    assert winreg.keys == {}  # looking did not create anything


# ------------------------------------------------------------------------ macOS: the login Keychain

# The real `security` exits with the low byte of the Security framework's OSStatus.
NOT_FOUND, NO_INTERACTION, DENIED, CANCELLED = 44, 36, 51, 128
SECURITY_ERRORS = {
    NOT_FOUND: "SecKeychainSearchCopyNext: The specified item could not be found in the keychain.",
    NO_INTERACTION: "SecKeychainItemCopyContent: User interaction is not allowed.",
    DENIED: "SecKeychainItemCopyContent: The user name or passphrase you entered is not correct.",
    CANCELLED: "SecKeychainItemCopyContent: User canceled the operation.",
}

SECURITY = """\
import json, sys
STATE = json.loads(STATE)
args = sys.argv[1:]
with open(CALLS, "a") as calls:
    calls.write(json.dumps(args) + "\\n")
if args[:1] != ["find-generic-password"]:
    sys.exit(2)
service, account = args[args.index("-s") + 1], args[args.index("-a") + 1]
item = STATE["items"].get(service)
code = 44 if item is None or item["account"] != account else STATE["refuse"]
if code:
    sys.stderr.write("security: " + STATE["errors"][str(code)] + "\\n")
    sys.exit(code)
sys.stdout.write(item["password"] + "\\n" if "-w" in args else 'keychain: "login.keychain-db"\\n')
"""


@dataclass
class Keychain:
    """The stand-in login Keychain: a `security` command on PATH, its items written into the script
    (so that the secrets stay in the one file the suite's secrets scan knows to be an input)."""

    program: Path
    calls: Path
    account: str = "jane"

    def store(self, service: str, password: str, *, refuse: int = 0, account: str | None = None) -> None:
        self.write({service: {"account": account or self.account, "password": password}}, refuse)

    def write(self, items: dict[str, dict[str, str]], refuse: int = 0) -> None:
        errors = {str(code): text for code, text in SECURITY_ERRORS.items()}
        state = json.dumps({"items": items, "refuse": refuse, "errors": errors})
        self.program.write_text(
            f"#!{sys.executable}\nSTATE = {state!r}\nCALLS = {str(self.calls)!r}\n{SECURITY}"
        )
        self.program.chmod(0o755)

    def asked_for(self) -> list[tuple[str, str]]:
        calls = [json.loads(line) for line in self.calls.read_text().splitlines()]
        return [(args[args.index("-s") + 1], args[args.index("-a") + 1]) for args in calls]


@pytest.fixture
def keychain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keychain:
    if sys.platform == "win32":
        pytest.skip("the stand-in `security` is a script with a #! line")
    folder = tmp_path / "bin"
    folder.mkdir()
    chain = Keychain(folder / "security", tmp_path / "security-calls.jsonl")
    chain.calls.write_text("")
    chain.write({})  # an empty login Keychain
    # Only the stand-in: on a real Mac the real /usr/bin/security must not answer instead.
    monkeypatch.setenv("PATH", str(folder))
    return chain


def login_json(token: str) -> str:
    return json.dumps({"claudeAiOauth": {"accessToken": token, "scopes": ["user:profile", "user:inference"]}})


def mac_store(claude_dir: Path, user: str = "jane") -> ClaudeCredentialStore:
    """The store as the tray builds it on macOS: the default `security` command, found on PATH."""
    return ClaudeCredentialStore(claude_dir, platform="darwin", environ={"USER": user})


def test_macos_login_comes_from_the_keychain_item_of_the_logged_in_user(
    keychain: Keychain, tmp_path: Path
) -> None:
    claude_dir = tmp_path / "claude"
    write_login(claude_dir, access="sk-ant-oat01-stale-file-token")
    keychain.store("Claude Code-credentials", login_json("sk-ant-oat01-from-keychain"))

    loaded = mac_store(claude_dir).load()

    # Claude Code on a Mac keeps the live login in the Keychain; the file may be an old copy.
    assert loaded.credentials.access_token == "sk-ant-oat01-from-keychain"
    assert (loaded.source, loaded.location) == ("keychain", "Claude Code-credentials")
    assert keychain.asked_for()[-1] == ("Claude Code-credentials", "jane")


def test_another_users_keychain_item_is_not_used(keychain: Keychain, tmp_path: Path) -> None:
    claude_dir = tmp_path / "claude"
    write_login(claude_dir)
    keychain.store("Claude Code-credentials", login_json("sk-ant-oat01-someone-else"), account="john")
    loaded = mac_store(claude_dir, user="jane").load()
    assert (loaded.source, loaded.credentials.access_token) == ("file", ACCESS_TOKEN)


@pytest.mark.parametrize(
    ("code", "why"),
    [(NO_INTERACTION, "interaction is not allowed"), (DENIED, "not correct"), (CANCELLED, "canceled")],
    ids=["locked-no-interaction", "denied", "cancelled"],
)
def test_a_refusing_keychain_falls_back_to_the_file_and_the_log_says_why(
    keychain: Keychain, tmp_path: Path, caplog: pytest.LogCaptureFixture, code: int, why: str
) -> None:
    claude_dir = tmp_path / "claude"
    write_login(claude_dir)
    keychain.store("Claude Code-credentials", login_json("sk-ant-oat01-locked-away"), refuse=code)
    caplog.set_level(logging.INFO, logger="tray_app.sources.credentials")

    loaded = mac_store(claude_dir).load()

    assert (loaded.source, loaded.credentials.access_token) == ("file", ACCESS_TOKEN)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"exit {code}" in warnings[0] and why in warnings[0]
    assert "locked-away" not in caplog.text


def test_a_refusing_keychain_and_no_file_is_a_plain_not_logged_in_error(
    keychain: Keychain, tmp_path: Path
) -> None:
    keychain.store("Claude Code-credentials", login_json("sk-ant-oat01-locked-away"), refuse=DENIED)
    with pytest.raises(CredentialsError, match=r"not logged in") as raised:
        mac_store(tmp_path / "empty").load()
    assert "locked-away" not in str(raised.value)


def test_without_the_security_command_the_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    claude_dir = tmp_path / "claude"
    write_login(claude_dir)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    loaded = mac_store(claude_dir).load()
    assert loaded.source == "file"
    assert "macOS Keychain not readable (FileNotFoundError)" in caplog.text


# --------------------------------------------------------------------- Windows: balloon notifications

# NOTIFYICONDATAW's fixed WCHAR buffers, each including the terminating NUL (szTip, szInfo, szInfoTitle).
TIP_SIZE, BODY_SIZE, TITLE_SIZE = 128, 256, 64


def _fits(text: str, size: int) -> bool:
    return len(text.encode("utf-16-le")) // 2 < size


@dataclass(frozen=True)
class Balloon:
    title: str
    body: str
    icon: str
    seconds: float
    via: str


class Screen:
    """What the Windows user sees: the balloons that made it onto the screen."""

    def __init__(self) -> None:
        self.balloons: list[Balloon] = []


class WindowsNotification:
    """plyer's Windows implementation as it behaves: a thread fills NOTIFYICONDATAW and shows it.

    Too long a field, or an icon that is not an .ico, fails inside that thread: notify() returns as if
    it worked and no balloon appears.
    """

    def __init__(self, screen: Screen) -> None:
        self._screen = screen
        self.lost: list[str] = []

    def notify(
        self,
        title: str = "",
        message: str = "",
        app_name: str = "",
        app_icon: str = "",
        timeout: float = 10,
        **_: Any,
    ) -> None:
        if app_icon and not app_icon.lower().endswith(".ico"):
            self.lost.append(f"Could not load icon {app_icon}")
        elif not (_fits(title, TITLE_SIZE) and _fits(message, BODY_SIZE) and _fits(app_name, TIP_SIZE)):
            self.lost.append("ValueError: string too long")
        else:
            self._screen.balloons.append(Balloon(title, message, app_icon, timeout, "plyer"))


class FakePlyer(ModuleType):
    def __init__(self, notification: WindowsNotification) -> None:
        super().__init__("plyer")
        self.notification = notification


def pystray_balloon(screen: Screen) -> Callable[[str, str], None]:
    """pystray's win32 Icon.notify(message, title): it fills the same structure in the caller's thread."""

    def notify(message: str, title: str) -> None:
        if not (_fits(title, TITLE_SIZE) and _fits(message, BODY_SIZE)):
            raise ValueError("string too long")
        screen.balloons.append(Balloon(title, message, "", 0, "pystray"))

    return notify


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Screen, WindowsNotification]]:
    shown = Screen()
    plyer_windows = WindowsNotification(shown)
    monkeypatch.setitem(sys.modules, "plyer", FakePlyer(plyer_windows))
    yield shown, plyer_windows
    assert plyer_windows.lost == []  # every alert the app sent reached the screen


LONG_TITLE = "Weekly limit for Claude Code on the Max 20x plan of jane@example.com: 96 % used"
LONG_BODY = (
    "Resets Thursday at 19:00 (in 2 days 4 hours). At the pace of the last 6 hours (3.1 %/h) you "
    "reach 100 % on Tuesday at 08:15, two days before it resets. Opus and Sonnet share this limit; "
    "extra usage is switched on, so work goes on at API prices once it is reached: about $41.20 so far "
    "this month of a $100.00 monthly spending cap."
)


def windows_notifier(
    tmp_path: Path, choice: str, icon: Path | None, tray: Callable[[str, str], None] | None
) -> FallbackNotifier:
    return build_notifier(
        choice,
        platform="win32",
        app_name="Claude Usage Tray",
        icon_path=icon,
        log_file=tmp_path / "notifications.jsonl",
        tray_notify=tray,
    )


def test_a_long_alert_on_windows_still_appears_cut_to_the_balloon_sizes(
    screen: tuple[Screen, WindowsNotification], tmp_path: Path
) -> None:
    shown, _ = screen
    assert len(LONG_TITLE) >= TITLE_SIZE and len(LONG_BODY) >= BODY_SIZE  # the case under test
    icon = tmp_path / "claude-usage-tray.ico"
    icon.write_bytes(b"\0\0\1\0")

    delivered = windows_notifier(tmp_path, "plyer", icon, None).send(LONG_TITLE, LONG_BODY)

    assert delivered == "plyer"
    [balloon] = shown.balloons
    assert balloon.title == LONG_TITLE[: TITLE_SIZE - 2] + "…"
    assert balloon.body == LONG_BODY[: BODY_SIZE - 2] + "…"
    assert (balloon.icon, balloon.seconds) == (str(icon.absolute()), EXPIRE_SECONDS)
    assert not (tmp_path / "notifications.jsonl").exists()  # not mistaken for a failure


def test_a_short_alert_on_windows_is_shown_word_for_word(
    screen: tuple[Screen, WindowsNotification], tmp_path: Path
) -> None:
    shown, _ = screen
    windows_notifier(tmp_path, "plyer", None, None).send("5-hour limit: 80 % used", "Resets at 16:20.")
    assert [(b.title, b.body) for b in shown.balloons] == [("5-hour limit: 80 % used", "Resets at 16:20.")]


def test_a_png_icon_is_not_handed_to_the_windows_balloon(
    screen: tuple[Screen, WindowsNotification], tmp_path: Path
) -> None:
    # plyer's balloon loads only .ico files and would fail in its thread on anything else (the PNG the
    # tray writes on other systems), so the alert is shown with the default icon instead of not at all.
    shown, _ = screen
    png = tmp_path / "notification-icon.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    windows_notifier(tmp_path, "plyer", png, None).send("Weekly limit: 90 % used", "Resets Thu 19:00.")
    assert [(b.title, b.icon) for b in shown.balloons] == [("Weekly limit: 90 % used", "")]


def test_windows_shows_alerts_from_the_tray_icon_itself_and_long_ones_still_arrive(
    screen: tuple[Screen, WindowsNotification], tmp_path: Path
) -> None:
    shown, _ = screen
    notifier = windows_notifier(tmp_path, "auto", None, pystray_balloon(shown))

    assert notifier.send("5-hour limit: 80 % used", "Resets at 16:20.") == "pystray"
    assert [(b.via, b.title) for b in shown.balloons] == [("pystray", "5-hour limit: 80 % used")]

    shown.balloons.clear()
    assert notifier.send(LONG_TITLE, LONG_BODY) == "pystray"  # cut to fit, not handed on to plyer
    [balloon] = shown.balloons  # one balloon: not lost, not shown twice
    assert (balloon.title, balloon.body) == (
        LONG_TITLE[: TITLE_SIZE - 2] + "…",
        LONG_BODY[: BODY_SIZE - 2] + "…",
    )
    assert not (tmp_path / "notifications.jsonl").exists()


def test_windows_balloon_text_is_cut_by_utf16_units(
    screen: tuple[Screen, WindowsNotification], tmp_path: Path
) -> None:
    # Windows counts WCHARs: a character outside the BMP (an emoji) takes two of the buffer's places.
    shown, _ = screen
    title = "\U0001f4c8" * 40  # 40 characters, 80 UTF-16 units
    body = "\U0001f4c8" * 200
    assert len(title) < TITLE_SIZE and len(body) < BODY_SIZE  # a count of characters would let them through
    notifier = windows_notifier(tmp_path, "auto", None, pystray_balloon(shown))
    assert notifier.send(title, body) == "pystray"
    [balloon] = shown.balloons
    assert (balloon.title, balloon.body) == ("\U0001f4c8" * 31 + "…", "\U0001f4c8" * 127 + "…")


def test_macos_notifications_are_not_cut_to_windows_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[tuple[str, str]] = []

    class OSXNotification:
        def notify(self, title: str = "", message: str = "", **_: Any) -> None:
            received.append((title, message))

    plyer = ModuleType("plyer")
    plyer.__dict__["notification"] = OSXNotification()
    monkeypatch.setitem(sys.modules, "plyer", plyer)
    notifier = build_notifier(
        "plyer",
        platform="darwin",
        app_name="Claude Usage Tray",
        icon_path=None,
        log_file=tmp_path / "notifications.jsonl",
        tray_notify=None,
    )
    assert notifier.send(LONG_TITLE, LONG_BODY) == "plyer"
    assert received == [(LONG_TITLE, LONG_BODY)]


# ------------------------------------------------- Windows: the notifier chain as the tray wires it


class BalloonIcon:
    """pystray's Icon as the tray uses it, with the win32 backend's balloon (see pystray_balloon)."""

    HAS_MENU = True
    HAS_NOTIFICATION = True

    def __init__(self, screen: Screen, name: str, **_: Any) -> None:
        self.name = name
        self.notified = 0
        self._balloon = pystray_balloon(screen)

    def notify(self, message: str, title: str) -> None:
        self.notified += 1
        self._balloon(message, title)


class NoBalloonIcon(BalloonIcon):
    HAS_NOTIFICATION = False  # as pystray's xorg backend: the chain goes straight to plyer


@dataclass(frozen=True)
class SettingsOnly:
    """notifier_chain reads only an App's settings; a whole App would also ask `claude --version`."""

    settings: Settings


def windows_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, screen: Screen, icon_class: type[BalloonIcon]
) -> tuple[FallbackNotifier, BalloonIcon]:
    """The notifier chain the wiring builds on Windows (the Environment says win32, whatever runs this)."""
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")  # pystray is imported; the stand-in icon is used
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)  # the tray points it at its own folder
    home = tmp_path / "app-home"
    home.mkdir()
    env = Environment({"CLAUDE_USAGE_TRAY_HOME": str(home)}, "win32", tmp_path / "user-home")
    first = present(Reports(), datetime(2026, 12, 3, 9, 0, tzinfo=UTC), UTC, ViewOptions())
    tray = Tray(
        "Claude Usage Tray",
        first,
        IconRenderer(ICON_SIZE_DEFAULT),
        lambda _action: None,
        home / "tray-tmp",
        lambda name, **options: icon_class(screen, name, **options),
    )
    app = cast(App, SettingsOnly(settings_for("run", env)))
    icon = tray._icon  # noqa: SLF001 - the stand-in the tray made
    return notifier_chain(app, env, tray, home), icon


def test_a_long_alert_through_the_tray_balloon_on_windows_arrives_once_cut_to_fit(
    screen: tuple[Screen, WindowsNotification], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown, _ = screen
    chain, icon = windows_chain(tmp_path, monkeypatch, shown, BalloonIcon)
    assert chain.names == ("pystray", "plyer", "log")

    assert chain.send(LONG_TITLE, LONG_BODY) == "pystray"

    assert icon.notified == 1  # the balloon took it the first time, so plyer was never asked
    [balloon] = shown.balloons
    assert balloon.via == "pystray"
    assert balloon.title == LONG_TITLE[: TITLE_SIZE - 2] + "…"
    assert balloon.body == LONG_BODY[: BODY_SIZE - 2] + "…"


def test_the_notifier_chain_on_windows_is_given_an_ico_icon(
    screen: tuple[Screen, WindowsNotification], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown, _ = screen
    chain, _icon = windows_chain(tmp_path, monkeypatch, shown, NoBalloonIcon)
    assert chain.names == ("plyer", "log")

    assert chain.send("Weekly limit: 90 % used", "Resets Thu 19:00.") == "plyer"

    [balloon] = shown.balloons
    icon_path = Path(balloon.icon)
    assert icon_path.name == "notification-icon.ico" and icon_path.is_absolute()
    with Image.open(icon_path) as image:
        assert image.format == "ICO"
        assert {(16, 16), (32, 32), (48, 48)} <= image.info["sizes"]  # what the shell picks from
    assert not (tmp_path / "app-home" / "notification-icon.png").exists()


def test_other_systems_are_given_a_png_notification_icon(tmp_path: Path) -> None:
    for platform in ("linux", "darwin"):
        folder = tmp_path / platform
        folder.mkdir()
        path = write_notification_icon(folder, platform)
        assert path is not None and path.name == "notification-icon.png"
        with Image.open(path) as image:
            assert image.format == "PNG"
