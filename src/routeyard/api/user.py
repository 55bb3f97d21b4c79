"""Lists that depend on the caller: ``GET /api/v1/models/user`` (listModelsUser), the models
that the calling key's stored provider preferences leave at least one enabled endpoint of;
``GET /api/v1/endpoints/zdr`` (listEndpointsZdr), every enabled endpoint whose data policy is
zero data retention (with latency and throughput for a caller with a key)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard import wire
from routeyard.api.deps import authenticate, runtime
from routeyard.api.discovery import models_answer, send
from routeyard.errors import Unauthorized
from routeyard.models import Provider
from routeyard.preferences import NONE, KeyPreferences, endpoint_allowed
from routeyard.snapshot import Body, ModelEntry, Snapshot, encode


def allowed_models(entries: list[ModelEntry], providers: dict[str, Provider],
                   prefs: KeyPreferences) -> list[ModelEntry]:
    """The listed models with an enabled endpoint that ``prefs`` allow, in listing order."""
    if prefs == NONE:
        return entries
    return [e for e in entries
            if any(endpoint_allowed(prefs, ep, providers.get(ep.provider))
                   for ep in wire.served_endpoints(e.model))]


async def list_models_user(request: Request) -> Response:
    """Always keyed (the answer is the key's): 401 without a key even where discovery is
    public. Same filters and paging as ``/models``."""
    key = authenticate(request, allow_public=True)
    if key is None:
        raise Unauthorized("No auth credentials found")
    snapshot = runtime(request).snapshot
    entries = allowed_models(snapshot.listed, snapshot.providers, key.preferences)
    return models_answer(request, entries, per_key=True)


def zdr_endpoints(snapshot: Snapshot, *, with_performance: bool) -> list[wire.PublicEndpoint]:
    """The ``PublicEndpoint`` of every enabled ZDR endpoint, models in listing order."""
    out = []
    for entry in snapshot.listed:
        m = entry.model
        for e in wire.served_endpoints(m):
            provider = snapshot.providers[e.provider]
            if e.policy(provider).is_zdr:
                out.append(wire.endpoint(m, e, provider, snapshot.live.get((m.id, e.tag)),
                                         with_performance=with_performance))
    return out


async def list_endpoints_zdr(request: Request) -> Response:
    key = authenticate(request, allow_public=True)
    data = zdr_endpoints(runtime(request).snapshot, with_performance=key is not None)
    return send(request, Body(encode(wire.ZdrEndpointsResponse(data))), per_key=True)


routes = [
    Route("/api/v1/models/user", list_models_user, methods=["GET", "HEAD"]),
    Route("/api/v1/endpoints/zdr", list_endpoints_zdr, methods=["GET", "HEAD"]),
]
