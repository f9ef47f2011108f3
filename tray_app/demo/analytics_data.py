"""Who spent the demo organization's money: the raw records behind the simulated Analytics API.

The records are the legacy cost report's own items (admin_data) split between the API keys, users and
service accounts that work in each workspace, in whole millionths of a cent with the remainder going to
the first spender, so the two reports agree exactly on every day. Like the cost report, a record is a pure
function of its UTC day and the server clock: past days never change, today's grow with the clock.

A deleted API key and a deleted user spend only on the first DELETED_AFTER_DAY - 1 days of each month; the
key lists as archived from that day of the clock's month on, and the user is never among the members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tray_app.demo.admin_data import UNITS_PER_CENT, _cost_items, cents_text, midnight, rfc3339

DELETED_AFTER_DAY = 8
# A negotiated discount: in this workspace the list price is 100/85 of what is billed.
_DISCOUNTED_WORKSPACE = "wrkspc_01DemoProduction7Hq2Lk9"


@dataclass(frozen=True)
class _Key:
    id: str
    name: str
    workspace_id: str | None
    created: date
    created_by: str  # user id
    hint: str
    deleted: bool = False  # spends early in each month, archived from DELETED_AFTER_DAY on
    retired: bool = False  # archived with its workspace long ago


_KEYS: tuple[_Key, ...] = (
    _Key(
        "apikey_01DemoScratch3Fh8Tq",
        "jane-scratch",
        None,
        date(2024, 10, 31),
        "user_01DemoJane5Wq8Hx2Lk4Pz7",
        "Xa1",
    ),
    _Key(
        "apikey_01DemoProdBackend6Lm2",
        "prod-backend",
        "wrkspc_01DemoProduction7Hq2Lk9",
        date(2024, 11, 4),
        "user_01DemoJane5Wq8Hx2Lk4Pz7",
        "Pb7",
    ),
    _Key(
        "apikey_01DemoOldIngest9Rw4Zd",
        "old-ingest",
        "wrkspc_01DemoProduction7Hq2Lk9",
        date(2024, 12, 2),
        "user_01DemoOmar3Rt6Yb9Nc2Vm5",
        "Oi4",
        deleted=True,
    ),
    _Key(
        "apikey_01DemoNotebook2Ks5Vx",
        "research-notebook",
        "wrkspc_01DemoResearch4Vb8Nw3x",
        date(2025, 1, 14),
        "user_01DemoLiWei8Gs1Kf4Dj7Qa",
        "Rn2",
    ),
    _Key(
        "apikey_01DemoCodeJane4Tb7Np",
        "claude_code_key_jane",
        "wrkspc_01DemoClaudeCode9Tz5Rm",
        date(2025, 6, 2),
        "user_01DemoJane5Wq8Hx2Lk4Pz7",
        "Cj9",
    ),
    _Key(
        "apikey_01DemoCodePriya8Qd3Hm",
        "claude_code_key_priya",
        "wrkspc_01DemoClaudeCode9Tz5Rm",
        date(2025, 6, 3),
        "user_01DemoPriya6Mn2Xs5Bt8Ke",
        "Cp3",
    ),
    _Key(
        "apikey_01DemoStagingCi5Gv1Wy",
        "staging-ci",
        "wrkspc_01DemoStaging2Kd6Pq8Yw",
        date(2025, 3, 18),
        "user_01DemoOmar3Rt6Yb9Nc2Vm5",
        "Sc5",
    ),
    _Key(
        "apikey_01DemoLegacyLab7Bn6Ju",
        "legacy-lab",
        "wrkspc_01DemoLegacyLab3Jm7Xc1",
        date(2024, 11, 5),
        "user_01DemoSam4Hw7Ul1Zo3Fi9c",
        "Ll6",
        retired=True,
    ),
)

# Users as the actor objects show them: (id, email, name, deleted). The deleted one is no longer a member.
_ACTOR_USERS: dict[str, tuple[str, str, bool]] = {
    "user_01DemoJane5Wq8Hx2Lk4Pz7": ("jane@example.com", "Jane Doe", False),
    "user_01DemoLiWei8Gs1Kf4Dj7Qa": ("li.wei@example.com", "Li Wei", False),
    "user_01DemoPriya6Mn2Xs5Bt8Ke": ("priya@example.com", "Priya Natarajan", False),
    "user_01DemoRobin1Xe4Kc7Pw2Dq": ("robin@example.com", "Robin Former", True),
}
SERVICE_ACCOUNTS = ("svac_01DemoBatch6Wd2Rt9", "svac_01DemoCiRunner3Hy8")
_DELETED_SPENDERS = frozenset({"apikey_01DemoOldIngest9Rw4Zd", "user_01DemoRobin1Xe4Kc7Pw2Dq"})


@dataclass(frozen=True)
class _Spender:
    api_key_id: str | None  # None: not through an API key (a service account's federated token, the Console)
    actor_id: str  # user_…, svac_… or apikey_…
    weight: int


# Who spends in each workspace, and what share.
_SPENDERS: dict[str | None, tuple[_Spender, ...]] = {
    None: (
        _Spender("apikey_01DemoScratch3Fh8Tq", "apikey_01DemoScratch3Fh8Tq", 3),
        _Spender(None, "user_01DemoJane5Wq8Hx2Lk4Pz7", 1),
    ),
    "wrkspc_01DemoProduction7Hq2Lk9": (
        _Spender("apikey_01DemoProdBackend6Lm2", "apikey_01DemoProdBackend6Lm2", 5),
        _Spender(None, "svac_01DemoBatch6Wd2Rt9", 3),
        _Spender("apikey_01DemoOldIngest9Rw4Zd", "apikey_01DemoOldIngest9Rw4Zd", 2),
    ),
    "wrkspc_01DemoResearch4Vb8Nw3x": (
        _Spender("apikey_01DemoNotebook2Ks5Vx", "apikey_01DemoNotebook2Ks5Vx", 3),
        _Spender(None, "user_01DemoLiWei8Gs1Kf4Dj7Qa", 2),
        _Spender(None, "user_01DemoRobin1Xe4Kc7Pw2Dq", 1),
    ),
    "wrkspc_01DemoClaudeCode9Tz5Rm": (
        _Spender("apikey_01DemoCodeJane4Tb7Np", "user_01DemoJane5Wq8Hx2Lk4Pz7", 3),
        _Spender("apikey_01DemoCodePriya8Qd3Hm", "user_01DemoPriya6Mn2Xs5Bt8Ke", 2),
    ),
    "wrkspc_01DemoStaging2Kd6Pq8Yw": (
        _Spender("apikey_01DemoStagingCi5Gv1Wy", "svac_01DemoCiRunner3Hy8", 1),
    ),
    "wrkspc_01DemoLegacyLab3Jm7Xc1": (
        _Spender("apikey_01DemoLegacyLab7Bn6Ju", "apikey_01DemoLegacyLab7Bn6Ju", 1),
    ),
}


@dataclass(frozen=True)
class AnalyticsRecord:
    """One spender's share of one cost report item on one day."""

    day: date
    workspace_id: str | None
    model: str | None  # None for web search, which no model is billed for
    cost_type: str
    token_type: str | None
    api_key_id: str | None
    actor_id: str
    units: int  # millionths of a cent, after discount
    list_units: int  # millionths of a cent, list price
    requests: int

    @property
    def amount(self) -> str:
        """The amount as the API writes it: a decimal string in cents, fractional cents kept."""
        return cents_text(self.units)

    @property
    def list_amount(self) -> str:
        return cents_text(self.list_units)


