"""OpenRouter's shapes of ``/key``, ``/generation`` and ``/activity`` (pure).

Every field of OpenRouter's spec of 2025-10-28 is present, and those OpenRouter's Python SDK
(``openrouter`` 1.3.x) requires besides; what routeyard cannot know is null (or zero for the
BYOK amounts, which routeyard does not have). Money is a JSON number written with the exact
decimal digits (``Encoder(decimal_format="number")``), never rounded through a float.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

from routeyard.accounting.periods import Usage, iso_day, next_reset, remaining
from routeyard.accounting.records import DayUsage, Generation, add_up
from routeyard.keys import KeyRecord

encoder = msgspec.json.Encoder(decimal_format="number")
RESETS = ("daily", "weekly", "monthly")


def _doc(description: str) -> Meta:
    return Meta(description=description)


def _usd(description: str) -> Meta:
    return Meta(description=f"{description} USD, the exact decimal digits.")


Usd = Annotated[Decimal, Meta(extra_json_schema={"minimum": 0})]
Reset = Annotated[str, Meta(extra_json_schema={"enum": list(RESETS)})]
DateTime = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
Byok = Annotated[int, _doc("Always 0 (no BYOK).")]


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """Legacy; always -1."""

    requests: int = -1
    interval: str = "10s"
    note: str = "This field is deprecated and safe to ignore."


class FreeModelRequests(msgspec.Struct, frozen=True, kw_only=True):
    limit: int = 0
    remaining: int = 0
    used: int = 0


class KeyBudget(msgspec.Struct, frozen=True, kw_only=True):
    """A key's spend limit as a budget layer."""

    budget_id: str | None
    guardrail_id: str | None
    include_byok: bool
    limit_usd: Annotated[Usd, _usd("The limit.")]
    remaining_usd: Annotated[Usd, _usd("Left in this period.")]
    reset_interval: Annotated[Reset | None, _doc("When the limit restarts; null: never.")]
    resets_at: DateTime | None
    scope: Annotated[str, _doc("`key_limit`: the key's own limit.")]
    spend_usd: Annotated[Usd, _usd("Spent in this period.")]


class CurrentKey(msgspec.Struct, frozen=True, kw_only=True):
    """The calling key."""

    label: Annotated[str, _doc("The key's name.")]
    limit: Annotated[Usd | None, _doc("The spend limit in USD; null: none.")]
    limit_remaining: Annotated[Usd | None, _doc("What is left of the limit in this period.")]
    limit_reset: Annotated[Reset | None, _doc(
        "When usage counted against the limit restarts (UTC; weeks from Monday); null: never.")]
    usage: Annotated[Usd, _usd("Spent in all.")]
    usage_daily: Annotated[Usd, _usd("Spent this UTC day.")]
    usage_weekly: Annotated[Usd, _usd("Spent this UTC week (from Monday).")]
    usage_monthly: Annotated[Usd, _usd("Spent this UTC month.")]
    byok_usage: Byok = 0
    byok_usage_daily: Byok = 0
    byok_usage_weekly: Byok = 0
    byok_usage_monthly: Byok = 0
    is_free_tier: Annotated[bool, _doc("Always false.")] = False
    is_provisioning_key: Annotated[bool, _doc("True for admin keys.")]
    is_management_key: Annotated[bool, _doc("True for admin keys.")]
    include_byok_in_limit: Annotated[bool, _doc("Always false.")] = False
    rate_limit: RateLimit = RateLimit()
    allowed_data_regions: list[str] = msgspec.field(default_factory=lambda: ["global"])
    budgets: list[KeyBudget]
    effective_budget: KeyBudget | None
    creator_user_id: str | None = None
    free_model_daily_requests: FreeModelRequests = FreeModelRequests()
    organization_id: str | None = None
    workspace_id: str | None = None


class CurrentKeyResponse(msgspec.Struct, frozen=True):
    data: CurrentKey


