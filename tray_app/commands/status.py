"""`status`: poll once now (or read the database with --offline) and print the figures."""

from __future__ import annotations

import json
from datetime import datetime

from tray_app.clock import Clock
from tray_app.commands import ExitCode
from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport, Status
from tray_app.core.report import render_console_text, render_text, status_document
from tray_app.core.web_report import WebReport, web_lines, web_report_json
from tray_app.environment import Environment
from tray_app.wiring.app import App, poll_timing, sources_of

_STATUS_EXIT = {
    Status.OK: ExitCode.OK,
    Status.STALE: ExitCode.OK,
    Status.LOGIN_NEEDED: ExitCode.LOGIN_NEEDED,
    Status.RATE_LIMITED: ExitCode.NETWORK,
    Status.OFFLINE: ExitCode.NETWORK,
    Status.ERROR: ExitCode.NETWORK,
    Status.BLOCKED: ExitCode.NETWORK,
}


def run(app: App, env: Environment, clock: Clock, *, as_json: bool, offline: bool) -> ExitCode:
    stale_after = poll_timing(app).stale_after
    sources = sources_of(app)
    reports = sources.stored(stale_after) if offline else sources.ask_all()
    report, console, web = reports.code, reports.console, reports.web
    now = clock.now()
    if as_json:
        web_json = None if web is None else web_report_json(web)
        print(json.dumps(status_document(report, now, console, web_json), indent=2), file=env.stdout)
    else:
        if app.demo:
            print(
                "Demo mode: simulated account and servers, nothing real is read or sent.\n", file=env.stdout
            )
        print(_text(report, console, web, now, clock), end="", file=env.stdout)
    if offline:
        return ExitCode.OK
    codes = [_STATUS_EXIT[r.status] for r in (report, console) if r is not None]
    return next((code for code in codes if code != ExitCode.OK), ExitCode.OK)


def _text(
    report: CodeReport | None,
    console: ConsoleReport | None,
    web: WebReport | None,
    now: datetime,
    clock: Clock,
) -> str:
    parts = [] if report is None else [render_text(report, now, clock.local_tz())]
    if web is not None:
        lines = web_lines(web, show_overage=report is None or report.extra_usage is None)
        if lines:
            source = f"claude.ai session ({web.browser})" if web.browser else "claude.ai session"
            parts.append("\n".join([source, *lines]) + "\n")
    if console is not None:
        parts.append(render_console_text(console, now, clock.local_tz()))
    return "\n".join(parts)
