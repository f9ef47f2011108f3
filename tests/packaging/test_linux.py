"""The Linux files in packaging/linux/, checked by desktop-file-validate and systemd-analyze."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tray_app.autostart import Autostart

from .tools import ICONS, PACKAGING, desktop_entry, require_linux_tool

LINUX = PACKAGING / "linux"
LAUNCHER = LINUX / "claude-usage-tray.desktop"
AUTOSTART = LINUX / "claude-usage-tray-autostart.desktop"
UNIT = LINUX / "claude-usage-tray.service"


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    program = require_linux_tool("desktop-file-validate", "desktop-file-utils")
    return subprocess.run([program, str(path)], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("path", [LAUNCHER, AUTOSTART], ids=lambda path: path.name)
def test_desktop_file_passes_desktop_file_validate_without_a_remark(path: Path) -> None:
    result = _validate(path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_desktop_file_validate_rejects_a_broken_entry(tmp_path: Path) -> None:
    # The validator really reads the files: without Type= it must refuse.
    broken = tmp_path / "broken.desktop"
    broken.write_text(LAUNCHER.read_text().replace("Type=Application\n", ""))
    result = _validate(broken)
    assert result.returncode != 0
    assert "Type" in result.stdout + result.stderr


@pytest.mark.parametrize("path", [LAUNCHER, AUTOSTART], ids=lambda path: path.name)
def test_desktop_file_runs_the_tray_with_the_shipped_icon(path: Path) -> None:
    entry = desktop_entry(path)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "claude-usage-tray run"
    assert entry["Terminal"] == "false"
    # The themed icon name is the prefix of the PNGs an installer copies into hicolor/<size>/apps/.
    assert (ICONS / f"{entry['Icon']}-256.png").is_file()


def test_autostart_entry_is_enabled_for_gnome() -> None:
    assert desktop_entry(AUTOSTART)["X-GNOME-Autostart-enabled"] == "true"


def test_autostart_on_writes_what_the_packaged_entry_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`autostart on` and the packaged file are two routes to one entry: same keys, and both valid."""
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    Autostart(platform="linux", home=tmp_path).enable()
    written = tmp_path / ".config" / "autostart" / "claude-usage-tray.desktop"
    result = _validate(written)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    ours, packaged = desktop_entry(written), desktop_entry(AUTOSTART)
    # Exec differs by design: the app writes the path of the copy that is running.
    del ours["Exec"], packaged["Exec"]
    assert ours == packaged


def _unit_lines(path: Path) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in path.read_text().splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections[current] = []
        elif line and not line.startswith("#"):
            sections[current].append(line)
    return sections


def test_service_is_bound_to_the_graphical_session_and_restarted_after_a_crash() -> None:
    unit = _unit_lines(UNIT)
    assert "PartOf=graphical-session.target" in unit["Unit"]
    assert "After=graphical-session.target" in unit["Unit"]
    assert "ExecStart=%h/.local/bin/claude-usage-tray run" in unit["Service"]
    assert "Restart=on-failure" in unit["Service"]
    assert "WantedBy=graphical-session.target" in unit["Install"]


def _verify(unit: Path, home: Path, runtime: Path) -> subprocess.CompletedProcess[str]:
    program = require_linux_tool("systemd-analyze", "systemd")
    runtime.mkdir(mode=0o700, exist_ok=True)
    # A user manager of our own: %h is $HOME, and it needs a runtime directory even to verify.
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_COLOR": "0"}
    return subprocess.run(
        [program, "--user", "verify", str(unit)], capture_output=True, text=True, env=env, timeout=60
    )


def _install_unit(tmp_path: Path) -> Path:
    folder = tmp_path / "units"
    folder.mkdir()
    return Path(shutil.copy(UNIT, folder / UNIT.name))


def test_service_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    home = tmp_path / "home"
    program = home / ".local" / "bin" / "claude-usage-tray"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    result = _verify(_install_unit(tmp_path), home, tmp_path / "runtime")
    # verify reports unknown keys and bad values as remarks but still exits 0: there must be none.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_service_verify_fails_when_the_program_is_not_installed(tmp_path: Path) -> None:
    # The documented install location is what systemd resolves: without a program there it refuses.
    result = _verify(_install_unit(tmp_path), tmp_path / "empty-home", tmp_path / "runtime")
    assert result.returncode != 0
    assert ".local/bin/claude-usage-tray" in result.stdout + result.stderr
