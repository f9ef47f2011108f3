"""What the tray loads is what it uses: optional features import their libraries when first used.

Each module below costs the running tray resident memory for nothing unless its feature is used
(benchmarks.bare_icon measures the whole against a bare pystray icon). A fresh interpreter imports
everything `run` imports before its icon appears (and works out its folders, named by
CLAUDE_USAGE_TRAY_HOME), and must not find them in sys.modules.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# module -> what needs it, and only then
LATER = {
    "browser_cookie3": "decrypting a browser's cookie store (not a pasted key, not a session left off)",
    "charset_normalizer": "nothing: requests would guess text encodings with it; we decode bytes ourselves",
    "plyer": "a notification sent through plyer",
    "rich": "the `watch` dashboard",
    "tray_app.ui.chart": "the history chart, when the menu asks for it",
    "tray_app.history_chart": "the same",
    "plistlib": "start at login on macOS",
    "pystray": "the icon itself, once its backend is pinned",
    "tray_app.sources.browser_cookies": "searching for claude.ai's session cookie (the session switched on)",
    "configparser": "the same: reading Firefox's profiles.ini",
    "platformdirs": "the platform's folders, when CLAUDE_USAGE_TRAY_HOME does not name one",
}

PROBE = """
import json, sys
import tray_app.cli
import tray_app.commands.run
import tray_app.wiring.tray
from tray_app.config import load_settings
load_settings({"CLAUDE_USAGE_TRAY_HOME": "unused"}, read_file=False)  # the folders, as `run` finds them
print(json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))
"""


def test_run_imports_no_optional_library_before_it_is_needed() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr  # requests says nothing about the detector it did not find
    loaded = set(json.loads(done.stdout))
    early = {name: why for name, why in LATER.items() if name in loaded}
    assert early == {}
