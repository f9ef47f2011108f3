"""`doctor` on Claude Code's feed: whether our status line is installed, and when the last reading came."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..conftest import CliEnv
from .test_history_statusline import statusline

IN_AN_HOUR = int(time.time()) + 3600
IN_A_WEEK = int(time.time()) + 6 * 86400
PAYLOAD = json.dumps(
    {
        "session_id": "s-1",
        "rate_limits": {
            "five_hour": {"used_percentage": 42, "resets_at": IN_AN_HOUR},
            "seven_day": {"used_percentage": 13, "resets_at": IN_A_WEEK},
        },
    }
)


def _feed_lines(cli: CliEnv) -> list[str]:
    result = cli.run("doctor")
    lines = result.stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("Status line:"))
    return lines[start : start + 2]


def test_doctor_says_when_nothing_is_set_up(cli: CliEnv, claude_dir: Path) -> None:
    assert _feed_lines(cli) == [
        f"Status line:   not installed in {claude_dir / 'settings.json'}: "
        "`claude-usage-tray statusline --install` adds it",
        "  no reading from Claude Code yet (it sends figures once a session has had an answer)",
    ]


def test_doctor_names_the_install_and_the_last_reading(cli: CliEnv, claude_dir: Path) -> None:
    (claude_dir / "settings.json").write_text('{"statusLine": {"type": "command", "command": "echo mine"}}\n')
    assert cli.run("statusline", "--install").code == 0
    assert statusline(cli, stdin=PAYLOAD).returncode == 0
    feed = _feed_lines(cli)
    assert feed[0] == (
        f"Status line:   installed in {claude_dir / 'settings.json'}; your own status line runs inside ours"
    )
    assert feed[1] == "  last reading from Claude Code just now: 5-hour 42 %, Weekly 13 %"


def test_doctor_names_a_settings_file_it_cannot_read(cli: CliEnv, claude_dir: Path) -> None:
    (claude_dir / "settings.json").write_text('{"statusLine": ')
    line = _feed_lines(cli)[0]
    assert line.startswith(f"Status line:   cannot read {claude_dir / 'settings.json'}: ")
    assert (claude_dir / "settings.json").read_text() == '{"statusLine": '  # left as it was
