"""Probes against the real fake provider on 127.0.0.1 (a canned-bytes server, also on
127.0.0.1, for upstream behaviour the fake does not have: broken streams, streams without
usage, a 429 listing)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from routeyard.fake_provider import FakeProviderConfig, FakeProviderThread, free_port
from routeyard.health.outcomes import Outcome, Result, Source
from routeyard.models import Catalog, Endpoint, Model, Pricing, Provider
from routeyard.monitor.probes import (
    ALL_KINDS,
    Kind,
    ProbeResult,
    list_models,
    models_outcome,
    probe_completion,
    run_round,
)
from routeyard.upstream.client import Upstream
from tests.canned import canned

T = TypeVar("T")
KEY = "sk-fake-0123456789abcdef-secret"
ENV = {"FAKE_KEY": KEY}
MODEL = "acme/chat-1"
BASELINE: dict[str, Any] = {
    "models": ["fake/chat", "fake/reasoner"],
    "fail_rate": 0.0,
    "rate_limit_rate": 0.0,
    "ttft_ms": 150.0,
    "tokens_per_s": 100.0,
    "output_tokens": 16,
    "reasoning_tokens": 8,
    "reasoning_models": ["fake/reasoner"],
    "api_key": KEY,
    "seed": 3,
}


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    with FakeProviderThread(FakeProviderConfig(**BASELINE)) as url:
        yield url


@pytest.fixture
def url(fake: str) -> str:
    """The fake's base URL, its behaviour reset to the baseline."""
    httpx.post(fake + "/_control", json=BASELINE).raise_for_status()
    return fake


def control(url: str, **changes: Any) -> None:
    httpx.post(url + "/_control", json=changes).raise_for_status()


def provider(url: str, slug: str = "fake", **fields: Any) -> Provider:
    return Provider(slug=slug, name=slug.title(), base_url=url + "/v1", api_key_env="FAKE_KEY",
                    **fields)


def endpoint(provider_model_id: str | None = "fake/chat", tag: str = "fake",
             **fields: Any) -> Endpoint:
    return Endpoint(provider=tag.split("/")[0], tag=tag, context_length=8192,
                    pricing=Pricing(prompt="0", completion="0"),
                    provider_model_id=provider_model_id, **fields)


def run(factory: Callable[[Upstream], Coroutine[Any, Any, T]]) -> T:
    async def main() -> T:
        client = Upstream()
        try:
            return await factory(client)
        finally:
            await client.close()

    return asyncio.run(main())


def models_probe(p: Provider, e: Endpoint, *, timeout: float = 5.0,
                 env: dict[str, str] | None = None) -> Outcome:
    listing = run(lambda c: list_models(c, p, timeout, env=ENV if env is None else env))
    return models_outcome(listing, e, MODEL)[0]


def completion_probe(p: Provider, e: Endpoint, *, timeout: float = 5.0,
                     max_tokens: int = 16) -> Outcome:
    return run(lambda c: probe_completion(c, p, e, MODEL, timeout, max_tokens=max_tokens,
                                          env=ENV))


def sse(*chunks: dict[str, Any] | str) -> bytes:
    return b"".join(
        f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n".encode() for c in chunks
    )


