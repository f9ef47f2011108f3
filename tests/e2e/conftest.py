"""Fixtures for end-to-end tests: a private headless desktop and the processes a test starts on it."""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from .desktop import ChildProcesses, Desktop, MissingDependency

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: end-to-end test on a private Xvfb desktop (deselect: -m 'not e2e')"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, object]:
    # Remember whether the test body failed, so that fixtures can save evidence at teardown.
    report = yield
    if getattr(report, "when", None) == "call":
        item.stash[_FAILED] = bool(getattr(report, "failed", False))
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    """Xvfb + session bus + dunst + trayer, shared by the tests of one module (about 0.5 s to start).

    Fails (never skips) when a program is missing, so that CI cannot go silently green.
    """
    if not sys.platform.startswith("linux"):
        pytest.skip("the e2e desktop is Linux-only (Xvfb, trayer, dunst)")
    try:
        started = Desktop.start(tmp_path_factory.mktemp("desktop"))
    except MissingDependency as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:
        pytest.fail(missing, pytrace=False)
    with started:
        yield started


@pytest.fixture
def artifacts(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Where a test saves screenshots: $E2E_ARTIFACTS/<test name> if set (for CI uploads), else tmp_path."""
    root = os.environ.get("E2E_ARTIFACTS")
    if not root:
        return tmp_path
    folder: Path = Path(root) / str(request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def processes(desktop: Desktop, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ChildProcesses]:
    """Start programs on the desktop; all are ended by PID after the test (before the desktop goes).

    When the test failed, a screenshot and every log are saved next to the test's tmp_path.
    """
    children = ChildProcesses(desktop, tmp_path / "logs")
    try:
        yield children
    finally:
        if request.node.stash.get(_FAILED, False):
            _save_evidence(desktop, children, tmp_path)
        children.stop_all()


def _save_evidence(desktop: Desktop, children: ChildProcesses, tmp_path: Path) -> None:
    shot = tmp_path / "failure-screenshot.png"
    try:
        desktop.screenshot().save(shot)
    except Exception as exc:  # evidence is best effort; the test has already failed
        print(f"e2e: no screenshot: {exc!r}", file=sys.stderr)
    else:
        print(f"e2e: screenshot of the failure: {shot}", file=sys.stderr)
    for pid, text in children.logs():
        print(f"----- process {pid} -----\n{text[-4000:]}", file=sys.stderr)
    for name, text in desktop.logs().items():
        if text.strip():
            print(f"----- {name} -----\n{text[-2000:]}", file=sys.stderr)
