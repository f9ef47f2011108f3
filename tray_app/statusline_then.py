"""`statusline --then '<command>'`: run the user's own status line with the same standard input.

Only this path imports subprocess and signal; the plain statusline stays as light as it was.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass

# Claude Code redraws the status line on every new message (at most every 300 ms) and a slow line only
# shows stale text, so a wrapped command gets a few seconds: room for a cold Node.js start plus git calls
# (ccstatusline, claude-hud), short enough that a hung one costs one render, after which ours shows.
THEN_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: bytes
    stderr: bytes


def run_then(command: str, data: bytes, timeout: float = THEN_TIMEOUT_SECONDS) -> Finished | None:
    """Their command through the shell, fed `data`; None when it outlived `timeout` and was stopped."""
    # Its own process group, so the shell's children (the real status line) are stopped with it: killing
    # the shell alone would leave them holding our pipes open, and reading those would hang.
    group = (
        {"start_new_session": True}
        if os.name == "posix"
        else {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined,unused-ignore]
    )
    process = subprocess.Popen(  # noqa: S602 - the user's own status-line command, meant for a shell
        command,
        shell=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **group,
    )
    try:
        stdout, stderr = process.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        return None
    return Finished(process.returncode, stdout, stderr)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError):  # it may have ended just now
            os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    # On Windows a grandchild may still hold the pipes: leave it rather than hang Claude Code's line.
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=1)
