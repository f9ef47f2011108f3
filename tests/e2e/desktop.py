"""A private headless Linux desktop for end-to-end tray tests: Xvfb, a session bus, dunst and trayer.

Besides starting and stopping that desktop, this module holds the probes a test needs to see what a
user would see: the icon docked in the tray (X11), its pixels (screenshots), its menu as exported over
D-Bus by libayatana-appindicator (com.canonical.dbusmenu), the popup menu a click opens (xdotool),
and the notifications dunst received.

Everything waits against a deadline and every process is ended by its own PID.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from PIL import Image, ImageGrab

T = TypeVar("T")

# Program -> the Debian package that provides it (named in the failure message when it is missing).
REQUIRED_PROGRAMS: dict[str, str] = {
    "Xvfb": "xvfb",
    "xdpyinfo": "x11-utils",
    "xdotool": "xdotool",
    "trayer": "trayer",
    "dunst": "dunst",
    "dbus-daemon": "dbus",
}

# A top-right panel that grows leftwards as icons dock: the first icon always lands at the same place
# (x=775, y=1, 24x22 on an 800 px wide screen). No strut or transparency: nothing depends on a WM.
TRAYER_OPTIONS: dict[str, str] = {
    "--edge": "top",
    "--align": "right",
    "--widthtype": "request",
    "--height": "24",
    "--SetDockType": "true",
    "--SetPartialStrut": "false",
    "--transparent": "false",
    "--expand": "true",
    "--margin": "0",
    "--distance": "0",
    "--monitor": "0",
}

SNI_INTERFACE = "org.kde.StatusNotifierItem"
SNI_WATCHER_NAME = "org.kde.StatusNotifierWatcher"
DBUSMENU_INTERFACE = "com.canonical.dbusmenu"
NOTIFICATIONS_NAME = "org.freedesktop.Notifications"
_BUS_NAME = "org.freedesktop.DBus"
_BUS_PATH = "/org/freedesktop/DBus"
_NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
_DUNST_INTERFACE = "org.dunstproject.cmd0"
_CALL_TIMEOUT_MS = 3000

# Notifications go to the bottom-left corner so that they never cover the tray (top-right).
_DUNSTRC = """\
[global]
    monitor = 0
    follow = none
    origin = bottom-left
    offset = 10x10
    width = 300
    font = Monospace 8
