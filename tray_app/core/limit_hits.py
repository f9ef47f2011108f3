"""Limit hits: the episodes in which a window stood at 100 % or locked, from our own history.

The rules follow the limits themselves. Within one period (one reset time) usage only rises, so once a
window is at its limit it stays there until the period ends: a lower figure of the same period is old
news (Claude Code's status-line feed can pass another session's older figure after our poll's 100 %) and
ends nothing. An episode ends at the reset, or earlier if a reading of a later period comes first (the
server moved the reset). A gap in the readings (the machine asleep, the app not running) ends nothing by
itself either: what happened in it is unknown, and the reset time already says when the block ended.
A window without a reset time has no period to reason with: there the first reading not at the limit
ends the episode. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tray_app.core.models import LimitHit, Snapshot
from tray_app.core.readings import same_period
from tray_app.core.timeparse import iso_utc


def is_blocked(snapshot: Snapshot) -> bool:
    """At the limit or locked: the user was stopped."""
    return snapshot.locked or snapshot.utilization >= 100.0


@dataclass
class _Open:
    started_at: datetime
    resets_at: datetime | None


def _ends(episode: _Open, snapshot: Snapshot) -> datetime | None:
    """When snapshot shows the episode over (it ended then, or at the reset if earlier); None if not."""
    reset = episode.resets_at
    if reset is None:
        return None if is_blocked(snapshot) else snapshot.at
    if snapshot.at >= reset:
        return reset
    later_period = (
        snapshot.resets_at is not None
        and snapshot.resets_at > reset
        and not same_period(snapshot.resets_at, reset)
    )
    return snapshot.at if later_period else None


def _starts(snapshot: Snapshot) -> bool:
    # A figure whose reset time had already passed when it was stored belongs to a period that is over.
    return is_blocked(snapshot) and (snapshot.resets_at is None or snapshot.resets_at > snapshot.at)


def episodes(window_id: str, label: str, history: Iterable[Snapshot], now: datetime) -> list[LimitHit]:
    """The window's limit hits in history (oldest first, in time order), the last one open while it lasts."""
    found: list[LimitHit] = []
    current: _Open | None = None
    for snapshot in history:
        if current is not None:
            ended = _ends(current, snapshot)
            if ended is None:
                continue
            found.append(LimitHit(window_id, label, current.started_at, max(ended, current.started_at)))
            current = None
        if _starts(snapshot):
            current = _Open(snapshot.at, snapshot.resets_at)
    if current is not None:
        over = current.resets_at is not None and now >= current.resets_at
        found.append(LimitHit(window_id, label, current.started_at, current.resets_at if over else None))
    return found


def all_episodes(
    histories: Mapping[str, Sequence[Snapshot]], labels: Mapping[str, str], now: datetime
) -> list[LimitHit]:
    """Every window's limit hits, by start time (labels: each window's name, its id when unknown)."""
    hits = [
        hit
        for window_id, history in histories.items()
        for hit in episodes(window_id, labels.get(window_id, window_id), history, now)
    ]
    return sorted(hits, key=lambda hit: (hit.started_at, hit.window_id))


def counts(hits: Iterable[LimitHit], since: datetime) -> dict[str, int]:
    """How many hits each window label had that were still going at or after since (first-seen order)."""
    counted: dict[str, int] = {}
    for hit in hits:
        if hit.ended_at is None or hit.ended_at >= since:
            counted[hit.label] = counted.get(hit.label, 0) + 1
    return counted


def limit_hit_json(hit: LimitHit, now: datetime | None) -> dict[str, Any]:
    """One hit as `status --json` and `history --limits --format json` give it: ISO UTC times, ended_at
    null while it goes on, seconds up to now then (null when now is not known)."""
    end = hit.ended_at or now
    return {
        "window": hit.window_id,
        "label": hit.label,
        "started_at": iso_utc(hit.started_at),
        "ended_at": None if hit.ended_at is None else iso_utc(hit.ended_at),
        "seconds": None if end is None else max(0, int((end - hit.started_at).total_seconds())),
    }
