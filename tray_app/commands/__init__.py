"""The commands, one module each; each takes what it needs (App, Environment, Clock) and returns an ExitCode.

They print only to the Environment's streams; `tray_app.cli` parses, wires and dispatches to them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process's exit status; EPILOG in tray_app.cli tells users what each means."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    LOGIN_NEEDED = 3
    NETWORK = 4
    ALREADY_RUNNING = 5
