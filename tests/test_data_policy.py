"""Data policy of providers and endpoints: the catalog file, the database, the admin API,
export and the OpenRouter importer (docs/catalog-format.md, "Data policy")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routeyard.catalog import declarative
from routeyard.catalog.importers import openrouter
from routeyard.errors import CatalogError
from routeyard.models import DataPolicy, Endpoint, Pricing, Provider
from routeyard.store import Store
from tests.test_admin_api import A, Admin, make_admin, problems

FILE = """
format = "routeyard-catalog"
version = 1

[[providers]]
slug = "acme"
name = "Acme"
data_policy = { training = false, retains_prompts = true, retention_days = 30 }

[[providers]]
slug = "trainer"
name = "Trainer"
data_policy = { training = true }

[[models]]
id = "acme/one"
name = "Acme: One"
created = 1

[[models.endpoints]]
provider = "acme"
context_length = 1000
pricing = { prompt = "0.000001", completion = "0.000002" }

[[models.endpoints]]
provider = "acme"
tag = "acme/zdr"
context_length = 1000
data_policy = { retains_prompts = false, retention_days = 0 }
pricing = { prompt = "0.000001", completion = "0.000002" }

[[models.endpoints]]
provider = "trainer"
context_length = 1000
pricing = { prompt = "0.000001", completion = "0.000002" }
"""


def _endpoints(text: str = FILE) -> tuple[dict[str, Provider], dict[str, Endpoint]]:
    catalog = declarative.parse_text(text, "test.toml")
    return catalog.provider_map(), {e.tag: e for e in catalog.models[0].endpoints}


def test_endpoint_policy_overrides_its_providers_field_by_field() -> None:
    providers, eps = _endpoints()
    acme = eps["acme"].policy(providers["acme"])
    assert acme == DataPolicy(training=False, retains_prompts=True, retention_days=30)
    assert not acme.is_zdr
    zdr = eps["acme/zdr"].policy(providers["acme"])
    assert zdr == DataPolicy(training=False, retains_prompts=False, retention_days=0)
    assert zdr.is_zdr  # derived: neither trains nor retains
    assert eps["trainer"].policy(providers["trainer"]).training is True
    # Nothing known: unknown, and not zero data retention.
    bare = Endpoint(provider="x", tag="x", context_length=1, pricing=Pricing(prompt="0", completion="0"))
    assert bare.policy(None) == DataPolicy() and not bare.policy(None).is_zdr
    # An explicit zdr = false wins over what the other fields suggest.
    assert not DataPolicy(training=False, retains_prompts=False, zdr=False).is_zdr


def test_catalog_file_round_trips_the_data_policy() -> None:
    catalog = declarative.parse_text(FILE, "test.toml")
    again = declarative.parse_text(declarative.dump(catalog), "again.toml")
    assert again == catalog
    text = declarative.dump(catalog)
    assert "retention_days = 30" in text and "retains_prompts = false" in text


@pytest.mark.parametrize(("policy", "path", "message"), [
    ("{ trains = true }", "providers[0].data_policy.trains", "unknown field"),
    ('{ training = "no" }', "providers[0].data_policy.training", "expected boolean, got str"),
    ("{ retention_days = -1 }", "providers[0].data_policy.retention_days", "must be non-negative"),
    ("{ zdr = true, training = true }", "providers[0].data_policy.zdr", "contradicts"),
])
def test_bad_data_policy_is_refused_with_its_path(policy: str, path: str, message: str) -> None:
    text = FILE.replace("data_policy = { training = false, retains_prompts = true, "
                        "retention_days = 30 }", f"data_policy = {policy}")
    with pytest.raises(CatalogError) as caught:
        declarative.parse_text(text, "t.toml")
    found = {where.removeprefix("t.toml: "): msg for where, msg in caught.value.problems}
    assert path in found and message in found[path], found


def test_database_stores_the_data_policy(store: Store) -> None:
    catalog = declarative.parse_text(FILE, "test.toml")
    store.apply_catalog(catalog)
    read = store.read_catalog()
    providers = read.provider_map()
    assert providers["acme"].data_policy == DataPolicy(training=False, retains_prompts=True,
                                                       retention_days=30)
    eps = {e.tag: e for e in read.models[0].endpoints}
    assert eps["acme/zdr"].data_policy == DataPolicy(retains_prompts=False, retention_days=0)
    assert eps["acme"].data_policy is None
    # Changing only the policy is an update, and it sticks.
    changed = declarative.parse_text(FILE.replace("retention_days = 30", "retention_days = 7"),
                                     "test.toml")
    diff = store.apply_catalog(changed)
    assert diff.updated == ["provider acme"]
    policy = store.read_catalog().provider_map()["acme"].data_policy
    assert policy is not None and policy.retention_days == 7


@pytest.fixture
def api(database_url: str) -> Iterator[Admin]:
    yield from make_admin(database_url)


def test_admin_api_sets_reads_and_exports_the_data_policy(api: Admin) -> None:
    provider = {"slug": "acme", "name": "Acme", "data_policy": {"training": False, "zdr": True}}
    assert api.call("POST", f"{A}/providers", 201, json=provider)["data"] == provider
    assert api.call("GET", f"{A}/providers/acme", 200)["data"] == provider
    patched = api.call("PATCH", f"{A}/providers/acme", 200,
                       json={"data_policy": {"retention_days": 0}})
    assert patched["data"]["data_policy"] == {"training": False, "zdr": True, "retention_days": 0}
    model = {"id": "acme/one", "name": "Acme: One", "created": 1, "endpoints": [{
        "provider": "acme", "context_length": 10, "data_policy": {"zdr": False},
        "pricing": {"prompt": "0", "completion": "0"}}]}
    api.call("POST", f"{A}/models", 201, json=model)
    ep = api.call("GET", f"{A}/models/acme/one/endpoints/acme", 200)["data"]
    assert ep["data_policy"] == {"zdr": False}
    exported = declarative.dump(api.store.read_catalog())
    assert "data_policy" in exported
    stored = api.store.read_catalog()
    assert stored.models[0].endpoints[0].policy(stored.provider_map()["acme"]) == DataPolicy(
        training=False, retention_days=0, zdr=False)
    # Bad input: 400 naming the field, nothing stored.
    error = api.error("PATCH", f"{A}/providers/acme", 400,
                      json={"data_policy": {"retention_days": "forever"}})
    assert problems(error) == {"data_policy.retention_days": "expected integer, got str"}
    assert api.call("GET", f"{A}/providers/acme", 200)["data"]["data_policy"]["retention_days"] == 0


def test_openrouter_importer_reads_an_endpoints_data_policy() -> None:
    doc = {"data": {"id": "acme/one", "name": "Acme: One", "created": 1, "description": "",
                    "architecture": {}, "endpoints": [{
                        "tag": "acme", "provider_name": "Acme", "context_length": 10,
                        "pricing": {"prompt": "0", "completion": "0"},
                        "data_policy": {"training": False, "retainsPrompts": True,
                                        "retentionDays": 30, "requiresUserIDs": False},
                    }]}}
    imported = openrouter.convert(doc, "x.json", source="openrouter:x.json")
    ep = imported.models[0]["endpoints"][0]
    assert ep["data_policy"] == {"training": False, "retains_prompts": True, "retention_days": 30}
    assert any("data_policy.requiresUserIDs ignored" in n for n in imported.notes)
