"""The discovery API's wire shapes, declared once, and domain -> wire (pure).

The shapes follow shared/notes/openrouter-wire.md: every field of the seed's
``PublicEndpoint`` plus the newer fields the current official SDK requires. Each class is
one component of the OpenAPI document (``scripts/build_openapi.py`` derives them with
``msgspec.json.schema_components``), so a field, its type and its description are written
here only. Field order is the order on the wire; a field sent as ``null`` has no default (an
``omit_defaults`` Struct would leave it out), one left out when unknown defaults to ``UNSET``.

A name given to a plain string or integer (``Quantization``, ``ProviderName`` ...) is a
reference to the component of that name, whose known values the generator lists.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from routeyard import models
from routeyard.health.histogram import PercentileStats
from routeyard.health.window import UNMEASURED, EndpointKey, LiveStats, effective_status
from routeyard.models import Endpoint, Prices, Provider, ToolChoiceSupport, named


def _doc(description: str) -> Meta:
    return Meta(description=description)


ProviderName = Annotated[str, named("ProviderName")]
Quantization = Annotated[str, named("Quantization")]
ServiceTier = Annotated[str, named("ServiceTier")]
EndpointStatus = Annotated[int, named("EndpointStatus")]
Parameter = Annotated[str, named("Parameter")]
ModelGroup = Annotated[str, named("ModelGroup")]
InstructType = Annotated[str, named("InstructType")]
InputModality = Annotated[str, named("InputModality")]
OutputModality = Annotated[str, named("OutputModality")]
Unix = Annotated[int, _doc("Unix seconds.")]
Uptime = Annotated[float, Meta(ge=0, le=100)]
NativeTool = Annotated[dict[str, str], Meta(extra_json_schema={"required": ["type"]})]


def _uptime(window: str) -> Meta:
    return _doc(f"Uptime percentage (0–100, unrounded) over the last {window}; null when "
                "there is too little traffic to say.")


def _percentiles(what: str) -> Meta:
    return _doc(f"{what} over the last 30 minutes; null when there is too little data, and "
                "for callers without a key (as on OpenRouter).")


class PublicEndpointPricing(Prices, frozen=True, omit_defaults=True,
                            forbid_unknown_fields=True):
    """Prices in USD as decimal strings, exactly as the catalog holds them: never floats,
    never exponents. `"0"` means free; an absent key is not charged."""

    discount: Annotated[Decimal | None, Meta(
        description="Fraction off every price: the effective price is price × (1 − discount).",
        extra_json_schema={"minimum": 0, "maximum": 1})] = None


class ModelArchitecture(msgspec.Struct, frozen=True, kw_only=True):
    """A model's architecture."""

    tokenizer: Annotated[ModelGroup | None | UnsetType, _doc(
        "Tokenizer family. When unknown: null in a model's endpoint list, left out of "
        "`/models` (as OpenRouter's spec has it).")] = UNSET
    instruct_type: InstructType | None
    modality: Annotated[str | None, _doc("e.g. `text+image->text`.")]
    input_modalities: list[InputModality]
    output_modalities: list[OutputModality]


class PublicEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """One endpoint: a provider serving the model. routeyard always sends every field,
    `status` included (optional on OpenRouter)."""

    name: Annotated[str, _doc(
        "`<provider display name> | <model permaslug>`. Not unique: two endpoints of one "
        "provider may differ only in `tag`.")]
    model_id: Annotated[str, _doc("The model's public id (permaslug).")]
    model_name: Annotated[str, _doc("The model's display name.")]
    context_length: Annotated[int, Meta(ge=1, description="Tokens.")]
    pricing: PublicEndpointPricing
    provider_name: ProviderName
    tag: Annotated[str, _doc(
        "Routing slug: the provider slug plus an optional variant (quantization "
        "`deepinfra/fp8`, region `google-vertex/us-east5`, tier `openai/flex`). Unique "
        "within a model.")]
    quantization: Quantization | None
    max_completion_tokens: int | None
    max_prompt_tokens: int | None
    supported_parameters: list[Parameter]
    status: EndpointStatus
    uptime_last_30m: Annotated[Uptime | None, _uptime("30 minutes")]
    uptime_last_5m: Annotated[Uptime | None, _uptime("5 minutes")]
    uptime_last_1d: Annotated[Uptime | None, _uptime("day")]
    latency_last_30m: Annotated[PercentileStats | None, _percentiles(
        "Time to first token, in milliseconds,")]
    throughput_last_30m: Annotated[PercentileStats | None, _percentiles(
        "Output tokens per second")]
    supports_implicit_caching: Annotated[bool, _doc(
        "The provider caches prompts automatically.")]
    service_tier: ServiceTier | None
    supports_tool_choice: ToolChoiceSupport
    native_tools: Annotated[dict[str, NativeTool], _doc(
        "Tools the provider runs natively, by tool name; may be `{}`.")]
    supports_diarization: bool


class ListEndpointsResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A model and all its endpoints."""

    id: Annotated[str, _doc("Model id, e.g. `qwen/qwen3-235b-a22b-thinking-2507`.")]
    name: Annotated[str, _doc("Display name of the model.")]
    created: Unix
    description: str
    architecture: ModelArchitecture
    endpoints: Annotated[list[PublicEndpoint], _doc(
        "The model's endpoints, in the catalog's order.")]


class ListEndpointsResponseEnvelope(msgspec.Struct, frozen=True):
    data: ListEndpointsResponse


class TopProviderInfo(msgspec.Struct, frozen=True, kw_only=True):
    context_length: int | None
    max_completion_tokens: int | None
    is_moderated: bool


class PerRequestLimits(msgspec.Struct, frozen=True, kw_only=True):
    prompt_tokens: float
    completion_tokens: float


class ModelLinks(msgspec.Struct, frozen=True):
    details: Annotated[str, _doc("Path of the model's endpoints list.")]


class Model(msgspec.Struct, frozen=True, kw_only=True):
    """A model of the catalog (`/models`). Its pricing and context length are those of the
    top provider: the first enabled endpoint in serving order, as on OpenRouter."""

    id: Annotated[str, _doc("e.g. `deepseek/deepseek-r1:free`.")]
    canonical_slug: Annotated[str, _doc("Permaslug.")]
    hugging_face_id: str | None
    name: str
    created: Unix
    description: str
    context_length: int
    architecture: ModelArchitecture
    pricing: PublicEndpointPricing
    top_provider: TopProviderInfo
    per_request_limits: PerRequestLimits | None
    supported_parameters: list[Parameter]
    default_parameters: Annotated[dict[str, Decimal] | None, _doc(
        "Sampling defaults from the catalog, e.g. `temperature`, `top_p`; the catalog may "
        "hold other keys (OpenRouter's SDKs ignore keys they do not know).")]
    knowledge_cutoff: Annotated[str | None, _doc("YYYY-MM-DD.")]
    expiration_date: Annotated[str | None, _doc("YYYY-MM-DD.")]
    supported_voices: Annotated[list[str] | None, _doc(
        "Voice ids of a TTS model; null otherwise.")]
    links: ModelLinks


class ModelsListLinks(msgspec.Struct, frozen=True):
    """Pagination links: without `limit`, the whole list comes at once."""

    next: Annotated[str | None, _doc(
        "Path of the next page when `limit` cut the list short; null otherwise.")]


class ModelsListResponse(msgspec.Struct, frozen=True, kw_only=True):
    # Snapshot.models_page joins pre-encoded models into this shape, with the same bytes.

    data: list[Model]
    links: ModelsListLinks
    total_count: Annotated[int, _doc("Number of models matching the filters, over all pages.")]


class ModelResponse(msgspec.Struct, frozen=True):
    data: Model


class ModelsCount(msgspec.Struct, frozen=True):
    count: Annotated[int, Meta(ge=0)]


class ModelsCountResponse(msgspec.Struct, frozen=True):
    data: ModelsCount


class ModelParameters(msgspec.Struct, frozen=True, kw_only=True):
    """The parameters of a model."""

    model: Annotated[str, _doc("The model id.")]
    supported_parameters: list[Parameter]
    popularity: Annotated[None, _doc(
        "Share of requests using each parameter; null until measured.")]


class ParametersResponse(msgspec.Struct, frozen=True):
    data: ModelParameters


class OpenAIModel(msgspec.Struct, frozen=True, kw_only=True):
    """A model in OpenAI's shape."""

    id: str
    object: Literal["model"]
    created: Unix
    owned_by: Annotated[str, _doc("The id's author part.")]


class ProviderInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: Annotated[str, _doc("Display name (`provider_name`).")]
    slug: Annotated[str, _doc("Base of every endpoint tag.")]
    privacy_policy_url: str | None
    terms_of_service_url: str | None
    status_page_url: str | None


class ProvidersListResponse(msgspec.Struct, frozen=True):
    data: list[ProviderInfo]


class ZdrEndpointsResponse(msgspec.Struct, frozen=True):
    data: list[PublicEndpoint]


#: Every discovery response, for the OpenAPI document's components.
RESPONSES: tuple[type[msgspec.Struct], ...] = (
    ListEndpointsResponseEnvelope, ModelsListResponse, ModelResponse, ModelsCountResponse,
    ParametersResponse, OpenAIModel, ProvidersListResponse, ZdrEndpointsResponse,
)


# -- domain -> wire ----------------------------------------------------------------------


def pricing(e: Endpoint) -> PublicEndpointPricing:
    p = e.pricing
    out = PublicEndpointPricing(*msgspec.structs.astuple(p))  # same fields, same order
    if p.discount is None:
        return out
    # A number on the wire (OpenRouter sends ``0``); Decimal keeps it exact.
    return msgspec.structs.replace(out, discount=Decimal(p.discount))


