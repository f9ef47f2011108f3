"""Reachability of an endpoint for `doctor`: any HTTP answer means the network path works."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests


@dataclass(frozen=True)
class ProbeResult:
    reachable: bool
    description: str


def probe_url(url: str, timeout: float) -> ProbeResult:
    """GET the URL's origin without credentials; report the status and the round-trip time."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    started = time.monotonic()
    try:
        response = requests.get(origin, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        return ProbeResult(False, f"no answer within {timeout:g} s")
    except requests.ConnectionError:
        return ProbeResult(False, "unreachable (DNS, connection or TLS failure)")
    except requests.RequestException as exc:
        return ProbeResult(False, f"unreachable ({type(exc).__name__})")
    elapsed_ms = (time.monotonic() - started) * 1000
    response.close()
    return ProbeResult(True, f"reachable (HTTP {response.status_code} in {elapsed_ms:.0f} ms)")
