"""The fake provider, driven through a real server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import routeyard
from routeyard.fake_provider import (
    FakeProviderConfig,
    FakeProviderThread,
    create_fake_provider,
    free_port,
)

BASELINE: dict[str, Any] = {
    "models": ["fake/chat", "fake/reasoner", "fake/small"],
    "fail_rate": 0.0,
    "rate_limit_rate": 0.0,
    "ttft_ms": 300.0,
    "tokens_per_s": 50.0,
    "output_tokens": 10,
    "reasoning_tokens": 3,
    "reasoning_models": ["fake/reasoner"],
    "api_key": None,
    "seed": 7,
}
CHAT = {"model": "fake/chat", "messages": [{"role": "user", "content": "say hello please"}]}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with FakeProviderThread(FakeProviderConfig(**BASELINE)) as url:
        yield url


@pytest.fixture
def url(server: str) -> str:
    """The server's base URL, its behaviour reset to the baseline through ``/_control``."""
    httpx.post(server + "/_control", json=BASELINE).raise_for_status()
    return server


def sse_events(response: httpx.Response) -> Iterator[tuple[float, str]]:
    """(seconds since the call, data) for each SSE event."""
    start = time.monotonic()
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield time.monotonic() - start, line[len("data: ") :]


def test_lists_the_configured_models(url: str) -> None:
    body = httpx.get(url + "/v1/models").json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["fake/chat", "fake/reasoner", "fake/small"]


def test_streaming_sends_tokens_after_ttft_then_usage_and_done(url: str) -> None:
    events: list[tuple[float, str]] = []
    started = time.monotonic()
    with httpx.stream("POST", url + "/v1/chat/completions", json={**CHAT, "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = list(sse_events(r))
    total = time.monotonic() - started
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content", "") for d in deltas) == (
        "The quick brown fox jumps over the lazy dog."
    )
    assert not any("reasoning" in d for d in deltas)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 10
    assert chunks[-1]["usage"]["prompt_tokens"] == 3
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    # Timing, with generous bounds: the first token waits ttft (300 ms), the other nine
    # follow at 50 tokens/s (another 180 ms at least).
    first_token = events[0][0]
    assert 0.25 <= first_token <= 5.0
    assert total >= 0.45


def test_reasoning_models_stream_reasoning_before_content(url: str) -> None:
    body = {**CHAT, "model": "fake/reasoner", "stream": True}
    with httpx.stream("POST", url + "/v1/chat/completions", json=body) as r:
        datas = [data for _, data in sse_events(r)][:-1]
    kinds = [
        next(iter(k for k in json.loads(d)["choices"][0]["delta"] if k != "role"), None)
        for d in datas
    ]
    assert kinds == ["reasoning"] * 3 + ["content"] * 10 + [None]
    usage = json.loads(datas[-1])["usage"]
    assert usage["completion_tokens"] == 13
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 3


def test_non_streaming_answer_waits_and_honours_max_tokens(url: str) -> None:
    started = time.monotonic()
    r = httpx.post(url + "/v1/chat/completions", json={**CHAT, "max_tokens": 4})
    assert time.monotonic() - started >= 0.25
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "The quick brown fox"}
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 4


def test_fail_rate_one_answers_500_with_an_openai_error(url: str) -> None:
    httpx.post(url + "/_control", json={"fail_rate": 1.0}).raise_for_status()
    for stream in (False, True):
        r = httpx.post(url + "/v1/chat/completions", json={**CHAT, "stream": stream})
        assert r.status_code == 500
        assert r.json()["error"]["type"] == "server_error"
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_rate_limit_rate_one_answers_429(url: str) -> None:
    httpx.post(url + "/_control", json={"rate_limit_rate": 1.0, "fail_rate": 1.0})
    r = httpx.post(url + "/v1/chat/completions", json=CHAT)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"


def test_outcomes_follow_the_seeded_generator(url: str) -> None:
    httpx.post(url + "/_control", json={"fail_rate": 0.5, "ttft_ms": 0, "seed": 11})
    rng = random.Random(11)
    expected = [500 if rng.random() < 0.5 else 200 for _ in range(12)]
    got = [httpx.post(url + "/v1/chat/completions", json=CHAT).status_code for _ in range(12)]
    assert got == expected
    assert 200 in got and 500 in got


def test_control_changes_behaviour_and_reports_it(url: str) -> None:
    r = httpx.post(url + "/_control", json={"ttft_ms": 0, "models": ["x/y"], "output_tokens": 2})
    assert r.status_code == 200
    state = httpx.get(url + "/_control").json()
    assert (state["ttft_ms"], state["models"], state["output_tokens"]) == (0.0, ["x/y"], 2)
    assert [m["id"] for m in httpx.get(url + "/v1/models").json()["data"]] == ["x/y"]
    assert httpx.post(url + "/v1/chat/completions", json=CHAT).status_code == 404
    r = httpx.post(url + "/v1/chat/completions", json={**CHAT, "model": "x/y"})
    assert r.json()["choices"][0]["message"]["content"] == "The quick"
    assert httpx.get(url + "/_control").json()["requests"]["not_found"] >= 1


@pytest.mark.parametrize(
    "change", [{"fail_rate": 1.5}, {"tokens_per_s": 0}, {"models": []}, {"colour": "red"}, [1]]
)
def test_invalid_control_changes_are_refused_and_change_nothing(url: str, change: Any) -> None:
    r = httpx.post(url + "/_control", json=change)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_control"
    state = httpx.get(url + "/_control").json()
    assert {k: state[k] for k in BASELINE} == BASELINE


def test_a_configured_key_is_required(url: str) -> None:
    httpx.post(url + "/_control", json={"api_key": "sk-fake", "ttft_ms": 0})
    assert httpx.get(url + "/v1/models").status_code == 401
    wrong = {"authorization": "Bearer nope"}
    r = httpx.post(url + "/v1/chat/completions", json=CHAT, headers=wrong)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_api_key"
    right = {"authorization": "Bearer sk-fake"}
    assert httpx.post(url + "/v1/chat/completions", json=CHAT, headers=right).status_code == 200


def test_malformed_requests_are_400(url: str) -> None:
    r = httpx.post(url + "/v1/chat/completions", content=b"not json")
    assert r.status_code == 400
    assert httpx.post(url + "/v1/chat/completions", json={"model": "fake/chat"}).status_code == 400


def test_an_invalid_config_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="fail_rate"):
        create_fake_provider(FakeProviderConfig(fail_rate=-0.1))


def test_run_fake_provider_serves_until_sigterm() -> None:
    port = free_port()
    src = str(Path(routeyard.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    code = (
        "from routeyard.fake_provider import FakeProviderConfig, run_fake_provider\n"
        f"run_fake_provider('127.0.0.1', {port}, FakeProviderConfig(ttft_ms=0, models=['a/b']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "the fake provider did not start"
                time.sleep(0.1)
        assert [m["id"] for m in r.json()["data"]] == ["a/b"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
