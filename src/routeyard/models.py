"""Domain types of the catalog: providers, models, endpoints, pricing.

Pure data, no I/O. Prices are decimal strings (see :mod:`routeyard.prices`), never floats.
"""

from __future__ import annotations

from typing import Annotated, get_type_hints

import msgspec
from msgspec import Meta

#: Known weight precisions, in OpenRouter's order; the catalog accepts no other.
QUANTIZATION_VALUES: tuple[str, ...] = (
    "int4", "int8", "fp4", "mxfp4", "nvfp4", "fp6", "fp8", "mxfp8", "fp16", "bf16", "fp32",
    "unknown",
)
QUANTIZATIONS: frozenset[str] = frozenset(QUANTIZATION_VALUES)
SERVICE_TIER_VALUES: tuple[str, ...] = ("flex", "priority", "ultrafast")
SERVICE_TIERS: frozenset[str] = frozenset(SERVICE_TIER_VALUES)
STATUS_NORMAL = 0
STATUS_DISABLED = -10

def named(name: str, description: str | None = None) -> Meta:
    """The schema of a scalar the OpenAPI document names (``#/components/schemas/<name>``,
    its known values listed by ``scripts/build_openapi.py``)."""
    return Meta(description=description,
                extra_json_schema={"$ref": f"#/components/schemas/{name}"})


#: A price as the catalog holds and serves it: a plain decimal string, never an exponent.
PRICE_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
Price = Annotated[str, Meta(pattern=PRICE_PATTERN)]


def _price(title: str, description: str) -> Meta:
    """A price key's label (the status pages' column title) and meaning (the API docs)."""
    return Meta(title=title, description=description)


class Prices(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """Prices in USD as decimal strings (never floats, never exponents), exactly as the
    catalog holds them. ``"0"`` means free; ``None`` (left out on the wire) is not charged.

    The one declaration of the price keys: their order is OpenRouter's serving order (so a
    captured response round-trips byte for byte), and the catalog validator, the store's
    columns, the status pages and the OpenAPI document all read them from here."""

    prompt: Annotated[Price, _price("Input", "USD per input token.")]
    completion: Annotated[Price, _price("Output", "USD per output token.")]
    request: Annotated[Price | None, _price("Per request", "USD per request.")] = None
    image: Annotated[Price | None, _price("Image input", "USD per input image.")] = None
    image_output: Annotated[Price | None, _price("Image output", "USD per output image.")] = None
    audio: Annotated[Price | None, _price("Audio input", "USD per audio input token.")] = None
    input_audio_cache: Annotated[
        Price | None, _price("Audio cache", "USD per cached audio input token.")] = None
    web_search: Annotated[Price | None, _price("Web search", "USD per web search.")] = None
    internal_reasoning: Annotated[
        Price | None, _price("Reasoning", "USD per internal reasoning token.")] = None
    input_cache_read: Annotated[
        Price | None, _price("Cache read", "USD per cached input token read.")] = None
    input_cache_write: Annotated[
        Price | None, _price("Cache write", "USD per input token written to the cache.")] = None


#: The price keys in serving order (``discount`` is not a price).
PRICE_FIELDS: tuple[str, ...] = Prices.__struct_fields__


class Pricing(Prices, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """An endpoint's prices, as the catalog file and the admin API write them."""

    discount: Annotated[Price | None, Meta(
        description="Fraction off every price, between 0 and 1 (a number on the discovery "
        "API): the effective price is price × (1 − discount).")] = None

    def items(self) -> list[tuple[str, str]]:
        """Present price keys in serving order (``discount`` excluded)."""
        out = []
        for name in PRICE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out.append((name, value))
        return out


def field_titles(cls: type[msgspec.Struct]) -> dict[str, str]:
    """``{field: title}`` of the fields of ``cls`` annotated with a ``Meta(title=...)``."""
    out: dict[str, str] = {}
    for name, hint in get_type_hints(cls, include_extras=True).items():
        for meta in getattr(hint, "__metadata__", ()):
            if isinstance(meta, Meta) and meta.title is not None:
                out[name] = meta.title
    return out


class ToolChoiceSupport(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which `tool_choice` values the endpoint supports."""

    auto: bool = False
    function: bool = False
    none: bool = False
    required: bool = False


#: The longest retention a data policy may declare, in days.
MAX_RETENTION_DAYS = 100 * 366


class DataPolicy(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True,
                 forbid_unknown_fields=True):
    """What is done with prompts (docs/catalog-format.md, "Data policy"), by a provider or by
    one endpoint where it differs; a field left out is not known. Routing honours it:
    `data_collection: "deny"` keeps only endpoints with `training: false`; `zdr: true` only
    zero-data-retention ones."""

    training: Annotated[bool | None, Meta(
        description="Prompts may be used to train models.")] = None
    retains_prompts: Annotated[bool | None, Meta(
        description="Prompts are stored past the request.")] = None
    retention_days: Annotated[
        Annotated[int, Meta(ge=0, le=MAX_RETENTION_DAYS)] | None,
        Meta(description="How long prompts are kept.")] = None
    zdr: Annotated[bool | None, Meta(description="Zero data retention.")] = None

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
    supports_tool_choice: ToolChoiceSupport | None = None
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

    def tool_choice(self) -> ToolChoiceSupport:
        """Declared tool-choice support, or the default derived from the parameters."""
        if self.supports_tool_choice is not None:
            return self.supports_tool_choice
        on = "tool_choice" in self.supported_parameters
        return ToolChoiceSupport(auto=on, function=on, none=on, required=on)


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
