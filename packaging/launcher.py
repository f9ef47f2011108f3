"""The frozen app's entry point: the same `main` as the `claude-usage-tray` console script."""

from __future__ import annotations

import sys

from tray_app.entry import main

if __name__ == "__main__":
    sys.exit(main())
