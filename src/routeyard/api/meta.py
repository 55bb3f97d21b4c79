"""Service description and liveness: ``/api/v1/openapi.json`` and ``/healthz``."""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from routeyard.api.http import send_body
from routeyard.snapshot import Body


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json",
                    headers={"cache-control": "no-store"})


def _openapi_route() -> Route:
    """The committed ``openapi.json`` (scripts/build_openapi.py), read on its first request
    and kept by this route (one per app)."""
    loaded: list[Body] = []

    async def openapi(request: Request) -> Response:
        if not loaded:
            loaded.append(Body(resources.files("routeyard.api").joinpath("openapi.json")
                               .read_bytes()))
        return send_body(request, loaded[0], cache_control="public, max-age=3600")

    return Route("/api/v1/openapi.json", openapi, methods=["GET", "HEAD"])


def routes() -> list[BaseRoute]:
    return [_openapi_route(), Route("/healthz", healthz, methods=["GET", "HEAD"])]
