#!/usr/bin/env python3
"""Generate ``src/routeyard/api/openapi.json``: the OpenAPI 3.1 description of routeyard's API.

Run ``python scripts/build_openapi.py`` after changing a wire type or this file:
``tests/test_openapi_doc.py`` fails while the committed document differs from what
:func:`build` returns.

The discovery API's schemas are not written here: they are derived from the msgspec Structs
that build the responses (:mod:`routeyard.wire`; the prices from :class:`routeyard.models.Prices`)
with ``msgspec.json.schema_components``, plus what those types cannot say (:func:`derived`):
the discovery encoder writes a Decimal as a JSON number, every field is sent (required) but
an ``UNSET`` one, and a field an ``omit_defaults`` Struct leaves out when it is None is
optional, never null. This file keeps the paths (checked against the app's route table,
:func:`routeyard.api.routes`: every operation under /api/v1 is declared here and every
operation declared here is served), the known values of the named scalars, and the schemas
of the other APIs. The discovery schemas follow OpenRouter's
published ones of 2025-10 plus the fields that its current Python SDK (``openrouter`` 1.3.x)
requires: every field routeyard always sends is ``required``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import msgspec
from starlette.routing import BaseRoute, Route

from routeyard import models, preferences, wire
from routeyard.accounting import wire as accounting_wire
from routeyard.api import routes

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
ENDPOINT_STATUSES = (0, -1, -2, -3, -5, -10)
PRICE_PATTERN = models.PRICE_PATTERN


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


def open_enum(values: tuple[str, ...], description: str) -> Json:
    """A string whose known values are ``values`` but any other is valid too: the catalog may
    hold values OpenRouter has not published (yet), and OpenRouter's SDKs accept them."""
    return {"type": "string", "description": f"{description} Known values are the examples; "
            "others are valid.", "examples": list(values)}


def _struct_types(types: tuple[Any, ...]) -> dict[str, type[msgspec.Struct]]:
    """Every Struct class reachable from ``types``, by component name."""
    found: dict[str, type[msgspec.Struct]] = {}

    def walk(info: msgspec.inspect.Type) -> None:
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls.__name__ in found:
                return
            found[info.cls.__name__] = info.cls
            for field in info.fields:
                walk(field.type)
        for name in ("item_type", "value_type", "types", "type"):
            inner = getattr(info, name, None)
            if isinstance(inner, tuple):
                for item in inner:
                    walk(item)
            elif isinstance(inner, msgspec.inspect.Type):
                walk(inner)

    for info in msgspec.inspect.multi_type_info(types):
        walk(info)
    return found


def _numbers(node: Any) -> Any:
    """msgspec describes a Decimal as a string; the discovery encoder
    (``decimal_format="number"``) writes it as a JSON number."""
    if isinstance(node, dict):
        out = {k: _numbers(v) for k, v in node.items()}
        if out.get("type") == "string" and out.get("format") == "decimal":
            del out["format"]
            out["type"] = "number"
        return out
    if isinstance(node, list):
        return [_numbers(v) for v in node]
    return node


def _sent(schema: Json, cls: type[msgspec.Struct]) -> None:
    """What is on the wire, where msgspec's schema says what a decoder needs: a Struct
    without ``omit_defaults`` sends every field but an ``UNSET`` one (required, defaults
    or not); one with it leaves a None field out (optional, never null)."""
    fields = msgspec.structs.fields(cls)
    if not cls.__struct_config__.omit_defaults:
        schema["required"] = [f.encode_name for f in fields if f.default is not msgspec.UNSET]
        for prop in schema["properties"].values():
            prop.pop("default", None)  # a decoder's notion; every field is sent
    else:
        for field in fields:
            if field.default is None:
                prop = schema["properties"][field.encode_name]
                prop.pop("default", None)
                branches = [b for b in prop.pop("anyOf") if b != {"type": "null"}]
                assert len(branches) == 1, (cls, field.name)
                schema["properties"][field.encode_name] = {**prop, **branches[0]}
    if not schema.get("required"):
        schema.pop("required", None)


def _ref_not_type(node: Any) -> Any:
    """A named scalar (:func:`routeyard.wire.named`) is its component: drop msgspec's
    ``type`` beside the ``$ref``."""
    if isinstance(node, dict):
        out = {k: _ref_not_type(v) for k, v in node.items()}
        if "$ref" in out:
            out.pop("type", None)
        return out
    if isinstance(node, list):
        return [_ref_not_type(v) for v in node]
    return node


def derived(types: tuple[Any, ...]) -> Json:
    """The component schemas of ``types`` (msgspec Structs) and of every Struct they hold:
    msgspec's JSON Schema, with what the types cannot say added (see the module's docstring)."""
    _, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}")
    for name, cls in _struct_types(types).items():
        _sent(components[name], cls)
        if cls.__doc__:  # msgspec copies the docstring as it is indented
            components[name]["description"] = " ".join(cls.__doc__.split())
    out: Json = _ref_not_type(_numbers(components))
    return out


def named_scalars() -> Json:
    """The scalars the wire types name (``routeyard.wire.named``) with their known values:
    the catalog's closed sets from routeyard.models, OpenRouter's published lists for the
    open ones."""
    return {
        "ModelGroup": open_enum(MODEL_GROUPS, "Tokenizer family."),
        "InstructType": open_enum(INSTRUCT_TYPES, "Instruction format."),
        "InputModality": open_enum(INPUT_MODALITIES, "An input modality."),
        "OutputModality": open_enum(OUTPUT_MODALITIES, "An output modality."),
        "Parameter": open_enum(PARAMETERS, "A request parameter name."),
        "ProviderName": {
            "type": "string",
            "description": "Provider display name, as the operator's catalog spells it. An open "
            "set, deliberately without an enum: OpenRouter's own names (`DeepInfra`, "
            "`Google AI Studio`, `Amazon Bedrock`, …) and a provider of the operator's own "
            "are equally valid.",
            "examples": ["DeepInfra", "Google AI Studio", "Amazon Bedrock", "Chutes"],
        },
        "Quantization": enum(models.QUANTIZATION_VALUES,
                             "Weight precision. Known values; treat as open."),
        "EndpointStatus": enum(
            ENDPOINT_STATUSES,
            "0: normal. Negative: deranked (served, tried after the others). -10: disabled by "
            "the operator.",
            "integer",
        ),
        "ServiceTier": enum(models.SERVICE_TIER_VALUES, "The provider's service tier."),
    }