class ProviderAttempt(msgspec.Struct, frozen=True, kw_only=True):
    status: int | None
    endpoint_id: Annotated[str, _doc("The endpoint's tag.")]
    latency: float | None
    provider_name: str


class GenerationInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One routed request: counts, durations and cost; never a prompt or an answer."""

    id: Annotated[str, _doc("The `gen-…` id of the response.")]
    upstream_id: str | None
    total_cost: Annotated[Usd, _usd(
        "The cost, from the catalog's prices of the endpoint that answered.")]
    cache_discount: None = None
    upstream_inference_cost: None = None
    created_at: DateTime
    model: str
    app_id: None = None
    streamed: bool | None
    cancelled: bool | None
    provider_name: str | None
    latency: Annotated[float | None, _doc("Time to the first token, in ms.")]
    moderation_latency: None = None
    generation_time: Annotated[float | None, _doc("From the first token to the end, ms.")]
    finish_reason: str | None
    tokens_prompt: int | None
    tokens_completion: int | None
    native_tokens_prompt: int | None
    native_tokens_completion: int | None
    native_tokens_completion_images: None = None
    native_tokens_reasoning: int | None
    native_tokens_cached: int | None
    num_media_prompt: None = None
    num_input_audio_prompt: None = None
    num_media_completion: None = None
    num_search_results: None = None
    origin: str = ""
    usage: Annotated[Usd, _usd("The cost (as `total_cost`).")]
    is_byok: bool = False
    native_finish_reason: str | None
    external_user: str | None = None
    api_type: Annotated[str, _doc("`completions`.")] = "completions"
    # required by OpenRouter's SDK 1.3.x
    data_region: Annotated[str, _doc("`global`.")] = "global"
    http_referer: str | None = None
    num_fetches: None = None
    preset_id: str | None = None
    provider_responses: Annotated[list[ProviderAttempt], _doc("Every attempt, in order.")]
    router: str | None = None
    service_tier: str | None = None
    user_agent: str | None = None
    web_search_engine: str | None = None
    workspace_id: str | None = None


class GenerationResponse(msgspec.Struct, frozen=True):
    data: GenerationInfo


class ActivityItem(msgspec.Struct, frozen=True, kw_only=True):
    """Usage of one UTC day, model and provider, every key's added up."""

    date: Annotated[str, _doc("UTC day, YYYY-MM-DD.")]
    model: str
    model_permaslug: str
    endpoint_id: Annotated[str, _doc("`<model>@<provider slug>`.")]
    provider_name: str
    usage: Annotated[Usd, _usd("Spent.")]
    byok_usage_inference: int = 0
    requests: int
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cached_tokens: int


class ActivityResponse(msgspec.Struct, frozen=True):
    data: list[ActivityItem]


class AdminKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key as the admin API shows it (never the key itself)."""

    id: int
    name: str
    prefix: str
    scope: Annotated[str, Meta(description="The key's scope.",
                               extra_json_schema={"enum": ["read", "admin"]})]
    created_at: int
    last_used_at: int | None
    revoked_at: int | None
    limit: Annotated[Usd | None, _doc("Spend limit in USD; null: none.")]
    limit_reset: Annotated[str, Meta(
        description="When usage counted against the limit restarts.",
        extra_json_schema={"enum": [*RESETS, "never"]})]
    usage: Annotated[Usd, _usd("Spent in all.")]
    usage_daily: Annotated[Usd, _usd("This UTC day.")]
    usage_weekly: Annotated[Usd, _usd("This UTC week.")]
    usage_monthly: Annotated[Usd, _usd("This UTC month.")]
    requests: Annotated[int, _doc("Requests recorded in all.")]


class AdminKeyResponse(msgspec.Struct, frozen=True):
    data: AdminKey


class AdminKeyListResponse(msgspec.Struct, frozen=True):
    data: list[AdminKey]


#: The responses of /key, /generation, /activity and the admin key list, for the OpenAPI
#: document.
RESPONSES: tuple[type[msgspec.Struct], ...] = (
    CurrentKeyResponse, GenerationResponse, ActivityResponse, AdminKeyResponse,
    AdminKeyListResponse)


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


def key_data(key: KeyRecord, usage: Usage, now: float) -> CurrentKey:
    limit = None if key.spend_limit is None else Decimal(key.spend_limit)
    left = remaining(limit, key.limit_reset, usage)
    budgets: list[KeyBudget] = []
    if limit is not None and left is not None:
        resets = next_reset(key.limit_reset, now)
        budgets.append(KeyBudget(
            budget_id=None, guardrail_id=None, include_byok=False,
            limit_usd=limit, remaining_usd=left,
            reset_interval=key.limit_reset if key.limit_reset != "never" else None,
            resets_at=None if resets is None else _iso(resets),
            scope="key_limit", spend_usd=usage.counted(key.limit_reset),
        ))
    admin = key.scope == "admin"
    return CurrentKey(
        label=key.name,
        limit=limit,
        limit_remaining=left,
        limit_reset=None if key.limit_reset == "never" else key.limit_reset,
        usage=usage.total,
        usage_daily=usage.daily,
        usage_weekly=usage.weekly,
        usage_monthly=usage.monthly,
        is_provisioning_key=admin,
        is_management_key=admin,
        budgets=budgets,
        effective_budget=budgets[0] if budgets else None,
    )


def admin_key(key: KeyRecord, usage: Usage) -> AdminKey:
    return AdminKey(
        id=key.id, name=key.name, prefix=key.prefix, scope=key.scope,
        created_at=key.created_at, last_used_at=key.last_used_at, revoked_at=key.revoked_at,
        limit=None if key.spend_limit is None else Decimal(key.spend_limit),
        limit_reset=key.limit_reset or "never",
        usage=usage.total, usage_daily=usage.daily, usage_weekly=usage.weekly,
        usage_monthly=usage.monthly, requests=usage.requests,
    )


def generation_data(g: Generation) -> GenerationInfo:
    return GenerationInfo(
        id=g.id,
        upstream_id=g.upstream_id,
        total_cost=g.cost,
        created_at=_iso(g.created_at),
        model=g.model,
        streamed=g.streamed,
        cancelled=g.cancelled,
        provider_name=g.provider_name,
        latency=g.ttft_ms,
        generation_time=g.generation_ms,
        finish_reason=g.finish_reason,
        tokens_prompt=g.prompt_tokens,
        tokens_completion=g.completion_tokens,
        native_tokens_prompt=g.prompt_tokens,
        native_tokens_completion=g.completion_tokens,
        native_tokens_reasoning=g.reasoning_tokens,
        native_tokens_cached=g.cached_tokens,
        usage=g.cost,
        native_finish_reason=g.finish_reason,
        provider_responses=[
            ProviderAttempt(status=a.status, endpoint_id=a.tag, latency=a.duration_ms,
                             provider_name=a.provider)
            for a in g.attempts
        ],
    )


def activity_data(days: Iterable[DayUsage], *, permaslug: Callable[[str], str],
                  provider_name: Callable[[str], str]) -> list[ActivityItem]:
    """One item per UTC day, model and provider (every key's usage added up)."""
    grouped = add_up(days, lambda d: (d.day, d.model, d.provider))
    return [
        ActivityItem(
            date=iso_day(day), model=model, model_permaslug=permaslug(model),
            endpoint_id=f"{model}@{provider}" if provider else model,
            provider_name=provider_name(provider) if provider else "",
            usage=row[0], requests=row[1],
            prompt_tokens=row[2], completion_tokens=row[3], reasoning_tokens=row[4],
            cached_tokens=row[5],
        )
        for (day, model, provider), row in sorted(grouped.items(), key=lambda i: (
            -i[0][0], i[0][1], i[0][2]))
    ]
