"""Finding the claude.ai sessionKey in real Firefox and Chromium cookie stores, built here byte for byte.

Nothing of browser-cookie3 is replaced: Firefox stores are the moz_cookies schema of current Firefox,
Chromium stores are Linux v10 ("peanuts") AES-CBC values with the SHA-256 host prefix of meta
version 24. Chromium asks the desktop keyring for its key first, so those tests run on a D-Bus
session bus of our own with no secret service on it (or on the run's own bus when dbus-daemon is
missing); without any bus, browser-cookie3's KeyError must turn into a plain problem line.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from Cryptodome.Cipher import AES
from Cryptodome.Protocol.KDF import PBKDF2
from Cryptodome.Util.Padding import pad

from tray_app.sources.browser_cookies import CookieSearch, SessionCookie, find_session_cookie

from .notifyd import PrivateBus

# browser-cookie3 decrypts Chromium's values with the OS's own key store (the Keychain, DPAPI) off Linux.
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the stores are built with Chromium's Linux encryption"
)

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
FIREFOX_KEY = "sk-ant-sid01-FIREFOXfirefoxFIREFOX-0123456789abcdef_AA"
CHROME_KEY = "sk-ant-sid01-CHROMEchromeCHROME-0123456789abcdef_AA"
OTHER_KEY = "sk-ant-sid01-OTHERotherOTHER-0123456789abcdef_AA"
MANUAL_KEY = "sk-ant-sid01-MANUALmanualMANUAL-0123456789abcdef_AA"
SECRETS = (FIREFOX_KEY, CHROME_KEY, OTHER_KEY, MANUAL_KEY)
NT_EPOCH_OFFSET = 11644473600  # seconds from 1601-01-01 (Chromium's epoch) to 1970-01-01


@dataclass(frozen=True)
class Row:
    value: str
    host: str = ".claude.ai"
    name: str = "sessionKey"
    expires: datetime | None = NOW + timedelta(days=30)  # None: a session cookie (Chromium only)
    origin: str = ""  # Firefox originAttributes: containers, partitions


# ------------------------------------------------------------------------------------ store builders


FIREFOX_SCHEMA = """CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY,
  originAttributes TEXT NOT NULL DEFAULT '', name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER,
  lastAccessed INTEGER, creationTime INTEGER,
  isSecure INTEGER, isHttpOnly INTEGER, inBrowserElement INTEGER DEFAULT 0, sameSite INTEGER DEFAULT 0,
  schemeMap INTEGER DEFAULT 0, isPartitionedAttributeSet INTEGER DEFAULT 0,
  CONSTRAINT moz_uniqueid UNIQUE (name, host, path, originAttributes))"""

# Firefox 142 moved the cookies database to schema 16, which keeps expiry in milliseconds.
CURRENT_FIREFOX = 16


def insert_firefox(con: sqlite3.Connection, rows: list[Row], schema: int) -> None:
    scale = 1000 if schema >= CURRENT_FIREFOX else 1
    for row in rows:
        assert row.expires is not None, "Firefox keeps session cookies out of cookies.sqlite"
        created = int(NOW.timestamp() * 10**6)
        con.execute(
            "INSERT INTO moz_cookies (originAttributes, name, value, host, path, expiry, lastAccessed, "
            "creationTime, isSecure, isHttpOnly) VALUES (?, ?, ?, ?, '/', ?, ?, ?, 1, 1)",
            (
                row.origin,
                row.name,
                row.value,
                row.host,
                int(row.expires.timestamp() * scale),
                created,
                created,
            ),
        )


def firefox_db(path: Path, rows: list[Row], schema: int = CURRENT_FIREFOX) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as con:
        con.execute(FIREFOX_SCHEMA)
        con.execute(f"PRAGMA user_version = {schema}")
        insert_firefox(con, rows, schema)
        con.commit()
    return path


def firefox_profile(
    root: Path, rows: list[Row], *, name: str = "abcd1234.default-release", schema: int = CURRENT_FIREFOX
) -> Path:
    """A Firefox root as Firefox 67+ writes it: an [Install...] section naming the default profile."""
    folder = root / "Profiles" / name
    firefox_db(folder / "cookies.sqlite", rows, schema)
    (root / "Profiles" / "zzzz9999.default").mkdir()  # the pre-67 profile, never used any more
    (root / "profiles.ini").write_text(
        f"[Install4F96D1932A9F858E]\nDefault=Profiles/{name}\nLocked=1\n\n"
        f"[Profile1]\nName=default-release\nIsRelative=1\nPath=Profiles/{name}\n\n"
        "[Profile0]\nName=default\nIsRelative=1\nPath=Profiles/zzzz9999.default\nDefault=1\n\n"
        "[General]\nStartWithLastProfile=1\nVersion=2\n"
    )
    return folder


CHROME_SCHEMA = """CREATE TABLE cookies (creation_utc INTEGER NOT NULL, host_key TEXT NOT NULL,
  top_frame_site_key TEXT NOT NULL DEFAULT '', name TEXT NOT NULL, value TEXT NOT NULL,
  encrypted_value BLOB NOT NULL, path TEXT NOT NULL, expires_utc INTEGER NOT NULL, is_secure INTEGER NOT NULL,
  is_httponly INTEGER NOT NULL, last_access_utc INTEGER NOT NULL DEFAULT 0,
  UNIQUE (host_key, top_frame_site_key, name, path))"""

PEANUTS_KEY = PBKDF2("peanuts", b"saltysalt", 16, 1)  # Chromium's Linux key when no keyring has one


def chromium_value(host: str, plaintext: str, prefix: bytes = b"v10") -> bytes:
    data = hashlib.sha256(host.encode()).digest() + plaintext.encode()
    return prefix + AES.new(PEANUTS_KEY, AES.MODE_CBC, b" " * 16).encrypt(pad(data, 16))


def nt_time(moment: datetime | None) -> int:
    return 0 if moment is None else int((moment.timestamp() + NT_EPOCH_OFFSET) * 10**6)


def chromium_db(path: Path, rows: list[Row], prefix: bytes = b"v10") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as con:
        con.execute("CREATE TABLE meta (key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)")
        con.execute("INSERT INTO meta VALUES ('version', '24')")
        con.execute(CHROME_SCHEMA)
        for row in rows:
            con.execute(
                "INSERT INTO cookies (creation_utc, host_key, name, value, encrypted_value, path, "
                "expires_utc, is_secure, is_httponly) VALUES (?, ?, ?, '', ?, '/', ?, 1, 1)",
                (
                    nt_time(NOW),
                    row.host,
                    row.name,
                    chromium_value(row.host, row.value, prefix),
                    nt_time(row.expires),
                ),
            )
        con.commit()
    return path


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throw-away HOME and temp folder; afterwards the temp folder must be empty again."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for name in ("XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # Our snapshot folder and browser-cookie3's own NamedTemporaryFile copy both land here.
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield folder
    assert sorted(path.name for path in scratch.iterdir()) == [], "temporary files were left behind"


@pytest.fixture(scope="module")
def private_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateBus | None]:
    """A dbus-daemon of our own with no service folders: no secret service, no KWallet can start."""
    if shutil.which("dbus-daemon") is None:
        yield None
        return
    bus = PrivateBus(tmp_path_factory.mktemp("bus"))
    try:
        yield bus
    finally:
        bus.close()


@pytest.fixture
def keyring_bus(private_bus: PrivateBus | None, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether Chromium's key lookup can reach a session bus (and so fall back to the v10 key)."""
    if private_bus is not None:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", private_bus.address)
        return True
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))


