"""The status pages: the catalog, one model's endpoints with their health, the providers.

Server-rendered HTML from the served snapshot and live health, with no external assets and
no JavaScript required (docs/status-page.md). :mod:`.format` and :mod:`.bars` are pure;
:mod:`.pages` holds the routes.
"""

from __future__ import annotations

from routeyard.web.pages import web_routes

__all__ = ["web_routes"]
