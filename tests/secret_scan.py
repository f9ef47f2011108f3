"""The suite-wide secrets scan: every output, log, database and exception text of the whole run.

Anything shaped like an Anthropic secret (sk-ant-<kind>-<value>) found where the program writes is a
leak. The files the tests write as Claude Code, a browser or the user would (the login file, cookie
stores, the settings file, a fake `security` tool) hold secrets by design and are not the program's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

# As the program's own redaction sees them; "sk-ant-[redacted]" is what a leak-free text may hold.
SECRET = re.compile(r"sk-ant-[A-Za-z0-9]+-[A-Za-z0-9_\-]{4,}")
_SECRET_BYTES = re.compile(SECRET.pattern.encode())
_INPUT_NAMES = {".credentials.json", "credentials.json", "config.toml", "security", "local state"}


def is_input_file(path: Path) -> bool:
    """True for files the tests write to stand for someone else's secrets."""
    name = path.name.lower()
    return name in _INPUT_NAMES or "cookies" in name


def leaks_in_text(text: str) -> list[str]:
    """The secret-shaped strings in text, shortened so that the report does not repeat them whole."""
    return sorted({match[:16] + "…" for match in SECRET.findall(text)})


def leaks_in_files(root: Path) -> Iterator[tuple[Path, list[str]]]:
    """(file, shortened secrets) for every file under root, other than test inputs, holding one."""
    for path in sorted(root.rglob("*")):
        if is_input_file(path) or not path.is_file() or path.is_symlink():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a socket, or a file a test made unreadable on purpose
        found = sorted({m[:16].decode(errors="replace") + "…" for m in _SECRET_BYTES.findall(data)})
        if found:
            yield path, found


def report(leaks: Iterable[tuple[str, list[str]]]) -> str:
    return "\n".join(f"  {where}: {', '.join(found)}" for where, found in leaks)
