"""What a process started from the demo tray sees (the details window): the demo's own folder, servers,
login and keys, and none of the user's real ones."""

from __future__ import annotations

from pathlib import Path

from tray_app.clock import SYSTEM_CLOCK
from tray_app.environment import Environment
from tray_app.wiring.app import open_app, settings_for, sources_of
from tray_app.wiring.tray import details_environment

REAL_KEY = "sk-ant-admin01-" + "r" * 40
REAL_TOKEN = "sk-ant-oat01-" + "t" * 40


def test_the_demos_details_window_reads_the_demo_and_never_the_users_keys(tmp_path: Path) -> None:
    user = {
        "CLAUDE_USAGE_TRAY_HOME": str(tmp_path / "real-home"),
        "ANTHROPIC_ADMIN_API_KEY": REAL_KEY,
        "CLAUDE_CODE_OAUTH_TOKEN": REAL_TOKEN,
        "CLAUDE_USAGE_TRAY_API_BASE": "https://api.anthropic.com",
    }
    env = Environment(user, "linux", tmp_path)
    with open_app(settings_for("run", env), env, SYSTEM_CLOCK, demo=True, demo_speed=60) as demo:
        child = details_environment(demo, env)
        assert REAL_KEY not in child.environ.values() and REAL_TOKEN not in child.environ.values()
        settings = settings_for("details", child)
        assert settings.paths.database == demo.settings.paths.database  # the demo's history, not ours
        assert settings.api_base == demo.settings.api_base != "https://api.anthropic.com"
        with open_app(settings, child, SYSTEM_CLOCK) as seen:
            assert seen.admin_key is not None and seen.admin_key.value != REAL_KEY
            code = sources_of(seen).stored().code
            assert code is not None and code.windows  # the demo's seeded figures
    # Without --demo the window gets the tray's own environment, unchanged.
    with open_app(settings_for("run", env), env, SYSTEM_CLOCK) as real:
        assert details_environment(real, env) is env
