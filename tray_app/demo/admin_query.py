"""What the simulated Admin API and Analytics API share: the query's parameters, page tokens, failures.

A malformed parameter raises BadRequest, answered as the real API's 400 invalid_request_error.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

from tray_app.demo.common import RATE_LIMIT_MESSAGE, DemoResponse, envelope


class BadRequest(Exception):
    """A query the real API refuses with 400 invalid_request_error; the message says which part."""


Query = dict[str, list[str]]


def param(query: Query, name: str) -> str | None:
    """A parameter's value; the last one when it is repeated."""
    values = query.get(name)
    return values[-1] if values else None


def int_param(query: Query, name: str, default: int, maximum: int) -> int:
    text = param(query, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name}: Input should be a valid integer") from None
    if not 1 <= value <= maximum:
        raise BadRequest(f"{name}: Input should be between 1 and {maximum}")
    return value


def instant_param(query: Query, name: str) -> datetime | None:
    text = param(query, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name}: Input should be a valid RFC 3339 datetime") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name}: Input should have a timezone")
    return moment.astimezone(UTC)


def page_token(value: str) -> str:
    # Opaque to clients; the documented example is "page_" and a base64 timestamp.
    return "page_" + base64.b64encode(value.encode("utf-8")).decode("ascii")


def page_value(query: Query) -> str | None:
    token = param(query, "page")
    if token is None:
        return None
    try:
        return base64.b64decode(token.removeprefix("page_"), validate=True).decode("utf-8")
    except ValueError:
        raise BadRequest("page: Invalid page token") from None


def invalid_admin_key() -> DemoResponse:
    # Like the real API, the answer never repeats the key it was given.
    return envelope(401, "authentication_error", "invalid x-api-key")


def admin_failure(scenario: str) -> DemoResponse | None:
    failures: dict[str, Callable[[], DemoResponse]] = {
        "rate_limited": lambda: envelope(
            429, "rate_limit_error", RATE_LIMIT_MESSAGE, headers=(("retry-after", "60"),)
        ),
        "unauthorized": invalid_admin_key,
        "forbidden": lambda: envelope(
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        "server_error": lambda: envelope(500, "api_error", "Internal server error"),
    }
    failure = failures.get(scenario)
    return None if failure is None else failure()