def search(home: Path, *, platform: str = "linux", **options: Any) -> CookieSearch:
    result = find_session_cookie(home=home, platform=platform, now=NOW, **options)
    assert_no_secret_in(result)
    return result


def assert_no_secret_in(result: CookieSearch) -> None:
    text = "\n".join((*result.problems, *result.searched, repr(result), str(result)))
    for secret in SECRETS:
        assert secret not in text


def firefox_root(home: Path) -> Path:
    return home / ".mozilla" / "firefox"


# ------------------------------------------------------------------------------------ Firefox


@pytest.mark.parametrize("schema", [15, CURRENT_FIREFOX], ids=["seconds-schema-15", "milliseconds-schema-16"])
def test_firefox_default_profile_cookie_is_found_with_its_expiry(home: Path, schema: int) -> None:
    expires = NOW + timedelta(days=27, seconds=5)
    folder = firefox_profile(firefox_root(home), [Row(FIREFOX_KEY, expires=expires)], schema=schema)
    before = sorted(os.listdir(folder))

    result = search(home)

    assert result.problems == ()
    assert result.found == SessionCookie(FIREFOX_KEY, "Firefox", str(folder), expires)
    assert result.searched == (f"Firefox: {folder / 'cookies.sqlite'}",)
    assert sorted(os.listdir(folder)) == before  # nothing written beside the browser's database