def schemas() -> Json:
    """Every component schema: the wire types' first, then the named scalars, then those
    of the other APIs."""
    return {
        **derived((*wire.RESPONSES, models.Pricing, models.DataPolicy)),
        **named_scalars(),
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
        **admin_schemas(),
        **outcomes_schemas(),
        **key_schemas(),
        **accounting_schemas(),
    }


def optional(schema: Json, description: str = "") -> Json:
    """An optional field of an admin body: ``null`` means absent (and, in a PATCH, remove)."""
    return or_null(schema, description)


def admin_schemas() -> Json:
    """The admin API's bodies: the shapes of the catalog file (docs/catalog-format.md).

    Requests and responses share them; a response leaves out absent optional fields and
    false flags, as the catalog file does.
    """
    text = {"type": "string"}
    url = {"type": "string", "pattern": "^https?://", "description": "An http(s) URL without "
           "credentials."}
    flag = {"type": "boolean", "description": "Default false."}
    return {
        "AdminProvider": {
            "type": "object",
            "description": "A provider, as in the catalog file's `[[providers]]`.",
            "properties": {
                "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$", "maxLength": 128,
                         "description": "The base of every endpoint tag. Cannot be changed."},
                "name": {"type": "string", "maxLength": 256,
                         "description": "Display name (`provider_name` on the wire)."},
                "privacy_policy_url": optional(url),
                "terms_of_service_url": optional(url),
                "status_page_url": optional(url),
                "base_url": optional(url, "OpenAI-compatible API, for probes."),
                "api_key_env": optional(
                    {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 128},
                    "The NAME of the environment variable holding the provider's key (never "
                    "the key itself).",
                ),
                "probe_completion": optional(flag, "Opt in to paid completion probes."),
                "data_policy": optional(ref("DataPolicy"), "What the provider does "
                                        "with prompts; unknown when absent."),
            },
            "required": ["slug", "name"],
            "additionalProperties": False,
        },
        "AdminModel": {
            "type": "object",
            "description": "A model with its endpoints, as in the catalog file's `[[models]]`.",
            "properties": {
                "id": {"type": "string", "maxLength": 255,
                       "description": "`author/slug[:variant]`. Cannot be changed."},
                "canonical_slug": optional(text, "Permaslug; defaults to `id` (and is then "
                                           "left out of responses)."),
                "name": {"type": "string", "maxLength": 512},
                "created": {"type": "integer", "minimum": 0, "description": "Unix seconds."},
                "description": optional(text, "Default `\"\"`."),
                "hugging_face_id": optional(text),
                "tokenizer": optional(text),
                "instruct_type": optional(text),
                "modality": optional(text, "e.g. `text+image->text`."),
                "input_modalities": optional({"type": "array", "items": text},
                                             "Default `[\"text\"]`."),
                "output_modalities": optional({"type": "array", "items": text},
                                              "Default `[\"text\"]`."),
                "knowledge_cutoff": optional(text, "YYYY-MM-DD."),
                "expiration_date": optional(text, "YYYY-MM-DD."),
                "default_parameters": optional(
                    {"type": "object", "additionalProperties": {
                        "anyOf": [{"type": "number"},
                                  {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}]}},
                    "Sampling defaults, e.g. `{\"temperature\": \"0.6\"}`: numbers or "
                    "decimal strings in, decimal strings out.",
                ),
                "endpoints": {
                    "type": "array", "items": ref("AdminEndpoint"),
                    "description": "In serving order; tags unique. On `PUT` and `PATCH`, a "
                    "given list replaces the model's endpoints (those left out are deleted); "
                    "without it they are kept.",
                },
            },
            "required": ["id", "name", "created"],
            "additionalProperties": False,
        },
        "AdminEndpoint": {
            "type": "object",
            "description": "An endpoint of a model, as in the catalog file's "
            "`[[models.endpoints]]`.",
            "properties": {
                "provider": {"type": "string", "description": "A provider slug of the catalog."},
                "tag": {"type": "string", "maxLength": 255,
                        "description": "Default: the provider slug. Unique within the model; "
                        "cannot be changed. e.g. `deepinfra/fp8`."},
                "context_length": {"type": "integer", "minimum": 1},
                "max_completion_tokens": optional({"type": "integer", "minimum": 0}),
                "max_prompt_tokens": optional({"type": "integer", "minimum": 0}),
                "quantization": optional(enum(models.QUANTIZATION_VALUES, "Weight precision.")),
                "supported_parameters": optional({"type": "array", "items": text},
                                                 "Default `[]`."),
                "supports_implicit_caching": optional(flag),
                "service_tier": optional(enum(models.SERVICE_TIER_VALUES,
                                              "The provider's service tier.")),
                "supports_tool_choice": optional(
                    {"type": "object",
                     "properties": {v: {"type": "boolean"}
                                    for v in models.ToolChoiceSupport.__struct_fields__},
                     "additionalProperties": False},
                    "Default: all true when `tool_choice` is a supported parameter.",
                ),
                "native_tools": optional(
                    {"type": "object", "additionalProperties": {
                        "type": "object", "additionalProperties": {"type": "string"}}},
                    "Default `{}`.",
                ),
                "supports_diarization": optional(flag),
                "is_moderated": optional(flag),
                "disabled": optional(flag, "Served with status -10 and left out of `/models`."),
                "provider_model_id": optional(text, "The provider's own id, for probes."),
                "data_policy": optional(ref("DataPolicy"), "Overrides the provider's "
                                        "data policy, field by field."),
                "pricing": ref("Pricing"),
                "source": optional(text, "Provenance; set by the server when absent. Never "
                                   "returned."),
                "imported_at": optional({"type": "integer", "minimum": 0},
                                        "Unix seconds; set by the server. Never returned."),
            },
            "required": ["provider", "context_length", "pricing"],
            "additionalProperties": False,
        },
        "AdminProviderResponse": obj({"data": ref("AdminProvider")}),
        "AdminProviderListResponse": obj(
            {"data": {"type": "array", "items": ref("AdminProvider")}},
            "Every provider, sorted by slug.",
        ),
        "AdminModelResponse": obj({"data": ref("AdminModel")}),
        "AdminModelListResponse": obj(
            {"data": {"type": "array", "items": ref("AdminModel")}},
            "Every model with its endpoints, sorted by id.",
        ),
        "AdminEndpointResponse": obj({"data": ref("AdminEndpoint")}),
        "AdminEndpointListResponse": obj(
            {"data": {"type": "array", "items": ref("AdminEndpoint")}},
            "The model's endpoints, in serving order.",
        ),
        "MergePatch": {
            "type": "object",
            "description": "A JSON merge patch (RFC 7396): objects merge, `null` removes a key, "
            "any other value (arrays included) replaces. The result must be valid.",
        },
    }


