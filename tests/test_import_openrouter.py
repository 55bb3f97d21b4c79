"""Importing OpenRouter's own captures and serving them back: every static field round-trips."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from routeyard.app import create_app
from routeyard.catalog.loader import Options, run_import
from routeyard.models import Catalog
from routeyard.store import Store
from tests.conftest import run_cli, settings_for

CAPTURES = Path(__file__).parent / "fixtures" / "openrouter"
QWEN = "endpoints_qwen3-235b-a22b-thinking-2507_2025-07.json"
GEMINI_12 = "endpoints_gemini-2.5-pro-preview_2025-05-12.json"
GEMINI_22 = "endpoints_gemini-2.5-pro-preview_2025-05-22.json"
HERMES = "endpoints_hermes-3-llama-3.1-405b_2025-05_endpoints-array-only.json"
MODELS = "models_2025-07.json"
# Measured or live fields: not part of the catalog.
LIVE = {"status", "uptime_last_30m", "uptime_last_5m", "uptime_last_1d", "latency_last_30m",
        "throughput_last_30m"}


class Num(str):
    """A JSON number kept as the exact text it was written with."""


def raw(text: str | bytes) -> Any:
    """JSON with every number as its literal text, so values compare byte for byte."""
    return json.loads(text, parse_float=Num, parse_int=Num)


def capture(name: str) -> Any:
    return raw((CAPTURES / name).read_text(encoding="utf-8"))


class Served:
    """The real app over ``store``, asked with a read key."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {key}"}

    def get(self, path: str) -> Any:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code == 200, response.text
        return raw(response.content)


@pytest.fixture
def serve(store: Store, database_url: str) -> Iterator[Any]:
    clients: list[TestClient] = []

    def start() -> Served:
        key, _ = store.create_key("roundtrip", "read")
        client = TestClient(create_app(settings_for(database_url, load_starter=False), store=store))
        clients.append(client.__enter__())
        return Served(client, key)

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def assert_static_fields_equal(captured: dict[str, Any], served: dict[str, Any], where: str) -> None:
    for key, value in captured.items():
        if key in LIVE:
            continue
        assert key in served, f"{where}.{key} is not served"
        assert served[key] == value, f"{where}.{key}: served {served[key]!r}, captured {value!r}"
        if key == "pricing":  # byte for byte, key by key, including number literals
            for name, price in value.items():
                assert type(served[key][name]) is type(price) and served[key][name] == price


def assert_endpoints_body_round_trips(captured: dict[str, Any], served: dict[str, Any]) -> None:
    for key in ("id", "name", "created", "description", "architecture"):
        if key in captured:
            assert served[key] == captured[key], key
    cap_eps, out_eps = captured["endpoints"], served["endpoints"]
    assert [e["name"] for e in out_eps] == [e["name"] for e in cap_eps]  # order too
    for i, (c, s) in enumerate(zip(cap_eps, out_eps, strict=True)):
        assert_static_fields_equal(c, s, f"endpoints[{i}]")


def test_qwen_2025_07_round_trips(store: Store, serve: Any) -> None:
    run_import(store, "openrouter", [str(CAPTURES / QWEN)])
    served = serve().get("/api/v1/models/qwen/qwen3-235b-a22b-thinking-2507/endpoints")["data"]
    assert_endpoints_body_round_trips(capture(QWEN)["data"], served)
    assert [e["tag"] for e in served["endpoints"]] == [
        "chutes", "deepinfra/fp8", "novita/fp8", "parasail/fp8", "alibaba"]
    # Fields the 2025-07 capture lacks get the documented defaults.
    assert all(e["supports_implicit_caching"] is False for e in served["endpoints"])
    assert served["endpoints"][0]["model_name"] == "Qwen: Qwen3 235B A22B Thinking 2507"


@pytest.mark.parametrize("name", [GEMINI_12, GEMINI_22])
def test_gemini_captures_round_trip_and_get_the_same_tags(store: Store, serve: Any, name: str) -> None:
    run_import(store, "openrouter", [str(CAPTURES / name)])
    served = serve().get("/api/v1/models/google/gemini-2.5-pro-preview/endpoints")["data"]
    assert_endpoints_body_round_trips(capture(name)["data"], served)
    # The 05-12 capture has no tags: the derived ones are those OpenRouter sent 10 days later.
    assert [e["tag"] for e in served["endpoints"]] == ["google-vertex", "google-ai-studio"]
    # The permaslug in the endpoint names is kept apart from the model id.
    assert served["endpoints"][0]["name"] == "Google | google/gemini-2.5-pro-preview-03-25"


def test_bare_endpoints_array_takes_its_model_from_the_names_or_model_option(
        store: Store, serve: Any) -> None:
    outcome = run_import(store, "openrouter", [str(CAPTURES / HERMES)])
    assert any("taken from the endpoint names" in n for n in outcome.plan.notes)
    served = serve().get("/api/v1/models/nousresearch/hermes-3-llama-3.1-405b/endpoints")["data"]
    assert_endpoints_body_round_trips({"endpoints": capture(HERMES)}, served)
    assert [e["tag"] for e in served["endpoints"]] == ["lambda/fp8", "deepinfra/fp8", "nebius/fp8"]
    # No metadata in the file: documented defaults.
    assert (served["name"], served["created"], served["description"]) == (
        "nousresearch/hermes-3-llama-3.1-405b", Num("0"), "")
    again = run_import(store, "openrouter", [str(CAPTURES / HERMES)],
                       Options(model_id="nousresearch/hermes-3-llama-3.1-405b"))
    assert not again.diff.changed


