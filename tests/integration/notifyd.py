"""A private D-Bus session bus and a recording org.freedesktop.Notifications server, for notify tests.

Run as a program (`python notifyd.py RECORD_FILE [--hang]`) it is the server: it owns the name on
$DBUS_SESSION_BUS_ADDRESS, prints READY, and appends every Notify call as one JSON line (app_name,
app_icon, summary, body, hints, expire_timeout). With --hang it never answers Notify (a stuck daemon).
Imported, it gives the test side: PrivateBus and NotificationServer, ended by their own PIDs.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"

# The bus has no service folders: nothing can be D-Bus-activated on it. Under the standard session
# configuration (dbus-run-session) a Notify call with no server would start dunst from
# /usr/share/dbus-1/services, which succeeds whenever DISPLAY is set, so "no server" would not hold.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

_INTERFACE_XML = """<node><interface name="org.freedesktop.Notifications">
 <method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
  <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
  <arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
  <arg type="u" direction="out"/></method>
 <method name="CloseNotification"><arg type="u" direction="in"/></method>
 <method name="GetCapabilities"><arg type="as" direction="out"/></method>
 <method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
  <arg type="s" direction="out"/><arg type="s" direction="out"/></method>
 <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
 <signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
</interface></node>"""


class HarnessError(AssertionError):
    """A bus or server did not come up (or go away) within its deadline."""


def _read_line(proc: subprocess.Popen[str], deadline: float, what: str) -> str:
    """One line of the process's stdout, waiting at most until `deadline` (monotonic)."""
    assert proc.stdout is not None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HarnessError(f"timed out waiting for {what}")
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            line = proc.stdout.readline()
            if not line:
                raise HarnessError(f"process {proc.pid} exited ({proc.wait(1)}) before {what}")
            return line.strip()


def _stop(proc: subprocess.Popen[str], timeout: float = 5.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    if proc.stdout is not None:
        proc.stdout.close()


class PrivateBus:
    """A dbus-daemon of our own; `address` goes into DBUS_SESSION_BUS_ADDRESS."""

    def __init__(self, workdir: Path, timeout: float = 5.0) -> None:
        program = shutil.which("dbus-daemon")
        if program is None:
            raise HarnessError("dbus-daemon is missing: apt-get install dbus")
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "bus.conf"
        config.write_text(_BUS_CONFIG.format(socket_dir=workdir))
        self.log = workdir / "dbus-daemon.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [program, f"--config-file={config}", "--nofork", "--print-address=1"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            )
        try:
            self.address = _read_line(self.proc, time.monotonic() + timeout, "the bus address")
        except BaseException:
            _stop(self.proc)
            raise
        self._connection: Any = None

    def has_owner(self, name: str) -> bool:
        from gi.repository import Gio, GLib

        if self._connection is None:
            flags = (
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
            )
            self._connection = Gio.DBusConnection.new_for_address_sync(self.address, flags, None, None)
        reply = self._connection.call_sync(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            GLib.Variant("(s)", (name,)),
            GLib.VariantType.new("(b)"),
            Gio.DBusCallFlags.NONE,
            3000,
            None,
        )
        return bool(reply.unpack()[0])

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close_sync(None)
            self._connection = None
        _stop(self.proc)


class NotificationServer:
    """The recording server (this file run as a program) on a bus; calls() reads what it received."""

    def __init__(self, bus: PrivateBus, record: Path, *, hang: bool = False, timeout: float = 10.0) -> None:
        self.bus = bus
        self.record = record
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
        argv = [sys.executable, str(Path(__file__).resolve()), str(record), *(["--hang"] if hang else [])]
        self.proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            line = _read_line(self.proc, time.monotonic() + timeout, "the notification server")
            if line != "READY":
                raise HarnessError(f"the notification server said {line!r}")
        except BaseException:
            _stop(self.proc)
            raise

    def calls(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def stop(self, timeout: float = 5.0) -> None:
        """End the server by its PID and wait until the bus has dropped its name."""
        _stop(self.proc)
        deadline = time.monotonic() + timeout
        while self.bus.has_owner(NAME):
            if time.monotonic() >= deadline:
                raise HarnessError(f"{NAME} still owned {timeout} s after the server ended")
            time.sleep(0.01)


def _serve(record: Path, hang: bool) -> None:
    from gi.repository import Gio, GLib

    out = record.open("a", buffering=1)
    counter = [0]

    def on_call(
        conn: Any, sender: str, path: str, iface: str, method: str, params: Any, invocation: Any
    ) -> None:
        if method == "Notify":
            app, replaces, icon, summary, body, actions, hints, timeout = params.unpack()
            counter[0] += 1
            entry = {
                "app_name": app,
                "replaces_id": replaces,
                "app_icon": icon,
                "summary": summary,
                "body": body,
                "actions": actions,
                "hints": {key: str(value) for key, value in hints.items()},
                "expire_timeout": timeout,
            }
            out.write(json.dumps(entry) + "\n")
            if not hang:
                invocation.return_value(GLib.Variant("(u)", (replaces or counter[0],)))
        elif method == "CloseNotification":
            invocation.return_value(None)
        elif method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["body"],)))
        else:
            invocation.return_value(GLib.Variant("(ssss)", ("notifyd", "tests", "1", "1.2")))

    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    interface = Gio.DBusNodeInfo.new_for_xml(_INTERFACE_XML).interfaces[0]
    bus.register_object(PATH, interface, on_call, None, None)
    loop = GLib.MainLoop()

    def lost(*_: Any) -> None:
        print("NAME LOST", flush=True)
        loop.quit()

    Gio.bus_own_name_on_connection(
        bus, NAME, Gio.BusNameOwnerFlags.NONE, lambda *_: print("READY", flush=True), lost
    )
    loop.run()


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), "--hang" in sys.argv[2:])
