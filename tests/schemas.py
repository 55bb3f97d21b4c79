"""Validate JSON against the schemas of an OpenAPI document (test support).

Specs: ``"2025-10"`` (OpenRouter's full spec, the field set of the seed), ``"2026-08"`` (its
newest discovery subset) and ``"routeyard"`` (``src/routeyard/api/openapi.json``, what we serve).

OpenRouter's specs are OpenAPI 3.1 written partly in 3.0 style, so each schema is turned into
JSON Schema (draft 2020-12) first:

- ``nullable: true`` means "null is also allowed": ``type`` gains ``"null"`` and ``enum`` gains
  ``None``; a schema with ``$ref``/``allOf``/``anyOf``/``oneOf``/``not``/``const`` becomes
  ``anyOf: [schema, {type: null}]``. A ``nullable`` on a member of ``allOf``/``anyOf``/``oneOf``
  applies to the whole: ``allOf: [{$ref: X}, {nullable: true}]`` reads "X or null".
- ``allOf: [{$ref: X}, {properties: ...}]`` is read as X with those properties overridden (the
  way OpenRouter's generated SDKs read it): the specs use it to relax a field, e.g. the endpoint
  list's ``architecture.tokenizer`` is nullable although ``ModelArchitecture``'s is not.
- the ``enum`` of each string-typed component schema named in ``open_enums`` is dropped (default:
  ``ProviderName``, since a provider of the operator's own is valid; OpenRouter's SDKs accept
  unknown enum values in general). The name ``"*"`` opens every string enum, inline ones too.

``#/components/schemas/X`` references resolve within the document through a
:class:`referencing.Registry`. Errors are :class:`jsonschema.ValidationError` naming the JSON
path (``$.endpoints[0].pricing.prompt``) of every problem found.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "openrouter"
SPEC_FILES: dict[str, Path] = {
    "2025-10": FIXTURES / "openapi_2025-10-28_full.json",
    "2026-08": FIXTURES / "openapi_2026-08-22_models-endpoints-subset.json",
    "routeyard": ROOT / "src" / "routeyard" / "api" / "openapi.json",
}
DEFAULT_OPEN_ENUMS: frozenset[str] = frozenset({"ProviderName"})
ALL_ENUMS = "*"

_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then",
        "else", "unevaluatedItems", "unevaluatedProperties")
_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_COMBINATORS = ("allOf", "anyOf", "oneOf")
_REJECTS_NULL = ("$ref", "allOf", "anyOf", "oneOf", "not", "const")


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    if any(key in schema for key in _REJECTS_NULL):
        # Keywords that must stay at the root of a document are kept on the wrapper.
        wrapper = {key: schema.pop(key) for key in ("$schema", "$id", "$defs") if key in schema}
        wrapper["anyOf"] = [schema, {"type": "null"}]
        return wrapper
    if "type" in schema and "null" not in _types(schema):
        schema["type"] = [*_types(schema), "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def convert(schema: Any, *, open_all_enums: bool = False) -> Any:
    """Return an OpenAPI Schema Object as draft 2020-12 JSON Schema (see the module doc)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    nullable = out.pop("nullable", False) is True
    for key in _ONE:
        if key in out:
            out[key] = convert(out[key], open_all_enums=open_all_enums)
    for key in _MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: convert(v, open_all_enums=open_all_enums) for k, v in out[key].items()}
    if isinstance(out.get("prefixItems"), list):
        out["prefixItems"] = [convert(s, open_all_enums=open_all_enums) for s in out["prefixItems"]]
    for key in _COMBINATORS:
        if isinstance(out.get(key), list):
            members = []
            for member in out[key]:
                if isinstance(member, dict) and member.get("nullable") is True:
                    nullable = True
                    member = {k: v for k, v in member.items() if k != "nullable"}
                members.append(convert(member, open_all_enums=open_all_enums))
            out[key] = members
    if open_all_enums and "string" in _types(out):
        out.pop("enum", None)
    return _allow_null(out) if nullable else out