ERRORS: dict[str, tuple[str, str]] = {
    "400": ("BadRequest", "A malformed request."),
    "401": ("Unauthorized", "No valid API key (unless the operator made discovery public)."),
    "402": ("PaymentRequired", "The key has reached its spend limit for the current period "
            "(docs/accounting.md); `error.metadata` holds `limit`, `usage` and `limit_reset`."),
    "403": ("Forbidden", "The API key is valid but not admin-scoped."),
    "404": ("NotFound", "No such model (on the admin API: or provider, or endpoint)."),
    "408": ("RequestTimeout", "The request body did not arrive within `body_read_timeout` "
            "(30 s by default)."),
    "409": ("Conflict", "The record exists already, is still in use, or changed meanwhile."),
    "412": ("PreconditionFailed", "`If-Match` does not match the record's current `ETag`: it "
            "changed since it was read (`error.metadata.etag` is the current tag)."),
    "413": ("PayloadTooLarge", "The request body is over the limit (by default 1 MiB on the admin "
            "API, 8 MiB for outcomes; settings `max_admin_body_bytes`, `max_ingest_body_bytes`)."),
    "429": ("TooManyRequests", "Over the key's rate limit (settings `rate_limit_read`, "
            "`rate_limit_admin`), or the address failed authentication too often "
            "(`auth_failure_limit`). `Retry-After` and `error.metadata.retry_after` say in how "
            "many seconds to try again."),
    "500": ("InternalServerError", "An unexpected server error."),
    "503": ("ServiceUnavailable", "The catalog database cannot be reached."),
}


def error_responses() -> Json:
    out: Json = {
        name: {
            "description": text,
            "content": {"application/json": {"schema": ref("ErrorResponse")}},
        }
        for name, text in ERRORS.values()
    }
    out["TooManyRequests"]["headers"] = {"Retry-After": {
        "description": "Seconds until the request may be made again.",
        "schema": {"type": "integer", "minimum": 1},
    }}
    return out


def ok(description: str, schema_name: str, *, cached: bool = True) -> Json:
    response: Json = {
        "description": description,
        "content": {"application/json": {"schema": ref(schema_name)}},
    }
    if cached:
        response["headers"] = {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}
    return response


def responses(success: Json, *codes: str, status: str = "200") -> Json:
    out: Json = {status: success}
    for code in codes:
        out[code] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
    return out


