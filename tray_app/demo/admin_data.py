"""The made-up API organization behind the simulated Admin API: its workspaces, people and daily figures.

Every figure is a pure function of the UTC day and the server clock: a past day always has the same
figures, today's grow with the clock, weekends are idle. Money is counted in whole millionths of a cent,
so every amount and every sum of amounts is exact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DEMO_ORGANIZATION_ID = "5c3f8a2e-7d41-4b9a-9e6f-2a1d0c8b7e55"
UNITS_PER_CENT = 1_000_000

_DAY_SECONDS = 86400
# Usage dimensions the demo does not vary, with the value a result shows when grouped by them.
_USAGE_FIXED_DIMENSIONS: tuple[tuple[str, str | None], ...] = (
    ("api_key_id", None),
    ("service_tier", "standard"),
    ("context_window", "0-200k"),
    ("inference_geo", "global"),
    ("speed", "standard"),
    ("account_id", None),
    ("service_account_id", None),
)


@dataclass(frozen=True)
class _Model:
    id: str
    label: str  # as the cost report's descriptions name it
    # US cents per million tokens: uncached input, output, cache read, 5 min cache write, 1 h cache write
    prices: tuple[int, int, int, int, int]


_MODELS: tuple[_Model, ...] = (
    _Model("claude-sonnet-4-20250514", "Claude Sonnet 4", (300, 1500, 30, 375, 600)),
    _Model("claude-opus-4-6", "Claude Opus 4.6", (500, 2500, 50, 625, 1000)),
    _Model("claude-haiku-4-5-20251001", "Claude Haiku 4.5", (100, 500, 10, 125, 200)),
    # A model newer than any client: it must be shown and summed, not dropped.
    _Model("claude-fable-5-20261101", "Claude Fable 5", (1000, 5000, 100, 1250, 2000)),
)

# (cost report token_type, description suffix, tokens per 1000 uncached input tokens), in price order.
_TOKEN_TYPES: tuple[tuple[str, str, int], ...] = (
    ("uncached_input_tokens", "Input Tokens", 1000),
    ("output_tokens", "Output Tokens", 250),
    ("cache_read_input_tokens", "Cache Read Input Tokens", 3000),
    ("cache_creation.ephemeral_5m_input_tokens", "5m Cache Write Input Tokens", 400),
    ("cache_creation.ephemeral_1h_input_tokens", "1h Cache Write Input Tokens", 100),
)


@dataclass(frozen=True)
class _DemoWorkspace:
    id: str | None  # None: the Default Workspace, which the API never lists
    name: str
    created: date
    archived: date | None
    color: str
    usage: tuple[tuple[str, int], ...]  # (model id, uncached input tokens on an average full weekday)
    searches: int  # web searches on an average full weekday


_WORKSPACES: tuple[_DemoWorkspace, ...] = (
    _DemoWorkspace(
        None,
        "Default Workspace",
        date(2024, 10, 30),
        None,
        "#888888",
        (("claude-haiku-4-5-20251001", 400_000), ("claude-sonnet-4-20250514", 150_000)),
        0,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoProduction7Hq2Lk9",
        "Production",
        date(2024, 11, 4),
        None,
        "#6C5BB9",
        (
            ("claude-sonnet-4-20250514", 2_000_000),
            ("claude-haiku-4-5-20251001", 3_000_000),
            ("claude-fable-5-20261101", 200_000),
        ),
        40,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoResearch4Vb8Nw3x",
        "Research",
        date(2025, 1, 13),
        None,
        "#2E9E6B",
        (("claude-opus-4-6", 600_000), ("claude-fable-5-20261101", 300_000)),
        25,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoClaudeCode9Tz5Rm",
        "Claude Code",
        date(2025, 6, 2),
        None,
        "#D97757",
        (("claude-opus-4-6", 900_000), ("claude-sonnet-4-20250514", 700_000)),
        0,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoStaging2Kd6Pq8Yw",
        "Staging",
        date(2025, 3, 17),
        None,
        "#3B82C4",
        (("claude-sonnet-4-20250514", 120_000), ("claude-haiku-4-5-20251001", 200_000)),
        0,
    ),
    _DemoWorkspace(
        "wrkspc_01DemoLegacyLab3Jm7Xc1",
        "Legacy Lab",
        date(2024, 11, 4),
        date(2025, 12, 1),
        "#B0B0B0",
        (("claude-sonnet-4-20250514", 250_000),),
        0,
    ),
)

# (id, email, name, role, added_at)
_USERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("user_01DemoJane5Wq8Hx2Lk4Pz7", "jane@example.com", "Jane Doe", "admin", "2024-10-30T23:58:27.427722Z"),
    ("user_01DemoOmar3Rt6Yb9Nc2Vm5", "omar@example.com", "Omar Haddad", "developer", "2024-11-04T09:12:44Z"),
    ("user_01DemoLiWei8Gs1Kf4Dj7Qa", "li.wei@example.com", "Li Wei", "developer", "2025-01-13T14:03:10Z"),
    (
        "user_01DemoPriya6Mn2Xs5Bt8Ke",
        "priya@example.com",
        "Priya Natarajan",
        "claude_code_user",
        "2025-03-02T08:30:00Z",
    ),
    ("user_01DemoSam4Hw7Ul1Zo3Fi9c", "sam@example.com", "Sam Okafor", "billing", "2025-04-22T16:45:51Z"),
    ("user_01DemoAna2Pe5Rj8Cy1Tu4n", "ana@example.com", "Ana Souza", "user", "2025-06-02T10:00:00Z"),
    (
        "user_01DemoMax9Lq3Wv6Ad2Gh5s",
        "max@example.com",
        "Max Müller",
        "claude_code_user",
        "2025-09-15T07:20:33Z",
    ),
)


@dataclass(frozen=True)
class _Coder:
    kind: str  # "user_actor" or "api_actor"
    name: str  # the email address or the API key's name
    terminal: str
    remote: bool  # Claude Code on the web: a row of its own
    usage: tuple[tuple[str, int], ...]  # (model id, input tokens on an average full weekday)


_CODERS: tuple[_Coder, ...] = (
    _Coder(
        "user_actor",
        "jane@example.com",
        "vscode",
        False,
        (("claude-opus-4-6", 400_000), ("claude-fable-5-20261101", 60_000)),
    ),
    _Coder("user_actor", "jane@example.com", "web", True, (("claude-sonnet-4-20250514", 150_000),)),
    _Coder("user_actor", "omar@example.com", "iTerm.app", False, (("claude-sonnet-4-20250514", 300_000),)),
    _Coder(
        "user_actor",
        "li.wei@example.com",
        "tmux",
        False,
        (("claude-opus-4-6", 250_000), ("claude-haiku-4-5-20251001", 100_000)),
    ),
    _Coder("user_actor", "priya@example.com", "vscode", False, (("claude-sonnet-4-20250514", 500_000),)),
    _Coder("user_actor", "priya@example.com", "web", True, (("claude-opus-4-6", 120_000),)),
    _Coder(
        "user_actor",
        "max@example.com",
        "cursor",
        False,
        (("claude-haiku-4-5-20251001", 200_000), ("claude-sonnet-4-20250514", 80_000)),
    ),
    _Coder("api_actor", "ci-review-bot", "non-interactive", False, (("claude-opus-4-6", 350_000),)),
    _Coder(
        "api_actor", "nightly-refactor", "non-interactive", False, (("claude-sonnet-4-20250514", 600_000),)
    ),
)


def _model(model_id: str) -> _Model:
    return next(model for model in _MODELS if model.id == model_id)


def _spread(*parts: object) -> int:
    """A stable figure in 0-999 for the parts: the same day and names always get the same one."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 1000


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _known_seconds(day: date, known_until: datetime) -> int:
    """How much of day (seconds from its midnight) lies before known_until."""
    return int(min(_DAY_SECONDS, max(0.0, (known_until - midnight(day)).total_seconds())))


