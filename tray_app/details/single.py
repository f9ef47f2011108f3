"""One details window per user: the first holds a file lock and listens on a loopback port; a second
open connects to that port, says "raise" and ends.

Loopback TCP rather than a Unix socket: it is the same on Linux, macOS and Windows. The port is written
beside the lock in the data folder, which only the owner can read (umask 077), and the listener accepts
nothing but the one word, so another local user can at most raise the window.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from tray_app.instance import AlreadyRunning, InstanceLock

LOCK_NAME = "details.lock"
PORT_NAME = "details.port"
RAISE = b"raise\n"
_CONNECT_TIMEOUT = 2.0


class DetailsInstance:
    """Held by the window's process for as long as the window is open."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._lock = InstanceLock(folder, LOCK_NAME)
        self._server: socket.socket | None = None

    def acquire(self, on_raise: Callable[[], None]) -> bool:
        """True: this process is the one window, and on_raise runs (on a listener thread) when another
        open asks. False: another window runs and has been asked to come to the front."""
        try:
            self._lock.acquire()
        except AlreadyRunning:
            # Another window holds the lock: whether or not it answers, this open makes no second one.
            _ask_to_raise(self._folder / PORT_NAME)
            return False
        self._listen(on_raise)
        return True

    def _listen(self, on_raise: Callable[[], None]) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        self._server = server
        (self._folder / PORT_NAME).write_text(f"{server.getsockname()[1]}\n")
        threading.Thread(
            target=self._serve, args=(server, on_raise), daemon=True, name="details-raise"
        ).start()

    @staticmethod
    def _serve(server: socket.socket, on_raise: Callable[[], None]) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed: the window is going
            with client:
                client.settimeout(_CONNECT_TIMEOUT)
                with contextlib.suppress(OSError):
                    if client.recv(16) == RAISE:
                        on_raise()
                        client.sendall(b"ok\n")

    def release(self) -> None:
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.close()
            with contextlib.suppress(OSError):
                (self._folder / PORT_NAME).unlink()
            self._server = None
        self._lock.release()


def _ask_to_raise(port_file: Path) -> bool:
    """Whether the running window answered; it may still be starting, so a few tries."""
    for _ in range(10):
        with contextlib.suppress(OSError, ValueError):
            port = int(port_file.read_text().strip())
            with socket.create_connection(("127.0.0.1", port), timeout=_CONNECT_TIMEOUT) as conn:
                conn.sendall(RAISE)
                return conn.recv(8) == b"ok\n"
        threading.Event().wait(0.2)
    return False
