"""claude.ai's sessionKey cookie: pasted into the config, or read from Firefox and Chromium browsers.

browser-cookie3 decrypts; the rest is ours: where each browser keeps its profile, a consistent private
snapshot of the live cookie database, exact claude.ai domain and expiry checks, and one readable line
per browser that could not be read. The cookie value never reaches a message, a log line or a repr.
"""

from __future__ import annotations

import contextlib
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
from tray_app.sources.browser_profiles import BROWSERS, CookieStore, locate

logger = logging.getLogger(__name__)

COOKIE_NAME = "sessionKey"
COOKIE_HOSTS = ("claude.ai", ".claude.ai")
KEY_PREFIX = "sk-ant-"
MANUAL_SOURCE = "config file"

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
    stores, missing = locate(names, home, platform, env, profile, cookie_file)
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


def _read(store: CookieStore, now: datetime) -> tuple[str, list[SessionCookie]]:
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


def _cut_down(snapshot: Path, store: CookieStore) -> _Contents:
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


def _describe(store: CookieStore, exc: BaseException) -> str:
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
