"""`statusline --install` / `--uninstall`: our status line into Claude Code's user settings, and out.

A status line the user already has is wrapped, not replaced: only its "command" changes, to ours with
`--then '<their command>'`, so their line keeps showing and every other field of it stays. The wrapped
command is kept inside ours, so uninstalling needs nothing but the settings file itself.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tray_app.claude_settings import (
    BACKUP_SUFFIX,
    SettingsFileError,
    SettingsText,
    object_at,
    read_settings,
    remove_member,
    set_member,
    settings_path,
    write_settings,
)
from tray_app.environment import Environment

KEY = "statusLine"
PROGRAM_NAME = "claude-usage-tray"
_OK, _FAILURE, _USAGE = 0, 1, 2


def program_words() -> list[str]:
    """How Claude Code should start us, by absolute paths: its environment (PATH, virtualenv) is not ours.

    The console script beside this interpreter when there is one (a venv's bin/ or Scripts/), the bundle's
    own executable when frozen, else this interpreter with `-m tray_app`. The interpreter's path is not
    resolved: a venv's python is a link, and resolving it would leave the venv and its packages behind.
    """
    if getattr(sys, "frozen", False):
        return [os.path.abspath(sys.executable)]
    folder = Path(os.path.abspath(sys.executable)).parent
    for name in (PROGRAM_NAME, f"{PROGRAM_NAME}.exe"):
        if (folder / name).is_file():
            return [str(folder / name)]
    return [os.path.abspath(sys.executable), "-m", "tray_app"]


def our_command(then: str | None) -> str:
    words = [*program_words(), "statusline"]
    if then is not None:
        words += ["--then", then]
    # Claude Code runs the command through a shell: quoted so spaces and quotes in paths survive.
    return shlex.join(words)


def parse_ours(command: str) -> tuple[bool, str | None]:
    """Whether a status-line command is ours (from any install path), and the command it wraps if any."""
    try:
        words = shlex.split(command)
    except ValueError:
        return False, None
    if len(words) >= 2 and Path(words[0]).stem == PROGRAM_NAME and words[1] == "statusline":
        rest = words[2:]
    elif words[1:4] == ["-m", "tray_app", "statusline"]:
        rest = words[4:]
    else:
        return False, None
    then = rest[rest.index("--then") + 1] if "--then" in rest[:-1] else None
    return True, then


@dataclass(frozen=True)
class FeedSetup:
    """Whether our status line is in Claude Code's user settings (for `doctor` and the tray's menu)."""

    path: Path
    installed: bool
    wraps: str | None  # the user's own status line, run by ours
    problem: str | None  # the settings file cannot be read: installed is then False


def setup_state(env: Environment) -> FeedSetup:
    path = settings_path(env.environ, env.home)
    try:
        current = _current_command(read_settings(path))
    except SettingsFileError as exc:
        return FeedSetup(path, False, None, str(exc))
    ours, theirs = parse_ours(current) if current is not None else (False, None)
    return FeedSetup(path, ours, theirs, None)


def _current_command(settings: SettingsText) -> str | None:
    """The statusLine's command, None when there is no statusLine; a statusLine we cannot wrap raises."""
    if KEY not in settings.document:
        return None
    value = settings.document[KEY]
    command = value.get("command") if isinstance(value, dict) else None
    if not isinstance(command, str) or value.get("type", "command") != "command":
        raise SettingsFileError(f'has a "{KEY}" that is not a command status line')
    return command


def _set_command(settings: SettingsText, command_json: str) -> str:
    """The text with the statusLine's own "command" value replaced: its other fields stay as written."""
    top = settings.top()
    line = top.member(KEY)
    assert line is not None  # callers checked the document has one
    return set_member(settings.text, object_at(settings.text, line.value_start), "command", command_json)


def install(env: Environment) -> int:
    path = settings_path(env.environ, env.home)
    try:
        settings = read_settings(path)
        theirs = _current_command(settings)
        if theirs is not None and parse_ours(theirs)[0]:
            _say(env.stdout, f"already installed in {path}; nothing changed")
            return _OK
        ours = our_command(theirs)
        if theirs is None:
            base = settings.text if settings.exists else "{}\n"
            line = json.dumps({"type": "command", "command": ours}, ensure_ascii=False)
            text = set_member(base, object_at(base, 0), KEY, line)
        else:
            text = _set_command(settings, json.dumps(ours, ensure_ascii=False))
    except SettingsFileError as exc:
        _say(env.stderr, f"{path}: {exc}; left untouched")
        return _USAGE
    wrapped = "; your own status line still shows, run by ours" if theirs is not None else ""
    return _write(env, settings, text, f"installed in {path}{wrapped}")


def uninstall(env: Environment) -> int:
    path = settings_path(env.environ, env.home)
    try:
        settings = read_settings(path)
        current = _current_command(settings)
        ours, theirs = parse_ours(current) if current is not None else (False, None)
        if not ours:
            _say(env.stdout, f"not installed in {path}; nothing changed")
            return _OK
        if theirs is None:
            text = remove_member(settings.text, settings.top(), KEY)
        else:
            text = _set_command(settings, _original_json(path, theirs))
    except SettingsFileError as exc:
        _say(env.stderr, f"{path}: {exc}; left untouched")
        return _USAGE
    back = "your own status line is back" if theirs is not None else "no status line is set"
    return _write(env, settings, text, f"removed from {path}; {back}")


def _original_json(path: Path, theirs: str) -> str:
    """Their command as JSON text: as it was written in the backup when the backup still holds it (so
    their own escapes come back byte for byte), else encoded afresh."""
    try:
        backup = read_settings(path.with_name(path.name + BACKUP_SUFFIX))
        line = backup.top().member(KEY)
        if line is not None and backup.document[KEY].get("command") == theirs:
            command = object_at(backup.text, line.value_start).member("command")
            if command is not None:
                return backup.text[command.value_start : command.value_end]
    except (SettingsFileError, AttributeError):
        pass
    return json.dumps(theirs, ensure_ascii=False)


def _write(env: Environment, settings: SettingsText, text: str, done: str) -> int:
    try:
        backup = write_settings(settings, text)
    except OSError as exc:
        _say(env.stderr, f"{settings.path}: cannot be written ({exc.strerror}); left untouched")
        return _FAILURE
    _say(env.stdout, done + (f" (the file before: {backup})" if backup is not None else ""))
    return _OK


def _say(stream: TextIO, text: str) -> None:
    print(f"{PROGRAM_NAME}: {text}", file=stream)
