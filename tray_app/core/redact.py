"""Blank out anything that looks like an Anthropic secret before text reaches a log or a message."""

from __future__ import annotations

import re

# Access, refresh, admin and session keys all share the sk-ant- prefix.
_SECRET = re.compile(r"sk-ant-[A-Za-z0-9]+-[A-Za-z0-9_\-]+|sk-ant-[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/\-]{8,}=*")


def redact(text: str) -> str:
    """text with every sk-ant- secret and Bearer credential replaced by a marker."""
    return _BEARER.sub(r"\1[redacted]", _SECRET.sub("sk-ant-[redacted]", text))
