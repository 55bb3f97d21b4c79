"""Discovery as browsers and other clients use it (in-process, both backends): private
caching of keyed answers, per-representation ETags, CORS for any requested header, trailing
slashes, count filters, paging edges, OpenAI's model retrieval, and new keys at once."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from routeyard.app import create_app
from routeyard.catalog.declarative import read_starter
from routeyard.store import Store
from tests.conftest import settings_for
from tests.schemas import validate_response
from tests.test_api import QWEN, Api, assert_envelope, make_api

PATHS = ("/api/v1/models", "/api/v1/models/count", "/api/v1/providers",
         f"/api/v1/models/{QWEN}/endpoints", f"/api/v1/model/{QWEN}",
         f"/api/v1/parameters/{QWEN}", f"/api/v1/models/{QWEN}")


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    yield from make_api(database_url)


@pytest.fixture
def public(database_url: str) -> Iterator[Api]:
    yield from make_api(database_url, public_discovery=True)


# -- caching -------------------------------------------------------------------------------


def test_keyed_answers_are_private_revalidated_and_vary_on_authorization(api: Api) -> None:
    for path in PATHS:
        for encoding in ("gzip", "identity"):
            r = api.get(path, **{"Accept-Encoding": encoding})
            assert r.status_code == 200, path
            assert r.headers["cache-control"] == "private, no-cache", path
            assert r.headers["vary"] == "Authorization, Accept-Encoding", path
            again = api.get(path, **{"Accept-Encoding": encoding,
                                     "If-None-Match": r.headers["etag"]})
            assert again.status_code == 304, path
            assert again.headers["cache-control"] == "private, no-cache"
            assert again.headers["vary"] == "Authorization, Accept-Encoding"


def test_public_discovery_keeps_the_shared_cache_only_for_answers_alike_for_all(
        public: Api) -> None:
    for path in ("/api/v1/models", "/api/v1/models/count", "/api/v1/providers"):
        anonymous = public.client.get(path)
        assert anonymous.headers["cache-control"] == "s-maxage=300, stale-while-revalidate=600"
        assert anonymous.headers["vary"] == "Accept-Encoding"
    # The endpoints answer differs by caller (latency and throughput only with a key).
    url = f"/api/v1/models/{QWEN}/endpoints"
    for r in (public.client.get(url), public.get(url)):
        assert r.headers["cache-control"] == "private, no-cache"
        assert r.headers["vary"] == "Authorization, Accept-Encoding"


def test_gzip_and_identity_bodies_have_different_etags(api: Api) -> None:
    url = f"/api/v1/models/{QWEN}/endpoints"
    plain = api.get(url, **{"Accept-Encoding": "identity"})
    with api.client.stream("GET", url, headers={**api.auth, "Accept-Encoding": "gzip"}) as r:
        zipped_etag = r.headers["etag"]
        assert r.headers["content-encoding"] == "gzip"
        assert gzip.decompress(b"".join(r.iter_raw())) == plain.content
    assert plain.headers["etag"] != zipped_etag
    # Each ETag revalidates its own representation only.
    assert api.get(url, **{"Accept-Encoding": "identity",
                           "If-None-Match": plain.headers["etag"]}).status_code == 304
    assert api.get(url, **{"Accept-Encoding": "identity",
                           "If-None-Match": zipped_etag}).status_code == 200
    same = api.get(url, **{"Accept-Encoding": "gzip", "If-None-Match": zipped_etag})
    assert same.status_code == 304 and same.headers["etag"] == zipped_etag
    assert api.get(url, **{"Accept-Encoding": "gzip",
                           "If-None-Match": plain.headers["etag"]}).status_code == 200


# -- CORS ----------------------------------------------------------------------------------


def test_preflight_allows_the_headers_requested(api: Api) -> None:
    asked = ("authorization, x-stainless-arch, x-stainless-lang, x-stainless-os, "
             "x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime")
    pre = api.client.options("/api/v1/models/qwen%2Fqwen3-235b-a22b", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": asked})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-headers"] == asked
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "GET" in pre.headers["access-control-allow-methods"]
    # What is not a header-name list is not echoed back.
    odd = api.client.options("/api/v1/models", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-a, (not a name)"})
    assert odd.headers["access-control-allow-headers"].startswith("Authorization, ")


def test_answers_expose_etag_retry_after_request_id_and_rate_limits(api: Api) -> None:
    for r in (api.get("/api/v1/models"), api.get(f"/api/v1/models/{QWEN}/endpoints"),
              api.get("/api/v1/providers"), api.client.get("/api/v1/models"),
              api.get("/api/v1/models/nobody/nothing/endpoints")):
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert {"etag", "retry-after", "x-request-id", "x-ratelimit-limit",
                "x-ratelimit-remaining", "x-ratelimit-reset"} <= exposed


# -- paths and parameters ------------------------------------------------------------------


def test_a_trailing_slash_gets_the_same_answer_with_its_key_check_and_cors(api: Api) -> None:
    for path in ("/api/v1/models", "/api/v1/models/count", "/api/v1/providers",
                 f"/api/v1/models/{QWEN}/endpoints"):
        slashed = api.client.get(path + "/", headers=api.auth, follow_redirects=False)
        assert slashed.status_code == 200, path
        assert slashed.content == api.get(path).content
        assert slashed.headers["access-control-allow-origin"] == "*"
        refused = api.client.get(path + "/", follow_redirects=False)
        body = assert_envelope(refused, 401)
        assert body["error"]["message"] == "No auth credentials found"
        assert refused.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("query", [
    "", "output_modalities=image", "output_modalities=text", "output_modalities=all",
    "supported_parameters=tools", "supported_parameters=tools,reasoning",
    "supported_parameters=no-such-parameter", "output_modalities=text&supported_parameters=tools",
])
def test_count_agrees_with_the_list_for_every_filter(api: Api, query: str) -> None:
    listed = api.get(f"/api/v1/models?{query}").json()
    count = api.get(f"/api/v1/models/count?{query}").json()
    assert count == {"data": {"count": len(listed["data"])}}
    assert listed["total_count"] == len(listed["data"])


def test_count_with_filters_is_not_the_unfiltered_count(api: Api) -> None:
    everything = api.get("/api/v1/models/count").json()["data"]["count"]
    assert everything == 41
    assert api.get("/api/v1/models/count?output_modalities=image").json()["data"]["count"] == 0
    tools = api.get("/api/v1/models/count?supported_parameters=tools").json()["data"]["count"]
    assert 0 < tools < everything


def test_limit_zero_returns_no_model_and_the_total(api: Api) -> None:
    page = api.get("/api/v1/models?limit=0").json()
    assert page["data"] == []
    assert page["total_count"] == 41
    assert page["links"] == {"next": None}
    one = api.get("/api/v1/models?limit=1").json()
    assert len(one["data"]) == 1 and one["links"]["next"] == "/api/v1/models?offset=1&limit=1"


# -- OpenAI's models.retrieve --------------------------------------------------------------


def test_openai_retrieve_answers_the_model_object(api: Api) -> None:
    model = next(m for m in read_starter().models if m.id == QWEN)
    for path in (f"/api/v1/models/{QWEN.replace('/', '%2F')}", f"/api/v1/models/{QWEN}"):
        r = api.get(path)
        assert r.status_code == 200, path
        assert r.json() == {"id": QWEN, "object": "model", "created": model.created,
                            "owned_by": "qwen"}


def test_openai_retrieve_of_an_unknown_model_is_404_naming_it(api: Api) -> None:
    assert api.get("/api/v1/models/qwen%2Fqwen3-coder").json()["id"] == "qwen/qwen3-coder"
    body = assert_envelope(api.get("/api/v1/models/qwen%2Fqwen9-nothing"), 404)
    assert body["error"]["message"] == "Model qwen/qwen9-nothing not found"
    body = assert_envelope(api.get("/api/v1/models/gpt-4o"), 404)
    assert body["error"]["message"] == "Model gpt-4o not found"
    assert_envelope(api.client.get("/api/v1/models/qwen%2Fqwen3-coder"), 401)


# -- getModel and getParameters ------------------------------------------------------------


def test_get_model_answers_the_listed_model_in_openrouters_shape(api: Api) -> None:
    listed = next(m for m in api.get("/api/v1/models").json()["data"] if m["id"] == QWEN)
    body = api.get(f"/api/v1/model/{QWEN}").json()
    assert body == {"data": listed}
    validate_response(body, "/model/{author}/{slug}", spec="2026-08")
    validate_response(body, "/model/{author}/{slug}", spec="routeyard")
    assert api.get(f"/api/v1/model/{QWEN.upper()}").json() == body
    missing = assert_envelope(api.get("/api/v1/model/nobody/nothing"), 404)
    assert missing["error"]["message"] == "Model nobody/nothing not found"
    assert_envelope(api.client.get(f"/api/v1/model/{QWEN}"), 401)


def test_get_parameters_of_a_model_and_of_one_provider(api: Api) -> None:
    model = next(m for m in read_starter().models if m.id == QWEN)
    providers = read_starter().provider_map()
    body = api.get(f"/api/v1/parameters/{QWEN}").json()
    union: dict[str, None] = {}
    for e in model.endpoints:
        if not e.disabled:
            union.update(dict.fromkeys(e.supported_parameters))
    assert body == {"data": {"model": QWEN, "supported_parameters": list(union),
                             "popularity": None}}
    validate_response(body, "/parameters/{author}/{slug}", spec="2025-10",
                      open_enums={"*"})
    validate_response(body, "/parameters/{author}/{slug}", spec="routeyard")
    first = model.endpoints[0]
    for name in (providers[first.provider].name, first.provider):
        one = api.get(f"/api/v1/parameters/{QWEN}?provider={name}").json()["data"]
        assert one["supported_parameters"] == list(first.supported_parameters)
    assert_envelope(api.get(f"/api/v1/parameters/{QWEN}?provider=Nobody"), 404)
    assert_envelope(api.get("/api/v1/parameters/nobody/nothing"), 404)


# -- keys ----------------------------------------------------------------------------------


def test_a_new_key_works_before_the_next_refresh(database_url: str) -> None:
    store = Store(database_url)
    store.ensure_schema()
    lookups: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "WHERE api_keys.prefix" in statement:
            lookups.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    app = create_app(settings_for(database_url, refresh_interval=3600.0), store=store)
    with TestClient(app) as client:
        url = f"/api/v1/models/{QWEN}/endpoints"
        key, record = store.create_key("new", "read")
        for _ in range(3):
            r = client.get(url, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200 and r.json()["data"]["id"] == QWEN
        assert len(lookups) == 1  # then the ring knows it
        # An unknown key is looked up once, then refused from memory.
        guess = {"Authorization": "Bearer sk-ry-v1-" + "1" * 64}
        for _ in range(3):
            assert_envelope(client.get(url, headers=guess), 401)
        assert len(lookups) == 2
        # What is not of a key's form is never looked up.
        assert_envelope(client.get(url, headers={"Authorization": "Bearer nope"}), 401)
        assert len(lookups) == 2
        # Revoked: refused once the ring is reloaded (the documented bound: the refresh).
        store.revoke_key(str(record.id))
        app.runtime.refresh()  # type: ignore[attr-defined]
        assert_envelope(client.get(url, headers={"Authorization": f"Bearer {key}"}), 401)
    store.dispose()


EMBEDDING_FILE = """
format = "routeyard-catalog"
version = 1

