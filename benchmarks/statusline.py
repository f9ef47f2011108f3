"""Time `claude-usage-tray statusline` as Claude Code runs it: a fresh process per prompt, database only.

Run from the repository root: .venv/bin/python -m benchmarks.statusline [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tray_app.demo import DemoServer

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("claude-usage-tray")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, DemoServer("rising") as server:
        home = Path(scratch)
        claude = home / "claude"
        claude.mkdir()
        login = {"claudeAiOauth": {"accessToken": DemoServer.DEMO_ACCESS_TOKEN, "scopes": ["user:profile"]}}
        (claude / ".credentials.json").write_text(json.dumps(login))
        env = {
            **os.environ,
            "HOME": scratch,
            "CLAUDE_USAGE_TRAY_HOME": str(home / "app"),
            "CLAUDE_USAGE_TRAY_API_BASE": server.base_url,
            "CLAUDE_CONFIG_DIR": str(claude),
            "ANTHROPIC_ADMIN_API_KEY": DemoServer.DEMO_ADMIN_KEY,
        }
        subprocess.run([str(SCRIPT), "status"], env=env, check=True, capture_output=True)
        times = []
        line = ""
        for _ in range(args.runs):
            started = time.perf_counter()
            command = [str(SCRIPT), "statusline"]
            done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
            times.append((time.perf_counter() - started) * 1000)
            line = done.stdout.strip()
    print(f"statusline: {line}")
    print(
        f"start-up + query, fresh process: median {statistics.median(times):.0f} ms, "
        f"min {min(times):.0f} ms, max {max(times):.0f} ms over {len(times)} runs"
    )


if __name__ == "__main__":
    main()
