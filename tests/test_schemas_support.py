"""The test-support validator (tests/schemas.py) accepts what it must and rejects what it must."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from schemas import ALL_ENUMS, FIXTURES, convert, errors, validate, validate_response

SPECS = ("2025-10", "2026-08", "routeyard")
ENDPOINTS_PATH = "/models/{author}/{slug}/endpoints"
# Fields the 2025-10 spec requires of an endpoint that OpenRouter added after July 2025.
ADDED_SINCE_CAPTURE = {"model_name", "supports_implicit_caching"}

Json = dict[str, Any]


def captured() -> Json:
    """The real 2025-07 body of GET /models/qwen/qwen3-235b-a22b-thinking-2507/endpoints."""
    path = FIXTURES / "endpoints_qwen3-235b-a22b-thinking-2507_2025-07.json"
    data: Json = json.loads(path.read_text(encoding="utf-8"))["data"]
    return data


def complete() -> Json:
    """The capture with every field the 2025-10 spec, the 2026 spec and the SDK require."""
    data = captured()
    for endpoint in data["endpoints"]:
        endpoint.update(
            model_id=data["id"],
            model_name=data["name"],
            supports_implicit_caching=False,
            uptime_last_5m=100,
            uptime_last_1d=99.85795454545455,
            latency_last_30m={"p50": 410.0, "p75": 520.5, "p90": 700, "p99": 1500.25},
            throughput_last_30m=None,
            service_tier=None,
            supports_tool_choice={"auto": True, "function": True, "none": True, "required": False},
            native_tools={},
            supports_diarization=False,
        )
    return data


def test_capture_lacks_only_the_fields_added_since_july_2025() -> None:
    data = captured()
    found = errors(data, "ListEndpointsResponse", "2025-10")
    assert {e.validator for e in found} == {"required"}
    missing = {(e.json_path, e.message.split("'")[1]) for e in found}
    expected = {
        (f"$.endpoints[{i}]", field)
        for i in range(len(data["endpoints"]))
        for field in ADDED_SINCE_CAPTURE
    }
    assert missing == expected


def test_capture_with_the_added_fields_is_valid_against_2025_10() -> None:
    data = captured()
    for endpoint in data["endpoints"]:
        endpoint.update(model_name=data["name"], supports_implicit_caching=False)
    validate(data, "ListEndpointsResponse", "2025-10")


@pytest.mark.parametrize("spec", SPECS)
def test_complete_instance_is_valid(spec: str) -> None:
    validate(complete(), "ListEndpointsResponse", spec)


def test_complete_instance_is_accepted_by_the_official_sdk() -> None:
    from openrouter import components

    parsed = components.ListEndpointsResponse.model_validate(complete())
    assert parsed.endpoints[1].tag == "deepinfra/fp8"


def _set(path: str, value: Any) -> Callable[[Json], None]:
    def mutate(data: Json) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str) -> Callable[[Json], None]:
    def mutate(data: Json) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        del target[last]

    return mutate


INVALID = [
    # (what, mutation, specs that must reject it, JSON path of the error)
    ("float price", _set("endpoints.0.pricing.prompt", 1.179e-07),
     ("2026-08", "routeyard"), "$.endpoints[0].pricing.prompt"),
    ("exponent price", _set("endpoints.0.pricing.prompt", "1.179e-07"),
     ("routeyard",), "$.endpoints[0].pricing.prompt"),
    ("missing tag", _delete("endpoints.1.tag"), SPECS, "$.endpoints[1]"),
    ("missing architecture", _delete("architecture"), SPECS, "$"),
    ("string context_length", _set("endpoints.0.context_length", "262144"),
     SPECS, "$.endpoints[0].context_length"),
    ("null name", _set("endpoints.2.name", None), SPECS, "$.endpoints[2].name"),
    ("numeric tokenizer", _set("architecture.tokenizer", 5), SPECS, "$.architecture.tokenizer"),
    ("string status", _set("endpoints.0.status", "0"), SPECS, "$.endpoints[0].status"),
    ("unknown pricing key", _set("endpoints.0.pricing.image_token", "0"),
     ("2025-10", "routeyard"), "$.endpoints[0].pricing"),
    ("partial latency", _set("endpoints.0.latency_last_30m", {"p50": 1}),
     ("2026-08", "routeyard"), "$.endpoints[0].latency_last_30m"),
    ("tool_choice not an object", _set("endpoints.0.supports_tool_choice", True),
     ("routeyard",), "$.endpoints[0].supports_tool_choice"),
    ("missing native_tools", _delete("endpoints.0.native_tools"), ("routeyard",), "$.endpoints[0]"),
]


@pytest.mark.parametrize(
    ("spec", "mutate", "json_path"),
    [
        pytest.param(spec, mutate, path, id=f"{what}-{spec}")
        for what, mutate, specs, path in INVALID
        for spec in specs
    ],
)
def test_invalid_instance_is_rejected_with_its_path(
    spec: str, mutate: Callable[[Json], None], json_path: str
) -> None:
    data = complete()
    mutate(data)
    with pytest.raises(ValidationError) as caught:
        validate(data, "ListEndpointsResponse", spec)
    assert caught.value.json_path == json_path
    assert json_path in str(caught.value)


def test_2025_10_spec_itself_allows_numeric_prices() -> None:
    # Its prices are a BigNumberUnion (number or string): only the 2026 spec and ours insist on
    # decimal strings. Pinned here so nobody reads a pass against 2025-10 as proof of strings.
    data = complete()
    data["endpoints"][0]["pricing"]["prompt"] = 1.179e-07
    validate(data, "ListEndpointsResponse", "2025-10")


@pytest.mark.parametrize("spec", SPECS)
def test_nullable_fields_accept_null(spec: str) -> None:
    data = complete()
    data["architecture"].update(tokenizer=None, instruct_type=None, modality=None)
    endpoint = data["endpoints"][0]
    endpoint.update(quantization=None, max_completion_tokens=None, max_prompt_tokens=None)
    endpoint.update(uptime_last_30m=None, latency_last_30m=None)
    validate(data, "ListEndpointsResponse", spec)


@pytest.mark.parametrize("spec", ["2025-10", "2026-08"])
def test_override_of_tokenizer_is_local_to_the_endpoint_list(spec: str) -> None:
    # ListEndpointsResponse relaxes ModelArchitecture's tokenizer to nullable via allOf; the
    # shared ModelArchitecture (used by /models) still refuses null.
    architecture = complete()["architecture"] | {"tokenizer": None}
    with pytest.raises(ValidationError) as caught:
        validate(architecture, "ModelArchitecture", spec)
    assert caught.value.json_path == "$.tokenizer"


@pytest.mark.parametrize("spec", ["2025-10", "2026-08"])
def test_provider_name_is_open_by_default_and_closed_on_request(spec: str) -> None:
    data = complete()
    data["endpoints"][0]["provider_name"] = "Acme Local GPU"
    validate(data, "ListEndpointsResponse", spec)
    with pytest.raises(ValidationError) as caught:
        validate(data, "ListEndpointsResponse", spec, open_enums=())
    assert caught.value.json_path == "$.endpoints[0].provider_name"
    assert caught.value.validator == "enum"


def test_other_enums_stay_closed_unless_opened() -> None:
    data = complete()
    data["endpoints"][0]["quantization"] = "fp2"
    with pytest.raises(ValidationError, match=r"\$\.endpoints\[0\]\.quantization"):
        validate(data, "ListEndpointsResponse", "2025-10")
    validate(data, "ListEndpointsResponse", "2025-10", open_enums={"ProviderName", "Quantization"})


def test_2025_10_quantization_enum_predates_mx_and_nv_formats() -> None:
    # Catalog values such as nvfp4 (in the 2026 spec) fail the 2025-10 spec unless opened.
    data = complete()
    data["endpoints"][0]["quantization"] = "nvfp4"
    validate(data, "ListEndpointsResponse", "2026-08")
    with pytest.raises(ValidationError):
        validate(data, "ListEndpointsResponse", "2025-10")


def test_all_enums_opens_inline_and_component_string_enums() -> None:
    data = complete()
    data["endpoints"][0]["supported_parameters"] = ["a_parameter_from_the_future"]
    with pytest.raises(ValidationError):
        validate(data, "ListEndpointsResponse", "2025-10")
    validate(data, "ListEndpointsResponse", "2025-10", open_enums={ALL_ENUMS})


def models_body() -> Json:
    """Three models of the real 2025-07 /models capture, with the keys required since."""
    path = FIXTURES / "models_2025-07.json"
    models: list[Json] = json.loads(path.read_text(encoding="utf-8"))["data"][:3]
    for model in models:
        details = f"/api/v1/models/{model['id']}/endpoints"
        model.update(default_parameters=None, supported_voices=None, knowledge_cutoff=None,
                     expiration_date=None, links={"details": details})
    return {"data": models, "links": {"next": None}, "total_count": len(models)}


@pytest.mark.parametrize("spec", SPECS)
def test_models_list_is_checked(spec: str) -> None:
    validate_response(models_body(), "/models", 200, spec)
    body = models_body()
    del body["data"][2]["links"]
    if spec == "2025-10":  # links came later
        validate_response(body, "/models", 200, spec)
    else:
        with pytest.raises(ValidationError) as caught:
            validate_response(body, "/models", 200, spec)
        assert caught.value.json_path == "$.data[2]"


def test_models_list_is_accepted_by_the_official_sdk() -> None:
    from openrouter import components

    assert len(components.ModelsListResponse.model_validate(models_body()).data) == 3


def test_error_envelope_via_the_documented_responses() -> None:
    body: Json = {"error": {"code": 404, "message": "Model foo/bar not found", "metadata": None},
                  "user_id": None}
    validate_response(body, ENDPOINTS_PATH, 404, "2025-10")
    validate_response(body, ENDPOINTS_PATH, 404, "routeyard")
    bad = copy.deepcopy(body)
    bad["error"]["code"] = "404"
    for spec in ("2025-10", "routeyard"):
        with pytest.raises(ValidationError) as caught:
            validate_response(bad, ENDPOINTS_PATH, 404, spec)
        assert caught.value.json_path == "$.error.code"


def test_whole_200_body_is_checked() -> None:
    validate_response({"data": complete()}, ENDPOINTS_PATH, 200, "2025-10")
    validate_response({"data": complete()}, ENDPOINTS_PATH, 200, "routeyard")
    with pytest.raises(ValidationError, match=r"\$\.data\.endpoints\[0\]"):
        validate_response({"data": captured()}, ENDPOINTS_PATH, 200, "routeyard")


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown spec"):
        validate({}, "ListEndpointsResponse", "2024-01")
    with pytest.raises(KeyError, match="NoSuchSchema"):
        validate({}, "NoSuchSchema", "2025-10")
    with pytest.raises(KeyError, match="418"):
        validate_response({}, ENDPOINTS_PATH, 418, "2025-10")


# convert(): OpenAPI 3.0 `nullable` into JSON Schema, unit by unit.

CONVERSIONS = [
    # (OpenAPI schema, accepted, rejected)
    ({"type": "string", "nullable": True}, ["a", None], [1]),
    ({"type": "string"}, ["a"], [None]),
    ({"type": "string", "enum": ["a"], "nullable": True}, ["a", None], ["b"]),
    ({"$defs": {"Q": {"type": "string", "enum": ["fp8"]}},
      "allOf": [{"$ref": "#/$defs/Q"}, {"nullable": True}]}, ["fp8", None], ["fp4", 8]),
    ({"$defs": {"Q": {"type": "string"}}, "$ref": "#/$defs/Q", "nullable": True},
     ["x", None], [1]),
    ({"oneOf": [{"type": "string", "nullable": True}, {"type": "integer", "nullable": True}]},
     ["x", 1, None], [1.5]),
    ({"type": "object", "properties": {"nullable": {"type": "boolean"}}},
     [{"nullable": True}], [{"nullable": "yes"}, None]),
    ({"type": "object", "additionalProperties": {"nullable": True}},
     [{"a": None, "b": [1]}], [None]),
    ({"type": "array", "items": {"type": "number", "nullable": True}}, [[1, None]], [["1"]]),
]


@pytest.mark.parametrize(("schema", "accepted", "rejected"), CONVERSIONS)
def test_convert_reads_nullable_as_null_also_allowed(
    schema: Json, accepted: list[Any], rejected: list[Any]
) -> None:
    converted = convert(schema)
    Draft202012Validator.check_schema(converted)
    validator = Draft202012Validator(converted)
    assert [v for v in accepted if not validator.is_valid(v)] == []
    assert [v for v in rejected if validator.is_valid(v)] == []
