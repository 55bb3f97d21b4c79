"""routeyard's HTTP API (JSON, under /api/v1, plus /healthz, /readyz and /metrics)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from routeyard.api import accounting, admin, chat, discovery, ingest, meta, ops


def routes() -> list[BaseRoute]:
    """Every API route, the one table the app serves, docs/api.md lists (tests/test_docs.py)
    and scripts/build_openapi.py checks its paths against. The status pages' routes are
    :data:`routeyard.web.web_routes`."""
    return [*discovery.routes, *meta.routes(), *chat.routes, *ops.routes, *ingest.routes,
            *accounting.routes,
            *admin.routes]
