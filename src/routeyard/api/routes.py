"""The discovery API: /api/v1/models, /models/count, /models/{author}/{slug}/endpoints,
/providers, /openapi.json, and /healthz."""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard.accesslog import fields_of
from routeyard.api.auth import check_caller
from routeyard.api.fast import ENDPOINTS, MODELS, DiscoveryRoute
from routeyard.api.http import PRIVATE_CACHE_CONTROL, send_body
from routeyard.api.snapshot import Body, ModelEntry, Snapshot, encode
from routeyard.errors import BadRequest
from routeyard.keys import KeyRecord
from routeyard.runtime import Runtime

MAX_LIMIT = 10_000


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def authenticate(request: Request, *, allow_public: bool) -> KeyRecord | None:
    """The caller's key; None for an anonymous caller where discovery is public.

    A key that is presented must be valid even where discovery is public. An address that
    failed too often gets 429 before its key is checked; a key over its rate limit gets 429
    (docs/security.md).
    """
    key = check_caller(runtime(request), request.headers.get("authorization"),
                       request.scope.get("client"), allow_public=allow_public)
    if key is not None:
        fields_of(request.scope).key_name = key.name  # for the access log
    return key


def cache_control(rt: Runtime, *, per_key: bool = False) -> str:
    """Cache-Control of a discovery answer: the setting where discovery is public and the
    answer is the same for every caller, else private (docs/api.md, "Caching")."""
    if per_key or not rt.settings.public_discovery:
        return PRIVATE_CACHE_CONTROL
    return str(rt.settings.cache_control)


def _send(request: Request, body: Body, *, per_key: bool = False) -> Response:
    rt = runtime(request)
    return send_body(request, body, cache_control=cache_control(rt, per_key=per_key),
                     extra=rt.stale_headers())


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # not "²": int() refuses it
        raise BadRequest(f"Invalid {name}: expected a non-negative integer")
    return int(raw)


def _filtered(request: Request, entries: list[ModelEntry]) -> list[ModelEntry]:
    """The listed models that pass the request's ``supported_parameters`` (all of them) and
    ``output_modalities`` (any of them; ``all``: no filter) filters."""
    params = _csv(request.query_params.get("supported_parameters"))
    outputs = _csv(request.query_params.get("output_modalities"))
    if params:
        wanted = frozenset(params)
        entries = [e for e in entries if wanted <= e.parameters]
    if outputs and outputs != ["all"]:
        wanted_out = frozenset(outputs)
        entries = [e for e in entries if wanted_out & e.output_modalities]
    return entries


def models_answer(request: Request, entries: list[ModelEntry], *, per_key: bool = False
                  ) -> Response:
    """A /models-shaped answer of ``entries`` after the request's filters and page."""
    offset = _int_param(request, "offset", 0) or 0
    limit = _int_param(request, "limit", None)
    chosen = _filtered(request, entries)
    if chosen is runtime(request).snapshot.listed and offset == 0 and limit is None:
        return _send(request, runtime(request).snapshot.models_body, per_key=per_key)
    total = len(chosen)
    if limit is not None:
        limit = min(limit, MAX_LIMIT)
        page = chosen[offset:offset + limit]
        next_link = None
        if limit and offset + limit < total:
            query = request.url.include_query_params(offset=offset + limit, limit=limit)
            next_link = f"{query.path}?{query.query}"
    else:
        page, next_link = chosen[offset:], None
    return _send(request, Snapshot.models_page(page, total=total, next_link=next_link),
                 per_key=per_key)


async def list_models(request: Request) -> Response:
    authenticate(request, allow_public=True)
    return models_answer(request, runtime(request).snapshot.listed)


async def count_models(request: Request) -> Response:
    authenticate(request, allow_public=True)
    snapshot = runtime(request).snapshot
    chosen = _filtered(request, snapshot.listed)
    if chosen is snapshot.listed:
        return _send(request, snapshot.count_body)
    return _send(request, Body(encode({"data": {"count": len(chosen)}})))


async def list_providers(request: Request) -> Response:
    authenticate(request, allow_public=True)
    return _send(request, runtime(request).snapshot.providers_body)


def openapi_body() -> Body:
    return Body(resources.files("routeyard.api").joinpath("openapi.json").read_bytes())


async def openapi(request: Request) -> Response:
    return send_body(request, runtime(request).openapi, cache_control="public, max-age=3600")


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json",
                    headers={"cache-control": "no-store"})


routes = [
    Route(ENDPOINTS, DiscoveryRoute(ENDPOINTS), methods=["GET", "HEAD"], name="list_endpoints"),
    Route("/api/v1/models/count", count_models, methods=["GET", "HEAD"]),
    Route(MODELS, DiscoveryRoute(MODELS, filtered=list_models), methods=["GET", "HEAD"],
          name="list_models"),
    Route("/api/v1/providers", list_providers, methods=["GET", "HEAD"]),
    Route("/api/v1/openapi.json", openapi, methods=["GET", "HEAD"]),
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
]
