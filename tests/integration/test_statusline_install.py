"""`statusline --install`, `--uninstall` and `--then`, on real settings files through the real program."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tray_app.statusline_install import parse_ours
from tray_app.statusline_then import THEN_TIMEOUT_SECONDS

from ..conftest import REPO, CliEnv, CliResult

# Odd on purpose: tabs, a BOM-free unicode escape, nested objects, spacing no serialiser would produce.
OTHER_KEYS = (
    '{\n\t"model" :"sonnet",\n\t"env": {"NAME": "caf\\u00e9", "LIST": [1,2 , 3]},\n'
    '\t"permissions": {\n\t\t"allow": ["Bash(ls:*)"]\n\t},\n\t"theme":"dark"\n}\n'
)
WITH_THEIRS = (
    '{\n  "model": "opus",\n  "statusLine": {\n    "type": "command",\n'
    '    "command": "npx -y ccstatusline@latest | sed \\"s/a/b/\\"",\n    "padding": 0\n  },\n'
    '  "includeCoAuthoredBy": false\n}\n'
)
# The wrapped commands below are POSIX shell (cat, printf, sleep); on Windows the shell is cmd.exe.
posix_shell = pytest.mark.skipif(os.name != "posix", reason="POSIX shell commands")
THEIRS = 'npx -y ccstatusline@latest | sed "s/a/b/"'


def settings_file(cli: CliEnv) -> Path:
    return cli.claude_dir / "settings.json"


def backup_of(path: Path) -> Path:
    return path.with_name(path.name + ".claude-usage-tray-backup")


def installed_command(path: Path) -> str:
    command = json.loads(path.read_text())["statusLine"]["command"]
    assert isinstance(command, str)
    return command


def run_then(
    cli: CliEnv, command: str, stdin: bytes, *args: str
) -> tuple[subprocess.CompletedProcess[bytes], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tray_app.cli", "statusline", *args, "--then", command],
        input=stdin,
        capture_output=True,
        env=cli.env(),
        cwd=REPO,
        timeout=60,
        check=False,
    )
    return done, time.monotonic() - started


def test_install_into_a_missing_file_then_uninstall(cli: CliEnv) -> None:
    path = settings_file(cli)
    path.unlink(missing_ok=True)
    result = cli.run("statusline", "--install")
    assert result.code == 0 and f"installed in {path}" in result.stdout
    document = json.loads(path.read_text())
    assert list(document) == ["statusLine"] and document["statusLine"]["type"] == "command"
    command = installed_command(path)
    program = shlex.split(command)[0]
    assert Path(program).is_absolute() and Path(program).exists()
    assert parse_ours(command) == (True, None)
    assert not backup_of(path).exists()  # nothing was there to back up
    assert cli.run("statusline", "--uninstall").code == 0
    assert json.loads(path.read_text()) == {}


def test_install_keeps_every_other_key_byte_for_byte(cli: CliEnv) -> None:
    path = settings_file(cli)
    path.write_text(OTHER_KEYS)
    result = cli.run("statusline", "--install")
    assert result.code == 0, result.stderr
    after = path.read_text()
    # Everything up to the last value is untouched; our member follows it, laid out like the others.
    kept = OTHER_KEYS[: OTHER_KEYS.rindex('"dark"') + len('"dark"')]
    line = json.dumps({"type": "command", "command": installed_command(path)})
    assert after == f'{kept},\n\t"statusLine": {line}\n}}\n'
    document = json.loads(after)
    assert list(document) == ["model", "env", "permissions", "theme", "statusLine"]
    assert backup_of(path).read_text() == OTHER_KEYS
    removed = cli.run("statusline", "--uninstall")
    assert removed.code == 0 and "no status line is set" in removed.stdout
    assert path.read_text() == OTHER_KEYS


def test_an_existing_status_line_is_wrapped_and_comes_back_exactly(cli: CliEnv) -> None:
    path = settings_file(cli)
    path.write_text(WITH_THEIRS)
    result = cli.run("statusline", "--install")
    assert result.code == 0 and "your own status line still shows" in result.stdout
    assert THEIRS not in result.stdout + result.stderr  # their command may carry a token: not echoed
    command = installed_command(path)
    assert parse_ours(command) == (True, THEIRS)
    # Only the command changed: the rest of their statusLine (padding) and of the file stays as written.
    assert path.read_text() == WITH_THEIRS.replace(
        '"npx -y ccstatusline@latest | sed \\"s/a/b/\\""', json.dumps(command)
    )
    assert cli.run("statusline", "--uninstall").code == 0
    assert path.read_text() == WITH_THEIRS


def test_installing_twice_changes_nothing(cli: CliEnv) -> None:
    path = settings_file(cli)
    path.write_text(WITH_THEIRS)
    assert cli.run("statusline", "--install").code == 0
    first, backup = path.read_bytes(), backup_of(path).read_bytes()
    again = cli.run("statusline", "--install")
    assert (
        again.code == 0
        and again.stdout == f"claude-usage-tray: already installed in {path}; nothing changed\n"
    )
    assert path.read_bytes() == first and backup_of(path).read_bytes() == backup


def test_uninstall_when_not_installed(cli: CliEnv) -> None:
    path = settings_file(cli)
    path.unlink(missing_ok=True)
    missing = cli.run("statusline", "--uninstall")
    assert missing.code == 0 and "not installed" in missing.stdout and not path.exists()
    path.write_text(WITH_THEIRS)
    theirs = cli.run("statusline", "--uninstall")
    assert theirs.code == 0 and "not installed" in theirs.stdout
    assert path.read_text() == WITH_THEIRS and not backup_of(path).exists()


def test_a_broken_file_is_left_untouched(cli: CliEnv) -> None:
    path = settings_file(cli)
    both = ("--install", "--uninstall")
    for content, flags, problem in (
        ('{"model": "opus",,}', both, "is not valid JSON (Expecting property name"),
        ('["statusLine"]', both, "is not a JSON object (it is a JSON list)"),
        ("", both, "is not valid JSON (Expecting value at line 1, column 1)"),
        (b'{"a": "\xff"}'.decode("latin-1"), both, "is not UTF-8 text"),
        ('{"statusLine": "echo hi"}', both, 'has a "statusLine" that is not a command status line'),
        (
            '{"statusLine": {"command": "a"}, "statusLine": {"command": "b"}}',
            ("--install",),
            '"statusLine" appears 2 times',
        ),
    ):
        data = content.encode("latin-1") if "UTF-8" in problem else content.encode()
        path.write_bytes(data)
        for flag in flags:
            result: CliResult = cli.run("statusline", flag)
            assert (result.code, result.stdout) == (2, ""), (content, flag, result)
            [line] = result.stderr.splitlines()
            assert line.startswith(f"claude-usage-tray: {path}: {problem}"), line
            assert line.endswith("; left untouched")
            assert path.read_bytes() == data and not backup_of(path).exists()


@posix_shell
def test_the_installed_command_runs_their_line_from_a_shell(cli: CliEnv) -> None:
    path = settings_file(cli)
    path.write_text('{"statusLine": {"type": "command", "command": "printf \'theirs: \'; cat"}}')
    assert cli.run("statusline", "--install").code == 0
    # As Claude Code runs it: through a shell, from another folder; PYTHONPATH so the checkout's code runs.
    done = subprocess.run(
        installed_command(path),
        shell=True,
        input=b'{"model": {"id": "x"}}',
        capture_output=True,
        env=cli.env(PYTHONPATH=str(REPO)),
        cwd=cli.claude_dir,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, b'theirs: {"model": {"id": "x"}}'), done.stderr


@posix_shell
def test_then_passes_input_output_and_status_through_unchanged(cli: CliEnv) -> None:
    payload = b'{"rate_limits": {"five_hour": {"used_percentage": 37}}}\n\x1b[31m\xff no newline'
    done, _ = run_then(cli, "cat; printf 'to stderr' >&2; exit 3", payload)
    assert (done.returncode, done.stdout, done.stderr) == (3, payload, b"to stderr")


@posix_shell
def test_then_cuts_off_a_command_that_hangs_and_prints_our_line(cli: CliEnv) -> None:
    five_hour = {"used_percentage": 37, "resets_at": int(time.time()) + 3600}
    payload = json.dumps({"rate_limits": {"five_hour": five_hour}}).encode()
    # The shell stays to echo afterwards, so `sleep` is its child and holds our pipes: the whole group goes.
    done, took = run_then(cli, "printf partial; sleep 30; echo late", payload)
    assert (done.returncode, done.stdout) == (0, b"5h 37%\n")
    assert THEN_TIMEOUT_SECONDS <= took < THEN_TIMEOUT_SECONDS + 4
    templated, _ = run_then(cli, "sleep 30", payload, "--format", "[{five_hour}]")
    assert templated.stdout == b"[37%]\n"


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need privileges on Windows")
def test_install_follows_a_symbolic_link(cli: CliEnv, tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "claude-settings.json"
    target.parent.mkdir()
    target.write_text(OTHER_KEYS)
    path = settings_file(cli)
    path.unlink(missing_ok=True)
    path.symlink_to(target)
    assert cli.run("statusline", "--install").code == 0
    assert path.is_symlink() and "statusLine" in json.loads(target.read_text())
    assert cli.run("statusline", "--uninstall").code == 0
    assert target.read_text() == OTHER_KEYS
