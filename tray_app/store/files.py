"""The database file kept safe: private folder and file, WAL, quick_check, damaged files moved aside."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tray_app.clock import utc_now
from tray_app.store.schema import SCHEMA_VERSION, migrate

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_SIDE_FILES = ("-wal", "-shm", "-journal")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
    # IMMEDIATE takes the write lock up front, so a concurrent writer waits on busy_timeout
    # instead of failing mid-transaction with SQLITE_BUSY on lock upgrade.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def open_or_replace(path: Path) -> sqlite3.Connection:
    """A checked, migrated connection to path; a damaged file is moved aside for a fresh one."""
    prepare_folder(path.parent)
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
        move_aside(path, utc_now())
        # A second failure on a brand-new file is not corruption we can fix: let it raise.
        return _connect(path)


def connect_for_reading(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to a file we cannot write, or None when it cannot be read either."""
    if not path.is_file():
        return None
    # immutable=1 is the last resort: a WAL file in a read-only folder cannot get its -shm otherwise.
    for options in ("mode=ro", "mode=ro&immutable=1"):
        try:
            connection = sqlite3.connect(f"file:{path}?{options}", uri=True, check_same_thread=False)
        except sqlite3.Error:
            continue
        try:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            if version == SCHEMA_VERSION:
                return connection
        except sqlite3.Error:
            pass
        connection.close()
    return None


def writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file now at path: tells a replaced or deleted file from ours."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def is_corruption(exc: sqlite3.Error) -> bool:
    """True for a file that is damaged or not a database; False for locked, busy, full, I/O errors."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    # Errors we raise ourselves (quick_check) carry no code and use the plain base class.
    return type(exc) is sqlite3.DatabaseError


_REASONS = {
    sqlite3.SQLITE_BUSY: "it is locked by another program",
    sqlite3.SQLITE_LOCKED: "it is locked by another program",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_READONLY: "the file or its folder is read-only",
    sqlite3.SQLITE_PERM: "permission denied",
    sqlite3.SQLITE_CANTOPEN: "the file cannot be opened",
    sqlite3.SQLITE_IOERR: "input/output error",
    sqlite3.SQLITE_CORRUPT: "the file is damaged",
    sqlite3.SQLITE_NOTADB: "the file is not a database",
}


def reason(exc: sqlite3.Error) -> str:
    """What went wrong in words a user understands."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _REASONS:
        return _REASONS[code & 0xFF]
    return str(exc) or type(exc).__name__


def describe(exc: sqlite3.Error | OSError, path: Path) -> str:
    """One line naming the file and why it cannot be opened."""
    if not isinstance(exc, OSError):
        return f"cannot open {path}: {reason(exc)}"
    why = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or type(exc).__name__
    # The folder, not the file, is often what cannot be made or entered: name what failed.
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return f"cannot open {path}: {why}{where}"


def _connect(path: Path) -> sqlite3.Connection:
    """A configured, checked and migrated connection; sqlite3.DatabaseError when the file is bad."""
    create_private_file(path)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so the sqlite3 module never opens
    # implicit transactions that would hold locks other processes wait for.
    connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(connection, path)
        connection.execute("PRAGMA synchronous = NORMAL")
        _quick_check(connection)
        migrate(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def _enable_wal(connection: sqlite3.Connection, path: Path) -> None:
    try:
        (mode,) = connection.execute("PRAGMA journal_mode = WAL").fetchone()
    except sqlite3.OperationalError as exc:
        # Switching needs a moment alone with the file; if the terminal monitor holds it, keep the
        # old journal mode this run rather than fail to start.
        logger.warning("Could not switch %s to WAL journal mode: %s", path, exc)
        return
    if str(mode).lower() != "wal":
        logger.warning("%s stays in journal mode %s instead of WAL", path, mode)


def _quick_check(connection: sqlite3.Connection) -> None:
    results = [row[0] for row in connection.execute("PRAGMA quick_check").fetchall()]
    if results != ["ok"]:
        raise sqlite3.DatabaseError(f"quick_check failed: {'; '.join(map(str, results[:3]))}")


def prepare_folder(folder: Path) -> None:
    """Create folder private to the user, or tighten it to 0700 when it exists and is ours."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
        return
    _tighten(folder, 0o700)


def create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 before sqlite does, so it is never world-readable."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _tighten(path, 0o600)
        return
    os.close(fd)


def _tighten(path: Path, mode: int) -> None:
    info = path.stat()
    owned = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    current = stat.S_IMODE(info.st_mode)
    if owned and current & ~mode:
        # Only take bits away: a file the user made read-only stays read-only.
        os.chmod(path, current & mode)


def move_aside(path: Path, now: datetime) -> None:
    """Rename a corrupt database (and its side files) to <name>.corrupt-<UTC time>."""
    target = path.with_name(f"{path.name}.corrupt-{now.astimezone(UTC):%Y%m%dT%H%M%S}")
    suffix = 1
    while target.exists():  # two corruptions in one second: never overwrite the first
        target = path.with_name(f"{path.name}.corrupt-{now.astimezone(UTC):%Y%m%dT%H%M%S}.{suffix}")
        suffix += 1
    os.replace(path, target)
    for side in _SIDE_FILES:
        side_path = path.with_name(path.name + side)
        if side_path.exists():
            # Named after the moved file so sqlite can still open the pair for a post-mortem.
            os.replace(side_path, target.with_name(target.name + side))
    logger.warning("Database %s is corrupt; moved it to %s and started a fresh one", path, target)
