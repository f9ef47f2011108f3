"""Where each browser keeps its cookie database: Firefox profiles and the Chromium family's user data,
per OS, including Flatpak and Snap builds."""

from __future__ import annotations

import configparser
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BROWSERS = ("firefox", "chrome", "chromium", "brave", "edge")
LABELS = {"firefox": "Firefox", "chrome": "Chrome", "chromium": "Chromium", "brave": "Brave", "edge": "Edge"}

# User-data folders of the Chromium family, per OS.
_CHROMIUM_MAC = {
    "chrome": "Google/Chrome",
    "chromium": "Chromium",
    "brave": "BraveSoftware/Brave-Browser",
    "edge": "Microsoft Edge",
}
_CHROMIUM_WINDOWS = {
    "chrome": "Google/Chrome/User Data",
    "chromium": "Chromium/User Data",
    "brave": "BraveSoftware/Brave-Browser/User Data",
    "edge": "Microsoft/Edge/User Data",
}
_CHROMIUM_LINUX = {
    "chrome": "google-chrome",
    "chromium": "chromium",
    "brave": "BraveSoftware/Brave-Browser",
    "edge": "microsoft-edge",
}
_CHROMIUM_LINUX_SANDBOXED = {  # Flatpak and Snap builds keep their own folders under HOME
    "chrome": (".var/app/com.google.Chrome/config/google-chrome",),
    "chromium": (".var/app/org.chromium.Chromium/config/chromium", "snap/chromium/common/chromium"),
    "brave": (".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser",),
    "edge": (".var/app/com.microsoft.Edge/config/microsoft-edge",),
}


@dataclass(frozen=True)
class CookieStore:
    """One cookie database to read. browser is None for a cookie file of a kind still unknown."""

    browser: str | None
    path: Path
    profile: str
    key_file: Path | None = None  # Chromium's "Local State"; browser-cookie3 needs it on Windows only

    @property
    def label(self) -> str:
        return self.browser or "cookie file"


# ------------------------------------------------------------------------------------ where to look


def locate(
    names: tuple[str, ...],
    home: Path,
    platform: str,
    env: Mapping[str, str],
    profile: Path | None,
    cookie_file: Path | None,
) -> tuple[list[CookieStore], list[str]]:
    """The stores to read, and a line for each explicitly chosen browser that has none here."""
    single = LABELS[names[0]] if len(names) == 1 else None
    if cookie_file is not None:
        return [CookieStore(single, cookie_file, str(cookie_file))], []
    if profile is not None:
        return _stores_in_folder(profile, names)
    stores: list[CookieStore] = []
    problems: list[str] = []
    for name in names:
        if name == "firefox":
            found, trouble = _firefox_stores(_firefox_roots(home, platform, env))
            problems += trouble
        else:
            found = _chromium_stores(name, _chromium_user_data(name, home, platform, env))
        if not found and single is not None and not problems:
            problems.append(
                f"{single}: no profile found in the usual places; set web.profile or web.cookie_file"
            )
        stores += found
    if not stores and not problems:
        problems.append("no Firefox, Chrome, Chromium, Brave or Edge profile found in the usual places")
    return stores, problems


def _env_path(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name, "")
    return Path(value) if value and Path(value).is_absolute() else default


def _firefox_roots(home: Path, platform: str, env: Mapping[str, str]) -> list[Path]:
    """Folders that hold Firefox's profiles.ini, most common first."""
    if platform == "darwin":
        return [home / "Library" / "Application Support" / "Firefox"]
    if platform == "win32":
        appdata = _env_path(env, "APPDATA", home / "AppData" / "Roaming")
        local = _env_path(env, "LOCALAPPDATA", home / "AppData" / "Local")
        store_app = local / "Packages" / "Mozilla.Firefox_n80bbvh6b1yt2" / "LocalCache" / "Roaming"
        return [appdata / "Mozilla" / "Firefox", store_app / "Mozilla" / "Firefox"]
    config = _env_path(env, "XDG_CONFIG_HOME", home / ".config")
    return [
        home / ".mozilla" / "firefox",
        config / "mozilla" / "firefox",  # where newer Firefox releases follow XDG_CONFIG_HOME
        home / "snap" / "firefox" / "common" / ".mozilla" / "firefox",
        home / ".var" / "app" / "org.mozilla.firefox" / ".mozilla" / "firefox",
    ]


