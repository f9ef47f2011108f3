"""Amounts of money as text: the one currency table for the tray, the reports and the chart."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

__all__ = ["CURRENCY_SIGNS", "format_money"]

CURRENCY_SIGNS: Mapping[str, str] = MappingProxyType({"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"})


def format_money(amount: float | Decimal, currency: str, places: int = 2, *, ascii_sign: bool = False) -> str:
    """'$1,234.56' or '1,234.56 CHF': a sign where the table has one, else the currency's code after.

    The amount is formatted as given: a Decimal rounds half-even on its exact digits, a float on its
    binary value, so callers that pass float(...) keep the text they always showed. ascii_sign keeps
    only the signs every font has ('$'), for the chart, whose bundled font lacks € and £.
    """
    sign = CURRENCY_SIGNS.get(currency)
    if sign is not None and ascii_sign and not sign.isascii():
        sign = None
    text = f"{amount:,.{places}f}"
    return f"{sign}{text}" if sign else f"{text} {currency}"