def delta(**fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


def canned_stream(body: bytes) -> Outcome:
    """The completion probe of a provider that answers 200 with ``body``."""
    with canned(200, body) as base:
        return completion_probe(provider(base), endpoint())


# -- models probe -------------------------------------------------------------------------


def test_models_probe_succeeds_when_the_providers_model_id_is_listed(url: str) -> None:
    outcome = models_probe(provider(url), endpoint("fake/reasoner"))
    assert outcome.result is Result.SUCCESS and outcome.http_status == 200
    assert outcome.source is Source.PROBE
    assert (outcome.model_id, outcome.tag) == (MODEL, "fake")
    assert outcome.ttft_ms is None  # a listing is not a first token
    assert abs(outcome.at - time.time()) < 5


def test_models_probe_looks_for_the_routeyard_id_without_a_provider_model_id(url: str) -> None:
    assert models_probe(provider(url), endpoint(None)).result is Result.UPSTREAM_ERROR
    control(url, models=["fake/chat", MODEL])
    assert models_probe(provider(url), endpoint(None)).result is Result.SUCCESS


def test_models_probe_of_an_unlisted_model_is_an_upstream_error(url: str) -> None:
    outcome = models_probe(provider(url), endpoint("fake/gone"))
    assert outcome.result is Result.UPSTREAM_ERROR and outcome.http_status == 200


def test_models_probe_with_a_wrong_key_is_a_401_upstream_error(url: str) -> None:
    outcome = models_probe(provider(url), endpoint(), env={"FAKE_KEY": "sk-wrong"})
    assert outcome.result is Result.UPSTREAM_ERROR and outcome.http_status == 401


def test_models_probe_answered_429_is_rate_limited() -> None:
    with canned(429, b'{"error": {}}', "application/json") as base:
        outcome = models_probe(provider(base), endpoint())
    assert outcome.result is Result.RATE_LIMITED and outcome.http_status == 429


def test_models_probe_of_a_server_that_never_answers_is_a_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        p = provider(f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        outcome = models_probe(p, endpoint(), timeout=0.3)
    assert outcome.result is Result.TIMEOUT and outcome.http_status is None
    assert time.monotonic() - started < 3


def test_models_probe_of_a_closed_port_is_an_upstream_error() -> None:
    outcome = models_probe(provider(f"http://127.0.0.1:{free_port()}"), endpoint())
    assert outcome.result is Result.UPSTREAM_ERROR and outcome.http_status is None


# -- completion probe ---------------------------------------------------------------------


def test_completion_probe_measures_ttft_and_decoding_speed(url: str) -> None:
    outcome = completion_probe(provider(url), endpoint())
    assert outcome.result is Result.SUCCESS and outcome.http_status == 200
    assert outcome.ttft_ms is not None and 150 <= outcome.ttft_ms < 150 + 250
    assert outcome.output_tokens == 16  # from the final usage
    # 16 tokens at 100/s: 15 intervals of 10 ms after the first token. A late first read on
    # a loaded machine takes the first tokens together, so the measured span may be shorter.
    assert outcome.generation_ms is not None and 90 <= outcome.generation_ms < 140 + 250
    assert outcome.throughput is not None and 40 < outcome.throughput < 180


def test_completion_probe_honours_max_tokens(url: str) -> None:
    outcome = completion_probe(provider(url), endpoint(), max_tokens=4)
    assert outcome.result is Result.SUCCESS and outcome.output_tokens == 4


def test_a_reasoning_models_first_token_is_its_first_reasoning_token(url: str) -> None:
    # 8 reasoning tokens at 10/s come before any content: 800 ms the TTFT must not include.
    control(url, tokens_per_s=10.0)
    outcome = completion_probe(provider(url), endpoint("fake/reasoner"), max_tokens=10)
    assert outcome.result is Result.SUCCESS
    assert outcome.ttft_ms is not None and 150 <= outcome.ttft_ms < 150 + 400
    assert outcome.output_tokens == 10  # reasoning tokens are output tokens


def test_a_500_is_an_upstream_error_without_timings(url: str) -> None:
    control(url, fail_rate=1.0)
    outcome = completion_probe(provider(url), endpoint())
    assert outcome.result is Result.UPSTREAM_ERROR and outcome.http_status == 500
    assert outcome.ttft_ms is None and outcome.output_tokens is None


def test_a_429_is_rate_limited(url: str) -> None:
    control(url, rate_limit_rate=1.0)
    outcome = completion_probe(provider(url), endpoint())
    assert outcome.result is Result.RATE_LIMITED and outcome.http_status == 429


def test_an_unknown_model_is_a_404_upstream_error(url: str) -> None:
    outcome = completion_probe(provider(url), endpoint("fake/gone"))
    assert outcome.result is Result.UPSTREAM_ERROR and outcome.http_status == 404


def test_a_slow_first_token_is_a_timeout(url: str) -> None:
    control(url, ttft_ms=3000.0)
    started = time.monotonic()
    outcome = completion_probe(provider(url), endpoint(), timeout=0.3)
    assert outcome.result is Result.TIMEOUT and outcome.ttft_ms is None
    assert time.monotonic() - started < 2


def test_a_stream_cut_off_before_it_finished_is_an_upstream_error() -> None:
    outcome = canned_stream(sse(delta(content="Hel"), delta(content="lo")))
    assert outcome.result is Result.UPSTREAM_ERROR and outcome.http_status == 200
    assert outcome.ttft_ms is None


def test_an_error_inside_the_stream_is_an_upstream_error() -> None:
    body = sse(delta(content="Hel"), {"error": {"message": "overloaded"}}, "[DONE]")
    outcome = canned_stream(body)
    assert outcome.result is Result.UPSTREAM_ERROR


def test_without_usage_output_tokens_are_the_token_deltas() -> None:
    body = sse(delta(role="assistant", content=""), delta(reasoning_content="hmm"),
               delta(content="o"), delta(content="k"),
               {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, "[DONE]")
    outcome = canned_stream(body)
    assert outcome.result is Result.SUCCESS
    assert outcome.output_tokens == 3 and outcome.ttft_ms is not None


def test_the_usage_chunk_after_the_finish_reason_is_read() -> None:
    body = sse(delta(content="ok"),
               {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
               {"choices": [], "usage": {"completion_tokens": 7}}, "[DONE]")
    outcome = canned_stream(body)
    assert outcome.result is Result.SUCCESS and outcome.output_tokens == 7


def test_unparseable_stream_data_is_an_upstream_error() -> None:
    outcome = canned_stream(sse("{not json", "[DONE]"))
    assert outcome.result is Result.UPSTREAM_ERROR


# -- a round ------------------------------------------------------------------------------


def catalog(url: str) -> Catalog:
    providers = (
        provider(url, "cheap"),  # models probe only
        provider(url, "paid", probe_completion=True),
        Provider(slug="nourl", name="No URL"),  # not probed
        Provider(slug="nokey", name="No key", base_url=url + "/v1", api_key_env="UNSET_KEY"),
        Provider(slug="open", name="Open", base_url=url + "/v1", probe_completion=True),
    )
    m = Model(id=MODEL, canonical_slug=MODEL, name="Chat 1", created=0, endpoints=(
        endpoint("fake/chat", "cheap"),
        endpoint("fake/chat", "cheap/off", disabled=True),
        endpoint("fake/reasoner", "paid"),
        endpoint("fake/chat", "nourl"),
        endpoint("fake/chat", "nokey"),
        endpoint("fake/chat", "open"),
    ))
    return Catalog(providers=providers, models=(m,))


def probe_round(url: str, **options: Any) -> tuple[list[ProbeResult], list[Outcome]]:
    recorded: list[Outcome] = []
    options = {"timeout": 5.0, "concurrency": 4, "env": ENV, **options}
    results = asyncio.run(run_round(catalog(url), recorded.append, **options))
    return results, recorded


def test_a_round_probes_each_enabled_endpoint_once_with_its_strongest_probe(url: str) -> None:
    control(url, api_key=None)  # the "open" provider sends no key
    results, recorded = probe_round(url)
    kinds = {r.tag: (r.kind, r.outcome.result if r.outcome else None) for r in results}
    assert kinds == {
        "cheap": (Kind.MODELS, Result.SUCCESS),
        "paid": (Kind.COMPLETION, Result.SUCCESS),
        "nokey": (Kind.MODELS, None),
        "open": (Kind.COMPLETION, Result.SUCCESS),
    }
    skipped = next(r for r in results if r.tag == "nokey")
    assert "UNSET_KEY" in skipped.note
    assert sorted(o.tag for o in recorded) == ["cheap", "open", "paid"]
    assert all(o.source is Source.PROBE for o in recorded)


def test_kinds_restrict_a_round(url: str) -> None:
    results, _ = probe_round(url, kinds={Kind.MODELS})
    assert {r.kind for r in results} == {Kind.MODELS} and len(results) == 4
    results, _ = probe_round(url, kinds={Kind.COMPLETION})
    assert sorted(r.tag for r in results) == ["open", "paid"]
    assert ALL_KINDS == {Kind.MODELS, Kind.COMPLETION}


def test_a_round_keeps_to_its_concurrency_cap(url: str) -> None:
    control(url, ttft_ms=200.0, tokens_per_s=1000.0)
    paid = provider(url, "paid", probe_completion=True)
    endpoints = tuple(endpoint("fake/chat", f"paid/e{i}") for i in range(6))
    cat = Catalog(providers=(paid,), models=(
        Model(id=MODEL, canonical_slug=MODEL, name="x", created=0, endpoints=endpoints),))
    started = time.monotonic()
    results = asyncio.run(run_round(cat, lambda o: None, timeout=5.0, concurrency=2, env=ENV))
    assert len(results) == 6
    assert time.monotonic() - started >= 3 * 0.2  # 6 probes, 2 at a time, 200 ms each at least


def test_the_key_never_appears_in_logs_or_outcomes(url: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    control(url, fail_rate=0.5)
    results, recorded = probe_round(url)
    dead_url = f"http://127.0.0.1:{free_port()}"
    dead = provider(dead_url, "paid", probe_completion=True)
    recorded.append(run(lambda c: probe_completion(c, dead, endpoint(), MODEL, 1.0, env=ENV)))
    gone = provider(dead_url, "gone")  # models probe only: the listing fails and is logged
    cat = Catalog(providers=(gone,), models=(Model(id=MODEL, canonical_slug=MODEL, name="x",
                                                   created=0, endpoints=(endpoint(tag="gone"),)),))
    results += asyncio.run(run_round(cat, recorded.append, timeout=1.0, concurrency=1, env=ENV))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        slow = provider(f"http://127.0.0.1:{silent.getsockname()[1]}", "paid")
        recorded.append(run(lambda c: probe_completion(c, slow, endpoint(), MODEL, 0.2, env=ENV)))
    assert {o.result for o in recorded} >= {Result.UPSTREAM_ERROR, Result.TIMEOUT}
    assert caplog.records, "expected debug logs from the probes"
    assert KEY not in caplog.text and KEY[-12:] not in caplog.text
    assert all(KEY not in repr(item) for item in [*results, *recorded])
