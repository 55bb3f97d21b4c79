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
from routeyard.api.http import send_body
from routeyard.api.snapshot import Body, Snapshot
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


def _send(request: Request, body: Body) -> Response:
    rt = runtime(request)
    return send_body(request, body, cache_control=rt.settings.cache_control,
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


async def list_models(request: Request) -> Response:
    authenticate(request, allow_public=True)
    snapshot: Snapshot = runtime(request).snapshot
    params = _csv(request.query_params.get("supported_parameters"))
    outputs = _csv(request.query_params.get("output_modalities"))
    offset = _int_param(request, "offset", 0) or 0
    limit = _int_param(request, "limit", None)
    if not params and not outputs and offset == 0 and (limit is None or limit >= len(snapshot.listed)):
        return _send(request, snapshot.models_body)
    entries = snapshot.listed
    if params:
        wanted = frozenset(params)
        entries = [e for e in entries if wanted <= e.parameters]
    if outputs and outputs != ["all"]:
        wanted_out = frozenset(outputs)
        entries = [e for e in entries if wanted_out & e.output_modalities]
    total = len(entries)
    if limit is not None:
        limit = min(max(limit, 1), MAX_LIMIT)
        page = entries[offset:offset + limit]
        next_link = None
        if offset + limit < total:
            query = request.url.include_query_params(offset=offset + limit, limit=limit)
            next_link = f"{query.path}?{query.query}"
    else:
        page, next_link = entries[offset:], None
    return _send(request, Snapshot.models_page(page, total=total, next_link=next_link))


async def count_models(request: Request) -> Response:
    authenticate(request, allow_public=True)
    return _send(request, runtime(request).snapshot.count_body)


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
