"""Running the app under Granian (one or more worker processes)."""

from __future__ import annotations

import os
import tempfile

from routeyard.config import Settings
from routeyard.errors import ConfigError

# Named here, not imported from routeyard.metrics: importing prometheus-client fixes its
# storage (in memory, or files for several processes) by whether this variable is present,
# so it must be set before anything imports it; workers are forked from this process.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def serve(settings: Settings) -> None:
    """Serve until interrupted. Workers rebuild settings from the environment, so every
    resolved setting is exported as ROUTEYARD_* first."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    keep_alive = settings.keep_alive_timeout
    if not 1 <= keep_alive <= 60:
        raise ConfigError(f"ROUTEYARD_KEEP_ALIVE_TIMEOUT must be 1 to 60 seconds, got {keep_alive}")
    if settings.max_connections < 1:
        raise ConfigError("ROUTEYARD_MAX_CONNECTIONS must be at least 1")

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
        # HTTP/1.1 only: in "auto" mode Granian waits for a new connection's first bytes (to
        # tell HTTP/2 from HTTP/1) with no timeout, so a silent socket was never closed.
        http=HTTPModes.http1,
        # Granian's HTTP/1 header read timeout runs from the end of one request until the
        # next one's headers are in: it closes idle keep-alive connections and slow heads.
        http1_settings=HTTP1Settings(header_read_timeout=int(keep_alive * 1000)),
        # Connections served at once per worker (Granian's default, 1024, let a thousand
        # idle sockets lock everyone out).
        backpressure=settings.max_connections,
    )
    server.serve()
