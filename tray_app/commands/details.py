"""`details`: the details window, in its own process so that the tray's memory stays as it is."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from tray_app.clock import Clock
from tray_app.commands import ExitCode
from tray_app.config import write_config_template
from tray_app.desktop import open_path
from tray_app.environment import Environment
from tray_app.wiring.app import App, poll_timing, sources_of

if TYPE_CHECKING:
    from tray_app.details.window import DetailsFeed

logger = logging.getLogger(__name__)

ENV_DUMP = "CLAUDE_USAGE_TRAY_DETAILS_DUMP"  # tests: the window's texts as JSON after each redraw
# Drawn at the chart's own size (its two panels need it) and scaled down: sharper than a smaller layout.
CHART_SHOWN = (600, 380)
NO_DISPLAY = (
    "no display to open the details window on (DISPLAY and WAYLAND_DISPLAY are unset); "
    "`claude-usage-tray status` prints the figures and `claude-usage-tray watch` keeps them on screen"
)


def run(app: App, env: Environment, clock: Clock) -> int:
    # Imported here: the tray and `status` never load Tk.
    from tray_app.details.single import DetailsInstance
    from tray_app.details.theme import PALETTES, choose_theme
    from tray_app.details.window import DetailsWindow, NoDisplay, show

    instance = DetailsInstance(app.settings.paths.database.parent)
    opened: list[DetailsWindow] = []
    if not instance.acquire(lambda: opened[0].ask_to_raise() if opened else None):
        return ExitCode.OK  # the open window was asked to come to the front
    try:
        palette = PALETTES[choose_theme(app.settings.details_theme, env.platform, env.environ)]
        dump = env.environ.get(ENV_DUMP)
        show(feed_for(app, clock), palette, Path(dump) if dump else None, opened.append)
    except NoDisplay as exc:
        print(f"claude-usage-tray: cannot open the details window: {exc}", file=env.stderr)
        return ExitCode.USAGE
    finally:
        instance.release()
    return ExitCode.OK


def feed_for(app: App, clock: Clock) -> DetailsFeed:
    from tray_app.details.model import DetailsContent, details_content
    from tray_app.details.window import DetailsFeed

    sources = sources_of(app)
    stale_after = poll_timing(app).stale_after

    def content() -> DetailsContent:
        reports = sources.stored(stale_after)
        return details_content(reports, clock.now(), clock.local_tz(), app.settings.thresholds)

    def refresh() -> None:
        # The same one-shot poll as `status`: the monitors keep the shared back-off and reuse an answer
        # another process (the tray) got moments ago, so a Refresh never adds a burst of requests.
        sources.ask_all()

    def open_settings() -> None:
        write_config_template(app.settings.paths.config_file)
        open_path(app.settings.paths.config_file)

    return DetailsFeed(
        content, app.store.data_version, lambda theme: chart_png(app, clock, theme), refresh, open_settings
    )


def chart_png(app: App, clock: Clock, theme: str) -> bytes | None:
    """The tray's 24-hour chart, as PNG bytes for Tk."""
    from tray_app.history_chart import chart_input
    from tray_app.ui.chart import render_history_chart

    data = chart_input(app.store, app.monitor, app.console, clock.now(), clock.local_tz())
    buffer = io.BytesIO()
    try:
        render_history_chart(data, "24h", theme).resize(CHART_SHOWN).save(buffer, format="PNG")
    except (OSError, ValueError) as exc:
        logger.warning("cannot draw the history chart: %s", exc)
        return None
    return buffer.getvalue()
