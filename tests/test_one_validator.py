"""One validator for every door (issue 13, issue 14 item 6): the admin API, `catalog apply`
and `catalog import` accept and refuse the same values, what they accept is stored the same
on SQLite and PostgreSQL, and an export of it applies again unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from routeyard.app import create_app
from routeyard.catalog import declarative
from routeyard.errors import CatalogError
from routeyard.models import Catalog
from routeyard.store import Store
from tests.conftest import fresh_database_url, run_cli, settings_for

CREDENTIALS = {"slug": "acme", "name": "Acme",
               "base_url": "https://user:secret@api.acme.example/v1",
               "api_key_env": "sk-live-0123456789abcdef"}


def catalog_file(tmp_path: Path, providers: list[dict[str, Any]],
                 models: list[dict[str, Any]] | None = None) -> Path:
    path = tmp_path / "catalog.toml"
    data: dict[str, Any] = {"format": "routeyard-catalog", "version": 1, "providers": providers}
    if models:
        data["models"] = models
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.mark.parametrize("command", [("catalog", "apply"),
                                     ("catalog", "import", "--format", "routeyard")])
def test_catalog_apply_and_import_refuse_credentials(database_url: str, tmp_path: Path,
                                                     command: tuple[str, ...]) -> None:
    run_cli(database_url, "db", "upgrade")
    done = run_cli(database_url, *command, str(catalog_file(tmp_path, [CREDENTIALS])),
                   check=False)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "base_url: must not contain credentials" in out, out
    assert "api_key_env: expected the NAME of an environment variable" in out, out
    assert "secret" not in out and "sk-live" not in out, out
    assert "Traceback" not in out
    store = Store(database_url)
    assert store.read_provider("acme") is None
    store.dispose()


BAD_NAME = {"slug": "acme", "name": "Acme\x00Cloud"}
LONG_PRICE = 10**31  # 32 digits: the string rule allows 30


def endpoint(price: object) -> dict[str, Any]:
    return {"id": "acme/rocket", "name": "Rocket", "created": 1800000000,
            "endpoints": [{"provider": "deepinfra", "context_length": 4096,
                           "pricing": {"prompt": price, "completion": "0"}}]}


@pytest.mark.parametrize(("providers", "models", "expected"), [
    ([BAD_NAME], None, "providers[0].name: contains a NUL character"),
    ([], [endpoint(LONG_PRICE)], "not a plain decimal number of at most 30 digits"),
    ([], [endpoint(10**70)], "not a plain decimal number of at most 30 digits"),
])
def test_catalog_apply_refuses_what_the_admin_api_refuses_in_one_line(
        database_url: str, tmp_path: Path, providers: list[dict[str, Any]],
        models: list[dict[str, Any]] | None, expected: str) -> None:
    run_cli(database_url, "catalog", "load-starter")
    done = run_cli(database_url, "catalog", "apply",
                   str(catalog_file(tmp_path, providers, models)), check=False)
    assert done.returncode == 1
    assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    store = Store(database_url)
    assert store.read_provider("acme") is None and store.read_model("acme/rocket") is None
    store.dispose()


# -- the property: every door agrees, both databases store alike, export round-trips --------

texts = st.one_of(st.text(max_size=10), st.sampled_from([
    "Acme", "\x00", "a\x00b", "\ud800", "x@y", "ACME_API_KEY", "sk-abc 123", "", "é"]))
urls = st.one_of(st.none(), st.sampled_from([
    "https://api.acme.example/v1", "https://u:p@api.acme.example/v1", "https://key@x.example",
    "http://[::1", "ftp://x", "https://x.example/\x00"]), texts)
prices = st.one_of(
    st.integers(min_value=-5, max_value=10**40),
    st.sampled_from(["0", "0.0000001", "1" * 30, "1" * 31, "0." + "1" * 30, "0." + "1" * 31,
                     "-1", "1e-7", "\x00"]),
)
params = st.dictionaries(texts, st.one_of(st.none(), st.integers(min_value=-(10**35),
                                                                 max_value=10**35),
                                          st.floats(allow_nan=False, width=32),
                                          st.sampled_from(["0.7", "1e3", "x"])), max_size=3)


def plain(value: Any) -> Any:
    """``value`` with the None fields TOML cannot carry dropped."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@pytest.fixture(scope="module")
