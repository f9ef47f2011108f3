"""The one currency table: the report's and the tray's amounts, and the chart's, from one formatter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tray_app.core.chart_model import money
from tray_app.core.money import format_money
from tray_app.core.report import format_money as report_format_money


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1234.5, "USD", "$1,234.50"),
        (1234.5, "EUR", "€1,234.50"),
        (0.5, "GBP", "£0.50"),
        (1200.0, "JPY", "¥1,200.00"),
        (1234.5, "CHF", "1,234.50 CHF"),
    ],
)
def test_the_report_writes_a_sign_where_the_table_has_one_else_the_code(
    amount: float, currency: str, text: str
) -> None:
    assert format_money(amount, currency) == text
    assert report_format_money(amount, currency) == text  # status, the tray and the alerts import it here


@pytest.mark.parametrize(
    ("amount", "currency", "cents", "text"),
    [
        (Decimal("2087.40"), "USD", False, "$2,087"),
        (Decimal("2087.60"), "USD", False, "$2,088"),  # rounded, where the status line's month cuts cents off
        (Decimal("962.65"), "USD", True, "$962.65"),
        (Decimal("962.65"), "EUR", True, "962.65 EUR"),  # the chart's font has no € or £
        (Decimal("962.65"), "GBP", False, "963 GBP"),
        (2.5, "USD", True, "$2.50"),
    ],
)
def test_the_chart_writes_only_the_dollar_sign(
    amount: float | Decimal, currency: str, cents: bool, text: str
) -> None:
    assert money(amount, currency, cents) == text


def test_an_amount_is_rounded_as_given() -> None:
    # The reports pass float(...) and round the binary value; the chart passes the Console's Decimal.
    assert format_money(2.675, "USD") == "$2.67"
    assert format_money(Decimal("2.675"), "USD") == "$2.68"
