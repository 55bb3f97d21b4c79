"""Key preferences (both backends): stored per key, set through the CLI and the admin API,
applied by GET /api/v1/models/user, and offered to the router as pure defaults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openrouter import OpenRouter
from starlette.testclient import TestClient

from routeyard.app import create_app
from routeyard.catalog.declarative import read_starter
from routeyard.models import Catalog
from routeyard.preferences import NONE, KeyPreferences, endpoint_allowed
from routeyard.store import Store
from tests.conftest import Server, run_cli, settings_for
from tests.schemas import validate_response
from tests.test_api import assert_envelope


def expected_ids(catalog: Catalog, prefs: KeyPreferences) -> list[str]:
    """The ids /models/user should list, newest first (the /models order)."""
    providers = catalog.provider_map()
    chosen = [m for m in catalog.models
              if any(not e.disabled and endpoint_allowed(prefs, e, providers[e.provider])
                     for e in m.endpoints)]
    return [m.id for m in sorted(chosen, key=lambda m: (-m.created, m.id))]


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[TestClient, Store, str, str]]:
    store = Store(database_url)
    store.ensure_schema()
    admin, _ = store.create_key("ops", "admin")
    read, _ = store.create_key("app", "read")
    app = create_app(settings_for(database_url, public_discovery=True), store=store)
    with TestClient(app) as client:
        yield client, store, admin, read
    store.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_preferences_are_stored_per_key_and_read_back(store: Store) -> None:
    prefs = KeyPreferences(ignore=("novita",), quantizations=("fp8",), data_collection="deny",
                           zdr=True)
    _, record = store.create_key("a", "read", prefs=prefs)
    _, other = store.create_key("b", "read")
    assert store.find_key(str(record.id)).preferences == prefs
    assert store.find_key(str(other.id)).preferences == NONE
    assert {r.id: r.preferences for r in store.list_keys()} == {record.id: prefs, other.id: NONE}
    changed = store.update_key_preferences(
        record.prefix, lambda p: KeyPreferences(ignore=(*p.ignore, "azure")))
    assert changed.preferences == KeyPreferences(ignore=("novita", "azure"))
    assert store.find_key(str(record.id)).preferences == changed.preferences


def test_models_user_lists_what_the_keys_preferences_allow(
        served: tuple[TestClient, Store, str, str]) -> None:
    client, _, admin, read = served
    starter = read_starter()
    everything = client.get("/api/v1/models/user", headers=bearer(read)).json()
    assert [m["id"] for m in everything["data"]] == expected_ids(starter, NONE)
    validate_response(everything, "/models/user", spec="2026-08")
    validate_response(everything, "/models/user", spec="routeyard")
    r = client.put("/api/v1/admin/keys/2/preferences",
                   headers=bearer(admin), json={"ignore": ["chutes", "google-ai-studio"]})
    assert r.status_code == 200, r.text
    prefs = KeyPreferences(ignore=("chutes", "google-ai-studio"))
    ids = [m["id"] for m in client.get("/api/v1/models/user", headers=bearer(read)).json()["data"]]
    assert ids == expected_ids(starter, prefs)
    assert len(ids) == len(everything["data"]) - 2  # each was that provider's alone
    r = client.patch("/api/v1/admin/keys/2/preferences", headers=bearer(admin),
                     json={"quantizations": ["fp8"]})
    assert r.json()["data"]["preferences"] == {
        "ignore": ["chutes", "google-ai-studio"], "quantizations": ["fp8"],
        "data_collection": "allow", "zdr": False}
    fp8 = client.get("/api/v1/models/user", headers=bearer(read)).json()
    assert [m["id"] for m in fp8["data"]] == expected_ids(
        starter, KeyPreferences(ignore=prefs.ignore, quantizations=("fp8",)))
    assert 0 < len(fp8["data"]) < len(ids)
    assert fp8["total_count"] == len(fp8["data"])
    # Filters and paging as /models; private caching: the answer is the key's.
    page = client.get("/api/v1/models/user?limit=2", headers=bearer(read))
    assert [m["id"] for m in page.json()["data"]] == [m["id"] for m in fp8["data"][:2]]
    assert page.headers["cache-control"] == "private, no-cache"
    # Another key's list is its own.
    assert len(client.get("/api/v1/models/user", headers=bearer(admin)).json()["data"]) == len(
        everything["data"])


def test_models_user_needs_a_key_even_where_discovery_is_public(
        served: tuple[TestClient, Store, str, str]) -> None:
    client, _, _, _ = served
    assert client.get("/api/v1/models").status_code == 200
    body = assert_envelope(client.get("/api/v1/models/user"), 401)
    assert body["error"]["message"] == "No auth credentials found"
    assert_envelope(client.get("/api/v1/models/user", headers=bearer("sk-ry-v1-" + "2" * 64)),
                    401)


def test_admin_api_refuses_bad_preferences_unknown_keys_and_read_keys(
        served: tuple[TestClient, Store, str, str]) -> None:
    client, store, admin, read = served
    url = "/api/v1/admin/keys/2/preferences"
    for bad in ({"quantizations": ["fp7"]}, {"ignore": ["Not A Slug!"]}, {"zdr": "yes"},
                {"data_collection": "maybe"}, {"colour": "blue"}):
        for method in ("PUT", "PATCH"):
            r = client.request(method, url, headers=bearer(admin), json=bad)
            body = assert_envelope(r, 400)
            assert body["error"]["metadata"]["problems"], bad
    assert store.find_key("2").preferences == NONE  # nothing was written
    assert_envelope(client.put("/api/v1/admin/keys/99/preferences", headers=bearer(admin),
                               json={}), 404)
    assert_envelope(client.get("/api/v1/admin/keys/99/preferences", headers=bearer(admin)), 404)
    assert_envelope(client.put(url, headers=bearer(read), json={}), 403)
    assert_envelope(client.get(url), 401)
    got = client.get(url, headers=bearer(admin)).json()["data"]
    assert got["key"]["id"] == 2 and got["preferences"]["ignore"] == []


def test_cli_creates_and_updates_key_preferences(database_url: str) -> None:
    out = run_cli(database_url, "keys", "create", "--name", "prefs", "--ignore-provider",
                  "Novita", "--ignore-provider", "azure", "--quantization", "fp8",
                  "--data-collection", "deny").stdout
    assert "preferences: ignore=novita,azure, quantizations=fp8, data_collection=deny, zdr=false" in out
    key = out.strip().splitlines()[-1]
    store = Store(database_url)
    try:
        record = store.find_key(key)
        assert record.preferences == KeyPreferences(
            ignore=("novita", "azure"), quantizations=("fp8",), data_collection="deny")
        out = run_cli(database_url, "keys", "update", record.prefix, "--zdr",
                      "--any-quantization").stdout
        assert "zdr=true" in out and "quantizations=," in out
        assert store.find_key(str(record.id)).preferences == KeyPreferences(
            ignore=("novita", "azure"), data_collection="deny", zdr=True)
        bad = run_cli(database_url, "keys", "update", record.prefix, "--quantization", "fp7",
                      check=False)
        assert bad.returncode == 2 and "fp7" not in bad.stdout
        assert "quantizations[0]: expected one of" in bad.stderr
        assert "Traceback" not in bad.stderr
        missing = run_cli(database_url, "keys", "update", "999", "--zdr", check=False)
        assert missing.returncode == 1 and "no key with id or prefix '999'" in missing.stderr
    finally:
        store.dispose()


def test_a_preference_change_is_served_by_a_running_server(database_url: str,
                                                            tmp_path: Path) -> None:
    store = Store(database_url)
    store.ensure_schema()
    key, record = store.create_key("sdk", "read")
    store.dispose()
    server = Server(database_url, tmp_path)
    try:
        with OpenRouter(api_key=key, server_url=f"{server.base}/api/v1") as client:
            before = [m.id for m in client.models.list_for_user(
                security={"bearer": key}).result.data]
            run_cli(database_url, "keys", "update", str(record.id), "--ignore-provider", "chutes",
                    "--ignore-provider", "google-ai-studio")
            # Servers learn of key changes on their refresh (docs/settings.md: within a
            # second); wait for it, bounded, rather than racing the CLI's exit.
            deadline = time.monotonic() + 10
            while True:
                after = [m.id for m in client.models.list_for_user(
                    security={"bearer": key}).result.data]
                if len(after) != len(before) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        assert len(after) == len(before) - 2 and set(after) < set(before)
    finally:
        server.stop()


POLICY_FILE = """
format = "routeyard-catalog"
version = 1

