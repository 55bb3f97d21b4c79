"""The ASGI application: ``create_app(settings, store=...)``."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from routeyard import logs
from routeyard.api import admin, ingest, ops
from routeyard.api.http import CORS_HEADERS, error_response
from routeyard.api.routes import routes
from routeyard.config import Settings
from routeyard.errors import APIError, StoreUnavailable, error_body
from routeyard.metrics import metrics
from routeyard.runtime import Runtime
from routeyard.service import prepare
from routeyard.store import Store
from routeyard.web import web_routes

log = logging.getLogger("routeyard")
access = logging.getLogger("routeyard.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
HTTP_MESSAGES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 413: "Request body too large", 414: "URI Too Long",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 503: "Service Unavailable",
}


class RequestContext:
    """Outermost layer: a request id on every response, CORS preflight, one access-log line
    and the request metrics per request, and a last-resort 500 in the envelope whose cause
    is logged with that id (never sent to the client). Refuses a request target longer than
    ``max_path_length`` (414) and headers past ``max_header_bytes`` (431) first (0: no limit)."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True, max_path_length: int = 0,
                 max_header_bytes: int = 0) -> None:
        self.app = app
        # Request ids: a random per-process prefix and a counter; unique across processes
        # and far cheaper per request than drawing random bytes.
        self._id_prefix = secrets.token_hex(4)
        self._id_counter = itertools.count(1)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.access_log = access_log
        self.max_path_length = max_path_length
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                text = value.decode("latin-1")
                request_id = text if _REQUEST_ID.fullmatch(text) else None
                break
        if request_id is None:
            request_id = self._next_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            if (refusal := self._over_limits(scope)) is not None:
                await refusal(scope, receive, send_with_id)
            elif scope["method"] == "OPTIONS" and scope["path"].startswith("/api/"):
                await Response(status_code=204, headers=CORS_HEADERS)(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if not started:
                await send_with_id({
                    "type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                })
                await send_with_id({
                    "type": "http.response.body", "body": error_body(500, "Internal Server Error"),
                })
        finally:
            self._observe(scope, status, time.perf_counter() - started_at, request_id)

    def _next_id(self) -> str:
        return f"{self._id_prefix}{next(self._id_counter):08x}"

    def _over_limits(self, scope: Scope) -> Response | None:
        """A 414 or 431 in the envelope for a request past the size limits, else None."""
        limit = self.max_path_length
        if limit:
            raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
            if len(raw_path) + len(scope.get("query_string", b"")) > limit:
                metrics().refused.labels("path_length").inc()
                return error_response(414, f"URI Too Long: at most {limit} bytes")
        limit = self.max_header_bytes
        if limit:
            size = 0
            for name, value in scope["headers"]:
                size += len(name) + len(value)
            if size > limit:
                metrics().refused.labels("header_bytes").inc()
                return error_response(
                    431, f"Request Header Fields Too Large: at most {limit} bytes in all")
        return None

    def _observe(self, scope: Scope, status: int, elapsed: float, request_id: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        # Metric children are looked up once per (route, method, status), not per request.
        key = (template, method, status)
        children = self._children.get(key)
        if children is None:
            m = metrics()
            children = (m.requests.labels(template, method, str(status)),
                        m.latency.labels(template))
            if len(self._children) < 10_000:  # templates, not raw paths: small in practice
                self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)
        if self.access_log and access.isEnabledFor(logging.INFO):
            access.info(
                "%s %s %d %.1fms", method, scope["path"], status, elapsed * 1000,
                extra={"request_id": request_id, "method": method,
                       "path": scope["path"], "status": status,
                       "duration_ms": round(elapsed * 1000, 2)},
            )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
    if exc.headers:
        headers = {**(headers or {}), **exc.headers}
    return error_response(exc.status, exc.message, exc.metadata, headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = HTTP_MESSAGES.get(exc.status_code, "Error")
    return error_response(exc.status_code, message, None, dict(exc.headers or {}))


async def _internal_error(request: Request, exc: Exception) -> Response:
    """A 500 in the envelope. Starlette's outermost middleware answers an unexpected error
    before RequestContext can (without a handler, in plain text), then re-raises it, so
    RequestContext still logs the cause with the request id."""
    return error_response(500, "Internal Server Error")


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.error("database unavailable: %s", exc,
              extra={"request_id": request.scope.get("state", {}).get("request_id")})
    return error_response(503, "Service Unavailable: the database cannot be reached")


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> ASGIApp:
    """The routeyard ASGI app. The store is prepared and the catalog loaded at startup."""
    settings = settings or Settings.load()
    owns_store = store is None
    store = store or Store(settings.resolved_database_url)
    runtime = Runtime(settings, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        logs.setup(settings.log_level, settings.log_format)
        for line in await asyncio.to_thread(prepare, store, settings):
            log.info(line)
        await asyncio.to_thread(runtime.load)
        tasks = runtime.tasks()
        try:
            yield {}
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.close()
            if owns_store:
                store.dispose()

    app = Starlette(
        routes=[*routes, *ops.routes, *ingest.routes, *admin.routes, *web_routes],
        lifespan=lifespan,
        exception_handlers={
            APIError: _api_error,
            HTTPException: _http_error,
            StoreUnavailable: _unavailable,
            Exception: _internal_error,
        },
    )
    app.state.runtime = runtime
    outer = RequestContext(app, access_log=settings.access_log,
                           max_path_length=int(settings.max_path_length),
                           max_header_bytes=int(settings.max_header_bytes))
    outer.runtime = runtime  # type: ignore[attr-defined]
    return outer


def create_app_from_env() -> ASGIApp:
    """Factory for server workers: settings from ROUTEYARD_* environment variables."""
    return create_app(Settings.load())