def _overlay(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key == "properties":
            out[key] = {**base.get(key, {}), **value}
        elif key == "required":
            out[key] = [*base.get(key, []), *(r for r in value if r not in base.get(key, []))]
        else:
            out[key] = value
    return out


def _merge_overrides(node: Any, schemas: dict[str, Any]) -> Any:
    """Merge every ``allOf`` of component refs and property overrides (see the module doc)."""
    if isinstance(node, list):
        return [_merge_overrides(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    members = node.get("allOf")
    prefix = "#/components/schemas/"
    if (
        isinstance(members, list)
        and all(isinstance(m, dict) for m in members)
        and all((set(m) == {"$ref"} and m["$ref"].startswith(prefix)) or "$ref" not in m
                for m in members)
        and any("properties" in m for m in members if "$ref" not in m)
    ):
        merged: dict[str, Any] = {}
        for member in members:
            if "$ref" in member:
                member = copy.deepcopy(schemas[member["$ref"].removeprefix(prefix)])
            merged = _overlay(merged, member)
        node = _overlay({k: v for k, v in node.items() if k != "allOf"}, merged)
    return {key: _merge_overrides(value, schemas) for key, value in node.items()}


@cache
def _raw(spec: str) -> dict[str, Any]:
    if spec not in SPEC_FILES:
        raise ValueError(f"unknown spec {spec!r}; expected one of {sorted(SPEC_FILES)}")
    document: dict[str, Any] = json.loads(SPEC_FILES[spec].read_text(encoding="utf-8"))
    return document


def _response_schema_pointers(document: dict[str, Any]) -> list[list[str]]:
    """Pointers (as segment lists) of every schema inside a response of the document."""
    found = []
    places = [(["components", "responses"], document.get("components", {}).get("responses", {}))]
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                places.append((["paths", path, method, "responses"], operation["responses"]))
    for prefix, responses in places:
        for status, response in responses.items():
            for media in response.get("content", {}):
                if "schema" in response["content"][media]:
                    found.append([*prefix, status, "content", media, "schema"])
    return found


@cache
def _registry(spec: str, open_enums: frozenset[str]) -> tuple[Registry, str]:
    document = copy.deepcopy(_raw(spec))
    open_all = ALL_ENUMS in open_enums
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in schemas.items():
        schema = convert(schema, open_all_enums=open_all)
        if name in open_enums and isinstance(schema, dict) and "string" in _types(schema):
            schema.pop("enum", None)
        schemas[name] = schema
    document["components"]["schemas"] = schemas = _merge_overrides(schemas, schemas)
    for pointer in _response_schema_pointers(document):
        parent = document
        for segment in pointer[:-1]:
            parent = parent[segment]
        schema = convert(parent["schema"], open_all_enums=open_all)
        parent["schema"] = _merge_overrides(schema, schemas)
    uri = f"urn:routeyard-tests:openapi:{spec}"
    resource = Resource(contents=document, specification=DRAFT202012)
    return Registry().with_resource(uri, resource), uri


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _validator(pointer: str, spec: str, open_enums: Collection[str]) -> Draft202012Validator:
    registry, uri = _registry(spec, frozenset(open_enums))
    return Draft202012Validator({"$ref": f"{uri}#{pointer}"}, registry=registry)


def _schema_pointer(schema_name: str, spec: str) -> str:
    if schema_name not in _raw(spec).get("components", {}).get("schemas", {}):
        raise KeyError(f"no component schema {schema_name!r} in spec {spec!r}")
    return f"/components/schemas/{_escape(schema_name)}"


def _response_pointer(path: str, status: str, spec: str, method: str) -> str:
    document = _raw(spec)
    try:
        response = document["paths"][path][method]["responses"][status]
    except KeyError:
        raise KeyError(f"spec {spec!r} documents no {status} for {method.upper()} {path}") from None
    pointer = "/" + "/".join(_escape(s) for s in ("paths", path, method, "responses", status))
    if "$ref" in response:  # e.g. #/components/responses/NotFound
        pointer = response["$ref"].removeprefix("#")
    return pointer + "/content/application~1json/schema"


def errors(
    instance: Any,
    schema_name: str,
    spec: str = "2025-10",
    *,
    open_enums: Collection[str] = DEFAULT_OPEN_ENUMS,
) -> list[ValidationError]:
    """Every validation error of ``instance`` against a component schema, ordered by path."""
    validator = _validator(_schema_pointer(schema_name, spec), spec, open_enums)
    return sorted(validator.iter_errors(instance), key=lambda e: (e.json_path, e.message))


def _raise_first(found: list[ValidationError], what: str) -> None:
    if not found:
        return
    specific = [best_match([e]) or e for e in found]
    lines = [f"  {e.json_path}: {e.message}" for e in specific[:20]]
    if len(found) > 20:
        lines.append(f"  ... and {len(found) - 20} more")
    first = specific[0]
    raise ValidationError(
        f"{len(found)} error(s) against {what}:\n" + "\n".join(lines),
        validator=first.validator,
        validator_value=first.validator_value,
        instance=first.instance,
        path=first.absolute_path,
        schema_path=first.absolute_schema_path,
    )


def validate(
    instance: Any,
    schema_name: str,
    spec: str = "2025-10",
    *,
    open_enums: Collection[str] = DEFAULT_OPEN_ENUMS,
) -> None:
    """Raise :class:`jsonschema.ValidationError` unless ``instance`` is a valid ``schema_name``.

    The error's ``json_path``/``path``/``validator`` are those of the first problem; its message
    lists every problem with its JSON path.
    """
    found = errors(instance, schema_name, spec, open_enums=open_enums)
    _raise_first(found, f"{schema_name} of spec {spec}")


def validate_response(
    body: Any,
    path: str,
    status: int | str = 200,
    spec: str = "routeyard",
    *,
    method: str = "get",
    open_enums: Collection[str] = DEFAULT_OPEN_ENUMS,
) -> None:
    """Validate a whole response body against the schema a spec gives ``method path status``.

    ``path`` is the spec's path template, e.g. ``"/models/{author}/{slug}/endpoints"``.
    """
    pointer = _response_pointer(path, str(status), spec, method)
    validator = _validator(pointer, spec, open_enums)
    found = sorted(validator.iter_errors(body), key=lambda e: (e.json_path, e.message))
    _raise_first(found, f"the {status} response of {method.upper()} {path} in spec {spec}")
