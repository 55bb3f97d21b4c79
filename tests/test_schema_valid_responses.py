"""Every discovery response validates against OpenRouter's official specs and our own doc."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from schemas import validate, validate_response

from routeyard.catalog.declarative import read_starter
from tests.test_api import Api, make_api

# The 2025-10 spec's enums are older than today's values (quantization, parameters).
OPEN = {"ProviderName", "Quantization", "Parameter", "PublicEndpointQuantization"}


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    yield from make_api(database_url)


def test_every_starter_model_validates_against_both_official_specs_and_ours(api: Api) -> None:
    for model in read_starter().models:
        body = api.get(f"/api/v1/models/{model.id}/endpoints").json()
        validate(body["data"], "ListEndpointsResponse", "2025-10", open_enums=OPEN)
        validate(body["data"], "ListEndpointsResponse", "2026-08", open_enums=OPEN)
        validate_response(body, "/models/{author}/{slug}/endpoints", 200, "routeyard")


def test_models_count_and_providers_validate(api: Api) -> None:
    models = api.get("/api/v1/models").json()
    validate(models, "ModelsListResponse", "2026-08", open_enums=OPEN)
    validate_response(models, "/models", 200, "routeyard")
    for item in models["data"]:
        validate(item, "Model", "2025-10", open_enums=OPEN)
    count = api.get("/api/v1/models/count").json()
    validate(count, "ModelsCountResponse", "2026-08")
    validate_response(count, "/models/count", 200, "routeyard")
    validate_response(api.get("/api/v1/providers").json(), "/providers", 200, "routeyard")


def test_error_bodies_validate_as_the_envelope(api: Api) -> None:
    validate_response(api.get("/api/v1/models/no/such/endpoints").json(),
                      "/models/{author}/{slug}/endpoints", 404, "routeyard")
    validate_response(api.client.get("/api/v1/models").json(), "/models", 401, "routeyard")
    validate_response(api.get("/api/v1/models/q/-bad/endpoints").json(),
                      "/models/{author}/{slug}/endpoints", 400, "routeyard")


def test_validator_would_catch_a_float_price(api: Api) -> None:
    import jsonschema

    body = api.get("/api/v1/models/qwen/qwen3-235b-a22b-thinking-2507/endpoints").json()
    body["data"]["endpoints"][0]["pricing"]["prompt"] = 1.179e-07
    with pytest.raises(jsonschema.ValidationError):
        validate_response(body, "/models/{author}/{slug}/endpoints", 200, "routeyard")
