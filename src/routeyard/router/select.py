"""Which endpoints a chat request goes to, in which order (pure).

``plan(request, snapshot view, live, outages, now, rng)`` -> the ordered attempts and, for
every endpoint left out, why. Nothing here does I/O or reads a clock or a global random
generator: the same request with the same seed, catalog and health gives the same plan.

The rules (docs/routing.md):

- candidates are the enabled endpoints of each model of the chain (``model``, then each of
  ``models``), model by model; ``:nitro`` sorts by throughput and ``:floor`` by price, unless
  the catalog has a model of that id (variants such as ``:free`` are catalog models);
- an endpoint is left out, with the first reason that applies: disabled, no ``base_url``, no
  API key, ``ignore``, ``only``, not in ``order`` with ``allow_fallbacks: false``,
  ``quantizations``, ``require_parameters``, ``data_collection: "deny"``, ``zdr``,
  ``max_price``;
- order: ``order`` first (in its order; a slug matches every tag of that provider), then,
  unless ``allow_fallbacks`` is false, the rest; with ``sort``, by price (prompt + completion),
  throughput (p50, highest first) or latency (p50, lowest first), endpoints without figures
  last; otherwise OpenRouter's default: endpoints that had an outage in the last 30 seconds
  go last, endpoints with a negative status after healthy ones, and the healthy ones in a
  random order weighted by the inverse square of their price;
- ``allow_fallbacks: false`` without ``order``: only the first endpoint of each model.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from routeyard.models import Endpoint, Model, Provider
from routeyard.router.preferences import NO_PREFERENCES, MaxPrice, ProviderPreferences

OUTAGE_SECONDS = 30.0
MILLION = Decimal(1_000_000)
SHORTCUTS = {":nitro": "throughput", ":floor": "price"}
EndpointKey = tuple[str, str]  # (model id, tag)


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One endpoint to try."""

    model_id: str
    tag: str
    provider: str
    upstream_model: str  # the id sent to the provider


class Excluded(msgspec.Struct, frozen=True, kw_only=True):
    model_id: str
    tag: str
    provider: str
    reason: str


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    attempts: tuple[Attempt, ...]
    excluded: tuple[Excluded, ...]
    sort: str | None  # the sort applied, if any ("default" for OpenRouter's default)
    #: models of the chain with no endpoint left, and what removed them
    empty_models: tuple[str, ...] = ()


class UnknownModel(LookupError):
    """A model of the chain is not in the catalog."""

    def __init__(self, model_id: str) -> None:
        super().__init__(model_id)
        self.model_id = model_id


Lookup = Callable[[str], Model | None]
Live = Mapping[EndpointKey, Any]  # LiveStats (or a mapping of the same names)


def resolve(model_id: str, lookup: Lookup) -> tuple[Model, str | None]:
    """The catalog model of ``model_id`` and the sort its shortcut asks for. A catalog model
    of exactly that id wins over a shortcut; raises :class:`UnknownModel`."""
    found = lookup(model_id)
    if found is not None:
        return found, None
    for suffix, sort in SHORTCUTS.items():
        if model_id.endswith(suffix) and (base := lookup(model_id[: -len(suffix)])) is not None:
            return base, sort
    raise UnknownModel(model_id)


def _matches(endpoint: Endpoint, names: Iterable[str]) -> bool:
    """A provider slug matches every tag of that provider; a tag matches itself."""
    return any(n == endpoint.provider or n == endpoint.tag for n in names)


def _rank(endpoint: Endpoint, names: list[str]) -> int:
    for i, n in enumerate(names):
        if n == endpoint.provider or n == endpoint.tag:
            return i
    return len(names)


def format_usd(value: Decimal) -> str:
    """A price for a reason text: at least two decimals, no exponent (``2.00``, ``0.075``)."""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _over_max_price(endpoint: Endpoint, max_price: MaxPrice) -> str | None:
    pricing = endpoint.pricing
    for field, scale in (("prompt", MILLION), ("completion", MILLION), ("audio", MILLION),
                         ("request", Decimal(1)), ("image", Decimal(1))):
        limit: Decimal | None = getattr(max_price, field)
        raw: str | None = getattr(pricing, field)
        if limit is None or raw is None:
            continue
        price = Decimal(raw) * scale
        if price > limit:
            return f"max_price: {field} {format_usd(price)} > {format_usd(limit)}"
    return None


def exclusion(endpoint: Endpoint, provider: Provider | None, prefs: ProviderPreferences,
              used: frozenset[str], has_key: Callable[[Provider], bool]) -> str | None:
    """Why ``endpoint`` cannot take this request, or None when it can."""
    if endpoint.disabled:
        return "disabled"
    if provider is None or not provider.base_url:
        return "no base_url"
    if not has_key(provider):
        return f"no API key ({provider.api_key_env} is not set)"
    if prefs.ignore and _matches(endpoint, prefs.ignore):
        return "ignored"
    if prefs.only is not None and not _matches(endpoint, prefs.only):
        return "not in only"
    if prefs.allow_fallbacks is False and prefs.order and not _matches(endpoint, prefs.order):
        return "not in order (allow_fallbacks is false)"
    if prefs.quantizations:
        quantization = endpoint.quantization or "unknown"
        if quantization not in prefs.quantizations:
            return f"quantization {quantization} not allowed"
    if prefs.require_parameters and used:
        missing = sorted(used - set(endpoint.supported_parameters))
        if missing:
            return f"does not support {', '.join(missing)}"
    if prefs.data_collection == "deny" or prefs.zdr:
        policy = endpoint.policy(provider)
        if prefs.data_collection == "deny" and policy.training is not False:
            known = "trains on prompts" if policy.training else "data policy unknown"
            return f"data_collection: deny ({known})"
        if prefs.zdr and not policy.is_zdr:
            return "zdr: not zero data retention"
    if prefs.max_price is not None:
        return _over_max_price(endpoint, prefs.max_price)
    return None


