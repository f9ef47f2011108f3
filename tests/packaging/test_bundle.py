"""The PyInstaller spec really builds a working one-folder app (Linux; about a minute on two cores)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tray_app import __version__
from tray_app.ui.backend import detect_backend

from .tools import PACKAGING, desktop_entry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bundle is built and run on Linux"),
]

BUILD_DEADLINE = 600  # seconds; a build takes about a minute
RUN_DEADLINE = 60


@dataclass(frozen=True)
class Bundle:
    binary: Path
    home: Path  # the frozen app's CLAUDE_USAGE_TRAY_HOME

    def run(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if key != "PYSTRAY_BACKEND"}
        env["CLAUDE_USAGE_TRAY_HOME"] = str(self.home)
        env.update(extra_env)
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, env=env, timeout=RUN_DEADLINE
        )


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.fail("PyInstaller is missing: pip install '.[test]'", pytrace=False)
    build = tmp_path_factory.mktemp("pyinstaller")
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level=WARN",
        "--distpath",
        str(build / "dist"),
        "--workpath",
        str(build / "work"),
        str(PACKAGING / "claude-usage-tray.spec"),
    ]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_DEADLINE)
    assert result.returncode == 0, result.stderr[-4000:]
    print(f"PyInstaller build: {time.monotonic() - started:.0f} s")
    binary = build / "dist" / "claude-usage-tray" / "claude-usage-tray"
    assert binary.is_file() and os.access(binary, os.X_OK)
    yield Bundle(binary, tmp_path_factory.mktemp("home"))


def test_frozen_app_reports_the_version_from_tray_app(bundle: Bundle) -> None:
    result = bundle.run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"claude-usage-tray {__version__}")


def test_frozen_app_polls_the_demo_servers(bundle: Bundle) -> None:
    result = bundle.run("status", "--json", "--demo")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["code"]["status"] == "ok"
    assert {window["id"] for window in document["code"]["windows"]} >= {"five_hour", "seven_day"}
    console = document["console"]
    assert console["status"] == "ok"
    assert console["mtd_cost"] > 0
    assert console["by_model"]


def test_frozen_app_draws_the_history_chart_with_pillows_font(bundle: Bundle, tmp_path: Path) -> None:
    # The chart's text uses ImageFont.load_default(size=...), which needs the FreeType of Pillow's wheel.
    chart = tmp_path / "chart.png"
    result = bundle.run("history", "--demo", "--chart", str(chart))
    assert result.returncode == 0, result.stderr
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_frozen_app_finds_the_same_tray_backend_as_the_installed_one(bundle: Bundle) -> None:
    # The GTK and AppIndicator typelibs travel in the bundle: it must not fall back to the bare X11 tray.
    expected = detect_backend(environ={}).name
    result = bundle.run("doctor", "--demo")
    assert result.returncode == 0, result.stderr
    assert f"Tray backend:  {expected}" in result.stdout.splitlines()


def test_frozen_app_starts_itself_at_login(bundle: Bundle, tmp_path: Path) -> None:
    # `autostart on` from the frozen app must point at the frozen binary, not at a Python.
    config = tmp_path / "config"
    result = bundle.run("autostart", "on", HOME=str(tmp_path), XDG_CONFIG_HOME=str(config))
    assert result.returncode == 0, result.stderr
    entry = desktop_entry(config / "autostart" / "claude-usage-tray.desktop")
    assert entry["Exec"] == f"{bundle.binary} run"