def query(name: str, description: str, schema: Json | None = None) -> Json:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


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
                    query("output_modalities", "Comma-separated output modalities: only "
                          "models producing at least one of them are listed; `all` lists every "
                          "model."),
                    query("offset", "Number of models to skip (after filtering).",
                          {"type": "integer", "minimum": 0, "maximum": 999_999_999,
                           "default": 0}),
                    query("limit", "Page size (0 to 10000: more counts as 10000; 0 lists no "
                          "model, only `total_count`). With it, `links.next` is the path of "
                          "the next page, or null on the last.",
                          {"type": "integer", "minimum": 0, "maximum": 999_999_999}),
                    query("category", "Filter models by use-case category, e.g. `programming`. "
                          "Accepted and ignored."),
                ],
                "responses": responses(
                    ok("The catalog's models.", "ModelsListResponse"), "400", "401", "429", "500",
                    "503"
                ),
            }
        },
        "/models/count": {
            "get": {
                "operationId": "listModelsCount",
                "tags": ["Models"],
                "summary": "Count the models",
                "description": "The number of models `/models` lists with the same filters.",
                "parameters": [
                    query("supported_parameters", "As for `/models`."),
                    query("output_modalities", "As for `/models`."),
                ],
                "responses": responses(
                    ok("The number of models.", "ModelsCountResponse"), "401", "429", "500", "503"
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
                    "400", "401", "404", "429", "500", "503",
                ),
            }
        },
        "/model/{author}/{slug}": {
            "get": {
                "operationId": "getModel",
                "tags": ["Models"],
                "summary": "Get one model",
                "description": "The model as `/models` lists it. Ids are matched without regard "
                "to case; a model without an enabled endpoint is not found.",
                "parameters": [
                    path_param("author", "First part of the model id, e.g. `qwen`."),
                    path_param("slug", "Rest of the model id, variant included."),
                ],
                "responses": responses(
                    ok("The model.", "ModelResponse"), "400", "401", "404", "429", "500", "503",
                ),
            }
        },
        "/parameters/{author}/{slug}": {
            "get": {
                "operationId": "getParameters",
                "tags": ["Parameters"],
                "summary": "Get a model's supported parameters",
                "description": "The union of the parameters its enabled endpoints support, or "
                "of one provider's endpoints. `popularity` is null: routeyard does not measure "
                "it yet.",
                "parameters": [
                    path_param("author", "First part of the model id, e.g. `qwen`."),
                    path_param("slug", "Rest of the model id, variant included."),
                    query("provider", "A provider's display name or slug: only its endpoints "
                          "count (404 when it serves none of the model)."),
                ],
                "responses": responses(
                    ok("The model's parameters.", "ParametersResponse"),
                    "400", "401", "404", "429", "500", "503",
                ),
            }
        },
        "/embeddings/models": {
            "get": {
                "operationId": "listEmbeddingsModels",
                "tags": ["Models"],
                "summary": "List the embedding models",
                "description": "`/models` of the models whose output modalities include "
                "`embeddings`; same filters and paging.",
                "parameters": [
                    query("supported_parameters", "As for `/models`."),
                    query("offset", "As for `/models`.",
                          {"type": "integer", "minimum": 0, "maximum": 999_999_999}),
                    query("limit", "As for `/models`.",
                          {"type": "integer", "minimum": 0, "maximum": 999_999_999}),
                ],
                "responses": responses(
                    ok("The models.", "ModelsListResponse"), "400", "401", "429", "500", "503",
                ),
            }
        },
        "/models/{model_id}": {
            "get": {
                "operationId": "retrieveModelOpenAI",
                "tags": ["Models"],
                "summary": "Retrieve a model (OpenAI's shape)",
                "description": "What OpenAI's SDKs read with `models.retrieve`: they send the "
                "id's `/` as `%2F` (`/models/qwen%2Fqwen3-coder`); a plain `/` works too. "
                "404 names the model.",
                "parameters": [path_param("model_id", "The model id, e.g. `qwen/qwen3-coder`.")],
                "responses": responses(
                    ok("The model.", "OpenAIModel"), "401", "404", "429", "500", "503",
                ),
            }
        },
        "/providers": {
            "get": {
                "operationId": "listProviders",
                "tags": ["Providers"],
                "summary": "List all providers",
                "responses": responses(
                    ok("The catalog's providers.", "ProvidersListResponse"), "401", "429", "500",
                    "503"
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


ADMIN_SECURITY: list[Json] = [{"bearer": []}]
ADMIN_KEY = ("Needs an admin-scoped key (`routeyard keys create --admin`): a read key gets "
             "`403`, no key `401`.")
WRITE_NOTE = ("The change is one transaction; this process serves it at once, every other "
              "process within its refresh interval.")


IF_MATCH: Json = {
    "name": "If-Match", "in": "header", "required": False,
    "description": "Write only if the record's current `ETag` is one of these (`*`: any); "
    "otherwise `412` and nothing changes. Optimistic concurrency: send the `ETag` of the read "
    "the change is based on.",
    "schema": {"type": "string"},
}


def admin_op(operation_id: str, summary: str, description: str, success: Json, *codes: str,
             status: str = "200", body: Json | None = None,
             parameters: list[Json] | None = None) -> Json:
    """One admin operation: tag Admin, bearer security with admin scope, errors in the
    envelope (500 and 503 on every one, 401, 403 and 429 too). An operation that may
    answer 412 takes an If-Match header."""
    errors = sorted({"401", "403", "429", "500", "503", *codes})
    if "412" in codes:
        parameters = [*(parameters or []), IF_MATCH]
    out: Json = {
        "operationId": operation_id,
        "tags": ["Admin"],
        "summary": summary,
        "description": f"{description} {ADMIN_KEY}".strip(),
        "security": ADMIN_SECURITY,
    }
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    out["responses"] = responses(success, *errors, status=status)
    return out


def json_body(schema_name: str, description: str) -> Json:
    return {"required": True, "description": description,
            "content": {"application/json": {"schema": ref(schema_name)}}}


def patch_body(what: str) -> Json:
    return json_body("MergePatch", f"A JSON merge patch (RFC 7396) of {what}; the merged "
                     "record is validated as a whole.")


def admin_ok(description: str, schema_name: str) -> Json:
    response = ok(description, schema_name, cached=False)
    response["headers"] = {"ETag": {
        "description": "A strong entity tag of `data`; send it as `If-Match` with a change.",
        "schema": {"type": "string"}}}
    return response


DELETED: Json = {"description": "Deleted."}
BODY_ERRORS = ("400", "408", "413")


def model_params() -> list[Json]:
    return [
        path_param("author", "First part of the model id, e.g. `qwen`."),
        path_param("slug", "Rest of the model id, variant included. Case is ignored."),
    ]


def endpoint_params() -> list[Json]:
    return [*model_params(), path_param(
        "tag", "The endpoint's tag. A tag with a variant keeps its slash unencoded in the "
        "path: `.../endpoints/deepinfra/fp8`.")]


def admin_paths() -> Json:
    """Catalog changes under /admin (routeyard.api.admin). Bodies are the catalog file's
    shapes; validation is that of imports, and a 400 names each offending field in
    ``error.metadata.problems`` (``[{path, message}]``)."""
    slug = [path_param("slug", "The provider's slug, e.g. `deepinfra`.")]
    return {
        "/admin/providers": {
            "get": admin_op("adminListProviders", "List providers (admin form)",
                            "Every provider with all its fields, sorted by slug.",
                            admin_ok("The providers.", "AdminProviderListResponse")),
            "post": admin_op("adminCreateProvider", "Create a provider", WRITE_NOTE,
                             admin_ok("The provider as stored.", "AdminProviderResponse"),
                             *BODY_ERRORS, "409", status="201",
                             body=json_body("AdminProvider", "The new provider.")),
        },
        "/admin/providers/{slug}": {
            "get": admin_op("adminGetProvider", "Get a provider", "",
                            admin_ok("The provider.", "AdminProviderResponse"), "404",
                            parameters=slug),
            "put": admin_op("adminReplaceProvider", "Replace a provider",
                            f"Fields left out are cleared; `slug` cannot change. {WRITE_NOTE}",
                            admin_ok("The provider as stored.", "AdminProviderResponse"),
                            *BODY_ERRORS, "404", "409", "412", parameters=slug,
                            body=json_body("AdminProvider", "The whole provider.")),
            "patch": admin_op("adminUpdateProvider", "Update a provider", WRITE_NOTE,
                              admin_ok("The provider as stored.", "AdminProviderResponse"),
                              *BODY_ERRORS, "404", "409", "412", parameters=slug,
                              body=patch_body("AdminProvider")),
            "delete": admin_op("adminDeleteProvider", "Delete a provider",
                               f"Refused (`409`) while endpoints use it. {WRITE_NOTE}",
                               DELETED, "404", "409", "412", status="204", parameters=slug),
        },
        "/admin/models": {
            "get": admin_op("adminListModels", "List models (admin form)",
                            "Every model with its endpoints, sorted by id; disabled endpoints "
                            "and models without endpoints included.",
                            admin_ok("The models.", "AdminModelListResponse")),
            "post": admin_op("adminCreateModel", "Create a model",
                             f"With its endpoints, if any. {WRITE_NOTE}",
                             admin_ok("The model as stored.", "AdminModelResponse"),
                             *BODY_ERRORS, "409", status="201",
                             body=json_body("AdminModel", "The new model.")),
        },
        "/admin/models/{author}/{slug}": {
            "get": admin_op("adminGetModel", "Get a model", "",
                            admin_ok("The model with its endpoints.", "AdminModelResponse"),
                            "404", parameters=model_params()),
            "put": admin_op("adminReplaceModel", "Replace a model",
                            "Fields left out are reset to their defaults; `id` cannot change. "
                            "`endpoints`, when given, replaces the model's endpoints (those "
                            f"left out are deleted); when left out they are kept. {WRITE_NOTE}",
                            admin_ok("The model as stored.", "AdminModelResponse"),
                            *BODY_ERRORS, "404", "409", "412", parameters=model_params(),
                            body=json_body("AdminModel", "The whole model.")),
            "patch": admin_op("adminUpdateModel", "Update a model",
                              "A given `endpoints` array replaces the model's endpoints. "
                              + WRITE_NOTE,
                              admin_ok("The model as stored.", "AdminModelResponse"),
                              *BODY_ERRORS, "404", "409", "412", parameters=model_params(),
                              body=patch_body("AdminModel")),
            "delete": admin_op("adminDeleteModel", "Delete a model",
                               f"With its endpoints. {WRITE_NOTE}",
                               DELETED, "404", "409", "412", status="204", parameters=model_params()),
        },
        "/admin/models/{author}/{slug}/endpoints": {
            "get": admin_op("adminListEndpoints", "List a model's endpoints (admin form)",
                            "In serving order, disabled ones included.",
                            admin_ok("The endpoints.", "AdminEndpointListResponse"), "404",
                            parameters=model_params()),
            "post": admin_op("adminCreateEndpoint", "Add an endpoint to a model",
                             f"Served after the model's other endpoints. {WRITE_NOTE}",
                             admin_ok("The endpoint as stored.", "AdminEndpointResponse"),
                             *BODY_ERRORS, "404", "409", status="201",
                             parameters=model_params(),
                             body=json_body("AdminEndpoint", "The new endpoint.")),
        },
        "/admin/models/{author}/{slug}/endpoints/{tag}": {
            "get": admin_op("adminGetEndpoint", "Get an endpoint", "",
                            admin_ok("The endpoint.", "AdminEndpointResponse"), "404",
                            parameters=endpoint_params()),
            "put": admin_op("adminReplaceEndpoint", "Replace an endpoint",
                            "Fields left out are reset to their defaults (`disabled` too); "
                            f"`tag` cannot change. {WRITE_NOTE}",
                            admin_ok("The endpoint as stored.", "AdminEndpointResponse"),
                            *BODY_ERRORS, "404", "409", "412", parameters=endpoint_params(),
                            body=json_body("AdminEndpoint", "The whole endpoint.")),
            "patch": admin_op("adminUpdateEndpoint", "Update an endpoint",
                              "e.g. `{\"pricing\": {\"prompt\": \"0.0000002\"}}` changes one "
                              f"price. {WRITE_NOTE}",
                              admin_ok("The endpoint as stored.", "AdminEndpointResponse"),
                              *BODY_ERRORS, "404", "409", "412", parameters=endpoint_params(),
                              body=patch_body("AdminEndpoint")),
            "delete": admin_op("adminDeleteEndpoint", "Delete an endpoint", WRITE_NOTE,
                               DELETED, "404", "409", "412", status="204",
                               parameters=endpoint_params()),
        },
        "/admin/models/{author}/{slug}/endpoints/{tag}/disable": {
            "post": admin_op("adminDisableEndpoint", "Disable an endpoint",
                             "The endpoint stays listed with `status` -10 and no longer counts "
                             f"for `/models` (top provider, pricing). No body. {WRITE_NOTE}",
                             admin_ok("The endpoint as stored.", "AdminEndpointResponse"),
                             "404", "409", "412", parameters=endpoint_params()),
        },
        "/admin/models/{author}/{slug}/endpoints/{tag}/enable": {
            "post": admin_op("adminEnableEndpoint", "Enable an endpoint",
                             f"Undoes disable: `status` 0 again. No body. {WRITE_NOTE}",
                             admin_ok("The endpoint as stored.", "AdminEndpointResponse"),
                             "404", "409", "412", parameters=endpoint_params()),
        },
    }


OUTCOME_RESULTS = ("success", "upstream_error", "timeout", "rate_limited", "caller_error")
OUTCOME_SOURCES = ("probe", "traffic", "ingest")


def outcomes_schemas() -> Json:
    """The health ingest's batch (routeyard.health.ingest): one item per request another
    gateway made to an endpoint of the catalog (docs/health.md)."""
    count = {"type": "integer", "minimum": 0}
    duration = {"type": "number", "minimum": 0}
    return {
        "OutcomeBatch": {
            "type": "object",
            "description": "Outcomes reported by another gateway. The batch is checked whole: "
            "one bad item refuses it (`400` naming each one) and nothing is recorded.",
            "properties": {
                "outcomes": {"type": "array", "items": ref("OutcomeItem"), "minItems": 1,
                             "maxItems": 10_000},
            },
            "required": ["outcomes"],
            "additionalProperties": False,
        },
        "OutcomeItem": {
            "type": "object",
            "description": "One request to an endpoint and how it ended. `result` or "
            "`http_status` is required; without `result`, the status decides it (2xx success, "
            "429 rate limited, 408 and 504 timeout, 401 to 404 upstream error, other 4xx "
            "caller error, anything else upstream error).",
            "properties": {
                "model_id": {"type": "string", "description": "A model id of the catalog "
                             "(case ignored), e.g. `qwen/qwen3-32b`."},
                "tag": {"type": "string", "description": "The endpoint's tag within the model, "
                        "e.g. `deepinfra/fp8`."},
                "at": {"type": "number", "description": "When it happened, in Unix seconds; "
                       "default: now. Must lie within the kept window (the last day) and not "
                       "in the future."},
                "result": enum(OUTCOME_RESULTS, "How the request ended."),
                "http_status": {"type": "integer", "minimum": 100, "maximum": 599,
                                "description": "The upstream's HTTP status."},
                "ttft_ms": {**duration, "description": "Time to first token, milliseconds."},
                "output_tokens": {**count, "description": "Tokens generated."},
                "generation_ms": {**duration, "description": "First token to last, "
                                  "milliseconds."},
                "source": {**enum(OUTCOME_SOURCES, "Who measured it."), "default": "ingest"},
            },
            "required": ["model_id", "tag"],
            "anyOf": [{"required": ["result"]}, {"required": ["http_status"]}],
            "additionalProperties": False,
        },
        "OutcomeIngestResponse": obj({"data": obj({
            "accepted": {"type": "integer", "minimum": 0,
                         "description": "Outcomes recorded (all of the batch)."},
            "minutes": {"type": "integer", "minimum": 0,
                        "description": "Minute records they were added to."},
        })}),
    }


def outcomes_paths() -> Json:
    """``POST /admin/outcomes``: health ingest from another gateway (routeyard.api.ingest)."""
    return {
        "/admin/outcomes": {
            "post": admin_op(
                "adminIngestOutcomes", "Report outcomes (health ingest)",
                "Records outcomes another gateway observed, as if routeyard had measured them: "
                "they count for the endpoints' uptime, latency, throughput and status "
                "(docs/health.md). Stored before the answer; served by every process within "
                "its health refresh interval. The body may be up to 8 MiB (setting "
                "`max_ingest_body_bytes`).",
                admin_ok("The outcomes are stored.", "OutcomeIngestResponse"),
                "400", "408", "413",
                body=json_body("OutcomeBatch", "At most 10,000 outcomes."),
            ),
        },
    }


def router_schemas() -> Json:
    """The chat request's routing fields (routeyard.router.preferences) and the answers of
    the router's two routes. Only what routeyard reads is described; any other OpenAI
    parameter passes through to the provider."""
    slugs = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255}}
    price = {"anyOf": [{"type": "number", "minimum": 0},
                       {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}]}
    attempt = obj({"provider": {"type": "string"}, "provider_name": {"type": "string"},
                   "model": {"type": "string"}, "tag": {"type": "string"},
                   "status": {"type": ["integer", "null"]}, "reason": {"type": "string"}})
    return {
        "ProviderPreferences": {
            "type": "object",
            "description": "OpenRouter's `provider` object (docs/routing.md). Any other field "
            "is refused with 400.",
            "properties": {
                "allow_fallbacks": {"type": ["boolean", "null"]},
                "require_parameters": {"type": ["boolean", "null"]},
                "data_collection": {"enum": ["allow", "deny", None]},
                "zdr": {"type": ["boolean", "null"]},
                "order": {**slugs, "type": ["array", "null"]},
                "only": {**slugs, "type": ["array", "null"]},
                "ignore": {**slugs, "type": ["array", "null"]},
                "quantizations": {"type": ["array", "null"], "items": {"type": "string"}},
                "sort": {"enum": ["price", "throughput", "latency", None]},
                "max_price": {"type": ["object", "null"], "properties": {
                    k: price for k in ("prompt", "completion", "request", "image", "audio")},
                    "additionalProperties": False,
                    "description": "USD per million tokens (prompt, completion, audio), per "
                    "request, per image."},
                "experimental": {"type": ["object", "null"]},
            },
            "additionalProperties": False,
        },
        "ChatRequest": {
            "type": "object",
            "description": "OpenRouter's chat completions request. `model` (or `models`) and "
            "`messages` are required; other OpenAI parameters pass through.",
            "properties": {
                "model": {"type": "string", "minLength": 1, "maxLength": 255},
                "models": {**slugs, "maxItems": 16,
                           "description": "Fallback models, tried in order after `model`."},
                "messages": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["role"],
                    "properties": {
                        "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
                        "content": {"anyOf": [{"type": "string"},
                                              {"type": "array", "items": {"type": "object"}},
                                              {"type": "null"}]}}}},
                "provider": {"anyOf": [ref("ProviderPreferences"), {"type": "null"}]},
                "stream": {"type": "boolean", "default": False},
                "max_tokens": {"type": ["integer", "null"], "minimum": 1},
                "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
            },
            "required": ["messages"],
        },
        "ChatResponse": obj({
            "id": {"type": "string", "description": "`gen-…`; also the `X-Generation-Id` "
                   "header."},
            "object": {"const": "chat.completion"},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "provider": {"type": "string", "description": "Display name of the provider "
                         "that answered."},
            "system_fingerprint": {"type": ["string", "null"]},
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": obj({
                "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"},
                "total_tokens": {"type": "integer"},
                "prompt_tokens_details": {"type": "object"},
                "completion_tokens_details": {"type": "object"},
                "cost": {"type": "number", "description": "USD, from the catalog's prices of "
                         "the endpoint that answered."}}),
        }),
        "RouterPlanResponse": obj({"data": obj({
            "models": {"type": "array", "items": {"type": "string"}},
            "order": {"type": ["string", "null"], "description": "`default`, `order`, "
                      "`price`, `throughput` or `latency`."},
            "attempts": {"type": "array", "items": obj({
                "model": {"type": "string"}, "provider": {"type": "string"},
                "provider_name": {"type": "string"}, "tag": {"type": "string"},
                "upstream_model": {"type": "string"}})},
            "excluded": {"type": "array", "items": obj({
                "model": {"type": "string"}, "provider": {"type": "string"},
                "tag": {"type": "string"}, "reason": {"type": "string"}})},
        })}),
        "RouterAttempt": attempt,
    }


