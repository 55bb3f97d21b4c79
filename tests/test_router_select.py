"""Endpoint selection (routeyard.router.select): every rule, pure, with a seeded RNG."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import msgspec
import pytest

from routeyard.models import DataPolicy, Endpoint, Model, Pricing, Provider
from routeyard.router.preferences import ChatRequest, ProviderPreferences, used_parameters
from routeyard.router.select import UnknownModel, plan, weight

M = "acme/chat"


def provider(slug: str, **fields: Any) -> Provider:
    return Provider(slug=slug, name=slug.title(), base_url=f"http://{slug}.test/v1", **fields)


def ep(tag: str, prompt: str = "0.000001", completion: str = "0.000002", **fields: Any) -> Endpoint:
    return Endpoint(provider=tag.split("/")[0], tag=tag, context_length=1000,
                    pricing=Pricing(prompt=prompt, completion=completion), **fields)


PROVIDERS = {p.slug: p for p in (
    provider("cheap", data_policy=DataPolicy(training=False, retains_prompts=False)),
    provider("mid", data_policy=DataPolicy(training=True)),
    provider("dear"),
    provider("nourl").__class__(slug="nourl", name="No URL"),
)}
ENDPOINTS = (
    ep("cheap", "0.000001", "0.000001", quantization="fp8",
       supported_parameters=("tools", "temperature")),
    ep("mid", "0.000002", "0.000002", quantization="bf16", supported_parameters=("temperature",)),
    ep("dear", "0.000004", "0.000004"),
    ep("nourl"),
)
MODELS = {m.id: m for m in (
    Model(id=M, canonical_slug=M, name="Chat", created=0, endpoints=ENDPOINTS),
    Model(id=M + ":free", canonical_slug=M, name="Chat (free)", created=0,
          endpoints=(ep("mid", "0", "0"),)),
    Model(id="acme/other", canonical_slug="acme/other", name="Other", created=0,
          endpoints=(ep("dear", provider_model_id="dear-other-v1"),)),
)}


def run(chain: list[str] | str = M, seed: int = 1, live: dict[Any, Any] | None = None,
        outages: dict[Any, float] | None = None, used: frozenset[str] = frozenset(),
        **prefs: Any) -> tuple[list[str], dict[str, str]]:
    result = plan([chain] if isinstance(chain, str) else chain,
                  msgspec.convert(prefs, ProviderPreferences), used, MODELS.get, PROVIDERS,
                  live or {}, outages or {}, 1000.0, random.Random(seed))
    return ([a.tag if len({a.model_id for a in result.attempts}) == 1 else
             f"{a.model_id}@{a.tag}" for a in result.attempts],
            {x.tag: x.reason for x in result.excluded})


def test_an_endpoint_without_base_url_is_left_out_with_its_reason() -> None:
    tags, why = run()
    assert sorted(tags) == ["cheap", "dear", "mid"] and why == {"nourl": "no base_url"}


def test_ignore_only_and_quantizations() -> None:
    assert run(ignore=["cheap"])[1]["cheap"] == "ignored"
    tags, why = run(only=["mid", "dear"])
    assert sorted(tags) == ["dear", "mid"] and why["cheap"] == "not in only"
    tags, why = run(quantizations=["fp8"])
    assert tags == ["cheap"]
    assert why["mid"] == "quantization bf16 not allowed"
    assert why["dear"] == "quantization unknown not allowed"


def test_require_parameters_leaves_out_endpoints_missing_one() -> None:
    used = frozenset({"tools", "temperature"})
    tags, why = run(used=used, require_parameters=True)
    assert tags == ["cheap"] and why["mid"] == "does not support tools"
    assert why["dear"] == "does not support temperature, tools"
    assert len(run(used=used)[0]) == 3  # not asked: parameters are not checked


def test_data_collection_deny_and_zdr() -> None:
    tags, why = run(data_collection="deny")
    assert tags == ["cheap"]
    assert why["mid"] == "data_collection: deny (trains on prompts)"
    assert why["dear"] == "data_collection: deny (data policy unknown)"
    tags, why = run(zdr=True)
    assert tags == ["cheap"] and why["mid"] == "zdr: not zero data retention"


def test_max_price_in_usd_per_million_tokens() -> None:
    tags, why = run(max_price={"completion": "3", "prompt": 10})
    assert sorted(tags) == ["cheap", "mid"]
    assert why["dear"] == "max_price: completion 4.00 > 3.00"


def test_order_goes_first_then_the_rest_unless_fallbacks_are_off() -> None:
    tags, _ = run(order=["dear", "mid"])
    assert tags == ["dear", "mid", "cheap"]
    tags, why = run(order=["dear", "mid"], allow_fallbacks=False)
    assert tags == ["dear", "mid"] and why["cheap"] == "not in order (allow_fallbacks is false)"
    assert len(run(allow_fallbacks=False)[0]) == 1


def test_sort_by_price_throughput_and_latency() -> None:
    live = {(M, "cheap"): {"throughput_last_30m": {"p50": 10}, "latency_last_30m": {"p50": 900}},
            (M, "mid"): {"throughput_last_30m": {"p50": 90}, "latency_last_30m": {"p50": 300}},
            (M, "dear"): {}}
    assert run(sort="price")[0] == ["cheap", "mid", "dear"]
    assert run(sort="throughput", live=live)[0] == ["mid", "cheap", "dear"]
    assert run(sort="latency", live=live)[0] == ["mid", "cheap", "dear"]
    # The shortcuts: :nitro sorts by throughput, :floor by price.
    assert run(M + ":nitro", live=live)[0] == ["mid", "cheap", "dear"]
    assert run(M + ":floor")[0] == ["cheap", "mid", "dear"]


def test_a_variant_in_the_catalog_is_its_own_model() -> None:
    result = plan([M + ":free"], None, frozenset(), MODELS.get, PROVIDERS, {}, {}, 0.0,
                  random.Random(0))
    assert [(a.model_id, a.tag) for a in result.attempts] == [(M + ":free", "mid")]
    with pytest.raises(UnknownModel) as caught:
        plan(["acme/nope"], None, frozenset(), MODELS.get, PROVIDERS, {}, {}, 0.0,
             random.Random(0))
    assert caught.value.model_id == "acme/nope"


def test_models_fallback_follows_the_first_models_endpoints() -> None:
    result = plan([M, "acme/other"], ProviderPreferences(sort="price"), frozenset(), MODELS.get,
                  PROVIDERS, {}, {}, 0.0, random.Random(0))
    assert [(a.model_id, a.tag) for a in result.attempts] == [
        (M, "cheap"), (M, "mid"), (M, "dear"), ("acme/other", "dear")]
    assert result.attempts[-1].upstream_model == "dear-other-v1"


def test_default_order_puts_recent_outages_last_and_negative_status_after_healthy() -> None:
    for seed in range(20):
        tags, _ = run(seed=seed, outages={(M, "cheap"): 980.0},
                      live={(M, "mid"): {"status": -2}})
        assert tags == ["dear", "mid", "cheap"], seed
    # An outage more than 30 s ago no longer counts.
    firsts = {run(seed=s, outages={(M, "cheap"): 960.0})[0][0] for s in range(20)}
    assert "cheap" in firsts


def test_same_seed_same_plan() -> None:
    assert all(run(seed=s) == run(seed=s) for s in range(50))
    assert len({tuple(run(seed=s)[0]) for s in range(50)}) > 1


def test_default_weighting_is_inverse_square_of_price_statistically() -> None:
    """Prices 2, 4, 8 (per million, prompt + completion): weights 1, 1/4, 1/16, so the first
    pick is cheap 16/21, mid 4/21, dear 1/21. 20,000 seeded plans; the bound is over 6
    standard deviations, so the test fails only if the weighting is wrong."""
    n = 20_000
    rng = random.Random(12345)
    firsts: Counter[str] = Counter()
    for _ in range(n):
        result = plan([M], None, frozenset(), MODELS.get, PROVIDERS, {}, {}, 0.0, rng)
        firsts[result.attempts[0].tag] += 1
    for tag, p in (("cheap", 16 / 21), ("mid", 4 / 21), ("dear", 1 / 21)):
        sd = (p * (1 - p) / n) ** 0.5
        assert abs(firsts[tag] / n - p) < 6 * sd, (tag, firsts[tag] / n, p)
    assert weight(ENDPOINTS[0]) / weight(ENDPOINTS[1]) == pytest.approx(4.0)


def test_unknown_provider_field_and_bad_types_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `sortt`"):
        msgspec.convert({"sortt": "price"}, ProviderPreferences)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"sort": "cheapest"}, ProviderPreferences)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"messages": []}', type=ChatRequest)


def test_key_defaults_apply_under_the_request() -> None:
    stored = ProviderPreferences(ignore=["dear"], sort="price", data_collection="deny")
    merged = ProviderPreferences(ignore=["mid"], sort="latency").over(stored)
    assert merged.ignore == ["dear", "mid"] and merged.sort == "latency"
    assert merged.data_collection == "deny"


def test_used_parameters() -> None:
    body = {"tools": [], "temperature": None, "response_format": {"type": "json_schema"}}
    assert used_parameters(body) == {"tools", "structured_outputs"}
