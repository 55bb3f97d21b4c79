"""Domain -> OpenRouter wire objects (pure).

The shapes follow shared/notes/openrouter-wire.md: every field of the seed's
``PublicEndpoint`` plus the newer fields the current official SDK requires.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from routeyard.health.window import UNMEASURED, EndpointKey, LiveStats, effective_status
from routeyard.models import Endpoint, Model, Provider


def pricing(e: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = dict(e.pricing.items())
    if e.pricing.discount is not None:
        # A number on the wire (OpenRouter sends ``0``); Decimal keeps it exact.
        out["discount"] = Decimal(e.pricing.discount)
    return out


def endpoint(m: Model, e: Endpoint, provider: Provider, live: LiveStats | None, *,
             with_performance: bool) -> dict[str, Any]:
    """One ``PublicEndpoint``; ``live`` holds the measured fields and ``status``, None when
    nothing was measured."""
    stats = live or UNMEASURED
    tc = e.tool_choice()
    return {
        "name": f"{provider.name} | {m.canonical_slug}",
        "model_id": m.id,
        "model_name": m.name,
        "context_length": e.context_length,
        "pricing": pricing(e),
        "provider_name": provider.name,
        "tag": e.tag,
        "quantization": e.quantization,
        "max_completion_tokens": e.max_completion_tokens,
        "max_prompt_tokens": e.max_prompt_tokens,
        "supported_parameters": list(e.supported_parameters),
        "status": effective_status(e, live),
        "uptime_last_30m": stats.uptime_last_30m,
        "uptime_last_5m": stats.uptime_last_5m,
        "uptime_last_1d": stats.uptime_last_1d,
        "latency_last_30m": stats.latency_last_30m if with_performance else None,
        "throughput_last_30m": stats.throughput_last_30m if with_performance else None,
        "supports_implicit_caching": e.supports_implicit_caching,
        "service_tier": e.service_tier,
        "supports_tool_choice": {
            "auto": tc.auto, "function": tc.function, "none": tc.none, "required": tc.required,
        },
        "native_tools": e.native_tools,
        "supports_diarization": e.supports_diarization,
    }


def architecture(m: Model) -> dict[str, Any]:
    return {
        "tokenizer": m.tokenizer,
        "instruct_type": m.instruct_type,
        "modality": m.modality,
        "input_modalities": list(m.input_modalities),
        "output_modalities": list(m.output_modalities),
    }


def listing_architecture(m: Model) -> dict[str, Any]:
    """``/models`` architecture: ``tokenizer`` is optional there but not nullable."""
    out = architecture(m)
    if out["tokenizer"] is None:
        del out["tokenizer"]
    return out


def endpoints_response(m: Model, providers: dict[str, Provider],
                       live: dict[EndpointKey, LiveStats], *, with_performance: bool
                       ) -> dict[str, Any]:
    return {
        "data": {
            "id": m.id,
            "name": m.name,
            "created": m.created,
            "description": m.description,
            "architecture": architecture(m),
            "endpoints": [
                endpoint(m, e, providers[e.provider], live.get((m.id, e.tag)),
                         with_performance=with_performance)
                for e in m.endpoints
            ],
        }
    }


def served_endpoints(m: Model) -> list[Endpoint]:
    """Endpoints that count for the model listing: those not disabled."""
    return [e for e in m.endpoints if not e.disabled]


def supported_parameters(m: Model) -> list[str]:
    """Union of the enabled endpoints' parameters, in first-seen order."""
    seen: dict[str, None] = {}
    for e in served_endpoints(m):
        for p in e.supported_parameters:
            seen.setdefault(p, None)
    return list(seen)


def model(m: Model) -> dict[str, Any] | None:
    """One ``Model`` of ``/models``, or None when no enabled endpoint serves it.

    The top provider is the first enabled endpoint in serving order; the model's pricing
    and context length are that endpoint's, as on OpenRouter.
    """
    eps = served_endpoints(m)
    if not eps:
        return None
    top = eps[0]
    default_parameters = (
        {k: Decimal(v) for k, v in m.default_parameters.items()}
        if m.default_parameters else None
    )
    return {
        "id": m.id,
        "canonical_slug": m.canonical_slug,
        "hugging_face_id": m.hugging_face_id,
        "name": m.name,
        "created": m.created,
        "description": m.description,
        "context_length": top.context_length,
        "architecture": listing_architecture(m),
        "pricing": pricing(top),
        "top_provider": {
            "context_length": top.context_length,
            "max_completion_tokens": top.max_completion_tokens,
            "is_moderated": top.is_moderated,
        },
        "per_request_limits": None,
        "supported_parameters": supported_parameters(m),
        "default_parameters": default_parameters,
        "knowledge_cutoff": m.knowledge_cutoff,
        "expiration_date": m.expiration_date,
        "supported_voices": None,
        "links": {"details": f"/api/v1/models/{m.id}/endpoints"},
    }


def provider(p: Provider) -> dict[str, Any]:
    return {
        "name": p.name,
        "slug": p.slug,
        "privacy_policy_url": p.privacy_policy_url,
        "terms_of_service_url": p.terms_of_service_url,
        "status_page_url": p.status_page_url,
    }