def router_paths() -> Json:
    """The router (routeyard.api.chat)."""
    body = json_body("ChatRequest", "A chat completions request (any valid key).")
    chat_ok: Json = {
        "description": "The answer (`stream: false`), or an SSE stream of "
        "`chat.completion.chunk` objects ending in `data: [DONE]` (`stream: true`).",
        "headers": {
            "X-Generation-Id": {"schema": {"type": "string"}},
            "Server-Timing": {"description": "`routeyard;dur=…, upstream;dur=…` (ms).",
                              "schema": {"type": "string"}},
        },
        "content": {"application/json": {"schema": ref("ChatResponse")},
                    "text/event-stream": {"schema": {"type": "string"}}},
    }
    return {
        "/chat/completions": {"post": {
            "operationId": "sendChatCompletionRequest",
            "tags": ["Router"],
            "summary": "Create a chat completion",
            "description": "Routes the request to an endpoint of the catalog by OpenRouter's "
            "rules, with fallbacks (docs/routing.md). 404: no endpoint left for the request; "
            "429: every endpoint rate-limited; 502: every attempt failed "
            "(`error.metadata.attempts`).",
            "requestBody": body,
            "responses": {
                **responses(chat_ok, "400", "401", "404", "413", "429", "500", "503"),
                "502": {"description": "Every attempt failed.",
                        "content": {"application/json": {"schema": ref("ErrorResponse")}}},
            },
        }},
        "/router/plan": {"post": {
            "operationId": "planRoute",
            "tags": ["Router"],
            "summary": "Plan a chat completion without sending it",
            "description": "The attempts the same body would make, in order, and why every "
            "other endpoint of its models is left out. Calls no provider.",
            "parameters": [query("seed", "Seed of the default order's weighted draw, for a "
                                 "reproducible plan.", {"type": "string", "pattern": "^[0-9]{1,18}$"})],
            "requestBody": body,
            "responses": responses(admin_ok("The plan.", "RouterPlanResponse"),
                                   "400", "401", "413", "429", "500"),
        }},
    }


