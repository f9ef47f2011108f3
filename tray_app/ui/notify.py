"""Desktop notifications: one Notifier per delivery route, tried in order with fallbacks, never raising."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from tray_app.alert_settings import BACKENDS
from tray_app.clock import utc_now

logger = logging.getLogger(__name__)

BACKEND_NAMES = BACKENDS  # the choices of the notifications.backend setting

# Notifications expire by themselves, so that alerts do not pile up on screen.
EXPIRE_SECONDS = 10
# A notification command that takes longer than this is stuck (a hung daemon); it is killed.
COMMAND_TIMEOUT_SECONDS = 5.0

# The "auto" order per platform family. notify-send comes before plyer on Linux because plyer without
# dbus-python shells out to notify-send itself, dropping our icon and expiry and hiding its failures;
# pystray comes late on Linux because its D-Bus call sends no app name and swallows failures.
AUTO_ORDER: dict[str, tuple[str, ...]] = {
    "linux": ("notify-send", "plyer", "pystray", "log"),
    "darwin": ("osascript", "plyer", "pystray", "log"),
    "win32": ("pystray", "plyer", "log"),
}

NOTIFICATIONS_BUS_NAME = "org.freedesktop.Notifications"
_NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
_DBUS_CALL_TIMEOUT_MS = 3000
_REASON_LIMIT = 200
# plyer implementations on Linux that hand over to a command and ignore its exit status.
_PLYER_SILENT_LINUX = {
    "NotifySendNotification": "notify-send",
    "NotifyDesktopPortals": "a gdbus portal call",
}
# Windows balloon fields are fixed WCHAR buffers (title 64, text 256, each with its NUL); longer text
# raises in plyer's thread and in pystray's win32 notify.
_WINDOWS_TITLE_LIMIT = 63
_WINDOWS_BODY_LIMIT = 255


class NotifyError(Exception):
    """A backend could not deliver a notification (the message says why; it never holds a secret)."""


class Notifier(Protocol):
    name: str

    def send(self, title: str, body: str) -> None:
        """Deliver one notification; raise NotifyError when it is known to have failed."""
        ...


def platform_family(platform: str) -> str:
    """'darwin', 'win32' or 'linux' (every other Unix: notify-send and D-Bus work the same there)."""
    if platform.startswith("darwin"):
        return "darwin"
    if platform in ("win32", "cygwin"):
        return "win32"
    return "linux"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _clip(lines[0], _REASON_LIMIT) if lines else "no error message"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wchars(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1  # outside the BMP: a UTF-16 surrogate pair


def _clip_wchars(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 code units with "…" (Windows counts WCHARs, an emoji takes two)."""
    if sum(map(_wchars, text)) <= limit:
        return text
    kept, used = [], 0
    for char in text:
        used += _wchars(char)
        if used > limit - 1:  # one unit left for the "…"
            break
        kept.append(char)
    return "".join(kept) + "…"


def fit_for_platform(family: str | None, title: str, body: str) -> tuple[str, str]:
    """The title and body as the platform's notification can take them: cut to the balloon's buffers
    on Windows (the tray's own balloon and plyer's both fail on longer text), unchanged elsewhere."""
    if family != "win32":
        return title, body
    return _clip_wchars(title, _WINDOWS_TITLE_LIMIT), _clip_wchars(body, _WINDOWS_BODY_LIMIT)


def _run_command(argv: Sequence[str], timeout: float) -> None:
    program = argv[0]
    try:
        done = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise NotifyError(f"{program} is not installed (not found on PATH)") from None
    except subprocess.TimeoutExpired:
        raise NotifyError(f"{program} did not finish within {timeout:g} s (killed)") from None
    except (OSError, ValueError) as exc:  # not executable; a NUL character in the text
        raise NotifyError(f"{program} could not run: {exc}") from None
    if done.returncode != 0:
        raise NotifyError(f"{program} exited with {done.returncode}: {_first_line(done.stderr)}")


class NotifySendNotifier:
    """Linux and other Unix: libnotify's notify-send, with our app name, icon and an expiry."""

    name = "notify-send"

    def __init__(
        self,
        app_name: str,
        icon_path: Path | None = None,
        *,
        expire_seconds: float = EXPIRE_SECONDS,
        timeout: float = COMMAND_TIMEOUT_SECONDS,
        program: str = "notify-send",
    ) -> None:
        self._app_name = app_name
        self._icon_path = icon_path
        self._expire_ms = max(1, round(expire_seconds * 1000))  # 0 would mean "never expire"
        self._timeout = timeout
        self._program = program

    def command(self, title: str, body: str) -> list[str]:
        argv = [self._program, "-a", self._app_name]
        if self._icon_path is not None:
            # Daemons resolve a relative path against their own folder, not ours.
            argv += ["-i", str(self._icon_path.absolute())]
        # "--" so that a title starting with "-" is not read as an option.
        return [*argv, "-t", str(self._expire_ms), "--", title, body]

    def send(self, title: str, body: str) -> None:
        """Run notify-send; a non-zero exit, a missing program or a hang raises NotifyError."""
        _run_command(self.command(title, body), self._timeout)