def _active(spender: _Spender, day: date) -> bool:
    deleted = spender.actor_id in _DELETED_SPENDERS or spender.api_key_id in _DELETED_SPENDERS
    return not deleted or day.day < DELETED_AFTER_DAY


def _split(units: int, weights: list[int]) -> list[int]:
    total = sum(weights)
    parts = [units * weight // total for weight in weights]
    parts[0] += units - sum(parts)
    return parts


def analytics_records(day: date, known_until: datetime) -> list[AnalyticsRecord]:
    """Every record of day known by known_until; their amounts sum to the cost report's for that day."""
    records: list[AnalyticsRecord] = []
    for item in _cost_items(day, known_until):
        spenders = [s for s in _SPENDERS[item.workspace_id] if _active(s, day)]
        parts = _split(item.units, [spender.weight for spender in spenders])
        for spender, units in zip(spenders, parts, strict=True):
            if units == 0:
                continue
            discounted = item.workspace_id == _DISCOUNTED_WORKSPACE
            list_units = units * 100 // 85 if discounted else units
            calls = units // (5 * UNITS_PER_CENT) + 1 if item.token_type == "uncached_input_tokens" else 0
            records.append(
                AnalyticsRecord(
                    day,
                    item.workspace_id,
                    item.model,
                    item.cost_type,
                    item.token_type,
                    spender.api_key_id,
                    spender.actor_id,
                    units,
                    list_units,
                    calls,
                )
            )
    return records


def actor_object(actor_id: str) -> dict[str, Any]:
    """The actor as the Analytics API writes it when grouped by actor."""
    if actor_id.startswith("user_"):
        email, name, deleted = _ACTOR_USERS[actor_id]
        return {
            "type": "user_actor",
            "user_id": actor_id,
            "email_address": email,
            "name": name,
            "deleted": deleted,
        }
    if actor_id.startswith("svac_"):
        return {"type": "service_account_actor", "service_account_id": actor_id}
    return {"type": "api_actor", "api_key_id": actor_id}


def api_keys(now: datetime) -> list[dict[str, Any]]:
    """Every API key as GET /v1/organizations/api_keys lists them, the deleted one archived."""
    gone = now.day >= DELETED_AFTER_DAY
    return [
        {
            "id": key.id,
            "type": "api_key",
            "name": key.name,
            "workspace_id": key.workspace_id,
            "created_at": rfc3339(midnight(key.created)),
            "created_by": {"id": key.created_by, "type": "user"},
            "partial_key_hint": f"sk-ant-api03-{key.hint}...{key.hint[::-1]}AA",
            "status": "archived" if key.retired or (key.deleted and gone) else "active",
        }
        for key in _KEYS
    ]
