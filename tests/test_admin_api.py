"""The admin API (routeyard.api.admin) in-process on both backends, and across two real servers.

Every admin response checked here is also validated against the OpenAPI document we serve
(``Admin.call`` does it), and every write is checked through the discovery API of the same
process, whose background refresh is slowed to a minute so that only the write path can
make a change visible.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from schemas import validate_response
from starlette.routing import Route
from starlette.testclient import TestClient

from routeyard.api import accounting, admin, admin_keys, ingest
from routeyard.app import create_app
from routeyard.catalog.declarative import read_starter
from routeyard.config import SETTINGS_BY_NAME
from routeyard.logs import JSONFormatter
from routeyard.models import Catalog
from routeyard.store import Store
from tests.conftest import Server, settings_for
from tests.test_api import assert_envelope

ROOT = Path(__file__).resolve().parent.parent
A = "/api/v1/admin"
MAVERICK = "meta-llama/llama-4-maverick"  # endpoints: deepinfra/fp8, amazon-bedrock, novita/fp8
MAVERICK_EP = f"{A}/models/{MAVERICK}/endpoints"
FORBIDDEN = "Only admin keys can perform this operation"

PRICING = {"prompt": "0.00000015", "completion": "0.0000006", "input_cache_read": "0.00000003"}
NEW_PROVIDER = {
    "slug": "acme", "name": "Acme Cloud", "privacy_policy_url": "https://acme.example/privacy",
    "status_page_url": "https://status.acme.example", "base_url": "https://api.acme.example/v1",
    "api_key_env": "ACME_API_KEY",
}
NEW_ENDPOINT = {
    "provider": "deepinfra", "tag": "deepinfra/fp4", "context_length": 131072,
    "max_completion_tokens": 8192, "quantization": "fp4",
    "supported_parameters": ["max_tokens", "temperature"], "pricing": PRICING,
}
NEW_MODEL = {
    "id": "acme/rocket-1", "name": "Acme: Rocket 1", "created": 1800000000,
    "description": "A model of our own.", "output_modalities": ["text"],
    "default_parameters": {"temperature": 0.7, "top_p": "0.9"},
    "endpoints": [NEW_ENDPOINT, {"provider": "together", "context_length": 65536,
                                 "pricing": {"prompt": "0.0000002", "completion": "0.0000008"}}],
}


def doc_template(path: str) -> str:
    """The OpenAPI path template of a concrete admin path (the first route that matches)."""
    for route in [*admin.routes, *admin_keys.routes]:
        assert isinstance(route, Route)
        if route.path_regex.match(path.split("?")[0]):
            return route.path.removeprefix("/api/v1").replace("{tag:path}", "{tag}")
    raise AssertionError(f"no admin route matches {path}")


class Admin:
    def __init__(self, client: TestClient, store: Store, admin_key: str, read_key: str) -> None:
        self.client = client
        self.store = store
        self.admin_key = admin_key
        self.read_key = read_key

    def call(self, method: str, path: str, status: int, *, json: Any = None,
             content: Any = None, key: str | None = "admin",
             headers: dict[str, str] | None = None) -> Any:
        """One admin request: the status is checked, the body validated against our OpenAPI
        document (and, for errors, the envelope); returns the parsed body (None for 204)."""
        auth = {"admin": self.admin_key, "read": self.read_key}.get(key or "", key)
        sent = dict(headers or {})
        if auth:
            sent["Authorization"] = f"Bearer {auth}"
        r = self.client.request(method, path, json=json, content=content, headers=sent)
        assert r.status_code == status, (method, path, r.status_code, r.text[:2000])
        assert "Traceback" not in r.text
        assert self.admin_key not in r.text and self.read_key not in r.text
        if status == 204:
            assert r.content == b""
            return None
        body = r.json()
        if status >= 400:
            assert_envelope(r, status)
            assert r.headers["cache-control"] == "no-store"
        else:
            assert r.headers["content-type"] == "application/json"
            assert r.headers["cache-control"] == "no-store"
        validate_response(body, doc_template(path), status, method=method.lower())
        return body

    def error(self, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.call(method, path, status, **kwargs)["error"]
        return body

    def discovery(self, path: str) -> Any:
        r = self.client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {self.read_key}"})
        assert r.status_code in (200, 404), r.text
        return r.json()

    def served_model(self, model_id: str) -> dict[str, Any] | None:
        listed = self.discovery("/models")["data"]
        return next((m for m in listed if m["id"] == model_id), None)


def make_admin(database_url: str, **overrides: Any) -> Iterator[Admin]:
    store = Store(database_url)
    store.ensure_schema()
    admin_key, _ = store.create_key("ops", "admin")
    read_key, _ = store.create_key("reader", "read")
    # A minute between background refreshes: a change seen at once came from the write path.
    settings = settings_for(database_url, refresh_interval=60, **overrides)
    with TestClient(create_app(settings, store=store)) as client:
        yield Admin(client, store, admin_key, read_key)
    store.dispose()


@pytest.fixture
def api(database_url: str) -> Iterator[Admin]:
    yield from make_admin(database_url)


def problems(error: dict[str, Any]) -> dict[str, str]:
    return {p["path"]: p["message"] for p in error["metadata"]["problems"]}


# -- providers -----------------------------------------------------------------------


def test_provider_create_read_replace_patch_delete(api: Admin) -> None:
    r = api.client.post(f"{A}/providers", json=NEW_PROVIDER,
                        headers={"Authorization": f"Bearer {api.admin_key}"})
    assert r.status_code == 201 and r.headers["location"] == f"{A}/providers/acme"
    assert r.json() == {"data": NEW_PROVIDER}
    assert api.call("GET", f"{A}/providers/acme", 200) == {"data": NEW_PROVIDER}
    listed = api.call("GET", f"{A}/providers", 200)["data"]
    assert [p["slug"] for p in listed] == sorted(p["slug"] for p in listed)
    assert NEW_PROVIDER in listed and len(listed) == len(read_starter().providers) + 1
    # Discovery of the same process serves it at once.
    served = {p["slug"]: p for p in api.discovery("/providers")["data"]}
    assert served["acme"] == {
        "name": "Acme Cloud", "slug": "acme", "privacy_policy_url": "https://acme.example/privacy",
        "terms_of_service_url": None, "status_page_url": "https://status.acme.example",
    }

    # PUT replaces: fields left out are cleared.
    replaced = api.call("PUT", f"{A}/providers/acme", 200,
                        json={"name": "Acme", "probe_completion": True})
    assert replaced["data"] == {"slug": "acme", "name": "Acme", "probe_completion": True}
    assert api.call("GET", f"{A}/providers/acme", 200)["data"] == replaced["data"]
    served = {p["slug"]: p for p in api.discovery("/providers")["data"]}
    assert served["acme"]["name"] == "Acme" and served["acme"]["privacy_policy_url"] is None

    # PATCH merges; null removes.
    patched = api.call("PATCH", f"{A}/providers/acme", 200,
                       json={"terms_of_service_url": "https://acme.example/tos",
                             "probe_completion": None})
    assert patched["data"] == {"slug": "acme", "name": "Acme",
                               "terms_of_service_url": "https://acme.example/tos"}
    served = {p["slug"]: p for p in api.discovery("/providers")["data"]}
    assert served["acme"]["terms_of_service_url"] == "https://acme.example/tos"

    assert api.call("DELETE", f"{A}/providers/acme", 204) is None
    assert api.error("GET", f"{A}/providers/acme", 404)["message"] == "Provider acme not found"
    assert "acme" not in {p["slug"] for p in api.discovery("/providers")["data"]}
    assert "acme" not in {p.slug for p in api.store.read_catalog().providers}


def test_provider_in_use_cannot_be_deleted(api: Admin) -> None:
    before = api.store.read_catalog()
    count = sum(e.provider == "deepinfra" for m in before.models for e in m.endpoints)
    error = api.error("DELETE", f"{A}/providers/deepinfra", 409)
    assert error["message"] == (
        f"Provider deepinfra still has {count} endpoint(s); delete them first")
    assert error["metadata"] == {"endpoints": count}
    assert api.store.read_catalog() == before


# -- models --------------------------------------------------------------------------


def test_model_create_read_update_delete(api: Admin) -> None:
    r = api.client.post(f"{A}/models", json=NEW_MODEL,
                        headers={"Authorization": f"Bearer {api.admin_key}"})
    assert r.status_code == 201 and r.headers["location"] == f"{A}/models/acme/rocket-1"
    created = r.json()["data"]
    validate_response(r.json(), "/admin/models", 201, method="post")
    assert created["default_parameters"] == {"temperature": "0.7", "top_p": "0.9"}
    assert [e["tag"] for e in created["endpoints"]] == ["deepinfra/fp4", "together"]
    assert created["endpoints"][0] == NEW_ENDPOINT
    assert api.call("GET", f"{A}/models/acme/rocket-1", 200)["data"] == created
    assert api.call("GET", f"{A}/models/ACME/Rocket-1", 200)["data"]["id"] == "acme/rocket-1"
    assert created in api.call("GET", f"{A}/models", 200)["data"]

    served = api.discovery("/models/acme/rocket-1/endpoints")["data"]
    assert served["name"] == "Acme: Rocket 1" and served["created"] == 1800000000
    assert [e["tag"] for e in served["endpoints"]] == ["deepinfra/fp4", "together"]
    assert served["endpoints"][0]["pricing"] == PRICING
    assert served["endpoints"][0]["name"] == "DeepInfra | acme/rocket-1"
    listed = api.served_model("acme/rocket-1")
    assert listed is not None and listed["default_parameters"] == {"temperature": 0.7, "top_p": 0.9}
    assert listed["pricing"] == PRICING and listed["top_provider"]["context_length"] == 131072

    # PUT without `endpoints` replaces the model's fields and keeps its endpoints.
    put = api.call("PUT", f"{A}/models/acme/rocket-1", 200,
                   json={"name": "Acme: Rocket 1.1", "created": 1800000001})
    assert put["data"]["description"] == "" and "default_parameters" not in put["data"]
    assert [e["tag"] for e in put["data"]["endpoints"]] == ["deepinfra/fp4", "together"]
    served = api.discovery("/models/acme/rocket-1/endpoints")["data"]
    assert served["name"] == "Acme: Rocket 1.1" and served["description"] == ""
    assert len(served["endpoints"]) == 2

    # PUT with `endpoints` replaces them: order changes, the one left out is deleted.
    together = put["data"]["endpoints"][1]
    put = api.call("PUT", f"{A}/models/acme/rocket-1", 200, json={
        "id": "acme/rocket-1", "name": "Acme: Rocket 1.1", "created": 1800000001,
        "endpoints": [together]})
    assert [e["tag"] for e in put["data"]["endpoints"]] == ["together"]
    served = api.discovery("/models/acme/rocket-1/endpoints")["data"]
    assert [e["tag"] for e in served["endpoints"]] == ["together"]
    stored = {m.id: m for m in api.store.read_catalog().models}["acme/rocket-1"]
    assert [e.tag for e in stored.endpoints] == ["together"]

    # PATCH merges, and an endpoints array replaces the list.
    patched = api.call("PATCH", f"{A}/models/acme/rocket-1", 200, json={
        "description": "Now with a description.", "endpoints": [NEW_ENDPOINT, together]})
    assert patched["data"]["name"] == "Acme: Rocket 1.1"
    assert patched["data"]["description"] == "Now with a description."
    served = api.discovery("/models/acme/rocket-1/endpoints")["data"]
    assert served["description"] == "Now with a description."
    assert [e["tag"] for e in served["endpoints"]] == ["deepinfra/fp4", "together"]

    assert api.call("DELETE", f"{A}/models/acme/rocket-1", 204) is None
    assert api.error("GET", f"{A}/models/acme/rocket-1", 404)["message"] == (
        "Model acme/rocket-1 not found")
    assert api.discovery("/models/acme/rocket-1/endpoints")["error"]["code"] == 404
    assert api.served_model("acme/rocket-1") is None
    assert "acme/rocket-1" not in {m.id for m in api.store.read_catalog().models}


def test_starter_model_round_trips_unchanged_through_get_and_put(api: Admin) -> None:
    before = api.store.read_catalog()
    current = api.call("GET", f"{A}/models/{MAVERICK}", 200)["data"]
    served_before = api.discovery(f"/models/{MAVERICK}/endpoints")
    assert api.call("PUT", f"{A}/models/{MAVERICK}", 200, json=current)["data"] == current
    assert api.discovery(f"/models/{MAVERICK}/endpoints") == served_before
    assert api.store.read_catalog() == before  # provenance (source, imported_at) kept too
    provider = api.call("GET", f"{A}/providers/deepinfra", 200)["data"]
    assert api.call("PUT", f"{A}/providers/deepinfra", 200, json=provider)["data"] == provider
    endpoint = api.call("GET", f"{MAVERICK_EP}/novita/fp8", 200)["data"]
    assert api.call("PUT", f"{MAVERICK_EP}/novita/fp8", 200, json=endpoint)["data"] == endpoint
    assert api.store.read_catalog() == before


# -- endpoints -----------------------------------------------------------------------


def test_endpoint_with_a_slash_in_its_tag_read_patch_put_delete(api: Admin) -> None:
    starter = {m.id: m for m in read_starter().models}[MAVERICK]
    first = starter.endpoints[0]
    assert first.tag == "deepinfra/fp8"
    got = api.call("GET", f"{MAVERICK_EP}/deepinfra/fp8", 200)["data"]
    assert got["tag"] == "deepinfra/fp8" and got["provider"] == "deepinfra"
    assert got["pricing"]["prompt"] == first.pricing.prompt
    listed = api.call("GET", MAVERICK_EP, 200)["data"]
    assert [e["tag"] for e in listed] == [e.tag for e in starter.endpoints]

    # PATCH merges nested objects: one price changes, the others stay.
    patched = api.call("PATCH", f"{MAVERICK_EP}/deepinfra/fp8", 200,
                       json={"pricing": {"prompt": "0.00000021"}, "max_completion_tokens": None})
    assert patched["data"]["pricing"]["prompt"] == "0.00000021"
    assert patched["data"]["pricing"]["completion"] == first.pricing.completion
    assert "max_completion_tokens" not in patched["data"]
    wire = api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"][0]
    assert wire["tag"] == "deepinfra/fp8"
    assert wire["pricing"]["prompt"] == "0.00000021"
    assert wire["pricing"]["completion"] == first.pricing.completion
    assert wire["max_completion_tokens"] is None
    assert api.served_model(MAVERICK)["pricing"]["prompt"] == "0.00000021"  # type: ignore[index]

    # PUT replaces the whole endpoint; the tag comes from the path.
    put = api.call("PUT", f"{MAVERICK_EP}/deepinfra/fp8", 200, json={
        "provider": "deepinfra", "context_length": 4096, "quantization": "fp8",
        "pricing": {"prompt": "1", "completion": "2", "discount": "0.25"}})
    assert put["data"] == {"provider": "deepinfra", "tag": "deepinfra/fp8",
                           "context_length": 4096, "quantization": "fp8",
                           "supported_parameters": [],
                           "pricing": {"prompt": "1", "completion": "2", "discount": "0.25"}}
    wire = api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"][0]
    assert wire["context_length"] == 4096 and wire["supported_parameters"] == []
    assert wire["pricing"] == {"prompt": "1", "completion": "2", "discount": 0.25}

    # A new endpoint is served last; deleting one removes it at once.
    r = api.client.post(MAVERICK_EP, json=NEW_ENDPOINT,
                        headers={"Authorization": f"Bearer {api.admin_key}"})
    assert r.status_code == 201
    assert r.headers["location"] == f"{MAVERICK_EP}/deepinfra/fp4"
    assert r.json() == {"data": NEW_ENDPOINT}
    validate_response(r.json(), "/admin/models/{author}/{slug}/endpoints", 201, method="post")
    tags = [e["tag"] for e in api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"]]
    assert tags == ["deepinfra/fp8", "amazon-bedrock", "novita/fp8", "deepinfra/fp4"]
    assert api.call("DELETE", f"{MAVERICK_EP}/deepinfra/fp8", 204) is None
    tags = [e["tag"] for e in api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"]]
    assert tags == ["amazon-bedrock", "novita/fp8", "deepinfra/fp4"]
    assert api.error("GET", f"{MAVERICK_EP}/deepinfra/fp8", 404)["message"] == (
        f"Model {MAVERICK} has no endpoint tagged deepinfra/fp8")


def test_disable_and_enable_show_at_once_in_discovery_and_move_the_top_provider(api: Admin) -> None:
    starter = {m.id: m for m in read_starter().models}[MAVERICK]
    first, second = starter.endpoints[0], starter.endpoints[1]
    assert first.pricing != second.pricing  # so that the top provider's change is visible
    listed = api.served_model(MAVERICK)
    assert listed is not None and listed["pricing"]["prompt"] == first.pricing.prompt
    assert listed["top_provider"]["context_length"] == first.context_length

    body = api.call("POST", f"{MAVERICK_EP}/deepinfra/fp8/disable", 200)
    assert body["data"]["disabled"] is True and body["data"]["tag"] == "deepinfra/fp8"
    wire = api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"]
    assert [(e["tag"], e["status"]) for e in wire] == [
        ("deepinfra/fp8", -10), ("amazon-bedrock", 0), ("novita/fp8", 0)]
    listed = api.served_model(MAVERICK)
    assert listed is not None
    assert listed["pricing"]["prompt"] == second.pricing.prompt
    assert listed["pricing"]["completion"] == second.pricing.completion
    assert listed["top_provider"] == {"context_length": second.context_length,
                                      "max_completion_tokens": second.max_completion_tokens,
                                      "is_moderated": second.is_moderated}
    assert api.call("GET", f"{MAVERICK_EP}/deepinfra/fp8", 200)["data"]["disabled"] is True
    # Disabling twice is harmless.
    api.call("POST", f"{MAVERICK_EP}/deepinfra/fp8/disable", 200)

    body = api.call("POST", f"{MAVERICK_EP}/deepinfra/fp8/enable", 200)
    assert "disabled" not in body["data"]
    wire = api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"]
    assert [e["status"] for e in wire] == [0, 0, 0]
    listed = api.served_model(MAVERICK)
    assert listed is not None and listed["pricing"]["prompt"] == first.pricing.prompt
    assert listed["top_provider"]["context_length"] == first.context_length


def test_disabling_every_endpoint_drops_the_model_from_models(api: Admin) -> None:
    count = api.discovery("/models/count")["data"]["count"]
    for tag in ("deepinfra/fp8", "amazon-bedrock", "novita/fp8"):
        api.call("POST", f"{MAVERICK_EP}/{tag}/disable", 200)
    assert api.served_model(MAVERICK) is None
    assert api.discovery("/models/count")["data"]["count"] == count - 1
    wire = api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"]
    assert {e["status"] for e in wire} == {-10}
    api.call("POST", f"{MAVERICK_EP}/amazon-bedrock/enable", 200)
    assert api.served_model(MAVERICK) is not None


# -- authorization -------------------------------------------------------------------

# Every admin operation, with a body that would succeed for an admin.
OPERATIONS: list[tuple[str, str, Any]] = [
    ("GET", f"{A}/providers", None),
    ("POST", f"{A}/providers", NEW_PROVIDER),
    ("GET", f"{A}/providers/deepinfra", None),
    ("PUT", f"{A}/providers/deepinfra", {"slug": "deepinfra", "name": "X"}),
    ("PATCH", f"{A}/providers/deepinfra", {"name": "X"}),
    ("DELETE", f"{A}/providers/lambda", None),
    ("GET", f"{A}/models", None),
    ("POST", f"{A}/models", NEW_MODEL),
    ("GET", f"{A}/models/{MAVERICK}", None),
    ("PUT", f"{A}/models/{MAVERICK}", {"name": "X", "created": 1}),
    ("PATCH", f"{A}/models/{MAVERICK}", {"name": "X"}),
    ("DELETE", f"{A}/models/{MAVERICK}", None),
    ("GET", MAVERICK_EP, None),
    ("POST", MAVERICK_EP, NEW_ENDPOINT),
    ("POST", f"{MAVERICK_EP}/deepinfra/fp8/disable", None),
    ("POST", f"{MAVERICK_EP}/deepinfra/fp8/enable", None),
    ("GET", f"{MAVERICK_EP}/deepinfra/fp8", None),
    ("PUT", f"{MAVERICK_EP}/deepinfra/fp8", NEW_ENDPOINT | {"tag": "deepinfra/fp8"}),
    ("PATCH", f"{MAVERICK_EP}/deepinfra/fp8", {"context_length": 1}),
    ("DELETE", f"{MAVERICK_EP}/deepinfra/fp8", None),
]


def test_operations_cover_every_admin_route_and_method() -> None:
    covered = {(method, doc_template(path)) for method, path, _ in OPERATIONS}
    routed = {(method, route.path.removeprefix("/api/v1").replace("{tag:path}", "{tag}"))
              for route in admin.routes if isinstance(route, Route)
              for method in route.methods or () if method != "HEAD"}
    assert covered == routed


def test_read_key_is_403_and_no_key_is_401_on_every_operation(api: Admin) -> None:
    before = api.store.read_catalog()
    version = api.store.versions()["catalog"]
    for method, path, body in OPERATIONS:
        error = api.error(method, path, 403, json=body, key="read")
        assert error["message"] == FORBIDDEN, (method, path)
        error = api.error(method, path, 401, json=body, key=None)
        assert error["message"] == "No auth credentials found", (method, path)
        error = api.error(method, path, 401, json=body, key="sk-ry-v1-" + "0" * 64)
        assert error["message"] == "Invalid or revoked API key", (method, path)
    assert api.store.read_catalog() == before
    assert api.store.versions()["catalog"] == version


def test_every_operation_succeeds_with_an_admin_key(api: Admin) -> None:
    expected = {"POST": 201, "DELETE": 204}
    deferred = {("DELETE", f"{A}/models/{MAVERICK}"), ("DELETE", f"{A}/providers/lambda")}
    for method, path, body in OPERATIONS:
        if (method, path) in deferred:
            continue
        status = 200 if path.endswith(("/disable", "/enable")) else expected.get(method, 200)
        api.call(method, path, status, json=body)
    api.call("DELETE", f"{A}/models/{MAVERICK}", 204)
    # lambda serves only this model; once it is gone, so can lambda be.
    api.call("DELETE", f"{A}/models/nousresearch/hermes-3-llama-3.1-405b", 204)
    api.call("DELETE", f"{A}/providers/lambda", 204)
    catalog = api.store.read_catalog()
    assert "lambda" not in {p.slug for p in catalog.providers}
    assert MAVERICK not in {m.id for m in catalog.models}
    assert {"acme", "deepinfra"} <= {p.slug for p in catalog.providers}
    assert {p.slug: p.name for p in catalog.providers}["deepinfra"] == "X"


def test_admin_routes_need_a_key_even_with_public_discovery(database_url: str) -> None:
    for api in make_admin(database_url, public_discovery=True):
        assert api.client.get("/api/v1/models").status_code == 200
        error = api.error("GET", f"{A}/providers", 401, key=None)
        assert error["message"] == "No auth credentials found"
        assert api.error("POST", f"{A}/providers", 403, key="read", json=NEW_PROVIDER)[
            "message"] == FORBIDDEN


def test_wrong_method_is_405_listing_the_allowed_ones(api: Admin) -> None:
    r = api.client.post(f"{A}/providers/deepinfra",
                        headers={"Authorization": f"Bearer {api.admin_key}"})
    assert_envelope(r, 405)
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "PATCH", "DELETE"}
    r = api.client.get(f"{MAVERICK_EP}/deepinfra/fp8/disable",
                       headers={"Authorization": f"Bearer {api.admin_key}"})
    assert_envelope(r, 404)  # read as the tag "deepinfra/fp8/disable"


# -- invalid input -------------------------------------------------------------------


def test_negative_price_is_400_naming_the_field(api: Admin) -> None:
    bad = NEW_ENDPOINT | {"pricing": {"prompt": "-0.1", "completion": "0"}}
    error = api.error("POST", MAVERICK_EP, 400, json=bad)
    assert "pricing.prompt" in error["message"]
    assert error["message"] == ("Invalid request body: pricing.prompt: price must not be "
                                "negative, got '-0.1'")
    assert error["metadata"] == {"problems": [
        {"path": "pricing.prompt", "message": "price must not be negative, got '-0.1'"}]}
    error = api.error("POST", f"{A}/models", 400,
                      json=NEW_MODEL | {"endpoints": [bad]})
    assert problems(error) == {
        "endpoints[0].pricing.prompt": "price must not be negative, got '-0.1'"}
    error = api.error("PATCH", f"{MAVERICK_EP}/deepinfra/fp8", 400,
                      json={"pricing": {"completion": -1}})
    assert problems(error) == {"pricing.completion": "price must not be negative, got -1"}


@pytest.mark.parametrize(("method", "path", "body", "expected"), [
    ("POST", f"{A}/providers", {"name": "No slug"}, {"slug": "is required"}),
    ("POST", f"{A}/providers", {"slug": "Bad Slug", "name": "x"},
     {"slug": "not a provider slug (lower case letters, digits, . _ -): 'Bad Slug'"}),
    ("POST", f"{A}/providers", NEW_PROVIDER | {"homepage": "https://x"},
     {"homepage": "unknown field"}),
    ("POST", f"{A}/providers", NEW_PROVIDER | {"base_url": "ftp://x"},
     {"base_url": "expected an http(s) URL, got 'ftp://x'"}),
    ("POST", f"{A}/providers", NEW_PROVIDER | {"base_url": "https://me:s3cret@api.acme.example"},
     {"base_url": "must not contain credentials; name the key's environment variable in "
                  "api_key_env"}),
    ("POST", f"{A}/providers", NEW_PROVIDER | {"api_key_env": "sk-live-123"},
     {"api_key_env": "expected the NAME of an environment variable (letters, digits, _), "
                     "not a key"}),
    ("PATCH", f"{A}/providers/deepinfra", {"name": 5}, {"name": "expected string, got int"}),
    ("PATCH", f"{A}/providers/deepinfra", {"name": None}, {"name": "is required"}),
    ("POST", f"{A}/models", {"id": "no-slash", "name": "x", "created": 1},
     {"id": "not a model id (author/slug[:variant]): 'no-slash'"}),
    ("POST", f"{A}/models", {"id": "a/b", "name": "x"}, {"created": "is required"}),
    ("POST", f"{A}/models", {"id": "a/b", "name": "x", "created": True},
     {"created": "expected integer, got a boolean"}),
    ("POST", f"{A}/models", {"id": "a/b", "name": "x", "created": 1, "endpoints": {}},
     {"endpoints": "expected a list, got dict"}),
    ("POST", f"{A}/models", NEW_MODEL | {"endpoints": [NEW_ENDPOINT, NEW_ENDPOINT]},
     {"endpoints[1].tag": "duplicate tag 'deepinfra/fp4' in model acme/rocket-1"}),
    ("POST", f"{A}/models", NEW_MODEL | {"default_parameters": {"temperature": "hot"}},
     {"default_parameters.temperature": "expected a number or a decimal string, got 'hot'"}),
    ("POST", f"{A}/models", NEW_MODEL | {"default_parameters": {"top_p": [1]}},
     {"default_parameters.top_p": "expected a number, got an array"}),
    ("PATCH", f"{A}/models/{MAVERICK}", {"default_parameters": {"temperature": True}},
     {"default_parameters.temperature": "expected a number, got a boolean"}),
    ("PATCH", f"{A}/models/{MAVERICK}", {"input_modalities": ["text", 3]},
     {"input_modalities[1]": "expected string, got int"}),
    ("POST", MAVERICK_EP, NEW_ENDPOINT | {"context_length": 0},
     {"context_length": "must be positive, got 0"}),
    ("POST", MAVERICK_EP, NEW_ENDPOINT | {"quantization": "fp3"},
     {"quantization": "unknown quantization 'fp3'"}),
    ("POST", MAVERICK_EP, NEW_ENDPOINT | {"tag": "deepinfra/fp8/x"},
     {"tag": "not a tag (provider slug with an optional /variant): 'deepinfra/fp8/x'"}),
    ("POST", MAVERICK_EP, {"provider": "deepinfra", "tag": "deepinfra/x", "context_length": 1},
     {"pricing": "is required"}),
    ("POST", MAVERICK_EP, NEW_ENDPOINT | {"pricing": {"prompt": 1e-7, "completion": "0"}},
     {"pricing.prompt": "expected a decimal string, got float"}),
    ("POST", MAVERICK_EP, NEW_ENDPOINT | {"pricing": {"prompt": "1", "completion": "0",
                                                      "discount": "1.5"}},
     {"pricing.discount": "a discount is a fraction between 0 and 1, got '1.5'"}),
    ("PATCH", f"{MAVERICK_EP}/deepinfra/fp8", {"pricing": {"completion": None}},
     {"pricing.completion": "is required"}),
    ("PATCH", f"{MAVERICK_EP}/deepinfra/fp8", {"service_tier": "gold"},
     {"service_tier": "expected one of flex, priority, ultrafast, got 'gold'"}),
    ("PUT", f"{MAVERICK_EP}/deepinfra/fp8", {"provider": "deepinfra"},
     {"context_length": "is required", "pricing": "is required"}),
])
def test_invalid_bodies_are_400_naming_each_field(api: Admin, method: str, path: str,
                                                  body: Any, expected: dict[str, str]) -> None:
    before = api.store.read_catalog()
    error = api.error(method, path, 400, json=body)
    assert problems(error) == expected
    assert error["message"].startswith("Invalid request body: ")
    for field, message in expected.items():
        assert f"{field}: {message}" in error["message"]
    assert api.store.read_catalog() == before


@pytest.mark.parametrize(("content", "message"), [
    (b"", "Request body is not valid JSON"),
    (b"{not json", "Request body is not valid JSON"),
    (b"\xff\xfe{}", "Request body is not valid JSON"),
    (b"[1, 2]", "Request body must be a JSON object, got an array"),
    (b'"acme"', "Request body must be a JSON object, got a string"),
    (b"null", "Request body must be a JSON object, got null"),
    (b"3", "Request body must be a JSON object, got a number"),
    (b"[" * 100_000 + b"]" * 100_000, "Request body is not valid JSON: nested too deeply"),
    (b'{"slug": "acme", "name": "a\\u0000b"}',
     "Invalid request body: name: contains a NUL character"),
    (b'{"slug": "acme", "name": "a\\ud800b"}',
     "Invalid request body: name: contains an unpaired surrogate (invalid Unicode)"),
])
def test_non_json_and_non_object_bodies_are_400(api: Admin, content: bytes, message: str) -> None:
    before = api.store.read_catalog()
    for method, path in (("POST", f"{A}/providers"), ("PATCH", f"{A}/providers/deepinfra")):
        error = api.error(method, path, 400, content=content,
                          headers={"Content-Type": "application/json"})
        assert error["message"] == message
    assert api.store.read_catalog() == before


def test_strings_a_database_cannot_store_are_refused_by_path(api: Admin) -> None:
    body = json.dumps(NEW_MODEL | {"endpoints": [NEW_ENDPOINT | {"provider_model_id": "x\x00"}],
                                   "default_parameters": {"te\x00mp": 1}})
    error = api.error("POST", f"{A}/models", 400, content=body.encode())
    assert problems(error) == {"endpoints[0].provider_model_id": "contains a NUL character",
                               "default_parameters.te\x00mp": "contains a NUL character"}
    # A valid surrogate pair (an emoji, escaped) is fine.
    ok = json.dumps(NEW_PROVIDER | {"name": "Acme \U0001F680"}).encode()
    assert b"\\ud83d\\ude80" in ok
    assert api.call("POST", f"{A}/providers", 201, content=ok)["data"]["name"] == "Acme \U0001F680"
    served = {p["slug"]: p for p in api.discovery("/providers")["data"]}
    assert served["acme"]["name"] == "Acme \U0001F680"


ADMIN_LIMIT = SETTINGS_BY_NAME["max_admin_body_bytes"].default  # 1 MiB


def test_body_over_the_limit_is_413(api: Admin) -> None:
    before = api.store.read_catalog()
    big = json.dumps(NEW_PROVIDER | {"name": "x" * ADMIN_LIMIT}).encode()
    error = api.error("POST", f"{A}/providers", 413, content=big)
    assert error["message"] == f"Request body too large: at most {ADMIN_LIMIT} bytes"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield b'{"slug": "acme", "name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    error = api.error("POST", f"{A}/providers", 413, content=chunks())
    assert error["message"] == f"Request body too large: at most {ADMIN_LIMIT} bytes"
    api.error("PATCH", f"{MAVERICK_EP}/deepinfra/fp8", 413, content=big)
    assert api.store.read_catalog() == before
    # Just under the limit is read (and here refused for its content, not its size).
    error = api.error("POST", f"{A}/providers", 400, content=json.dumps(
        NEW_PROVIDER | {"name": "x" * (ADMIN_LIMIT - 300)}).encode())
    assert problems(error) == {"name": "longer than 256 characters"}


def test_body_limits_are_settings(database_url: str) -> None:
    for api in make_admin(database_url, max_admin_body_bytes=1000, max_ingest_body_bytes=3000):
        body = json.dumps(NEW_PROVIDER | {"name": "x" * 1000}).encode()
        error = api.error("POST", f"{A}/providers", 413, content=body)
        assert error["message"] == "Request body too large: at most 1000 bytes"
        assert api.call("POST", f"{A}/providers", 201, json=NEW_PROVIDER)["data"]["slug"]
        outcome = {"model_id": "qwen/qwen3-235b-a22b-thinking-2507", "tag": "chutes",
                   "result": "success"}
        small = {"outcomes": [outcome] * 20}  # about 1.7 KB: over the admin limit, not this one
        assert len(json.dumps(small)) > 1000
        auth = {"Authorization": f"Bearer {api.admin_key}"}
        r = api.client.post("/api/v1/admin/outcomes", json=small, headers=auth)
        assert r.status_code == 200 and r.json()["data"]["accepted"] == 20
        r = api.client.post("/api/v1/admin/outcomes", json={"outcomes": [outcome] * 40},
                            headers=auth)
        body = assert_envelope(r, 413)
        assert body["error"]["message"] == "Request body too large: at most 3000 bytes"


# -- 404, 409, references, identity --------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body", "message"), [
    ("GET", f"{A}/providers/nobody", None, "Provider nobody not found"),
    ("PUT", f"{A}/providers/nobody", {"name": "x"}, "Provider nobody not found"),
    ("PATCH", f"{A}/providers/nobody", {"name": "x"}, "Provider nobody not found"),
    ("DELETE", f"{A}/providers/nobody", None, "Provider nobody not found"),
    ("GET", f"{A}/models/nobody/nothing", None, "Model nobody/nothing not found"),
    ("PUT", f"{A}/models/nobody/nothing", {"name": "x", "created": 1},
     "Model nobody/nothing not found"),
    ("PATCH", f"{A}/models/nobody/nothing", {"name": "x"}, "Model nobody/nothing not found"),
    ("DELETE", f"{A}/models/nobody/nothing", None, "Model nobody/nothing not found"),
    ("GET", f"{A}/models/nobody/nothing/endpoints", None, "Model nobody/nothing not found"),
    ("POST", f"{A}/models/nobody/nothing/endpoints", NEW_ENDPOINT,
     "Model nobody/nothing not found"),
    ("GET", f"{A}/models/nobody/nothing/endpoints/deepinfra", None,
     "Model nobody/nothing not found"),
    ("GET", f"{MAVERICK_EP}/deepinfra/int4", None,
     f"Model {MAVERICK} has no endpoint tagged deepinfra/int4"),
    ("PUT", f"{MAVERICK_EP}/deepinfra/int4", NEW_ENDPOINT | {"tag": "deepinfra/int4"},
     f"Model {MAVERICK} has no endpoint tagged deepinfra/int4"),
    ("PATCH", f"{MAVERICK_EP}/deepinfra", {"context_length": 5},
     f"Model {MAVERICK} has no endpoint tagged deepinfra"),
    ("DELETE", f"{MAVERICK_EP}/deepinfra/int4", None,
     f"Model {MAVERICK} has no endpoint tagged deepinfra/int4"),
    ("POST", f"{MAVERICK_EP}/deepinfra/int4/disable", None,
     f"Model {MAVERICK} has no endpoint tagged deepinfra/int4"),
    ("POST", f"{MAVERICK_EP}/deepinfra/int4/enable", None,
     f"Model {MAVERICK} has no endpoint tagged deepinfra/int4"),
])
def test_unknown_records_are_404(api: Admin, method: str, path: str, body: Any,
                                 message: str) -> None:
    before = api.store.read_catalog()
    assert api.error(method, path, 404, json=body)["message"] == message
    assert api.store.read_catalog() == before


def test_duplicates_are_409(api: Admin) -> None:
    before = api.store.read_catalog()
    error = api.error("POST", f"{A}/providers", 409,
                      json={"slug": "deepinfra", "name": "Another DeepInfra"})
    assert error["message"] == "Provider deepinfra already exists"
    error = api.error("POST", f"{A}/models", 409, json=NEW_MODEL | {"id": MAVERICK})
    assert error["message"] == f"Model {MAVERICK} already exists"
    # Model ids are unique regardless of case.
    error = api.error("POST", f"{A}/models", 409, json=NEW_MODEL | {"id": MAVERICK.upper()})
    assert error["message"] == f"Model {MAVERICK} already exists"
    error = api.error("POST", MAVERICK_EP, 409, json=NEW_ENDPOINT | {"tag": "novita/fp8",
                                                                     "provider": "novita"})
    assert error["message"] == f"Model {MAVERICK} already has an endpoint tagged novita/fp8"
    # An endpoint without a tag is tagged with its provider's slug.
    error = api.error("POST", MAVERICK_EP, 409,
                      json={k: v for k, v in NEW_ENDPOINT.items() if k != "tag"}
                      | {"provider": "amazon-bedrock"})
    assert error["message"] == f"Model {MAVERICK} already has an endpoint tagged amazon-bedrock"
    assert api.store.read_catalog() == before


def test_unknown_provider_references_are_refused(api: Admin) -> None:
    before = api.store.read_catalog()
    error = api.error("POST", MAVERICK_EP, 400, json=NEW_ENDPOINT | {"provider": "nobody",
                                                                     "tag": "nobody"})
    assert problems(error) == {"provider": "unknown provider 'nobody'"}
    error = api.error("POST", f"{A}/models", 400, json=NEW_MODEL | {
        "endpoints": [NEW_ENDPOINT, NEW_ENDPOINT | {"provider": "nobody", "tag": "nobody"}]})
    assert problems(error) == {"endpoints[1].provider": "unknown provider 'nobody'"}
    error = api.error("PATCH", f"{MAVERICK_EP}/amazon-bedrock", 400, json={"provider": "nobody"})
    assert problems(error) == {"provider": "unknown provider 'nobody'"}
    error = api.error("PATCH", f"{A}/models/{MAVERICK}", 400,
                      json={"endpoints": [NEW_ENDPOINT | {"provider": "acme"}]})
    assert problems(error) == {"endpoints[0].provider": "unknown provider 'acme'"}
    assert api.store.read_catalog() == before
    # Once the provider exists, the same endpoint is accepted.
    api.call("POST", f"{A}/providers", 201, json=NEW_PROVIDER)
    api.call("POST", MAVERICK_EP, 201, json=NEW_ENDPOINT | {"provider": "acme", "tag": "acme"})
    wire = api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"]
    assert wire[-1]["provider_name"] == "Acme Cloud" and wire[-1]["tag"] == "acme"


@pytest.mark.parametrize(("method", "path", "body", "field", "message"), [
    ("PUT", f"{A}/providers/deepinfra", {"slug": "deepinfra2", "name": "x"}, "slug",
     "A provider's slug cannot be changed (it is 'deepinfra', the body says 'deepinfra2')"),
    ("PATCH", f"{A}/providers/deepinfra", {"slug": "other"}, "slug",
     "A provider's slug cannot be changed (it is 'deepinfra', the body says 'other')"),
    ("PUT", f"{A}/models/{MAVERICK}", {"id": "meta-llama/llama-5", "name": "x", "created": 1},
     "id", (f"A model's id cannot be changed (it is '{MAVERICK}', the body says "
            "'meta-llama/llama-5')")),
    # A change of case is a change of id too (and once crashed on the unique index).
    ("PUT", f"{A}/models/{MAVERICK}", {"id": MAVERICK.upper(), "name": "x", "created": 1},
     "id", (f"A model's id cannot be changed (it is '{MAVERICK}', the body says "
            f"'{MAVERICK.upper()}')")),
    ("PATCH", f"{A}/models/{MAVERICK}", {"id": MAVERICK.upper()}, "id",
     f"A model's id cannot be changed (it is '{MAVERICK}', the body says '{MAVERICK.upper()}')"),
    ("PUT", f"{MAVERICK_EP}/deepinfra/fp8", NEW_ENDPOINT, "tag",
     "An endpoint's tag cannot be changed (it is 'deepinfra/fp8', the body says 'deepinfra/fp4')"),
    ("PATCH", f"{MAVERICK_EP}/deepinfra/fp8", {"tag": "deepinfra"}, "tag",
     "An endpoint's tag cannot be changed (it is 'deepinfra/fp8', the body says 'deepinfra')"),
])
def test_changing_an_identity_field_is_refused(api: Admin, method: str, path: str, body: Any,
                                               field: str, message: str) -> None:
    before = api.store.read_catalog()
    error = api.error(method, path, 400, json=body)
    assert error["message"] == message
    assert [p["path"] for p in error["metadata"]["problems"]] == [field]
    assert api.store.read_catalog() == before


def test_a_model_reached_through_another_case_keeps_its_id(api: Admin) -> None:
    body = api.call("PATCH", f"{A}/models/{MAVERICK.upper()}", 200, json={"name": "Maverick"})
    assert body["data"]["id"] == MAVERICK
    assert api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["name"] == "Maverick"
    api.call("POST", f"{A}/models/{MAVERICK.upper()}/endpoints/deepinfra/fp8/disable", 200)
    assert api.discovery(f"/models/{MAVERICK}/endpoints")["data"]["endpoints"][0]["status"] == -10


def test_failed_writes_leave_the_catalog_and_its_version_unchanged(api: Admin) -> None:
    """Failures found inside the write transaction roll it back whole."""
    before: Catalog = api.store.read_catalog()
    version = api.store.versions()["catalog"]
    served = api.discovery(f"/models/{MAVERICK}/endpoints")
    failures: list[tuple[str, str, Any, int]] = [
        ("DELETE", f"{A}/providers/deepinfra", None, 409),
        ("POST", f"{A}/models", NEW_MODEL | {"id": MAVERICK}, 409),
        ("PUT", f"{A}/models/{MAVERICK}", {"name": "x", "created": 1,
                                          "endpoints": [NEW_ENDPOINT | {"provider": "x"}]}, 400),
        ("PATCH", f"{A}/models/{MAVERICK}", {"endpoints": [NEW_ENDPOINT, NEW_ENDPOINT]}, 400),
        ("PATCH", f"{A}/models/{MAVERICK}", {"id": "a/b"}, 400),
        ("PATCH", f"{MAVERICK_EP}/deepinfra/fp8", {"pricing": {"prompt": "x"}}, 400),
        ("POST", MAVERICK_EP, NEW_ENDPOINT | {"tag": "amazon-bedrock"}, 409),
        ("PATCH", f"{A}/providers/deepinfra", {"base_url": "nope"}, 400),
    ]
    for method, path, body, status in failures:
        api.call(method, path, status, json=body)
    assert api.store.read_catalog() == before
    assert api.store.versions()["catalog"] == version
    assert api.discovery(f"/models/{MAVERICK}/endpoints") == served


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JSONFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_keys_never_reach_responses_or_logs(api: Admin) -> None:
    collect = Collect()
    logger = logging.getLogger("routeyard")
    logger.addHandler(collect)
    try:
        api.call("POST", f"{A}/providers", 201, json=NEW_PROVIDER)
        api.call("PATCH", f"{A}/providers/acme", 200, json={"name": "Acme 2"})
        api.error("POST", f"{A}/providers", 403, json=NEW_PROVIDER, key="read")
        api.error("POST", f"{A}/providers", 400, content=b"{")
        api.client.app.access_log.flush()  # type: ignore[attr-defined]  # written in batches
    finally:
        logger.removeHandler(collect)
    text = "\n".join(collect.lines)
    assert "/api/v1/admin/providers" in text  # the access log is there ...
    for key in (api.admin_key, api.read_key):
        assert key[9:] not in text  # ... without the keys


# -- documentation -------------------------------------------------------------------


def test_every_admin_route_is_in_the_docs_and_the_openapi_document() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    document = json.loads((ROOT / "src" / "routeyard" / "api" / "openapi.json").read_text())
    accounting_admin = [r for r in accounting.routes
                        if isinstance(r, Route) and r.path.startswith("/api/v1/admin/")]
    for route in [*admin.routes, *accounting_admin, *admin_keys.routes]:
        assert isinstance(route, Route)
        template = route.path.removeprefix("/api/v1").replace("{tag:path}", "{tag}")
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            assert f"`{method} {route.path}`" in text, f"{method} {route.path} not in docs/api.md"
            operation = document["paths"][template][method.lower()]
            assert operation["tags"] == ["Admin"]
            assert operation["security"] == [{"bearer": []}]
            assert "admin-scoped key" in operation["description"]
            assert {"401", "403", "500", "503"} <= set(operation["responses"])
            if method in ("PUT", "PATCH") or (method == "POST" and "able" not in route.path):
                assert {"400", "413"} <= set(operation["responses"]), (method, template)
    admin_paths = {p for p in document["paths"] if p.startswith("/admin/")}
    assert admin_paths == {route.path.removeprefix("/api/v1").replace("{tag:path}", "{tag}")
                           for route in [*admin.routes, *ingest.routes, *accounting_admin,
                                         *admin_keys.routes]
                           if isinstance(route, Route)}


# -- across processes ----------------------------------------------------------------


def test_a_change_through_server_a_is_served_by_server_b_within_two_seconds(
    database_url: str, tmp_path: Path
) -> None:
    store = Store(database_url)
    store.ensure_schema()
    admin_key, _ = store.create_key("ops", "admin")
    read_key, _ = store.create_key("reader", "read")
    store.dispose()
    a = Server(database_url, tmp_path)  # loads the starter catalog before b starts
    b = Server(database_url, tmp_path)
    try:
        admin_auth = {"Authorization": f"Bearer {admin_key}"}
        read_auth = {"Authorization": f"Bearer {read_key}"}
        url = f"/api/v1/models/{MAVERICK}/endpoints"
        assert httpx.get(b.base + url, headers=read_auth).json()["data"]["endpoints"][0][
            "status"] == 0
        # A real HTTP round trip of the admin API, with a tag holding a slash.
        r = httpx.post(f"{a.base}{MAVERICK_EP}/deepinfra/fp8/disable", headers=admin_auth)
        started = time.monotonic()
        assert r.status_code == 200 and r.json()["data"]["disabled"] is True
        assert httpx.get(a.base + url, headers=read_auth).json()["data"]["endpoints"][0][
            "status"] == -10  # at once on A
        seen = None
        while time.monotonic() - started < 2.0:
            wire = httpx.get(b.base + url, headers=read_auth).json()["data"]["endpoints"]
            if wire[0]["status"] == -10:
                seen = time.monotonic() - started
                break
            time.sleep(0.01)
        print(f"\nadmin change on server A seen by server B after "
              f"{'%.0f ms' % (seen * 1000) if seen is not None else 'more than 2 s'}")
        assert seen is not None and seen < 2.0
        # And a read key is refused by the real server too.
        r = httpx.post(f"{b.base}{MAVERICK_EP}/deepinfra/fp8/enable", headers=read_auth)
        assert r.status_code == 403 and r.json()["error"]["message"] == FORBIDDEN
    finally:
        a.stop()
        b.stop()
    for server in (a, b):
        log = server.log_path.read_text(errors="replace")
        assert admin_key not in log and read_key not in log
        assert "Traceback" not in log


# -- optimistic concurrency: ETag and If-Match ----------------------------------------


def _raw(api: Admin, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api.admin_key}", **kwargs.pop("headers", {})}
    return api.client.request(method, path, headers=headers, **kwargs)


@pytest.mark.parametrize("path", [
    f"{A}/providers", f"{A}/providers/deepinfra", f"{A}/models", f"{A}/models/{MAVERICK}",
    MAVERICK_EP, f"{MAVERICK_EP}/deepinfra/fp8",
])
def test_every_admin_read_has_an_etag_of_its_data(api: Admin, path: str) -> None:
    r = _raw(api, "GET", path)
    assert r.status_code == 200
    assert r.headers["etag"] == admin.etag(r.json()["data"])
    assert re.fullmatch(r'"[0-9a-f]{32}"', r.headers["etag"])
    assert _raw(api, "GET", path).headers["etag"] == r.headers["etag"]  # stable


@pytest.mark.parametrize(("path", "patch"), [
    (f"{A}/providers/deepinfra", {"name": "DeepInfra (renamed)"}),
    (f"{A}/models/{MAVERICK}", {"description": "Changed."}),
    (f"{MAVERICK_EP}/deepinfra/fp8", {"pricing": {"prompt": "0.000009"}}),
])
def test_if_match_is_honoured_and_a_stale_one_is_412(api: Admin, path: str,
                                                     patch: dict[str, Any]) -> None:
    first = _raw(api, "GET", path).headers["etag"]
    changed = _raw(api, "PATCH", path, json=patch, headers={"If-Match": first})
    assert changed.status_code == 200, changed.text
    second = changed.headers["etag"]
    assert second != first and second == admin.etag(changed.json()["data"])
    assert _raw(api, "GET", path).headers["etag"] == second
    before = api.store.read_catalog()
    # A client that read before that change writes with the old tag: refused, nothing stored.
    for method, body in (("PATCH", patch), ("DELETE", None)):
        error = api.error(method, path, 412, json=body, headers={"If-Match": first})
        assert "If-Match" in error["message"] and error["metadata"]["etag"] == second
    assert api.store.read_catalog() == before
    # One of several tags, or *, matches.
    assert _raw(api, "PATCH", path, json=patch,
                headers={"If-Match": f'"0000", {second}'}).status_code == 200
    assert _raw(api, "PATCH", path, json=patch, headers={"If-Match": "*"}).status_code == 200
    # A weak tag never matches (strong comparison).
    assert _raw(api, "PATCH", path, json=patch,
                headers={"If-Match": "W/" + second}).status_code == 412


def test_disable_and_create_answers_carry_the_new_etag(api: Admin) -> None:
    path = f"{MAVERICK_EP}/deepinfra/fp8"
    stale = _raw(api, "GET", path).headers["etag"]
    r = _raw(api, "POST", path + "/disable", headers={"If-Match": stale})
    assert r.status_code == 200 and r.json()["data"]["disabled"] is True
    assert r.headers["etag"] == _raw(api, "GET", path).headers["etag"] != stale
    assert api.error("POST", path + "/enable", 412, headers={"If-Match": stale})
    created = _raw(api, "POST", f"{A}/providers", json=NEW_PROVIDER)
    assert created.status_code == 201
    assert created.headers["etag"] == _raw(api, "GET", f"{A}/providers/acme").headers["etag"]