class PlyerNotifier:
    """plyer's notification facade (D-Bus through dbus-python on Linux, NSUserNotification, balloon)."""

    name = "plyer"

    def __init__(
        self,
        app_name: str,
        icon_path: Path | None = None,
        *,
        platform: str,
        expire_seconds: float = EXPIRE_SECONDS,
    ) -> None:
        self._app_name = app_name
        self._icon_path = icon_path
        self._family = platform_family(platform)
        self._expire_seconds = max(1, round(expire_seconds))

    def send(self, title: str, body: str) -> None:
        """Call plyer.notification.notify; any exception it raises becomes NotifyError."""
        try:
            from plyer import notification
        except ImportError:
            raise NotifyError("plyer is not installed") from None
        with warnings.catch_warnings():
            # Its first use warns on stderr when dbus-python is missing; the reason is reported below.
            warnings.simplefilter("ignore")
            # The facade is a proxy: __class__ is the implementation plyer picked for this machine.
            implementation = notification.__class__.__name__
        silent = _PLYER_SILENT_LINUX.get(implementation) if self._family == "linux" else None
        if silent is not None:
            # It would report success whatever happened, and hiding a failure would skip the fallbacks.
            raise NotifyError(
                f"plyer would use {silent} here (it does without dbus-python, or when /app exists), "
                "which hides failures and ignores the icon and the expiry"
            )
        title, body = fit_for_platform(self._family, title, body)
        try:
            notification.notify(
                title=title,
                message=body,
                app_name=self._app_name,
                app_icon=self._icon(),
                timeout=self._expire_seconds,
            )
        except Exception as exc:  # plyer raises whatever its platform layer raises (DBusException, ...)
            raise NotifyError(f"plyer ({implementation}) failed: {type(exc).__name__}: {exc}") from exc

    def _icon(self) -> str:
        if self._icon_path is None:
            return ""
        # On Windows plyer loads only .ico files and raises inside its own thread for anything else.
        if self._family == "win32" and self._icon_path.suffix.lower() != ".ico":
            return ""
        return str(self._icon_path.absolute())


def dbus_notifications_problem() -> str | None:
    """Why org.freedesktop.Notifications cannot be reached on the session bus, or None if it answers.

    Asks the server for its information (which D-Bus-activates it like a Notify call would) on a
    private connection, so it follows the current environment and never touches a shared one.
    """
    try:
        import gi

        gi.require_version("Gio", "2.0")
        from gi.repository import Gio, GLib
    except (ImportError, ValueError):
        return "PyGObject is not installed, so the tray has no D-Bus notifications"
    flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
    try:
        address = Gio.dbus_address_get_for_bus_sync(Gio.BusType.SESSION, None)
        connection = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        try:
            connection.call_sync(
                NOTIFICATIONS_BUS_NAME,
                _NOTIFICATIONS_PATH,
                NOTIFICATIONS_BUS_NAME,
                "GetServerInformation",
                None,
                GLib.VariantType.new("(ssss)"),
                Gio.DBusCallFlags.NONE,
                _DBUS_CALL_TIMEOUT_MS,
                None,
            )
        finally:
            connection.close_sync(None)
    except GLib.Error as exc:
        return f"no notification service on the session bus: {_first_line(exc.message)}"
    return None


class PystrayNotifier:
    """The tray icon's own notify(message, title): a balloon on Windows, osascript on macOS, D-Bus on Linux.

    pystray's Linux backends swallow D-Bus failures, so `precheck` (returning a reason or None) lets
    the caller find out before handing the notification over.
    """

    name = "pystray"

    def __init__(
        self,
        notify: Callable[[str, str], None],
        *,
        platform: str | None = None,
        precheck: Callable[[], str | None] | None = None,
    ) -> None:
        self._notify = notify
        # None: the text is handed over as it is (a caller that does not know the platform).
        self._family = None if platform is None else platform_family(platform)
        self._precheck = precheck

    def send(self, title: str, body: str) -> None:
        """Hand the notification to the tray; a failed precheck or an exception raises NotifyError."""
        if self._precheck is not None:
            problem = self._precheck()
            if problem is not None:
                raise NotifyError(problem)
        # pystray's win32 balloon raises on too long a text, which would send every long alert to plyer.
        title, body = fit_for_platform(self._family, title, body)
        try:
            self._notify(body, title)
        except Exception as exc:  # whatever the toolkit backend raises (NotImplementedError on xorg)
            raise NotifyError(f"tray notification failed: {type(exc).__name__}: {exc}") from exc


_APPLESCRIPT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def applescript_string(text: str) -> str:
    """`text` as an AppleScript string literal: quoted, with \\ \" and line breaks escaped.

    Other control characters are dropped: AppleScript has no escape for them.
    """
    kept = (char for char in text if char in _APPLESCRIPT_ESCAPES or unicodedata.category(char) != "Cc")
    return '"' + "".join(_APPLESCRIPT_ESCAPES.get(char, char) for char in kept) + '"'