def test_expiry_in_milliseconds_is_not_mistaken_for_a_far_future(home: Path) -> None:
    # Schema 16 stores milliseconds: read as seconds, a cookie expired yesterday would look valid for ever.
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY, expires=NOW - timedelta(days=1))])
    assert search(home).found is None


@pytest.mark.parametrize("locking", ["normal", "exclusive"])
def test_a_cookie_still_only_in_the_wal_is_found(home: Path, locking: str) -> None:
    """Firefox keeps cookies.sqlite-wal open; with exclusive locking it also shuts readers out."""
    folder = firefox_profile(firefox_root(home), [])
    database = folder / "cookies.sqlite"
    with closing(sqlite3.connect(database, isolation_level=None)) as browser:
        if locking == "exclusive":
            browser.execute("PRAGMA locking_mode = EXCLUSIVE")
        assert browser.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
        browser.execute("PRAGMA wal_autocheckpoint = 0")
        insert_firefox(browser, [Row(FIREFOX_KEY)], CURRENT_FIREFOX)
        assert FIREFOX_KEY.encode() not in database.read_bytes()
        assert FIREFOX_KEY.encode() in (folder / "cookies.sqlite-wal").read_bytes()
        before = sorted(os.listdir(folder))

        result = search(home)

        assert sorted(os.listdir(folder)) == before
    assert result.problems == ()
    assert result.found is not None and result.found.value == FIREFOX_KEY


DECOYS = [
    Row(OTHER_KEY, host="notclaude.ai"),
    Row(OTHER_KEY, host=".notclaude.ai"),
    Row(OTHER_KEY, host="claude.ai.evil.com"),
    Row(OTHER_KEY, host=".claude.ai.evil.com"),
    Row(OTHER_KEY, host="api.claude.ai"),
    Row(OTHER_KEY, host="claude.ai", name="sessionkey"),
    Row(OTHER_KEY, host="claude.ai", name="sessionKeyLC"),
    Row("not-a-session-key", host=".claude.ai", expires=NOW + timedelta(days=1), origin="^userContextId=1"),
    Row(OTHER_KEY, host="claude.ai", expires=NOW - timedelta(seconds=1)),
]


def test_look_alike_domains_other_names_and_expired_cookies_are_ignored(home: Path) -> None:
    firefox_profile(firefox_root(home), DECOYS)
    result = search(home)
    assert (result.found, result.problems) == (None, ())


def test_the_real_cookie_is_picked_out_among_look_alikes(home: Path) -> None:
    firefox_profile(firefox_root(home), [*DECOYS, Row(FIREFOX_KEY)])
    result = search(home)
    assert result.found is not None and result.found.value == FIREFOX_KEY


def test_of_one_cookie_in_two_containers_the_newer_wins(home: Path) -> None:
    firefox_profile(
        firefox_root(home),
        [
            Row(OTHER_KEY, expires=NOW + timedelta(days=3)),
            Row(FIREFOX_KEY, expires=NOW + timedelta(days=29), origin="^userContextId=2"),
        ],
    )
    result = search(home)
    assert result.found is not None and result.found.value == FIREFOX_KEY


@pytest.mark.parametrize(
    "root",
    [
        "snap/firefox/common/.mozilla/firefox",
        ".var/app/org.mozilla.firefox/.mozilla/firefox",
        ".config/mozilla/firefox",
    ],
    ids=["snap", "flatpak", "xdg"],
)
def test_snap_flatpak_and_xdg_profiles_are_found(home: Path, root: str) -> None:
    folder = firefox_profile(home / root, [Row(FIREFOX_KEY)])
    result = search(home)
    assert result.found == SessionCookie(FIREFOX_KEY, "Firefox", str(folder), NOW + timedelta(days=30))


