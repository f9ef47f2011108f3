"""Free usage-limit resets (`cedar_ember`) simulated on the usage answer, and the redeem endpoint that a
read-only monitor must never call (its requests are recorded like any other, so a test can say so)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tray_app.demo.common import RATE_LIMIT_MESSAGE, DemoResponse, envelope, json_response

# present: eligible with one usable grant; ineligible: the server's "surface" answer; absent: a null
# block; rate_limited: the request asking for grants gets 429 (the plain usage poll does not).
GRANT_SCENARIOS: tuple[str, ...] = ("present", "ineligible", "absent", "rate_limited")
GRANT_ID = "opus55-launch-promax-20260921"  # what a client must never keep or show
GRANT_LABEL = "Claude Opus 5.5 launch: one usage-limit reset for Pro and Max"
GRANT_DAYS_LEFT = 30
REDEEM_SUFFIX = "/reset_rate_limits"
_CLI_AGENT = "claude-cli/"


def check_grants_scenario(name: str) -> None:
    if name not in GRANT_SCENARIOS:
        raise ValueError(f"unknown grants scenario {name!r}; known: {', '.join(GRANT_SCENARIOS)}")


def is_redeem_path(path: str) -> bool:
    """POST /api/organizations/<org>/reset_rate_limits: spends a reset on the real server."""
    return path.startswith("/api/organizations/") and path.endswith(REDEEM_SUFFIX)


def redeem_answer() -> DemoResponse:
    # Refused, so that even a buggy client cannot believe it spent anything here.
    return envelope(403, "permission_error", "demo: a read-only monitor must never redeem a reset")


def asks_for_grants(query: str) -> bool:
    return urllib.parse.parse_qs(query).get("cedar_ember") == ["1"]


GRANTS_QUERY = "?cedar_ember=1"


def queue_key(path: str, query: str) -> str:
    """The demo's queue a request takes a one-shot answer from: the free-resets request has its own."""
    return path + GRANTS_QUERY if asks_for_grants(query) else path


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _eligible_block(now: float) -> dict[str, Any]:
    started = datetime.fromtimestamp(now, UTC) - timedelta(days=1)
    return {
        "eligible": True,
        "ineligible_reason": None,
        "at_limit": False,
        "exhausted": [],
        "grants": [
            {
                "id": GRANT_ID,
                "label": GRANT_LABEL,
                "resets_total": 1,
                "resets_left": 1,
                "starts_at": _stamp(started),
                "ends_at": _stamp(started + timedelta(days=GRANT_DAYS_LEFT + 1)),
                "clears": ["five_hour", "seven_day", "seven_day_overage_included"],
                "paused": False,
                "usable_now": True,
                "use_requires_limit": True,
                "percent_used": {},
                "blocking": [],
            }
        ],
        "next_grant_id": GRANT_ID,
        "cooldown_until": None,
    }


def _block(scenario: str, agent: str, now: float) -> dict[str, Any] | None:
    if scenario == "absent":
        return None
    if scenario == "ineligible" or not agent.startswith(_CLI_AGENT):
        # The real server lists grants only to the CLI's own agent string.
        return {"eligible": False, "ineligible_reason": "surface", "grants": [], "next_grant_id": None}
    return _eligible_block(now)


def with_grants(
    answer: Callable[[], DemoResponse],
    headers: dict[str, str],
    query: str,
    scenario: str,
    clock: Callable[[], float],
) -> DemoResponse:
    """The usage answer, with the `cedar_ember` block when the request asked for it."""
    if not asks_for_grants(query):
        return answer()
    if scenario == "rate_limited":
        return json_response(
            429,
            {"error": {"message": RATE_LIMIT_MESSAGE, "type": "rate_limit_error"}},
            (("retry-after", "3600"),),
        )
    response = answer()
    if response.status != 200:
        return response
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    if not isinstance(body, dict):
        return response
    body["cedar_ember"] = _block(scenario, headers.get("user-agent", ""), clock())
    return json_response(200, body)
