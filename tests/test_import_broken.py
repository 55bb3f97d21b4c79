"""Broken input of every format: a clean error naming file, path and problem, and a
database exactly as before (catalog and change counters)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from routeyard.catalog.loader import Options, run_import
from routeyard.errors import CatalogError
from routeyard.store import Store
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
QWEN = FIXTURES / "openrouter" / "endpoints_qwen3-235b-a22b-thinking-2507_2025-07.json"
MODELS_DEV = FIXTURES / "models_dev" / "api_excerpt.json"
LITELLM = FIXTURES / "litellm" / "model_prices_excerpt.json"
BASE = {"openrouter": QWEN, "models-dev": MODELS_DEV, "litellm": LITELLM}
Edit = Callable[[Any], Any]


def _set(path: Sequence[str | int], value: Any) -> Edit:
    def edit(doc: Any) -> Any:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return doc
    return edit


_EP = ["data", "endpoints"]
_DI = ["deepinfra", "models", "meta-llama/Llama-3.3-70B-Instruct-Turbo"]
_GPT = ["gpt-4o"]
# (format, case id, edit of the parsed base file or raw text, expected parts of the message)
CASES: list[tuple[str, str, Edit | str, tuple[str, ...]]] = [
    ("openrouter", "wrong-type", _set([*_EP, 0, "context_length"], "262144"),
     ("data.endpoints[0].context_length", "expected integer")),
    ("openrouter", "negative-price", _set([*_EP, 1, "pricing", "prompt"], "-0.00000013"),
     ("data.endpoints[1].pricing.prompt", "must not be negative")),
    ("openrouter", "non-numeric-price", _set([*_EP, 1, "pricing", "completion"], "cheap"),
     ("data.endpoints[1].pricing.completion", "not a plain decimal")),
    ("openrouter", "duplicate-tag", _set([*_EP, 2, "tag"], "deepinfra/fp8"),
     ("data.endpoints[2].tag", "duplicate tag 'deepinfra/fp8'")),
    ("openrouter", "provider-named-twice", _set([*_EP, 2, "tag"], "chutes/fp8"),
     ("data.endpoints[2].provider_name", "provider 'chutes' is named 'Chutes'")),
    ("openrouter", "unknown-quantization", _set([*_EP, 1, "quantization"], "fp7"),
     ("data.endpoints[1].quantization", "unknown quantization")),
    ("openrouter", "not-a-body", lambda doc: {"models": doc}, ("not an OpenRouter",)),
    ("openrouter", "endpoints-not-objects", _set(_EP, ["chutes", 1]),
     ("data.endpoints[0]: expected an object, got string", "data.endpoints[1]")),
    ("openrouter", "endpoints-not-an-array", _set(_EP, {"chutes": {}}),
     ("data.endpoints: expected an array, got object",)),
    ("openrouter", "array-without-model", lambda doc: [
        {k: v for k, v in e.items() if k != "name"} for e in doc["data"]["endpoints"]],
     ("pass --model",)),
    ("openrouter", "nan-price", '{"data": {"id": "a/b", "endpoints": [{"pricing": {"prompt": NaN}}]}}',
     ("NaN is not a JSON number",)),
    ("openrouter", "huge-exponent", ('{"data": {"id": "a/b", "name": "x", "created": 1, "endpoints": '
     '[{"tag": "x", "provider_name": "X", "context_length": 1, '
     '"pricing": {"prompt": "0", "completion": "0", "discount": 1e999999999}}]}}'),
     ("data.endpoints[0].pricing.discount", "out of range")),
    ("models-dev", "wrong-type", _set([*_DI, "limit", "context"], "big"),
     ('deepinfra.models["meta-llama/Llama-3.3-70B-Instruct-Turbo"].limit.context',
      "expected a non-negative integer")),
    ("models-dev", "negative-price", _set([*_DI, "cost", "input"], -1),
     ('["meta-llama/Llama-3.3-70B-Instruct-Turbo"].cost.input', "must not be negative")),
    ("models-dev", "non-numeric-price", _set([*_DI, "cost", "output"], "n/a"),
     ('["meta-llama/Llama-3.3-70B-Instruct-Turbo"].cost.output', "not a plain decimal")),
    ("models-dev", "not-an-object", lambda doc: [doc], ("expected an object of providers",)),
    ("models-dev", "models-not-an-object", _set(["groq", "models"], ["llama"]),
     ("groq.models", "expected an object, got array")),
    ("litellm", "wrong-type", _set([*_GPT, "max_input_tokens"], "128k"),
     ('["gpt-4o"].max_input_tokens', "expected a non-negative integer")),
    ("litellm", "negative-price", ('{"x/y": {"litellm_provider": "x", "mode": "chat", '
     '"input_cost_per_token": -1.5e-07, "output_cost_per_token": 1e-07, "max_input_tokens": 8}}'),
     ('["x/y"].input_cost_per_token', "finite non-negative decimal, got -1.5E-7")),
    ("litellm", "non-numeric-price", _set([*_GPT, "output_cost_per_token"], "free"),
     ('["gpt-4o"].output_cost_per_token', "not a plain decimal")),
    ("litellm", "wrong-flag", _set([*_GPT, "supports_function_calling"], "yes"),
     ('["gpt-4o"].supports_function_calling', "expected a boolean")),
]


@pytest.fixture
def populated(store: Store) -> Store:
    """A database with something in it, so "unchanged" means something."""
    run_import(store, "openrouter", [str(QWEN)])
    return store


def assert_refused(store: Store, fmt: str, paths: list[str], *expected: str,
                   options: Options | None = None) -> str:
    before, versions = store.read_catalog(), store.versions()
    with pytest.raises(CatalogError) as info:
        run_import(store, fmt, paths, options)
    message = str(info.value)
    for part in expected:
        assert part in message, message
    assert store.read_catalog() == before
    assert store.versions() == versions
    return message


@pytest.mark.parametrize(("fmt", "edit", "expected"), [c[0:1] + c[2:] for c in CASES],
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_broken_file_is_refused_and_changes_nothing(populated: Store, tmp_path: Path, fmt: str,
                                                    edit: Edit | str, expected: tuple[str, ...]) -> None:
    broken = tmp_path / f"broken-{fmt}.json"
    if isinstance(edit, str):
        broken.write_text(edit)
    else:
        broken.write_text(json.dumps(edit(json.loads(BASE[fmt].read_text()))))
    assert_refused(populated, fmt, [str(broken)], str(broken), *expected)


@pytest.mark.parametrize("fmt", ["openrouter", "models-dev", "litellm"])
def test_truncated_json_names_line_and_column(populated: Store, tmp_path: Path, fmt: str) -> None:
    text = BASE[fmt].read_text()
    broken = tmp_path / "truncated.json"
    broken.write_text(text[: len(text) // 2])
    message = assert_refused(populated, fmt, [str(broken)], str(broken), "invalid JSON")
    assert "line " in message and "column " in message


def test_one_broken_file_among_good_ones_writes_nothing(populated: Store, tmp_path: Path) -> None:
    good = FIXTURES / "openrouter" / "endpoints_gemini-2.5-pro-preview_2025-05-22.json"
    broken = tmp_path / "broken.json"
    broken.write_text(QWEN.read_text().replace('"0.0000007"', '"-0.0000007"'))
    assert_refused(populated, "openrouter", [str(good), str(broken)], "data.endpoints[4].pricing.prompt")
    assert "google/gemini-2.5-pro-preview" not in {m.id for m in populated.read_catalog().models}


def test_bad_alias_file_is_refused(populated: Store, tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.toml"
    aliases.write_text('[aliases]\n"groq/llama-3.3-70b-versatile" = "not an id"\n[providers]\n"groq" = "Groq!"\n')
    assert_refused(populated, "models-dev", [str(MODELS_DEV)], str(aliases), "not a model id",
                   "not a provider slug", options=Options(aliases=str(aliases)))


@pytest.mark.parametrize(("case", "text", "expected"), [
    ("duplicate-tag", ('provider = "p"\ncontext_length = 8\npricing = { prompt = "0", completion = "0" }\n'
                       '[[models.endpoints]]\nprovider = "p"\ncontext_length = 8\n'
                       'pricing = { prompt = "0", completion = "0" }\n'), "duplicate tag 'p'"),
    ("unknown-provider", ('provider = "nobody"\ncontext_length = 8\n'
                          'pricing = { prompt = "0", completion = "0" }\n'), "unknown provider 'nobody'"),
    ("negative-price", 'provider = "p"\ncontext_length = 8\npricing = { prompt = "-1", completion = "0" }\n',
     "must not be negative"),
    ("truncated", 'provider = "p"\ncontext_length = ', "invalid TOML"),
])
def test_broken_routeyard_file_is_refused(populated: Store, tmp_path: Path, case: str, text: str,
                                          expected: str) -> None:
    broken = tmp_path / f"{case}.toml"
    broken.write_text('format = "routeyard-catalog"\nversion = 1\n[[providers]]\nslug = "p"\nname = "P"\n'
                      '[[models]]\nid = "a/b"\nname = "B"\ncreated = 1\n[[models.endpoints]]\n' + text)
    assert_refused(populated, "routeyard", [str(broken)], str(broken), expected)


@pytest.fixture(scope="module")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 50 MB JSON file, and a 50 KB gzip file that inflates to 50 MB."""
    folder = tmp_path_factory.mktemp("big")
    big = folder / "big.json"
    with open(big, "w", encoding="utf-8") as f:
        f.write('{"data": [{"id": "a/b", "name": "B", "created": 1, "description": "')
        chunk = "x" * (1 << 20)
        f.writelines(chunk for _ in range(50))
        f.write('"}]}')
    bomb = folder / "bomb.json.gz"
    with gzip.open(bomb, "wb") as g:
        for _ in range(50):
            g.write(b" " * (1 << 20))
    return big, bomb