def key_schemas() -> Json:
    """Key preferences (routeyard.preferences): the names of OpenRouter's request
    ``provider`` object."""
    # The stored and returned form (every field sent) and, as msgspec's decoder reads it,
    # the input form (a missing field takes its default).
    _, decoded = msgspec.json.schema_components(
        (preferences.KeyPreferences,), ref_template="#/components/schemas/{name}")
    given = _ref_not_type(decoded["KeyPreferences"])
    given.pop("required", None)  # every field may be left out
    for prop in given["properties"].values():
        prop.pop("default", None)  # said in the description
    return {
        **derived((preferences.KeyPreferences,)),
        "KeyPreferencesInput": {
            **given, "title": "KeyPreferencesInput",
            "description": "Preferences to store; a missing field takes its default (no "
            "ignored provider, any quantization, `allow`, `false`).",
        },
        "KeyPreferencesResponse": obj({"data": obj({
            "key": obj({"id": {"type": "integer"}, "name": {"type": "string"},
                        "prefix": {"type": "string"}}),
            "preferences": ref("KeyPreferences"),
        })}),
    }


def key_paths() -> Json:
    """``/models/user`` and the admin API of key preferences (routeyard.api.user,
    routeyard.api.admin_keys)."""
    key = [path_param("key", "The key's id or prefix (as `routeyard keys list` shows).")]
    return {
        "/models/user": {
            "get": {
                "operationId": "listModelsUser",
                "tags": ["Models"],
                "summary": "List the models the calling key's preferences allow",
                "description": "`/models`, less the models with no enabled endpoint that the "
                "key's stored preferences allow (`ignore`, `quantizations`, `data_collection`, "
                "`zdr`). Always needs a key, even where discovery is public. Same filters and "
                "paging as `/models`.",
                "parameters": [
                    query("supported_parameters", "As for `/models`."),
                    query("output_modalities", "As for `/models`."),
                    query("offset", "As for `/models`.",
                          {"type": "integer", "minimum": 0, "maximum": 999_999_999}),
                    query("limit", "As for `/models`.",
                          {"type": "integer", "minimum": 0, "maximum": 999_999_999}),
                ],
                "responses": responses(
                    ok("The models.", "ModelsListResponse"), "400", "401", "429", "500", "503",
                ),
            }
        },
        "/endpoints/zdr": {
            "get": {
                "operationId": "listEndpointsZdr",
                "tags": ["Endpoints"],
                "summary": "List the zero-data-retention endpoints",
                "description": "Every enabled endpoint whose data policy (the provider's, "
                "overridden per endpoint) is zero data retention: declared `zdr`, or known "
                "to neither retain nor train on prompts. Models in `/models` order, endpoints "
                "in catalog order; latency and throughput null without a key.",
                "responses": responses(
                    ok("The endpoints.", "ZdrEndpointsResponse"), "401", "429", "500", "503",
                ),
            }
        },
        "/admin/keys/{key}/preferences": {
            "get": admin_op("adminGetKeyPreferences", "A key's preferences", "",
                            admin_ok("The key and its preferences.", "KeyPreferencesResponse"),
                            "404", parameters=key),
            "put": admin_op("adminSetKeyPreferences", "Replace a key's preferences", WRITE_NOTE,
                            admin_ok("The key and its preferences.", "KeyPreferencesResponse"),
                            *BODY_ERRORS, "404", parameters=key,
                            body=json_body("KeyPreferencesInput", "The new preferences.")),
            "patch": admin_op("adminPatchKeyPreferences", "Change a key's preferences",
                              WRITE_NOTE,
                              admin_ok("The key and its preferences.", "KeyPreferencesResponse"),
                              *BODY_ERRORS, "404", parameters=key,
                              body=patch_body("the key's preferences")),
        },
    }


