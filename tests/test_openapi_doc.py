"""src/routeyard/api/openapi.json: up to date with scripts/build_openapi.py, valid, consistent."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Route

from routeyard.api import routes

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "build_openapi.py"
DOCUMENT = ROOT / "src" / "routeyard" / "api" / "openapi.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

Json = dict[str, Any]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_openapi", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_openapi = _load_script()


@pytest.fixture(scope="module")
def doc() -> Json:
    document: Json = build_openapi.build()
    return document


# The structure of an OpenAPI 3.1 document, transcribed from the specification (objects and
# fields routeyard may use; `x-` extensions allowed). Schema Objects are checked separately
# against the JSON Schema 2020-12 meta-schema, which is OpenAPI 3.1's schema dialect.
_EXT = {"^x-": True}
_REF = {"type": "object", "required": ["$ref"],
        "properties": {"$ref": {"type": "string"}, "summary": {"type": "string"},
                       "description": {"type": "string"}},
        "additionalProperties": False}


def _closed(properties: Json, required: tuple[str, ...] = ()) -> Json:
    return {"type": "object", "properties": properties, "required": list(required),
            "patternProperties": _EXT, "additionalProperties": False}


def _map(item: Json) -> Json:
    return {"type": "object", "additionalProperties": item}


def _or_ref(item: str) -> Json:
    return {"oneOf": [{"$ref": "#/$defs/ref"}, {"$ref": f"#/$defs/{item}"}]}


_STR = {"type": "string"}
_SCHEMA = {"type": ["object", "boolean"]}
OAS_31_STRUCTURE: Json = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$ref": "#/$defs/openapi",
    "$defs": {
        "ref": _REF,
        "openapi": _closed({
            "openapi": {"type": "string", "pattern": r"^3\.1\.\d+(-.+)?$"},
            "info": {"$ref": "#/$defs/info"},
            "jsonSchemaDialect": _STR,
            "servers": {"type": "array", "items": {"$ref": "#/$defs/server"}},
            "paths": {"type": "object", "patternProperties": {"^/": {"$ref": "#/$defs/pathItem"}},
                      "additionalProperties": False},
            "webhooks": _map({"$ref": "#/$defs/pathItem"}),
            "components": {"$ref": "#/$defs/components"},
            "security": {"type": "array", "items": {"$ref": "#/$defs/securityRequirement"}},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
            "externalDocs": {"$ref": "#/$defs/externalDocs"},
        }, ("openapi", "info")),
        "info": _closed({
            "title": _STR, "summary": _STR, "description": _STR, "termsOfService": _STR,
            "contact": {"type": "object"}, "license": {"type": "object"}, "version": _STR,
        }, ("title", "version")),
        "server": _closed({"url": _STR, "description": _STR, "variables": {"type": "object"}},
                          ("url",)),
        "externalDocs": _closed({"description": _STR, "url": _STR}, ("url",)),
        "tag": _closed({"name": _STR, "description": _STR,
                        "externalDocs": {"$ref": "#/$defs/externalDocs"}}, ("name",)),
        "securityRequirement": _map({"type": "array", "items": _STR}),
        "pathItem": _closed({
            "$ref": _STR, "summary": _STR, "description": _STR,
            "servers": {"type": "array", "items": {"$ref": "#/$defs/server"}},
            "parameters": {"type": "array", "items": _or_ref("parameter")},
            **{method: {"$ref": "#/$defs/operation"} for method in METHODS},
        }),
        "operation": _closed({
            "tags": {"type": "array", "items": _STR}, "summary": _STR, "description": _STR,
            "externalDocs": {"$ref": "#/$defs/externalDocs"}, "operationId": _STR,
            "parameters": {"type": "array", "items": _or_ref("parameter")},
            "requestBody": _or_ref("requestBody"),
            "responses": {"$ref": "#/$defs/responses"},
            "callbacks": {"type": "object"}, "deprecated": {"type": "boolean"},
            "security": {"type": "array", "items": {"$ref": "#/$defs/securityRequirement"}},
            "servers": {"type": "array", "items": {"$ref": "#/$defs/server"}},
        }, ("responses",)),
        "parameter": {
            **_closed({
                "name": _STR, "in": {"enum": ["query", "header", "path", "cookie"]},
                "description": _STR, "required": {"type": "boolean"},
                "deprecated": {"type": "boolean"}, "allowEmptyValue": {"type": "boolean"},
                "style": _STR, "explode": {"type": "boolean"}, "allowReserved": {"type": "boolean"},
                "schema": _SCHEMA, "example": True, "examples": {"type": "object"},
                "content": _map({"$ref": "#/$defs/mediaType"}),
            }, ("name", "in")),
            "oneOf": [{"required": ["schema"]}, {"required": ["content"]}],
            "if": {"properties": {"in": {"const": "path"}}},
            "then": {"properties": {"required": {"const": True}}, "required": ["required"]},
        },
        "requestBody": _closed({"description": _STR,
                                "content": _map({"$ref": "#/$defs/mediaType"}),
                                "required": {"type": "boolean"}}, ("content",)),
        "responses": {
            "type": "object", "minProperties": 1,
            "patternProperties": {"^([1-5][0-9][0-9]|[1-5]XX|default)$": _or_ref("response"),
                                  **_EXT},
            "additionalProperties": False,
        },
        "response": _closed({
            "description": _STR,
            "headers": _map(_or_ref("header")),
            "content": _map({"$ref": "#/$defs/mediaType"}),
            "links": {"type": "object"},
        }, ("description",)),
        "mediaType": _closed({"schema": _SCHEMA, "example": True, "examples": {"type": "object"},
                              "encoding": {"type": "object"}}),
        "header": _closed({"description": _STR, "required": {"type": "boolean"},
                           "deprecated": {"type": "boolean"}, "schema": _SCHEMA,
                           "style": {"const": "simple"}, "explode": {"type": "boolean"},
                           "example": True, "examples": {"type": "object"},
                           "content": _map({"$ref": "#/$defs/mediaType"})}),
        "securityScheme": {
            **_closed({
                "type": {"enum": ["apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"]},
                "description": _STR, "name": _STR, "in": {"enum": ["query", "header", "cookie"]},
                "scheme": _STR, "bearerFormat": _STR, "flows": {"type": "object"},
                "openIdConnectUrl": _STR,
            }, ("type",)),
            "if": {"properties": {"type": {"const": "http"}}},
            "then": {"required": ["scheme"]},
        },
        "components": _closed({
            "schemas": _map(_SCHEMA),
            "responses": _map(_or_ref("response")),
            "parameters": _map(_or_ref("parameter")),
            "requestBodies": _map(_or_ref("requestBody")),
            "headers": _map(_or_ref("header")),
            "securitySchemes": _map(_or_ref("securityScheme")),
            "examples": {"type": "object"}, "links": {"type": "object"},
            "callbacks": {"type": "object"}, "pathItems": _map({"$ref": "#/$defs/pathItem"}),
        }),
    },
}


def _walk(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            escaped = str(key).replace("~", "~0").replace("/", "~1")
            yield from _walk(value, f"{where}/{escaped}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def _resolve(document: Json, ref: str) -> Any:
    if not ref.startswith("#/"):
        raise LookupError(f"not a local reference: {ref}")
    node: Any = document
    for segment in ref[2:].split("/"):
        segment = segment.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            raise LookupError(ref)
    return node


def _operations(document: Json) -> Iterator[tuple[str, str, Json, Json]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item, item[method]


def _schema_objects(document: Json) -> Iterator[tuple[str, Any]]:
    components = document.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        yield f"#/components/schemas/{name}", schema
    for where, node in _walk(document.get("paths", {}), "#/paths"):
        if isinstance(node, dict) and isinstance(node.get("schema"), dict):
            yield f"{where}/schema", node["schema"]
    for name, header in components.get("headers", {}).items():
        if "schema" in header:
            yield f"#/components/headers/{name}/schema", header["schema"]


def problems(document: Json) -> list[str]:
    """Every structural problem of an OpenAPI 3.1 document (empty when it is valid)."""
    found = [f"{e.json_path}: {e.message}"
             for e in Draft202012Validator(OAS_31_STRUCTURE).iter_errors(document)]
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    for where, schema in _schema_objects(document):
        found += [f"{where}: {e.message}" for e in meta.iter_errors(schema)]
    for where, node in _walk(document):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            try:
                _resolve(document, node["$ref"])
            except LookupError:
                found.append(f"{where}: unresolvable $ref {node['$ref']}")
    schemes = set(document.get("components", {}).get("securitySchemes", {}))
    requirements = list(document.get("security", []))
    operation_ids: list[str] = []
    for path, method, item, operation in _operations(document):
        requirements += operation.get("security", [])
        operation_ids.append(operation.get("operationId", ""))
        declared = {p.get("name") for p in [*item.get("parameters", []),
                                           *operation.get("parameters", [])]
                    if p.get("in") == "path"}
        templated = set(re.findall(r"\{([^}]+)\}", path))
        if declared != templated:
            found.append(f"{method.upper()} {path}: path parameters {sorted(declared)} "
                         f"!= template {sorted(templated)}")
    found += [f"undefined security scheme {name}"
              for requirement in requirements for name in requirement if name not in schemes]
    found += [f"operationId {op!r} not unique or empty" for op in set(operation_ids)
              if not op or operation_ids.count(op) > 1]
    return found


def test_committed_document_is_what_the_script_builds() -> None:
    expected = build_openapi.render(build_openapi.build())
    assert DOCUMENT.read_text(encoding="utf-8") == expected, (
        "src/routeyard/api/openapi.json is stale: run python scripts/build_openapi.py"
    )


def test_build_is_deterministic_json_with_a_trailing_newline() -> None:
    first = build_openapi.render(build_openapi.build())
    assert first == build_openapi.render(build_openapi.build())
    assert first.endswith("}\n") and not first.endswith("\n\n")
    assert json.loads(first) == build_openapi.build()


def test_every_served_api_operation_is_in_the_document_and_back(doc: Json) -> None:
    table = routes()
    assert build_openapi.route_problems(doc["paths"], table) == []
    served = build_openapi.served(table)
    assert ("post", "/api/v1/admin/outcomes") in served
    assert ("get", "/api/v1/admin/models/{author}/{slug}/endpoints/{tag}") in served
    assert ("get", "/healthz") in served


def test_a_route_missing_from_the_document_or_the_table_is_named(doc: Json) -> None:
    async def nothing(request: Any) -> None:
        raise AssertionError("never called")

    table = [*routes(), Route("/api/v1/models/unserved", nothing, methods=["GET", "HEAD"])]
    assert build_openapi.route_problems(doc["paths"], table) == [
        "not in the document: GET /api/v1/models/unserved"]
    table = [r for r in routes() if getattr(r, "path", "") != "/api/v1/providers"]
    assert build_openapi.route_problems(doc["paths"], table) == [
        "not served: GET /api/v1/providers"]


def test_document_is_structurally_valid_openapi_3_1(doc: Json) -> None:
    assert doc["openapi"].startswith("3.1.")
    assert problems(doc) == []


def _broken(change: str) -> Json:
    document = copy.deepcopy(build_openapi.build())
    endpoints = document["paths"]["/models/{author}/{slug}/endpoints"]["get"]
    if change == "no info":
        del document["info"]
    elif change == "typo in operation":
        endpoints["respones"] = endpoints.pop("responses")
    elif change == "response without description":
        del endpoints["responses"]["200"]["description"]
    elif change == "dangling ref":
        document["components"]["schemas"]["PublicEndpoint"]["properties"]["tag"] = {
            "$ref": "#/components/schemas/Nope"}
    elif change == "undeclared path parameter":
        endpoints["parameters"] = endpoints["parameters"][:1]
    elif change == "optional path parameter":
        endpoints["parameters"][0]["required"] = False
    elif change == "bad schema keyword value":
        document["components"]["schemas"]["PublicEndpoint"]["required"] = "name"
    elif change == "invalid type name":
        document["components"]["schemas"]["Model"]["properties"]["name"]["type"] = "nullable"
    elif change == "unknown security scheme":
        document["security"] = [{"apiKey": []}]
    elif change == "duplicate operationId":
        document["paths"]["/providers"]["get"]["operationId"] = "getModels"
    return document


@pytest.mark.parametrize("change", [
    "no info", "typo in operation", "response without description", "dangling ref",
    "undeclared path parameter", "optional path parameter", "bad schema keyword value",
    "invalid type name", "unknown security scheme", "duplicate operationId",
])
def test_structural_check_catches_a_broken_document(change: str) -> None:
    assert problems(_broken(change)) != []


def test_no_openapi_3_0_nullable_is_left() -> None:
    assert '"nullable"' not in DOCUMENT.read_text(encoding="utf-8")


def test_every_ref_resolves(doc: Json) -> None:
    refs = [node["$ref"] for _, node in _walk(doc) if isinstance(node, dict) and "$ref" in node]
    assert len(refs) > 40
    for ref in refs:
        _resolve(doc, ref)


def test_every_non_2xx_response_is_the_error_envelope(doc: Json) -> None:
    for path, method, _, operation in _operations(doc):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                continue
            response = _resolve(doc, response["$ref"]) if "$ref" in response else response
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)


def test_discovery_paths_answer_as_the_brief_lists(doc: Json) -> None:
    statuses = {path: sorted(item["get"]["responses"]) for path, item in doc["paths"].items()
                if "get" in item and not path.startswith("/admin/")}  # admin: test_admin_api
    assert statuses == {
        "/models": ["200", "400", "401", "429", "500", "503"],
        "/models/count": ["200", "401", "429", "500", "503"],
        "/models/{author}/{slug}/endpoints": ["200", "400", "401", "404", "429", "500", "503"],
        "/providers": ["200", "401", "429", "500", "503"],
        "/model/{author}/{slug}": ["200", "400", "401", "404", "429", "500", "503"],
        "/parameters/{author}/{slug}": ["200", "400", "401", "404", "429", "500", "503"],
        "/models/{model_id}": ["200", "401", "404", "429", "500", "503"],
        "/models/user": ["200", "400", "401", "429", "500", "503"],
        "/endpoints/zdr": ["200", "401", "429", "500", "503"],
        "/embeddings/models": ["200", "400", "401", "429", "500", "503"],
        "/openapi.json": ["200"],
        "/healthz": ["200"],
        # accounting (routeyard.api.accounting, tests/test_accounting_api.py)
        "/key": ["200", "401", "429", "500", "503"],
        "/generation": ["200", "400", "401", "404", "429", "500", "503"],
        "/activity": ["200", "400", "401", "403", "429", "500", "503"],
    }
    assert sorted(doc["paths"]["/chat/completions"]["post"]["responses"]) == [
        "200", "400", "401", "404", "413", "429", "500", "502", "503"]
    assert sorted(doc["paths"]["/router/plan"]["post"]["responses"]) == [
        "200", "400", "401", "413", "429", "500"]
    assert doc["components"]["responses"]["TooManyRequests"]["headers"]["Retry-After"]
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["paths"]["/healthz"]["servers"][0]["url"] == "/"
    assert doc["security"] == [{"bearer": []}]


def test_provider_name_is_open_and_prices_are_decimal_strings(doc: Json) -> None:
    schemas = doc["components"]["schemas"]
    assert "enum" not in schemas["ProviderName"]
    pricing = Draft202012Validator(schemas["PublicEndpointPricing"])
    assert pricing.is_valid({"prompt": "0.00000013", "completion": "0", "discount": 0.1})
    for bad in (1.3e-07, "1.3e-07", "-1", "0.1.2", ""):
        assert not pricing.is_valid({"prompt": bad, "completion": "0"}), bad
    assert schemas["Quantization"]["enum"] == [
        "int4", "int8", "fp4", "mxfp4", "nvfp4", "fp6", "fp8", "mxfp8", "fp16", "bf16", "fp32",
        "unknown",
    ]


def _required(doc: Json, name: str) -> set[str]:
    return set(doc["components"]["schemas"][name]["required"])


@pytest.mark.parametrize(("ours", "sdk_class"), [
    ("PublicEndpoint", "PublicEndpoint"),
    ("ListEndpointsResponse", "ListEndpointsResponse"),
    ("Model", "Model"),
    ("ModelsListResponse", "ModelsListResponse"),
    ("ToolChoiceSupport", "ToolChoiceSupport"),
    ("PercentileStats", "PercentileStats"),
    ("TopProviderInfo", "TopProviderInfo"),
    ("ModelLinks", "ModelLinks"),
])
def test_we_require_every_field_the_official_sdk_requires(
    doc: Json, ours: str, sdk_class: str
) -> None:
    from openrouter import components

    fields = getattr(components, sdk_class).model_fields
    sdk_required = {f.alias or name for name, f in fields.items() if f.is_required()}
    assert sdk_required <= _required(doc, ours)


def test_we_require_every_field_the_official_specs_require(doc: Json) -> None:
    for name in ("2025-10-28_full", "2026-08-22_models-endpoints-subset"):
        path = ROOT / "tests" / "fixtures" / "openrouter" / f"openapi_{name}.json"
        official = json.loads(path.read_text(encoding="utf-8"))["components"]["schemas"]
        for schema in ("PublicEndpoint", "ListEndpointsResponse", "Model", "ModelsListResponse",
                       "TopProviderInfo", "PerRequestLimits"):
            assert set(official[schema]["required"]) <= _required(doc, schema), (name, schema)