def _scaled(average: int, spread: int, seconds: int) -> int:
    """A full day's figure between 0.5 and 1.5 times average, cut to the part of the day that is known."""
    return average * (500 + spread) // 1000 * seconds // _DAY_SECONDS


def cents_text(units: int) -> str:
    """Millionths of a cent as the cost report writes amounts: a decimal string in cents, e.g. "12.0"."""
    whole, fraction = divmod(units, UNITS_PER_CENT)
    return f"{whole}.{f'{fraction:06d}'.rstrip('0') or '0'}"


@dataclass(frozen=True)
class _Use:
    """One workspace's use of one model on one day."""

    workspace_id: str | None
    model: _Model
    tokens: tuple[int, ...]  # in _TOKEN_TYPES order
    searches: int


def _workspace_busy(workspace: _DemoWorkspace, day: date) -> bool:
    alive = workspace.created <= day and (workspace.archived is None or day < workspace.archived)
    return alive and day.weekday() < 5


def _day_usage(day: date, known_until: datetime) -> list[_Use]:
    seconds = _known_seconds(day, known_until)
    uses: list[_Use] = []
    for workspace in _WORKSPACES:
        if seconds == 0 or not _workspace_busy(workspace, day):
            continue
        for index, (model_id, average) in enumerate(workspace.usage):
            tokens = tuple(
                _scaled(average * per_thousand // 1000, _spread(day, workspace.id, model_id, kind), seconds)
                for kind, _, per_thousand in _TOKEN_TYPES
            )
            # Searches are billed per workspace; the usage report counts them under its first model.
            searches = _scaled(workspace.searches, _spread(day, workspace.id, "web_search"), seconds)
            uses.append(_Use(workspace.id, _model(model_id), tokens, searches if index == 0 else 0))
    return uses


@dataclass(frozen=True)
class _CostItem:
    workspace_id: str | None
    description: str
    cost_type: str
    token_type: str | None
    model: str | None
    units: int  # millionths of a cent


def _cost_items(day: date, known_until: datetime) -> list[_CostItem]:
    items: list[_CostItem] = []
    for use in _day_usage(day, known_until):
        for (kind, suffix, _), price, count in zip(_TOKEN_TYPES, use.model.prices, use.tokens, strict=True):
            if count:
                description = f"{use.model.label} Usage - {suffix}"
                items.append(
                    _CostItem(use.workspace_id, description, "tokens", kind, use.model.id, count * price)
                )
        if use.searches:
            # $10 per 1000 searches: one cent each.
            units = use.searches * UNITS_PER_CENT
            items.append(_CostItem(use.workspace_id, "Web Search Usage", "web_search", None, None, units))
    return items


def cost_results(day: date, known_until: datetime, group_by: frozenset[str]) -> list[dict[str, Any]]:
    by_description = "description" in group_by
    sums: dict[tuple[str | None, str | None], int] = {}
    sample: dict[tuple[str | None, str | None], _CostItem] = {}
    for item in _cost_items(day, known_until):
        key = (
            item.workspace_id if "workspace_id" in group_by else None,
            item.description if by_description else None,
        )
        sums[key] = sums.get(key, 0) + item.units
        sample.setdefault(key, item)
    results = []
    for key, units in sums.items():
        item = sample[key]
        per_token = by_description and item.cost_type == "tokens"
        results.append(
            {
                "amount": cents_text(units),
                "currency": "USD",
                "workspace_id": key[0],
                "description": key[1],
                "cost_type": item.cost_type if by_description else None,
                "token_type": item.token_type if by_description else None,
                "model": item.model if by_description else None,
                "service_tier": "standard" if per_token else None,
                "context_window": "0-200k" if per_token else None,
                "inference_geo": None,
            }
        )
    return results


def usage_results(day: date, known_until: datetime, group_by: frozenset[str]) -> list[dict[str, Any]]:
    sums: dict[tuple[str | None, str | None], list[int]] = {}
    for use in _day_usage(day, known_until):
        key = (
            use.workspace_id if "workspace_id" in group_by else None,
            use.model.id if "model" in group_by else None,
        )
        totals = sums.setdefault(key, [0] * (len(_TOKEN_TYPES) + 1))
        for index, count in enumerate((*use.tokens, use.searches)):
            totals[index] += count
    results = []
    for (workspace_id, model_id), (uncached, output, read, write_5m, write_1h, searches) in sums.items():
        result: dict[str, Any] = {
            "uncached_input_tokens": uncached,
            "cache_creation": {"ephemeral_1h_input_tokens": write_1h, "ephemeral_5m_input_tokens": write_5m},
            "cache_read_input_tokens": read,
            "output_tokens": output,
            "server_tool_use": {"web_search_requests": searches},
            "model": model_id,
            "workspace_id": workspace_id,
            "api_key_id": None,
            "service_tier": None,
            "context_window": None,
            "inference_geo": None,
        }
        result.update((name, value) for name, value in _USAGE_FIXED_DIMENSIONS if name in group_by)
        results.append(result)
    return results


def _code_model_entry(day: date, coder: _Coder, model_id: str, average: int, seconds: int) -> dict[str, Any]:
    model = _model(model_id)
    used = _scaled(average, _spread(day, coder.name, coder.remote, model_id), seconds)
    tokens = {"input": used, "output": used // 4, "cache_read": used * 3, "cache_creation": used * 2 // 5}
    units = sum(count * price for count, price in zip(tokens.values(), model.prices, strict=False))
    cents = (Decimal(units) / UNITS_PER_CENT).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    # A JSON number as the API sends it: whole cents as an integer, otherwise two decimals.
    amount: int | float = int(cents) if cents == cents.to_integral_value() else float(cents)
    return {"model": model.id, "tokens": tokens, "estimated_cost": {"currency": "USD", "amount": amount}}


def _code_record(day: date, coder: _Coder, breakdown: list[dict[str, Any]], seconds: int) -> dict[str, Any]:
    spread = _spread(day, coder.name, coder.remote)

    def part(full_day: int) -> int:
        return full_day * seconds // _DAY_SECONDS

    actor_key = "email_address" if coder.kind == "user_actor" else "api_key_name"
    return {
        "date": rfc3339(midnight(day)),
        "actor": {"type": coder.kind, actor_key: coder.name},
        "organization_id": DEMO_ORGANIZATION_ID,
        "customer_type": "api",
        "terminal_type": coder.terminal,
        "is_remote": coder.remote,
        "core_metrics": {
            "num_sessions": max(1, part(2 + spread % 6)),
            "lines_of_code": {"added": part(400 + spread * 2), "removed": part(150 + spread)},
            "commits_by_claude_code": part(spread % 9),
            "pull_requests_by_claude_code": part(spread % 3),
        },
        "tool_actions": {
            "edit_tool": {"accepted": part(20 + spread % 40), "rejected": part(spread % 5)},
            "multi_edit_tool": {"accepted": part(spread % 15), "rejected": part(spread % 3)},
            "write_tool": {"accepted": part(spread % 10), "rejected": part(spread % 2)},
            "notebook_edit_tool": {"accepted": part(spread % 4), "rejected": 0},
        },
        "model_breakdown": breakdown,
    }


def claude_code_records(day: date, known_until: datetime) -> list[dict[str, Any]]:
    seconds = _known_seconds(day, known_until)
    if seconds == 0 or day.weekday() >= 5:
        return []
    records = []
    for coder in _CODERS:
        entries = [
            _code_model_entry(day, coder, model_id, average, seconds) for model_id, average in coder.usage
        ]
        breakdown = [entry for entry in entries if entry["tokens"]["input"] > 0]
        if breakdown:
            records.append(_code_record(day, coder, breakdown, seconds))
    return records


def users() -> list[dict[str, Any]]:
    """Every member of the organization as GET /v1/organizations/users lists them."""
    return [
        {"id": user_id, "added_at": added, "email": email, "name": name, "role": role, "type": "user"}
        for user_id, email, name, role, added in _USERS
    ]


def workspaces(include_archived: bool) -> list[dict[str, Any]]:
    """The workspaces as GET /v1/organizations/workspaces lists them; never the Default Workspace."""
    return [
        {
            "id": workspace.id,
            "name": workspace.name,
            "type": "workspace",
            "created_at": rfc3339(midnight(workspace.created)),
            "archived_at": rfc3339(midnight(workspace.archived)) if workspace.archived else None,
            "display_color": workspace.color,
        }
        for workspace in _WORKSPACES
        if workspace.id is not None and (workspace.archived is None or include_archived)
    ]