def unit_price(endpoint: Endpoint) -> Decimal:
    """The price OpenRouter balances and sorts by: prompt plus completion, per token."""
    return Decimal(endpoint.pricing.prompt) + Decimal(endpoint.pricing.completion)


def _field(value: Any, name: str) -> Any:
    """``name`` of a live record: a LiveStats (as the snapshot holds) or a plain mapping."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def _p50(live: Any, field: str) -> float | None:
    value = _field(_field(live, field), "p50")
    return float(value) if isinstance(value, (int, float)) else None


def _status(live: Any) -> int:
    value = _field(live, "status")
    return int(value) if isinstance(value, int) else 0


def _sorted(eps: list[Endpoint], sort: str, model_id: str, live: Live) -> list[Endpoint]:
    if sort == "price":
        return sorted(eps, key=unit_price)  # stable: catalog order breaks ties
    field = "throughput_last_30m" if sort == "throughput" else "latency_last_30m"
    sign = -1.0 if sort == "throughput" else 1.0

    def key(e: Endpoint) -> tuple[int, float]:
        value = _p50(live.get((model_id, e.tag)), field)
        return (1, 0.0) if value is None else (0, sign * value)
    return sorted(eps, key=key)


#: The weight of a free endpoint: as if it cost a millionth of a US cent per million tokens.
_FREE_PRICE = 1e-14


def weight(endpoint: Endpoint) -> float:
    """Inverse square of the price (prompt + completion per token)."""
    price = max(float(unit_price(endpoint)), _FREE_PRICE)
    return 1.0 / (price * price)


def weighted_order(eps: list[Endpoint], rng: random.Random) -> list[Endpoint]:
    """A random order in which each next endpoint is drawn with probability proportional to
    its weight among those left (Efraimidis-Spirakis keys: ``u ** (1 / w)``, in logs)."""
    keyed = []
    for e in eps:
        u = rng.random() or 1e-300
        keyed.append((math.log(u) / weight(e), e))
    keyed.sort(key=lambda item: item[0], reverse=True)
    return [e for _, e in keyed]


def _default(eps: list[Endpoint], model_id: str, live: Live, outages: Mapping[EndpointKey, float],
             now: float, rng: random.Random) -> list[Endpoint]:
    healthy: list[Endpoint] = []
    negative: list[Endpoint] = []
    out: list[Endpoint] = []
    for e in eps:
        last = outages.get((model_id, e.tag))
        if last is not None and now - last < OUTAGE_SECONDS:
            out.append(e)
            continue
        status = _status(live.get((model_id, e.tag)))
        (negative if status < 0 else healthy).append(e)
    negative.sort(key=lambda e: (-_status(live.get((model_id, e.tag))), unit_price(e)))
    out.sort(key=lambda e: (outages[(model_id, e.tag)], unit_price(e)))
    return [*weighted_order(healthy, rng), *negative, *out]


def plan(chain: list[str], prefs: ProviderPreferences | None, used: frozenset[str],
         lookup: Lookup, providers: Mapping[str, Provider], live: Live,
         outages: Mapping[EndpointKey, float], now: float, rng: random.Random, *,
         has_key: Callable[[Provider], bool] = lambda _: True) -> Plan:
    """The ordered attempts for a request whose models are ``chain``; raises
    :class:`UnknownModel` for a model the catalog does not have."""
    prefs = prefs or NO_PREFERENCES
    attempts: list[Attempt] = []
    excluded: list[Excluded] = []
    empty: list[str] = []
    applied: str | None = None
    resolved = [resolve(model_id, lookup) for model_id in chain]  # all unknown ids fail first
    for model, shortcut in resolved:
        eligible: list[Endpoint] = []
        for e in model.endpoints:
            why = exclusion(e, providers.get(e.provider), prefs, used, has_key)
            if why is None:
                eligible.append(e)
            else:
                excluded.append(Excluded(model_id=model.id, tag=e.tag, provider=e.provider,
                                         reason=why))
        sort = prefs.sort or shortcut
        if prefs.order:
            head = sorted((e for e in eligible if _matches(e, prefs.order)),
                          key=lambda e: _rank(e, prefs.order or []))
            rest = [e for e in eligible if not _matches(e, prefs.order)]
            ordered = head + (_sorted(rest, sort, model.id, live) if sort else
                              _default(rest, model.id, live, outages, now, rng))
            applied = applied or "order"
        elif sort:
            ordered = _sorted(eligible, sort, model.id, live)
            applied = applied or sort
        else:
            ordered = _default(eligible, model.id, live, outages, now, rng)
            applied = applied or "default"
        if prefs.allow_fallbacks is False and not prefs.order:
            ordered = ordered[:1]
        if not ordered:
            empty.append(model.id)
        for e in ordered:
            attempts.append(Attempt(model_id=model.id, tag=e.tag, provider=e.provider,
                                    upstream_model=e.provider_model_id or model.id))
    return Plan(attempts=tuple(attempts), excluded=tuple(excluded), sort=applied,
                empty_models=tuple(empty))
