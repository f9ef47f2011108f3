"""One requests.Session per process: our User-Agent, timeouts, and HTTP failures as typed errors."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from tray_app.clock import utc_now
from tray_app.core.errors import (
    AuthError,
    AuthKind,
    ChallengeError,
    NetworkError,
    RateLimited,
    ServerError,
    ShapeError,
    UsageError,
)
from tray_app.core.parse import api_error_message, parse_retry_after
from tray_app.core.redact import redact
from tray_app.core.web import is_cloudflare_challenge

logger = logging.getLogger(__name__)

# Larger answers are not ours to parse (a captive portal, a misrouted download).
MAX_BODY_BYTES = 2 * 1024 * 1024
_READ_SIZE = 64 * 1024  # at most this much per receive


_clock = utc_now


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
                # The APIs never redirect; whatever does (a Wi-Fi login page, a proxy) must not receive
                # the x-api-key header, which requests would carry along to another host.
                allow_redirects=False,
            )
        except requests.Timeout:
            raise NetworkError(f"no answer from {_host(url)} in time") from None
        except requests.exceptions.SSLError:
            # A proxy inspecting TLS, or someone in the middle: never send the token, never offer a way round.
            raise NetworkError(
                f"the TLS certificate of {_host(url).rsplit(':', 1)[0]} is not trusted; nothing was sent"
            ) from None
        except requests.ConnectionError:
            raise NetworkError(f"cannot reach {_host(url)}") from None
        except requests.RequestException as exc:
            raise NetworkError(f"request to {_host(url)} failed ({type(exc).__name__})") from None
        try:
            body = self._read_capped(response, url)
        except UsageError:
            # Drop the connection with the rest of the answer in it; a body read to its end has already
            # handed its connection back for reuse.
            response.close()
            raise
        return response, body

    def _read_capped(self, response: requests.Response, url: str) -> bytes:
        """The body, at most MAX_BODY_BYTES of it, all of it within one read timeout.

        The read timeout alone bounds each receive, not their sum: a server trickling a byte now and
        then would hold a poll for ever. Reading whatever each receive brings lets the whole body be timed.
        """
        deadline = time.monotonic() + self._timeout[1]
        # urllib3 2 has read1; 1.x only read, which waits for a whole chunk (the cap still holds there,
        # the deadline only between chunks).
        read: Callable[..., bytes] = getattr(response.raw, "read1", response.raw.read)
        chunks = []
        size = 0
        try:
            while chunk := read(_READ_SIZE, decode_content=True):
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise ShapeError(f"answer from {_host(url)} is larger than {MAX_BODY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise NetworkError(
                        f"{_host(url)} sent its answer too slowly (not complete after {self._timeout[1]:g} s)"
                    )
                chunks.append(chunk)
        except ReadTimeoutError:
            raise NetworkError(f"no answer from {_host(url)} in time") from None
        except ProtocolError:
            raise NetworkError(f"the answer from {_host(url)} was cut off") from None
        except (TransportError, OSError) as exc:
            failure = type(exc).__name__
            raise NetworkError(f"reading the answer from {_host(url)} failed ({failure})") from None
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
        if 300 <= status < 400:
            return _redirected(url, response.headers.get("location"))
        if is_cloudflare_challenge(
            status, response.headers.get("cf-mitigated"), response.headers.get("content-type"), body
        ):
            return ChallengeError(f"{_host(url)} answered with Cloudflare's browser check (HTTP {status})")
        if status == 403 and decoded is None and body.lstrip()[:1] == b"<":
            # A block page of a proxy or firewall says nothing about the login: no "log in again".
            return ServerError(403, f"{_host(url)} answered HTTP 403 with an HTML page, not the API")
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


def _redirected(url: str, location: str | None) -> NetworkError:
    # Host and path of the target only: a portal's query string can be long and personal.
    target = urlsplit(location or "")
    where = f" to {(target.netloc + target.path)[:80]}" if target.netloc or target.path else ""
    return NetworkError(
        f"{_host(url)} redirected the request{where} instead of answering "
        "(a Wi-Fi login page or a proxy in the way?)"
    )


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