def endpoint(m: models.Model, e: Endpoint, provider: Provider, live: LiveStats | None, *,
             with_performance: bool) -> PublicEndpoint:
    """One ``PublicEndpoint``; ``live`` holds the measured fields and ``status``, None when
    nothing was measured."""
    stats = live or UNMEASURED
    return PublicEndpoint(
        name=f"{provider.name} | {m.canonical_slug}",
        model_id=m.id,
        model_name=m.name,
        context_length=e.context_length,
        pricing=pricing(e),
        provider_name=provider.name,
        tag=e.tag,
        quantization=e.quantization,
        max_completion_tokens=e.max_completion_tokens,
        max_prompt_tokens=e.max_prompt_tokens,
        supported_parameters=list(e.supported_parameters),
        status=effective_status(e, live),
        uptime_last_30m=stats.uptime_last_30m,
        uptime_last_5m=stats.uptime_last_5m,
        uptime_last_1d=stats.uptime_last_1d,
        latency_last_30m=stats.latency_last_30m if with_performance else None,
        throughput_last_30m=stats.throughput_last_30m if with_performance else None,
        supports_implicit_caching=e.supports_implicit_caching,
        service_tier=e.service_tier,
        supports_tool_choice=e.tool_choice(),
        native_tools=e.native_tools,
        supports_diarization=e.supports_diarization,
    )


def architecture(m: models.Model, *, listing: bool = False) -> ModelArchitecture:
    """``listing``: as ``/models`` has it, ``tokenizer`` left out when unknown."""
    return ModelArchitecture(
        tokenizer=UNSET if listing and m.tokenizer is None else m.tokenizer,
        instruct_type=m.instruct_type,
        modality=m.modality,
        input_modalities=list(m.input_modalities),
        output_modalities=list(m.output_modalities),
    )


def endpoints_response(m: models.Model, providers: dict[str, Provider],
                       live: dict[EndpointKey, LiveStats], *, with_performance: bool
                       ) -> ListEndpointsResponseEnvelope:
    return ListEndpointsResponseEnvelope(ListEndpointsResponse(
        id=m.id,
        name=m.name,
        created=m.created,
        description=m.description,
        architecture=architecture(m),
        endpoints=[
            endpoint(m, e, providers[e.provider], live.get((m.id, e.tag)),
                     with_performance=with_performance)
            for e in m.endpoints
        ],
    ))


def served_endpoints(m: models.Model) -> list[Endpoint]:
    """Endpoints that count for the model listing: those not disabled."""
    return [e for e in m.endpoints if not e.disabled]


def supported_parameters(m: models.Model) -> list[str]:
    """Union of the enabled endpoints' parameters, in first-seen order."""
    seen: dict[str, None] = {}
    for e in served_endpoints(m):
        for p in e.supported_parameters:
            seen.setdefault(p, None)
    return list(seen)


def model(m: models.Model) -> Model | None:
    """One ``Model`` of ``/models``, or None when no enabled endpoint serves it."""
    eps = served_endpoints(m)
    if not eps:
        return None
    top = eps[0]
    default_parameters = (
        {k: Decimal(v) for k, v in m.default_parameters.items()}
        if m.default_parameters else None
    )
    return Model(
        id=m.id,
        canonical_slug=m.canonical_slug,
        hugging_face_id=m.hugging_face_id,
        name=m.name,
        created=m.created,
        description=m.description,
        context_length=top.context_length,
        architecture=architecture(m, listing=True),
        pricing=pricing(top),
        top_provider=TopProviderInfo(
            context_length=top.context_length,
            max_completion_tokens=top.max_completion_tokens,
            is_moderated=top.is_moderated,
        ),
        per_request_limits=None,
        supported_parameters=supported_parameters(m),
        default_parameters=default_parameters,
        knowledge_cutoff=m.knowledge_cutoff,
        expiration_date=m.expiration_date,
        supported_voices=None,
        links=ModelLinks(f"/api/v1/models/{m.id}/endpoints"),
    )


def provider(p: Provider) -> ProviderInfo:
    return ProviderInfo(
        name=p.name,
        slug=p.slug,
        privacy_policy_url=p.privacy_policy_url,
        terms_of_service_url=p.terms_of_service_url,
        status_page_url=p.status_page_url,
    )


def providers_response(providers: list[Provider]) -> ProvidersListResponse:
    return ProvidersListResponse([provider(p) for p in providers])


def count_response(count: int) -> ModelsCountResponse:
    return ModelsCountResponse(ModelsCount(count))


def parameters_response(model_id: str, parameters: list[str]) -> ParametersResponse:
    return ParametersResponse(ModelParameters(model=model_id, supported_parameters=parameters,
                                              popularity=None))


def openai_model(m: models.Model) -> OpenAIModel:
    return OpenAIModel(id=m.id, object="model", created=m.created, owned_by=m.id.split("/")[0])
