"""What depends on the calling key: ``GET /api/v1/models/user`` (listModelsUser), the models
that the key's stored provider preferences leave at least one enabled endpoint of."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routeyard.api import wire
from routeyard.api.routes import authenticate, models_answer, runtime
from routeyard.api.snapshot import ModelEntry
from routeyard.errors import Unauthorized
from routeyard.preferences import NONE, KeyPreferences, endpoint_allowed


def allowed_models(entries: list[ModelEntry], prefs: KeyPreferences) -> list[ModelEntry]:
    """The listed models with an enabled endpoint that ``prefs`` allow, in listing order."""
    if prefs == NONE:
        return entries
    return [e for e in entries
            if any(endpoint_allowed(prefs, ep) for ep in wire.served_endpoints(e.model))]


async def list_models_user(request: Request) -> Response:
    """Always keyed (the answer is the key's): 401 without a key even where discovery is
    public. Same filters and paging as ``/models``."""
    key = authenticate(request, allow_public=True)
    if key is None:
        raise Unauthorized("No auth credentials found")
    entries = allowed_models(runtime(request).snapshot.listed, key.preferences)
    return models_answer(request, entries, per_key=True)


routes = [
    Route("/api/v1/models/user", list_models_user, methods=["GET", "HEAD"]),
]
