"""Live fields fed through the ingest API, read back exactly from the endpoints API."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from routeyard.app import create_app
from routeyard.store import Store
from tests.conftest import settings_for

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


def midpoint(value: float) -> float:
    """The reported value of the log-1.1 bucket holding ``value`` (docs/health.md)."""
    index = math.floor(math.log(value) / math.log(1.1))
    return 1.1 ** (index + 0.5)


class Env:
    def __init__(self, client: TestClient, store: Store, admin: str, read: str) -> None:
        self.client, self.store = client, store
        self.admin = {"Authorization": f"Bearer {admin}"}
        self.read = {"Authorization": f"Bearer {read}"}

    def post(self, outcomes: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Any:
        return self.client.post("/api/v1/admin/outcomes", json={"outcomes": outcomes},
                                headers=self.admin if headers is None else headers)

    def endpoint(self, tag: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = self.client.get(f"/api/v1/models/{QWEN}/endpoints", headers=self.read if headers is None else headers)
        return next(e for e in r.json()["data"]["endpoints"] if e["tag"] == tag)


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    store = Store(database_url)
    store.ensure_schema()
    admin, _ = store.create_key("ops", "admin")
    read, _ = store.create_key("reader", "read")
    settings = settings_for(database_url, public_discovery=True, health_refresh_interval=0.1,
                            health_flush_interval=0.1)
    with TestClient(create_app(settings, store=store)) as client:
        yield Env(client, store, admin, read)
    store.dispose()


def batch(now: float) -> list[dict[str, Any]]:
    ttfts = [100, 100, 100, 100, 200, 200, 400, 800]
    out: list[dict[str, Any]] = [
        {"model_id": QWEN, "tag": "chutes", "at": now - 5, "result": "success", "ttft_ms": t,
         "output_tokens": 100, "generation_ms": 2000, "http_status": 200} for t in ttfts
    ]
    out += [{"model_id": QWEN, "tag": "chutes", "at": now - 5, "http_status": 502}] * 2
    out += [{"model_id": QWEN, "tag": "chutes", "at": now - 5, "result": "rate_limited"}] * 3
    out += [{"model_id": QWEN, "tag": "chutes", "at": now - 5, "http_status": 400}]
    return out


def test_ingested_batch_reads_back_exactly(env: Env) -> None:
    now = time.time()
    r = env.post(batch(now))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["accepted"] == 14
    e = env.endpoint("chutes")
    # 8 successes, 2 failures; rate-limited and caller errors left out.
    assert e["uptime_last_5m"] == 80.0
    assert e["uptime_last_30m"] == 80.0 and e["uptime_last_1d"] == 80.0
    # nearest rank over [100,100,100,100,200,200,400,800]: p50=100, p75=200, p90=p99=800
    assert e["latency_last_30m"] == pytest.approx(
        {"p50": midpoint(100), "p75": midpoint(200), "p90": midpoint(800), "p99": midpoint(800)})
    assert e["throughput_last_30m"]["p50"] == pytest.approx(midpoint(50))
    assert abs(e["latency_last_30m"]["p50"] - 100) / 100 <= 0.0489  # the documented bound
    assert e["status"] == -1  # uptime_last_30m 80 < 95, not < 80
    other = env.endpoint("deepinfra/fp8")
    assert other["uptime_last_5m"] is None and other["status"] == 0


def test_anonymous_callers_get_uptime_but_not_performance(env: Env) -> None:
    assert env.post(batch(time.time())).status_code == 200
    anonymous = env.endpoint("chutes", headers={})
    assert anonymous["uptime_last_5m"] == 80.0
    assert anonymous["latency_last_30m"] is None and anonymous["throughput_last_30m"] is None


def test_a_bad_item_rejects_the_whole_batch_and_names_it(env: Env) -> None:
    items = batch(time.time())
    items[3] = {**items[3], "tag": "nope"}
    items[5] = {**items[5], "ttft_ms": -1}
    r = env.post(items)
    assert r.status_code == 400
    body = r.json()
    assert body["error"]["code"] == 400
    paths = [p["path"] for p in body["error"]["metadata"]["problems"]]
    assert paths == ["outcomes[3]", "outcomes[5].ttft_ms"]
    assert "nope" in body["error"]["message"]
    time.sleep(0.3)
    assert env.endpoint("chutes")["uptime_last_5m"] is None  # nothing was recorded


@pytest.mark.parametrize("body", [{}, {"outcomes": []}, {"outcomes": "x"}, {"outcomes": [1]},
                                  {"outcomes": [{"model_id": QWEN, "tag": "chutes"}]},
                                  {"outcomes": [{"model_id": QWEN, "tag": "chutes",
                                                 "result": "success", "at": 1.0}]},
                                  {"outcomes": [{"model_id": QWEN, "tag": "chutes",
                                                 "result": "great"}]}])
def test_malformed_batches_are_400(env: Env, body: Any) -> None:
    r = env.client.post("/api/v1/admin/outcomes", json=body, headers=env.admin)
    assert r.status_code == 400 and r.json()["error"]["code"] == 400


def test_a_generation_time_too_small_to_divide_by_has_no_throughput(env: Env) -> None:
    """5e-324 ms is a finite positive number, but 0.0 once in seconds: the batch was answered
    with a 500 (ZeroDivisionError) before; it is stored, with no throughput."""
    now = time.time()
    r = env.post([{"model_id": QWEN, "tag": "chutes", "at": now - 5, "result": "success",
                   "ttft_ms": 100, "output_tokens": 10, "generation_ms": 5e-324}] * 10)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"accepted": 10, "minutes": 1}
    e = env.endpoint("chutes")
    assert e["uptime_last_5m"] == 100.0 and e["throughput_last_30m"] is None
    assert e["latency_last_30m"]["p50"] == pytest.approx(midpoint(100))


def test_ingest_needs_an_admin_key(env: Env) -> None:
    assert env.post(batch(time.time()), headers=env.read).status_code == 403
    assert env.post(batch(time.time()), headers={}).status_code == 401


def test_batches_add_up(env: Env) -> None:
    now = time.time()
    assert env.post(batch(now)).status_code == 200
    extra = [{"model_id": QWEN, "tag": "chutes", "at": now, "result": "success"}] * 10
    assert env.post(extra).status_code == 200
    assert env.endpoint("chutes")["uptime_last_5m"] == 90.0  # 18 / 20


def test_served_at_once_by_the_process_that_stored_them(database_url: str) -> None:
    """The answer waits for this process to serve the batch: no help from the refresh loop."""
    store = Store(database_url)
    store.ensure_schema()
    admin, _ = store.create_key("ops", "admin")
    settings = settings_for(database_url, public_discovery=True, health_refresh_interval=3600,
                            health_flush_interval=3600)
    with TestClient(create_app(settings, store=store)) as client:
        env = Env(client, store, admin, admin)
        now = time.time()
        assert env.post(batch(now)).status_code == 200
        assert env.endpoint("chutes")["uptime_last_5m"] == 80.0
        extra = [{"model_id": QWEN, "tag": "chutes", "at": now, "result": "success"}] * 10
        assert env.post(extra).status_code == 200
        assert env.endpoint("chutes")["uptime_last_5m"] == 90.0  # 18 / 20
    store.dispose()


def test_json_that_python_accepts_is_judged_item_by_item(env: Env) -> None:
    """NaN and numbers beyond float range are not JSON, but were always read as Python reads
    them: the item is refused for its value, not the body for its syntax."""
    item = (b'{"model_id": "%s", "tag": "chutes", "result": "success", "ttft_ms": %s}')
    for number in (b"NaN", b"Infinity", b"1e400"):
        body = b'{"outcomes": [' + item % (QWEN.encode(), number) + b"]}"
        r = env.client.post("/api/v1/admin/outcomes", content=body,
                            headers={**env.admin, "Content-Type": "application/json"})
        assert r.status_code == 400
        problems = r.json()["error"]["metadata"]["problems"]
        assert problems == [{"path": "outcomes[0].ttft_ms",
                             "message": "must be a finite non-negative number"}]


def test_a_bad_endpoint_is_named_at_every_item_naming_it(env: Env) -> None:
    items = batch(time.time())
    for i in (0, 4, 9):
        items[i] = {**items[i], "tag": "nope"}
    items[6] = {**items[6], "model_id": "acme/none"}
    r = env.post(items)
    assert r.status_code == 400
    problems = r.json()["error"]["metadata"]["problems"]
    assert [p["path"] for p in problems] == ["outcomes[0]", "outcomes[4]", "outcomes[6]",
                                            "outcomes[9]"]
    no_tag = f"model {QWEN} has no endpoint tagged 'nope'"
    assert [p["message"] for p in problems] == [no_tag, no_tag, "unknown model 'acme/none'",
                                               no_tag]


def test_outcome_counter_counts_each_outcome(env: Env) -> None:
    from routeyard.metrics import metrics

    def counted(result: str) -> float:
        value = metrics().registry.get_sample_value(
            "routeyard_outcomes_total", {"source": "ingest", "result": result})
        return value or 0.0

    before = {r: counted(r) for r in ("success", "upstream_error", "rate_limited", "caller_error")}
    assert env.post(batch(time.time())).status_code == 200
    after = {r: counted(r) - before[r] for r in before}
    assert after == {"success": 8, "upstream_error": 2, "rate_limited": 3, "caller_error": 1}