def _firefox_stores(roots: list[Path]) -> tuple[list[CookieStore], list[str]]:
    """The default profile's cookies.sqlite under each root that exists (a deb and a snap may both)."""
    stores: list[CookieStore] = []
    problems: list[str] = []
    for root in roots:
        ini = root / "profiles.ini"
        if not ini.is_file():
            continue
        try:
            folder = _default_firefox_profile(ini)
        except (OSError, UnicodeDecodeError, configparser.Error):
            problems.append(f"Firefox: cannot read {ini}")
            continue
        if folder is not None and (folder / "cookies.sqlite").is_file():
            stores.append(CookieStore("Firefox", folder / "cookies.sqlite", str(folder)))
    return stores, problems


def _default_firefox_profile(ini: Path) -> Path | None:
    """profiles.ini: the first [Install...] Default= (Firefox 67+), else the profile with Default=1."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(ini.read_text(encoding="utf-8"))
    profiles = [parser[name] for name in parser.sections() if name.startswith("Profile")]
    chosen = next(
        (
            parser[name]["Default"]
            for name in parser.sections()
            if name.startswith("Install") and parser[name].get("Default")
        ),
        None,
    )
    if chosen is None:
        chosen = next((section.get("Path") for section in profiles if section.get("Default") == "1"), None)
    if chosen is None and len(profiles) == 1:
        chosen = profiles[0].get("Path")
    if not chosen:
        return None
    # [Install...] sections name the path only; whether it is relative is on the profile's own section.
    relative = next(
        (section.get("IsRelative", "1") != "0" for section in profiles if section.get("Path") == chosen),
        not Path(chosen).is_absolute(),
    )
    return ini.parent / chosen if relative else Path(chosen)


def _chromium_user_data(name: str, home: Path, platform: str, env: Mapping[str, str]) -> list[Path]:
    if platform == "darwin":
        return [home / "Library" / "Application Support" / _CHROMIUM_MAC[name]]
    if platform == "win32":
        return [_env_path(env, "LOCALAPPDATA", home / "AppData" / "Local") / _CHROMIUM_WINDOWS[name]]
    config = _env_path(env, "XDG_CONFIG_HOME", home / ".config")
    return [config / _CHROMIUM_LINUX[name], *(home / path for path in _CHROMIUM_LINUX_SANDBOXED[name])]


def _chromium_stores(name: str, user_data_folders: list[Path]) -> list[CookieStore]:
    stores = []
    for user_data in user_data_folders:
        found = _chromium_profile(user_data)
        if found is not None:
            folder, cookies = found
            local_state = user_data / "Local State"
            key_file = local_state if local_state.is_file() else None
            stores.append(CookieStore(LABELS[name], cookies, str(folder), key_file))
    return stores


def _chromium_profile(user_data: Path) -> tuple[Path, Path] | None:
    """The profile the browser opens with (Local State's last_used), else Default, else Profile N."""
    if not user_data.is_dir():
        return None
    names = [_last_used_profile(user_data / "Local State"), "Default"]
    names += sorted(folder.name for folder in user_data.glob("Profile *"))
    for profile_name in names:
        if profile_name:
            cookies = _chromium_cookie_file(user_data / profile_name)
            if cookies is not None:
                return user_data / profile_name, cookies
    return None


def _last_used_profile(local_state: Path) -> str | None:
    try:
        name = json.loads(local_state.read_text(encoding="utf-8"))["profile"]["last_used"]
    except (OSError, ValueError, LookupError, TypeError):
        return None
    # A plain folder name only: Local State is not allowed to point the search elsewhere.
    return name if isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name else None


def _chromium_cookie_file(folder: Path) -> Path | None:
    # Chrome 96+ on Windows moved the database into Network/; the old place is kept for the others.
    for candidate in (folder / "Network" / "Cookies", folder / "Cookies"):
        if candidate.is_file():
            return candidate
    return None


def _stores_in_folder(folder: Path, names: tuple[str, ...]) -> tuple[list[CookieStore], list[str]]:
    """An explicit profile folder (or Firefox's folder holding profiles.ini) of the chosen browser."""
    if "firefox" in names:
        if (folder / "profiles.ini").is_file():
            stores, problems = _firefox_stores([folder])
            if stores or problems:
                return stores, problems
        if (folder / "cookies.sqlite").is_file():
            return [CookieStore("Firefox", folder / "cookies.sqlite", str(folder))], []
    chromium = [name for name in names if name != "firefox"]
    cookies = _chromium_cookie_file(folder) if chromium else None
    if cookies is not None:
        local_state = folder.parent / "Local State"
        key_file = local_state if local_state.is_file() else None
        return [CookieStore(LABELS[chromium[0]], cookies, str(folder), key_file)], []
    who = LABELS[names[0]] if len(names) == 1 else "web.profile"
    return [], [f"{who}: no cookie database in {folder}"]


# ------------------------------------------------------------------------------------ reading one
