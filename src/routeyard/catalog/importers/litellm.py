"""LiteLLM's ``model_prices_and_context_window.json``.

Shape: ``{model_name: {litellm_provider, mode, max_input_tokens, max_output_tokens,
input_cost_per_token, output_cost_per_token, …, supports_*}}``, prices in USD per token as
JSON numbers (``1.5e-07``), read as exact decimals. Text models (mode chat, completion or
responses) become endpoints of canonical models, resolved as for models.dev.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routeyard.catalog.importers.common import (
    Choice,
    Imported,
    Json,
    at,
    costs,
    count,
    expect_object,
    kind,
    parameters,
    unusable,
)
from routeyard.catalog.importers.matching import (
    LITELLM_SLUGS,
    OPENROUTER_PROVIDERS,
    Aliases,
    Matcher,
    author,
    slugify,
)
from routeyard.catalog.importers.models_dev import QUANTIZATION
from routeyard.catalog.schema import Checker
from routeyard.errors import CatalogError

FORMAT = "litellm"
MODES = frozenset({"chat", "completion", "responses"})
COSTS = {
    "input_cost_per_token": "prompt", "output_cost_per_token": "completion",
    "cache_read_input_token_cost": "input_cache_read",
    "cache_creation_input_token_cost": "input_cache_write",
    "output_cost_per_reasoning_token": "internal_reasoning",
    "input_cost_per_audio_token": "audio", "input_cost_per_image": "image",
    "output_cost_per_image": "image_output",
}
PARAMETERS = (
    ("supports_function_calling", ("tools",)), ("supports_tool_choice", ("tool_choice",)),
    ("supports_reasoning", ("reasoning", "include_reasoning")),
    ("supports_response_schema", ("response_format", "structured_outputs")),
)
LIMITS = ("max_input_tokens", "max_output_tokens", "max_tokens")


def provider_slug(litellm_provider: str, aliases: Aliases) -> str:
    if litellm_provider in aliases.providers:
        return aliases.providers[litellm_provider]
    if litellm_provider in LITELLM_SLUGS:
        return LITELLM_SLUGS[litellm_provider]
    if litellm_provider.startswith("vertex_ai"):
        return "google-vertex"
    return slugify(litellm_provider)


def provider_model_id(key: str, litellm_provider: str, slug: str) -> str:
    """The provider's own id: the key without LiteLLM's ``provider/`` routing prefix."""
    first, _, rest = key.partition("/")
    if rest and first in {litellm_provider, litellm_provider.split("-")[0], slug}:
        return rest
    return key


def endpoint(c: Checker, m: dict[str, Any], path: str) -> Json | str | None:
    """An endpoint dict without provider/tag, a reason to skip the entry, or None (error)."""
    errors = len(c.problems)
    limits = {k: count(c, m[k], at(path, k)) for k in LIMITS if m.get(k) is not None}
    pricing, artefact = costs(c, m, path, COSTS)
    params = parameters(c, m, path, PARAMETERS)
    if len(c.problems) > errors:
        return None
    if m.get("mode") not in MODES:
        return f"mode {m.get('mode')} is not a text model"
    context = limits.get("max_input_tokens") or limits.get("max_tokens")
    if (why := unusable(pricing, context, artefact)) is not None:
        return why
    return {
        "context_length": context, "max_completion_tokens": limits.get("max_output_tokens") or None,
        "pricing": pricing, "supported_parameters": params,
    }


def _facts(model_id: str, m: dict[str, Any], metadata: Mapping[str, Json]) -> Json:
    known = metadata.get(model_id.lower())
    if known is not None:
        return {**known, "id": model_id, "endpoints": []}
    inputs = ["text", "image"] if m.get("supports_vision") is True else ["text"]
    return {"id": model_id, "input_modalities": inputs, "output_modalities": ["text"],
            "modality": "+".join(inputs) + "->text", "endpoints": []}


def convert(data: object, origin: str, *, source: str, matcher: Matcher,
            aliases: Aliases | None = None, metadata: Mapping[str, Json] | None = None) -> Imported:
    """LiteLLM's JSON -> catalog-shaped dicts. ``metadata`` (canonical id, lower case ->
    model facts, from models.dev) names and describes the models this import creates."""
    aliases, metadata = aliases or Aliases(), metadata or {}
    c = Checker(origin)
    if not isinstance(data, dict):
        raise CatalogError([(origin, f"expected an object of models, got {kind(data)}")])
    result = Imported(source=source)
    providers: dict[str, Json] = {}
    choice = Choice(result.skipped)
    facts: dict[str, Json] = {}
    for key, raw in data.items():
        if key == "sample_spec":
            continue
        path = at("", key)
        m = expect_object(c, raw, path)
        if m is None:
            continue
        lp = c.text(m, "litellm_provider", path, max_length=128)
        ep = endpoint(c, m, path)
        if lp is None or ep is None:
            if lp is None and "litellm_provider" not in m:
                result.skipped.append((key, "no litellm_provider"))
            continue
        if isinstance(ep, str):
            result.skipped.append((key, ep))
            continue
        slug = provider_slug(lp, aliases)
        own_id = provider_model_id(key, lp, slug)
        where = f"{lp}/{own_id}"
        alias = aliases.models.get(where, aliases.models.get(key))
        if alias == "":
            result.skipped.append((key, "dropped by the alias file"))
            continue
        if alias:
            target, how = alias, "alias"
        elif (found := matcher.resolve(own_id, hint=author(own_id) or slug)) is None:
            result.unmatched.append(where)
            continue
        else:
            target, how = found
        providers.setdefault(slug, {"slug": slug, "name": OPENROUTER_PROVIDERS.get(slug, slug)})
        quant = QUANTIZATION.search(own_id)
        if quant:
            ep["quantization"] = quant[1].lower()
        ep.update(provider=slug, tag=f"{slug}/{ep['quantization']}" if quant else slug,
                  provider_model_id=own_id, source=source)
        if not choice.offer(target, how, key, ep):
            continue
        facts.setdefault(target.lower(), _facts(target, m, metadata))
    c.raise_if_any()
    result.providers = list(providers.values())
    result.models = choice.models(facts)
    return result