"""


class DesktopError(AssertionError):
    """Something a test relied on did not happen (a timeout, a process that died, a missing item)."""


class MissingDependency(RuntimeError):
    """A program or library the e2e tests need is not installed; the message names the package."""


# ----------------------------------------------------------------------------------------- waiting


def wait_until(probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """Call `probe` until it returns something other than None/False; fail after `timeout` seconds.

    The short sleeps between calls are polling steps, always bounded by the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() >= deadline:
            raise DesktopError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (an exited child not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may itself contain spaces.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> int:
    """End one process by its PID: SIGTERM, then SIGKILL if it is still there after `timeout` s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(timeout)
    return proc.returncode


# ------------------------------------------------------------------------------ lazy library imports


def _gi() -> tuple[Any, Any]:
    """Gio and GLib from PyGObject (imported on first use, so a missing PyGObject gets a clear message)."""
    try:
        import gi

        gi.require_version("Gio", "2.0")
        from gi.repository import Gio, GLib
    except (ImportError, ValueError) as exc:
        raise MissingDependency(
            "the e2e tests need PyGObject: pip install 'PyGObject<3.51' "
            "(build deps: Debian packages libgirepository1.0-dev libcairo2-dev pkg-config)"
        ) from exc
    return Gio, GLib


# GObject-introspection namespace -> the Debian package with its typelib (needed by the tray programs).
REQUIRED_TYPELIBS: dict[tuple[str, str], str] = {
    ("Gtk", "3.0"): "gir1.2-gtk-3.0",
    ("AyatanaAppIndicator3", "0.1"): "gir1.2-ayatanaappindicator3-0.1",
}


def check_typelibs(typelibs: Mapping[tuple[str, str], str] = REQUIRED_TYPELIBS) -> None:
    """Raise MissingDependency unless every typelib is installed (looked up, not loaded)."""
    _gi()
    import gi

    missing: list[str] = []
    for (namespace, version), package in typelibs.items():
        try:
            gi.require_version(namespace, version)
        except ValueError:
            missing.append(package)
    if missing:
        raise MissingDependency(f"the e2e tests need GObject typelibs: apt-get install {' '.join(missing)}")


def _xlib() -> Any:
    """The python-xlib package (a dependency of pystray on Linux)."""
    try:
        import Xlib.display
        import Xlib.error
        import Xlib.X
    except ImportError as exc:
        raise MissingDependency("the e2e tests need python-xlib: pip install python-xlib") from exc
    return Xlib


def check_programs(programs: Mapping[str, str] = REQUIRED_PROGRAMS) -> None:
    """Raise MissingDependency naming every missing program and its Debian package."""
    missing = {program: package for program, package in programs.items() if shutil.which(program) is None}
    if missing:
        listed = ", ".join(f"{program} (Debian package {package})" for program, package in missing.items())
        packages = " ".join(sorted(set(missing.values())))
        raise MissingDependency(f"the e2e tests need {listed}; install with: apt-get install {packages}")


# -------------------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Geometry:
    """A rectangle in root-window (screen) coordinates."""

    x: int
    y: int
    width: int
    height: int

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, upper, right, lower), the form PIL's crop() takes."""
        return self.x, self.y, self.x + self.width, self.y + self.height

    def union(self, other: Geometry) -> Geometry:
        left, top = min(self.x, other.x), min(self.y, other.y)
        right = max(self.x + self.width, other.x + other.width)
        bottom = max(self.y + self.height, other.y + other.height)
        return Geometry(left, top, right - left, bottom - top)

    def grow(self, margin: int) -> Geometry:
        return Geometry(self.x - margin, self.y - margin, self.width + 2 * margin, self.height + 2 * margin)

    def clamp(self, width: int, height: int) -> Geometry:
        """This rectangle cut to a screen of the given size."""
        left, top = max(self.x, 0), max(self.y, 0)
        right, bottom = min(self.x + self.width, width), min(self.y + self.height, height)
        return Geometry(left, top, max(right - left, 0), max(bottom - top, 0))


# --------------------------------------------------------------------------------------- desktop


@dataclass
class _Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


@dataclass
class Desktop:
    """A running private desktop. Build it with Desktop.start(workdir); close() ends it by PIDs."""

    workdir: Path
    width: int = 800
    height: int = 480
    display: str = ""
    bus_address: str = ""
    private_bus: bool = False
    env: dict[str, str] = field(default_factory=dict)
    tmpdir: Path = Path()
    trayer_pid: int = 0
    dunst_pid: int | None = None
    xdisplay: Any = None
    bus: Any = None
    _services: list[_Service] = field(default_factory=list)

    # ---- lifecycle

    @classmethod
    def start(cls, workdir: Path, *, width: int = 800, height: int = 480, timeout: float = 15.0) -> Desktop:
        """Start Xvfb, a session bus (unless one is set), dunst and trayer; wait until all answer."""
        check_programs()
        check_typelibs()
        _xlib()
        workdir.mkdir(parents=True, exist_ok=True)
        desktop = cls(workdir=workdir, width=width, height=height)
        try:
            desktop._start(timeout)
        except BaseException:
            desktop.close()
            raise
        return desktop

    def _start(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._start_xvfb(deadline)
        self._connect_bus(deadline)
        xlib = _xlib()
        self.xdisplay = xlib.display.Display(self.display)
        self.tmpdir = self.workdir / "tmp"
        runtime = self.workdir / "runtime"
        for folder in (self.tmpdir, runtime):
            folder.mkdir(mode=0o700, exist_ok=True)
        self.env = self._child_base_env(runtime)
        dunst = self._start_dunst()
        trayer = self._spawn_service(
            "trayer", ["trayer", *(x for pair in TRAYER_OPTIONS.items() for x in pair)]
        )
        self.trayer_pid = trayer.proc.pid
        if dunst is not None:
            wait_until(
                lambda: self._owns_notifications(dunst),
                timeout=_left(deadline),
                what="dunst to own org.freedesktop.Notifications",
            )
        wait_until(
            lambda: self._tray_ready(trayer),
            timeout=_left(deadline),
            what="trayer to map its panel and own _NET_SYSTEM_TRAY_S0",
        )

    def close(self) -> None:
        """Stop everything this desktop started, newest first, each by its own PID."""
        for service in reversed(self._services):
            stop_process(service.proc)
            if service.proc.stdout is not None:
                service.proc.stdout.close()
        self._services.clear()
        if self.bus is not None:
            with contextlib.suppress(Exception):
                self.bus.close_sync(None)
            self.bus = None
        if self.xdisplay is not None:
            with contextlib.suppress(Exception):
                self.xdisplay.close()
            self.xdisplay = None

    def __enter__(self) -> Desktop:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- what tests use

    def child_env(self, **overrides: str) -> dict[str, str]:
        """A copy of `env` (for a child process) with some variables replaced, e.g. TMPDIR or HOME."""
        env = dict(self.env)
        env.update(overrides)
        return env

    def screenshot(self) -> Image.Image:
        """The whole screen as an RGB image."""
        return ImageGrab.grab(xdisplay=self.display).convert("RGB")

    def tray_geometry(self) -> Geometry:
        """Where trayer's panel is on the screen."""
        panel = self._trayer_panel()
        if panel is None:
            raise DesktopError("trayer's panel window is gone")
        return _root_geometry(self, panel)

    def logs(self) -> dict[str, str]:
        """The output of Xvfb, the bus, dunst and trayer so far (for failure reports)."""
        return {s.name: s.log.read_text(errors="replace") for s in self._services if s.log.exists()}

    # ---- start-up pieces

    def _spawn_service(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdout_pipe: bool = False,
    ) -> _Service:
        log = self.workdir / f"{name}.log"
        with log.open("ab") as log_file:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env if env is not None else self.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if stdout_pipe else log_file,
                stderr=log_file,
                start_new_session=True,  # a Ctrl+C on the test run reaches pytest only; teardown ends it
            )
        service = _Service(name, proc, log)
        self._services.append(service)
        return service

    def _start_xvfb(self, deadline: float) -> None:
        # Start from a PID-derived number so that concurrent test runs rarely try the same display.
        first = 100 + os.getpid() % 400
        for number in [*range(first, 600), *range(100, first)]:
            if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
                continue
            display = f":{number}"
            service = self._spawn_service(
                f"xvfb{number}",
                [
                    "Xvfb",
                    display,
                    "-screen",
                    "0",
                    f"{self.width}x{self.height}x24",
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ],  # -noreset: the readiness probe disconnecting must not reset the server
                env=os.environ,
            )
            if self._wait_for_xvfb(service, number, deadline):
                self.display = display
                return
            # Lost a race for this display number (another server took it): try the next one.
            stop_process(service.proc)
            self._services.remove(service)
            if time.monotonic() >= deadline:
                break
        raise DesktopError("could not start Xvfb on any free display number")

    def _wait_for_xvfb(self, service: _Service, number: int, deadline: float) -> bool:
        lock = Path(f"/tmp/.X{number}-lock")
        while time.monotonic() < deadline:
            if service.proc.poll() is not None:
                return False
            answered = (
                subprocess.run(
                    ["xdpyinfo", "-display", f":{number}"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=5,
                    check=False,
                ).returncode
                == 0
            )
            # The server that answered must be ours, not one that won the display number.
            if answered and lock.exists() and lock.read_text().strip() == str(service.proc.pid):
                return True
            time.sleep(0.05)
        return False

    def _connect_bus(self, deadline: float) -> None:
        Gio, GLib = _gi()
        address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        if not address:
            # Our own bus, like dbus-run-session; never let Gio autolaunch one that outlives the run.
            service = self._spawn_service(
                "dbus",
                ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                env=os.environ,
                stdout_pipe=True,
            )
            address = _read_first_line(service.proc, deadline)
            self.private_bus = True
        self.bus_address = address
        flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
        self.bus = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        if _name_has_owner(self, SNI_WATCHER_NAME):
            # libayatana would register with it and never fall back to an XEMBED icon in trayer.
            raise DesktopError(
                f"the session bus {address} has a StatusNotifierWatcher, so tray icons would not dock in "
                "trayer: run the e2e tests under dbus-run-session or with DBUS_SESSION_BUS_ADDRESS unset"
            )
        if self.private_bus:
            # If dunst ever gets D-Bus-activated on our bus, it must find our display.
            activation = {"DISPLAY": self.display, "NO_AT_BRIDGE": "1"}
            self.bus.call_sync(
                _BUS_NAME,
                _BUS_PATH,
                _BUS_NAME,
                "UpdateActivationEnvironment",
                GLib.Variant("(a{ss})", (activation,)),
                None,
                Gio.DBusCallFlags.NONE,
                _CALL_TIMEOUT_MS,
                None,
            )

    def _child_base_env(self, runtime: Path) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k
            not in (
                "WAYLAND_DISPLAY",
                "XAUTHORITY",
                "PYSTRAY_BACKEND",
                "DESKTOP_SESSION",
                "XDG_CURRENT_DESKTOP",
                "XDG_SESSION_TYPE",
                "SESSION_MANAGER",
            )
        }
        env.update(
            {
                "DISPLAY": self.display,
                "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
                "NO_AT_BRIDGE": "1",  # keeps GTK from D-Bus-activating the accessibility bus
                "GDK_BACKEND": "x11",
                "GTK_THEME": "Adwaita",  # the built-in theme: same menu pixels whatever the host's settings
                "TMPDIR": str(self.tmpdir),
                "XDG_RUNTIME_DIR": str(runtime),
            }
        )
        return env

    def _start_dunst(self) -> _Service | None:
        if _name_has_owner(self, NOTIFICATIONS_NAME):
            # An external bus already has a notification daemon; a second one could not own the name.
            return None
        config = self.workdir / "dunstrc"
        config.write_text(_DUNSTRC)
        service = self._spawn_service("dunst", ["dunst", "-config", str(config)])
        self.dunst_pid = service.proc.pid
        return service

    def _owns_notifications(self, dunst: _Service) -> bool:
        if dunst.proc.poll() is not None:
            raise DesktopError(f"dunst exited with {dunst.proc.returncode}: {dunst.log.read_text()[-2000:]}")
        return (
            _name_has_owner(self, NOTIFICATIONS_NAME)
            and _owner_pid(self, NOTIFICATIONS_NAME) == dunst.proc.pid
        )

    def _tray_ready(self, trayer: _Service) -> bool:
        if trayer.proc.poll() is not None:
            raise DesktopError(
                f"trayer exited with {trayer.proc.returncode}: {trayer.log.read_text()[-2000:]}"
            )
        xlib = _xlib()
        selection = self.xdisplay.intern_atom("_NET_SYSTEM_TRAY_S0")
        if not self.xdisplay.get_selection_owner(selection):
            return False
        panel = self._trayer_panel()
        return panel is not None and panel.get_attributes().map_state == xlib.X.IsViewable

    def _trayer_panel(self) -> Any:
        for window in _children(self.xdisplay.screen().root):
            if _wm_class(window) == ("panel", "trayer") and _window_pid(self, window) == self.trayer_pid:
                return window
        return None


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


def _read_first_line(proc: subprocess.Popen[bytes], deadline: float) -> str:
    """The first stdout line of `proc`, waiting at most until `deadline`."""
    assert proc.stdout is not None
    buffer = b""
    while b"\n" not in buffer:
        ready, _, _ = select.select([proc.stdout], [], [], _left(deadline))
        if not ready:
            raise DesktopError("timed out waiting for dbus-daemon to print its address")
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            raise DesktopError(f"dbus-daemon exited with {proc.wait(5)} before printing its address")
        buffer += chunk
    return buffer.split(b"\n", 1)[0].decode().strip()


# ------------------------------------------------------------------------------------------ X11


def _children(window: Any) -> list[Any]:
    xlib = _xlib()
    try:
        return list(window.query_tree().children)
    except xlib.error.XError:  # the window went away while we looked
        return []


def _wm_class(window: Any) -> tuple[str, ...] | None:
    try:
        value = window.get_wm_class()
    except Exception:
        return None
    return tuple(value) if value else None


def _window_pid(desktop: Desktop, window: Any) -> int | None:
    xlib = _xlib()
    try:
        prop = window.get_full_property(desktop.xdisplay.intern_atom("_NET_WM_PID"), xlib.X.AnyPropertyType)
    except xlib.error.XError:
        return None
    return int(prop.value[0]) if prop is not None and len(prop.value) else None


def _atoms(desktop: Desktop, window: Any, name: str) -> list[str]:
    xlib = _xlib()
    try:
        prop = window.get_full_property(desktop.xdisplay.intern_atom(name), xlib.X.AnyPropertyType)
    except xlib.error.XError:
        return []
    if prop is None:
        return []
    return [desktop.xdisplay.get_atom_name(atom) for atom in prop.value]


def _has_property(desktop: Desktop, window: Any, name: str) -> bool:
    xlib = _xlib()
    try:
        prop = window.get_full_property(desktop.xdisplay.intern_atom(name), xlib.X.AnyPropertyType)
    except xlib.error.XError:
        return False
    return prop is not None


def _viewable(window: Any) -> bool:
    xlib = _xlib()
    try:
        return bool(window.get_attributes().map_state == xlib.X.IsViewable)
    except xlib.error.XError:
        return False


def _root_geometry(desktop: Desktop, window: Any) -> Geometry:
    root = desktop.xdisplay.screen().root
    origin = root.translate_coords(window, 0, 0)
    size = window.get_geometry()
    return Geometry(int(origin.x), int(origin.y), int(size.width), int(size.height))


def _docked_windows(desktop: Desktop, pid: int) -> list[Geometry]:
    """Viewable XEMBED windows of `pid` anywhere under trayer's panel."""
    xlib = _xlib()
    panel = desktop._trayer_panel()
    found: list[Geometry] = []
    pending = _children(panel) if panel is not None else []
    while pending:
        window = pending.pop(0)
        if (
            _window_pid(desktop, window) == pid
            and _has_property(desktop, window, "_XEMBED_INFO")
            and _viewable(window)
        ):
            with contextlib.suppress(xlib.error.XError):
                found.append(_root_geometry(desktop, window))
            continue
        pending.extend(_children(window))
    return found


def find_docked_icon(desktop: Desktop, pid: int, timeout: float = 10.0) -> Geometry:
    """Wait until process `pid` has an icon embedded in trayer; return where it is on screen.

    The icon counts as docked once it is a viewable XEMBED client (with `_NET_WM_PID` = pid) inside
    trayer's panel and its geometry is the same in two looks in a row (trayer resizes on docking).
    libayatana-appindicator docks this way only while no StatusNotifierWatcher owns its name.
    """
    last: list[Geometry | None] = [None]

    def probe() -> Geometry | None:
        if not pid_alive(pid):
            raise DesktopError(f"process {pid} exited before its icon docked in the tray")
        icons = _docked_windows(desktop, pid)
        current = icons[0] if len(icons) == 1 else None
        if len(icons) > 1:
            raise DesktopError(f"process {pid} docked {len(icons)} icons: {icons}")
        stable = current if current is not None and current == last[0] else None
        last[0] = current
        return stable

    return wait_until(
        probe, timeout=timeout, what=f"the icon of process {pid} to dock in trayer", interval=0.1
    )


def find_popup_menus(desktop: Desktop, pid: int) -> list[tuple[int, Geometry]]:
    """(window id, geometry) of each mapped override-redirect popup menu window of process `pid`."""
    xlib = _xlib()
    menus: list[tuple[int, Geometry]] = []
    for window in _children(desktop.xdisplay.screen().root):
        try:
            attributes = window.get_attributes()
        except xlib.error.XError:
            continue
        if not attributes.override_redirect or attributes.map_state != xlib.X.IsViewable:
            continue
        if _window_pid(desktop, window) != pid:
            continue
        kinds = _atoms(desktop, window, "_NET_WM_WINDOW_TYPE")
        if not {"_NET_WM_WINDOW_TYPE_POPUP_MENU", "_NET_WM_WINDOW_TYPE_DROPDOWN_MENU"} & set(kinds):
            continue  # e.g. GTK's 10x10 off-screen helper windows
        with contextlib.suppress(xlib.error.XError):
            menus.append((int(window.id), _root_geometry(desktop, window)))
    return menus


def _xdotool(desktop: Desktop, *args: str) -> None:
    subprocess.run(
        ["xdotool", *args],
        env=desktop.env,
        check=True,
        timeout=10,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def click(desktop: Desktop, geometry: Geometry, button: int = 1) -> None:
    """Move the pointer to the middle of `geometry` and click `button` (1 left, 2 middle, 3 right)."""
    x, y = geometry.center
    # No --sync: xdotool waits forever for a motion event when the pointer is already there.
    _xdotool(desktop, "mousemove", str(x), str(y), "click", str(button))


def open_menu_by_click(
    desktop: Desktop, geometry: Geometry, button: int = 3, *, pid: int, timeout: float = 5.0
) -> Geometry:
    """Click the icon and wait until process `pid` shows a popup menu window; return its geometry.

    Returns only once the menu's pixels have stopped changing, so a screenshot shows it drawn.
    """
    if find_popup_menus(desktop, pid):
        raise DesktopError(f"process {pid} already shows a popup menu; close_menu() first")
    click(desktop, geometry, button)
    _, popup = wait_until(
        lambda: next(iter(find_popup_menus(desktop, pid)), None),
        timeout=timeout,
        what=f"a popup menu of process {pid} after clicking button {button}",
    )
    wait_for_stable_pixels(desktop, popup, timeout=timeout)
    return popup


def close_menu(desktop: Desktop, pid: int, timeout: float = 5.0) -> None:
    """Close the open popup menu with Escape and wait until it is unmapped."""
    _xdotool(desktop, "key", "Escape")
    wait_until(
        lambda: not find_popup_menus(desktop, pid),
        timeout=timeout,
        what=f"the popup menu of process {pid} to close",
    )


# ---------------------------------------------------------------------------------------- pixels


def icon_pixels(desktop: Desktop, geometry: Geometry, screenshot: Image.Image | None = None) -> Image.Image:
    """The area of `geometry` cut from a (new, unless given) screenshot."""
    image = screenshot if screenshot is not None else desktop.screenshot()
    return image.crop(geometry.clamp(image.width, image.height).box)


def color_fraction(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 40) -> float:
    """Share of the pixels of `image` within `tolerance` (per channel) of `rgb`."""
    data = image.convert("RGB").tobytes()
    count = len(data) // 3
    if not count:
        return 0.0
    r, g, b = rgb
    near = sum(
        1
        for i in range(0, len(data), 3)
        if abs(data[i] - r) <= tolerance
        and abs(data[i + 1] - g) <= tolerance
        and abs(data[i + 2] - b) <= tolerance
    )
    return near / count


def wait_for_icon_color(
    desktop: Desktop,
    geometry: Geometry,
    rgb: tuple[int, int, int],
    *,
    min_fraction: float = 0.5,
    tolerance: int = 40,
    timeout: float = 5.0,
) -> Image.Image:
    """Wait until at least `min_fraction` of the icon area has colour `rgb`; return that crop."""

    def probe() -> Image.Image | None:
        crop = icon_pixels(desktop, geometry)
        return crop if color_fraction(crop, rgb, tolerance) >= min_fraction else None

    return wait_until(probe, timeout=timeout, what=f"the icon at {geometry} to turn {rgb}")


def wait_for_stable_pixels(desktop: Desktop, geometry: Geometry, *, timeout: float = 5.0) -> Image.Image:
    """Wait until an area shows more than one colour and looks the same in two screenshots in a row."""
    previous: list[bytes | None] = [None]

    def probe() -> Image.Image | None:
        crop = icon_pixels(desktop, geometry)
        data = crop.tobytes()
        drawn = len(crop.getcolors(maxcolors=4) or [0] * 4) > 1
        stable = drawn and data == previous[0]
        previous[0] = data
        return crop if stable else None

    return wait_until(probe, timeout=timeout, what=f"the pixels at {geometry} to be drawn", interval=0.08)


# ----------------------------------------------------------------------------------------- D-Bus


def _call(
    desktop: Desktop,
    dest: str,
    path: str,
    interface: str,
    method: str,
    args: Any = None,
    reply: str | None = None,
) -> Any:
    Gio, GLib = _gi()
    result = desktop.bus.call_sync(
        dest,
        path,
        interface,
        method,
        args,
        GLib.VariantType(reply) if reply else None,
        Gio.DBusCallFlags.NONE,
        _CALL_TIMEOUT_MS,
        None,
    )
    return result.unpack() if result is not None else None


def _name_has_owner(desktop: Desktop, name: str) -> bool:
    _, GLib = _gi()
    return bool(
        _call(desktop, _BUS_NAME, _BUS_PATH, _BUS_NAME, "NameHasOwner", GLib.Variant("(s)", (name,)), "(b)")[
            0
        ]
    )


def _owner_pid(desktop: Desktop, name: str) -> int | None:
    _, GLib = _gi()
    try:
        return int(
            _call(
                desktop,
                _BUS_NAME,
                _BUS_PATH,
                _BUS_NAME,
                "GetConnectionUnixProcessID",
                GLib.Variant("(s)", (name,)),
                "(u)",
            )[0]
        )
    except GLib.Error:  # the connection went away between ListNames and this call
        return None


def bus_names_of_pid(desktop: Desktop, pid: int) -> list[str]:
    """The unique bus names (":1.42") of every connection process `pid` has on the session bus."""
    (names,) = _call(desktop, _BUS_NAME, _BUS_PATH, _BUS_NAME, "ListNames", None, "(as)")
    return [name for name in names if name.startswith(":") and _owner_pid(desktop, name) == pid]


def _find_object(desktop: Desktop, dest: str, interface: str, path: str = "/", depth: int = 0) -> str | None:
    """Depth-first search of the objects `dest` exports for one that implements `interface`."""
    Gio, GLib = _gi()
    try:
        (xml,) = _call(desktop, dest, path, "org.freedesktop.DBus.Introspectable", "Introspect", None, "(s)")
    except GLib.Error:
        return None
    node = Gio.DBusNodeInfo.new_for_xml(xml)
    if any(info.name == interface for info in node.interfaces):
        return path
    if depth >= 10:
        return None
    for child in node.nodes:
        found = _find_object(desktop, dest, interface, f"{path.rstrip('/')}/{child.path}", depth + 1)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class IndicatorItem:
    """A StatusNotifierItem found on the bus: who exports it, where, and where its dbusmenu is."""

    bus_name: str
    object_path: str
    menu_path: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class MenuEntry:
    """One dbusmenu item, with the spec's defaults filled in (toggle_state -1 means no toggle)."""

    id: int
    label: str
    enabled: bool
    toggle_state: int
    toggle_type: str = ""
    kind: str = "standard"  # or "separator"
    visible: bool = True
    depth: int = 0  # 0 for top-level items, 1 inside a submenu, ...


def indicator_properties(desktop: Desktop, item: IndicatorItem) -> dict[str, Any]:
    """The current org.kde.StatusNotifierItem properties (Id, Title, Status, IconName, Menu, ...)."""
    _, GLib = _gi()
    (props,) = _call(
        desktop,
        item.bus_name,
        item.object_path,
        "org.freedesktop.DBus.Properties",
        "GetAll",
        GLib.Variant("(s)", (SNI_INTERFACE,)),
        "(a{sv})",
    )
    return dict(props)


def find_indicator(desktop: Desktop, pid: int, timeout: float = 10.0) -> IndicatorItem:
    """Wait until process `pid` exports a StatusNotifierItem with a menu; return where it is.

    The object is found by introspection (libayatana puts it at /org/ayatana/NotificationItem/<id with
    every character but [A-Za-z0-9] replaced by "_">), the menu path by its `Menu` property.
    """

    def probe() -> IndicatorItem | None:
        if not pid_alive(pid):
            raise DesktopError(f"process {pid} exited before it exported a StatusNotifierItem")
        for name in bus_names_of_pid(desktop, pid):
            path = _find_object(desktop, name, SNI_INTERFACE)
            if path is None:
                continue
            props = indicator_properties(desktop, IndicatorItem(name, path, "", {}))
            menu = str(props.get("Menu", ""))
            if menu and menu != "/":
                return IndicatorItem(name, path, menu, props)
        return None

    return wait_until(
        probe, timeout=timeout, what=f"process {pid} to export a StatusNotifierItem", interval=0.1
    )


def _flatten(layout: tuple[int, dict[str, Any], list[Any]], depth: int, out: list[MenuEntry]) -> None:
    for ident, props, children in layout[2]:
        out.append(
            MenuEntry(
                id=int(ident),
                label=str(props.get("label", "")),
                enabled=bool(props.get("enabled", True)),
                toggle_state=int(props.get("toggle-state", -1)),
                toggle_type=str(props.get("toggle-type", "")),
                kind=str(props.get("type", "standard")),
                visible=bool(props.get("visible", True)),
                depth=depth,
            )
        )
        _flatten((ident, props, children), depth + 1, out)


def read_menu(desktop: Desktop, item: IndicatorItem) -> list[MenuEntry]:
    """The whole menu (GetLayout from the root, any depth), flattened in display order."""
    _, GLib = _gi()
    _revision, layout = _call(
        desktop,
        item.bus_name,
        item.menu_path,
        DBUSMENU_INTERFACE,
        "GetLayout",
        GLib.Variant("(iias)", (0, -1, [])),
        "(u(ia{sv}av))",
    )
    entries: list[MenuEntry] = []
    _flatten(layout, 0, entries)
    return entries


def menu_labels(entries: Sequence[MenuEntry]) -> list[str]:
    """Labels of the visible non-separator entries, in order, as shown on screen.

    dbusmenu labels mark a mnemonic with "_" and write a literal underscore as "__".
    """
    return [_MNEMONIC.sub(r"\1", e.label) for e in entries if e.visible and e.kind != "separator"]


_MNEMONIC = re.compile(r"_(_?)")


def wait_for_menu(
    desktop: Desktop,
    item: IndicatorItem,
    predicate: Callable[[list[MenuEntry]], bool],
    *,
    timeout: float = 5.0,
    what: str = "the menu to match",
) -> list[MenuEntry]:
    """Re-read the menu until `predicate` accepts it (menus are rebuilt asynchronously)."""
    _, GLib = _gi()
    seen: list[list[MenuEntry]] = [[]]

    def probe() -> list[MenuEntry] | None:
        try:
            entries = read_menu(desktop, item)
        except GLib.Error:
            return None
        seen[0] = entries
        return entries if predicate(entries) else None

    try:
        return wait_until(probe, timeout=timeout, what=what)
    except DesktopError as exc:
        raise DesktopError(f"{exc}; last menu read: {menu_labels(seen[0])}") from None


def click_menu_item(
    desktop: Desktop,
    item: IndicatorItem,
    label_or_predicate: str | Callable[[MenuEntry], bool],
    *,
    timeout: float = 5.0,
) -> MenuEntry:
    """Activate a menu item the way an SNI host does: dbusmenu Event(id, "clicked", <int32 0>, time).

    The entry is looked up right before the click, because pystray rebuilds the menu (new ids) after
    every action. Fails if it is missing, hidden or disabled, which a user could not click either.
    The action runs asynchronously in the tray process: wait for its effect, not for this call.
    """
    _, GLib = _gi()
    matches: Callable[[MenuEntry], bool] = (
        (lambda e: e.label == label_or_predicate)
        if isinstance(label_or_predicate, str)
        else label_or_predicate
    )

    def probe() -> MenuEntry | None:
        try:
            entry = next((e for e in read_menu(desktop, item) if matches(e) and e.kind != "separator"), None)
        except GLib.Error:
            return None
        if entry is None or not entry.visible:
            return None
        if not entry.enabled:
            raise DesktopError(f"menu item {entry.label!r} is disabled")
        try:
            _call(
                desktop,
                item.bus_name,
                item.menu_path,
                DBUSMENU_INTERFACE,
                "Event",
                GLib.Variant("(isvu)", (entry.id, "clicked", GLib.Variant("i", 0), int(time.time()))),
            )
        except GLib.Error:
            return None  # the menu was rebuilt between GetLayout and Event: look it up again
        return entry

    return wait_until(probe, timeout=timeout, what=f"a menu item matching {label_or_predicate!r} to click")


# --------------------------------------------------------------------------------- notifications


def notifications(desktop: Desktop) -> list[dict[str, Any]]:
    """Every notification dunst has received, oldest first (summary, body, appname, urgency, ...).

    Closes the ones on screen first, because dunst lists only its history. Needs the dunst this
    desktop started (not an outside notification daemon).
    """
    _call(desktop, NOTIFICATIONS_NAME, _NOTIFICATIONS_PATH, _DUNST_INTERFACE, "NotificationCloseAll")
    (history,) = _call(
        desktop,
        NOTIFICATIONS_NAME,
        _NOTIFICATIONS_PATH,
        _DUNST_INTERFACE,
        "NotificationListHistory",
        None,
        "(aa{sv})",
    )
    return sorted((dict(n) for n in history), key=lambda n: int(n.get("id", 0)))


def wait_for_notification(
    desktop: Desktop, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 5.0
) -> dict[str, Any]:
    """Wait until dunst has received a notification that `predicate` accepts; return it."""
    return wait_until(
        lambda: next((n for n in notifications(desktop) if predicate(n)), None),
        timeout=timeout,
        what="a matching notification",
    )


# ------------------------------------------------------------------------------- child processes


class ChildProcesses:
    """Processes a test starts on the desktop; each writes to its own log and is ended by its PID."""

    def __init__(self, desktop: Desktop, logdir: Path) -> None:
        self.desktop = desktop
        self.logdir = logdir
        self._running: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        name: str = "child",
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `argv` with the desktop's env (or `env`); stdout and stderr go to a log file."""
        self.logdir.mkdir(parents=True, exist_ok=True)
        log = self.logdir / f"{name}-{len(self._running)}.log"
        with log.open("wb") as log_file:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env if env is not None else self.desktop.env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._running.append((proc, log))
        return proc

    def output(self, proc: subprocess.Popen[bytes]) -> str:
        """What the process has written so far (stdout and stderr together)."""
        log = next(path for p, path in self._running if p is proc)
        return log.read_text(errors="replace")

    def wait_for_output(self, proc: subprocess.Popen[bytes], text: str, timeout: float = 10.0) -> str:
        def probe() -> str | None:
            out = self.output(proc)
            if text in out:
                return out
            if proc.poll() is not None:
                raise DesktopError(f"process exited with {proc.returncode} before printing {text!r}:\n{out}")
            return None

        return wait_until(probe, timeout=timeout, what=f"{text!r} in the output of process {proc.pid}")

    def wait(self, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
        """The exit code once the process ends by itself; fails (and ends it) after `timeout` s."""
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = stop_process(proc)
            raise DesktopError(
                f"process {proc.pid} did not exit within {timeout:.1f} s (ended it: {code}):\n"
                f"{self.output(proc)[-3000:]}"
            ) from None

    def stop_all(self) -> None:
        for proc, _ in reversed(self._running):
            stop_process(proc)

    def logs(self) -> Iterator[tuple[int, str]]:
        for proc, log in self._running:
            yield proc.pid, log.read_text(errors="replace") if log.exists() else ""
