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


def test_ingest_needs_an_admin_key(env: Env) -> None:
    assert env.post(batch(time.time()), headers=env.read).status_code == 403
    assert env.post(batch(time.time()), headers={}).status_code == 401


def test_batches_add_up(env: Env) -> None:
    now = time.time()
    assert env.post(batch(now)).status_code == 200
    extra = [{"model_id": QWEN, "tag": "chutes", "at": now, "result": "success"}] * 10
    assert env.post(extra).status_code == 200
    assert env.endpoint("chutes")["uptime_last_5m"] == 90.0  # 18 / 20
