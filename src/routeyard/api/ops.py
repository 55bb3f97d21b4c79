"""Operations routes: ``/metrics`` (Prometheus) and ``/readyz`` (ready for traffic)."""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard.api.deps import runtime
from routeyard.api.http import error_response
from routeyard.errors import StoreError
from routeyard.metrics import metrics
from routeyard.snapshot import encode


async def metrics_route(request: Request) -> Response:
    runtime(request).update_gauges()
    body, content_type = metrics().render()
    return Response(body, media_type=content_type, headers={"cache-control": "no-store"})


async def readyz(request: Request) -> Response:
    """200 when the database answers and a catalog is loaded; 503 in the envelope otherwise."""
    rt = runtime(request)
    if not rt.versions:
        return error_response(503, "Not ready: the catalog is not loaded yet")
    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.to_thread(rt.store.versions), timeout=2.0)
    except (StoreError, TimeoutError):
        return error_response(503, "Not ready: the database cannot be reached")
    return Response(encode({
        "status": "ready",
        "catalog_version": rt.snapshot.version,
        "models": len(rt.snapshot.models),
        "endpoints": rt.snapshot.endpoint_count,
        "database_ms": round((time.perf_counter() - started) * 1000, 2),
    }), media_type="application/json", headers={"cache-control": "no-store"})


routes = [
    Route("/metrics", metrics_route, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
