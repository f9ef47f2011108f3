"""`history`: the stored figures as CSV or JSON, or drawn as a chart."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from tray_app.clock import Clock
from tray_app.commands import ExitCode
from tray_app.core.history import history_csv, history_json
from tray_app.core.limit_export import limit_hits_csv, limit_hits_json, limit_hits_text
from tray_app.environment import Environment
from tray_app.wiring.app import App


def run(
    app: App,
    env: Environment,
    clock: Clock,
    *,
    since: timedelta,
    output: str | None,
    chart: Path | None,
    theme: str,
    limits: bool = False,
) -> ExitCode:
    now = clock.now()
    if chart is not None:
        return _chart(app, env, clock, now, since, chart, theme)
    start = now - since
    if limits:
        return _limits(app, env, clock, now, start, output or "text")
    if output == "text":
        print("claude-usage-tray: --format text is for --limits; the history is csv or json", file=env.stderr)
        return ExitCode.USAGE
    windows = app.store.window_rows(start)
    console = app.store.console_rows(start)
    if output == "json":
        print(json.dumps(history_json(windows, console, start), indent=2), file=env.stdout)
    else:
        print(history_csv(windows, console), end="", file=env.stdout)
    return ExitCode.OK


def _limits(
    app: App, env: Environment, clock: Clock, now: datetime, start: datetime, output: str
) -> ExitCode:
    hits = app.store.limit_log.hits(start, now)
    if output == "json":
        print(json.dumps(limit_hits_json(hits, start, now), indent=2), file=env.stdout)
    elif output == "csv":
        print(limit_hits_csv(hits, now), end="", file=env.stdout)
    else:
        print(limit_hits_text(hits, now, clock.local_tz()), end="", file=env.stdout)
    return ExitCode.OK


def _chart(
    app: App, env: Environment, clock: Clock, now: datetime, since: timedelta, target: Path, theme: str
) -> ExitCode:
    # Pillow and the chart's layout are only worth importing when a chart is asked for.
    from tray_app.history_chart import chart_input
    from tray_app.ui.chart import render_history_chart

    span = "7d" if since > timedelta(days=1) else "24h"
    data = chart_input(app.store, app.monitor, app.console, now, clock.local_tz())
    image = render_history_chart(data, span, theme)
    try:
        image.save(target)
    except OSError as exc:
        print(f"claude-usage-tray: cannot write {target}: {exc.strerror}", file=env.stderr)
        return ExitCode.USAGE
    print(target, file=env.stdout)
    return ExitCode.OK