def doors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An admin API on SQLite, and a SQLite and a PostgreSQL store, made once."""
    tmp = tmp_path_factory.mktemp("doors")
    stores = {}
    for backend in ("sqlite", "postgresql"):
        try:
            url = fresh_database_url(backend, tmp / backend)
        except pytest.skip.Exception:
            continue
        (tmp / backend).mkdir(exist_ok=True)
        stores[backend] = Store(url)
        stores[backend].ensure_schema()
    api_store = Store(fresh_database_url("sqlite", tmp))
    api_store.ensure_schema()
    key, _ = api_store.create_key("ops", "admin")
    with TestClient(create_app(settings_for(api_store.url, refresh_interval=60),
                               store=api_store)) as client:
        yield {"client": client, "key": key, "stores": stores, "api_store": api_store}
    for s in [*stores.values(), api_store]:
        s.dispose()


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=texts, base_url=urls, env=st.one_of(st.none(), texts), price=prices,
       default_parameters=params)
def test_every_door_accepts_the_same_and_stores_alike(
        doors: dict[str, Any], name: str, base_url: str | None, env: str | None, price: Any,
        default_parameters: dict[str, Any]) -> None:
    provider = plain({"slug": "door", "name": name, "base_url": base_url, "api_key_env": env})
    model = plain({"id": "door/model", "name": "Door", "created": 1800000000,
                   "default_parameters": default_parameters or None,
                   "endpoints": [{"provider": "door", "context_length": 4096,
                                  "pricing": {"prompt": price, "completion": "0"}}]})
    client, auth = doors["client"], {"Authorization": f"Bearer {doors['key']}"}
    client.delete("/api/v1/admin/models/door/model", headers=auth)
    client.delete("/api/v1/admin/providers/door", headers=auth)
    # The admin API's door (JSON).
    auth["Content-Type"] = "application/json"
    r1 = client.post("/api/v1/admin/providers", content=json.dumps(provider), headers=auth)
    r2 = client.post("/api/v1/admin/models", content=json.dumps(model), headers=auth) \
        if r1.status_code == 201 else None
    assert r1.status_code in (201, 400) and (r2 is None or r2.status_code in (201, 400)), (
        r1.text, r2 and r2.text)
    api_accepts = r1.status_code == 201 and r2 is not None and r2.status_code == 201
    # The catalog file's door (TOML), as `catalog apply` and `catalog import` read it.
    try:
        text = tomli_w.dumps({"format": "routeyard-catalog", "version": 1,
                              "providers": [provider], "models": [model]})
    except (ValueError, TypeError, UnicodeEncodeError):
        text = None  # TOML cannot carry it (a lone surrogate); JSON could
    parsed: Catalog | None = None
    if text is not None:
        try:
            parsed = declarative.parse_text(text, "property")
        except CatalogError:
            parsed = None
        assert (parsed is not None) == api_accepts, (provider, model, r1.text,
                                                     r2 and r2.text)
    if not api_accepts:
        return
    stored_api = doors["api_store"].read_model("door/model")
    assert stored_api is not None
    if parsed is None:
        return
    # Both databases store it alike, and alike to what the admin API stored.
    seen = []
    for store in doors["stores"].values():
        store.apply_catalog(parsed, prune=True, overwrite=True, source="admin-api")
        back = store.read_catalog()
        seen.append((back.providers, back.models))
        # The export applies again unchanged.
        again = declarative.parse_text(declarative.dump(back), "export")
        assert store.apply_catalog(again, prune=True, overwrite=True).changed is False
    assert all(s == seen[0] for s in seen)
    assert declarative.model_dict(stored_api) == declarative.model_dict(seen[0][1][0])
    assert declarative.provider_dict(doors["api_store"].read_provider("door")) == \
        declarative.provider_dict(seen[0][0][0])
