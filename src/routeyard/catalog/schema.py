"""Validate catalog data from any source into domain objects.

Every importer and the admin API build plain dicts in the shape of the declarative file
(docs/catalog-format.md) and pass them here, so one set of rules applies everywhere.
Problems are collected, each with the path of the offending value, and raised together
as one :class:`~routeyard.errors.CatalogError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

from routeyard import ids
from routeyard.errors import CatalogError
from routeyard.models import (
    MAX_RETENTION_DAYS,
    QUANTIZATIONS,
    SERVICE_TIER_VALUES,
    SERVICE_TIERS,
    Catalog,
    DataPolicy,
    Endpoint,
    Model,
    Pricing,
    Provider,
    ToolChoiceSupport,
)
from routeyard.prices import PriceError, format_decimal, parse_fraction, parse_price

T = TypeVar("T")
_SIGNED_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_ENV_NAME = re.compile(r"[A-Za-z0-9_]+")  # models.dev names some with a leading digit
URL_KEYS = ("privacy_policy_url", "terms_of_service_url", "status_page_url", "base_url")

# The fields a catalog file may give: those of the domain types (routeyard.models), each
# declared there once.
PROVIDER_KEYS = set(Provider.__struct_fields__)
MODEL_KEYS = set(Model.__struct_fields__)
ENDPOINT_KEYS = set(Endpoint.__struct_fields__)
DATA_POLICY_KEYS = set(DataPolicy.__struct_fields__)
PRICE_KEYS = set(Pricing.__struct_fields__)
TOOL_CHOICES = ToolChoiceSupport.__struct_fields__
MAX_TOKENS = 1 << 40


def decimal_in_range(value: object) -> bool:
    """False for a Decimal (JSON read with ``parse_float=Decimal``) whose plain form would
    be absurdly long (``1e999999999``): such a value is refused before it is formatted."""
    return not isinstance(value, Decimal) or not value.is_finite() or -40 <= value.adjusted() <= 20


class Checker:
    """Collects problems while reading one source."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((f"{self.origin}: {path}" if path else self.origin, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise CatalogError(self.problems)

    # -- typed getters: record a problem and return a fallback on a wrong type ---------

    def get(self, data: dict[str, Any], key: str, path: str, kind: type[T] | tuple[type, ...],
            *, required: bool = False, default: Any = None) -> Any:
        if key not in data or data[key] is None:
            if required:
                self.fail(f"{path}.{key}", "is required")
            return default
        value = data[key]
        if isinstance(value, bool) and kind in (int, str):
            self.fail(f"{path}.{key}", f"expected {_name(kind)}, got a boolean")
            return default
        if not isinstance(value, kind):
            self.fail(f"{path}.{key}", f"expected {_name(kind)}, got {type(value).__name__}")
            return default
        return value

    def storable(self, text: str, where: str) -> bool:
        """False (and a problem) for a string no database can store the same way: a NUL
        (PostgreSQL refuses it, SQLite keeps it) or a lone surrogate (not UTF-8)."""
        if "\x00" in text:
            self.fail(where, "contains a NUL character")
            return False
        if any("\ud800" <= ch <= "\udfff" for ch in text):
            self.fail(where, "contains an unpaired surrogate (invalid Unicode)")
            return False
        return True

    def text(self, data: dict[str, Any], key: str, path: str, *, required: bool = False,
             max_length: int = 100_000) -> str | None:
        value = self.get(data, key, path, str, required=required)
        if value is not None and len(value) > max_length:
            self.fail(f"{path}.{key}", f"longer than {max_length} characters")
            return None
        if value is not None and not self.storable(value, f"{path}.{key}"):
            return None
        return value  # type: ignore[no-any-return]

    def count(self, data: dict[str, Any], key: str, path: str, *, required: bool = False,
              positive: bool = False) -> int | None:
        value = self.get(data, key, path, int, required=required)
        if value is not None and (value < (1 if positive else 0) or value > MAX_TOKENS):
            self.fail(f"{path}.{key}", f"must be {'positive' if positive else 'non-negative'}, got {value}")
            return None
        return value  # type: ignore[no-any-return]

    def flag(self, data: dict[str, Any], key: str, path: str) -> bool:
        return bool(self.get(data, key, path, bool, default=False))

    def strings(self, data: dict[str, Any], key: str, path: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(data, key, path, list, default=None)
        if value is None:
            return default
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(f"{path}.{key}[{i}]", f"expected string, got {type(item).__name__}")
            elif self.storable(item, f"{path}.{key}[{i}]"):
                out.append(item)
        return tuple(out)

    def unknown_keys(self, data: dict[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(data) - allowed):
            self.fail(f"{path}.{key}", "unknown field")


def _name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return {"str": "string", "int": "integer", "bool": "boolean", "list": "list", "dict": "table"}.get(
        kind.__name__, kind.__name__
    )


def _each(c: Checker, items: Any, path: str) -> Iterable[tuple[str, dict[str, Any]]]:
    if items is None:
        return []
    if not isinstance(items, list):
        c.fail(path, f"expected a list, got {type(items).__name__}")
        return []
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            c.fail(f"{path}[{i}]", f"expected a table, got {type(item).__name__}")
        else:
            out.append((f"{path}[{i}]", item))
    return out


def check_data_policy(c: Checker, data: dict[str, Any], path: str) -> DataPolicy | None:
    """The ``data_policy`` table of a provider or an endpoint; None when absent or empty."""
    raw = c.get(data, "data_policy", path, dict)
    if raw is None:
        return None
    where = f"{path}.data_policy"
    c.unknown_keys(raw, DATA_POLICY_KEYS, where)
    flags = {k: c.get(raw, k, where, bool) for k in ("training", "retains_prompts", "zdr")}
    days = c.count(raw, "retention_days", where)
    if days is not None and days > MAX_RETENTION_DAYS:
        c.fail(f"{where}.retention_days", f"at most {MAX_RETENTION_DAYS}, got {days}")
        days = None
    if flags["zdr"] is True and (flags["training"] is True or flags["retains_prompts"] is True):
        c.fail(f"{where}.zdr", "zero data retention contradicts training or retains_prompts")
    policy = DataPolicy(retention_days=days, **flags)
    return None if policy.empty else policy


def check_provider(c: Checker, data: dict[str, Any], path: str) -> Provider | None:
    c.unknown_keys(data, PROVIDER_KEYS, path)
    slug = c.text(data, "slug", path, required=True, max_length=128)
    name = c.text(data, "name", path, required=True, max_length=256)
    if slug is not None and not ids.is_provider_slug(slug):
        c.fail(f"{path}.slug", f"not a provider slug (lower case letters, digits, . _ -): {slug!r}")
        slug = None
    if slug is None or name is None:
        return None
    urls = {k: c.text(data, k, path, max_length=2048) for k in URL_KEYS}
    for key, url in urls.items():
        if url is not None and not url.startswith(("https://", "http://")):
            c.fail(f"{path}.{key}", f"expected an http(s) URL, got {url!r}")
        elif url is not None and _has_credentials(url):
            # Keep credentials out of the catalog: it is served, exported and logged.
            c.fail(f"{path}.{key}", "must not contain credentials; name the key's "
                   "environment variable in api_key_env")
    env = c.text(data, "api_key_env", path, max_length=128)
    if env is not None and not _ENV_NAME.fullmatch(env):
        c.fail(f"{path}.api_key_env", "expected the NAME of an environment variable "
               "(letters, digits, _), not a key")
    return Provider(
        slug=slug, name=name, **urls,
        api_key_env=env,
        probe_completion=c.flag(data, "probe_completion", path),
        data_policy=check_data_policy(c, data, path),
    )


def _has_credentials(url: str) -> bool:
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return True  # not a URL urlsplit can read: refuse rather than guess


def check_pricing(c: Checker, data: Any, path: str) -> Pricing | None:
    if not isinstance(data, dict):
        c.fail(path, "is required" if data is None else f"expected a table, got {type(data).__name__}")
        return None
    c.unknown_keys(data, PRICE_KEYS, path)
    values: dict[str, str | None] = {}
    for key in sorted(PRICE_KEYS & set(data)):
        raw = data[key]
        if raw is None:
            continue
        if not decimal_in_range(raw):
            c.fail(f"{path}.{key}", f"price out of range: {raw}")
            continue
        try:
            values[key] = parse_fraction(raw) if key == "discount" else parse_price(raw)
        except PriceError as exc:
            c.fail(f"{path}.{key}", str(exc))
    for key in ("prompt", "completion"):
        if key not in data or data[key] is None:
            c.fail(f"{path}.{key}", "is required")
    if "prompt" not in values or "completion" not in values:
        return None
    return Pricing(**values)  # type: ignore[arg-type]


def check_endpoint(c: Checker, data: dict[str, Any], path: str) -> Endpoint | None:
    c.unknown_keys(data, ENDPOINT_KEYS, path)
    provider = c.text(data, "provider", path, required=True, max_length=128)
    tag = c.text(data, "tag", path, max_length=ids.MAX_ID_LENGTH) or provider
    if tag is not None and not ids.is_tag(tag):
        c.fail(f"{path}.tag", f"not a tag (provider slug with an optional /variant): {tag!r}")
    quantization = c.text(data, "quantization", path, max_length=16)
    if quantization is not None and quantization not in QUANTIZATIONS:
        c.fail(f"{path}.quantization", f"unknown quantization {quantization!r}")
    tier = c.text(data, "service_tier", path, max_length=16)
    if tier is not None and tier not in SERVICE_TIERS:
        c.fail(f"{path}.service_tier",
               f"expected one of {', '.join(SERVICE_TIER_VALUES)}, got {tier!r}")
    tool_choice = None
    raw_tc = c.get(data, "supports_tool_choice", path, dict)
    if raw_tc is not None:
        bad = set(raw_tc) - set(TOOL_CHOICES)
        if bad or not all(isinstance(v, bool) for v in raw_tc.values()):
            c.fail(f"{path}.supports_tool_choice", f"expected booleans {', '.join(TOOL_CHOICES)}")
        else:
            tool_choice = ToolChoiceSupport(**raw_tc)
    native = c.get(data, "native_tools", path, dict, default={})
    # Each tool needs its `type`: OpenRouter's SDKs refuse a native tool without one.
    if not all(isinstance(v, dict) and all(isinstance(x, str) for x in v.values()) and "type" in v
               for v in native.values()):
        c.fail(f"{path}.native_tools", "expected a table of tables of strings, each with a type")
        native = {}
    elif not all(c.storable(text, f"{path}.native_tools.{name}") for name, tool in native.items()
                 for text in (name, *tool, *tool.values())):
        native = {}
    context_length = c.count(data, "context_length", path, required=True, positive=True)
    pricing = check_pricing(c, data.get("pricing"), f"{path}.pricing")
    if provider is None or tag is None or context_length is None or pricing is None:
        return None
    return Endpoint(
        provider=provider, tag=tag, context_length=context_length, pricing=pricing,
        max_completion_tokens=c.count(data, "max_completion_tokens", path),
        max_prompt_tokens=c.count(data, "max_prompt_tokens", path),
        quantization=quantization,
        supported_parameters=c.strings(data, "supported_parameters", path),
        supports_implicit_caching=c.flag(data, "supports_implicit_caching", path),
        service_tier=tier, supports_tool_choice=tool_choice, native_tools=native,
        supports_diarization=c.flag(data, "supports_diarization", path),
        is_moderated=c.flag(data, "is_moderated", path),
        disabled=c.flag(data, "disabled", path),
        provider_model_id=c.text(data, "provider_model_id", path, max_length=255),
        source=c.text(data, "source", path, max_length=2048),
        imported_at=c.count(data, "imported_at", path),
        data_policy=check_data_policy(c, data, path),
    )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def _default_parameters(c: Checker, raw: dict[str, Any], path: str) -> dict[str, str] | None:
    """Numbers or decimal strings, kept as decimal strings (the listing serves them as JSON
    numbers); null values are dropped (OpenRouter's data has them), floats are written in
    plain decimals, and every value obeys the decimal string rule (at most 30 digits)."""
    checked: dict[str, str] = {}
    for key, value in raw.items():
        where = f"{path}.{key}"
        if not c.storable(str(key), where):
            continue
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            c.fail(where, f"expected a number, got {_kind(value)}")
            continue
        finite = (value.is_finite() if isinstance(value, Decimal)  # sNaN: no float()
                  else isinstance(value, int | str) or math.isfinite(value))
        if isinstance(value, float | Decimal) and not (finite and decimal_in_range(value)):
            c.fail(where, f"expected a finite number, got {value}"[:200])
            continue
        if isinstance(value, str):
            if not _SIGNED_DECIMAL.fullmatch(value):
                c.fail(where, f"expected a number or a decimal string, got {value!r}"[:200])
                continue
            text = value
        else:
            text = (format_decimal(Decimal(repr(value))) if isinstance(value, float)
                    else format_decimal(value) if isinstance(value, Decimal) else str(value))
            if not _SIGNED_DECIMAL.fullmatch(text):
                c.fail(where, "expected at most 30 digits before and after the point, got "
                       f"{text[:40]}...")
                continue
        checked[str(key)] = text
    return checked or None


def check_model(c: Checker, data: dict[str, Any], path: str) -> Model | None:
    c.unknown_keys(data, MODEL_KEYS, path)
    model_id = c.text(data, "id", path, required=True, max_length=ids.MAX_ID_LENGTH)
    if model_id is not None and not ids.is_model_id(model_id):
        c.fail(f"{path}.id", f"not a model id (author/slug[:variant]): {model_id!r}")
        model_id = None
    name = c.text(data, "name", path, required=True, max_length=512)
    created = c.count(data, "created", path, required=True)
    default_parameters = c.get(data, "default_parameters", path, dict)
    if default_parameters is not None:
        default_parameters = _default_parameters(c, default_parameters,
                                                 f"{path}.default_parameters")
    eps: list[Endpoint] = []
    tags: set[str] = set()
    for epath, item in _each(c, data.get("endpoints"), f"{path}.endpoints"):
        endpoint = check_endpoint(c, item, epath)
        if endpoint is None:
            continue
        if endpoint.tag in tags:
            c.fail(f"{epath}.tag", f"duplicate tag {endpoint.tag!r} in model {model_id}")
            continue
        tags.add(endpoint.tag)
        eps.append(endpoint)
    if model_id is None or name is None or created is None:
        return None
    return Model(
        id=model_id,
        canonical_slug=c.text(data, "canonical_slug", path, max_length=255) or model_id,
        name=name, created=created,
        description=c.text(data, "description", path) or "",
        hugging_face_id=c.text(data, "hugging_face_id", path, max_length=255),
        tokenizer=c.text(data, "tokenizer", path, max_length=64),
        instruct_type=c.text(data, "instruct_type", path, max_length=64),
        modality=c.text(data, "modality", path, max_length=128),
        input_modalities=c.strings(data, "input_modalities", path, ("text",)),
        output_modalities=c.strings(data, "output_modalities", path, ("text",)),
        knowledge_cutoff=c.text(data, "knowledge_cutoff", path, max_length=32),
        expiration_date=c.text(data, "expiration_date", path, max_length=32),
        default_parameters=default_parameters,
        endpoints=tuple(eps),
    )


def check_catalog(
    data: dict[str, Any],
    origin: str,
    *,
    known_providers: Iterable[str] = (),
    top_level: set[str] | None = None,
    check: Callable[[Checker], None] | None = None,
) -> Catalog:
    """Validate a whole catalog dict; raise one CatalogError listing every problem."""
    c = Checker(origin)
    if top_level is not None:
        c.unknown_keys(data, top_level | {"providers", "models"}, "")
    provs: dict[str, Provider] = {}
    for path, item in _each(c, data.get("providers"), "providers"):
        p = check_provider(c, item, path)
        if p is None:
            continue
        if p.slug in provs:
            c.fail(f"{path}.slug", f"duplicate provider {p.slug!r}")
            continue
        provs[p.slug] = p
    mods: dict[str, Model] = {}
    lowered: set[str] = set()
    known = set(known_providers) | set(provs)
    for path, item in _each(c, data.get("models"), "models"):
        m = check_model(c, item, path)
        if m is None:
            continue
        if m.id.lower() in lowered:
            c.fail(f"{path}.id", f"duplicate model {m.id!r}")
            continue
        lowered.add(m.id.lower())
        for i, e in enumerate(m.endpoints):
            if e.provider not in known:
                c.fail(f"{path}.endpoints[{i}].provider", f"unknown provider {e.provider!r}")
        mods[m.id] = m
    if check is not None:
        check(c)
    c.raise_if_any()
    return Catalog(providers=tuple(provs.values()), models=tuple(mods.values()))
