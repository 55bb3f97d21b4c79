"""Canonical ids: provider slugs, model id normalization and the alias file (pure).

models.dev and LiteLLM name one model differently at every provider (deepinfra's
``meta-llama/Llama-3.3-70B-Instruct``, groq's ``llama-3.3-70b-versatile``). They are
resolved to one canonical routeyard model id (OpenRouter's: ``meta-llama/llama-3.3-70b-instruct``)
in this order, the first hit wins (docs/importing.md):

1. the alias file: ``"groq/llama-3.3-70b-versatile" = "meta-llama/llama-3.3-70b-instruct"``
   (an empty value drops the entry on purpose);
2. the id itself, ignoring case, is a canonical id;
3. the same tokens: lower case, author dropped, punctuation and letter/digit boundaries
   ignored (``llama3.3-70b`` = ``Llama-3.3-70B``), cloud prefixes/suffixes dropped
   (``us.meta.…-v1:0``, ``…p3`` = ``….3``);
4. the same tokens once serving words (instruct, versatile, latest, it, hf,
   quantizations) are dropped on both sides and dates on the source side
   (``claude-3-5-haiku-20241022`` = ``claude-3.5-haiku``).

Tiers 3 and 4 accept a candidate only when it is unique, after preferring on a tie the
candidates of the entry's family (models.dev's ``family``; too inconsistent across
providers to be a hard rule), then those of the entry's author. A canonical id with a date
keeps it in tier 4 (an undated ``qwen3.5-plus`` is not the ``…-20260420`` snapshot), and
one with a ``:variant`` is only ever matched exactly.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable

import msgspec

from routeyard import ids
from routeyard.errors import CatalogError

# OpenRouter's provider slugs and display names, transcribed from its provider list
# (GET /api/frontend/all-providers, see scripts/build_starter.py for the capture).
# Only names whose slug is not their slugified form need to be here, plus the ones
# other sources spell differently.
OPENROUTER_PROVIDERS: dict[str, str] = {
    "alibaba": "Alibaba", "amazon-bedrock": "Amazon Bedrock", "anthropic": "Anthropic",
    "azure": "Azure", "baseten": "BaseTen", "cerebras": "Cerebras", "chutes": "Chutes",
    "cloudflare": "Cloudflare", "cohere": "Cohere", "deepinfra": "DeepInfra",
    "fireworks": "Fireworks", "google-ai-studio": "Google AI Studio", "google-vertex": "Google",
    "groq": "Groq", "lambda": "Lambda", "mistral": "Mistral", "nebius": "Nebius",
    "novita": "Novita", "openai": "OpenAI", "parasail": "Parasail", "together": "Together",
    "openrouter": "OpenRouter",
}
NAME_TO_SLUG: dict[str, str] = {name: slug for slug, name in OPENROUTER_PROVIDERS.items()}

# models.dev provider ids whose OpenRouter slug differs.
MODELS_DEV_SLUGS: dict[str, str] = {
    "cloudflare-workers-ai": "cloudflare", "fireworks-ai": "fireworks",
    "google": "google-ai-studio", "novita-ai": "novita", "togetherai": "together",
}

# LiteLLM ``litellm_provider`` values whose OpenRouter slug differs (``vertex_ai*`` all
# map to google-vertex; any other value has ``_`` turned into ``-``).
LITELLM_SLUGS: dict[str, str] = {
    "bedrock": "amazon-bedrock", "bedrock_converse": "amazon-bedrock", "cohere_chat": "cohere",
    "dashscope": "alibaba", "fireworks_ai": "fireworks", "gemini": "google-ai-studio",
    "lambda_ai": "lambda", "text-completion-openai": "openai", "together_ai": "together",
}


def slugify(name: str) -> str:
    """A provider slug from a display name: ``Google AI Studio`` -> ``google-ai-studio``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class Aliases(msgspec.Struct, frozen=True, kw_only=True):
    """The alias file: ``[aliases]`` "provider/model" -> canonical id, ``[providers]``
    source provider id -> routeyard provider slug."""

    models: dict[str, str] = msgspec.field(default_factory=dict)
    providers: dict[str, str] = msgspec.field(default_factory=dict)