def test_models_body_imports_metadata_without_endpoints(store: Store, serve: Any) -> None:
    outcome = run_import(store, "openrouter", [str(CAPTURES / MODELS)])
    assert outcome.counts()["model"]["created"] == 319
    assert outcome.counts()["endpoint"]["created"] == 0
    api = serve()
    assert api.get("/api/v1/models")["data"] == []  # nothing routable
    for m in capture(MODELS)["data"]:
        served = api.get(f"/api/v1/models/{m['id']}/endpoints")["data"]
        for key in ("id", "name", "created", "description", "architecture"):
            assert served[key] == m[key], (m["id"], key)
        assert served["endpoints"] == []


def test_models_body_via_openrouter_round_trips_the_model_list(store: Store, serve: Any) -> None:
    outcome = run_import(store, "openrouter", [str(CAPTURES / MODELS)], Options(via_openrouter=True))
    auto = [m["id"] for m in capture(MODELS)["data"]].index("openrouter/auto")
    assert [where for where, _ in outcome.plan.skipped] == [f"{CAPTURES / MODELS}: data[{auto}]"]
    listed = {m["id"]: m for m in serve().get("/api/v1/models")["data"]}
    captured = [m for m in capture(MODELS)["data"] if m["id"] != "openrouter/auto"]  # price -1
    assert len(listed) == len(captured)
    for m in captured:
        assert_static_fields_equal(m, listed[m["id"]], m["id"])


def test_folder_import_is_idempotent_and_keeps_operator_edits(store: Store) -> None:
    first = run_import(store, "openrouter", [str(CAPTURES)])
    assert any("openapi_2025-10-28_full.json: not an OpenRouter body" in n for n in first.plan.notes)
    before = store.read_catalog()
    again = run_import(store, "openrouter", [str(CAPTURES)])
    assert not again.diff.changed and store.read_catalog() == before
    # An operator disables an endpoint (the source stays the import's)...
    qwen = next(m for m in before.models if m.id == "qwen/qwen3-235b-a22b-thinking-2507")
    edited = msgspec.structs.replace(qwen, endpoints=tuple(
        msgspec.structs.replace(e, disabled=e.tag == "alibaba") for e in qwen.endpoints))
    store.apply_catalog(Catalog(models=(edited,)), overwrite=True)
    run_import(store, "openrouter", [str(CAPTURES / QWEN)])
    assert _disabled(store) == {"alibaba"}  # ...and a re-import keeps the edit
    run_import(store, "openrouter", [str(CAPTURES / QWEN)], Options(overwrite=True))
    assert _disabled(store) == set()


def _disabled(store: Store) -> set[str]:
    qwen = next(m for m in store.read_catalog().models if m.id == "qwen/qwen3-235b-a22b-thinking-2507")
    return {e.tag for e in qwen.endpoints if e.disabled}


def test_endpoints_remember_source_and_import_time(store: Store) -> None:
    run_import(store, "openrouter", [str(CAPTURES / QWEN), str(CAPTURES / GEMINI_22)])
    for m in store.read_catalog().models:
        name = QWEN if m.id.startswith("qwen/") else GEMINI_22
        assert {e.source for e in m.endpoints} == {f"openrouter:{CAPTURES / name}"}
        assert all(e.imported_at and e.imported_at > 1_700_000_000 for e in m.endpoints)


def test_two_files_disagreeing_later_path_wins_and_is_reported(store: Store, tmp_path: Path) -> None:
    changed = json.loads((CAPTURES / QWEN).read_text())
    changed["data"]["endpoints"][1]["pricing"]["prompt"] = "0.0000002"
    later = tmp_path / "later.json"
    later.write_text(json.dumps(changed))
    outcome = run_import(store, "openrouter", [str(CAPTURES / QWEN), str(later)])
    (d,) = outcome.plan.disagreements
    assert (d.endpoint, d.field, d.kept, d.other) == (
        "qwen/qwen3-235b-a22b-thinking-2507 deepinfra/fp8", "pricing.prompt", "0.0000002", "0.00000013")
    deepinfra = store.read_catalog().models[0].endpoints[1]
    assert (deepinfra.pricing.prompt, deepinfra.source) == ("0.0000002", f"openrouter:{later}")


def test_cli_imports_a_folder_and_prints_a_summary(database_url: str) -> None:
    out = run_cli(database_url, "catalog", "import", "--format", "openrouter", str(CAPTURES)).stdout
    assert "openrouter import of 7 files in" in out
    assert "models:    319 created" in out and "endpoints: 10 created" in out
    assert "disagreements: 0" in out
    again = run_cli(database_url, "catalog", "import", "--format", "openrouter", str(CAPTURES)).stdout
    assert "0 created, 0 updated" in again
