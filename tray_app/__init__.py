"""claude-usage-tray: Claude usage limits and API spend in the system tray."""

__version__ = "0.1.0"