def read_aliases(text: str, origin: str) -> Aliases:
    """Parse an alias file (TOML); every problem is raised at once."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError([(origin, f"invalid TOML: {exc}")]) from None
    problems: list[tuple[str, str]] = []
    for key in sorted(set(data) - {"aliases", "providers"}):
        problems.append((f"{origin}: {key}", "unknown table (expected [aliases] and [providers])"))
    tables: dict[str, dict[str, str]] = {"aliases": {}, "providers": {}}
    for table, found in tables.items():
        raw = data.get(table, {})
        if not isinstance(raw, dict):
            problems.append((f"{origin}: {table}", "expected a table"))
            continue
        for key, value in raw.items():
            where = f'{origin}: {table}."{key}"'
            if not isinstance(value, str):
                problems.append((where, f"expected a string, got {type(value).__name__}"))
            elif table == "aliases" and value and not ids.is_model_id(value):
                problems.append((where, f"not a model id (author/slug[:variant]): {value!r}"))
            elif table == "aliases" and "/" not in key:
                problems.append((where, 'expected "source-provider/model-id" as the key'))
            elif table == "providers" and not ids.is_provider_slug(value):
                problems.append((where, f"not a provider slug: {value!r}"))
            else:
                found[key] = value
    if problems:
        raise CatalogError(problems)
    return Aliases(models=tables["aliases"], providers=tables["providers"])


# -- model id normalization ------------------------------------------------------------

_REGION = re.compile(r"^(?:us|eu|apac|ap|jp|au|ca|global)\.")
_VENDOR = re.compile(r"^[a-z][a-z0-9-]*\.(?=[a-z])")  # bedrock's "anthropic.claude-…"
_VERSION = re.compile(r"-v[0-9]+(?::[0-9]+)?$")  # bedrock's "…-v1:0"
_FIREWORKS_DOT = re.compile(r"(?<=[0-9])p(?=[0-9])")  # fireworks' "llama-v3p3" = "llama-v3.3"
_TOKEN = re.compile(r"[a-z]+|[0-9]+[a-z]*")
_DATE = re.compile(r"(?<![0-9])20[0-9]{2}-?(?:0[1-9]|1[0-2])-?(?:[0-2][0-9]|3[01])(?![0-9])")
NOISE = frozenset({
    "instruct", "it", "versatile", "latest", "hf",
    "fp8", "fp4", "fp16", "bf16", "int8", "int4",
})


def _slug_part(model_id: str) -> str:
    text = model_id.lower().rsplit("/", 1)[-1]
    text = _REGION.sub("", text)
    text = _VENDOR.sub("", text)
    text = _VERSION.sub("", text)
    return _FIREWORKS_DOT.sub(".", text)


def _tokens(text: str) -> tuple[str, ...]:
    raw = _TOKEN.findall(text)
    # "v" before a version number carries nothing: "llama-v3" = "llama-3".
    return tuple(t for i, t in enumerate(raw)
                 if not (t == "v" and i + 1 < len(raw) and raw[i + 1][0].isdigit()))


def tokens(model_id: str) -> tuple[str, ...]:
    """Tier 3 key: ``Llama-3.3-70B-Instruct`` -> ``('llama', '3', '3', '70b', 'instruct')``."""
    return _tokens(_slug_part(model_id))


def loose_tokens(model_id: str, *, keep_dates: bool = False) -> tuple[str, ...]:
    """Tier 4 key: :func:`tokens` without serving words and (unless ``keep_dates``) dates."""
    text = _slug_part(model_id)
    return tuple(t for t in _tokens(text if keep_dates else _DATE.sub(" ", text))
                 if t not in NOISE)


def author(model_id: str) -> str | None:
    return model_id.lower().split("/", 1)[0] if "/" in model_id else None


class Canon(msgspec.Struct, frozen=True):
    """A canonical model id and its family (models.dev's ``family``), when known."""

    id: str
    family: str | None = None


class Matcher:
    """Resolves a source's model ids to canonical ids (tiers 2–4 of the module docs)."""

    def __init__(self, canon: Iterable[Canon]) -> None:
        self.by_id: dict[str, Canon] = {}
        self.exact: dict[tuple[str, ...], list[Canon]] = {}
        self.loose: dict[tuple[str, ...], list[Canon]] = {}
        for c in canon:
            if c.id.lower() in self.by_id:
                continue
            self.by_id[c.id.lower()] = c
            if ":" in c.id:
                continue  # variants (:free, :thinking) are separate offerings: exact only
            self.exact.setdefault(tokens(c.id), []).append(c)
            # A dated canonical id is one snapshot: only a source id naming that date
            # (tiers 2-3) reaches it, so its dates stay in its tier 4 key.
            self.loose.setdefault(loose_tokens(c.id, keep_dates=True), []).append(c)

    def __len__(self) -> int:
        return len(self.by_id)

    def resolve(self, model_id: str, *, hint: str | None = None,
                family: str | None = None) -> tuple[str, str] | None:
        """``(canonical id, how)`` or None. ``hint`` is the author to prefer on a tie
        (the entry's own author, else its provider); ``how`` is exact|tokens|loose."""
        found = self.by_id.get(model_id.lower())
        if found is not None:
            return found.id, "exact"
        for how, table, key in (("tokens", self.exact, tokens(model_id)),
                                ("loose", self.loose, loose_tokens(model_id))):
            if not key:
                continue
            candidates = table.get(key, [])
            if len(candidates) > 1 and family:
                candidates = [c for c in candidates if c.family == family] or candidates
            if len(candidates) > 1 and hint:
                candidates = [c for c in candidates if author(c.id) == hint.lower()] or candidates
            if len(candidates) == 1:
                return candidates[0].id, how
        return None
