"""The console script: `statusline` is answered without importing the rest of the program."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["statusline"]:
        from tray_app.clock import SYSTEM_CLOCK
        from tray_app.environment import Environment
        from tray_app.statusline import main as statusline

        return statusline(args[1:], Environment.from_process(), SYSTEM_CLOCK)
    from tray_app.cli import main as cli

    return cli(args)
