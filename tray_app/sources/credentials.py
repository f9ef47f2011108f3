"""Claude Code's OAuth login, read-only by default: the credentials file or the macOS Keychain."""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tray_app.clock import SYSTEM_CLOCK
from tray_app.core.errors import CredentialsError
from tray_app.core.models import OAuthCredentials, TokenGrant
from tray_app.core.parse import parse_credentials

logger = logging.getLogger(__name__)

KEYCHAIN_SERVICE = "Claude Code-credentials"
KEYCHAIN_NOT_FOUND = 44  # `security` exits 44 when the item does not exist
ENV_OAUTH_TOKEN = "CLAUDE_CODE_OAUTH_TOKEN"


@dataclass(frozen=True)
class LoadedCredentials:
    """Credentials plus where they came from and the exact bytes, for compare-and-swap writes."""

    credentials: OAuthCredentials
    source: str  # "file", "keychain" or "environment"
    location: str  # a path or a Keychain service name; never the secret
    document: Mapping[str, Any] = field(repr=False)
    digest: str = field(repr=False)


@dataclass(frozen=True)
class _FileStamp:
    inode: int
    mtime_ns: int
    size: int


def _stamp_of(path: Path) -> _FileStamp:
    info = path.stat()
    return _FileStamp(info.st_ino, info.st_mtime_ns, info.st_size)


# Claude Code may be rewriting the file as we read it; a few short re-reads ride that out.
_READ_ATTEMPTS = 5
_REREAD_PAUSE_S = 0.02
_JUST_WRITTEN_S = 2.0


