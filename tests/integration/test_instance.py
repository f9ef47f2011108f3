"""One tray per user: a second `run` exits with a message; a crashed run's lock is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tray_app.instance import AlreadyRunning, InstanceLock

# msvcrt locks the byte that holds the PID, so on Windows another handle cannot read it while held
# (these tests read it), and os.pread, which reads it back for the message, does not exist there.
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="reads the PID from a held msvcrt lock")

HOLDER = """
import sys, time
from pathlib import Path
from tray_app.instance import InstanceLock
lock = InstanceLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def hold_lock_in_another_process(folder: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_second_instance_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    holder = hold_lock_in_another_process(tmp_path)
    try:
        with pytest.raises(AlreadyRunning) as caught:
            InstanceLock(tmp_path).acquire()
        assert caught.value.pid == holder.pid
        assert f"already running (PID {holder.pid})" in str(caught.value)
    finally:
        holder.kill()
        holder.wait()


def test_a_crashed_instance_leaves_no_lock(tmp_path: Path) -> None:
    holder = hold_lock_in_another_process(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (tmp_path / "tray.lock").exists()  # the file stays behind...
    with InstanceLock(tmp_path):  # ...but the lock died with the process
        assert (tmp_path / "tray.lock").read_text().strip() == str(os.getpid())


def test_release_lets_the_next_one_in(tmp_path: Path) -> None:
    first = InstanceLock(tmp_path)
    first.acquire()
    first.release()
    with InstanceLock(tmp_path) as second:
        assert second.path.read_text().strip() == str(os.getpid())
    assert (tmp_path / "tray.lock").stat().st_mode & 0o077 == 0
