"""routeyard.wire: the discovery shapes, declared once as msgspec Structs, encode to the bytes
the API serves (nulls kept, absent prices left out, Decimals as numbers), and the bodies the
snapshot joins from pre-encoded parts equal the whole Struct encoded."""

from __future__ import annotations

import json

import msgspec

from routeyard import wire
from routeyard.health.histogram import PercentileStats
from routeyard.health.window import LiveStats
from routeyard.models import Catalog, Endpoint, Model, Pricing, Provider
from routeyard.snapshot import Snapshot, encode

PROVIDER = Provider(slug="deepinfra", name="DeepInfra")
BARE = Endpoint(provider="deepinfra", tag="deepinfra", context_length=8,
                pricing=Pricing(prompt="0.1", completion="0"))
PRICED = Endpoint(provider="deepinfra", tag="deepinfra/fp8", context_length=16,
                  pricing=Pricing(prompt="0.000001", completion="0.000002",
                                  input_cache_write="0.5", discount="0.25"),
                  quantization="fp8", supported_parameters=("tool_choice",))
MODEL = Model(id="a/b", canonical_slug="a/b-1", name="B", created=7, endpoints=(BARE, PRICED),
              default_parameters={"temperature": "0.60"})
OTHER = Model(id="a/c", canonical_slug="a/c", name="C", created=3, tokenizer="GPT",
              endpoints=(BARE,))


def test_an_unmeasured_endpoint_sends_every_field_null_included() -> None:
    body = json.loads(encode(wire.endpoint(MODEL, BARE, PROVIDER, None, with_performance=True)))
    assert list(body) == list(wire.PublicEndpoint.__struct_fields__)
    assert body["quantization"] is None and body["service_tier"] is None
    assert body["uptime_last_30m"] is None and body["latency_last_30m"] is None
    assert body["pricing"] == {"prompt": "0.1", "completion": "0"}  # absent keys left out
    assert body["supports_tool_choice"] == {"auto": False, "function": False, "none": False,
                                            "required": False}


def test_discount_and_default_parameters_are_exact_json_numbers() -> None:
    raw = encode(wire.endpoint(MODEL, PRICED, PROVIDER, None, with_performance=True))
    assert b'"pricing":{"prompt":"0.000001","completion":"0.000002","input_cache_write":"0.5",' \
        b'"discount":0.25}' in raw
    listing = encode(wire.model(MODEL))
    assert b'"default_parameters":{"temperature":0.60}' in listing


def test_tokenizer_is_null_in_the_endpoint_list_and_absent_from_the_listing() -> None:
    live = {("a/b", "deepinfra"): LiveStats(
        uptime_last_5m=1.0, uptime_last_30m=2.0, uptime_last_1d=None,
        latency_last_30m=PercentileStats(1, 2, 3, 4), throughput_last_30m=None, status=0)}
    full = json.loads(encode(wire.endpoints_response(MODEL, {"deepinfra": PROVIDER}, live,
                                                     with_performance=True)))
    assert full["data"]["architecture"]["tokenizer"] is None
    assert full["data"]["endpoints"][0]["latency_last_30m"] == {"p50": 1, "p75": 2, "p90": 3,
                                                                "p99": 4}
    listed = json.loads(encode(wire.model(MODEL)))
    assert "tokenizer" not in listed["architecture"]
    assert json.loads(encode(wire.model(OTHER)))["architecture"]["tokenizer"] == "GPT"


def test_wire_pricing_has_the_domain_pricing_fields_in_order() -> None:
    # wire.pricing builds one from the other positionally.
    assert wire.PublicEndpointPricing.__struct_fields__ == Pricing.__struct_fields__


def test_joined_models_page_is_the_struct_encoded_whole() -> None:
    snapshot = Snapshot(Catalog(providers=(PROVIDER,), models=(MODEL, OTHER)))
    listed = [m for m in (wire.model(MODEL), wire.model(OTHER)) if m is not None]
    assert snapshot.models_body.data == encode(wire.ModelsListResponse(
        data=listed, links=wire.ModelsListLinks(None), total_count=2))
    page = Snapshot.models_page(snapshot.listed[:1], total=2, next_link="/api/v1/models?x=1")
    assert page.data == encode(wire.ModelsListResponse(
        data=listed[:1], links=wire.ModelsListLinks("/api/v1/models?x=1"), total_count=2))
    entry = snapshot.lookup("a/b")
    assert entry is not None and entry.listing is not None
    assert b'{"data":' + entry.listing + b"}" == encode(wire.ModelResponse(listed[0]))


def test_the_wire_types_decode_what_they_encode() -> None:
    raw = encode(wire.endpoints_response(MODEL, {"deepinfra": PROVIDER}, {},
                                         with_performance=False))
    decoded = msgspec.json.decode(raw, type=wire.ListEndpointsResponseEnvelope)
    assert [e.tag for e in decoded.data.endpoints] == ["deepinfra", "deepinfra/fp8"]


def test_every_price_key_has_its_column_label_and_validator_key() -> None:
    from routeyard.catalog import schema
    from routeyard.models import PRICE_FIELDS
    from routeyard.store.tables import endpoints
    from routeyard.web.format import PRICE_LABELS

    assert list(PRICE_LABELS) == list(PRICE_FIELDS)
    assert schema.PRICE_KEYS == {*PRICE_FIELDS, "discount"}
    assert {f"price_{k}" for k in schema.PRICE_KEYS} <= set(endpoints.c.keys())
