"""claude.ai's sessionKey cookie: pasted into the config, or read from Firefox and Chromium browsers.

browser-cookie3 decrypts; the rest is ours: where each browser keeps its profile, a consistent private
snapshot of the live cookie database, exact claude.ai domain and expiry checks, and one readable line
per browser that could not be read. The cookie value never reaches a message, a log line or a repr.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import logging
import os
import re
import shutil
import sqlite3  # the browsers' own cookie databases; our history database stays in store.py
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path

from tray_app.core.errors import UsageError

logger = logging.getLogger(__name__)

COOKIE_NAME = "sessionKey"
COOKIE_HOSTS = ("claude.ai", ".claude.ai")
KEY_PREFIX = "sk-ant-"
MANUAL_SOURCE = "config file"
BROWSERS = ("firefox", "chrome", "chromium", "brave", "edge")
LABELS = {"firefox": "Firefox", "chrome": "Chrome", "chromium": "Chromium", "brave": "Brave", "edge": "Edge"}

_BUSY_TIMEOUT = 0.5  # seconds to wait for a browser's write transaction before calling the store locked
_FIREFOX_MS_SCHEMA = 16  # Firefox 142 (cookies schema 16) stores expiry in milliseconds, not seconds
# RFC 6265 cookie-octets: anything else (space, ";", quotes, a newline) could not go back into a header.
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+")
_LATEST = datetime.max.replace(tzinfo=UTC)
_UNKNOWN = datetime.min.replace(tzinfo=UTC)
_WINDOWS_SHARING_VIOLATION = (32, 33)


class _LibraryError(Exception):
    """browser-cookie3's own BrowserCookieError, raised again as ours: that way this module needs the
    library (and its AES, LZ4 and D-Bus modules, over 2 MiB resident) only once a browser's cookies
    are actually decrypted, never for a pasted session key or a claude.ai session left off."""


# Everything browser-cookie3 and its keyring calls were seen to raise (jeepney: KeyError without a
# session bus, OSError for a dead one, ValueError subclasses for failed authentication).
_FAILURES = (
    _LibraryError,
    LookupError,
    TypeError,
    AttributeError,
    AssertionError,
    OSError,
    sqlite3.Error,
    RuntimeError,
    ValueError,
)

# User-data folders of the Chromium family, per OS.
_CHROMIUM_MAC = {
    "chrome": "Google/Chrome",
    "chromium": "Chromium",
    "brave": "BraveSoftware/Brave-Browser",
    "edge": "Microsoft Edge",
}
_CHROMIUM_WINDOWS = {
    "chrome": "Google/Chrome/User Data",
    "chromium": "Chromium/User Data",
    "brave": "BraveSoftware/Brave-Browser/User Data",
    "edge": "Microsoft/Edge/User Data",
}
_CHROMIUM_LINUX = {
    "chrome": "google-chrome",
    "chromium": "chromium",
    "brave": "BraveSoftware/Brave-Browser",
    "edge": "microsoft-edge",
}
_CHROMIUM_LINUX_SANDBOXED = {  # Flatpak and Snap builds keep their own folders under HOME
    "chrome": (".var/app/com.google.Chrome/config/google-chrome",),
    "chromium": (".var/app/org.chromium.Chromium/config/chromium", "snap/chromium/common/chromium"),
    "brave": (".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser",),
    "edge": (".var/app/com.microsoft.Edge/config/microsoft-edge",),
}


class CookieError(UsageError):
    """A cookie store could not be read: one line naming the browser, never the cookie value."""


@dataclass(frozen=True)
class SessionCookie:
    """A claude.ai session key and where it was found; repr leaves the value out."""

    value: str = field(repr=False)
    browser: str  # "Firefox", "Chrome", "Chromium", "Brave", "Edge" or "config file"
    profile: str | None  # profile folder or cookie-file path, for `doctor`
    expires: datetime | None  # None: a session cookie


@dataclass(frozen=True)
class CookieSearch:
    """What a search found, and one line per browser that could not be read (for `doctor`)."""

    found: SessionCookie | None
    problems: tuple[str, ...] = ()
    searched: tuple[str, ...] = ()  # "Firefox: <cookie database>" for every store that was opened


@dataclass(frozen=True)
class _Store:
    """One cookie database to read. browser is None for a cookie file of a kind still unknown."""

    browser: str | None
    path: Path
    profile: str
    key_file: Path | None = None  # Chromium's "Local State"; browser-cookie3 needs it on Windows only

    @property
    def label(self) -> str:
        return self.browser or "cookie file"


@dataclass(frozen=True)
class _Contents:
    """What the snapshot holds once it is cut down to the claude.ai session cookies."""

    kind: str  # "firefox" or "chromium"
    candidates: int
    milliseconds: bool  # Firefox expiry unit
    app_bound: bool  # Chrome 127+ on Windows: "v20" values nobody outside Chrome can decrypt


def find_session_cookie(
    *,
    home: Path,
    platform: str,
    browser: str = "auto",
    profile: Path | None = None,
    cookie_file: Path | None = None,
    manual_key: str | None = None,
    now: datetime,
    environ: Mapping[str, str] | None = None,
) -> CookieSearch:
    """The claude.ai session: a valid pasted key wins, else the newest unexpired browser cookie.

    browser is "auto" or one of BROWSERS; profile (a profile folder) or cookie_file replace the
    search of the usual places. Never raises: unreadable stores become lines in `problems`.
    """
    problems: list[str] = []
    if manual_key is not None:
        key = _clean_manual_key(manual_key)
        if key is not None:
            return CookieSearch(SessionCookie(key, MANUAL_SOURCE, None, None))
        problems.append(
            f"{MANUAL_SOURCE}: the pasted session key does not look like one (it must start with "
            f"{KEY_PREFIX}); looking in the browsers instead"
        )
    choice = browser.strip().lower()
    if choice != "auto" and choice not in BROWSERS:
        problems.append(f"unknown browser {browser!r}: expected auto, " + ", ".join(BROWSERS))
        return CookieSearch(None, tuple(problems))
    names = BROWSERS if choice == "auto" else (choice,)
    env = os.environ if environ is None else environ
    stores, missing = _locate(names, home, platform, env, profile, cookie_file)
    problems += missing
    found: list[SessionCookie] = []
    searched: list[str] = []
    for store in stores:
        logger.debug("looking for the claude.ai session in %s (%s)", store.label, store.path)
        label = store.label
        try:
            label, cookies = _read(store, now)
            found += cookies
        except CookieError as exc:
            problems.append(str(exc))
        except _FAILURES as exc:
            logger.debug("%s: %s while reading %s", label, type(exc).__name__, store.path)
            problems.append(_describe(store, exc))
        searched.append(f"{label}: {store.path}")
    # The newest wins: claude.ai gives every login the same lifetime, so the latest expiry is the
    # latest login. Ties keep the search order (Firefox first).
    best = max(found, key=lambda cookie: cookie.expires or _UNKNOWN, default=None)
    return CookieSearch(best, tuple(problems), tuple(searched))


def _clean_manual_key(raw: str) -> str | None:
    key = raw.strip()
    key = key.removeprefix(f"{COOKIE_NAME}=")  # pasted as copied from a Cookie header
    return key if _is_session_key(key) else None


def _is_session_key(value: str) -> bool:
    return (
        value.startswith(KEY_PREFIX) and len(value) > len(KEY_PREFIX) and bool(_COOKIE_VALUE.fullmatch(value))
    )


# ------------------------------------------------------------------------------------ where to look


def _locate(
    names: tuple[str, ...],
    home: Path,
    platform: str,
    env: Mapping[str, str],
    profile: Path | None,
    cookie_file: Path | None,
) -> tuple[list[_Store], list[str]]:
    """The stores to read, and a line for each explicitly chosen browser that has none here."""
    single = LABELS[names[0]] if len(names) == 1 else None
    if cookie_file is not None:
        return [_Store(single, cookie_file, str(cookie_file))], []
    if profile is not None:
        return _stores_in_folder(profile, names)
    stores: list[_Store] = []
    problems: list[str] = []
    for name in names:
        if name == "firefox":
            found, trouble = _firefox_stores(_firefox_roots(home, platform, env))
            problems += trouble
        else:
            found = _chromium_stores(name, _chromium_user_data(name, home, platform, env))
        if not found and single is not None and not problems:
            problems.append(
                f"{single}: no profile found in the usual places; set web.profile or web.cookie_file"
            )
        stores += found
    if not stores and not problems:
        problems.append("no Firefox, Chrome, Chromium, Brave or Edge profile found in the usual places")
    return stores, problems


def _env_path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name, "")
    return Path(value) if value and Path(value).is_absolute() else default


def _firefox_roots(home: Path, platform: str, env: Mapping[str, str]) -> list[Path]:
    """Folders that hold Firefox's profiles.ini, most common first."""
    if platform == "darwin":
        return [home / "Library" / "Application Support" / "Firefox"]
    if platform == "win32":
        appdata = _env_path(env, "APPDATA", home / "AppData" / "Roaming")
        local = _env_path(env, "LOCALAPPDATA", home / "AppData" / "Local")
        store_app = local / "Packages" / "Mozilla.Firefox_n80bbvh6b1yt2" / "LocalCache" / "Roaming"
        return [appdata / "Mozilla" / "Firefox", store_app / "Mozilla" / "Firefox"]
    config = _env_path(env, "XDG_CONFIG_HOME", home / ".config")
    return [
        home / ".mozilla" / "firefox",
        config / "mozilla" / "firefox",  # where newer Firefox releases follow XDG_CONFIG_HOME
        home / "snap" / "firefox" / "common" / ".mozilla" / "firefox",
        home / ".var" / "app" / "org.mozilla.firefox" / ".mozilla" / "firefox",
    ]


