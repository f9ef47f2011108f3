"""Claude Code's user settings file: find it, read it, change one top-level key in place, write it safely.

Edits are made on the text, not by re-serialising a parsed document: the file is the user's (and Claude
Code's), with their key order, indentation, escapes and other tools' keys, so every byte outside the one
member we change is written back as it was read.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

SETTINGS_NAME = "settings.json"
BACKUP_SUFFIX = ".claude-usage-tray-backup"
_WHITESPACE = " \t\n\r"
_BOM = "\ufeff"


class SettingsFileError(Exception):
    """The file cannot be edited safely (not UTF-8, not JSON, not an object, ...); it is left untouched."""


def settings_path(environ: Mapping[str, str], home: Path) -> Path:
    """Where Claude Code keeps its user settings: the same folder rule as config.py and credentials.py
    (CLAUDE_CONFIG_DIR, with ~ expanded, else ~/.claude)."""
    folder = environ.get("CLAUDE_CONFIG_DIR")
    return (Path(folder).expanduser() if folder else home / ".claude") / SETTINGS_NAME


@dataclass(frozen=True)
class Member:
    """One "key": value of an object, as character offsets into the text."""

    key: str
    start: int  # the key's opening quote
    value_start: int
    value_end: int


@dataclass(frozen=True)
class ObjectText:
    """A JSON object inside a text: where its braces are and where each member sits."""

    open_brace: int
    close_brace: int
    members: tuple[Member, ...]

    def member(self, key: str) -> Member | None:
        found = [m for m in self.members if m.key == key]
        if len(found) > 1:
            # json.loads keeps the last and Claude Code may keep another: changing one would be a guess.
            raise SettingsFileError(f'"{key}" appears {len(found)} times')
        return found[0] if found else None


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def object_at(text: str, at: int) -> ObjectText:
    """The members of the object starting at `at` (text already known to be valid JSON there)."""
    decoder = json.JSONDecoder()
    at = _skip(text, at)
    if text[at : at + 1] != "{":
        raise SettingsFileError("not a JSON object")
    opening, at = at, _skip(text, at + 1)
    members: list[Member] = []
    while text[at] != "}":
        key, after_key = scanstring(text, at + 1)
        value_start = _skip(text, _skip(text, after_key) + 1)  # past the colon
        _, value_end = decoder.raw_decode(text, value_start)
        members.append(Member(key, at, value_start, value_end))
        at = _skip(text, value_end)
        if text[at] == ",":
            at = _skip(text, at + 1)
    return ObjectText(opening, at, tuple(members))


@dataclass(frozen=True)
class SettingsText:
    """The file as read: its text (without a byte-order mark, kept in `bom`) and the parsed document."""

    path: Path
    exists: bool
    text: str
    bom: str
    document: dict[str, Any]

    def top(self) -> ObjectText:
        return object_at(self.text, 0)


def read_settings(path: Path) -> SettingsText:
    """The file, checked: a missing file is an empty document; anything unusable raises SettingsFileError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return SettingsText(path, False, "", "", {})
    except OSError as exc:
        raise SettingsFileError(f"cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsFileError("is not UTF-8 text") from None
    bom = _BOM if text.startswith(_BOM) else ""
    text = text[len(bom) :]
    try:
        document = json.loads(text)
    except ValueError as exc:
        # The decoder's message names a position, never the file's content (which may hold keys).
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid"
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise SettingsFileError(f"is not valid JSON ({reason}{where})") from None
    if not isinstance(document, dict):
        raise SettingsFileError(f"is not a JSON object (it is a JSON {type(document).__name__})")
    return SettingsText(path, True, text, bom, document)


def _indent_of(text: str, at: int) -> str:
    """The whitespace before `at` on its line, if only whitespace precedes it there."""
    prefix = text[text.rfind("\n", 0, at) + 1 : at]
    return prefix if prefix.strip() == "" else ""


def set_member(text: str, obj: ObjectText, key: str, value_json: str) -> str:
    """The text with `key` set to `value_json`: its value replaced in place, or a new last member laid
    out like the others (a new line and the last member's indentation, when they are on lines)."""
    existing = obj.member(key)
    if existing is not None:
        return text[: existing.value_start] + value_json + text[existing.value_end :]
    member = f"{json.dumps(key)}: {value_json}"
    if not obj.members:
        inner = _indent_of(text, obj.close_brace)
        return f"{text[: obj.open_brace + 1]}\n{inner}  {member}\n{inner}{text[obj.close_brace :]}"
    last = obj.members[-1]
    gap = "\n" + _indent_of(text, last.start) if _on_own_line(text, last.start) else " "
    return f"{text[: last.value_end]},{gap}{member}{text[last.value_end :]}"


def _on_own_line(text: str, at: int) -> bool:
    line_start = text.rfind("\n", 0, at) + 1
    return line_start > 0 and text[line_start:at].strip() == ""


def remove_member(text: str, obj: ObjectText, key: str) -> str:
    """The text without `key`: the exact inverse of set_member adding it as the last member."""
    existing = obj.member(key)
    if existing is None:
        return text
    index = obj.members.index(existing)
    if len(obj.members) == 1:
        return text[: obj.open_brace + 1] + text[obj.close_brace :]
    if index > 0:
        return text[: obj.members[index - 1].value_end] + text[existing.value_end :]
    return text[: existing.start] + text[obj.members[1].start :]


def write_settings(current: SettingsText, new_text: str) -> Path | None:
    """Back the file up (when there is one), then replace it atomically; returns the backup's path.

    A symbolic link (a dotfiles repository, say) is followed, so the link stays and its target changes.
    """
    target = current.path.resolve() if current.path.is_symlink() else current.path
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if current.exists:
        backup = current.path.with_name(current.path.name + BACKUP_SUFFIX)
        _replace_with(backup, target.read_bytes(), target)
    _replace_with(target, (current.bom + new_text).encode("utf-8"), target if current.exists else None)
    return backup


def _replace_with(path: Path, data: bytes, mode_from: Path | None) -> None:
    """Write a temporary file beside `path` and rename it over: a reader sees the old file or the new one,
    never half of one, and a crash leaves the old one."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode_from is not None:
            shutil.copymode(mode_from, temporary)  # settings may hold tokens in "env": keep their mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
