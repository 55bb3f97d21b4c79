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
from typing import Any

import msgspec

from routeyard.accounting.periods import Usage, iso_day, next_reset, remaining
from routeyard.accounting.records import DayUsage, Generation, add_up
from routeyard.keys import KeyRecord

encoder = msgspec.json.Encoder(decimal_format="number")
RATE_LIMIT = {"requests": -1, "interval": "10s",
              "note": "This field is deprecated and safe to ignore."}


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


def key_data(key: KeyRecord, usage: Usage, now: float) -> dict[str, Any]:
    limit = None if key.spend_limit is None else Decimal(key.spend_limit)
    left = remaining(limit, key.limit_reset, usage)
    budgets: list[dict[str, Any]] = []
    if limit is not None and left is not None:
        resets = next_reset(key.limit_reset, now)
        budgets.append({
            "budget_id": None, "guardrail_id": None, "include_byok": False,
            "limit_usd": limit, "remaining_usd": left,
            "reset_interval": key.limit_reset if key.limit_reset != "never" else None,
            "resets_at": None if resets is None else _iso(resets),
            "scope": "key_limit", "spend_usd": usage.counted(key.limit_reset),
        })
    admin = key.scope == "admin"
    return {
        "label": key.name,
        "limit": limit,
        "limit_remaining": left,
        "limit_reset": None if key.limit_reset == "never" else key.limit_reset,
        "usage": usage.total,
        "usage_daily": usage.daily,
        "usage_weekly": usage.weekly,
        "usage_monthly": usage.monthly,
        "byok_usage": 0, "byok_usage_daily": 0, "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "is_free_tier": False,
        "is_provisioning_key": admin,
        "is_management_key": admin,
        "include_byok_in_limit": False,
        "rate_limit": RATE_LIMIT,
        "allowed_data_regions": ["global"],
        "budgets": budgets,
        "effective_budget": budgets[0] if budgets else None,
        "creator_user_id": None,
        "free_model_daily_requests": {"limit": 0, "remaining": 0, "used": 0},
        "organization_id": None,
        "workspace_id": None,
    }


def generation_data(g: Generation) -> dict[str, Any]:
    return {
        "id": g.id,
        "upstream_id": g.upstream_id,
        "total_cost": g.cost,
        "cache_discount": None,
        "upstream_inference_cost": None,
        "created_at": _iso(g.created_at),
        "model": g.model,
        "app_id": None,
        "streamed": g.streamed,
        "cancelled": g.cancelled,
        "provider_name": g.provider_name,
        "latency": g.ttft_ms,
        "moderation_latency": None,
        "generation_time": g.generation_ms,
        "finish_reason": g.finish_reason,
        "tokens_prompt": g.prompt_tokens,
        "tokens_completion": g.completion_tokens,
        "native_tokens_prompt": g.prompt_tokens,
        "native_tokens_completion": g.completion_tokens,
        "native_tokens_completion_images": None,
        "native_tokens_reasoning": g.reasoning_tokens,
        "native_tokens_cached": g.cached_tokens,
        "num_media_prompt": None,
        "num_input_audio_prompt": None,
        "num_media_completion": None,
        "num_search_results": None,
        "origin": "",
        "usage": g.cost,
        "is_byok": False,
        "native_finish_reason": g.finish_reason,
        "external_user": None,
        "api_type": "completions",
        # required by OpenRouter's SDK 1.3.x
        "data_region": "global",
        "http_referer": None,
        "num_fetches": None,
        "preset_id": None,
        "provider_responses": [
            {"status": a.status, "endpoint_id": a.tag, "latency": a.duration_ms,
             "provider_name": a.provider}
            for a in g.attempts
        ],
        "router": None,
        "service_tier": None,
        "user_agent": None,
        "web_search_engine": None,
        "workspace_id": None,
    }


def activity_data(days: Iterable[DayUsage], *, permaslug: Callable[[str], str],
                  provider_name: Callable[[str], str]) -> list[dict[str, Any]]:
    """One item per UTC day, model and provider (every key's usage added up)."""
    grouped = add_up(days, lambda d: (d.day, d.model, d.provider))
    return [
        {
            "date": iso_day(day), "model": model, "model_permaslug": permaslug(model),
            "endpoint_id": f"{model}@{provider}" if provider else model,
            "provider_name": provider_name(provider) if provider else "",
            "usage": row[0], "byok_usage_inference": 0, "requests": row[1],
            "prompt_tokens": row[2], "completion_tokens": row[3], "reasoning_tokens": row[4],
            "cached_tokens": row[5],
        }
        for (day, model, provider), row in sorted(grouped.items(), key=lambda i: (
            -i[0][0], i[0][1], i[0][2]))
    ]
