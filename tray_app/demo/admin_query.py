"""What the simulated Admin API and Analytics API share: the key and version checks, the failure
scenarios, the query's parameters, page tokens, and the answer built from a query.

A malformed parameter raises BadRequest, answered as the real API's 400 invalid_request_error.
"""

from __future__ import annotations

import base64
import secrets
import urllib.parse
from collections.abc import Callable, Container
from datetime import UTC, datetime
from typing import Any

from tray_app.demo.common import RATE_LIMIT_MESSAGE, DemoResponse, envelope, json_response

ADMIN_API_VERSION = "2023-06-01"


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


def key_and_version_refusal(headers: dict[str, str], admin_keys: Container[str]) -> DemoResponse | None:
    """The 401 of a key that is not an admin key, or the 400 of a missing or wrong anthropic-version."""
    if headers.get("x-api-key") not in admin_keys:
        return invalid_admin_key()
    if headers.get("anthropic-version") != ADMIN_API_VERSION:
        return envelope(
            400, "invalid_request_error", f"anthropic-version: header must be {ADMIN_API_VERSION}"
        )
    return None


def serve_query(
    query: str, clock: Callable[[], float], page: Callable[[Query, datetime], dict[str, Any]]
) -> DemoResponse:
    """The page built from the query at the clock's time, or the 400 of a BadRequest it raised."""
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    now = datetime.fromtimestamp(clock(), tz=UTC)
    try:
        payload = page(params, now)
    except BadRequest as exc:
        return envelope(400, "invalid_request_error", str(exc))
    return json_response(200, payload, (("request-id", "req_demo" + secrets.token_hex(8)),))
