"""Running the app under Granian (one or more worker processes)."""

from __future__ import annotations

import os
import tempfile

from routeyard.config import Settings

# Named here, not imported from routeyard.metrics: importing prometheus-client fixes its
# storage (in memory, or files for several processes) by whether this variable is present,
# so it must be set before anything imports it; workers are forked from this process.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


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
