"""Where the program keeps its files; apart from config so the statusline finds the database cheaply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "claude-usage-tray"
ENV_HOME = "CLAUDE_USAGE_TRAY_HOME"


@dataclass(frozen=True)
class Paths:
    """Where this program keeps its files."""

    config_file: Path
    database: Path
    log_dir: Path

    @property
    def credentials_file(self) -> Path:
        """Where the terminal monitor kept the Admin API key: beside the database."""
        return self.database.parent / "credentials.json"


def default_paths(environ: Mapping[str, str], home: Path | None = None) -> Paths:
    """One folder when CLAUDE_USAGE_TRAY_HOME is set, else the platform's usual places.

    home: the user's home folder (Path.home() when not given).
    """
    own_folder = environ.get(ENV_HOME)
    if own_folder:
        root = Path(own_folder).expanduser()
        return Paths(root / "config.toml", root / "usage_history.db", root / "logs")
    # Imported only when needed: with CLAUDE_USAGE_TRAY_HOME set the program does without it.
    import platformdirs

    return Paths(
        platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml",
        # The terminal monitor this app grew out of kept its history here; we share the file.
        (home or Path.home()) / ".claude-usage" / "usage_history.db",
        platformdirs.user_log_path(APP_NAME, appauthor=False),
    )
