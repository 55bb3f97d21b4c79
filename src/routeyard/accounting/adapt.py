"""The router's record as a generation record (pure): the sink the app gives the router."""

from __future__ import annotations

from collections.abc import Callable

from routeyard.accounting.records import Attempt, Generation
from routeyard.router.record import RoutedRequest


def generation_of(r: RoutedRequest,
                  provider_name: Callable[[str], str | None]) -> Generation | None:
    """``r`` as a :class:`Generation`; None for a request without a key (nothing to bill)."""
    if r.key_id is None:
        return None
    # ``ttft_ms``: a stream's time to first token; a whole answer's time to its last byte.
    ttft = r.ttft_ms
    return Generation(
        id=r.generation_id, key_id=r.key_id, model=r.model_used or r.model,
        provider=r.provider, provider_name=provider_name(r.provider) if r.provider else None,
        tag=r.tag,
        attempts=tuple(Attempt(provider=a.provider, tag=a.tag, status=a.http_status,
                               reason=a.reason or None, ttft_ms=a.ttft_ms,
                               duration_ms=a.duration_ms) for a in r.attempts),
        prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens,
        reasoning_tokens=r.reasoning_tokens, cached_tokens=r.cached_tokens, cost=r.cost,
        ttft_ms=ttft, generation_ms=r.generation_ms,
        latency_ms=None, finish_reason=r.finish_reason, streamed=r.streamed,
        cancelled=r.cancelled, created_at=float(r.created),
    )