class OsascriptNotifier:
    """macOS: `osascript -e 'display notification ...'` (shown under Script Editor's name and icon)."""

    name = "osascript"

    def __init__(self, *, timeout: float = COMMAND_TIMEOUT_SECONDS, program: str = "osascript") -> None:
        self._timeout = timeout
        self._program = program

    @staticmethod
    def script(title: str, body: str) -> str:
        return f"display notification {applescript_string(body)} with title {applescript_string(title)}"

    def send(self, title: str, body: str) -> None:
        """Run osascript; a non-zero exit (or a missing program, or a hang) raises NotifyError."""
        _run_command([self._program, "-e", self.script(title, body)], self._timeout)


class JsonLinesNotifier:
    """The last resort: appends {"at", "title", "body"} as one JSON line to a private file."""

    name = "log"

    def __init__(self, path: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._clock = clock if clock is not None else utc_now

    def send(self, title: str, body: str) -> None:
        """Append one line (file 0600 in a folder created 0700); an OSError raises NotifyError."""
        at = self._clock().astimezone(UTC).isoformat(timespec="seconds")
        line = json.dumps({"at": at, "title": title, "body": body}, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with open(descriptor, "a", encoding="utf-8", newline="") as file:
                file.write(line)
        except OSError as exc:
            raise NotifyError(f"cannot write {self.path}: {exc.strerror or exc}") from None


class NullNotifier:
    """'none': notifications are switched off; everything is dropped."""

    name = "none"

    def send(self, title: str, body: str) -> None:
        return None


class FallbackNotifier:
    """Tries its backends in order until one delivers. Never raises.

    A failing backend is logged once (a WARNING with the reason) and not again until it has
    delivered once more, so a missing notification service does not flood the log.
    """

    def __init__(self, backends: Sequence[Notifier]) -> None:
        self.backends: tuple[Notifier, ...] = tuple(backends)
        self._failing: set[int] = set()  # positions, so two backends of one kind stay apart
        self._lock = threading.Lock()  # the poller and the UI thread (About) may both send

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(backend.name for backend in self.backends)

    def send(self, title: str, body: str) -> str | None:
        """Deliver through the first backend that works; return its name, or None if none did."""
        for position, backend in enumerate(self.backends):
            if self._try(position, backend, title, body):
                return backend.name
        return None

    def _try(self, position: int, backend: Notifier, title: str, body: str) -> bool:
        try:
            backend.send(title, body)
        except NotifyError as exc:
            self._failed(position, backend, str(exc), None)
            return False
        except Exception as exc:  # a backend's own bug must neither reach the poller nor stop the fallbacks
            self._failed(position, backend, f"{type(exc).__name__}: {exc}", exc)
            return False
        with self._lock:
            recovered = position in self._failing
            self._failing.discard(position)
        if recovered:
            logger.info("notifications through %s work again", backend.name)
        return True

    def _failed(self, position: int, backend: Notifier, reason: str, unexpected: Exception | None) -> None:
        with self._lock:
            known = position in self._failing
            self._failing.add(position)
        if not known:
            logger.warning(
                "notifications through %s failed: %s (trying the next way; not logged again until it works)",
                backend.name,
                _clip(reason, _REASON_LIMIT),
                exc_info=unexpected,
            )


def build_notifier(
    choice: str,
    *,
    platform: str,
    app_name: str,
    icon_path: Path | None,
    log_file: Path,
    tray_notify: Callable[[str, str], None] | None,
) -> FallbackNotifier:
    """The notifier for a configured backend name: "auto" is the platform's order; any other name is
    that backend followed by the JSON-lines log; "none" drops everything. ValueError for unknown names.

    `tray_notify` is the tray icon's notify(message, title), or None when the tray has none (pystray's
    xorg backend); it should raise when it fails rather than log and return.
    """
    if choice not in BACKEND_NAMES:
        raise ValueError(f"unknown notification backend {choice!r}; valid: {', '.join(BACKEND_NAMES)}")
    family = platform_family(platform)
    if choice == "auto":
        names = AUTO_ORDER[family]
    elif choice in ("log", "none"):
        names = (choice,)
    else:
        names = (choice, "log")

    def pystray_backend() -> Notifier | None:
        if tray_notify is None:
            return None
        precheck = dbus_notifications_problem if family == "linux" else None
        return PystrayNotifier(tray_notify, platform=platform, precheck=precheck)

    factories: dict[str, Callable[[], Notifier | None]] = {
        "notify-send": lambda: NotifySendNotifier(app_name, icon_path),
        "plyer": lambda: PlyerNotifier(app_name, icon_path, platform=platform),
        "pystray": pystray_backend,
        "osascript": lambda: OsascriptNotifier(),
        "log": lambda: JsonLinesNotifier(log_file),
        "none": lambda: NullNotifier(),
    }
    backends = [backend for name in names if (backend := factories[name]()) is not None]
    return FallbackNotifier(backends)