def test_a_leftover_deb_profile_loses_to_the_newer_snap_login(home: Path) -> None:
    firefox_profile(firefox_root(home), [Row(OTHER_KEY, expires=NOW + timedelta(days=2))])
    snap = firefox_profile(home / "snap/firefox/common/.mozilla/firefox", [Row(FIREFOX_KEY)])
    result = search(home)
    assert result.found is not None and (result.found.value, result.found.profile) == (FIREFOX_KEY, str(snap))
    assert len(result.searched) == 2


@pytest.mark.parametrize(
    ("ini", "expected"),
    [
        (
            "[Profile0]\nName=a\nIsRelative=1\nPath=a.one\n\n[Profile1]\nName=b\nIsRelative=1\nPath=b.two\nDefault=1\n",
            "b.two",
        ),
        (
            "[Install1]\nDefault=a.one\n\n[Profile0]\nIsRelative=1\nPath=a.one\n\n[Profile1]\nPath=b.two\nDefault=1\n",
            "a.one",
        ),
        ("[Profile0]\nName=only\nIsRelative=1\nPath=a.one\n", "a.one"),
        ("[Profile0]\nIsRelative=0\nPath={absolute}\nDefault=1\n", "elsewhere"),
    ],
    ids=["default-1", "install-section-first", "single-profile", "absolute-path"],
)
def test_profiles_ini_picks_the_default_profile(home: Path, tmp_path: Path, ini: str, expected: str) -> None:
    root = firefox_root(home)
    absolute = tmp_path / "elsewhere"
    wanted = absolute if expected == "elsewhere" else root / expected
    for folder in (root / "a.one", root / "b.two", absolute):
        firefox_db(folder / "cookies.sqlite", [Row(FIREFOX_KEY if folder == wanted else OTHER_KEY)])
    (root / "profiles.ini").write_text(ini.format(absolute=absolute))

    result = search(home)

    assert result.found is not None and (result.found.value, result.found.profile) == (
        FIREFOX_KEY,
        str(wanted),
    )


def test_a_broken_profiles_ini_is_a_problem_line(home: Path) -> None:
    firefox_root(home).mkdir(parents=True)
    (firefox_root(home) / "profiles.ini").write_bytes(b"\xff\xfe not text [")
    result = search(home, browser="firefox")
    assert result.found is None
    assert result.problems == (f"Firefox: cannot read {firefox_root(home) / 'profiles.ini'}",)


# ------------------------------------------------------------------------------------ explicit places


def test_an_explicit_cookie_file_is_read_wherever_it_is(home: Path, tmp_path: Path) -> None:
    firefox_profile(firefox_root(home), [Row(OTHER_KEY, expires=NOW + timedelta(days=300))])
    copy = firefox_db(tmp_path / "exported" / "my-cookies.db", [Row(FIREFOX_KEY)])
    result = search(home, cookie_file=copy)
    assert result.found == SessionCookie(FIREFOX_KEY, "Firefox", str(copy), NOW + timedelta(days=30))
    assert result.searched == (f"Firefox: {copy}",)


def test_an_explicit_profile_folder_is_read(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "portable" / "profile"
    firefox_db(folder / "cookies.sqlite", [Row(FIREFOX_KEY)])
    result = search(home, browser="firefox", profile=folder)
    assert result.found is not None and (result.found.browser, result.found.profile) == (
        "Firefox",
        str(folder),
    )


def test_a_missing_cookie_file_is_one_line(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "cookies.sqlite"
    result = search(home, browser="firefox", cookie_file=missing)
    assert result.found is None
    assert result.problems == (f"Firefox: {missing} does not exist",)


def test_a_chromium_file_given_as_firefox_is_refused_by_name(home: Path, tmp_path: Path) -> None:
    chrome_file = chromium_db(tmp_path / "Cookies", [Row(CHROME_KEY)])
    result = search(home, browser="firefox", cookie_file=chrome_file)
    assert result.problems == (f"Firefox: {chrome_file} is not a Firefox cookie database",)


# ------------------------------------------------------------------------------------ Chromium family


def chrome_profile(home: Path, rows: list[Row], folder: str = ".config/google-chrome/Default") -> Path:
    chromium_db(home / folder / "Cookies", rows)
    return home / folder


def test_chromium_v10_cookie_decrypts_on_a_bus_without_a_keyring(home: Path, keyring_bus: bool) -> None:
    folder = home / ".config" / "chromium" / "Default"
    chromium_db(folder / "Cookies", [Row(CHROME_KEY), Row(OTHER_KEY, host="notclaude.ai")])

    result = search(home)

    if keyring_bus:
        assert result.problems == ()
        assert result.found == SessionCookie(CHROME_KEY, "Chromium", str(folder), NOW + timedelta(days=30))
    else:  # no dbus-daemon and no bus: browser-cookie3 raises KeyError before it decrypts anything
        assert result.found is None
        assert result.problems == (
            "Chromium: could not get the key that decrypts its cookies from the keyring "
            "(there is no D-Bus session bus); paste the sessionKey into web.session_key instead",
        )


def test_without_a_session_bus_the_keyerror_is_a_clean_problem_line(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    chrome_profile(home, [Row(CHROME_KEY)])
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY)])

    result = search(home)

    assert result.found is not None and result.found.browser == "Firefox"  # the other browser still counts
    assert result.problems == (
        "Chrome: could not get the key that decrypts its cookies from the keyring "
        "(there is no D-Bus session bus); paste the sessionKey into web.session_key instead",
    )


