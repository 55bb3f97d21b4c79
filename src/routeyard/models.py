"""Domain types of the catalog: providers, models, endpoints, pricing.

Pure data, no I/O. Prices are decimal strings (see :mod:`routeyard.prices`), never floats.
"""

from __future__ import annotations

import msgspec

# The order in which pricing keys are served: OpenRouter's own order, so that a captured
# response round-trips byte for byte.
PRICE_FIELDS: tuple[str, ...] = (
    "prompt",
    "completion",
    "request",
    "image",
    "image_output",
    "audio",
    "input_audio_cache",
    "web_search",
    "internal_reasoning",
    "input_cache_read",
    "input_cache_write",
)
QUANTIZATIONS: frozenset[str] = frozenset(
    {"int4", "int8", "fp4", "mxfp4", "nvfp4", "fp6", "fp8", "mxfp8", "fp16", "bf16", "fp32", "unknown"}
)
SERVICE_TIERS: frozenset[str] = frozenset({"flex", "priority", "ultrafast"})
STATUS_NORMAL = 0
STATUS_DISABLED = -10


class Pricing(msgspec.Struct, frozen=True, omit_defaults=True):
    """Prices in USD as decimal strings. ``None`` means the key is absent on the wire."""

    prompt: str
    completion: str
    request: str | None = None
    image: str | None = None
    image_output: str | None = None
    audio: str | None = None
    input_audio_cache: str | None = None
    web_search: str | None = None
    internal_reasoning: str | None = None
    input_cache_read: str | None = None
    input_cache_write: str | None = None
    discount: str | None = None

    def items(self) -> list[tuple[str, str]]:
        """Present price keys in serving order (``discount`` excluded)."""
        out = []
        for name in PRICE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out.append((name, value))
        return out


class ToolChoice(msgspec.Struct, frozen=True):
    auto: bool = False
    function: bool = False
    none: bool = False
    required: bool = False


class Provider(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str
    privacy_policy_url: str | None = None
    terms_of_service_url: str | None = None
    status_page_url: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    probe_completion: bool = False


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    tag: str
    context_length: int
    pricing: Pricing
    max_completion_tokens: int | None = None
    max_prompt_tokens: int | None = None
    quantization: str | None = None
    supported_parameters: tuple[str, ...] = ()
    supports_implicit_caching: bool = False
    service_tier: str | None = None
    supports_tool_choice: ToolChoice | None = None
    native_tools: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)
    supports_diarization: bool = False
    is_moderated: bool = False
    disabled: bool = False
    provider_model_id: str | None = None
    source: str | None = None
    imported_at: int | None = None

    def tool_choice(self) -> ToolChoice:
        """Declared tool-choice support, or the default derived from the parameters."""
        if self.supports_tool_choice is not None:
            return self.supports_tool_choice
        on = "tool_choice" in self.supported_parameters
        return ToolChoice(auto=on, function=on, none=on, required=on)


class Model(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    canonical_slug: str
    name: str
    created: int
    description: str = ""
    hugging_face_id: str | None = None
    tokenizer: str | None = None
    instruct_type: str | None = None
    modality: str | None = None
    input_modalities: tuple[str, ...] = ("text",)
    output_modalities: tuple[str, ...] = ("text",)
    knowledge_cutoff: str | None = None
    expiration_date: str | None = None
    default_parameters: dict[str, str] | None = None
    endpoints: tuple[Endpoint, ...] = ()


class Catalog(msgspec.Struct, frozen=True, kw_only=True):
    """A whole catalog: what a file declares or what the database holds."""

    providers: tuple[Provider, ...] = ()
    models: tuple[Model, ...] = ()

    def provider_map(self) -> dict[str, Provider]:
        return {p.slug: p for p in self.providers}
