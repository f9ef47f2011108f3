"""The macOS files in packaging/macos/: the app bundle's Info.plist keys and the LaunchAgent template."""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest

from tray_app.autostart import Autostart

from .tools import PACKAGING

MACOS = PACKAGING / "macos"
INFO = MACOS / "Info.plist"
AGENT = MACOS / "io.github.claude-usage-tray.plist"
LOGS = "@HOME@/Library/Logs/claude-usage-tray/"


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        document = plistlib.load(file)
    assert isinstance(document, dict)
    return document


def test_info_plist_makes_a_menu_bar_app_with_the_bundle_id() -> None:
    info = _load(INFO)
    assert info["LSUIElement"] is True  # no Dock icon, no application menu
    assert info["CFBundleIdentifier"] == "io.github.claude-usage-tray"
    assert info["CFBundleName"]


def test_info_plist_leaves_the_version_to_tray_app() -> None:
    # The spec adds both from tray_app/__init__.py; a second copy here would drift.
    assert not {"CFBundleShortVersionString", "CFBundleVersion"} & _load(INFO).keys()


def test_launch_agent_starts_at_login_and_restarts_only_after_a_crash() -> None:
    agent = _load(AGENT)
    assert agent["Label"] == _load(INFO)["CFBundleIdentifier"] == AGENT.stem
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["ProgramArguments"] == ["@PROGRAM@", "run"]


@pytest.mark.parametrize("key", ["StandardOutPath", "StandardErrorPath"])
def test_launch_agent_logs_under_library_logs_with_an_absolute_path(key: str) -> None:
    # launchd expands no "~": the template holds a placeholder the installer replaces with the home folder.
    path = _load(AGENT)[key]
    assert path.startswith(LOGS)
    assert "~" not in path and "$" not in path


def test_autostart_on_writes_the_template_with_real_paths(tmp_path: Path) -> None:
    """`autostart on` and the packaged template are two routes to one agent: the same document."""
    Autostart(platform="darwin", home=tmp_path).enable()
    written = _load(tmp_path / "Library" / "LaunchAgents" / AGENT.name)
    template = _load(AGENT)
    # The command differs by design: the app writes how the running copy is started.
    assert written.pop("ProgramArguments")[-1] == template.pop("ProgramArguments")[-1] == "run"
    filled = {
        key: value.replace("@HOME@", str(tmp_path)) if isinstance(value, str) else value
        for key, value in template.items()
    }
    assert written == filled