def test_a_dead_session_bus_is_a_clean_problem_line(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={home / 'no-such-bus'}")
    chrome_profile(home, [Row(CHROME_KEY)])
    result = search(home)
    assert result.found is None
    assert result.problems == (
        "Chrome: could not get the key that decrypts its cookies from the keyring (FileNotFoundError); "
        "paste the sessionKey into web.session_key instead",
    )


def test_no_keyring_is_asked_when_the_store_has_no_claude_cookie(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # asking would fail loudly
    chrome_profile(home, [Row(OTHER_KEY, host=".example.com")])
    result = search(home)
    assert (result.found, result.problems) == (None, ())


def test_a_corrupt_chrome_store_is_one_line(home: Path, keyring_bus: bool) -> None:
    cookies = home / ".config" / "google-chrome" / "Default" / "Cookies"
    cookies.parent.mkdir(parents=True)
    cookies.write_bytes(b"SQLite format 3\x00" + b"\x13" * 4000)
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY)])

    result = search(home)

    assert result.found is not None and result.found.browser == "Firefox"
    assert result.problems == (f"Chrome: {cookies} is damaged or not a cookie database",)


def test_a_value_no_key_here_decrypts_is_one_line(home: Path, keyring_bus: bool) -> None:
    """browser-cookie3's own BrowserCookieError (a value encrypted with a keyring key we cannot get)."""
    if not keyring_bus:
        pytest.skip("without a session bus the key lookup fails before anything is decrypted")
    cookies = chrome_profile(home, [Row(CHROME_KEY)]) / "Cookies"
    other_key = PBKDF2("a keyring password", b"saltysalt", 16, 1)
    data = hashlib.sha256(b".claude.ai").digest() + CHROME_KEY.encode()
    value = b"v10" + AES.new(other_key, AES.MODE_CBC, b" " * 16).encrypt(pad(data, 16))
    with closing(sqlite3.connect(cookies)) as con:
        con.execute("UPDATE cookies SET encrypted_value = ?", (value,))
        con.commit()

    result = search(home)

    assert result.found is None
    assert result.problems == (
        "Chrome: the cookies could not be decrypted (the browser's key is not available to this program)",
    )


def test_browser_cookie3_is_imported_only_to_decrypt_a_browser_store(tmp_path: Path) -> None:
    # Its AES, LZ4 and D-Bus modules cost the tray over 2 MiB; a pasted key (or no session) needs none.
    code = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from pathlib import Path\n"
        "from tray_app.sources.browser_cookies import find_session_cookie\n"
        f"found = find_session_cookie(home=Path({str(tmp_path)!r}), platform='linux', "
        f"manual_key={MANUAL_KEY!r}, now=datetime.now(UTC)).found\n"
        "assert found is not None and found.browser == 'config file'\n"
        "assert 'browser_cookie3' not in sys.modules, 'imported'\n"
    )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_chrome_store_locked_by_the_running_browser_is_still_read(home: Path, keyring_bus: bool) -> None:
    """On Linux the lock keeps readers out but not a copy of the file; the committed cookie counts."""
    cookies = chrome_profile(home, [Row(CHROME_KEY)]) / "Cookies"
    with closing(sqlite3.connect(cookies, isolation_level=None)) as browser:
        browser.execute("BEGIN EXCLUSIVE")
        browser.execute("UPDATE cookies SET expires_utc = 1")  # uncommitted: must not be seen
        result = search(home)
        browser.execute("ROLLBACK")
    if keyring_bus:
        assert result.problems == ()
        assert result.found is not None and result.found.value == CHROME_KEY
    else:  # the copy was read; only the key was missing
        assert len(result.problems) == 1 and "there is no D-Bus session bus" in result.problems[0]


