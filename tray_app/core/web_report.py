"""What the opt-in claude.ai session reported: extra-usage limit and prepaid credits, or why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tray_app.core.models import Status
from tray_app.core.report import format_money
from tray_app.core.web import Overage, Prepaid


@dataclass(frozen=True)
class WebReport:
    status: Status
    message: str | None
    browser: str | None
    organization: str | None
    overage: Overage | None
    prepaid: Prepaid | None
    updated_at: datetime | None = None


def web_report_json(report: WebReport) -> dict[str, Any]:
    """The "web" object of `status --json`."""
    overage, prepaid = report.overage, report.prepaid
    return {
        "status": report.status.value,
        "message": report.message,
        "browser": report.browser,
        "organization": report.organization,
        "overage": None
        if overage is None
        else {
            "enabled": overage.enabled,
            "used": overage.used,
            "limit": overage.limit,
            "currency": overage.currency,
        },
        "prepaid": None if prepaid is None else {"amount": prepaid.amount, "currency": prepaid.currency},
    }


def web_lines(report: WebReport, show_overage: bool) -> list[str]:
    """'Usage credits: $12.00 of $40.00 this month', 'Prepaid credits: $100.00', or the problem."""
    lines = []
    if report.status is not Status.OK and report.message:
        lines.append(f"claude.ai: {report.message}")
    overage = report.overage
    if show_overage and overage is not None and overage.enabled:
        spent = format_money(overage.used, overage.currency)
        limit = "" if overage.limit is None else f" of {format_money(overage.limit, overage.currency)}"
        lines.append(f"Usage credits: {spent}{limit} this month")
    if report.prepaid is not None:
        lines.append(f"Prepaid credits: {format_money(report.prepaid.amount, report.prepaid.currency)}")
    return lines
