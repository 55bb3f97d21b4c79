"""routeyard's HTTP API (JSON, under /api/v1, plus /healthz, /readyz and /metrics)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from routeyard.api import (
    accounting,
    admin,
    admin_keys,
    chat,
    discovery,
    ingest,
    lookup,
    meta,
    ops,
    user,
)


def routes() -> list[BaseRoute]:
    """Every API route, the one table the app serves, docs/api.md lists (tests/test_docs.py)
    and scripts/build_openapi.py checks its paths against. The status pages' routes are
    :data:`routeyard.web.web_routes`."""
    return [*discovery.routes, *user.routes, *lookup.routes, *meta.routes(), *chat.routes, *ops.routes,
            *ingest.routes, *accounting.routes, *admin.routes, *admin_keys.routes,
            *lookup.fallback]  # last: it matches any path below /api/v1/models/
