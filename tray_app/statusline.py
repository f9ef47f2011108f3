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
from tray_app.core.models import FIVE_HOUR, CodeReport, Source, Status, UsageWindow
from tray_app.core.readings import Reading, merge, parse_rate_limits
from tray_app.core.report import build_code_report
from tray_app.core.statusline import check_template, render_statusline, statusline_fields
from tray_app.environment import Environment
from tray_app.store import Store
from tray_app.store.readings import record_fed
from tray_app.wiring.statusline import open_history


def _read_stdin(stdin: TextIO) -> bytes:
    """What Claude Code piped to us, as bytes (a wrapped command must get them unchanged); nothing from a
    terminal, where reading would wait for the user."""
    try:
        if stdin.isatty():
            return b""
        buffer = getattr(stdin, "buffer", None)
        return buffer.read() if buffer is not None else stdin.read().encode("utf-8")
    except (OSError, ValueError):
        return b""


def _fed_windows(data: bytes, now: datetime) -> tuple[UsageWindow, ...]:
    """The limit windows in the JSON Claude Code pipes to status-line commands (none is not an error)."""
    try:
        document = json.loads(data or b"null")
    except (ValueError, RecursionError):
        return ()
    return parse_rate_limits(document, now)


def _report(store: Store, now: datetime, heard: Sequence[UsageWindow]) -> CodeReport | None:
    # What Claude Code passed just now counts even when it could not be stored (the file was busy).
    just_now = (Reading(window, now, Source.CLAUDE_CODE) for window in heard)
    stored, fed = store.last_code_usage(), merge(store.readings.fed(), just_now, now)
    if stored is None and not fed:
        return None
    since = (stored[0] if stored else now) - timedelta(hours=24)
    histories = {FIVE_HOUR: store.window_history(FIVE_HOUR, since)}
    return build_code_report(Status.OK, None, None, stored, histories, fed=fed, now=now)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options, shared with `tray_app.cli`'s statusline subparser so both spellings accept the same."""
    parser.add_argument("--format", dest="template", help="a template with {five_hour}, {weekly}, {mtd}, ...")
    setup = parser.add_mutually_exclusive_group()
    setup.add_argument(
        "--install", action="store_true", help="add this status line to Claude Code's user settings"
    )
    setup.add_argument("--uninstall", action="store_true", help="put back the status line that was there")
    setup.add_argument(
        "--then",
        metavar="COMMAND",
        help="run COMMAND (your own status line) with the same input, show its line",
    )


def as_argv(args: argparse.Namespace) -> list[str]:
    """The parsed options back as arguments for main (tray_app.cli parses first, then hands over)."""
    argv = [] if args.template is None else ["--format", args.template]
    argv += ["--install"] if args.install else ["--uninstall"] if args.uninstall else []
    return argv + ([] if args.then is None else ["--then", args.then])


def main(argv: Sequence[str], env: Environment, clock: Clock) -> int:
    parser = argparse.ArgumentParser(prog="claude-usage-tray statusline", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.install or args.uninstall:
        from tray_app import statusline_install  # only here: the plain path never edits settings

        return statusline_install.install(env) if args.install else statusline_install.uninstall(env)
    try:
        if args.template is not None:
            check_template(args.template)  # a typo is reported before any work
    except ConfigError as exc:
        print(f"claude-usage-tray: {exc}", file=env.stderr)
        return 2
    data = _read_stdin(env.stdin)
    now = clock.now()
    fed = _fed_windows(data, now)
    # Before either line is drawn, so ours shows them and the tray follows at once. Never waits more
    # than FEED_WAIT_MS on a busy file and never raises: the line is printed whatever happens here.
    record_fed(env.paths.database, fed, now)
    if args.then is not None:
        from tray_app.statusline_then import run_then

        finished = run_then(args.then, data)
        if finished is not None:
            _pass_through(env.stdout, finished.stdout)
            _pass_through(env.stderr, finished.stderr)
            return finished.code
        # Cut off: our own line below stands in for theirs for this render.
    print(_own_line(args.template, env, now, fed), file=env.stdout)
    return 0


def _pass_through(stream: TextIO, data: bytes) -> None:
    """Their bytes exactly as written (colours, no trailing newline, any encoding)."""
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", "replace"))


def _own_line(template: str | None, env: Environment, now: datetime, fed: tuple[UsageWindow, ...]) -> str:
    report, mtd = None, None
    with open_history(env) as store:
        if store is not None:
            report = _report(store, now, fed)
            month = f"{now:%Y-%m}"
            rows = [row for row in store.console_rows(now - timedelta(days=1)) if row[1] == month]
            mtd = rows[-1][2] if rows else None
    five_hour = next((window.utilization for window in fed if window.id == FIVE_HOUR), None)
    fields = statusline_fields(report, mtd, "USD", now, five_hour)
    return render_statusline(fields, template)