class ClaudeCredentialStore:
    """Finds and reads the login each poll; a changed file is re-read, an unchanged one is not."""

    def __init__(
        self,
        claude_config_dir: Path | None,
        *,
        platform: str = sys.platform,
        security_command: str = "security",
        environ: Mapping[str, str] | None = None,
        home: Path | None = None,
    ) -> None:
        self._dir = claude_config_dir or (home or Path.home()) / ".claude"
        self._custom_dir = claude_config_dir is not None
        self._platform = platform
        self._security = security_command
        self._environ = os.environ if environ is None else environ
        self._cached: tuple[_FileStamp, LoadedCredentials] | None = None

    @property
    def file_path(self) -> Path:
        return self._dir / ".credentials.json"

    def load(self) -> LoadedCredentials:
        """The current login. Raises CredentialsError with a plain-words reason when there is none."""
        if self._platform == "darwin":
            from_keychain = self._load_keychain()
            if from_keychain is not None:
                return from_keychain
        if self.file_path.exists():
            return self._load_file()
        token = self._environ.get(ENV_OAUTH_TOKEN)
        if token:
            # `claude setup-token` tokens carry only user:inference; saying so beats a 403 later.
            creds = OAuthCredentials(token, None, None, ("user:inference",), None, None)
            return LoadedCredentials(creds, "environment", ENV_OAUTH_TOKEN, {}, "")
        raise CredentialsError(
            f"Claude Code is not logged in on this machine (no {self.file_path}): run `claude auth login`"
        )

    def _load_file(self) -> LoadedCredentials:
        path = self.file_path
        for attempt in range(_READ_ATTEMPTS):
            last_try = attempt == _READ_ATTEMPTS - 1
            try:
                stamp = _stamp_of(path)
                if self._cached is not None and self._cached[0] == stamp:
                    return self._cached[1]
                raw = path.read_bytes()
                after = _stamp_of(path)
            except PermissionError:
                raise CredentialsError(f"cannot read {path}: permission denied") from None
            except OSError as exc:
                raise CredentialsError(f"cannot read {path}: {exc.strerror}") from None
            if after != stamp and not last_try:
                time.sleep(_REREAD_PAUSE_S)  # rewritten while we read it: read it again
                continue
            try:
                loaded = _decode(raw, "file", str(path))
            except CredentialsError:
                # A file rewritten in place is empty or half-written for a moment: wait for the rest.
                if last_try or SYSTEM_CLOCK.wall() - after.mtime_ns / 1e9 > _JUST_WRITTEN_S:
                    raise
                time.sleep(_REREAD_PAUSE_S)
                continue
            self._cached = (after, loaded)
            return loaded
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _keychain_services(self) -> list[str]:
        services = [KEYCHAIN_SERVICE]
        if self._custom_dir:
            # Claude Code suffixes the item when CLAUDE_CONFIG_DIR is set (one source; plain name next).
            digest = hashlib.sha256(unicodedata.normalize("NFC", str(self._dir)).encode()).hexdigest()[:8]
            services.insert(0, f"{KEYCHAIN_SERVICE}-{digest}")
        return services

    def _load_keychain(self) -> LoadedCredentials | None:
        account = self._environ.get("USER", "")
        for service in self._keychain_services():
            command = [self._security, "find-generic-password", "-s", service, "-a", account, "-w"]
            try:
                result = subprocess.run(command, capture_output=True, timeout=10, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                logger.warning(
                    "macOS Keychain not readable (%s); trying the credentials file", type(exc).__name__
                )
                return None
            if result.returncode == KEYCHAIN_NOT_FOUND:
                continue
            if result.returncode != 0:
                # Locked, denied or cancelled: the stderr text is safe (it never holds the secret).
                reason = result.stderr.decode(errors="replace").strip()[:120]
                logger.warning("macOS Keychain refused %r (exit %d: %s)", service, result.returncode, reason)
                return None
            try:
                return _decode(result.stdout.strip(), "keychain", service)
            except CredentialsError as exc:
                # Claude Code 2.1 may keep only mcpOAuth here; the file may still hold the login.
                logger.info("Keychain item %r has no usable login: %s", service, exc)
                return None
        return None

    def save_refreshed(self, previous: LoadedCredentials, grant: TokenGrant, now: datetime) -> bool:
        """Write a refreshed token pair back, only if the stored login is still `previous`.

        Returns False (and writes nothing) when Claude Code changed the file meanwhile.
        """
        if previous.source != "file":
            raise CredentialsError(
                'token_refresh = "self" works only with the credentials file; '
                f"this login comes from the {previous.source}: let Claude Code refresh it (run `claude`)"
            )
        path = Path(previous.location)
        try:
            current = path.read_bytes()
        except OSError as exc:
            raise CredentialsError(f"cannot read {path}: {exc.strerror}") from None
        if _digest(current) != previous.digest:
            return False
        document = json.loads(current)
        oauth = dict(document["claudeAiOauth"])
        oauth["accessToken"] = grant.access_token
        if grant.refresh_token:
            oauth["refreshToken"] = grant.refresh_token
        if grant.expires_in is not None:
            oauth["expiresAt"] = int(now.timestamp() * 1000) + grant.expires_in * 1000
        document["claudeAiOauth"] = oauth
        _atomic_write(path, json.dumps(document, indent=2).encode())
        self._cached = None
        return True


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _decode(raw: bytes, source: str, location: str) -> LoadedCredentials:
    if not raw.strip():
        raise CredentialsError(
            f"the Claude Code credentials in {location} are empty: run `claude auth login`"
        )
    try:
        document = json.loads(raw)
    except ValueError:
        document = _hex_json(raw)
    if document is None:
        raise CredentialsError(
            f"the Claude Code credentials in {location} are not valid JSON: run `claude auth login`"
        )
    credentials = parse_credentials(document)
    return LoadedCredentials(credentials, source, location, document, _digest(raw))


def _hex_json(raw: bytes) -> Any:
    """Some Claude Code versions store the Keychain value hex-encoded."""
    text = raw.strip().decode(errors="replace").removeprefix("0x")
    try:
        return json.loads(binascii.unhexlify(text))
    except (ValueError, binascii.Error):
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    """Temp file beside the target, mode 0600, fsync, rename: a crash leaves old or new, never half."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
