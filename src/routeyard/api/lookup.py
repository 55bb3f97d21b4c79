"""Models looked up one at a time: OpenRouter's ``GET /api/v1/model/{author}/{slug}``
(getModel) and ``GET /api/v1/parameters/{author}/{slug}`` (getParameters), the
OpenAI-compatible ``GET /api/v1/models/{id}`` (the ``openai`` SDK's ``models.retrieve``), and
by output modality: ``GET /api/v1/embeddings/models`` (the SDKs' ``embeddings.listModels``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard import ids, wire
from routeyard.api.deps import authenticate, runtime
from routeyard.api.discovery import models_answer, send
from routeyard.errors import BadRequest, NotFound
from routeyard.snapshot import Body, ModelEntry, encode

MAX_NAMED = 200  # longest caller-supplied id quoted back in a 404


def _entry(request: Request, model_id: str) -> ModelEntry:
    """The served model ``model_id``; 400 for what cannot be an id, 404 naming it."""
    entry = runtime(request).snapshot.lookup(model_id)
    if entry is None:
        if not ids.is_model_id(model_id):
            raise BadRequest("Invalid model id: expected author/slug[:variant]")
        raise NotFound(f"Model {model_id} not found")
    return entry


def _path_id(request: Request) -> str:
    return f"{request.path_params['author']}/{request.path_params['slug']}"


async def get_model(request: Request) -> Response:
    """``{"data": Model}``: the model as ``/models`` lists it; 404 when it has no enabled
    endpoint (it is not listed either)."""
    authenticate(request, allow_public=True)
    model_id = _path_id(request)
    entry = _entry(request, model_id)
    if entry.listing is None:
        raise NotFound(f"Model {model_id} not found")
    return send(request, Body(b'{"data":' + entry.listing + b"}"))


async def get_parameters(request: Request) -> Response:
    """The model's supported parameters (the union over its enabled endpoints, or over one
    provider's with ``provider``: a display name or slug); ``popularity`` stays null until
    the router measures it."""
    authenticate(request, allow_public=True)
    entry = _entry(request, _path_id(request))
    endpoints = wire.served_endpoints(entry.model)
    wanted = request.query_params.get("provider")
    if wanted:
        providers = runtime(request).snapshot.providers
        chosen = wanted.strip().lower()
        endpoints = [e for e in endpoints
                     if chosen in (e.provider.lower(), providers[e.provider].name.lower())]
        if not endpoints:
            raise NotFound(f"Provider {wanted[:MAX_NAMED]} does not serve {entry.model.id}")
    seen: dict[str, None] = {}
    for e in endpoints:
        for p in e.supported_parameters:
            seen.setdefault(p, None)
    return send(request, Body(encode(wire.parameters_response(entry.model.id, list(seen)))))


async def openai_model(request: Request) -> Response:
    """The OpenAI model object (``id``, ``object``, ``created``, ``owned_by``) that OpenAI's
    SDKs read from ``GET /models/{id}``; they send the id's ``/`` as ``%2F``."""
    authenticate(request, allow_public=True)
    model_id: str = request.path_params["model_id"]
    entry = runtime(request).snapshot.lookup(model_id)
    if entry is None or entry.listing is None:
        if not model_id or len(model_id) > MAX_NAMED or not model_id.isprintable():
            raise NotFound("Model not found")
        raise NotFound(f"Model {model_id} not found")
    return send(request, Body(encode(wire.openai_model(entry.model))))


async def list_embedding_models(request: Request) -> Response:
    """``/models`` of the models that output embeddings (same filters and paging)."""
    authenticate(request, allow_public=True)
    listed = runtime(request).snapshot.listed
    return models_answer(request, [e for e in listed if "embeddings" in e.output_modalities])


routes = [
    Route("/api/v1/embeddings/models", list_embedding_models, methods=["GET", "HEAD"]),
    Route("/api/v1/model/{author}/{slug}", get_model, methods=["GET", "HEAD"]),
    Route("/api/v1/parameters/{author}/{slug}", get_parameters, methods=["GET", "HEAD"]),
]
# After every other /api/v1/models/... route: it matches any path below /api/v1/models/.
fallback = [
    Route("/api/v1/models/{model_id:path}", openai_model, methods=["GET", "HEAD"]),
]
