"""The hot path (routeyard.api.discovery) against Starlette's routing of the same requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient

from routeyard.api.discovery import ENDPOINTS, model_id_of
from routeyard.app import create_app
from routeyard.store import Store
from tests.conftest import settings_for

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"
ROUTE = Route(ENDPOINTS, lambda request: None)


@given(st.lists(st.sampled_from(["", "/", "a", "B", ":free", ".", "%", " ", "é", "endpoints",
                                 "api", "v1", "models"]), max_size=12).map("".join))
def test_paths_match_as_starlettes_router_matches_them(tail: str) -> None:
    for path in (f"/api/v1/models/{tail}", f"/api/v1/models/{tail}/endpoints", tail):
        match = ROUTE.path_regex.match(path)
        expected = (f"{match['author']}/{match['slug']}" if match else None)
        assert model_id_of(path) == expected, path


def test_paths_examples() -> None:
    assert model_id_of(f"/api/v1/models/{QWEN}/endpoints") == QWEN
    assert model_id_of("/api/v1/models/a/b:free/endpoints") == "a/b:free"
    for path in ("/api/v1/models/a/endpoints", "/api/v1/models//b/endpoints",
                 "/api/v1/models/a//endpoints", "/api/v1/models/a/b/c/endpoints",
                 "/api/v1/models/a/b/endpoints/", "/api/v1/models/endpoints"):
        assert model_id_of(path) is None, path


@pytest.fixture
def clients(database_url: str) -> Iterator[tuple[TestClient, TestClient, str]]:
    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("test", "read")
    app = create_app(settings_for(database_url, public_discovery=True), store=store)
    # Under a root path the fast path steps aside and Starlette's routes answer.
    with TestClient(app) as fast, TestClient(app, root_path="/prefix") as routed:
        yield fast, routed, key
    store.dispose()


def answer(client: TestClient, path: str, headers: dict[str, str], method: str = "GET"
           ) -> tuple[int, list[tuple[str, str]], bytes]:
    r = client.request(method, path, headers=headers)
    kept = [(k, v) for k, v in r.headers.multi_items() if k != "x-request-id"]
    assert r.headers["x-request-id"]
    return r.status_code, kept, r.content


def test_both_entry_points_give_the_same_answers(clients: tuple[TestClient, TestClient, str]) -> None:
    fast, routed, key = clients
    auth = {"Authorization": f"Bearer {key}"}
    etag = fast.get(f"/api/v1/models/{QWEN}/endpoints", headers=auth).headers["etag"]
    cases: list[tuple[str, dict[str, str], int]] = [
        (f"/api/v1/models/{QWEN}/endpoints", auth, 200),
        (f"/api/v1/models/{QWEN.upper()}/endpoints", {}, 200),  # anonymous: public discovery
        (f"/api/v1/models/{QWEN}/endpoints", {**auth, "If-None-Match": etag}, 304),
        (f"/api/v1/models/{QWEN}/endpoints", {**auth, "Accept-Encoding": "gzip"}, 200),
        ("/api/v1/models/nobody/nothing/endpoints", auth, 404),
        ("/api/v1/models/a!/b/endpoints", auth, 400),
        (f"/api/v1/models/{QWEN}/endpoints", {"Authorization": "Bearer sk-ry-v1-" + "0" * 64}, 401),
        (f"/api/v1/models/{QWEN}/endpoints", {"Authorization": "Basic abc"}, 401),
        ("/api/v1/models", auth, 200),
        ("/api/v1/models", {**auth, "Accept-Encoding": "gzip"}, 200),
    ]
    for path, headers, status in cases:
        for method in ("GET", "HEAD"):
            direct = answer(fast, path, headers, method)
            via_router = answer(routed, "/prefix" + path, headers, method)
            assert direct == via_router, (method, path, headers)
            assert direct[0] == status, (method, path, headers)
    assert answer(fast, "/api/v1/models/nobody/nothing/endpoints", auth)[2].startswith(
        b'{"error":{"code":404,"message":"Model nobody/nothing not found"')


def test_requests_the_fast_path_passes_on(clients: tuple[TestClient, TestClient, str]) -> None:
    fast, _, key = clients
    auth = {"Authorization": f"Bearer {key}"}
    listing: Any = fast.get("/api/v1/models?limit=1", headers=auth).json()
    assert len(listing["data"]) == 1 and listing["links"]["next"] == "/api/v1/models?offset=1&limit=1"
    r = fast.post(f"/api/v1/models/{QWEN}/endpoints", headers=auth)
    assert r.status_code == 405 and r.json()["error"]["code"] == 405
    r = fast.get(f"/api/v1/models/{QWEN}/endpoints/", headers=auth, follow_redirects=False)
    assert r.status_code == 200  # a trailing slash is the same path (docs/api.md)
    assert r.content == fast.get(f"/api/v1/models/{QWEN}/endpoints", headers=auth).content


def test_remembered_answers_keep_every_per_request_rule(database_url: str) -> None:
    """The fast path's memo of answers: a repeated request is still counted against its
    key's rate limit and refused from a throttled address, and a change of catalog, live
    health or keys is served at once."""
    import time

    from tests.test_ratelimit import same_window

    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("test", "read")
    admin, _ = store.create_key("ops", "admin")
    app = create_app(settings_for(database_url, rate_limit_read=4, auth_failure_limit=2,
                                  refresh_interval=0.05), store=store)
    url = f"/api/v1/models/{QWEN}/endpoints"
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        runtime: Any = app.runtime  # type: ignore[attr-defined]
        same_window(3)
        first = client.get(url, headers=auth)
        assert first.status_code == 200
        assert client.get(url, headers=auth).content == first.content  # from the memo
        assert [client.get(url, headers=auth).status_code for _ in range(3)] == [200, 200, 429]

        # Live health changes the body: the memo does not outlive the snapshot.
        runtime.limiter.local._windows.clear()
        outcome = {"model_id": QWEN, "tag": "chutes", "result": "success", "ttft_ms": 250}
        r = client.post("/api/v1/admin/outcomes", json={"outcomes": [outcome] * 20},
                        headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 200
        fresh = client.get(url, headers=auth)
        assert fresh.status_code == 200 and fresh.headers["etag"] != first.headers["etag"]
        chutes = next(e for e in fresh.json()["data"]["endpoints"] if e["tag"] == "chutes")
        assert chutes["uptime_last_5m"] == 100.0

        # An address that failed too often is refused even for a remembered answer.
        for _ in range(3):
            client.get(url, headers={"Authorization": "Bearer sk-ry-v1-" + "e" * 64})
        assert client.get(url, headers=auth).status_code == 429
        runtime.limiter._blocked.clear()
        runtime.limiter.local._windows.clear()
        assert client.get(url, headers=auth).status_code == 200

        # A revoked key is refused once the key ring reloads, memo or not.
        store.revoke_key(key[:17])
        deadline = time.monotonic() + 3
        while client.get(url, headers=auth).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.get(url, headers=auth).status_code == 401
    store.dispose()
