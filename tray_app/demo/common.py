"""The canned answer type and the JSON error envelope that every simulated API shares."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

JSON = "application/json"
RATE_LIMIT_MESSAGE = "Rate limited. Please try again later."


@dataclass(frozen=True)
class DemoResponse:
    """A canned answer; without a content-type header it is sent as application/json."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before anything is sent (a server that does not answer in time)
    # Seconds between single body bytes: every read gets data before a read timeout, yet the whole body
    # takes far longer than any client should wait.
    drip: float = 0.0
    # Hang up after this many body bytes while Content-Length still announces the whole body.
    cut_after: int | None = None


def json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> DemoResponse:
    return DemoResponse(status, json.dumps(payload).encode("utf-8"), (("Content-Type", JSON), *headers))


def envelope(
    status: int,
    kind: str,
    message: str,
    *,
    details: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
) -> DemoResponse:
    error: dict[str, Any] = {"type": kind, "message": message}
    if details:
        error["details"] = {"error_visibility": "user_facing"}
    request_id = "req_demo" + secrets.token_hex(8)
    return json_response(
        status,
        {"type": "error", "error": error, "request_id": request_id},
        (("request-id", request_id), *headers),
    )


def usage_window(
    utilization: float, resets_at: str | None, locked_reason: str | None = None
) -> dict[str, Any]:
    """One window of the usage answer, with the dollar fields subscriptions leave null."""
    return {
        "utilization": utilization,
        "resets_at": resets_at,
        "limit_dollars": None,
        "used_dollars": None,
        "remaining_dollars": None,
        "locked_reason": locked_reason,
    }
