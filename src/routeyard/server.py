"""Running the app under Granian (one or more worker processes)."""

from __future__ import annotations

import os
import tempfile

from routeyard.config import Settings
from routeyard.metrics import MULTIPROC_ENV


def serve(settings: Settings) -> None:
    """Serve until interrupted. Workers rebuild settings from the environment, so every
    resolved setting is exported as ROUTEYARD_* first."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    for name, value in settings.as_dict().items():
        os.environ["ROUTEYARD_" + name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    os.environ["ROUTEYARD_DATABASE_URL"] = settings.resolved_database_url
    if settings.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Workers share metrics through files here; /metrics adds them up.
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="routeyard-metrics-")
    server = Server(
        "routeyard.app:create_app_from_env",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_level=LogLevels(settings.log_level),
        log_access=False,
        websockets=False,
    )
    server.serve()
