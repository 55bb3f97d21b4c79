"""Importing LiteLLM's model_prices_and_context_window.json (a real excerpt)."""

from __future__ import annotations

from pathlib import Path

from routeyard.catalog.loader import Options, run_import
from routeyard.models import Endpoint
from routeyard.store import Store
from tests.conftest import run_cli

EXCERPT = str(Path(__file__).parent / "fixtures" / "litellm" / "model_prices_excerpt.json")
LLAMA = "meta-llama/llama-3.3-70b-instruct"


def endpoints(store: Store, model_id: str) -> dict[str, Endpoint]:
    model = next(m for m in store.read_catalog().models if m.id == model_id)
    return {e.tag: e for e in model.endpoints}


def test_text_models_become_endpoints_with_exact_prices(store: Store) -> None:
    outcome = run_import(store, "litellm", [EXCERPT])
    llama = endpoints(store, LLAMA)
    assert set(llama) == {"deepinfra", "cerebras", "novita"}
    deepinfra = llama["deepinfra"]  # 2.3E-7 and 4E-7 in the file: exact, no exponent
    assert (deepinfra.pricing.prompt, deepinfra.pricing.completion) == ("0.00000023", "0.0000004")
    assert (deepinfra.context_length, deepinfra.max_completion_tokens) == (131072, 131072)
    assert deepinfra.provider_model_id == "meta-llama/Llama-3.3-70B-Instruct"
    assert deepinfra.supported_parameters == ("max_tokens", "tools", "tool_choice")
    assert deepinfra.source == "litellm:" + EXCERPT
    gpt = endpoints(store, "openai/gpt-4o")["openai"]
    assert (gpt.pricing.prompt, gpt.pricing.completion, gpt.pricing.input_cache_read) == (
        "0.0000025", "0.00001", "0.00000125")
    haiku = endpoints(store, "anthropic/claude-3.5-haiku")
    assert set(haiku) == {"amazon-bedrock", "google-vertex"}
    assert haiku["amazon-bedrock"].pricing.input_cache_read == "0.00000008"
    # Models are named from models.dev's bundled OpenRouter list.
    names = {m.id: m.name for m in store.read_catalog().models}
    assert names["openai/gpt-4o"] == "GPT-4o"
    providers = store.read_catalog().provider_map()
    assert providers["amazon-bedrock"].name == "Amazon Bedrock"
    reasons = dict(outcome.plan.skipped)
    assert reasons["text-embedding-3-small"] == "mode embedding is not a text model"
    assert reasons["novita/deepseek/deepseek-v4-pro"].endswith("(float artefact)")
    assert reasons["us.anthropic.claude-3-5-haiku-20241022-v1:0"].startswith("same model and tag")
    assert sorted(outcome.plan.unmatched) == [
        "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "deepinfra/meta-llama/Llama-3.3-70B-Instruct-Turbo", "snowflake/snowflake-llama-3.3-70b"]


def test_alias_brings_in_an_unmatched_entry_with_its_quantization(store: Store, tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.toml"
    aliases.write_text(f'[aliases]\n"cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast" = "{LLAMA}"\n')
    outcome = run_import(store, "litellm", [EXCERPT], Options(aliases=str(aliases)))
    cloudflare = endpoints(store, LLAMA)["cloudflare/fp8"]
    assert (cloudflare.quantization, cloudflare.pricing.completion) == ("fp8", "0.000002253")
    assert len(outcome.plan.unmatched) == 2


def test_reimport_is_idempotent(store: Store) -> None:
    run_import(store, "litellm", [EXCERPT])
    before, versions = store.read_catalog(), store.versions()
    assert not run_import(store, "litellm", [EXCERPT]).diff.changed
    assert store.read_catalog() == before and store.versions() == versions


def test_cli_imports_litellm(database_url: str) -> None:
    out = run_cli(database_url, "catalog", "import", "--format", "litellm", EXCERPT,
                  "--show-unmatched").stdout
    assert "litellm import of 1 file in" in out
    assert "endpoints: 6 created" in out
    assert '"snowflake/snowflake-llama-3.3-70b" = ""' in out
