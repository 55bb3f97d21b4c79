#!/usr/bin/env python3
"""Generate ``src/routeyard/api/openapi.json``: the OpenAPI 3.1 description of routeyard's API.

Run ``python scripts/build_openapi.py`` after editing this file: ``tests/test_openapi_doc.py``
fails while the committed document differs from what :func:`build` returns.

A pure script (standard library only, no ``routeyard`` import), so it runs without the package.
The schemas are OpenRouter's published ones of 2025-10 (the endpoint fields of the seed), with
plain enum lists and 3.1 ``type`` arrays instead of ``nullable``, plus the fields that
OpenRouter's current Python SDK (``openrouter`` 1.3.x) requires. A response that is valid here
is meant to be valid against both, so every field routeyard always sends is ``required``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Json = dict[str, Any]

OUTPUT = Path(__file__).resolve().parent.parent / "src" / "routeyard" / "api" / "openapi.json"
API_VERSION = "1.0.0"  # version of this API description, not of the package
ROOT_SERVER: list[Json] = [{"url": "/", "description": "The server root, outside /api/v1."}]

# Known values, as OpenRouter publishes them (2025-10 spec, extended by the 2026 spec). Clients
# should treat every enum as open: OpenRouter's SDKs accept values they do not know.
MODEL_GROUPS = (
    "Router", "Media", "Other", "GPT", "Claude", "Gemini", "Gemma", "Grok", "Cohere", "Nova",
    "Qwen", "Yi", "DeepSeek", "Mistral", "Llama2", "Llama3", "Llama4", "PaLM", "RWKV", "Qwen3",
)
INSTRUCT_TYPES = (
    "none", "airoboros", "alpaca", "alpaca-modif", "chatml", "claude", "code-llama", "gemma",
    "llama2", "llama3", "mistral", "nemotron", "neural", "openchat", "phi3", "rwkv", "vicuna",
    "zephyr", "deepseek-r1", "deepseek-v3.1", "qwq", "qwen3",
)
INPUT_MODALITIES = ("text", "image", "file", "audio", "video")
OUTPUT_MODALITIES = (
    "text", "image", "embeddings", "audio", "video", "rerank", "speech", "transcription",
)
PARAMETERS = (
    "temperature", "top_p", "top_k", "min_p", "top_a", "frequency_penalty", "presence_penalty",
    "repetition_penalty", "max_tokens", "max_completion_tokens", "logit_bias", "logprobs",
    "top_logprobs", "prediction", "seed", "response_format", "structured_outputs", "stop",
    "tools", "tool_choice", "parallel_tool_calls", "include_reasoning", "reasoning",
    "reasoning_effort", "web_search_options", "verbosity",
)
QUANTIZATIONS = (
    "int4", "int8", "fp4", "mxfp4", "nvfp4", "fp6", "fp8", "mxfp8", "fp16", "bf16", "fp32",
    "unknown",
)
ENDPOINT_STATUSES = (0, -1, -2, -3, -5, -10)
SERVICE_TIERS = ("flex", "priority", "ultrafast")
# The price keys of OpenRouter's 2025-10 spec, in the order it serves them. That spec forbids
# any other key (additionalProperties: false), so this is the full set routeyard may send.
PRICE_KEYS: tuple[tuple[str, str], ...] = (
    ("prompt", "USD per input token."),
    ("completion", "USD per output token."),
    ("request", "USD per request."),
    ("image", "USD per input image."),
    ("image_output", "USD per output image."),
    ("audio", "USD per audio input token."),
    ("input_audio_cache", "USD per cached audio input token."),
    ("web_search", "USD per web search."),
    ("internal_reasoning", "USD per internal reasoning token."),
    ("input_cache_read", "USD per cached input token read."),
    ("input_cache_write", "USD per input token written to the cache."),
)
PRICE_PATTERN = r"^[0-9]+(\.[0-9]+)?$"


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def or_null(schema: Json, description: str = "") -> Json:
    """``schema`` or ``null``, in OpenAPI 3.1 form (a ``type`` array, or ``anyOf`` for a ref)."""
    if "$ref" in schema:
        out: Json = {"anyOf": [schema, {"type": "null"}]}
    else:
        out = dict(schema)
        out["type"] = [schema["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if description:
        out["description"] = description
    return out


def obj(properties: Json, description: str = "", *, closed: bool = False) -> Json:
    """An object whose every property is required: routeyard always sends them all."""
    out: Json = {"type": "object"}
    if description:
        out["description"] = description
    out["properties"] = properties
    out["required"] = list(properties)
    if closed:
        out["additionalProperties"] = False
    return out


def enum(values: tuple[Any, ...], description: str, kind: str = "string") -> Json:
    return {"type": kind, "description": description, "enum": list(values)}


def pricing(description: str) -> Json:
    properties: Json = {
        key: {"type": "string", "pattern": PRICE_PATTERN, "description": text}
        for key, text in PRICE_KEYS
    }
    properties["discount"] = {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "Fraction off every price: the effective price is price × (1 − discount).",
    }
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": ["prompt", "completion"],
        "additionalProperties": False,
    }


def percentiles(what: str) -> Json:
    return or_null(
        ref("PercentileStats"),
        f"{what} over the last 30 minutes; null when there is too little data, and for "
        "callers without a key (as on OpenRouter).",
    )


def uptime(window: str) -> Json:
    return {
        "type": ["number", "null"],
        "minimum": 0,
        "maximum": 100,
        "description": f"Uptime percentage (0–100, unrounded) over the last {window}; null when "
        "there is too little traffic to say.",
    }


def schemas() -> Json:
    """Every component schema, in reading order."""
    return {
        "ListEndpointsResponse": obj(
            {
                "id": {
                    "type": "string",
                    "description": "Model id, e.g. `qwen/qwen3-235b-a22b-thinking-2507`.",
                },
                "name": {"type": "string", "description": "Display name of the model."},
                "created": {"type": "integer", "description": "Unix seconds."},
                "description": {"type": "string"},
                "architecture": ref("ModelArchitecture"),
                "endpoints": {
                    "type": "array",
                    "items": ref("PublicEndpoint"),
                    "description": "The model's endpoints, in the catalog's order.",
                },
            },
            "A model and all its endpoints.",
        ),
        "PublicEndpoint": obj(
            {
                "name": {
                    "type": "string",
                    "description": "`<provider display name> | <model permaslug>`. Not unique: "
                    "two endpoints of one provider may differ only in `tag`.",
                },
                "model_id": {"type": "string", "description": "The model's public id (permaslug)."},
                "model_name": {"type": "string", "description": "The model's display name."},
                "context_length": {"type": "integer", "minimum": 1, "description": "Tokens."},
                "pricing": ref("PublicEndpointPricing"),
                "provider_name": ref("ProviderName"),
                "tag": {
                    "type": "string",
                    "description": "Routing slug: the provider slug plus an optional variant "
                    "(quantization `deepinfra/fp8`, region `google-vertex/us-east5`, tier "
                    "`openai/flex`). Unique within a model.",
                },
                "quantization": or_null(ref("Quantization")),
                "max_completion_tokens": {"type": ["integer", "null"]},
                "max_prompt_tokens": {"type": ["integer", "null"]},
                "supported_parameters": {"type": "array", "items": ref("Parameter")},
                "status": ref("EndpointStatus"),
                "uptime_last_30m": uptime("30 minutes"),
                "uptime_last_5m": uptime("5 minutes"),
                "uptime_last_1d": uptime("day"),
                "latency_last_30m": percentiles("Time to first token, in milliseconds,"),
                "throughput_last_30m": percentiles("Output tokens per second"),
                "supports_implicit_caching": {
                    "type": "boolean",
                    "description": "The provider caches prompts automatically.",
                },
                "service_tier": or_null(ref("ServiceTier")),
                "supports_tool_choice": ref("ToolChoiceSupport"),
                "native_tools": {
                    "type": "object",
                    "additionalProperties": ref("NativeTool"),
                    "description": "Tools the provider runs natively, by tool name; may be `{}`.",
                },
                "supports_diarization": {"type": "boolean"},
            },
            "One endpoint: a provider serving the model. routeyard always sends every field, "
            "`status` included (optional on OpenRouter).",
        ),
        "PublicEndpointPricing": pricing(
            "Prices in USD as decimal strings, exactly as the catalog holds them: never "
            "floats, never exponents. `\"0\"` means free; an absent key is not charged."
        ),
        "ModelArchitecture": obj(
            {
                "tokenizer": or_null(ref("ModelGroup")),
                "instruct_type": ref("InstructType"),
                "modality": {
                    "type": ["string", "null"],
                    "description": "e.g. `text+image->text`.",
                },
                "input_modalities": {"type": "array", "items": ref("InputModality")},
                "output_modalities": {"type": "array", "items": ref("OutputModality")},
            }
        ),
        "ModelGroup": enum(MODEL_GROUPS, "Tokenizer family. Known values; treat as open."),
        "InstructType": or_null(
            enum(INSTRUCT_TYPES, ""), "Instruction format. Known values; treat as open."
        ),
        "InputModality": enum(INPUT_MODALITIES, "Known values; treat as open."),
        "OutputModality": enum(OUTPUT_MODALITIES, "Known values; treat as open."),
        "Parameter": enum(PARAMETERS, "A request parameter name. Known values; treat as open."),
        "ProviderName": {
            "type": "string",
            "description": "Provider display name, as the operator's catalog spells it. An open "
            "set, deliberately without an enum: OpenRouter's own names (`DeepInfra`, "
            "`Google AI Studio`, `Amazon Bedrock`, …) and a provider of the operator's own "
            "are equally valid.",
            "examples": ["DeepInfra", "Google AI Studio", "Amazon Bedrock", "Chutes"],
        },
        "Quantization": enum(QUANTIZATIONS, "Weight precision. Known values; treat as open."),
        "EndpointStatus": enum(
            ENDPOINT_STATUSES,
            "0: normal. Negative: deranked (served, tried after the others). -10: disabled by "
            "the operator.",
            "integer",
        ),
        "ServiceTier": enum(SERVICE_TIERS, "The provider's service tier."),
        "PercentileStats": obj(
            {p: {"type": "number"} for p in ("p50", "p75", "p90", "p99")}
        ),
        "ToolChoiceSupport": obj(
            {v: {"type": "boolean"} for v in ("auto", "function", "none", "required")},
            "Which `tool_choice` values the endpoint supports.",
        ),
        "NativeTool": obj({"type": {"type": "string"}}),
        "ModelsListResponse": obj(
            {
                "data": {"type": "array", "items": ref("Model")},
                "links": obj(
                    {"next": {"type": ["string", "null"], "description": "Always null."}},
                    "Pagination links: routeyard returns the whole list at once.",
                ),
                "total_count": {"type": "integer", "description": "Length of `data`."},
            }
        ),
        "Model": obj(
            {
                "id": {"type": "string", "description": "e.g. `deepseek/deepseek-r1:free`."},
                "canonical_slug": {"type": "string", "description": "Permaslug."},
                "name": {"type": "string"},
                "created": {"type": "integer", "description": "Unix seconds."},
                "description": {"type": "string"},
                "pricing": ref("PublicPricing"),
                "context_length": {"type": ["integer", "null"]},
                "architecture": ref("ModelArchitecture"),
                "top_provider": ref("TopProviderInfo"),
                "per_request_limits": or_null(ref("PerRequestLimits")),
                "supported_parameters": {"type": "array", "items": ref("Parameter")},
                "default_parameters": or_null(ref("DefaultParameters")),
                "hugging_face_id": {"type": ["string", "null"]},
                "links": ref("ModelLinks"),
                "supported_voices": {
                    "type": ["array", "null"],
                    "items": {"type": "string"},
                    "description": "Voice ids of a TTS model; null otherwise.",
                },
                "knowledge_cutoff": {"type": ["string", "null"], "description": "YYYY-MM-DD."},
                "expiration_date": {"type": ["string", "null"], "description": "YYYY-MM-DD."},
            },
            "A model of the catalog.",
        ),
        "PublicPricing": pricing("The model's prices, as for an endpoint."),
        "TopProviderInfo": obj(
            {
                "context_length": {"type": ["integer", "null"]},
                "max_completion_tokens": {"type": ["integer", "null"]},
                "is_moderated": {"type": "boolean"},
            }
        ),
        "PerRequestLimits": obj(
            {"prompt_tokens": {"type": "number"}, "completion_tokens": {"type": "number"}}
        ),
        "DefaultParameters": {
            "type": "object",
            "description": "Sampling defaults; only the keys OpenRouter's 2025-10 spec allows.",
            "properties": {
                "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
                "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "frequency_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
            },
            "additionalProperties": False,
        },
        "ModelLinks": obj(
            {"details": {"type": "string", "description": "Path of the model's endpoints list."}}
        ),
        "ModelsCountResponse": obj({"data": obj({"count": {"type": "integer", "minimum": 0}})}),
        "ProvidersListResponse": obj({"data": {"type": "array", "items": ref("ProviderInfo")}}),
        "ProviderInfo": obj(
            {
                "name": {"type": "string", "description": "Display name (`provider_name`)."},
                "slug": {"type": "string", "description": "Base of every endpoint tag."},
                "privacy_policy_url": {"type": ["string", "null"]},
                "terms_of_service_url": {"type": ["string", "null"]},
                "status_page_url": {"type": ["string", "null"]},
            }
        ),
        "ListEndpointsResponseEnvelope": obj({"data": ref("ListEndpointsResponse")}),
        "HealthResponse": obj({"status": {"type": "string", "const": "ok"}}),
        "ErrorResponse": obj(
            {
                "error": obj(
                    {
                        "code": {"type": "integer", "description": "Equals the HTTP status."},
                        "message": {"type": "string"},
                        "metadata": {"type": ["object", "null"]},
                    }
                ),
                "user_id": {"type": ["string", "null"]},
            },
            "OpenRouter's error envelope, the body of every non-2xx response.",
        ),
    }


ERRORS: dict[str, tuple[str, str]] = {
    "400": ("BadRequest", "A malformed request."),
    "401": ("Unauthorized", "No valid API key (unless the operator made discovery public)."),
    "404": ("NotFound", "No such model in the catalog."),
    "500": ("InternalServerError", "An unexpected server error."),
    "503": ("ServiceUnavailable", "The catalog database cannot be reached."),
}


def error_responses() -> Json:
    return {
        name: {
            "description": text,
            "content": {"application/json": {"schema": ref("ErrorResponse")}},
        }
        for name, text in ERRORS.values()
    }


def ok(description: str, schema_name: str, *, cached: bool = True) -> Json:
    response: Json = {
        "description": description,
        "content": {"application/json": {"schema": ref(schema_name)}},
    }
    if cached:
        response["headers"] = {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}
    return response


def responses(success: Json, *codes: str) -> Json:
    out: Json = {"200": success}
    for code in codes:
        out[code] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
    return out


def query(name: str, description: str) -> Json:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string"}}


def path_param(name: str, description: str) -> Json:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


# ---------------------------------------------------------------------------------------------
# Paths. Every operation routeyard serves is declared in one of the functions below, and
# build() merges them in PATH_GROUPS order. To add the admin API, fill admin_paths() with
# "/admin/..." path items (tag "Admin", their schemas added to schemas(), their errors through
# responses(...)) and add the "Admin" tag to TAGS. Paths are relative to the /api/v1 server; a
# path item living elsewhere overrides it with `"servers": ROOT_SERVER`, as /healthz does.
# ---------------------------------------------------------------------------------------------


def discovery_paths() -> Json:
    return {
        "/models": {
            "get": {
                "operationId": "getModels",
                "tags": ["Models"],
                "summary": "List all models",
                "parameters": [
                    query("supported_parameters", "Comma-separated parameter names: only models "
                          "supporting all of them are listed."),
                    query("category", "Filter models by use-case category, e.g. `programming`."),
                ],
                "responses": responses(
                    ok("The catalog's models.", "ModelsListResponse"), "400", "401", "500", "503"
                ),
            }
        },
        "/models/count": {
            "get": {
                "operationId": "listModelsCount",
                "tags": ["Models"],
                "summary": "Count the models",
                "responses": responses(
                    ok("The number of models.", "ModelsCountResponse"), "401", "500", "503"
                ),
            }
        },
        "/models/{author}/{slug}/endpoints": {
            "get": {
                "operationId": "listEndpoints",
                "tags": ["Endpoints"],
                "summary": "List all endpoints for a model",
                "parameters": [
                    path_param("author", "First part of the model id, e.g. `qwen`."),
                    path_param("slug", "Rest of the model id, variant included, e.g. "
                               "`qwen3-235b-a22b-thinking-2507` or `deepseek-r1:free`."),
                ],
                "responses": responses(
                    ok("The model and its endpoints.", "ListEndpointsResponseEnvelope"),
                    "400", "401", "404", "500", "503",
                ),
            }
        },
        "/providers": {
            "get": {
                "operationId": "listProviders",
                "tags": ["Providers"],
                "summary": "List all providers",
                "responses": responses(
                    ok("The catalog's providers.", "ProvidersListResponse"), "401", "500", "503"
                ),
            }
        },
    }


def meta_paths() -> Json:
    return {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenAPIDocument",
                "tags": ["Meta"],
                "summary": "This OpenAPI document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/healthz": {
            "servers": ROOT_SERVER,
            "get": {
                "operationId": "getHealth",
                "tags": ["Meta"],
                "summary": "Liveness check",
                "security": [],
                "responses": {"200": ok("The server is up.", "HealthResponse", cached=False)},
            },
        },
    }


def admin_paths() -> Json:
    return {}  # reserved for /admin/... (see the comment above discovery_paths)


PATH_GROUPS = (discovery_paths, meta_paths, admin_paths)
TAGS: list[Json] = [
    {"name": "Models", "description": "The catalog's models."},
    {"name": "Endpoints", "description": "The endpoints (provider offers) of a model."},
    {"name": "Providers", "description": "The catalog's providers."},
    {"name": "Meta", "description": "Service description and health."},
]


def build() -> Json:
    """The whole OpenAPI document, as a JSON-ready dict (deterministic)."""
    paths: Json = {}
    for group in PATH_GROUPS:
        for path, item in group().items():
            if path in paths:
                raise ValueError(f"path declared twice: {path}")
            paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "routeyard",
            "version": API_VERSION,
            "description": "OpenRouter's discovery API, served from a catalog the operator owns. "
            "OpenRouter's official SDKs work against it with only the base URL changed.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "tags": TAGS,
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: `Authorization: Bearer <key>`. The operator may "
                    "make discovery public (setting `public_discovery`); requests without a key "
                    "are then served, with null latency and throughput.",
                }
            },
            "headers": {
                "CacheControl": {
                    "description": "The operator's setting `cache_control`; by default "
                    "OpenRouter's own `s-maxage=300, stale-while-revalidate=600`.",
                    "schema": {"type": "string"},
                }
            },
            "responses": error_responses(),
            "schemas": schemas(),
        },
    }


def render(document: Json) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(build()), encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