[[providers]]
slug = "vectors"
name = "Vectors"

[[models]]
id = "vectors/embed-small"
name = "Vectors: Embed Small"
created = 1700000000
input_modalities = ["text"]
output_modalities = ["embeddings"]

[[models.endpoints]]
provider = "vectors"
context_length = 8192
pricing = { prompt = "0.00000002", completion = "0" }
"""


def test_embedding_models_are_listed_by_output_modality(api: Api) -> None:
    from routeyard.catalog import declarative

    assert api.get("/api/v1/embeddings/models").json()["data"] == []
    api.store.apply_catalog(declarative.parse_text(EMBEDDING_FILE, "embed.toml"))
    api.client.app.runtime.refresh()  # type: ignore[attr-defined]
    body = api.get("/api/v1/embeddings/models").json()
    assert [m["id"] for m in body["data"]] == ["vectors/embed-small"]
    assert body["data"][0]["architecture"]["output_modalities"] == ["embeddings"]
    validate_response(body, "/models", spec="2026-08")
    validate_response(body, "/embeddings/models", spec="routeyard")
    everything = api.get("/api/v1/models?output_modalities=embeddings").json()["data"]
    assert [m["id"] for m in everything] == ["vectors/embed-small"]
    assert api.get("/api/v1/models/count?output_modalities=embeddings").json() == {
        "data": {"count": 1}}
    assert_envelope(api.client.get("/api/v1/embeddings/models"), 401)
