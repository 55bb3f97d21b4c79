"""Operations: /metrics, /readyz, and one JSON access-log line per request."""

from __future__ import annotations

import json
import os
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


def test_request_meter_renders_as_a_counter_and_a_histogram_would(tmp_path: Path) -> None:
    """The meter's own collector renders exactly what prometheus-client's Counter and
    Histogram with the same names render for one inc() and observe() per request, in one
    process and from the files of several (here: this process's)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    from routeyard.metrics import LATENCY_BUCKETS, Metrics, RequestMeter

    direct = CollectorRegistry()
    requests = Counter("routeyard_requests", "HTTP requests by route, method and status",
                       ("route", "method", "status"), registry=direct)
    latency = Histogram("routeyard_request_duration_seconds",
                        "Time to answer a request, by route", ("route",),
                        buckets=LATENCY_BUCKETS, registry=direct)
    bulk, shared = Metrics(), RequestMeter(str(tmp_path))
    values = [0.0, 0.0001, *LATENCY_BUCKETS, 0.0031, 0.7, 99.0, 0.0005, 2.5]
    calls = [("/r", "GET", 200 if i % 3 else 404, v) for i, v in enumerate(values)]
    calls += [("/other", "HEAD", 304, 0.002), ("/r", "FROB", 405, 0.0001)]
    for route, method, status, seconds in calls:
        bulk.meter.observe(route, method, status, seconds)
        shared.observe(route, method, status, seconds)
        requests.labels(route, method if method != "FROB" else "other", str(status)).inc()
        latency.labels(route).observe(seconds)
    shared.flush()
    shared.flush()  # unchanged: nothing written
    from_files = CollectorRegistry()
    from_files.register(RequestMeter(str(tmp_path)))  # another process reading the files

    def lines(registry: CollectorRegistry, created: bool = True) -> list[str]:
        out = []
        for line in generate_latest(registry).decode().splitlines():
            if not re.search(r"\brouteyard_(requests_(total|created)|request_duration)", line):
                continue
            if "_created" in line:  # the time of the first request: differs by microseconds
                if created:
                    out.append(line.rsplit(" ", 1)[0] if not line.startswith("#") else line)
                continue
            out.append(line)
        return out

    def split(text: list[str]) -> tuple[list[str], list[float]]:  # sums differ in last bits
        exact = [line for line in text if "_sum{" not in line]
        sums = [float(line.rsplit(" ", 1)[1]) for line in text if "_sum{" in line]
        return exact, sums

    want_exact, want_sums = split(lines(direct))
    for got, want in ((lines(bulk.registry), want_exact),
                      (lines(from_files, created=False),
                       [line for line in want_exact if "_created" not in line])):
        exact, sums = split(got)
        assert exact == want
        assert sums == pytest.approx(want_sums, rel=1e-12) and len(sums) == 2
    assert 'routeyard_request_duration_seconds_bucket{le="0.0005",route="/r"} 5.0' in exact
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"routeyard_requests_{os.getpid()}.json"]


def buckets(text: str, route: str) -> dict[str, float]:
    """The route's latency histogram: ``le`` -> cumulative count, plus "count" and "sum"."""
    name = "routeyard_request_duration_seconds"
    found: dict[str, float] = {}
    for line in text.splitlines():
        if f'route="{route}"' not in line:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if line.startswith(name + "_bucket{"):
            found[re.search(r'le="([^"]+)"', line)[1]] = value  # type: ignore[index]
        elif line.startswith(name + "_count{"):
            found["count"] = value
        elif line.startswith(name + "_sum{"):
            found["sum"] = value
    return found


def test_the_latency_histogram_of_a_real_server_holds_each_requests_duration(
        database_url: str, tmp_path: Path) -> None:
    """Two workers (the shared-file path) and a known set of requests: the scraped buckets,
    count and sum are the ones the access log's per-request durations give (the same
    measurement, logged to the microsecond)."""
    from routeyard.metrics import LATENCY_BUCKETS

    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("ops", "read")
    store.dispose()
    server = Server(database_url, tmp_path, workers=2, env={"ROUTEYARD_LOG_FORMAT": "json"})
    route = "/api/v1/models/{author}/{slug}/endpoints"
    try:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.base, headers=headers) as client:
            for i in range(40):
                path = f"/api/v1/models/{QWEN if i % 4 else 'no/such'}/endpoints"
                assert client.get(path, headers={"connection": "close"}).status_code in (200, 404)
        deadline = time.monotonic() + 10
        while True:
            found = buckets(httpx.get(server.base + "/metrics").text, route)
            lines = [json.loads(line) for line in server.log().splitlines()
                     if line.startswith("{") and '"routeyard.access"' in line]
            durations = [line["duration_us"] / 1e6 for line in lines
                         if line["path"].startswith("/api/v1/models/")]
            if found.get("count") == len(durations) == 40 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert found["count"] == len(durations) == 40
        assert found["+Inf"] == 40
        # A duration logged within a microsecond of a bound may lie on either side of it.
        for bound in LATENCY_BUCKETS:
            expected = sum(d <= bound for d in durations)
            near = sum(abs(d - bound) <= 1e-6 for d in durations)
            assert abs(found[str(bound)] - expected) <= near, (bound, found, sorted(durations))
        assert found["sum"] == pytest.approx(sum(durations), abs=40e-6)
        assert len(found) == len(LATENCY_BUCKETS) + 3
    finally:
        server.stop()


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
