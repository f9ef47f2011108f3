"""What the program is given by the process it runs in: variables, platform, home, standard streams."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tray_app.paths import Paths, default_paths


@dataclass(frozen=True)
class Environment:
    """Passed to the wiring and the commands instead of reading os.environ or sys.* where needed."""

    environ: Mapping[str, str]
    platform: str
    home: Path
    stdin: TextIO = field(default=sys.stdin, repr=False)
    stdout: TextIO = field(default=sys.stdout, repr=False)
    stderr: TextIO = field(default=sys.stderr, repr=False)

    @classmethod
    def from_process(cls) -> Environment:
        """This process's own environment (a snapshot: later changes to os.environ are not seen)."""
        return cls(dict(os.environ), sys.platform, Path.home(), sys.stdin, sys.stdout, sys.stderr)

    @property
    def paths(self) -> Paths:
        return default_paths(self.environ, self.home)

    @property
    def has_display(self) -> bool:
        """Whether a graphical session can be reached (always, outside Linux and the BSDs)."""
        if not self.platform.startswith(("linux", "freebsd", "openbsd")):
            return True
        return bool(self.environ.get("DISPLAY") or self.environ.get("WAYLAND_DISPLAY"))
