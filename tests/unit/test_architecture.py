"""The house rules of architecture.md, read from the imports themselves."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tray_app"

# module prefix -> the only place (folder or file under tray_app/) allowed to import it
CONFINED = {
    "requests": ("sources/",),
    # Our history is the store's alone; web_api.py reads the browser's own cookie database.
    "sqlite3": ("store/", "sources/web_api.py"),
    "pystray": ("ui/",),
    "PIL": ("ui/",),
    "plyer": ("ui/notify.py",),
    "browser_cookie3": ("sources/web_api.py",),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_outside_libraries_stay_in_their_adapter(path: Path) -> None:
    relative = path.relative_to(PACKAGE).as_posix()
    for name in imports_of(path):
        top = name.split(".")[0]
        allowed = CONFINED.get(top)
        if allowed is not None:
            assert relative.startswith(allowed), f"{relative} imports {name}; only {allowed} may"


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").rglob("*.py")), ids=lambda p: p.name)
def test_core_is_pure(path: Path) -> None:
    for name in imports_of(path):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name.startswith("tray_app.core"), (
            f"{path.name} imports {name}"
        )
        assert top not in {"socket", "subprocess", "threading", "sqlite3", "os", "time"}, (
            f"{path.name} imports {name}"
        )


def test_sys_exit_only_in_the_cli() -> None:
    for path in MODULES:
        if path.name in ("cli.py", "__main__.py"):  # the two entry points
            continue
        assert "sys.exit" not in path.read_text(), path
