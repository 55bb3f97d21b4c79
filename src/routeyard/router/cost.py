"""What an answer cost, from the catalog's exact decimal prices (pure).

Prices are USD per token (``prompt``, ``completion``, ``internal_reasoning``,
``input_cache_read``) and per request (``request``), decimal strings; the result is an exact
``Decimal``. Cached prompt tokens are charged at ``input_cache_read`` where the endpoint has
that price, else at ``prompt``; reasoning tokens (part of the completion tokens) at
``internal_reasoning`` where present, else at ``completion``. ``discount`` (a fraction) lowers
the whole. Tokens are the upstream's own usage figures.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from routeyard.models import Pricing

ZERO = Decimal(0)


class Tokens(msgspec.Struct, frozen=True, kw_only=True):
    prompt: int = 0
    completion: int = 0
    reasoning: int = 0  # included in completion
    cached: int = 0  # included in prompt

    @property
    def total(self) -> int:
        return self.prompt + self.completion


def _price(value: str | None, fallback: str) -> Decimal:
    return Decimal(value if value is not None else fallback)


def cost(pricing: Pricing, tokens: Tokens) -> Decimal:
    """USD for one answer of ``tokens`` at ``pricing``."""
    cached = min(max(tokens.cached, 0), max(tokens.prompt, 0))
    reasoning = min(max(tokens.reasoning, 0), max(tokens.completion, 0))
    total = (
        (max(tokens.prompt, 0) - cached) * Decimal(pricing.prompt)
        + cached * _price(pricing.input_cache_read, pricing.prompt)
        + (max(tokens.completion, 0) - reasoning) * Decimal(pricing.completion)
        + reasoning * _price(pricing.internal_reasoning, pricing.completion)
        + _price(pricing.request, "0")
    )
    if pricing.discount is not None:
        total *= 1 - Decimal(pricing.discount)
    return total.normalize() if total else ZERO


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def tokens_of(usage: object) -> Tokens:
    """Token counts from an OpenAI-style ``usage`` object (missing or odd fields: 0)."""
    if not isinstance(usage, dict):
        return Tokens()
    details = usage.get("completion_tokens_details")
    prompt_details = usage.get("prompt_tokens_details")
    return Tokens(
        prompt=_int(usage.get("prompt_tokens")),
        completion=_int(usage.get("completion_tokens")),
        reasoning=_int(details.get("reasoning_tokens")) if isinstance(details, dict) else 0,
        cached=_int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict)
        else 0,
    )


def usage_body(tokens: Tokens, usd: Decimal) -> dict[str, object]:
    """OpenRouter's ``usage`` object."""
    return {
        "prompt_tokens": tokens.prompt,
        "completion_tokens": tokens.completion,
        "total_tokens": tokens.total,
        "prompt_tokens_details": {"cached_tokens": tokens.cached},
        "completion_tokens_details": {"reasoning_tokens": tokens.reasoning},
        "cost": usd,
    }
