"""One requests.Session per process: our User-Agent, timeouts, and HTTP failures as typed errors."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from tray_app.core.errors import (
    AuthError,
    AuthKind,
    NetworkError,
    RateLimited,
    ServerError,
    ShapeError,
    UsageError,
)
from tray_app.core.parse import api_error_message, parse_retry_after
from tray_app.core.redact import redact

logger = logging.getLogger(__name__)

# Larger answers are not ours to parse (a captive portal, a misrouted download).
MAX_BODY_BYTES = 2 * 1024 * 1024


def _clock() -> datetime:
    return datetime.now(UTC)


class _Answered(Protocol):
    """What the error mapping reads of an answer: a requests.Response or an HttpAnswer."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class HttpAnswer:
    """One answer of any status. Headers, cookies and body stay out of repr: they can carry a session key."""

    url: str
    status: int
    headers: Mapping[str, str] = field(repr=False)  # case-insensitive names
    set_cookies: tuple[str, ...] = field(repr=False)  # every Set-Cookie header value, in order
    body: bytes = field(repr=False)

    @property
    def status_code(self) -> int:
        return self.status


class HttpClient:
    """GET/POST JSON with typed errors. TLS verification is always on; there is no setting for it."""

    def __init__(self, timeout: float, clock: Callable[[], datetime] = _clock) -> None:
        self._session = requests.Session()
        # Connect fails fast so an offline laptop says "offline" quickly; reads get the full timeout.
        self._timeout = (min(5.0, timeout), timeout)
        self._clock = clock

    def close(self) -> None:
        self._session.close()

    def request_json(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        json_body: Any = None,
        params: Sequence[tuple[str, str]] = (),
    ) -> Any:
        """The decoded JSON of a 2xx answer; a typed UsageError for anything else.

        params are query parameters in order; pairs (not a dict) so a name can repeat, as in group_by[].
        """
        response, body = self._send(method, url, headers, json_body, params)
        if response.status_code >= 300:
            raise self._error(response, body, url)
        return _decode(body, response, url)

    def fetch(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        json_body: Any = None,
        params: Sequence[tuple[str, str]] = (),
    ) -> HttpAnswer:
        """The raw answer whatever its status, for callers that read headers or classify failures.

        Only a missing answer raises (NetworkError, or ShapeError for an oversized body). Cookies the
        answer sets are handed over in set_cookies and not kept in the shared session.
        """
        response, body = self._send(method, url, headers, json_body, params)
        for answered in (*response.history, response):
            for cookie in answered.cookies:
                with contextlib.suppress(KeyError):
                    self._session.cookies.clear(cookie.domain, cookie.path, cookie.name)
        return HttpAnswer(
            url=url,
            status=response.status_code,
            headers=response.headers,
            set_cookies=_set_cookies(response),
            body=body,
        )

    def error_for(self, answer: HttpAnswer) -> UsageError:
        """The typed error request_json raises for this (non-2xx) answer."""
        return self._error(answer, answer.body, answer.url)

    @staticmethod
    def json_of(answer: HttpAnswer) -> Any:
        """The decoded JSON body; ShapeError for an HTML page or malformed JSON, as request_json."""
        return _decode(answer.body, answer, answer.url)

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json_body: Any,
        params: Sequence[tuple[str, str]],
    ) -> tuple[requests.Response, bytes]:
        try:
            response = self._session.request(
                method,
                url,
                params=list(params) or None,
                headers=dict(headers),
                json=json_body,
                timeout=self._timeout,
                stream=True,
                verify=True,
            )
            body = self._read_capped(response)
        except requests.Timeout:
            raise NetworkError(f"no answer from {_host(url)} in time") from None
        except requests.ConnectionError:
            raise NetworkError(f"cannot reach {_host(url)}") from None
        except requests.RequestException as exc:
            raise NetworkError(f"request to {_host(url)} failed ({type(exc).__name__})") from None
        return response, body

    @staticmethod
    def _read_capped(response: requests.Response) -> bytes:
        chunks = []
        size = 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                response.close()
                raise ShapeError(f"answer from {_host(response.url)} is larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _error(self, response: _Answered, body: bytes, url: str) -> UsageError:
        status = response.status_code
        try:
            decoded: Any = json.loads(body)
        except ValueError:
            decoded = None
        detail = api_error_message(decoded)
        said = f": {redact(detail)[:200]}" if detail else ""
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
        if status == 429:
            return RateLimited(retry_after, f"{_host(url)} is rate limiting us (HTTP 429){said}")
        if status in (400, 401) and isinstance(decoded, dict) and decoded.get("error") == "invalid_grant":
            return AuthError(AuthKind.REFRESH_REJECTED, f"the refresh token was refused{said}")
        if status == 401:
            kind = AuthKind.EXPIRED if detail and "expired" in detail.lower() else AuthKind.INVALID
            return AuthError(kind, f"the login was refused (HTTP 401){said}")
        if status == 403:
            scope = detail is not None and "scope" in detail.lower()
            return AuthError(
                AuthKind.SCOPE if scope else AuthKind.FORBIDDEN, f"access denied (HTTP 403){said}"
            )
        if decoded is None and body.lstrip()[:1] == b"<":
            said = " (an HTML page, not the API)"
        return ServerError(status, f"{_host(url)} answered HTTP {status}{said}", retry_after)


def _decode(body: bytes, response: _Answered, url: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        kind = response.headers.get("content-type", "").split(";")[0] or "unknown content"
        if body.lstrip()[:1] == b"<":
            raise ShapeError(f"{_host(url)} answered with an HTML page ({kind}), not JSON") from None
        raise ShapeError(f"{_host(url)} answered with malformed JSON ({len(body)} bytes)") from None


def _set_cookies(response: requests.Response) -> tuple[str, ...]:
    # requests joins repeated Set-Cookie headers with commas, which Expires dates also hold; urllib3
    # keeps them apart.
    raw_headers = getattr(response.raw, "headers", None)
    getlist = getattr(raw_headers, "getlist", None)
    if callable(getlist):
        return tuple(str(value) for value in getlist("Set-Cookie"))
    joined = response.headers.get("set-cookie")
    return (joined,) if joined else ()


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
