"""The declarative catalog file (TOML, docs/catalog-format.md): read, validate, write."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import tomli_w

from routeyard.catalog.schema import check_catalog
from routeyard.errors import CatalogError
from routeyard.models import Catalog, DataPolicy, Endpoint, Model, Provider

FORMAT = "routeyard-catalog"
VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024
STARTER = "starter.toml"


def parse_text(text: str, origin: str, *, known_providers: Iterable[str] = ()) -> Catalog:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError([(origin, f"invalid TOML: {exc}")]) from None
    problems = []
    if data.get("format") != FORMAT:
        problems.append((f"{origin}: format", f"expected {FORMAT!r}, got {data.get('format')!r}"))
    if data.get("version") != VERSION:
        problems.append((f"{origin}: version", f"expected {VERSION}, got {data.get('version')!r}"))
    if problems:
        raise CatalogError(problems)
    return check_catalog(
        data, origin, known_providers=known_providers,
        top_level={"format", "version", "source", "generated"},
    )


def read_file(path: str | Path, *, known_providers: Iterable[str] = ()) -> Catalog:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CatalogError([(str(p), f"file is {size} bytes, more than {MAX_FILE_BYTES}")])
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError([(str(p), f"cannot read: {exc.__class__.__name__}: {exc}")]) from None
    return parse_text(text, str(p), known_providers=known_providers)


def starter_text() -> str:
    return resources.files("routeyard.catalog").joinpath(STARTER).read_text(encoding="utf-8")


def read_starter() -> Catalog:
    return parse_text(starter_text(), f"routeyard/catalog/{STARTER}")


# The endpoint's flags, written only when true.
FLAGS = tuple(f.name for f in msgspec.structs.fields(Endpoint) if f.default is False)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def policy_dict(policy: DataPolicy | None) -> dict[str, Any] | None:
    """A data policy as the catalog file writes it (unknown fields left out), or None."""
    if policy is None or policy.empty:
        return None
    out: dict[str, Any] = msgspec.to_builtins(policy)
    return out


def provider_dict(p: Provider) -> dict[str, Any]:
    out = _drop_none({
        "slug": p.slug, "name": p.name, "privacy_policy_url": p.privacy_policy_url,
        "terms_of_service_url": p.terms_of_service_url, "status_page_url": p.status_page_url,
        "base_url": p.base_url, "api_key_env": p.api_key_env,
    })
    if p.probe_completion:
        out["probe_completion"] = True
    if (policy := policy_dict(p.data_policy)) is not None:
        out["data_policy"] = policy
    return out


def endpoint_dict(e: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = _drop_none({
        "provider": e.provider, "tag": e.tag, "context_length": e.context_length,
        "max_completion_tokens": e.max_completion_tokens,
        "max_prompt_tokens": e.max_prompt_tokens, "quantization": e.quantization,
        "supported_parameters": list(e.supported_parameters),
        "service_tier": e.service_tier, "provider_model_id": e.provider_model_id,
    })
    for name in FLAGS:
        if getattr(e, name):
            out[name] = True
    if e.supports_tool_choice is not None:
        out["supports_tool_choice"] = msgspec.to_builtins(e.supports_tool_choice)
    if e.native_tools:
        out["native_tools"] = e.native_tools
    pricing = dict(e.pricing.items())
    if e.pricing.discount is not None:
        pricing["discount"] = e.pricing.discount
    out["pricing"] = pricing
    if (policy := policy_dict(e.data_policy)) is not None:
        out["data_policy"] = policy
    return out


def model_dict(m: Model) -> dict[str, Any]:
    out = _drop_none({
        "id": m.id,
        "canonical_slug": m.canonical_slug if m.canonical_slug != m.id else None,
        "name": m.name, "created": m.created, "description": m.description,
        "hugging_face_id": m.hugging_face_id, "tokenizer": m.tokenizer,
        "instruct_type": m.instruct_type, "modality": m.modality,
        "input_modalities": list(m.input_modalities),
        "output_modalities": list(m.output_modalities),
        "knowledge_cutoff": m.knowledge_cutoff, "expiration_date": m.expiration_date,
        "default_parameters": m.default_parameters,
    })
    out["endpoints"] = [endpoint_dict(e) for e in m.endpoints]
    return out


def dump(catalog: Catalog, *, source: str | None = None, generated: str | None = None) -> str:
    """The catalog as a TOML document that :func:`parse_text` reads back unchanged."""
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if source:
        data["source"] = source
    if generated:
        data["generated"] = generated
    data["providers"] = [provider_dict(p) for p in catalog.providers]
    data["models"] = [model_dict(m) for m in catalog.models]
    return tomli_w.dumps(data, multiline_strings=True)
