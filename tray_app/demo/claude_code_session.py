"""A simulated Claude Code session for `--demo`: the status-line figures a real one would pipe to us.

Claude Code hands its status-line command the limits from the headers of its own API calls on every
render, so between two polls of the usage endpoint the tray already moves. The demo shows that: a thread
builds the JSON Claude Code would pipe, from the same simulation the demo server answers with (so the
reset times are the server's), and records it through the statusline's own path (parse_rate_limits,
record_fed) into the demo database, where the tray follows it as it follows a real session.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from tray_app.core.readings import parse_rate_limits
from tray_app.core.timeparse import from_epoch
from tray_app.store.readings import Recorded, record_fed

logger = logging.getLogger(__name__)

# A busy session redraws its line every few seconds; the demo's pace follows its speed, but a sped-up
# demo must not turn into a write to the database several times a second (the tray's idle CPU counts).
RENDER_SECONDS = 15.0
FASTEST_RENDER_SECONDS = 2.0
CLAUDE_CODE_VERSION = "2.1.221"
# The windows Claude Code's header carries, under the names the usage endpoint gives them too.
_FED_KEYS = ("five_hour", "seven_day")


def render_interval(speed: float) -> float:
    """Real seconds between two renders at the demo's speed."""
    return max(FASTEST_RENDER_SECONDS, RENDER_SECONDS / speed)


def whole_percent(utilization: float) -> int:
    """The header's figure as Claude Code shows it: a whole number, half rounded up (JavaScript's
    Math.round), where the endpoint says one decimal."""
    return math.floor(utilization + 0.5)


def _fed_window(window: object) -> dict[str, int] | None:
    if not isinstance(window, Mapping) or not isinstance(window.get("resets_at"), str):
        return None
    resets_at = datetime.fromisoformat(window["resets_at"]).timestamp()
    # Claude Code says whole epoch seconds; the server's stamp is a whole second plus a small fraction.
    return {"used_percentage": whole_percent(float(window["utilization"])), "resets_at": int(resets_at)}


def status_line_document(usage_body: Mapping[str, Any], session_id: str) -> dict[str, Any]:
    """What Claude Code pipes to its status-line command, with the limits of one usage endpoint body."""
    limits = {key: fed for key in _FED_KEYS if (fed := _fed_window(usage_body.get(key))) is not None}
    return {
        "hook_event_name": "Status",
        "session_id": session_id,
        "model": {"id": "claude-opus-4-5", "display_name": "Opus"},
        "version": CLAUDE_CODE_VERSION,
        "rate_limits": limits,
    }


class ClaudeCodeSession:
    """A daemon thread that records a simulated session's status-line figures every render_interval."""

    def __init__(
        self,
        database: Path,
        usage_body: Callable[[], Mapping[str, Any]],
        *,
        speed: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """usage_body: the demo server's answer for now (DemoServer.rising_body); clock: the server's."""
        self.database = database
        self.session_id = str(uuid.uuid4())
        self.interval = render_interval(speed)
        self._usage_body = usage_body
        self._clock = clock
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-claude-code", daemon=True)

    def render(self) -> Recorded:
        """One render: the JSON of this moment, parsed and stored as `claude-usage-tray statusline` does."""
        now = from_epoch(self._clock())
        document = status_line_document(self._usage_body(), self.session_id)
        return record_fed(self.database, parse_rate_limits(document, now), now)

    def start(self) -> ClaudeCodeSession:
        # The first render at once, before the caller goes on: a one-shot `status --demo` shows it too,
        # and pays one short write for it rather than a wait.
        self.render()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop at once (the thread sleeps on an Event) and wait for a render under way to finish."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.render()
            except Exception:
                # A bug in the simulation must not end the demo's session silently or kill the tray.
                logger.exception("the demo's Claude Code session failed to render")

    def __enter__(self) -> ClaudeCodeSession:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