USD = {"type": "number", "minimum": 0}
RESET = accounting_wire.RESETS


def accounting_schemas() -> Json:
    """``/key``, ``/generation`` and ``/activity`` (derived from routeyard.accounting.wire's
    Structs: every field of OpenRouter's 2025-10 spec and those its Python SDK 1.3.x
    requires), and the admin form of keys."""
    return {
        **derived(accounting_wire.RESPONSES),
        "AdminKeyPatch": {
            "type": "object", "additionalProperties": False,
            "description": "Fields to change; the others stay.",
            "properties": {
                "limit": {"anyOf": [USD, {"type": "string", "pattern": PRICE_PATTERN},
                                    {"type": "null"}],
                          "description": "Spend limit in USD (a number or a decimal string); "
                          "null removes it."},
                "limit_reset": or_null(enum((*RESET, "never"), "When usage counted against "
                                            "the limit restarts (UTC); null or never: never.")),
            },
        },
    }


def accounting_paths() -> Json:
    """routeyard.api.accounting: the calling key, generations, activity, key limits."""
    key_param = [path_param("key", "The key's id or prefix (`sk-ry-v1-…`, 17 characters).")]
    return {
        "/key": {"get": {
            "operationId": "getCurrentKey", "tags": ["API Keys"],
            "summary": "Get the calling API key: its limit and usage",
            "description": "Usage is what every replica recorded, as of this process's last "
            "read (within the refresh interval), plus what this process recorded since.",
            "responses": responses(admin_ok("The calling key.", "CurrentKeyResponse"),
                                   "401", "429", "500", "503"),
        }},
        "/generation": {"get": {
            "operationId": "getGeneration", "tags": ["Generations"],
            "summary": "Get a generation's metadata and cost",
            "description": "Served to the key that made it and to admin keys (anyone else: "
            "404), as soon as the response ended on the process that served it and on every "
            "other within the accounting flush interval. Kept `generation_retention_days`.",
            "parameters": [{"name": "id", "in": "query", "required": True,
                            "schema": {"type": "string", "minLength": 1},
                            "description": "The `gen-…` id (`X-Generation-Id`)."}],
            "responses": responses(admin_ok("The generation.", "GenerationResponse"),
                                   "400", "401", "404", "429", "500", "503"),
        }},
        "/activity": {"get": {
            "operationId": "getUserActivity", "tags": ["Analytics"],
            "summary": "Usage by UTC day, model and provider (admin key)",
            "description": f"The last 30 UTC days and today, newest first. {ADMIN_KEY}",
            "parameters": [query("date", "Only this UTC day (YYYY-MM-DD) of that window.")],
            "responses": responses(admin_ok("The activity.", "ActivityResponse"),
                                   "400", "401", "403", "429", "500", "503"),
        }},
        "/admin/keys": {"get": admin_op(
            "adminListKeys", "List keys with their limits and usage", "",
            admin_ok("The keys.", "AdminKeyListResponse"))},
        "/admin/keys/{key}": {"patch": admin_op(
            "adminUpdateKey", "Change a key's spend limit", WRITE_NOTE,
            admin_ok("The key as stored.", "AdminKeyResponse"), "400", "404", "413",
            body=json_body("AdminKeyPatch", "The limit and its reset period."),
            parameters=key_param)},
    }


