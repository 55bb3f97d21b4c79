"""The price of an answer (pure), and the record every routed request hands to the sink
(in-process app, a real fake provider on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from routeyard.app import create_app
from routeyard.fake_provider import FakeProviderConfig, FakeProviderThread
from routeyard.models import Catalog, Endpoint, Model, Pricing, Provider
from routeyard.router.cost import Tokens, cost, tokens_of
from routeyard.router.record import RoutedRequest
from routeyard.store import Store
from tests.conftest import settings_for


def test_cost_is_exact_decimal_with_cache_reasoning_request_and_discount() -> None:
    p = Pricing(prompt="0.000003", completion="0.000015", input_cache_read="0.0000003",
                internal_reasoning="0.00001", request="0.001", discount="0.1")
    t = Tokens(prompt=1000, completion=500, reasoning=200, cached=400)
    expected = (600 * Decimal("0.000003") + 400 * Decimal("0.0000003")
                + 300 * Decimal("0.000015") + 200 * Decimal("0.00001") + Decimal("0.001")) \
        * Decimal("0.9")
    assert cost(p, t) == expected and cost(p, t) == Decimal("0.008478")
    assert cost(Pricing(prompt="0", completion="0"), t) == 0
    assert cost(Pricing(prompt="0.1", completion="0.2"), Tokens(prompt=1, completion=1)) \
        == Decimal("0.3")  # no float rounding


def test_tokens_of_reads_openai_usage_and_ignores_odd_values() -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
             "completion_tokens_details": {"reasoning_tokens": 2},
             "prompt_tokens_details": {"cached_tokens": True}}
    assert tokens_of(usage) == Tokens(prompt=10, completion=5, reasoning=2, cached=0)
    assert tokens_of(None) == Tokens() and tokens_of({"prompt_tokens": -3}) == Tokens()


@pytest.fixture
def app_and_fake(database_url: str) -> Iterator[tuple[TestClient, str, list[RoutedRequest]]]:
    with FakeProviderThread(FakeProviderConfig(ttft_ms=0, tokens_per_s=1000,
                                               output_tokens=4)) as fake:
        store = Store(database_url)
        store.ensure_schema()
        store.apply_catalog(Catalog(
            providers=(Provider(slug="fake", name="Fake", base_url=fake + "/v1"),),
            models=(Model(id="acme/m", canonical_slug="acme/m", name="M", created=0,
                          endpoints=(Endpoint(provider="fake", tag="fake", context_length=100,
                                              pricing=Pricing(prompt="0.5", completion="1"),
                                              provider_model_id="fake/chat"),)),)))
        key, _ = store.create_key("k", "read")
        app = create_app(settings_for(database_url, load_starter=False, probe_enabled=False),
                         store=store)
        records: list[RoutedRequest] = []
        app.runtime.route_sink = records.append  # type: ignore[attr-defined]
        with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
            yield client, fake, records
        store.dispose()


def test_every_routed_request_hands_one_record_to_the_sink(
        app_and_fake: tuple[TestClient, str, list[RoutedRequest]]) -> None:
    client, _, records = app_and_fake
    before = attempts_counted(client)
    r = client.post("/api/v1/chat/completions", json={
        "model": "acme/m", "messages": [{"role": "user", "content": "one two three"}]})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["cost"] == 3 * 0.5 + 4 * 1
    (record,) = records
    assert record.generation_id == r.headers["x-generation-id"]
    assert (record.model, record.model_used, record.provider, record.tag) == (
        "acme/m", "acme/m", "fake", "fake")
    assert (record.prompt_tokens, record.completion_tokens) == (3, 4)
    assert record.cost == Decimal("5.5") and record.status == 200 and not record.streamed
    assert [(a.provider, a.result, a.http_status) for a in record.attempts] == [
        ("fake", "success", 200)]
    assert record.key_id is not None and record.finish_reason == "stop"
    # A failed request is recorded too, with its status and attempts.
    r = client.post("/api/v1/chat/completions", json={
        "model": "acme/m", "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 2, "stream": True})
    assert r.status_code == 200
    assert records[-1].streamed and records[-1].completion_tokens == 2
    assert records[-1].finish_reason == "length" and records[-1].ttft_ms is not None
    assert attempts_counted(client) == before + 2  # the metric counts them (per process)


def attempts_counted(client: TestClient) -> float:
    line = 'routeyard_route_attempts_total{provider="fake",result="success"} '
    for text in client.get("/metrics").text.splitlines():
        if text.startswith(line):
            return float(text[len(line):])
    return 0.0