class SharingViolation(PermissionError):
    """How Windows reports a file another process opened exclusively (Chrome's Cookies, since 2023)."""

    winerror = 32


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (sqlite3.OperationalError("database is locked"), "the cookie store is locked by the running browser"),
        (
            SharingViolation(13, "The process cannot access the file"),
            "the cookie store is locked by the running browser",
        ),
        (PermissionError(13, "Permission denied"), "no permission to read"),
        (sqlite3.DatabaseError("file is not a database"), "is damaged or not a cookie database"),
    ],
    ids=["sqlite-busy", "windows-sharing-violation", "permission", "not-a-database"],
)
def test_failure_lines_say_what_happened(error: Exception, line: str) -> None:
    from tray_app.sources.browser_cookies import _describe
    from tray_app.sources.browser_profiles import CookieStore as _Store

    store = _Store("Chrome", Path("/profile/Network/Cookies"), "/profile")
    assert _describe(store, error).startswith("Chrome: ")
    assert line in _describe(store, error)


def test_app_bound_v20_values_are_named_not_decrypted(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    local = home / "AppData" / "Local"
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    chromium_db(local / "Google/Chrome/User Data/Default/Network/Cookies", [Row(CHROME_KEY)], prefix=b"v20")
    result = search(home, platform="win32", browser="chrome")
    assert result.found is None
    assert len(result.problems) == 1 and result.problems[0].startswith(
        "Chrome: the cookie uses Chrome's app-bound"
    )


def test_the_last_used_chrome_profile_is_read(home: Path, keyring_bus: bool) -> None:
    user_data = home / ".config" / "google-chrome"
    chrome_profile(home, [Row(OTHER_KEY)], ".config/google-chrome/Default")
    chrome_profile(home, [Row(CHROME_KEY)], ".config/google-chrome/Profile 2")
    (user_data / "Local State").write_text('{"profile": {"last_used": "Profile 2"}}')
    result = search(home, browser="chrome")
    if keyring_bus:
        assert result.found is not None and result.found.profile == str(user_data / "Profile 2")
    assert result.searched == (f"Chrome: {user_data / 'Profile 2' / 'Cookies'}",)


@pytest.mark.parametrize(
    ("platform", "firefox", "chrome"),
    [
        ("linux", ".mozilla/firefox", ".config/google-chrome/Default/Cookies"),
        ("linux", ".mozilla/firefox", ".var/app/com.google.Chrome/config/google-chrome/Default/Cookies"),
        (
            "darwin",
            "Library/Application Support/Firefox",
            "Library/Application Support/Google/Chrome/Default/Cookies",
        ),
        (
            "win32",
            "AppData/Roaming/Mozilla/Firefox",
            "AppData/Local/Google/Chrome/User Data/Default/Network/Cookies",
        ),
    ],
    ids=["linux", "linux-flatpak-chrome", "macos", "windows"],
)
def test_default_places_per_os(
    home: Path, monkeypatch: pytest.MonkeyPatch, keyring_bus: bool, platform: str, firefox: str, chrome: str
) -> None:
    if platform == "win32":
        monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
        monkeypatch.setenv("LOCALAPPDATA", str(home / "AppData" / "Local"))
    profile = firefox_profile(home / firefox, [Row(FIREFOX_KEY, expires=NOW + timedelta(days=5))])
    cookies = chromium_db(home / chrome, [Row(CHROME_KEY, expires=NOW + timedelta(days=9))])

    result = search(home, platform=platform)

    assert result.searched == (f"Firefox: {profile / 'cookies.sqlite'}", f"Chrome: {cookies}")
    if keyring_bus:
        assert result.problems == ()
        assert result.found is not None and result.found.value == CHROME_KEY


# ------------------------------------------------------------------------------------ choosing


@pytest.mark.parametrize("newer", ["Firefox", "Brave"])
def test_the_newest_cookie_wins_across_browsers(home: Path, keyring_bus: bool, newer: str) -> None:
    if not keyring_bus:
        pytest.skip("Brave's cookie cannot be decrypted without a session bus")
    later, sooner = NOW + timedelta(days=29), NOW + timedelta(days=2)
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY, expires=later if newer == "Firefox" else sooner)])
    chromium_db(
        home / ".config/BraveSoftware/Brave-Browser/Default/Cookies",
        [Row(CHROME_KEY, expires=later if newer == "Brave" else sooner)],
    )
    result = search(home)
    assert result.found is not None and (result.found.browser, result.found.expires) == (newer, later)


