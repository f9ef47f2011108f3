"""`claude-usage-tray statusline`: the database only, no network, fast enough for every prompt.

Imports stay light on purpose (no requests, no pystray): this runs whenever Claude Code draws its line.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TextIO

from tray_app.clock import Clock
from tray_app.core.errors import ConfigError
from tray_app.core.models import FIVE_HOUR, CodeReport, Status
from tray_app.core.report import build_code_report
from tray_app.core.statusline import check_template, render_statusline, statusline_fields
from tray_app.environment import Environment
from tray_app.store import Store
from tray_app.wiring.statusline import open_history


def _claude_code_percent(stdin: TextIO) -> float | None:
    """Claude Code pipes a JSON document to status-line commands; newer versions carry the 5-hour figure."""
    if stdin.isatty():
        return None
    try:
        document = json.loads(stdin.read() or "null")
    except (ValueError, OSError):
        return None
    limits = document.get("rate_limits") if isinstance(document, dict) else None
    five = limits.get("five_hour") if isinstance(limits, dict) else None
    value = five.get("used_percentage") if isinstance(five, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _report(store: Store, now: datetime) -> CodeReport | None:
    stored = store.last_code_usage()
    if stored is None:
        return None
    histories = {FIVE_HOUR: store.window_history(FIVE_HOUR, stored[0] - timedelta(hours=24))}
    return build_code_report(Status.OK, None, None, stored, histories)


def main(argv: Sequence[str], env: Environment, clock: Clock) -> int:
    parser = argparse.ArgumentParser(prog="claude-usage-tray statusline", description=__doc__.splitlines()[0])
    parser.add_argument("--format", dest="template", help="a template with {five_hour}, {weekly}, {mtd}, ...")
    args = parser.parse_args(argv)
    now = clock.now()
    try:
        if args.template is not None:
            check_template(args.template)  # a typo is reported before any work
    except ConfigError as exc:
        print(f"claude-usage-tray: {exc}", file=env.stderr)
        return 2
    report, mtd = None, None
    with open_history(env) as store:
        if store is not None:
            report = _report(store, now)
            month = f"{now:%Y-%m}"
            rows = [row for row in store.console_rows(now - timedelta(days=1)) if row[1] == month]
            mtd = rows[-1][2] if rows else None
    fields = statusline_fields(report, mtd, "USD", now, _claude_code_percent(env.stdin))
    print(render_statusline(fields, args.template), file=env.stdout)
    return 0
