"""What one moment of polling knows: the three sources' reports, and what a tick hands to the UI."""

from __future__ import annotations

from dataclasses import dataclass

from tray_app.core.console import ConsoleReport
from tray_app.core.models import CodeReport
from tray_app.core.rules import Alert
from tray_app.core.viewmodel import ViewModel
from tray_app.core.web_report import WebReport


@dataclass(frozen=True)
class Reports:
    """The latest report of each source; None where a source is not set up (or not heard from yet)."""

    code: CodeReport | None = None
    console: ConsoleReport | None = None
    web: WebReport | None = None


@dataclass(frozen=True)
class TickResult:
    """One tick's whole output, handed to the UI thread in one piece: the view first, then its alerts."""

    view: ViewModel
    alerts: tuple[Alert, ...] = ()