PATH_GROUPS = (discovery_paths, meta_paths, router_paths, admin_paths, outcomes_paths,
               key_paths, accounting_paths)
TAGS: list[Json] = [
    {"name": "Models", "description": "The catalog's models."},
    {"name": "Endpoints", "description": "The endpoints (provider offers) of a model."},
    {"name": "Providers", "description": "The catalog's providers."},
    {"name": "Parameters", "description": "The request parameters a model supports."},
    {"name": "Meta", "description": "Service description and health."},
    {"name": "Router", "description": "Chat completions routed across the catalog."},
    {"name": "Admin", "description": "Changes to the catalog (providers, models, endpoints) "
     "and to keys' spend limits. Every operation needs an admin-scoped key."},
    {"name": "API Keys", "description": "The calling key's limit and usage."},
    {"name": "Generations", "description": "What each routed request cost (docs/accounting.md)."},
    {"name": "Analytics", "description": "Usage by day, model and provider."},
]


def served(table: list[BaseRoute]) -> set[tuple[str, str]]:
    """``(method, path)`` of each operation of the route table under /api/v1 or declared at the
    server root, as the document spells them (relative to /api/v1, no HEAD, ``{tag:path}`` as
    ``{tag}``)."""
    out = set()
    for route in table:
        if not isinstance(route, Route):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for method in route.methods or ():
            if method != "HEAD":
                out.add((method.lower(), path))
    return out


def route_problems(paths: Json, table: list[BaseRoute]) -> list[str]:
    """What differs between the document's operations and the served ones; [] when none."""
    declared = set()
    for path, item in paths.items():
        full = path if item.get("servers") == ROOT_SERVER else "/api/v1" + path
        declared |= {(method, full) for method in item if method in HTTP_METHODS}
    serving = {(m, p) for m, p in served(table)
               if p.startswith("/api/v1/") or (m, p) in declared}
    return ([f"not in the document: {m.upper()} {p}" for m, p in sorted(serving - declared)]
            + [f"not served: {m.upper()} {p}" for m, p in sorted(declared - serving)])


HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def build() -> Json:
    """The whole OpenAPI document, as a JSON-ready dict (deterministic)."""
    paths: Json = {}
    for group in PATH_GROUPS:
        for path, item in group().items():
            if path in paths:
                raise ValueError(f"path declared twice: {path}")
            paths[path] = item
    problems = route_problems(paths, routes())
    if problems:
        raise ValueError("the document's paths differ from the route table: "
                         + "; ".join(problems))
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
                    "description": "`private, no-cache` (with `Vary: Authorization, "
                    "Accept-Encoding`) for every answer that depends on the caller's key: all "
                    "of them unless discovery is public, and the endpoints list always. "
                    "Otherwise the operator's setting `cache_control`, by default OpenRouter's "
                    "own `s-maxage=300, stale-while-revalidate=600`.",
                    "schema": {"type": "string"},
                }
            },
            "responses": error_responses(),
            "schemas": {**schemas(), **router_schemas()},
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