def _firefox_stores(roots: list[Path]) -> tuple[list[_Store], list[str]]:
    """The default profile's cookies.sqlite under each root that exists (a deb and a snap may both)."""
    stores: list[_Store] = []
    problems: list[str] = []
    for root in roots:
        ini = root / "profiles.ini"
        if not ini.is_file():
            continue
        try:
            folder = _default_firefox_profile(ini)
        except (OSError, UnicodeDecodeError, configparser.Error):
            problems.append(f"Firefox: cannot read {ini}")
            continue
        if folder is not None and (folder / "cookies.sqlite").is_file():
            stores.append(_Store("Firefox", folder / "cookies.sqlite", str(folder)))
    return stores, problems


def _default_firefox_profile(ini: Path) -> Path | None:
    """profiles.ini: the first [Install...] Default= (Firefox 67+), else the profile with Default=1."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(ini.read_text(encoding="utf-8"))
    profiles = [parser[name] for name in parser.sections() if name.startswith("Profile")]
    chosen = next(
        (
            parser[name]["Default"]
            for name in parser.sections()
            if name.startswith("Install") and parser[name].get("Default")
        ),
        None,
    )
    if chosen is None:
        chosen = next((section.get("Path") for section in profiles if section.get("Default") == "1"), None)
    if chosen is None and len(profiles) == 1:
        chosen = profiles[0].get("Path")
    if not chosen:
        return None
    # [Install...] sections name the path only; whether it is relative is on the profile's own section.
    relative = next(
        (section.get("IsRelative", "1") != "0" for section in profiles if section.get("Path") == chosen),
        not Path(chosen).is_absolute(),
    )
    return ini.parent / chosen if relative else Path(chosen)


def _chromium_user_data(name: str, home: Path, platform: str, env: Mapping[str, str]) -> list[Path]:
    if platform == "darwin":
        return [home / "Library" / "Application Support" / _CHROMIUM_MAC[name]]
    if platform == "win32":
        return [_env_path(env, "LOCALAPPDATA", home / "AppData" / "Local") / _CHROMIUM_WINDOWS[name]]
    config = _env_path(env, "XDG_CONFIG_HOME", home / ".config")
    return [config / _CHROMIUM_LINUX[name], *(home / path for path in _CHROMIUM_LINUX_SANDBOXED[name])]


def _chromium_stores(name: str, user_data_folders: list[Path]) -> list[_Store]:
    stores = []
    for user_data in user_data_folders:
        found = _chromium_profile(user_data)
        if found is not None:
            folder, cookies = found
            local_state = user_data / "Local State"
            key_file = local_state if local_state.is_file() else None
            stores.append(_Store(LABELS[name], cookies, str(folder), key_file))
    return stores


def _chromium_profile(user_data: Path) -> tuple[Path, Path] | None:
    """The profile the browser opens with (Local State's last_used), else Default, else Profile N."""
    if not user_data.is_dir():
        return None
    names = [_last_used_profile(user_data / "Local State"), "Default"]
    names += sorted(folder.name for folder in user_data.glob("Profile *"))
    for profile_name in names:
        if profile_name:
            cookies = _chromium_cookie_file(user_data / profile_name)
            if cookies is not None:
                return user_data / profile_name, cookies
    return None


def _last_used_profile(local_state: Path) -> str | None:
    try:
        name = json.loads(local_state.read_text(encoding="utf-8"))["profile"]["last_used"]
    except (OSError, ValueError, LookupError, TypeError):
        return None
    # A plain folder name only: Local State is not allowed to point the search elsewhere.
    return name if isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name else None


def _chromium_cookie_file(folder: Path) -> Path | None:
    # Chrome 96+ on Windows moved the database into Network/; the old place is kept for the others.
    for candidate in (folder / "Network" / "Cookies", folder / "Cookies"):
        if candidate.is_file():
            return candidate
    return None


def _stores_in_folder(folder: Path, names: tuple[str, ...]) -> tuple[list[_Store], list[str]]:
    """An explicit profile folder (or Firefox's folder holding profiles.ini) of the chosen browser."""
    if "firefox" in names:
        if (folder / "profiles.ini").is_file():
            stores, problems = _firefox_stores([folder])
            if stores or problems:
                return stores, problems
        if (folder / "cookies.sqlite").is_file():
            return [_Store("Firefox", folder / "cookies.sqlite", str(folder))], []
    chromium = [name for name in names if name != "firefox"]
    cookies = _chromium_cookie_file(folder) if chromium else None
    if cookies is not None:
        local_state = folder.parent / "Local State"
        key_file = local_state if local_state.is_file() else None
        return [_Store(LABELS[chromium[0]], cookies, str(folder), key_file)], []
    who = LABELS[names[0]] if len(names) == 1 else "web.profile"
    return [], [f"{who}: no cookie database in {folder}"]


# ------------------------------------------------------------------------------------ reading one


def _read(store: _Store, now: datetime) -> tuple[str, list[SessionCookie]]:
    """The browser's name and the unexpired claude.ai session cookies of one store, from a snapshot."""
    with _private_folder() as folder:
        snapshot = _snapshot(store.path, folder)
        contents = _cut_down(snapshot, store)
        if contents.app_bound:
            raise CookieError(
                f"{store.label}: the cookie uses Chrome's app-bound encryption (Chrome 127+ on Windows), "
                "which no other program can decrypt; paste the sessionKey into web.session_key instead"
            )
        browser = store.browser or ("Firefox" if contents.kind == "firefox" else "Chrome")
        if contents.candidates == 0:
            return browser, []  # no need to ask a keyring (or macOS for Keychain access) for nothing
        try:
            jar = _load_jar(browser, snapshot, store.key_file)
        except (LookupError, OSError) as exc:
            if contents.kind == "firefox":
                raise
            # The snapshot is ours and readable: what failed is fetching the key that decrypts it
            # (Secret Service or KWallet over D-Bus, the macOS Keychain, Local State and DPAPI).
            raise CookieError(_key_problem(browser, exc)) from exc
    cookies = []
    for cookie in jar:
        value = cookie.value
        if cookie.name != COOKIE_NAME or cookie.domain not in COOKIE_HOSTS or value is None:
            continue
        expires = _expiry(cookie.expires, contents.milliseconds)
        if _is_session_key(value) and (expires is None or expires > now):
            cookies.append(SessionCookie(value, browser, store.profile, expires))
    return browser, cookies


@contextlib.contextmanager
def _private_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="claude-usage-cookies-"))  # mode 0700
    try:
        yield folder
    finally:
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            logger.warning("could not remove the temporary cookie copy %s: %s", folder, exc.strerror)


