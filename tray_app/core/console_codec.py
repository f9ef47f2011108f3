"""Console report rows to and from JSON-ready dicts, for the per-day cache in the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tray_app.core.console import ClaudeCodeLine, CostLine, TokenLine
from tray_app.core.errors import ShapeError

Line = CostLine | TokenLine | ClaudeCodeLine
_KINDS: dict[str, type[CostLine] | type[TokenLine] | type[ClaudeCodeLine]] = {
    "cost": CostLine,
    "tokens": TokenLine,
    "claude_code": ClaudeCodeLine,
}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)  # exact: a float would round the cents
    if isinstance(value, date):
        return value.isoformat()
    return value


def lines_to_json(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [{name: _plain(value) for name, value in vars(line).items()} for line in lines]


def _field(kind: type, name: str, raw: object) -> object:
    annotation = str(kind.__annotations__[name])
    if name == "day":
        return date.fromisoformat(str(raw))
    if "Decimal" in annotation:
        return Decimal(str(raw))
    if annotation == "int":
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ShapeError(f"stored {name} is not a whole number")
        return raw
    if raw is not None and not isinstance(raw, str):
        raise ShapeError(f"stored {name} is not text")
    return raw


def lines_from_json(kind: str, rows: object) -> list[Any]:
    """The rows stored by lines_to_json; ShapeError when they are not that shape."""
    line_type = _KINDS.get(kind)
    if line_type is None or not isinstance(rows, list):
        raise ShapeError(f"stored {kind} rows are not a list")
    lines = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise ShapeError(f"a stored {kind} row is not an object")
        try:
            values: dict[str, Any] = {
                name: _field(line_type, name, row[name]) for name in line_type.__annotations__
            }
        except (KeyError, ValueError, InvalidOperation) as exc:
            raise ShapeError(f"a stored {kind} row is malformed ({type(exc).__name__})") from None
        lines.append(line_type(**values))
    return lines
