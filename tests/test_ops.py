"""Operations: /metrics, /readyz, and one JSON access-log line per request."""

from __future__ import annotations

import json
import random
import re
import string
import time
from pathlib import Path

import httpx
import pytest

from routeyard.store import Store
from tests.conftest import Server, user_env

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in metrics")


def test_metrics_readyz_and_access_log_with_two_workers(database_url: str, tmp_path: Path) -> None:
    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("ops", "read")
    store.dispose()
    server = Server(database_url, tmp_path, workers=2, env={"ROUTEYARD_LOG_FORMAT": "json"})
    try:
        headers = {"Authorization": f"Bearer {key}", "X-Request-Id": "trace-me-1"}
        for _ in range(20):
            assert httpx.get(f"{server.base}/api/v1/models/{QWEN}/endpoints",
                             headers=headers).status_code == 200
        for _ in range(3):
            assert httpx.get(f"{server.base}/api/v1/models/no/such/endpoints",
                             headers=headers).status_code == 404
        ready = httpx.get(server.base + "/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert ready.json()["models"] >= 25

        route = "/api/v1/models/{author}/{slug}/endpoints"
        # Requests are spread over two workers; the scrape must add both up. Each worker
        # hands its request counts to the shared files each second (metrics.RequestMeter).
        deadline = time.monotonic() + 5
        while True:
            text = httpx.get(server.base + "/metrics").text
            if ('route="' + route + '"' in text and metric(
                    text, "routeyard_request_duration_seconds_count", route=route) >= 23
                    or time.monotonic() > deadline):
                break
            time.sleep(0.1)
        assert metric(text, "routeyard_requests_total", route=route, status="200") == 20
        assert metric(text, "routeyard_requests_total", route=route, status="404") == 3
        assert metric(text, "routeyard_request_duration_seconds_count", route=route) == 23
        assert metric(text, "routeyard_catalog_endpoints") >= 50
        assert re.search(r"^routeyard_outcomes_pending ", text, re.MULTILINE)

        # The access log is written in batches by a thread of its own: wait for it.
        deadline = time.monotonic() + 10
        while True:
            lines = [json.loads(line) for line in server.log().splitlines()
                     if line.startswith("{") and '"routeyard.access"' in line]
            traced = [line for line in lines if line.get("request_id") == "trace-me-1"]
            if len(traced) >= 23 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(traced) == 23
        assert {line["status"] for line in traced} == {200, 404}
        assert all(line["path"].startswith("/api/v1/models/") for line in traced)
        assert {line["key_name"] for line in traced} == {"ops"}
        assert all(isinstance(line["duration_us"], int) for line in traced)
        assert key not in server.log()
    finally:
        server.stop()


def test_four_workers_started_as_a_user_starts_them_count_every_request(
        database_url: str, tmp_path: Path) -> None:
    """`routeyard serve --workers 4` with the environment a user has (no
    PROMETHEUS_MULTIPROC_DIR): a scrape after 100 requests adds up to 100."""
    assert "PROMETHEUS_MULTIPROC_DIR" not in user_env()
    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("ops", "read")
    store.dispose()
    server = Server(database_url, tmp_path, workers=4, env=user_env(), inherit=False)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.base, headers=headers) as client:
            for i in range(100):
                # a fresh connection each time, so that the requests spread over the workers
                assert client.get(f"/api/v1/models/{QWEN}/endpoints",
                                  headers={"connection": "close"}).status_code == 200, i
        route = "/api/v1/models/{author}/{slug}/endpoints"
        deadline = time.monotonic() + 10
        total = 0.0
        while time.monotonic() < deadline:
            text = httpx.get(server.base + "/metrics").text
            total = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                        if line.startswith("routeyard_requests_total{")
                        and f'route="{route}"' in line)
            if total >= 100:
                break
            time.sleep(0.2)
        assert total == 100, text[:2000]
    finally:
        server.stop()


def test_request_meter_adds_up_as_prometheus_observes() -> None:
    """Counts handed over in bulk render exactly as one observe() per request would."""
    from prometheus_client import generate_latest

    from routeyard.metrics import LATENCY_BUCKETS, Metrics

    bulk, direct = Metrics(), Metrics()
    values = [0.0, 0.0001, *LATENCY_BUCKETS, 0.0031, 0.7, 99.0, 0.0005, 2.5]
    for i, seconds in enumerate(values):
        status = 200 if i % 3 else 404
        bulk.meter.observe("/r", "GET", status, seconds)
        direct.requests.labels("/r", "GET", str(status)).inc()
        direct.latency.labels("/r").observe(seconds)
    bulk.meter.observe("/other", "HEAD", 304, 0.002)
    bulk.meter.flush()
    bulk.meter.flush()  # nothing pending: no change
    direct.requests.labels("/other", "HEAD", "304").inc()
    direct.latency.labels("/other").observe(0.002)

    def lines(m: Metrics) -> list[str]:
        return [line for line in generate_latest(m.registry).decode().splitlines()
                if line.startswith("routeyard_request") and "_created" not in line]

    def split(m: Metrics) -> tuple[list[str], list[float]]:  # sums differ in the last bits
        exact = [line for line in lines(m) if "_sum{" not in line]
        sums = [float(line.rsplit(" ", 1)[1]) for line in lines(m) if "_sum{" in line]
        return exact, sums

    (bulk_exact, bulk_sums), (direct_exact, direct_sums) = split(bulk), split(direct)
    assert bulk_exact == direct_exact
    assert bulk_sums == pytest.approx(direct_sums, rel=1e-12) and len(bulk_sums) == 2
    assert 'routeyard_request_duration_seconds_bucket{le="0.0005",route="/r"} 4.0' in lines(bulk)


def series(text: str) -> list[str]:
    return [line.rsplit(" ", 1)[0] for line in text.splitlines()
            if line and not line.startswith("#")]


def test_random_methods_and_paths_add_no_metric_series(database_url: str,
                                                       tmp_path: Path) -> None:
    server = Server(database_url, tmp_path)
    try:
        with httpx.Client(base_url=server.base) as client:
            def scrape() -> list[str]:
                time.sleep(1.2)  # the meter hands its counts over each second
                return series(client.get("/metrics").text)

            # Once each kind: an unknown method on a route and off any route, an unknown path.
            for method, path in (("FROB", "/api/v1/models"), ("FROB", "/nowhere"),
                                 ("GET", "/nowhere")):
                client.request(method, path)
            client.get("/metrics")
            before = scrape()
            rng = random.Random(14)
            for i in range(300):
                method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
                path = "/" + "/".join(rng.choices(["api", "v1", "x", "%41", str(i)], k=3))
                r = client.request(method, path if i % 2 else "/api/v1/models")
                assert r.status_code in (401, 404, 405), (method, path, r.status_code)
                assert client.get(f"/{i}/{method}").status_code == 404
            after = scrape()
        assert len(after) == len(before), sorted(set(after) - set(before))[:20]
        assert any('method="other"' in line for line in after)
        assert not any("FROB" in line for line in after)
    finally:
        server.stop()