def test_a_dated_cookie_beats_a_session_cookie(home: Path, keyring_bus: bool) -> None:
    if not keyring_bus:
        pytest.skip("Chrome's cookie cannot be decrypted without a session bus")
    chrome_profile(home, [Row(CHROME_KEY, expires=None)])
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY, expires=NOW + timedelta(minutes=5))])
    result = search(home)
    assert result.found is not None and result.found.value == FIREFOX_KEY
    alone = search(home, browser="chrome")
    assert alone.found is not None and (alone.found.value, alone.found.expires) == (CHROME_KEY, None)


def test_browser_choice_restricts_the_search(home: Path) -> None:
    chrome_profile(home, [Row(CHROME_KEY, expires=NOW + timedelta(days=300))])
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY)])
    only_firefox = search(home, browser="firefox")
    assert only_firefox.found is not None and only_firefox.found.browser == "Firefox"
    assert [line.split(":")[0] for line in only_firefox.searched] == ["Firefox"]
    edge = search(home, browser="edge")
    assert edge.found is None
    assert edge.problems == (
        "Edge: no profile found in the usual places; set web.profile or web.cookie_file",
    )
    assert search(home, browser="netscape").problems[0].startswith("unknown browser 'netscape'")


def test_nothing_installed_is_said_once(home: Path) -> None:
    result = search(home)
    assert result == CookieSearch(
        None, ("no Firefox, Chrome, Chromium, Brave or Edge profile found in the usual places",), ()
    )


@pytest.mark.parametrize("pasted", [MANUAL_KEY, f"  {MANUAL_KEY}\n", f"sessionKey={MANUAL_KEY}"])
def test_a_pasted_key_wins_over_every_browser(home: Path, pasted: str) -> None:
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY, expires=NOW + timedelta(days=300))])
    result = search(home, manual_key=pasted, browser="firefox")
    assert result == CookieSearch(SessionCookie(MANUAL_KEY, "config file", None, None))


@pytest.mark.parametrize(
    "pasted", ["sk-live-abcdef", "sk-ant-", "sk-ant-abc def", "sk-ant-abc;x=1", OTHER_KEY.lower()[3:]]
)
def test_a_pasted_key_must_start_with_sk_ant(home: Path, pasted: str) -> None:
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY)])
    result = search(home, manual_key=pasted)
    assert result.found is not None and result.found.browser == "Firefox"
    assert len(result.problems) == 1 and result.problems[0].startswith("config file: the pasted session key")
    assert pasted == "sk-ant-" or pasted.strip() not in result.problems[0]


# ------------------------------------------------------------------------------------ secrecy


def test_the_value_is_in_no_repr_message_or_log_line(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    firefox_profile(firefox_root(home), [Row(FIREFOX_KEY)])
    chrome_profile(home, [Row(CHROME_KEY)])  # fails: no bus
    brave = home / ".config/BraveSoftware/Brave-Browser/Default/Cookies"
    brave.parent.mkdir(parents=True)
    brave.write_bytes(CHROME_KEY.encode() * 100)  # not a database, but full of the secret

    result = search(home)

    assert result.found is not None and result.found.value == FIREFOX_KEY
    assert len(result.problems) == 2
    assert FIREFOX_KEY not in repr(result.found) and FIREFOX_KEY not in str(result.found)
    assert "Firefox" in repr(result.found)
    for record in caplog.records:
        for secret in SECRETS:
            assert secret not in record.getMessage()
