"""One tray per user: an OS file lock in the data folder, released by the OS if the process dies."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from types import TracebackType

LOCK_NAME = "tray.lock"


class AlreadyRunning(Exception):
    """Another tray holds the lock; pid is what it wrote there, when readable."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(f"already running (PID {pid})" if pid else "already running")
        self.pid = pid


class InstanceLock:
    """An advisory lock (flock on Unix, msvcrt on Windows). A crashed run leaves the file but not the lock,
    so the next run simply takes it over."""

    def __init__(self, folder: Path, name: str = LOCK_NAME) -> None:
        self.path = folder / name
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            pid = _read_pid(fd)
            os.close(fd)
            raise AlreadyRunning(pid)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing drops the lock
        self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 32, 0).decode().strip() if hasattr(os, "pread") else ""
        return int(text) if text else None
    return None


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
