"""Logging: a rotating owner-only file in the log folder, secrets scrubbed from every record."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from tray_app.core.redact import redact

LOG_FILE_NAME = "claude-usage-tray.log"


class RedactingFilter(logging.Filter):
    """Second line of defence: nothing logs a token on purpose, and this makes sure of it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # Tracebacks are formatted after filters run, so scrub the finished text too.
        return redact(super().format(record))


def configure_logging(log_dir: Path, verbose: bool) -> Path | None:
    """Log to <log_dir>/claude-usage-tray.log (INFO) and stderr (errors, or everything with -v)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.DEBUG if verbose else logging.ERROR)
    stderr.setFormatter(formatter)
    stderr.addFilter(RedactingFilter())
    root.addHandler(stderr)
    try:
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = log_dir / LOG_FILE_NAME
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).error(
            "cannot write logs to %s (%s); logging to stderr only", log_dir, exc.strerror
        )
        return None
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    # urllib3 logs every connection at DEBUG; its URLs are ours, but the noise is not useful.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    return path
