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


class DataPolicy(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What a provider (or one endpoint, where it differs) does with prompts. ``None``: not
    known. Routing honours it: ``data_collection: "deny"`` keeps only endpoints whose
    ``training`` is False; ``zdr: true`` only endpoints that are zero-data-retention (see
    :meth:`is_zdr`). docs/catalog-format.md, "Data policy"."""

    training: bool | None = None  # prompts may be used to train models
    retains_prompts: bool | None = None  # prompts are stored past the request
    retention_days: int | None = None  # how long, when they are
    zdr: bool | None = None  # declared zero data retention

    def over(self, base: DataPolicy | None) -> DataPolicy:
        """This policy with the fields it leaves unknown taken from ``base``."""
        if base is None:
            return self
        return DataPolicy(
            training=base.training if self.training is None else self.training,
            retains_prompts=(base.retains_prompts if self.retains_prompts is None
                             else self.retains_prompts),
            retention_days=(base.retention_days if self.retention_days is None
                            else self.retention_days),
            zdr=base.zdr if self.zdr is None else self.zdr,
        )

    @property
    def is_zdr(self) -> bool:
        """Zero data retention: declared so, or known to neither retain nor train on
        prompts (an explicit ``zdr = false`` wins)."""
        if self.zdr is not None:
            return self.zdr
        return self.retains_prompts is False and self.training is False

    @property
    def empty(self) -> bool:
        return (self.training is None and self.retains_prompts is None
                and self.retention_days is None and self.zdr is None)


UNKNOWN_POLICY = DataPolicy()


class Provider(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str
    privacy_policy_url: str | None = None
    terms_of_service_url: str | None = None
    status_page_url: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    probe_completion: bool = False
    data_policy: DataPolicy | None = None


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
    data_policy: DataPolicy | None = None  # overrides the provider's, field by field

    def policy(self, provider: Provider | None) -> DataPolicy:
        """The endpoint's effective data policy: its own fields over its provider's."""
        base = provider.data_policy if provider is not None else None
        if self.data_policy is None:
            return base or UNKNOWN_POLICY
        return self.data_policy.over(base)

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
