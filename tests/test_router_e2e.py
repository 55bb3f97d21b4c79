"""The router end to end: a real `routeyard serve` in front of several real `routeyard
fake-provider`s on 127.0.0.1 (threads here), on SQLite and PostgreSQL.

Each provider of the catalog points at a fake of its own whose behaviour a test sets through
its ``/_control``: fast, slow, failing, rate-limited, breaking off mid-stream. What the
router did is checked from outside: the answer, the fakes' counters, the plan route and the
endpoints API.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from routeyard.fake_provider import FakeProviderConfig, FakeProviderThread, free_port
from routeyard.models import Catalog, DataPolicy, Endpoint, Model, Pricing, Provider
from routeyard.store import Store
from tests.conftest import BACKENDS, Server, fresh_database_url

KEY_ENV = "ROUTEYARD_TEST_ROUTER_UPSTREAM_KEY"
UPSTREAM_KEY = "sk-upstream-router-7c1e5b2a9f-secret"
MODEL = "acme/chat"
OTHER = "acme/other"
FAKES = ("cheap", "mid", "dear")
BASE: dict[str, Any] = {
    "models": ["fake/chat", "fake/reasoner"], "fail_rate": 0.0, "rate_limit_rate": 0.0,
    "ttft_ms": 20.0, "tokens_per_s": 500.0, "output_tokens": 6, "reasoning_tokens": 3,
    "reasoning_models": ["fake/reasoner"], "api_key": UPSTREAM_KEY, "seed": 7,
    "break_after_tokens": 0, "hold_headers": False,
}
PRICES = {"cheap": ("0.000001", "0.000002"), "mid": ("0.000002", "0.000004"),
          "dear": ("0.000004", "0.000008")}


def catalog(urls: dict[str, str], dead: str) -> Catalog:
    providers = [
        Provider(slug=name, name=name.title(), base_url=url + "/v1", api_key_env=KEY_ENV,
                 data_policy=DataPolicy(training=name != "cheap", zdr=name == "cheap"))
        for name, url in urls.items()
    ]
    providers.append(Provider(slug="dead", name="Dead", base_url=dead + "/v1",
                              api_key_env=KEY_ENV))
    providers.append(Provider(slug="nourl", name="No URL"))

    def ep(name: str, **fields: Any) -> Endpoint:
        prompt, completion = PRICES.get(name, ("0.000003", "0.000003"))
        fields.setdefault("supported_parameters", ("max_tokens", "temperature"))
        return Endpoint(provider=name, tag=fields.pop("tag", name), context_length=8192,
                        pricing=Pricing(prompt=prompt, completion=completion),
                        provider_model_id="fake/chat", **fields)

    chat = Model(id=MODEL, canonical_slug=MODEL, name="Acme Chat", created=1, endpoints=(
        ep("cheap", quantization="fp8", supported_parameters=("max_tokens", "tools")),
        ep("mid", quantization="bf16"), ep("dear"), ep("nourl")))
    other = Model(id=OTHER, canonical_slug=OTHER, name="Acme Other", created=1, endpoints=(
        ep("dead"), ep("mid", tag="mid/other"),))
    thinker = Model(id="acme/thinker", canonical_slug="acme/thinker", name="Thinker", created=1,
                    endpoints=(Endpoint(provider="mid", tag="mid", context_length=8192,
                                        pricing=Pricing(prompt="0.000001", completion="0.00001"),
                                        provider_model_id="fake/reasoner"),))
    return Catalog(providers=tuple(providers), models=(chat, other, thinker))


class Routed:
    def __init__(self, server: Server, fakes: dict[str, str], key: str) -> None:
        self.server, self.fakes, self.key = server, fakes, key
        self.headers = {"Authorization": f"Bearer {key}"}

    def control(self, name: str, **changes: Any) -> dict[str, Any]:
        r = httpx.post(self.fakes[name] + "/_control", json=changes)
        r.raise_for_status()
        return dict(r.json())

    def counters(self, name: str) -> dict[str, Any]:
        return dict(httpx.get(self.fakes[name] + "/_control").json())

    def chat(self, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return httpx.post(self.server.base + "/api/v1/chat/completions",
                          json=body, headers=self.headers, timeout=30, **kwargs)

    def plan(self, body: dict[str, Any], seed: int = 1) -> dict[str, Any]:
        r = httpx.post(f"{self.server.base}/api/v1/router/plan?seed={seed}", json=body,
                       headers=self.headers)
        assert r.status_code == 200, r.text
        return dict(r.json()["data"])


def body(**fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": "hello there"}], **fields}


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, str]]:
    threads = [FakeProviderThread(FakeProviderConfig(**BASE)) for _ in FAKES]
    urls = {name: t.start() for name, t in zip(FAKES, threads, strict=True)}
    try:
        yield urls
    finally:
        for t in threads:
            t.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, fakes: dict[str, str],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Routed]:
    """One server per backend for the whole module (starting one costs seconds); each
    test resets the fakes (see ``routed``)."""
    if request.param == "postgresql":
        request.applymarker(pytest.mark.pg)
    tmp_path = tmp_path_factory.mktemp(f"router-{request.param}")
    database_url = fresh_database_url(str(request.param), tmp_path)
    store = Store(database_url)
    store.ensure_schema()
    store.apply_catalog(catalog(fakes, f"http://127.0.0.1:{free_port()}"))
    key, _ = store.create_key("router", "read")
    server = Server(database_url, tmp_path, env={
        KEY_ENV: UPSTREAM_KEY, "ROUTEYARD_LOAD_STARTER": "false",
        "ROUTEYARD_PROBE_ENABLED": "false", "ROUTEYARD_HEALTH_FLUSH_INTERVAL": "0.2",
        "ROUTEYARD_HEALTH_REFRESH_INTERVAL": "0.2", "ROUTEYARD_UPSTREAM_FIRST_BYTE_TIMEOUT": "4",
        "ROUTEYARD_UPSTREAM_CHUNK_TIMEOUT": "4", "ROUTEYARD_ROUTER_PROCESSING_INTERVAL": "0.3",
        "ROUTEYARD_MAX_CHAT_BODY_BYTES": str(1 << 20),
    })
    try:
        yield Routed(server, fakes, key)
    finally:
        server.stop()
        store.dispose()


@pytest.fixture
def routed(served: Routed) -> Routed:
    for url in served.fakes.values():
        httpx.post(url + "/_control", json=BASE).raise_for_status()
        httpx.post(url + "/_control/reset").raise_for_status()
    return served


def events(response: httpx.Response) -> tuple[list[dict[str, Any]], list[str]]:
    """The data chunks of an SSE answer, and its comment lines."""
    chunks, comments = [], []
    done = False
    for line in response.text.split("\n"):
        if line.startswith(":"):
            comments.append(line)
        elif line == "data: [DONE]":
            done = True
        elif line.startswith("data: "):
            chunks.append(json.loads(line[6:]))
    assert done, response.text
    return chunks, comments


def assert_envelope(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == status and isinstance(error["message"], str)
    assert "Traceback" not in r.text and UPSTREAM_KEY not in r.text
    return dict(error)


# -- answers -------------------------------------------------------------------------------


def test_non_streaming_answer_in_openrouters_shape_with_cost(routed: Routed) -> None:
    r = routed.chat(body(provider={"order": ["mid"]}))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["id"].startswith("gen-") and r.headers["x-generation-id"] == data["id"]
    assert data["object"] == "chat.completion" and isinstance(data["created"], int)
    assert (data["model"], data["provider"]) == (MODEL, "Mid")
    assert "system_fingerprint" in data
    assert data["choices"][0]["message"]["content"] == "The quick brown fox jumps over"
    usage = data["usage"]
    # The fake counts words: 2 prompt tokens, 6 completion tokens; mid costs 2 and 4 per M.
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (2, 6, 8)
    assert usage["cost"] == pytest.approx(2 * 0.000002 + 6 * 0.000004, abs=1e-15)
    timing = r.headers["server-timing"]
    assert timing.startswith("routeyard;dur=") and ", upstream;dur=" in timing
    assert routed.counters("mid")["requests"]["completed"] == 1


def test_streaming_passes_chunks_in_openrouters_shape_and_ends_with_usage(routed: Routed) -> None:
    r = routed.chat(body(model="acme/thinker", stream=True))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    chunks, _ = events(r)
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and ids == {r.headers["x-generation-id"]}
    for c in chunks:
        assert c["object"] == "chat.completion.chunk" and c["model"] == "acme/thinker"
        assert c["provider"] == "Mid" and isinstance(c["created"], int)
        assert "system_fingerprint" in c
        assert all("finish_reason" in ch for ch in c["choices"])
    reasoning = "".join(c["choices"][0]["delta"].get("reasoning", "") for c in chunks
                        if c["choices"])
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert reasoning == "step 0. step 1. step 2. " and content == "The quick brown fox jumps over"
    last = chunks[-1]
    assert last["usage"]["completion_tokens"] == 9
    assert last["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    assert last["usage"]["cost"] == pytest.approx(2 * 0.000001 + 9 * 0.00001, abs=1e-15)


def test_processing_comments_while_waiting_for_the_first_token(routed: Routed) -> None:
    routed.control("mid", ttft_ms=800.0)
    r = routed.chat(body(stream=True, provider={"order": ["mid"]}))
    chunks, comments = events(r)
    assert ": OPENROUTER PROCESSING" in comments and len(comments) >= 2
    assert chunks[-1]["usage"]["completion_tokens"] == 6


# -- fallbacks ------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [{"fail_rate": 1.0}, {"rate_limit_rate": 1.0},
                                     {"ttft_ms": 6000.0}])
def test_falls_back_on_500_429_and_timeout(routed: Routed, failure: dict[str, Any]) -> None:
    routed.control("cheap", **failure)
    r = routed.chat(body(stream=True, provider={"order": ["cheap", "mid"]}))
    chunks, _ = events(r)
    assert {c["provider"] for c in chunks} == {"Mid"}
    assert routed.counters("mid")["requests"]["streamed"] == 1


def test_connection_refused_falls_back_to_the_next_model(routed: Routed) -> None:
    r = routed.chat({**body(model=OTHER), "provider": {"sort": "price"}})
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "Mid" and r.json()["model"] == OTHER


def test_models_fallback(routed: Routed) -> None:
    # acme/chat's endpoints left by the quantizations (cheap fp8, dear unknown) both fail;
    # the next model of `models` answers.
    routed.control("cheap", fail_rate=1.0)
    routed.control("dear", fail_rate=1.0)
    r = routed.chat({**body(models=["acme/thinker"]),
                     "provider": {"quantizations": ["fp8", "unknown"]}})
    assert r.status_code == 200, r.text
    assert (r.json()["model"], r.json()["provider"]) == ("acme/thinker", "Mid")
    assert routed.counters("cheap")["requests"] == {"failed": 1}


def test_allow_fallbacks_false_returns_the_upstream_failure(routed: Routed) -> None:
    routed.control("cheap", fail_rate=1.0)
    r = routed.chat(body(provider={"order": ["cheap"], "allow_fallbacks": False}))
    error = assert_envelope(r, 502)
    attempts = error["metadata"]["attempts"]
    assert [(a["provider"], a["status"]) for a in attempts] == [("cheap", 500)]
    assert "failed on purpose" in attempts[0]["reason"]
    assert routed.counters("mid")["requests"] == {}


def test_every_endpoint_rate_limited_is_429_with_retry_after(routed: Routed) -> None:
    for name in FAKES:
        routed.control(name, rate_limit_rate=1.0)
    error = assert_envelope(r := routed.chat(body()), 429)
    assert r.headers["retry-after"] == "1"
    assert len(error["metadata"]["attempts"]) == 3


def test_no_fallback_after_the_first_token_and_a_mid_stream_error_chunk(routed: Routed) -> None:
    routed.control("cheap", break_after_tokens=2, tokens_per_s=20.0)  # apart, not one read
    r = routed.chat(body(stream=True, provider={"order": ["cheap", "mid"]}))
    assert r.status_code == 200
    chunks, _ = events(r)
    assert {c["provider"] for c in chunks} == {"Cheap"}
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks
                      if c["choices"])
    assert content == "The quick"
    last = chunks[-1]
    assert last["error"]["code"] == 502 and last["choices"][0]["finish_reason"] == "error"
    assert {c["provider"] for c in chunks} == {"Cheap"}
    assert routed.counters("mid")["requests"] == {}  # no fallback after the first byte


def test_client_disconnect_cancels_the_upstream_at_once(routed: Routed) -> None:
    routed.control("mid", tokens_per_s=5.0, output_tokens=200)
    with socket.create_connection(("127.0.0.1", routed.server.port)) as sock:
        payload = json.dumps(body(stream=True, provider={"order": ["mid"]})).encode()
        sock.sendall(b"POST /api/v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
                     b"authorization: Bearer " + routed.key.encode() + b"\r\n"
                     b"content-type: application/json\r\ncontent-length: "
                     + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        received = b""
        deadline = time.monotonic() + 5
        while b"data: " not in received:  # the headers may come in a segment of their own
            assert time.monotonic() < deadline, received
            received += sock.recv(65536)
        deadline = time.monotonic() + 5
        while routed.counters("mid")["open_streams"] != 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    deadline = time.monotonic() + 3
    while (c := routed.counters("mid"))["open_streams"] != 0:
        assert time.monotonic() < deadline, c
        time.sleep(0.05)
    assert c["requests"].get("cancelled") == 1


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("payload", "status", "message"), [
    ({"model": MODEL}, 400, "missing required field `messages`"),
    ({"model": MODEL, "messages": []}, 400, "length >= 1"),
    ({"model": MODEL, "messages": "hi"}, 400, "Expected `array`, got `str`"),
    ({"model": MODEL, "messages": [{"role": "user", "content": 3}]}, 400, "$.messages[0].content"),
    ({"model": MODEL, "messages": [{"role": "user"}], "temperature": "hot"}, 400, "temperature"),
    ({"model": "acme/nope", "messages": [{"role": "user"}]}, 400,
     "acme/nope is not a valid model ID"),
    ({"model": MODEL, "messages": [{"role": "user"}], "provider": {"sortt": "price"}}, 400,
     "unknown field `sortt`"),
    ({"messages": [{"role": "user"}]}, 400, "no model given"),
])
def test_bad_input_is_a_clear_4xx_and_no_upstream_call(routed: Routed, payload: dict[str, Any],
                                                       status: int, message: str) -> None:
    error = assert_envelope(routed.chat(payload), status)
    assert message in error["message"]
    assert all(routed.counters(n)["requests"] == {} for n in FAKES)


def test_a_too_large_body_is_413(routed: Routed) -> None:
    big = body(messages=[{"role": "user", "content": "x" * (2 << 20)}])
    assert_envelope(routed.chat(big), 413)
    assert all(routed.counters(n)["requests"] == {} for n in FAKES)


def test_no_key_is_401(routed: Routed) -> None:
    r = httpx.post(routed.server.base + "/api/v1/chat/completions", json=body())
    assert_envelope(r, 401)


def test_no_endpoint_left_is_404(routed: Routed) -> None:
    error = assert_envelope(routed.chat(body(tools=[{"type": "function", "function": {
        "name": "f"}}], provider={"require_parameters": True, "only": ["mid", "dear"]})), 404)
    assert error["message"] == f"No endpoints found for {MODEL}"
    reasons = {x["tag"]: x["reason"] for x in error["metadata"]["excluded"]}
    assert reasons["mid"] == "does not support tools" and reasons["cheap"] == "not in only"
    error = assert_envelope(routed.chat(body(tools=[{"type": "function", "function": {
        "name": "f"}}], model=OTHER, provider={"require_parameters": True})), 404)
    assert error["message"] == "No endpoints found that support tools"


# -- the plan ---------------------------------------------------------------------------------


def test_plan_lists_attempts_and_every_exclusion_with_its_reason(routed: Routed) -> None:
    plan = routed.plan(body(provider={"quantizations": ["fp8", "bf16"],
                                      "max_price": {"completion": 3}}))
    assert [a["tag"] for a in plan["attempts"]] == ["cheap"]
    assert plan["attempts"][0]["upstream_model"] == "fake/chat"
    reasons = {x["tag"]: x["reason"] for x in plan["excluded"]}
    assert reasons == {"mid": "max_price: completion 4.00 > 3.00",
                       "dear": "quantization unknown not allowed", "nourl": "no base_url"}
    assert [a["tag"] for a in routed.plan(body(provider={"zdr": True}))["attempts"]] == ["cheap"]
    denied = routed.plan(body(provider={"data_collection": "deny"}))
    assert {x["tag"]: x["reason"] for x in denied["excluded"]}["mid"] == \
        "data_collection: deny (trains on prompts)"
    assert [a["tag"] for a in routed.plan(body(model=MODEL + ":floor"))["attempts"]] == \
        ["cheap", "mid", "dear"]
    assert routed.plan(body(), seed=5) == routed.plan(body(), seed=5)
    assert all(routed.counters(n)["requests"] == {} for n in FAKES)


# -- health from traffic ------------------------------------------------------------------------


def test_routed_traffic_moves_the_endpoints_live_fields(routed: Routed) -> None:
    routed.control("dear", fail_rate=1.0)
    for _ in range(4):
        chunks, _ = events(routed.chat(body(stream=True, provider={"order": ["dear", "mid"]})))
        assert chunks[-1]["provider"] == "Mid"
    url = f"{routed.server.base}/api/v1/models/{MODEL}/endpoints"
    deadline = time.monotonic() + 15
    while True:
        eps = {e["tag"]: e for e in httpx.get(url, headers=routed.headers).json()["data"]
               ["endpoints"]}
        # Other tests routed to dear before (successfully): its uptime exists before this
        # test's failures are folded in, so wait for what they must do to it (or time out).
        # mid's uptime needs 3 counted attempts (ROUTEYARD_UPTIME_MIN_ATTEMPTS), its latency
        # one: wait for both.
        dear, mid = eps["dear"]["uptime_last_30m"], eps["mid"]["uptime_last_30m"]
        if (eps["mid"]["latency_last_30m"] is not None and mid is not None
                and dear is not None and dear < 100.0):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # Other tests of the module routed to these endpoints too: mid never failed, dear did.
    assert eps["mid"]["uptime_last_30m"] == 100.0 and eps["dear"]["uptime_last_30m"] < 100.0
    assert eps["mid"]["latency_last_30m"]["p50"] >= 15  # the fake's 20 ms to the first token
    assert eps["mid"]["throughput_last_30m"]["p50"] > 0
    assert eps["nourl"]["uptime_last_30m"] is None  # never routed to


def test_time_to_first_token_runs_from_the_request_even_when_headers_wait_for_it(
        routed: Routed) -> None:
    # A provider that sends its response headers only with the first token: timed from
    # the response headers, its 300 ms would read as about 0.
    routed.control("mid", ttft_ms=300.0, hold_headers=True)
    r = routed.chat(body(stream=True, provider={"order": ["mid"]}))
    chunks, _ = events(r)
    assert chunks[-1]["provider"] == "Mid"
    gen = httpx.get(f"{routed.server.base}/api/v1/generation",
                    params={"id": r.headers["x-generation-id"]}, headers=routed.headers)
    assert gen.status_code == 200, gen.text
    assert 300 <= gen.json()["data"]["latency"] <= 300 + 200, gen.json()["data"]


def test_latency_of_a_whole_answer_runs_to_its_last_byte_and_stays_out_of_the_endpoints(
        routed: Routed) -> None:
    # 300 ms to the first token, then 5 more tokens 20 ms apart: 400 ms to the last one.
    routed.control("mid", ttft_ms=300.0, tokens_per_s=50.0)
    plain = routed.chat(body(provider={"order": ["mid"]}))
    assert plain.status_code == 200, plain.text
    streamed = routed.chat(body(stream=True, provider={"order": ["mid"]}))
    events(streamed)

    def generation(r: httpx.Response) -> dict[str, Any]:
        g = httpx.get(f"{routed.server.base}/api/v1/generation",
                      params={"id": r.headers["x-generation-id"]}, headers=routed.headers)
        assert g.status_code == 200, g.text
        return dict(g.json()["data"])

    whole, stream = generation(plain), generation(streamed)
    # A whole answer: its first token came, as far as routeyard sees, with its last byte.
    assert 400 <= whole["latency"] <= 400 + 200 and whole["generation_time"] is None, whole
    # A stream: to the first token, then the generation time to the last one (the fake
    # sends each token at its time from the request: a late first token shortens the rest).
    assert 300 <= stream["latency"] <= 300 + 200, stream
    assert 0 < stream["generation_time"] <= 100 + 150, stream
    assert 400 <= stream["latency"] + stream["generation_time"] <= 400 + 200, stream


REPLICA_FAKES: dict[str, dict[str, Any]] = {
    # one that fails about half its requests (seeded: the same ones every run), fast;
    # one that never fails but is slow to its first token and slow to stream;
    # one that only gets whole (non-streamed) answers; one that is never routed to
    "flaky": {"fail_rate": 0.5, "ttft_ms": 40.0, "tokens_per_s": 400.0, "seed": 11},
    "slow": {"fail_rate": 0.0, "ttft_ms": 400.0, "tokens_per_s": 40.0, "seed": 12},
    "plain": {"fail_rate": 0.0, "ttft_ms": 40.0, "tokens_per_s": 400.0, "seed": 13},
    "idle": {"fail_rate": 0.0, "ttft_ms": 40.0, "tokens_per_s": 400.0, "seed": 14},
}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_traffic_routed_through_one_replica_moves_the_live_fields_seen_by_the_other(
        database_url: str, tmp_path: Path) -> None:
    threads = {name: FakeProviderThread(FakeProviderConfig(**{**BASE, **changes}))
               for name, changes in REPLICA_FAKES.items()}
    urls = {name: t.start() for name, t in threads.items()}
    store = Store(database_url)
    store.ensure_schema()
    chat = Model(id=MODEL, canonical_slug=MODEL, name="Acme Chat", created=1, endpoints=tuple(
        Endpoint(provider=name, tag=name, context_length=8192, provider_model_id="fake/chat",
                 pricing=Pricing(prompt="0.000001", completion="0.000002"))
        for name in urls))
    store.apply_catalog(Catalog(providers=tuple(
        Provider(slug=name, name=name.title(), base_url=url + "/v1", api_key_env=KEY_ENV)
        for name, url in urls.items()), models=(chat,)))
    key, _ = store.create_key("replicas", "read")
    store.dispose()
    headers = {"Authorization": f"Bearer {key}"}
    env = {KEY_ENV: UPSTREAM_KEY, "ROUTEYARD_LOAD_STARTER": "false",
           "ROUTEYARD_PROBE_ENABLED": "false", "ROUTEYARD_REFRESH_INTERVAL": "1.0",
           "ROUTEYARD_HEALTH_FLUSH_INTERVAL": "1.0", "ROUTEYARD_HEALTH_REFRESH_INTERVAL": "1.0"}
    a = Server(database_url, tmp_path, env=env)
    b = Server(database_url, tmp_path, env=env)
    try:
        n = 12
        for _ in range(n):  # flaky first; when it fails, slow answers (both only via A)
            r = httpx.post(a.base + "/api/v1/chat/completions", headers=headers, timeout=30,
                           json=body(stream=True, provider={"order": ["flaky", "slow"],
                                                            "only": ["flaky", "slow"]}))
            chunks, _ = events(r)
            assert chunks[-1]["usage"]["completion_tokens"] == 6
        for _ in range(3):  # whole answers: uptime, but no time to first token to measure
            r = httpx.post(a.base + "/api/v1/chat/completions", headers=headers, timeout=30,
                           json=body(provider={"only": ["plain"]}))
            assert r.status_code == 200 and r.json()["provider"] == "Plain", r.text
        sent = time.monotonic()
        counts = {name: httpx.get(url + "/_control").json()["requests"]
                  for name, url in urls.items()}
        failed, answered = counts["flaky"].get("failed", 0), counts["flaky"].get("streamed", 0)
        assert failed + answered == n and 3 <= failed <= n - 3, counts  # seeded: some of each
        assert counts["slow"] == {"streamed": failed} and counts["idle"] == {}, counts
        assert counts["plain"] == {"completed": 3}, counts
        expected_uptime = {"flaky": 100.0 * answered / n, "slow": 100.0, "plain": 100.0}

        def live() -> dict[str, dict[str, Any]]:
            r = httpx.get(f"{b.base}/api/v1/models/{MODEL}/endpoints", headers=headers)
            assert r.status_code == 200, r.text
            return {e["tag"]: e for e in r.json()["data"]["endpoints"]}

        # Wait until B serves every outcome of both endpoints: all three fields of each, and
        # the uptime of all n (resp. `failed`) attempts, not of a first flushed part.
        deadline = sent + 10
        while True:
            eps = live()
            if all(eps[t]["uptime_last_30m"] is not None
                   and eps[t]["uptime_last_30m"] == pytest.approx(expected_uptime[t], abs=0.01)
                   and (t == "plain" or eps[t]["latency_last_30m"] is not None
                        and eps[t]["throughput_last_30m"] is not None)
                   for t in expected_uptime):
                break
            assert time.monotonic() < deadline, (eps, expected_uptime)
            time.sleep(0.1)
        seen_after = time.monotonic() - sent
        flaky, slow, idle = eps["flaky"], eps["slow"], eps["idle"]
        assert flaky["uptime_last_30m"] < 100.0
        # Latency is the time to the first token: about each fake's (histogram within 5 %,
        # plus the loopback and a busy machine's scheduling).
        assert 40 * 0.9 <= flaky["latency_last_30m"]["p50"] <= 40 + 150, flaky
        assert 400 * 0.9 <= slow["latency_last_30m"]["p50"] <= 400 + 150, slow
        # Throughput: 6 tokens, the last 5 one token interval apart, so about the fake's
        # tokens per second times 6/5; the fast fake's well above the slow one's.
        assert 40 * 0.8 <= slow["throughput_last_30m"]["p50"] <= 40 * 6 / 5 * 1.2, slow
        assert flaky["throughput_last_30m"]["p50"] > 3 * slow["throughput_last_30m"]["p50"]
        # Whole answers moved the uptime of theirs, not its latency or throughput.
        assert (eps["plain"]["latency_last_30m"], eps["plain"]["throughput_last_30m"]) == (
            None, None)
        assert (idle["uptime_last_30m"], idle["latency_last_30m"],
                idle["throughput_last_30m"]) == (None, None, None)  # never routed to
        print(f"replica B served the live fields of {n} requests routed through A "
              f"{seen_after:.2f}s after the last one (flush 1 s + health refresh 1 s)")
    finally:
        a.stop()
        b.stop()
        for t in threads.values():
            t.stop()


# -- the official SDKs, unchanged ---------------------------------------------------------------


def test_openai_sdk_streaming_and_not_with_extra_body(routed: Routed) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{routed.server.base}/api/v1", api_key=routed.key, max_retries=0)
    extra = {"provider": {"order": ["dear"], "allow_fallbacks": False}, "models": [OTHER]}
    answer = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello there"}], extra_body=extra)
    assert answer.id.startswith("gen-") and answer.model == MODEL
    assert answer.choices[0].message.content == "The quick brown fox jumps over"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 6
    assert answer.model_extra and answer.model_extra["provider"] == "Dear"
    routed.control("dear", fail_rate=1.0)  # now the fallback model answers
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello there"}], stream=True,
        extra_body={"provider": {"order": ["dear", "mid"]}, "models": [OTHER]})
    chunks = list(stream)
    assert {c.id for c in chunks} == {chunks[0].id}
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The quick brown fox jumps over"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 8
    assert {c.model_extra["provider"] for c in chunks if c.model_extra} == {"Mid"}


def test_openrouter_sdk_chat_send_streaming_and_not(routed: Routed) -> None:
    from openrouter import OpenRouter

    with OpenRouter(api_key=routed.key, server_url=f"{routed.server.base}/api/v1") as client:
        result = client.chat.send(model="acme/thinker",
                                  messages=[{"role": "user", "content": "hello there"}])
        assert result.id.startswith("gen-") and result.model == "acme/thinker"
        message = result.choices[0].message
        assert message.content == "The quick brown fox jumps over"
        assert message.reasoning == "step 0. step 1. step 2. "
        assert result.usage is not None and result.usage.cost == pytest.approx(
            2 * 0.000001 + 9 * 0.00001)
        stream = client.chat.send(model=MODEL, stream=True,
                                  messages=[{"role": "user", "content": "hello there"}],
                                  provider={"sort": "price"})
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "The quick brown fox jumps over"
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6
