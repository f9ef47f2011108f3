"""Shared by the benchmarks: a test account pointed at the loopback servers, and /proc readings.

The benchmarks run the real program against tray_app.demo.DemoServer. Where the program runs as its own
process, the server lives in the benchmark's, so the program's CPU time and memory are its own; where
it runs in the benchmark's process (benchmarks.polling), only the polling thread's CPU time is counted.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tray_app.config import ENV_API_BASE, ENV_CLAUDE_CONFIG_DIR, ENV_TOKEN_URL, ENV_WEB_BASE
from tray_app.demo import PROFILE_PATH, TOKEN_PATH, USAGE_PATH, WEB_ORGANIZATIONS_PATH, DemoServer
from tray_app.demo.grants import GRANTS_QUERY, queue_key
from tray_app.paths import ENV_HOME
from tray_app.sources.admin_key import ENV_ADMIN_KEY

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Everything a user can switch on: Code mode, Console mode (an admin key) and the claude.ai session,
# so every poller and every API is exercised. All other settings keep their defaults.
CONFIG_TOML = f"""\
[web]
enabled = true
session_key = "{DemoServer.DEMO_SESSION_KEY}"
"""


# Each API by how its paths on the demo server begin.
APIS: dict[str, str] = {
    "Code usage (/api/oauth/usage)": USAGE_PATH,
    # The hourly free-resets check asks the same path with a query of its own (tray_app.demo.grants).
    "Code free resets (usage?cedar_ember=1)": USAGE_PATH + GRANTS_QUERY,
    "Code profile (/api/oauth/profile)": PROFILE_PATH,
    "OAuth token refresh": TOKEN_PATH,
    "Admin API (/v1/organizations/...)": "/v1/organizations",
    "claude.ai (/api/organizations/...)": WEB_ORGANIZATIONS_PATH,
}


def request_name(path: str, query: str) -> str:
    """What per_api counts a request by: its path, with the free-resets query when it has it."""
    return queue_key(path, query)


def per_api(names: Sequence[str]) -> dict[str, int]:
    """Requests (named by request_name) per API, each counted once, under the longest prefix it has."""
    counts = dict.fromkeys(APIS, 0)
    for name in names:
        found = [(len(prefix), api) for api, prefix in APIS.items() if name.startswith(prefix)]
        if found:
            counts[max(found)[1]] += 1
    return counts


def machine_line() -> str:
    """What the figures were measured on, and which code: they mean little without it."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    except OSError:
        names = []  # not Linux: icon_render and history_queries run anywhere
    if names:
        cpu = names[0]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), load average {load}, Python {sys.version.split()[0]}, "
        f"code {_code_version()}"
    )


def _code_version() -> str:
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "tray_app")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    changed = len(dirty.splitlines())
    return commit + (f" + uncommitted changes in {changed} tray_app files" if changed else "")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, check=True, capture_output=True, text=True, timeout=10
    ).stdout.strip()


def write_account(home: Path) -> None:
    """A Claude Code login that outlives any run, and a config file switching claude.ai on."""
    claude = home / "claude"
    claude.mkdir(mode=0o700, parents=True)
    login = {
        "claudeAiOauth": {
            "accessToken": DemoServer.DEMO_ACCESS_TOKEN,
            "refreshToken": DemoServer.DEMO_REFRESH_TOKEN,
            "expiresAt": int((time.time() + 365 * 86400) * 1000),
            "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
            "subscriptionType": "max",
            "rateLimitTier": "default_claude_max_5x",
        }
    }
    (claude / ".credentials.json").write_text(json.dumps(login))
    app = home / "app"
    app.mkdir(mode=0o700)
    (app / "config.toml").write_text(CONFIG_TOML)


def with_bytecode(env: Mapping[str, str], folder: Path) -> dict[str, str]:
    """env for a child that keeps compiled bytecode between runs, in `folder`, as an installed program does.

    pip compiles a package when it installs it; a checkout run with PYTHONDONTWRITEBYTECODE (as some
    CI and sandbox shells set) would compile every module again on every start and time that instead.
    The cache goes to `folder` rather than into the shared checkout.
    """
    child = {name: value for name, value in env.items() if name != "PYTHONDONTWRITEBYTECODE"}
    child["PYTHONPYCACHEPREFIX"] = str(folder)
    return child


