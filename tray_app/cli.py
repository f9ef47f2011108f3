"""Command line: the parser, the one error boundary, and dispatch to tray_app.commands.

Everything is built by tray_app.wiring from an Environment and a Clock; this module only parses and
dispatches, and is the only place (with __main__) that ends the process.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from tray_app import __version__
from tray_app.clock import SYSTEM_CLOCK, Clock
from tray_app.commands import ExitCode
from tray_app.config import Settings
from tray_app.core.errors import ConfigError
from tray_app.environment import Environment
from tray_app.logsetup import configure_logging
from tray_app.statusline import add_arguments as statusline_arguments
from tray_app.statusline import as_argv as statusline_argv
from tray_app.wiring.app import App, open_app, settings_for

logger = logging.getLogger(__name__)

__all__ = ["ExitCode", "build_parser", "main"]

EPILOG = """\
exit codes:
  0  ok
  1  unexpected failure (see the log file)
  2  usage or configuration error
  3  login needed (run `claude auth login`)
  4  network or server failure (figures shown, if any, are the last stored ones)
  5  `run`: another tray is already running

environment:
  CLAUDE_USAGE_TRAY_HOME       one folder for config.toml, the database and the logs
  CLAUDE_USAGE_TRAY_API_BASE   API base URL instead of https://api.anthropic.com
  CLAUDE_USAGE_TRAY_TOKEN_URL  OAuth token endpoint
  CLAUDE_CONFIG_DIR            Claude Code's own folder, as Claude Code reads it
"""

DEFAULT_DEMO_SPEED = 60.0


def _common_options(top_level: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command. Only the top level sets their defaults,
    so `--demo status` and `status --demo` mean the same."""
    common = argparse.ArgumentParser(add_help=False)
    default = False if top_level else argparse.SUPPRESS
    common.add_argument(
        "--demo",
        action="store_true",
        default=default,
        help="use built-in simulated servers and a throw-away login",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log everything to stderr too"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options(top_level=False)
    parser = argparse.ArgumentParser(
        prog="claude-usage-tray",
        description="Claude Code usage limits (and, later, API spend) from the server's own figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", parents=[common], help="the tray icon (the default command)")
    run.add_argument(
        "--demo-speed",
        type=_positive_speed,
        default=DEFAULT_DEMO_SPEED,
        help=f"with --demo: how much faster than real time the account moves ({DEFAULT_DEMO_SPEED:g})",
    )
    status = commands.add_parser("status", parents=[common], help="poll once now and print the figures")
    status.add_argument("--json", action="store_true", help="print the stable JSON document instead of text")
    status.add_argument("--offline", action="store_true", help="read only the database; no network")
    commands.add_parser(
        "doctor", parents=[common], help="show where everything comes from and what is reachable"
    )
    statusline = commands.add_parser(
        "statusline", help="one short line for Claude Code's status line, from the database only"
    )
    statusline_arguments(statusline)  # the same options as `statusline` answered by tray_app.entry
    autostart = commands.add_parser("autostart", help="start the tray at login: on, off or status")
    autostart.add_argument("switch", choices=("on", "off", "status"))
    commands.add_parser("watch", parents=[common], help="a live terminal dashboard (needs the tui extra)")
    commands.add_parser("details", parents=[common], help="the details window: cards, spend and the chart")
    history = commands.add_parser("history", parents=[common], help="print the stored history, or draw it")
    history.add_argument(
        "--since", default="24h", type=_duration, help="how far back: 30m, 24h, 7d, 2w (default 24h)"
    )
    history.add_argument(
        "--format",
        dest="output",
        choices=("text", "csv", "json"),
        help="export format (csv by default; text, the default, only with --limits)",
    )
    history.add_argument(
        "--limits", action="store_true", help="list the times a limit was hit (at 100 %% or locked) instead"
    )
    history.add_argument(
        "--chart", type=Path, metavar="OUT.png", help="draw the history chart to this PNG instead"
    )
    history.add_argument("--theme", choices=("light", "dark"), default="light", help="the chart's colours")
    return parser


_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(text: str) -> timedelta:
    number, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 24h, 7d or 2w")
    return timedelta(seconds=int(number) * _UNITS[unit])


def _positive_speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < speed <= 3600:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600, got {text}")
    return speed


def main(
    argv: Sequence[str] | None = None, env: Environment | None = None, clock: Clock | None = None
) -> int:
    """Run one command; env and clock are the process's own unless given (tests pass their own)."""
    env = env or Environment.from_process()
    clock = clock or SYSTEM_CLOCK
    # Everything we create (database, logs, refreshed credentials) is for the owner's eyes only.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    if command == "autostart":
        from tray_app.commands import autostart

        return autostart.run(args.switch, env)
    if command == "statusline":
        from tray_app.statusline import main as statusline

        return statusline(statusline_argv(args), env, clock)
    if command == "details" and not env.has_display:
        from tray_app.commands.details import NO_DISPLAY

        _say(env, NO_DISPLAY)
        return ExitCode.USAGE
    try:
        settings = settings_for(command, env)
    except ConfigError as exc:
        _say(env, str(exc))
        return ExitCode.USAGE
    configure_logging(settings.paths.log_dir, args.verbose)
    _warn_about(settings, env)
    return _run_wired(command, args, settings, env, clock)


def _warn_about(settings: Settings, env: Environment) -> None:
    if settings.file_problem:
        logger.warning("%s", settings.file_problem)
        _say(env, f"warning: {settings.file_problem}")
    for warning in settings.warnings:
        _say(env, f"warning: {warning}")


def _run_wired(
    command: str, args: argparse.Namespace, settings: Settings, env: Environment, clock: Clock
) -> int:
    """The error boundary: whatever a command raises ends here, logged, as one line on stderr."""
    speed = getattr(args, "demo_speed", DEFAULT_DEMO_SPEED) if command == "run" else 1.0
    try:
        with open_app(settings, env, clock, demo=args.demo, demo_speed=speed) as app:
            code = _dispatch(command, app, env, clock, args)
            if app.store.problem and command != "doctor":
                # The figures above are real; only their saving failed. Say so once, on stderr.
                _say(env, f"warning: {app.store.problem}")
            return code
    except ConfigError as exc:
        _say(env, str(exc))
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return ExitCode.FAILURE
    except Exception:
        logger.exception("unexpected failure")
        _say(env, "unexpected failure; details are in the log file")
        return ExitCode.FAILURE


def _dispatch(command: str, app: App, env: Environment, clock: Clock, args: argparse.Namespace) -> int:
    # Each command's module is imported when it runs: `status` need not load the dashboard or the tray.
    if command == "doctor":
        from tray_app.commands import doctor

        return doctor.run(app, env, clock)
    if command == "run":
        from tray_app.commands import run

        return run.run(app, env, clock)
    if command == "watch":
        from tray_app.commands import watch

        return watch.run(app, env, clock)
    if command == "details":
        from tray_app.commands import details

        return details.run(app, env, clock)
    if command == "history":
        from tray_app.commands import history

        return history.run(
            app,
            env,
            clock,
            since=args.since,
            output=args.output,
            chart=args.chart,
            theme=args.theme,
            limits=args.limits,
        )
    from tray_app.commands import status

    as_json, offline = getattr(args, "json", False), getattr(args, "offline", False)
    return status.run(app, env, clock, as_json=as_json, offline=offline)


def _say(env: Environment, message: str) -> None:
    print(f"claude-usage-tray: {message}", file=env.stderr)


if __name__ == "__main__":
    sys.exit(main())