@pytest.mark.parametrize("fmt", ["openrouter", "models-dev", "litellm", "routeyard"])
def test_50_mb_file_is_refused_before_it_is_read(populated: Store, big_files: tuple[Path, Path],
                                                 fmt: str) -> None:
    big, bomb = big_files
    assert big.stat().st_size > 50 * 1024 * 1024
    assert_refused(populated, fmt, [str(big)], str(big), "more than the limit of 16777216")
    if fmt != "routeyard":
        assert_refused(populated, fmt, [str(bomb)], str(bomb), "decompresses to more than the limit")


def test_cli_refuses_cleanly_and_changes_nothing(populated: Store, database_url: str,
                                                 tmp_path: Path, big_files: tuple[Path, Path]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(QWEN.read_text().replace('"tag": "alibaba"', '"tag": "chutes"'))
    before, versions = populated.read_catalog(), populated.versions()
    for args in (["--format", "openrouter", str(broken)],
                 ["--format", "litellm", str(big_files[0])],
                 ["--format", "models-dev", str(tmp_path / "missing.json")]):
        proc = run_cli(database_url, "catalog", "import", *args, check=False)
        assert proc.returncode == 1, proc.stdout
        assert args[-1] in proc.stderr and "Traceback" not in proc.stderr
    assert "data.endpoints[4].tag: duplicate tag 'chutes'" in run_cli(
        database_url, "catalog", "import", "--format", "openrouter", str(broken), check=False).stderr
    assert populated.read_catalog() == before and populated.versions() == versions
    # A raised limit lets a big file through to the parser, which then reads it (and
    # refuses it for what it is, not for its size).
    proc = run_cli(database_url, "catalog", "import", "--format", "openrouter", "--max-size", "64",
                   str(big_files[0]), check=False)
    assert proc.returncode == 1 and "description: longer than 100000 characters" in proc.stderr
