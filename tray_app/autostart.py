"""Start at login: an XDG autostart entry (Linux), a LaunchAgent (macOS) or the Run key (Windows).

The entry points at the program actually running (the frozen bundle, or this Python with `-m tray_app`),
so it keeps working however the app was installed.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

APP_ID = "claude-usage-tray"
MAC_LABEL = "io.github.claude-usage-tray"
_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


@dataclass(frozen=True)
class AutostartState:
    enabled: bool
    where: str  # the file or registry value that makes it start
    command: tuple[str, ...] | None  # what it runs, when enabled


def launch_command() -> tuple[str, ...]:
    """How to start the running installation's tray."""
    if getattr(sys, "frozen", False):
        return (sys.executable, "run")
    return (sys.executable, "-m", "tray_app", "run")


def _linux_entry(home: Path) -> Path:
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return config / "autostart" / f"{APP_ID}.desktop"


def _mac_agent(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / f"{MAC_LABEL}.plist"


def _desktop_file(command: tuple[str, ...]) -> str:
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Claude Usage Tray",
            "Comment=Claude usage limits and API spend in the system tray",
            f"Exec={shlex.join(command)}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=Utility;",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def _launch_agent(command: tuple[str, ...], home: Path) -> bytes:
    logs = home / "Library" / "Logs" / APP_ID
    agent = {
        "Label": MAC_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        # Quit from the menu stays quit; a crash is restarted.
        "KeepAlive": {"SuccessfulExit": False},
        "StandardOutPath": str(logs / "stdout.log"),
        "StandardErrorPath": str(logs / "stderr.log"),
        "ProcessType": "Interactive",
    }
    import plistlib  # macOS only; with it come xml and the expat parser, which the tray needs nowhere else

    return plistlib.dumps(agent)


def _write(path: Path, data: bytes) -> bool:
    """Write only when different: running `on` twice changes nothing the second time."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_bytes(data)
    temp.replace(path)
    return True


class Autostart:
    """Start-at-login for one platform and home folder."""

    def __init__(self, platform: str = sys.platform, home: Path | None = None) -> None:
        self._platform = platform
        self._home = home or Path.home()

    def status(self) -> AutostartState:
        if self._platform == "win32":  # pragma: no cover - needs Windows
            return _windows_status()
        path = _mac_agent(self._home) if self._platform == "darwin" else _linux_entry(self._home)
        if not path.exists():
            return AutostartState(False, str(path), None)
        if self._platform == "darwin":
            import plistlib  # see _launch_agent

            command = tuple(plistlib.loads(path.read_bytes()).get("ProgramArguments", ()))
        else:
            line = next((ln for ln in path.read_text().splitlines() if ln.startswith("Exec=")), "Exec=")
            command = tuple(shlex.split(line.removeprefix("Exec=")))
        return AutostartState(True, str(path), command)

    def enable(self) -> str:
        """Install the entry; returns what was done, in words."""
        command = launch_command()
        if self._platform == "win32":  # pragma: no cover - needs Windows
            return _windows_enable(command)
        if self._platform == "darwin":
            path, data = _mac_agent(self._home), _launch_agent(command, self._home)
            # launchd does not create the log folder the agent names; without it the logs are lost.
            (self._home / "Library" / "Logs" / APP_ID).mkdir(parents=True, exist_ok=True)
        else:
            path, data = _linux_entry(self._home), _desktop_file(command).encode()
        changed = _write(path, data)
        verb = "installed" if changed else "already installed"
        return f"start at login {verb}: {path} runs {shlex.join(command)}"

    def disable(self) -> str:
        if self._platform == "win32":  # pragma: no cover - needs Windows
            return _windows_disable()
        path = _mac_agent(self._home) if self._platform == "darwin" else _linux_entry(self._home)
        if not path.exists():
            return f"start at login was already off ({path} does not exist)"
        path.unlink()
        return f"start at login turned off: removed {path}"


def _windows_status() -> AutostartState:  # pragma: no cover - needs Windows
    if sys.platform != "win32":  # only reachable on Windows; keeps type checks per platform honest
        raise OSError("the Run key exists only on Windows")
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
            value, _ = winreg.QueryValueEx(key, APP_ID)
    except OSError:
        return AutostartState(False, f"HKCU\\{_RUN_KEY}\\{APP_ID}", None)
    return AutostartState(True, f"HKCU\\{_RUN_KEY}\\{APP_ID}", tuple(shlex.split(value, posix=False)))


def _windows_enable(command: tuple[str, ...]) -> str:  # pragma: no cover - needs Windows
    if sys.platform != "win32":  # only reachable on Windows; keeps type checks per platform honest
        raise OSError("the Run key exists only on Windows")
    import subprocess
    import winreg

    value = subprocess.list2cmdline(command)
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
        winreg.SetValueEx(key, APP_ID, 0, winreg.REG_SZ, value)
    return f"start at login installed: HKCU\\{_RUN_KEY}\\{APP_ID} runs {value}"


def _windows_disable() -> str:  # pragma: no cover - needs Windows
    if sys.platform != "win32":  # only reachable on Windows; keeps type checks per platform honest
        raise OSError("the Run key exists only on Windows")
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, APP_ID)
    except OSError:
        return "start at login was already off"
    return f"start at login turned off: removed HKCU\\{_RUN_KEY}\\{APP_ID}"
