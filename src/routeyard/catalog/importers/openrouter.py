"""OpenRouter's own JSON: ``/api/v1/models`` and ``/models/{author}/{slug}/endpoints`` bodies.

Three shapes are recognised (:func:`shape`): a models body ``{"data": [model, …]}``, an
endpoints body ``{"data": {id, name, …, "endpoints": […]}}`` and a bare endpoints array
``[endpoint, …]`` (an old capture format). Fields are copied unchanged (price strings byte
for byte); what a capture of some age lacks gets the defaults of docs/importing.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from routeyard import ids, wire
from routeyard.catalog import schema
from routeyard.catalog.importers.common import Imported, Json, at, expect_object, kind
from routeyard.catalog.importers.matching import NAME_TO_SLUG, OPENROUTER_PROVIDERS, slugify
from routeyard.catalog.schema import Checker
from routeyard.errors import CatalogError
from routeyard.models import STATUS_DISABLED, Endpoint
from routeyard.prices import format_decimal

FORMAT = "openrouter"
MODELS, ENDPOINTS, ARRAY = "models body", "endpoints body", "endpoints array"
NOT_A_BODY = ('not an OpenRouter /models or /endpoints body (expected {"data": [...]}, '
              '{"data": {..., "endpoints": [...]}} or [...])')
# OpenRouter itself as a provider: the upstream of --via-openrouter endpoints.
ROUTER: Json = {
    "slug": "openrouter", "name": "OpenRouter",
    "base_url": "https://openrouter.ai/api/v1", "api_key_env": "OPENROUTER_API_KEY",
}
# The fields OpenRouter's PublicEndpoint and the catalog's endpoint share, but for the tag
# and the pricing (read apart): copied as they are, validated by the catalog schema under
# their source path.
ENDPOINT_FIELDS = tuple(
    name for name in wire.PublicEndpoint.__struct_fields__
    if name in Endpoint.__struct_fields__ and name not in ("tag", "pricing")
)
# OpenRouter's data policy of an endpoint, as its frontend data carries it (camelCase there;
# the snake_case spellings are accepted too), -> the catalog's data_policy keys.
POLICY_KEYS = {
    "training": "training", "retainsPrompts": "retains_prompts",
    "retains_prompts": "retains_prompts", "retentionDays": "retention_days",
    "retention_days": "retention_days", "zdr": "zdr",
}
ARCHITECTURE_TEXT = ("tokenizer", "instruct_type", "modality")
MODEL_TEXT = ("canonical_slug", "hugging_face_id", "description", "knowledge_cutoff",
              "expiration_date")


def shape(doc: object) -> str | None:
    """Which OpenRouter body ``doc`` is, or None when it is none of them."""
    if isinstance(doc, list):
        return ARRAY
    if isinstance(doc, dict) and set(doc) <= {"data", "links", "total_count"}:
        data = doc.get("data")
        if isinstance(data, list):
            return MODELS
        if isinstance(data, dict) and "endpoints" in data:
            return ENDPOINTS
    return None


def _endpoint_list(doc: object) -> list[Any]:
    kind_ = shape(doc)
    if kind_ == ARRAY:
        return doc  # type: ignore[return-value]
    if kind_ == ENDPOINTS:
        eps = doc["data"]["endpoints"]  # type: ignore[index]
        return eps if isinstance(eps, list) else []
    return []


def provider_names(doc: object) -> dict[str, str]:
    """Display name -> provider slug, from the endpoints of ``doc`` that carry a tag."""
    out: dict[str, str] = {}
    for e in _endpoint_list(doc):
        if not isinstance(e, dict):
            continue
        if isinstance(e.get("tag"), str) and isinstance(e.get("provider_name"), str):
            out[e["provider_name"]] = ids.tag_base(e["tag"])
    return out


def derived_tag(slug: str, quantization: object) -> str:
    """The tag of an endpoint captured without one: slug, plus ``/quantization`` when known."""
    if isinstance(quantization, str) and quantization and quantization != "unknown":
        return f"{slug}/{quantization}"
    return slug


def _permaslug(endpoints: object) -> str | None:
    """The model permaslug all endpoint names agree on (``"DeepInfra | qwen/…"``)."""
    if not isinstance(endpoints, list):
        return None
    found = {e["name"].split(" | ", 1)[1] for e in endpoints
             if isinstance(e, dict) and isinstance(e.get("name"), str) and " | " in e["name"]}
    if len(found) == 1:
        (slug,) = found
        return slug if ids.is_model_id(slug) else None
    return None


class _Reader:
    def __init__(self, origin: str, source: str, names: Mapping[str, str]) -> None:
        self.c = Checker(origin)
        self.source = source
        self.names = {**NAME_TO_SLUG, **names}
        self.providers: dict[str, str] = {}  # slug -> display name, as this file says
        self.provider_paths: dict[str, str] = {}
        self.ignored: set[str] = set()

    def model(self, m: dict[str, Any], path: str) -> Json | None:
        """The metadata this body states about one model (keys it lacks stay absent)."""
        c = self.c
        model_id = c.text(m, "id", path, required=True, max_length=ids.MAX_ID_LENGTH)
        if model_id is not None and not ids.is_model_id(model_id):
            c.fail(at(path, "id"), f"not a model id (author/slug[:variant]): {model_id!r}")
            return None
        out: Json = {"id": model_id}
        for key in ("name", *MODEL_TEXT):
            if key in m:
                out[key] = c.text(m, key, path, max_length=512 if key == "name" else 100_000)
        if "created" in m:
            out["created"] = c.count(m, "created", path)
        arch = m.get("architecture")
        if arch is not None and expect_object(c, arch, at(path, "architecture")) is not None:
            apath = at(path, "architecture")
            for key in ARCHITECTURE_TEXT:
                if key in arch:
                    out[key] = c.text(arch, key, apath, max_length=128)
            for key in ("input_modalities", "output_modalities"):
                if key in arch:
                    out[key] = list(c.strings(arch, key, apath)) if arch[key] is not None else None
        defaults = m.get("default_parameters")
        if defaults is not None and expect_object(c, defaults, at(path, "default_parameters")):
            params = {}
            for key, value in defaults.items():
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, Decimal)) \
                        or not schema.decimal_in_range(value):
                    c.fail(at(at(path, "default_parameters"), key),
                           f"expected a number, got {kind(value)}")
                else:
                    params[key] = format_decimal(Decimal(value))
            out["default_parameters"] = params or None
        return out if model_id is not None else None

    def endpoint(self, e: dict[str, Any], path: str, tags: dict[str, str]) -> Json | None:
        c = self.c
        name = c.text(e, "provider_name", path, max_length=256)
        tag = c.text(e, "tag", path, max_length=ids.MAX_ID_LENGTH)
        if tag is not None:
            slug = ids.tag_base(tag)
        elif name is not None:
            slug = self.names.get(name) or slugify(name)
            tag = derived_tag(slug, e.get("quantization"))
        else:
            c.fail(path, "has neither tag nor provider_name")
            return None
        name = name or OPENROUTER_PROVIDERS.get(slug, slug)
        if self.providers.setdefault(slug, name) != name:
            c.fail(at(path, "provider_name"),
                   f"provider {slug!r} is named {self.providers[slug]!r} "
                   f"at {self.provider_paths[slug]} and {name!r} here")
        self.provider_paths.setdefault(slug, path)
        out: Json = {k: e[k] for k in ENDPOINT_FIELDS if e.get(k) is not None}
        out["provider"], out["tag"], out["source"] = slug, tag, self.source
        pricing = expect_object(c, e.get("pricing"), at(path, "pricing"))
        if pricing is not None:
            out["pricing"] = {k: v for k, v in pricing.items() if k in schema.PRICE_KEYS}
            self.ignored |= {f"pricing.{k}" for k in pricing if k not in schema.PRICE_KEYS}
        if e.get("status") == STATUS_DISABLED:
            out["disabled"] = True
        policy = e.get("data_policy")
        if isinstance(policy, dict):
            out["data_policy"] = {POLICY_KEYS[k]: v for k, v in policy.items()
                                  if k in POLICY_KEYS and v is not None}
            self.ignored |= {f"data_policy.{k}" for k in policy if k not in POLICY_KEYS}
        if schema.check_endpoint(c, out, path) is None:
            return None
        if tag in tags:
            c.fail(at(path, "tag"), f"duplicate tag {tag!r} (first at {tags[tag]})")
            return None
        tags[tag] = path
        return out

    def endpoints(self, items: object, path: str) -> list[Json]:
        if not isinstance(items, list):
            self.c.fail(path, f"expected an array, got {kind(items)}")
            return []
        out: list[Json] = []
        tags: dict[str, str] = {}
        for i, item in enumerate(items):
            e = expect_object(self.c, item, at(path, i))
            if e is not None and (ep := self.endpoint(e, at(path, i), tags)) is not None:
                out.append(ep)
        return out

    def router_endpoint(self, m: dict[str, Any], path: str) -> Json | None:
        """OpenRouter itself serving a models-body entry (--via-openrouter), or None."""
        pricing = m.get("pricing")
        top: dict[str, Any] = m["top_provider"] if isinstance(m.get("top_provider"), dict) else {}
        if not isinstance(pricing, dict) or any(
            isinstance(v, str) and v.startswith("-") for v in pricing.values()
        ):
            return None  # "-1": a router whose price depends on the model it picks
        out: Json = {
            "provider": "openrouter", "tag": "openrouter", "source": self.source,
            "context_length": top.get("context_length") or m.get("context_length"),
            "max_completion_tokens": top.get("max_completion_tokens"),
            "is_moderated": bool(top.get("is_moderated")),
            "supported_parameters": m.get("supported_parameters") or [],
            "pricing": {k: v for k, v in pricing.items() if k in schema.PRICE_KEYS},
        }
        return out if schema.check_endpoint(self.c, out, path) is not None else None


def convert(doc: object, origin: str, *, source: str, names: Mapping[str, str] | None = None,
            model_id: str | None = None, via_openrouter: bool = False) -> Imported:
    """One OpenRouter body -> catalog-shaped dicts. ``names`` maps provider display names
    to slugs (learnt from tagged endpoints and the database); ``model_id`` names the model
    of a bare endpoints array."""
    r = _Reader(origin, source, names or {})
    found = shape(doc)
    result = Imported(source=source, owns_metadata=True, ordered=True)
    if found is None:
        raise CatalogError([(origin, NOT_A_BODY)])
    if found == MODELS:
        for i, item in enumerate(doc["data"]):  # type: ignore[index]
            m = expect_object(r.c, item, at("data", i))
            if m is None or (facts := r.model(m, at("data", i))) is None:
                continue
            facts["endpoints"] = []
            result.models.append(facts)
            if via_openrouter:
                ep = r.router_endpoint(m, at("data", i))
                if ep is not None:
                    result.fallback[facts["id"]] = ep
                else:
                    result.skipped.append((f"{origin}: {at('data', i)}",
                                           "no OpenRouter endpoint: negative (variable) price"))
    elif found == ENDPOINTS:
        data = doc["data"]  # type: ignore[index]
        facts = r.model(data, "data")
        eps = r.endpoints(data["endpoints"], "data.endpoints")
        if facts is not None:
            if "canonical_slug" not in facts and (slug := _permaslug(data["endpoints"])):
                facts["canonical_slug"] = slug
            facts["endpoints"] = eps
            result.models.append(facts)
    else:
        items: list[Any] = doc  # type: ignore[assignment]
        eps = r.endpoints(items, "")
        permaslug = _permaslug(items)
        chosen = model_id or permaslug
        if chosen is None:
            r.c.fail("", "an endpoints array does not say which model it is for: "
                         "pass --model AUTHOR/SLUG")
        elif not ids.is_model_id(chosen):
            r.c.fail("", f"not a model id (author/slug[:variant]): {chosen!r}")
        else:
            facts = {"id": chosen, "endpoints": eps}
            if permaslug:
                facts["canonical_slug"] = permaslug
            result.models.append(facts)
            if model_id is None:
                result.notes.append(f"{origin}: model id {chosen} taken from the endpoint names")
    r.c.raise_if_any()
    result.providers = [{"slug": slug, "name": name} for slug, name in r.providers.items()]
    if result.fallback and "openrouter" not in r.providers:
        result.providers.append(dict(ROUTER))
    result.notes.extend(f"{origin}: {field} ignored (not in the catalog format)"
                        for field in sorted(r.ignored))
    return result
