"""The discovery API in-process (real database, both backends): values, errors, caching."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from routeyard.app import create_app
from routeyard.catalog.declarative import read_starter
from routeyard.store import Store
from tests.conftest import settings_for

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


class Api:
    def __init__(self, client: TestClient, store: Store, key: str) -> None:
        self.client = client
        self.store = store
        self.key = key
        self.auth = {"Authorization": f"Bearer {key}"}

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(path, headers={**self.auth, **headers})


def make_api(database_url: str, **overrides: Any) -> Iterator[Api]:
    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("test", "read")
    app = create_app(settings_for(database_url, refresh_interval=0.05, **overrides), store=store)
    with TestClient(app) as client:
        yield Api(client, store, key)
    store.dispose()


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    yield from make_api(database_url)


def assert_envelope(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "user_id"}
    assert body["error"]["code"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in response.text
    return body


def test_every_starter_model_is_served_with_its_endpoints_in_order(api: Api) -> None:
    catalog = read_starter()
    providers = catalog.provider_map()
    assert len(catalog.models) >= 25
    for model in catalog.models:
        r = api.get(f"/api/v1/models/{model.id}/endpoints")
        assert r.status_code == 200, model.id
        data = r.json()["data"]
        assert data["id"] == model.id and data["name"] == model.name
        assert data["created"] == model.created and data["description"] == model.description
        served = data["endpoints"]
        assert [e["tag"] for e in served] == [e.tag for e in model.endpoints]
        for wire, e in zip(served, model.endpoints):
            assert wire["name"] == f"{providers[e.provider].name} | {model.canonical_slug}"
            assert wire["provider_name"] == providers[e.provider].name
            assert wire["model_id"] == model.id and wire["model_name"] == model.name
            assert wire["context_length"] == e.context_length
            assert wire["pricing"]["prompt"] == e.pricing.prompt
            assert wire["pricing"]["completion"] == e.pricing.completion
            assert wire["quantization"] == e.quantization
            assert wire["supported_parameters"] == list(e.supported_parameters)
            assert wire["status"] == (-10 if e.disabled else 0)
            for live in ("uptime_last_5m", "uptime_last_30m", "uptime_last_1d",
                         "latency_last_30m", "throughput_last_30m"):
                assert wire[live] is None


def test_prices_come_out_byte_identical(api: Api) -> None:
    raw = api.get(f"/api/v1/models/{QWEN}/endpoints").content
    assert b'"prompt":"0.0000001179","completion":"0.0000001179"' in raw
    assert b'"discount":0' in raw


def test_unknown_model_is_404_in_error_envelope(api: Api) -> None:
    body = assert_envelope(api.get("/api/v1/models/nobody/nothing/endpoints"), 404)
    assert body["error"]["message"] == "Model nobody/nothing not found"


@pytest.mark.parametrize("path", [
    "/api/v1/models/qwen/qwen3-235b-a22b-thinking-2507%2Fx/endpoints",
    "/api/v1/models/a/b/c/endpoints",
    "/api/v1/nothing-here",
    "/nothing",
])
def test_unroutable_paths_are_404_in_envelope(api: Api, path: str) -> None:
    assert_envelope(api.get(path), 404)


@pytest.mark.parametrize("slug", ["-bad", "bad%20space", "b%00d", "%E2%98%83", "a" * 300])
def test_malformed_model_ids_are_400_in_envelope(api: Api, slug: str) -> None:
    assert_envelope(api.get(f"/api/v1/models/qwen/{slug}/endpoints"), 400)


def test_very_long_ids_are_400(api: Api) -> None:
    assert_envelope(api.get("/api/v1/models/" + "a" * 3000 + "/b/endpoints"), 400)


def test_variants_upper_case_and_percent_encoding_resolve(api: Api) -> None:
    free = next(m.id for m in read_starter().models if m.id.endswith(":free"))
    author, slug = free.split("/")
    assert api.get(f"/api/v1/models/{free}/endpoints").json()["data"]["id"] == free
    encoded = slug.replace(":", "%3A")
    assert api.get(f"/api/v1/models/{author}/{encoded}/endpoints").json()["data"]["id"] == free
    assert api.get(f"/api/v1/models/{QWEN.upper()}/endpoints").json()["data"]["id"] == QWEN
    dotted = next(m.id for m in read_starter().models if "." in m.id.split("/")[1])
    assert api.get(f"/api/v1/models/{dotted}/endpoints").json()["data"]["id"] == dotted


def test_missing_invalid_and_malformed_keys_are_401(api: Api) -> None:
    url = f"/api/v1/models/{QWEN}/endpoints"
    body = assert_envelope(api.client.get(url), 401)
    assert body["error"]["message"] == "No auth credentials found"
    assert_envelope(api.client.get(url, headers={"Authorization": "Bearer sk-ry-v1-nope"}), 401)
    assert_envelope(api.client.get(url, headers={"Authorization": "Basic abc"}), 401)
    assert_envelope(api.client.get(url, headers={"Authorization": "Bearer "}), 401)
    for path in ("/api/v1/models", "/api/v1/models/count", "/api/v1/providers"):
        assert_envelope(api.client.get(path), 401)


def test_revoked_key_is_refused_within_the_refresh_interval(api: Api) -> None:
    url = f"/api/v1/models/{QWEN}/endpoints"
    assert api.get(url).status_code == 200
    api.store.revoke_key(api.key[:17])
    import time

    deadline = time.monotonic() + 2
    while api.get(url).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert_envelope(api.get(url), 401)


def test_public_discovery_serves_without_key_but_hides_performance(database_url: str) -> None:
    for api in make_api(database_url, public_discovery=True):
        r = api.client.get(f"/api/v1/models/{QWEN}/endpoints")
        assert r.status_code == 200
        assert all(e["latency_last_30m"] is None for e in r.json()["data"]["endpoints"])
        assert api.client.get("/api/v1/models").status_code == 200
        # A key that is presented must still be valid.
        bad = api.client.get("/api/v1/models", headers={"Authorization": "Bearer wrong"})
        assert_envelope(bad, 401)


def test_wrong_method_is_405_in_envelope(api: Api) -> None:
    r = api.client.post(f"/api/v1/models/{QWEN}/endpoints", headers=api.auth)
    assert_envelope(r, 405)


def test_etag_revalidation_gives_304(api: Api) -> None:
    url = f"/api/v1/models/{QWEN}/endpoints"
    first = api.get(url)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.headers["vary"] == "Authorization, Accept-Encoding"
    second = api.get(url, **{"If-None-Match": etag})
    assert second.status_code == 304 and second.content == b""
    assert second.headers["etag"] == etag
    assert api.get(url, **{"If-None-Match": '"other"'}).status_code == 200
    assert api.get(url, **{"If-None-Match": f'W/{etag}'}).status_code == 304


def test_gzip_when_accepted_and_identity_otherwise(api: Api) -> None:
    url = f"/api/v1/models/{QWEN}/endpoints"
    plain = api.client.get(url, headers={**api.auth, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    raw = api.client.stream("GET", url, headers={**api.auth, "Accept-Encoding": "gzip"})
    with raw as r:
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Authorization, Accept-Encoding"
        body = b"".join(r.iter_raw())
    assert gzip.decompress(body) == plain.content


def test_cors_on_gets_and_preflight(api: Api) -> None:
    assert api.get("/api/v1/models").headers["access-control-allow-origin"] == "*"
    pre = api.client.options("/api/v1/models", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()


def test_request_id_is_returned_and_echoed(api: Api) -> None:
    r = api.get("/api/v1/models/nobody/nothing/endpoints")
    assert len(r.headers["x-request-id"]) == 16
    assert api.get("/api/v1/models", **{"X-Request-Id": "abc-123"}).headers["x-request-id"] == "abc-123"


def test_models_list_count_and_filter(api: Api) -> None:
    starter = read_starter()
    models = api.get("/api/v1/models").json()
    listed = {m["id"] for m in models["data"]}
    assert listed == {m.id for m in starter.models if any(not e.disabled for e in m.endpoints)}
    assert models["total_count"] == len(listed) and models["links"] == {"next": None}
    assert api.get("/api/v1/models/count").json() == {"data": {"count": len(listed)}}
    tools = api.get("/api/v1/models?supported_parameters=tools,tool_choice").json()["data"]
    assert tools and len(tools) < len(listed)
    assert all({"tools", "tool_choice"} <= set(m["supported_parameters"]) for m in tools)
    qwen = next(m for m in models["data"] if m["id"] == QWEN)
    first = next(e for e in next(x for x in starter.models if x.id == QWEN).endpoints)
    assert qwen["pricing"]["prompt"] == first.pricing.prompt
    assert qwen["top_provider"]["context_length"] == first.context_length
    assert qwen["links"]["details"] == f"/api/v1/models/{QWEN}/endpoints"


def test_models_pagination(api: Api) -> None:
    everything = api.get("/api/v1/models").json()["data"]
    page = api.get("/api/v1/models?limit=5&offset=5").json()
    assert [m["id"] for m in page["data"]] == [m["id"] for m in everything[5:10]]
    assert page["total_count"] == len(everything)
    assert page["links"]["next"] == "/api/v1/models?offset=10&limit=5"
    assert_envelope(api.get("/api/v1/models?limit=abc"), 400)


def test_providers_list(api: Api) -> None:
    data = api.get("/api/v1/providers").json()["data"]
    starter = read_starter()
    assert [p["slug"] for p in data] == sorted(p.slug for p in starter.providers)
    assert set(data[0]) == {"name", "slug", "privacy_policy_url", "terms_of_service_url",
                            "status_page_url"}


def test_disabled_endpoint_has_status_minus_10(api: Api) -> None:
    catalog = read_starter()
    model = next(m for m in catalog.models if m.id == QWEN)
    import msgspec

    changed = msgspec.structs.replace(
        model, endpoints=(msgspec.structs.replace(model.endpoints[0], disabled=True),
                          *model.endpoints[1:]))
    api.store.apply_catalog(msgspec.structs.replace(catalog, models=(changed,)), overwrite=True)
    import time

    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        eps = api.get(f"/api/v1/models/{QWEN}/endpoints").json()["data"]["endpoints"]
        if eps[0]["status"] == -10:
            break
        time.sleep(0.02)
    assert [e["status"] for e in eps] == [-10] + [0] * (len(eps) - 1)
    listed = next(m for m in api.get("/api/v1/models").json()["data"] if m["id"] == QWEN)
    assert listed["pricing"]["prompt"] == model.endpoints[1].pricing.prompt


def test_openapi_document_and_healthz(api: Api) -> None:
    doc = api.client.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    assert "/models/{author}/{slug}/endpoints" in json.loads(doc.content)["paths"]
    assert api.client.get("/healthz").json() == {"status": "ok"}