def warm_display(env: Mapping[str, str]) -> None:
    """Start GTK once on the display, as any desktop session has long before a tray starts.

    The first GTK 3 program on an X display loads Mesa's GL (libLLVM, about 55 MiB) to choose its
    visuals and leaves the answer on the root window (GDK_VISUALS); every later one reads that instead.
    A fresh Xvfb has no such answer yet: without this the program measured next would pay for it.
    """
    code = "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk"
    subprocess.run([sys.executable, "-c", code], env=dict(env), check=True, timeout=60)


def account_env(home: Path, server: DemoServer) -> dict[str, str]:
    """The variables that point the program at `home` (see write_account) and at `server`."""
    return {
        "HOME": str(home),
        ENV_HOME: str(home / "app"),
        ENV_CLAUDE_CONFIG_DIR: str(home / "claude"),
        ENV_API_BASE: server.base_url,
        ENV_WEB_BASE: server.base_url,
        ENV_TOKEN_URL: server.token_url,
        ENV_ADMIN_KEY: DemoServer.DEMO_ADMIN_KEY,
    }


@dataclass(frozen=True)
class ProcSample:
    """One reading of a running process from /proc."""

    at: float  # time.time()
    cpu: float  # user + system seconds, all threads, since start
    main_cpu: float  # the same for the main thread alone: the toolkit's loop, which redraws
    rss: float  # MiB resident, shared libraries included
    uss: float  # MiB resident and private to this process (what quitting it would free)
    switches: Mapping[int, int]  # thread id -> voluntary context switches: each ends a wake-up
    threads: int
    fds: int


def wakeups(before: ProcSample, after: ProcSample) -> int:
    """Wake-ups between two readings, thread by thread (a thread that ended takes its count along)."""
    return sum(count - before.switches.get(tid, 0) for tid, count in after.switches.items())


def sample(pid: int) -> ProcSample:
    at = time.time()
    cpu = _cpu_seconds(Path(f"/proc/{pid}/stat"))
    main_cpu = _cpu_seconds(Path(f"/proc/{pid}/task/{pid}/stat"))
    rollup = _fields(Path(f"/proc/{pid}/smaps_rollup").read_text())
    switches = {}
    tasks = list(Path(f"/proc/{pid}/task").iterdir())
    for task in tasks:
        try:
            switches[int(task.name)] = _fields((task / "status").read_text())["voluntary_ctxt_switches"]
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended between listing and reading
    return ProcSample(
        at=at,
        cpu=cpu,
        main_cpu=main_cpu,
        rss=rollup["Rss"] / 1024,
        uss=(rollup["Private_Clean"] + rollup["Private_Dirty"]) / 1024,
        switches=switches,
        threads=len(tasks),
        fds=len(os.listdir(f"/proc/{pid}/fd")),
    )


def resident_by_mapping(pid: int) -> dict[str, tuple[float, float]]:
    """MiB resident (RSS, USS) per mapped file of a process, from /proc/<pid>/smaps.

    Mappings without a file are summed as "[anonymous]" (the Python heap and malloc's arenas live there);
    a file mapped several times (code, data, read-only parts) counts once, under its base name.
    """
    found: dict[str, list[int]] = {}
    current: list[int] = []
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if not head:
            continue
        if not head[0].endswith(":"):  # "start-end perms offset dev inode [path]"
            path = head[5] if len(head) == 6 else ""
            name = Path(path).name if path.startswith("/") else path or "[anonymous]"
            current = found.setdefault(name, [0, 0])
        elif head[0] == "Rss:":
            current[0] += int(head[1])
        elif head[0] in ("Private_Clean:", "Private_Dirty:"):
            current[1] += int(head[1])
    return {name: (rss / 1024, uss / 1024) for name, (rss, uss) in found.items()}


def _cpu_seconds(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _fields(text: str) -> dict[str, int]:
    """'Name:   123 kB' lines as {name: 123}; lines without a leading number are skipped."""
    found = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        words = rest.split()
        if words and words[0].isdigit():
            found[name.strip()] = int(words[0])
    return found
