"""Reading Claude Code's login: the file in every odd state, and the macOS Keychain through `security`.

The Keychain cannot run here, so a stand-in `security` executable answers the way the real one does
(JSON on stdout, exit 44 for "not found"); everything around it is the real code path.
"""

from __future__ import annotations

import binascii
import json
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tray_app.core.errors import CredentialsError
from tray_app.core.models import TokenGrant
from tray_app.sources.credentials import ClaudeCredentialStore

from ..conftest import ACCESS_TOKEN, write_login


def fake_security(tmp_path: Path, answers: dict[str, tuple[int, str]]) -> tuple[Path, Path]:
    """A `security` that logs its arguments and answers per service name: (exit code, stdout)."""
    if sys.platform == "win32":
        pytest.skip("the stand-in `security` is a script with a #! line (the Keychain is macOS's anyway)")
    log = tmp_path / "security.log"
    script = tmp_path / "security"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"answers = json.loads({json.dumps(json.dumps(answers))})\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "service = sys.argv[sys.argv.index('-s') + 1]\n"
        "code, out = answers.get(service, [44, ''])\n"
        "if code == 44: sys.stderr.write('security: The specified item could not be found.\\n')\n"
        "sys.stdout.write(out)\n"
        "sys.exit(code)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def login_json(token: str = ACCESS_TOKEN) -> str:
    return json.dumps({"claudeAiOauth": {"accessToken": token, "scopes": ["user:profile"]}})


def test_file_with_extra_keys(claude_dir: Path) -> None:
    loaded = ClaudeCredentialStore(claude_dir, platform="linux").load()
    assert (loaded.source, loaded.location) == ("file", str(claude_dir / ".credentials.json"))
    assert loaded.credentials.access_token == ACCESS_TOKEN


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "are empty"),
        (b"{not json", "not valid JSON"),
        (b'{"mcpOAuth": {}}', "no Claude Code login"),
        (b'{"claudeAiOauth": {"accessToken": 42}}', "no access token"),
    ],
)
def test_bad_files_give_one_clear_message(tmp_path: Path, content: bytes, words: str) -> None:
    (tmp_path / ".credentials.json").write_bytes(content)
    with pytest.raises(CredentialsError, match=words) as caught:
        ClaudeCredentialStore(tmp_path, platform="linux").load()
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads any file; Windows has no mode 000"
)
def test_unreadable_file(claude_dir: Path) -> None:
    (claude_dir / ".credentials.json").chmod(0)
    with pytest.raises(CredentialsError, match="permission denied"):
        ClaudeCredentialStore(claude_dir, platform="linux").load()


def test_directory_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / ".credentials.json").mkdir()
    with pytest.raises(CredentialsError, match="cannot read"):
        ClaudeCredentialStore(tmp_path, platform="linux").load()


def test_unchanged_file_is_not_parsed_again_and_a_changed_one_is(claude_dir: Path) -> None:
    store = ClaudeCredentialStore(claude_dir, platform="linux")
    first = store.load()
    assert store.load() is first
    write_login(claude_dir, access="sk-ant-oat01-new-one")
    assert store.load().credentials.access_token == "sk-ant-oat01-new-one"


def test_setup_token_from_environment_is_flagged(tmp_path: Path) -> None:
    store = ClaudeCredentialStore(
        tmp_path / "none", platform="linux", environ={"CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-x"}
    )
    loaded = store.load()
    assert loaded.source == "environment" and loaded.credentials.scopes == ("user:inference",)


def test_keychain_is_preferred_on_macos(tmp_path: Path, claude_dir: Path) -> None:
    script, log = fake_security(
        tmp_path, {"Claude Code-credentials": (0, login_json("sk-ant-oat01-from-keychain") + "\n")}
    )
    store = ClaudeCredentialStore(
        None, platform="darwin", security_command=str(script), environ={"USER": "jane"}
    )
    loaded = store.load()
    assert (loaded.source, loaded.location) == ("keychain", "Claude Code-credentials")
    assert loaded.credentials.access_token == "sk-ant-oat01-from-keychain"
    assert json.loads(log.read_text().splitlines()[0]) == [
        "find-generic-password",
        "-s",
        "Claude Code-credentials",
        "-a",
        "jane",
        "-w",
    ]


def test_keychain_not_found_falls_back_to_the_file(tmp_path: Path, claude_dir: Path) -> None:
    script, _ = fake_security(tmp_path, {})
    loaded = ClaudeCredentialStore(claude_dir, platform="darwin", security_command=str(script)).load()
    assert loaded.source == "file"


def test_keychain_hex_value_is_decoded(tmp_path: Path) -> None:
    hexed = binascii.hexlify(login_json().encode()).decode()
    script, _ = fake_security(tmp_path, {"Claude Code-credentials": (0, hexed)})
    loaded = ClaudeCredentialStore(None, platform="darwin", security_command=str(script)).load()
    assert loaded.credentials.access_token == ACCESS_TOKEN


def test_keychain_with_only_mcp_entries_uses_the_file(tmp_path: Path, claude_dir: Path) -> None:
    script, _ = fake_security(tmp_path, {"Claude Code-credentials": (0, '{"mcpOAuth": {}}')})
    loaded = ClaudeCredentialStore(claude_dir, platform="darwin", security_command=str(script)).load()
    assert loaded.source == "file"


def test_locked_keychain_falls_back_and_says_why(
    tmp_path: Path, claude_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script, _ = fake_security(tmp_path, {"Claude Code-credentials": (51, "")})
    loaded = ClaudeCredentialStore(claude_dir, platform="darwin", security_command=str(script)).load()
    assert loaded.source == "file"
    assert "exit 51" in caplog.text


def test_custom_config_dir_tries_the_suffixed_item_first(tmp_path: Path, claude_dir: Path) -> None:
    script, log = fake_security(tmp_path, {})
    ClaudeCredentialStore(claude_dir, platform="darwin", security_command=str(script)).load()
    services = [json.loads(line)[2] for line in log.read_text().splitlines()]
    assert (
        len(services) == 2 and services[0].startswith("Claude Code-credentials-") and len(services[0]) == 32
    )
    assert services[1] == "Claude Code-credentials"


def test_refresh_write_back_is_refused_for_the_keychain(tmp_path: Path) -> None:
    script, _ = fake_security(tmp_path, {"Claude Code-credentials": (0, login_json())})
    store = ClaudeCredentialStore(None, platform="darwin", security_command=str(script))
    with pytest.raises(CredentialsError, match="works only with the credentials file"):
        store.save_refreshed(store.load(), TokenGrant("sk-ant-oat01-n", None, 60), datetime.now(UTC))


def test_missing_login_names_the_place(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match=r"not logged in .*\.credentials\.json"):
        ClaudeCredentialStore(tmp_path / "nothing", platform="linux", environ={}).load()
