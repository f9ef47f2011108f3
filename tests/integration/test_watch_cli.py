"""`claude-usage-tray watch` for real, on a pseudo-terminal, against the demo."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from ..conftest import REPO, CliEnv


def read_until(fd: int, text: str, deadline: float) -> str:
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if text.encode() in seen:
                return seen.decode(errors="replace")
    raise AssertionError(f"{text!r} never appeared; got {seen[-500:]!r}")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal (openpty) and SIGINT")
def test_watch_shows_both_modes_and_quits_on_ctrl_c(cli: CliEnv) -> None:
    primary, secondary = os.openpty()
    env = cli.env(TERM="xterm-256color", COLUMNS="110", LINES="45")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tray_app.cli", "watch", "--demo"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        cwd=REPO,
        start_new_session=True,
    )
    os.close(secondary)
    try:
        screen = read_until(primary, "Console", time.monotonic() + 30)
        screen += read_until(primary, "This month", time.monotonic() + 30)
        assert "5-hour" in screen and "jane@example.com" in screen
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
