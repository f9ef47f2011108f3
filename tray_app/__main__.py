"""`python -m tray_app`: the same as the claude-usage-tray command."""

import sys

from tray_app.entry import main

sys.exit(main())
