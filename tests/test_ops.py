"""Operations: /metrics, /readyz, and one JSON access-log line per request."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from routeyard.store import Store
from tests.conftest import Server

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
    server = Server(database_url, tmp_path, workers=2,
                    env={"ROUTEYARD_LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": ""})
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

        text = httpx.get(server.base + "/metrics").text
        route = "/api/v1/models/{author}/{slug}/endpoints"
        # Requests are spread over two workers; the scrape must add both up.
        assert metric(text, "routeyard_requests_total", route=route, status="200") == 20
        assert metric(text, "routeyard_requests_total", route=route, status="404") == 3
        assert metric(text, "routeyard_request_duration_seconds_count", route=route) == 23
        assert metric(text, "routeyard_catalog_endpoints") >= 50
        assert re.search(r"^routeyard_outcomes_pending ", text, re.M)

        lines = [json.loads(line) for line in server.log().splitlines()
                 if line.startswith("{") and '"routeyard.access"' in line]
        traced = [line for line in lines if line.get("request_id") == "trace-me-1"]
        assert len(traced) == 23
        assert {line["status"] for line in traced} == {200, 404}
        assert all(line["path"].startswith("/api/v1/models/") for line in traced)
        assert key not in server.log()
    finally:
        server.stop()
