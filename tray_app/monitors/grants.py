"""Free limit resets: asked for at most hourly, after a good usage poll, with a back-off of their own.

Why a request of its own and not a parameter on the usage poll: the server lists the grants only to the
CLI's agent string (`claude-cli/<v> (external, cli)`); to any other it answers "ineligible: surface".
The usage poll sends `claude-code/<v>`, the agent string known to keep it out of the strict 429 bucket
(api-reference 1.4.1). Moving every poll to the CLI's string would stake the figures on an unproven
bucket; one request an hour risks only the grants. The two share the token's rate limit (api-2026 5.1),
so the grants are asked only just after a usage poll succeeded, never while its back-off holds, and a
429 here pauses this request alone (BackoffScope.CODE_GRANTS).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from tray_app.core.backoff import usage_endpoint_pause
from tray_app.core.errors import UsageError
from tray_app.core.models import ResetGrants
from tray_app.monitors.policy import SharedPause, asks_for_pause
from tray_app.sources.code_api import CodeApi
from tray_app.store import BackoffScope, Store

logger = logging.getLogger(__name__)

GRANTS_INTERVAL = timedelta(hours=1)
# A reset used in Claude Code leaves our answer behind; past a day without a new one, show nothing.
GRANTS_MAX_AGE = timedelta(hours=24)


class ResetGrantsCheck:
    """The hourly read of the free resets, shared through the database by every process."""

    def __init__(self, store: Store, api: CodeApi, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._api = api
        self._pause = SharedPause(store, BackoffScope.CODE_GRANTS, clock, usage_endpoint_pause)

    def due(self, now: datetime) -> bool:
        """No process asked within the hour and no back-off of the grants holds."""
        if self._pause.holding(now) is not None:
            return False
        asked = self._store.code_cache.reset_grants_asked()
        return asked is None or not timedelta(0) <= now - asked < GRANTS_INTERVAL

    def refresh(self, access_token: str, now: datetime) -> None:
        """Ask once if due; any failure is logged and waits for the next hour (or the back-off)."""
        if not self.due(now):
            return
        # Marked before asking: a failed or hanging request must not be retried by every poll.
        self._store.code_cache.set_reset_grants_asked(now)
        try:
            grants = self._api.reset_grants(access_token, now)
        except UsageError as exc:
            if asks_for_pause(exc):
                backoff = self._pause.lengthen(exc, now)
                logger.info("free-resets request refused (%s); not asking before %s", exc, backoff.until)
            else:
                logger.info("free-resets request failed: %s", exc)
            return
        self._pause.clear()
        if grants is None:
            logger.info("the usage answer carried no free-resets block")
            grants = ResetGrants(eligible=False, grants=(), checked_at=now)
        elif not grants.eligible:
            logger.info("no free resets for this login (%s)", grants.ineligible_reason or "ineligible")
        self._store.code_cache.set_reset_grants(grants, now)

    def current(self, now: datetime) -> ResetGrants | None:
        """The last answer, if recent enough to show."""
        grants = self._store.code_cache.reset_grants()
        if grants is None or now - grants.checked_at > GRANTS_MAX_AGE:
            return None
        return grants
