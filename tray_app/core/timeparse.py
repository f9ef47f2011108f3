"""Timestamps as the APIs send them (ISO-8601 with Z or an offset, any fraction) to aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Python 3.11's fromisoformat accepts "Z" and offsets, but not more than 6 fractional digits,
# which some servers send; trim the fraction to microseconds first.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_timestamp(value: object) -> datetime | None:
    """Return an aware UTC datetime, or None when value is not a usable ISO-8601 timestamp."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _LONG_FRACTION.sub(r"\1", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        # The APIs always mean UTC; a naive value comes only from older stored rows.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def to_epoch(moment: datetime) -> int:
    """Whole Unix seconds, the unit of every stored time."""
    return int(moment.timestamp())


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z, seconds precision: the form of every time we print as JSON."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