def _snapshot(source: Path, folder: Path) -> Path:
    """A consistent private copy (mode 0600) of a live cookie database, with what is only in its -wal."""
    if not source.is_file():
        raise FileNotFoundError(2, "No such file", str(source))
    snapshot = folder / "cookies.sqlite"
    os.close(os.open(snapshot, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        _backup(source.absolute().as_uri() + "?mode=ro", snapshot)
    except sqlite3.OperationalError as exc:
        # Locked by the browser (Firefox's exclusive mode, Chrome on Windows) or no -shm to share:
        # copy the files instead; opening the copy replays its -wal.
        logger.debug("cannot share %s (%s); copying it", source, exc)
        raw = folder / "raw.sqlite"
        _copy_private(source, raw)
        # With its -wal (Firefox) or a hot -journal (a write in progress), the copy opens as committed.
        for suffix in ("-wal", "-journal"):
            companion = source.with_name(source.name + suffix)
            if companion.is_file():
                _copy_private(companion, raw.with_name(raw.name + suffix))
        _backup(raw.as_uri(), snapshot)
    return snapshot


def _backup(source_uri: str, snapshot: Path) -> None:
    with (
        contextlib.closing(
            sqlite3.connect(source_uri, uri=True, timeout=_BUSY_TIMEOUT, isolation_level=None)
        ) as source,
        contextlib.closing(sqlite3.connect(snapshot)) as target,
    ):
        # A read transaction pins one state for the whole copy. Without it, Connection.backup()
        # retries a locked database every 250 ms for ever; _give_up_when_busy is the second guard.
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        source.backup(target, progress=_give_up_when_busy)
        target.execute("PRAGMA journal_mode=DELETE")  # the copy inherits the WAL flag; keep it one file


def _give_up_when_busy(status: int, remaining: int, total: int) -> None:
    if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        raise sqlite3.OperationalError("database is locked")


def _copy_private(source: Path, target: Path) -> None:
    with (
        source.open("rb") as reader,
        open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as writer,
    ):
        shutil.copyfileobj(reader, writer)


def _cut_down(snapshot: Path, store: _Store) -> _Contents:
    """Keep only claude.ai sessionKey rows (one per host and path), so nothing else is decrypted or copied."""
    with contextlib.closing(sqlite3.connect(snapshot, isolation_level=None)) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        kind = "firefox" if "moz_cookies" in tables else "chromium" if "cookies" in tables else None
        expected = None if store.browser is None else "firefox" if store.browser == "Firefox" else "chromium"
        if kind is None or (expected is not None and kind != expected):
            raise CookieError(
                f"{store.label}: {store.path} is not a {store.browser or 'browser'} cookie database"
            )
        table, host, expiry = (
            ("moz_cookies", "host", "expiry") if kind == "firefox" else ("cookies", "host_key", "expires_utc")
        )
        con.execute("PRAGMA secure_delete = ON")  # deleted values are zeroed, not left in free pages
        con.execute(
            f"DELETE FROM {table} WHERE rowid NOT IN "
            f"(SELECT rowid FROM {table} WHERE name = ? AND {host} IN (?, ?))",
            (COOKIE_NAME, *COOKIE_HOSTS),
        )
        # Containers and partitions keep one row each; browser-cookie3 would keep an arbitrary one.
        con.execute(
            f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {table} AS o WHERE o.{host} = {table}.{host} "
            f"AND o.path = {table}.path AND o.name = {table}.name AND (o.{expiry} > {table}.{expiry} "
            f"OR (o.{expiry} = {table}.{expiry} AND o.rowid > {table}.rowid)))"
        )
        candidates = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        app_bound = kind == "chromium" and bool(
            con.execute(
                "SELECT count(*) FROM cookies WHERE substr(encrypted_value, 1, 3) = CAST('v20' AS BLOB)"
            ).fetchone()[0]
        )
        schema = con.execute("PRAGMA user_version").fetchone()[0]
    return _Contents(kind, candidates, kind == "firefox" and schema >= _FIREFOX_MS_SCHEMA, app_bound)


def _load_jar(browser: str, snapshot: Path, key_file: Path | None) -> CookieJar:
    """browser-cookie3 on our snapshot: never its load(), always an explicit cookie_file."""
    import browser_cookie3  # here only: see _LibraryError

    try:
        with _owner_only_files():
            if browser == "Firefox":
                jar: CookieJar = browser_cookie3.firefox(cookie_file=str(snapshot), domain_name="claude.ai")
                return jar
            loader = {
                "Chrome": browser_cookie3.chrome,
                "Chromium": browser_cookie3.chromium,
                "Brave": browser_cookie3.brave,
                "Edge": browser_cookie3.edge,
            }[browser]
            key = None if key_file is None else str(key_file)
            jar = loader(cookie_file=str(snapshot), domain_name="claude.ai", key_file=key)
            return jar
    except browser_cookie3.BrowserCookieError as exc:
        raise _LibraryError(*exc.args) from exc


@contextlib.contextmanager
def _owner_only_files() -> Iterator[None]:
    # browser-cookie3 copies the Firefox database once more, into the shared temp folder with the
    # default mode (0644 under the usual umask); 077 keeps that short-lived copy private. The umask is
    # process-wide, so other threads' files created meanwhile are only ever made stricter.
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _expiry(raw: float | None, milliseconds: bool) -> datetime | None:
    if raw is None:
        return None
    seconds = raw / 1000 if milliseconds else raw
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return _LATEST if seconds > 0 else _UNKNOWN


# ------------------------------------------------------------------------------------ messages


def _describe(store: _Store, exc: BaseException) -> str:
    """One line for a failure, naming the browser and the file; never the exception's free text."""
    who, path = store.label, store.path
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return f"{who}: the cookie store is locked by the running browser ({path})"
        if "not a database" in text or "malformed" in text or "encrypted" in text:
            return f"{who}: {path} is damaged or not a cookie database"
        return f"{who}: cannot open {path} (sqlite: {text})"
    if isinstance(exc, PermissionError) and getattr(exc, "winerror", None) in _WINDOWS_SHARING_VIOLATION:
        return f"{who}: the cookie store is locked by the running browser ({path})"
    if isinstance(exc, PermissionError):
        return f"{who}: no permission to read {path}"
    if isinstance(exc, FileNotFoundError) and exc.filename == str(path):
        return f"{who}: {path} does not exist"
    if isinstance(exc, _LibraryError) and "decryption" in str(exc):
        return (
            f"{who}: the cookies could not be decrypted (the browser's key is not available to this program)"
        )
    if isinstance(exc, RuntimeError) and "DPAPI" in str(exc):
        return f"{who}: Windows refused to decrypt the cookie key (DPAPI)"
    return f"{who}: browser-cookie3 could not read {path} ({type(exc).__name__})"


def _key_problem(browser: str, exc: BaseException) -> str:
    # jeepney reads DBUS_SESSION_BUS_ADDRESS with os.environ[...]: a KeyError means no session bus.
    no_bus = isinstance(exc, KeyError) and "DBUS_SESSION_BUS_ADDRESS" in str(exc)
    reason = "there is no D-Bus session bus" if no_bus else type(exc).__name__
    return (
        f"{browser}: could not get the key that decrypts its cookies from the keyring ({reason}); "
        "paste the sessionKey into web.session_key instead"
    )
