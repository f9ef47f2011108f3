"""Start at login: on/off/status round trips in a temporary HOME, through the real command."""

from __future__ import annotations

import configparser
import plistlib
import sys
from pathlib import Path

import pytest

from tray_app.autostart import Autostart, launch_command

from ..conftest import CliEnv


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="the command acts on this machine's own start-up (a LaunchAgent, the real Run key)",
)
def test_autostart_round_trip_on_linux(cli: CliEnv) -> None:
    home = cli.home.parent / "user-home"
    entry = home / ".config" / "autostart" / "claude-usage-tray.desktop"
    assert cli.run("autostart", "status").stdout.startswith("start at login: off")
    first = cli.run("autostart", "on")
    assert first.code == 0 and first.stdout.startswith(f"start at login installed: {entry} runs ")
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.read(entry)
    assert desktop["Desktop Entry"]["Exec"] == f"{sys.executable} -m tray_app run"
    assert desktop["Desktop Entry"]["Type"] == "Application"
    again = cli.run("autostart", "on")
    assert again.stdout.startswith("start at login already installed")  # idempotent
    status = cli.run("autostart", "status").stdout
    assert status.startswith(f"start at login: on ({entry}, runs {sys.executable} -m tray_app run")
    assert cli.run("autostart", "off").stdout == f"start at login turned off: removed {entry}\n"
    assert not entry.exists()
    assert cli.run("autostart", "off").stdout.startswith("start at login was already off")


def test_the_entry_starts_the_running_installation(tmp_path: Path) -> None:
    assert launch_command() == (sys.executable, "-m", "tray_app", "run")


def test_macos_launch_agent(tmp_path: Path) -> None:
    autostart = Autostart(platform="darwin", home=tmp_path)
    autostart.enable()
    path = tmp_path / "Library" / "LaunchAgents" / "io.github.claude-usage-tray.plist"
    agent = plistlib.loads(path.read_bytes())
    assert agent["Label"] == "io.github.claude-usage-tray" and agent["RunAtLoad"] is True
    assert agent["ProgramArguments"] == [sys.executable, "-m", "tray_app", "run"]
    assert agent["StandardErrorPath"] == str(
        tmp_path / "Library" / "Logs" / "claude-usage-tray" / "stderr.log"
    )
    assert (tmp_path / "Library" / "Logs" / "claude-usage-tray").is_dir()
    assert autostart.status().enabled
    autostart.disable()
    assert not autostart.status().enabled and not path.exists()
