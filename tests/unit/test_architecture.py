"""The house rules of architecture.md and the README's "Architecture", read from the code itself.

Each rule is a function from (module path, source) to the violations it finds; the tests run every rule
over every module of tray_app, and run each rule over a planted violation to show it can fail.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tray_app"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

# module prefix -> the only places (folder or file under tray_app/) allowed to import it
CONFINED = {
    "requests": ("sources/",),
    # Our history is the store's alone; browser_cookies.py reads the browser's own cookie database.
    "sqlite3": ("store/", "sources/browser_cookies.py"),
    "pystray": ("ui/",),
    "PIL": ("ui/",),
    "plyer": ("ui/notify.py",),
    "browser_cookie3": ("sources/browser_cookies.py",),
    # The details window is the only Tk code, in a process of its own.
    "tkinter": ("details/",),
}

# Layer -> our packages it must not import.
FORBIDDEN_LAYERS = {
    "ui/": ("tray_app.store", "tray_app.sources", "tray_app.monitors", "tray_app.wiring", "tray_app.poller"),
    "monitors/": ("tray_app.ui", "tray_app.wiring", "tray_app.app"),
    "sources/": ("tray_app.ui", "tray_app.store", "tray_app.monitors", "tray_app.wiring"),
    "store/": ("tray_app.ui", "tray_app.sources", "tray_app.monitors", "tray_app.wiring"),
    # It draws what the `details` command hands it: no database, network or wiring of its own.
    "details/": (
        "tray_app.store",
        "tray_app.sources",
        "tray_app.monitors",
        "tray_app.wiring",
        "tray_app.poller",
    ),
}

# Adapters: things that touch the outside (files, network, toolkit, threads). Only the wiring builds them.
ADAPTERS = {
    "Store",
    "HttpClient",
    "ClaudeCredentialStore",
    "CodeApi",
    "TokenEndpoint",
    "ConsoleApi",
    "ClaudeWebClient",
    "CodeMonitor",
    "ConsoleMonitor",
    "WebMonitor",
    "WebUsageMonitor",
    "Tray",
    "IconRenderer",
    "NotificationQueue",
    "Autostart",
    "Poller",
    "AlertCenter",
    "NotificationSwitch",
    "WebSwitch",
}
# Where an adapter may be built besides the wiring: its own module (a classmethod such as Store.open),
# and the demo, which is a simulated outside world of its own.
ADAPTER_BUILDERS = ("wiring/", "demo/", "demo_mode.py")

CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("time", "time"), ("date", "today")}
# The demo servers keep their own (virtual) clock; they are the outside world, not the program.
CLOCK_EXEMPT = ("clock.py", "demo/", "demo_mode.py")


def imports_of(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def confined_libraries(relative: str, tree: ast.AST) -> list[str]:
    found = []
    for name in imports_of(tree):
        allowed = CONFINED.get(name.split(".")[0])
        if allowed is not None and not relative.startswith(allowed):
            found.append(f"{relative} imports {name}; only {allowed} may")
    return found


def pure_core(relative: str, tree: ast.AST) -> list[str]:
    if not relative.startswith("core/"):
        return []
    found = []
    for name in imports_of(tree):
        top = name.split(".")[0]
        ours_outside_core = top == "tray_app" and not name.startswith("tray_app.core")
        if (top not in sys.stdlib_module_names and top != "tray_app") or ours_outside_core:
            found.append(f"{relative} imports {name}: core imports only the standard library and core")
        if top in {"socket", "subprocess", "threading", "sqlite3", "os", "time"}:
            found.append(f"{relative} imports {name}: core does no I/O, threads or clock")
    return found


def layers(relative: str, tree: ast.AST) -> list[str]:
    found = []
    for layer, forbidden in FORBIDDEN_LAYERS.items():
        if relative.startswith(layer):
            found += [
                f"{relative} imports {name}: {layer} must not"
                for name in imports_of(tree)
                if name.startswith(forbidden)
            ]
    return found


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        # Store.open(...), Store.open_readonly(...): a classmethod that builds the adapter
        return func.value.id if func.attr.startswith("open") else None
    return None


def adapters_built_in_wiring(relative: str, tree: ast.AST) -> list[str]:
    if relative.startswith(ADAPTER_BUILDERS):
        return []
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    return [
        f"{relative}:{node.lineno} builds {name}; only tray_app/wiring builds adapters"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (name := _called_name(node)) in ADAPTERS
        and name not in defined  # a class may make another of itself (Store.open)
    ]


def clock_only_in_clock_module(relative: str, tree: ast.AST) -> list[str]:
    if relative.startswith(CLOCK_EXEMPT):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in CLOCK_CALLS:
                found.append(f"{relative}:{node.lineno} calls {owner.id}.{node.func.attr}; use the Clock")
    return found


def exit_only_in_entry_points(relative: str, tree: ast.AST) -> list[str]:
    if relative in ("cli.py", "__main__.py") or relative.endswith("/__main__.py"):
        return []
    return [
        f"{relative}:{node.lineno} calls sys.exit; only the entry points may"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "exit"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    ]


def sizes(relative: str, tree: ast.AST, lines: int) -> list[str]:
    found = [f"{relative} has {lines} lines (at most {MAX_MODULE_LINES})"] if lines > MAX_MODULE_LINES else []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{relative}:{node.lineno} {node.name}() has {length} lines")
    return found


RULES: dict[str, Callable[[str, ast.AST], list[str]]] = {
    "confined libraries": confined_libraries,
    "pure core": pure_core,
    "layers": layers,
    "adapters built in wiring": adapters_built_in_wiring,
    "clock only in clock module": clock_only_in_clock_module,
    "sys.exit only in entry points": exit_only_in_entry_points,
}


def check(relative: str, source: str) -> list[str]:
    tree = ast.parse(source, relative)
    found = [problem for rule in RULES.values() for problem in rule(relative, tree)]
    return found + sizes(relative, tree, len(source.splitlines()))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_keeps_the_house_rules(path: Path) -> None:
    assert check(path.relative_to(PACKAGE).as_posix(), path.read_text()) == []


PLANTED = [
    ("confined libraries", "ui/menu.py", "import requests\n"),
    ("confined libraries", "monitors/code.py", "import sqlite3\n"),
    ("pure core", "core/view.py", "from tray_app.store import Store\n"),
    ("pure core", "core/view.py", "import time\n"),
    ("pure core", "core/view.py", "import requests\n"),
    ("layers", "ui/menu.py", "from tray_app.store import Store\n"),
    ("layers", "ui/tray.py", "from tray_app.monitors.code import CodeMonitor\n"),
    ("layers", "ui/icon.py", "import tray_app.sources.http\n"),
    ("layers", "details/window.py", "from tray_app.store import Store\n"),
    ("confined libraries", "ui/tray.py", "import tkinter\n"),
    ("adapters built in wiring", "app.py", "store = Store.open(path)\n"),
    ("adapters built in wiring", "commands/status.py", "http = HttpClient(5)\n"),
    ("clock only in clock module", "monitors/code.py", "now = datetime.now(UTC)\n"),
    ("clock only in clock module", "sources/credentials.py", "age = time.time() - mtime\n"),
    ("sys.exit only in entry points", "app.py", "sys.exit(1)\n"),
]


@pytest.mark.parametrize(("rule", "relative", "source"), PLANTED, ids=lambda v: str(v)[:30])
def test_each_rule_catches_a_planted_violation(rule: str, relative: str, source: str) -> None:
    assert RULES[rule](relative, ast.parse(source)), f"{rule} did not see: {source!r}"


def test_the_size_rules_catch_a_long_module_and_a_long_function() -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(MAX_FUNCTION_LINES))
    long_function = f"def f() -> None:\n{body}"
    assert sizes("app.py", ast.parse(long_function), 61) == ["app.py:1 f() has 61 lines"]
    assert sizes("app.py", ast.parse("x = 1\n"), 501) == ["app.py has 501 lines (at most 500)"]


def test_the_right_places_are_left_alone() -> None:
    assert check("wiring/app.py", "store = Store.open(path)\nhttp = HttpClient(5)\n") == []
    assert check("clock.py", "import time\nnow = time.time()\n") == []
    assert check("cli.py", "import sys\nsys.exit(2)\n") == []