[[providers]]
slug = "keeper"
name = "Keeper"
data_policy = { training = false, retains_prompts = true, retention_days = 30 }

[[providers]]
slug = "trainer"
name = "Trainer"
data_policy = { training = true }

[[providers]]
slug = "forgetful"
name = "Forgetful"
data_policy = { zdr = true }

[[models]]
id = "policy/kept"
name = "Policy: Kept"
created = 3000000000

[[models.endpoints]]
provider = "keeper"
context_length = 1000
pricing = { prompt = "0.000001", completion = "0.000002" }

[[models.endpoints]]
provider = "keeper"
tag = "keeper/zdr"
context_length = 1000
data_policy = { retains_prompts = false }
pricing = { prompt = "0.000001", completion = "0.000002" }

[[models]]
id = "policy/trained"
name = "Policy: Trained"
created = 3000000001

[[models.endpoints]]
provider = "trainer"
context_length = 1000
pricing = { prompt = "0.000001", completion = "0.000002" }

[[models]]
id = "policy/forgotten"
name = "Policy: Forgotten"
created = 3000000002

[[models.endpoints]]
provider = "forgetful"
context_length = 1000
pricing = { prompt = "0.000001", completion = "0.000002" }

[[models.endpoints]]
provider = "forgetful"
tag = "forgetful/off"
context_length = 1000
disabled = true
pricing = { prompt = "0.000001", completion = "0.000002" }
"""


@pytest.fixture
def policies(database_url: str) -> Iterator[tuple[TestClient, Store, str]]:
    from routeyard.catalog import declarative

    store = Store(database_url)
    store.ensure_schema()
    store.apply_catalog(declarative.parse_text(POLICY_FILE, "policy.toml"), prune=True)
    read, _ = store.create_key("app", "read")
    app = create_app(settings_for(database_url, load_starter=False), store=store)
    with TestClient(app) as client:
        yield client, store, read
    store.dispose()


def test_endpoints_zdr_lists_the_enabled_zero_retention_endpoints(
        policies: tuple[TestClient, Store, str]) -> None:
    client, _, read = policies
    body = client.get("/api/v1/endpoints/zdr", headers=bearer(read)).json()
    assert [(e["model_id"], e["tag"]) for e in body["data"]] == [
        ("policy/forgotten", "forgetful"), ("policy/kept", "keeper/zdr")]
    assert body["data"][1]["provider_name"] == "Keeper"
    assert body["data"][1]["name"] == "Keeper | policy/kept"
    validate_response(body, "/endpoints/zdr", spec="2026-08")
    validate_response(body, "/endpoints/zdr", spec="2025-10")
    validate_response(body, "/endpoints/zdr", spec="routeyard")
    r = client.get("/api/v1/endpoints/zdr", headers=bearer(read))
    assert r.headers["cache-control"] == "private, no-cache"
    assert_envelope(client.get("/api/v1/endpoints/zdr"), 401)


def test_data_collection_and_zdr_preferences_filter_models_user(
        policies: tuple[TestClient, Store, str]) -> None:
    client, store, read = policies

    def listed() -> list[str]:
        return [m["id"] for m in
                client.get("/api/v1/models/user", headers=bearer(read)).json()["data"]]

    assert listed() == ["policy/forgotten", "policy/trained", "policy/kept"]
    store.update_key_preferences(read, lambda p: KeyPreferences(
        data_collection="deny"))
    client.app.runtime.refresh()  # type: ignore[attr-defined]
    assert listed() == ["policy/kept"]  # forgotten: training unknown; trained: trains
    store.update_key_preferences(read, lambda p: KeyPreferences(zdr=True))
    client.app.runtime.refresh()  # type: ignore[attr-defined]
    assert listed() == ["policy/forgotten", "policy/kept"]


@pytest.mark.parametrize("key", ["99999999999999999999999", "%00", "x" * 300, "%E2%98%83"])
def test_admin_api_answers_404_for_what_cannot_be_a_key(
        served: tuple[TestClient, Store, str, str], key: str) -> None:
    client, _, admin, _ = served
    for method in ("GET", "PUT", "PATCH"):
        r = client.request(method, f"/api/v1/admin/keys/{key}/preferences",
                           headers=bearer(admin), json={})
        assert_envelope(r, 404)


def test_the_router_applies_a_keys_stored_preferences(database_url: str,
                                                      tmp_path: Path) -> None:
    """A key that ignores a provider never gets a plan with it, whatever the request says;
    another key without preferences does (both through POST /api/v1/router/plan)."""
    store = Store(database_url)
    store.ensure_schema()
    plain, _ = store.create_key("plain", "read")
    picky, record = store.create_key("picky", "read")
    store.dispose()
    run_cli(database_url, "keys", "update", str(record.id), "--ignore-provider", "novita")
    # Both providers routable (their key variables set), so only preferences exclude them.
    server = Server(database_url, tmp_path,
                    env={"NOVITA_API_KEY": "test-only", "DASHSCOPE_API_KEY": "test-only"})
    body = {"model": "qwen/qwen3-coder", "messages": [{"role": "user", "content": "hi"}],
            "provider": {"ignore": ["alibaba"]}}
    try:
        def excluded(key: str) -> dict[str, str]:
            r = httpx.post(f"{server.base}/api/v1/router/plan", json=body,
                           headers={"Authorization": f"Bearer {key}"}, timeout=10)
            assert r.status_code == 200, r.text
            return {e["provider"]: e["reason"] for e in r.json()["data"]["excluded"]}

        assert excluded(picky)["novita"] == "ignored"
        assert excluded(picky)["alibaba"] == "ignored"  # the request's list adds up
        assert "novita" not in excluded(plain)  # planned as an attempt
        assert excluded(plain)["alibaba"] == "ignored"
    finally:
        server.stop()
