"""Importing models.dev data: canonical ids, exact per-token prices, aliases, precedence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routeyard.catalog.importers.matching import Canon, Matcher
from routeyard.catalog.loader import Options, run_import
from routeyard.models import Endpoint
from routeyard.store import Store
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
EXCERPT = str(FIXTURES / "models_dev" / "api_excerpt.json")
QWEN_CAPTURE = str(FIXTURES / "openrouter" / "endpoints_qwen3-235b-a22b-thinking-2507_2025-07.json")
LLAMA = "meta-llama/llama-3.3-70b-instruct"
QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


def endpoints(store: Store, model_id: str) -> dict[str, Endpoint]:
    model = next(m for m in store.read_catalog().models if m.id == model_id)
    return {e.tag: e for e in model.endpoints}


def test_providers_models_and_exact_per_token_prices(store: Store) -> None:
    outcome = run_import(store, "models-dev", [EXCERPT])
    catalog = store.read_catalog()
    providers = catalog.provider_map()
    assert providers["groq"].name == "Groq" and providers["groq"].api_key_env == "GROQ_API_KEY"
    assert providers["novita"].name == "Novita"  # models.dev's novita-ai, OpenRouter's slug
    assert providers["openrouter"].base_url == "https://openrouter.ai/api/v1"
    llama = endpoints(store, LLAMA)
    # deepinfra's Llama-3.3-70B-Instruct-Turbo is another offering: unmatched without an alias.
    assert set(llama) == {"openrouter", "groq", "novita"}
    groq = llama["groq"]  # llama-3.3-70b-versatile resolved to the canonical id
    assert (groq.pricing.prompt, groq.pricing.completion) == ("0.00000059", "0.00000079")
    assert (groq.context_length, groq.max_completion_tokens) == (131072, 32768)
    assert groq.provider_model_id == "llama-3.3-70b-versatile"
    assert groq.supported_parameters == ("max_tokens", "temperature", "top_p", "stop", "tools",
                                           "tool_choice")
    assert groq.source == "models-dev:" + EXCERPT
    router = endpoints(store, QWEN)["openrouter"]
    assert (router.pricing.prompt, router.pricing.completion) == ("0.0000001495", "0.000001495")
    haiku = endpoints(store, "anthropic/claude-3.5-haiku")
    assert set(haiku) == {"openrouter", "anthropic"}
    assert haiku["anthropic"].provider_model_id == "claude-3-5-haiku-20241022"  # exact date wins
    model = next(m for m in catalog.models if m.id == LLAMA)
    assert (model.name, model.created, model.knowledge_cutoff) == (
        "Llama-3.3-70B-Instruct", 1733443200, "2023-12")
    assert outcome.plan.unmatched == ["deepinfra/meta-llama/Llama-3.3-70B-Instruct-Turbo"]
    reasons = dict(outcome.plan.skipped)
    assert reasons["groq/gemma2-9b-it"] == "deprecated"
    assert reasons["amazon-bedrock/google.gemma-3-12b-it"].endswith("(float artefact)")
    assert reasons["cohere/c4ai-aya-expanse-32b"] == "no input and output cost"
    assert reasons["anthropic/claude-3-5-haiku-latest"].startswith("same model and tag as")


def test_alias_file_maps_and_drops_entries(store: Store, tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.toml"
    aliases.write_text(
        '[aliases]\n'
        f'"deepinfra/meta-llama/Llama-3.3-70B-Instruct-Turbo" = "{LLAMA}"\n'
        '"groq/llama-3.3-70b-versatile" = ""\n'
        '[providers]\n'
        '"groq" = "groq-cloud"\n')
    outcome = run_import(store, "models-dev", [EXCERPT], Options(aliases=str(aliases)))
    llama = endpoints(store, LLAMA)
    assert set(llama) == {"openrouter", "deepinfra", "novita"}
    assert llama["deepinfra"].pricing.prompt == "0.0000001"  # 0.10 per million
    assert outcome.plan.unmatched == []
    assert ("groq/llama-3.3-70b-versatile", "dropped by the alias file") in outcome.plan.skipped
    assert "groq-cloud" in store.read_catalog().provider_map()


def test_reimport_is_idempotent(store: Store) -> None:
    run_import(store, "models-dev", [EXCERPT])
    before, versions = store.read_catalog(), store.versions()
    again = run_import(store, "models-dev", [EXCERPT])
    assert not again.diff.changed
    assert store.read_catalog() == before and store.versions() == versions


def test_after_openrouter_newest_import_wins_and_disagreements_are_reported(store: Store) -> None:
    run_import(store, "openrouter", [QWEN_CAPTURE])
    outcome = run_import(store, "models-dev", [EXCERPT])
    qwen = endpoints(store, QWEN)
    # chutes: same model and tag, other prices -> models.dev's, reported.
    assert qwen["chutes"].pricing.prompt == "0.00000011"
    assert qwen["chutes"].source == "models-dev:" + EXCERPT
    # novita: models.dev knows no variant; it updates OpenRouter's novita/fp8, keeping the
    # quantization and the parameters OpenRouter listed.
    assert "novita" not in qwen and qwen["novita/fp8"].quantization == "fp8"
    assert qwen["novita/fp8"].max_completion_tokens == 32768
    assert "logit_bias" in qwen["novita/fp8"].supported_parameters
    found = {(d.endpoint, d.field): d for d in outcome.plan.disagreements}
    chutes = found[(f"{QWEN} chutes", "pricing.prompt")]
    assert (chutes.kept, chutes.other, chutes.rule) == (
        "0.00000011", "0.0000001179", "the newest import wins")
    assert (f"{QWEN} novita/fp8", "max_completion_tokens") in found
    # The serving order of OpenRouter's endpoints is kept; new ones come last.
    assert list(qwen)[:5] == ["chutes", "deepinfra/fp8", "novita/fp8", "parasail/fp8", "alibaba"]


def test_operator_owned_endpoint_is_kept_unless_overwrite(store: Store, database_url: str,
                                                          tmp_path: Path) -> None:
    run_import(store, "models-dev", [EXCERPT])
    owned = tmp_path / "mine.toml"
    owned.write_text(f'''format = "routeyard-catalog"
version = 1
[[models]]
id = "{LLAMA}"
name = "Llama 3.3 70B (ours)"
created = 1733443200
[[models.endpoints]]
provider = "groq"
context_length = 8192
pricing = {{ prompt = "0.000001", completion = "0.000002" }}
''')
    out = run_cli(database_url, "catalog", "import", "--format", "routeyard", str(owned)).stdout
    assert "endpoints: 0 created, 1 updated" in out  # the same as `catalog apply`
    assert endpoints(store, LLAMA)["groq"].source == f"routeyard:{owned}"
    outcome = run_import(store, "models-dev", [EXCERPT])
    groq = endpoints(store, LLAMA)["groq"]
    assert (groq.context_length, groq.pricing.prompt) == (8192, "0.000001")
    assert any(d.rule.startswith("operator-owned") for d in outcome.plan.disagreements)
    run_import(store, "models-dev", [EXCERPT], Options(overwrite=True))
    assert endpoints(store, LLAMA)["groq"].pricing.prompt == "0.00000059"


def test_cli_bundled_snapshot_loads_whole(database_url: str) -> None:
    out = run_cli(database_url, "catalog", "import", "--format", "models-dev", "bundled").stdout
    counts = {k: int(v) for k, v in re.findall(r"(\w+):\s+(\d+) created", out)}
    assert counts["providers"] >= 100 and counts["models"] >= 300 and counts["endpoints"] >= 2000
    unmatched = int(re.search(r"unmatched: (\d+)", out)[1])  # type: ignore[index]
    assert 0 < unmatched < 2500
    assert re.search(r"models-dev import of 1 file in [0-9.]+ s", out)
    print(out)  # the counts and the time, with -s
    again = run_cli(database_url, "catalog", "import", "--format", "models-dev", "bundled").stdout
    assert "endpoints: 0 created, 0 updated" in again


@pytest.mark.parametrize(("source_id", "canonical"), [
    ("meta-llama/Llama-3.3-70B-Instruct", LLAMA),
    ("llama-3.3-70b-versatile", LLAMA),
    ("accounts/fireworks/models/llama-v3p3-70b-instruct", LLAMA),
    ("us.meta.llama3-3-70b-instruct-v1:0", LLAMA),
    ("claude-3-5-haiku-20241022", "anthropic/claude-3.5-haiku"),
    ("claude-3-5-haiku@20241022", "anthropic/claude-3.5-haiku"),
    ("qwen3.5-plus", None),  # not the dated snapshot
    ("Llama-3.3-70B-Instruct-Turbo", None),
    ("llama-3.3-70b-instruct:free", None),
])
def test_matcher_tiers(source_id: str, canonical: str | None) -> None:
    matcher = Matcher([Canon(LLAMA), Canon(LLAMA + ":free"), Canon("anthropic/claude-3.5-haiku"),
                       Canon("qwen/qwen3.5-plus-20260420")])
    found = matcher.resolve(source_id)
    assert (found[0] if found else None) == canonical
