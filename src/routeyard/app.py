"""The ASGI application: ``create_app(settings, store=...)``."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from routeyard import api, logs
from routeyard.accesslog import LOGGER, AccessFields, AccessLog
from routeyard.api import chat
from routeyard.api.discovery import FastPath
from routeyard.api.http import api_error_response, error_response, preflight_headers
from routeyard.config import Settings
from routeyard.errors import APIError, StoreUnavailable
from routeyard.metrics import metrics
from routeyard.runtime import Runtime
from routeyard.service import prepare
from routeyard.store import Store
from routeyard.upstream.client import Upstream
from routeyard.web import web_routes

log = logging.getLogger("routeyard")
# Seconds a thread may hold the GIL while another waits for it (Python's default: 5 ms). The
# blocking work served from threads (an outcome batch's decoding and write, a catalog
# reload) would otherwise hold up the event loop, and every request waiting on it, for up to
# that long at a time; the outcome stream's p99 came from there (bench/RESULTS.md).
SWITCH_INTERVAL = 0.0005
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
HTTP_MESSAGES = {
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed", 413: "Request body too large", 414: "URI Too Long",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 503: "Service Unavailable",
}


class RequestContext:
    """Outermost layer: a request id on every response, CORS preflight, one access-log line
    and the request metrics per request, and a last-resort 500 in the envelope whose cause
    is logged with that id (never sent to the client). Refuses a request target longer than
    ``max_path_length`` (414) and headers past ``max_header_bytes`` (431) first (0: no limit).

    The hot-path requests (:mod:`routeyard.api.discovery`) are answered here, from the headers
    read in the one pass over them this layer makes anyway; the rest go on to Starlette
    with ``scope["state"]["request_id"]`` and ``scope["state"]["access"]`` (the
    :class:`~routeyard.accesslog.AccessFields` a route adds to its access-log line).

    The access log (:mod:`routeyard.accesslog`) is attached at start-up
    (:meth:`attach_access_log`); until then, and with it off, requests are not logged.
    """

    def __init__(self, app: ASGIApp, *, fast: FastPath | None = None, count: bool = True,
                 max_path_length: int = 0, max_header_bytes: int = 0,
                 direct: dict[str, ASGIApp] | None = None) -> None:
        self.app = app
        self.fast = fast
        # POST paths answered here without Starlette's middleware and routing (the chat
        # route: its own errors are in the envelope; the last-resort 500 below still holds).
        self.direct = direct or {}
        # Request ids: a random per-process prefix and a counter; unique across processes
        # and far cheaper per request than drawing random bytes.
        self._id_prefix = secrets.token_hex(4)
        self._id_counter = itertools.count(1)
        self._meter = metrics().meter if count else None
        self.access_log: AccessLog | None = None
        self._log_add: Callable[[Any], None] | None = None
        self.max_path_length = max_path_length
        self.max_header_bytes = max_header_bytes

    def attach_access_log(self, access_log: AccessLog | None) -> None:
        """Log every request from now on to ``access_log`` (None: stop logging)."""
        self.access_log = access_log
        self._log_add = None if access_log is None else access_log.add

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        request_id = authorization = if_none_match = accept_encoding = None
        size = 0
        for name, value in scope["headers"]:  # the first of each, as Request.headers.get
            size += len(name) + len(value)
            if name == b"authorization":
                if authorization is None:
                    authorization = value.decode("latin-1")
            elif name == b"if-none-match":
                if if_none_match is None:
                    if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding":
                if accept_encoding is None:
                    accept_encoding = value.decode("latin-1")
            elif name == b"x-request-id" and request_id is None:
                text = value.decode("latin-1")
                request_id = text if _REQUEST_ID.fullmatch(text) else None
        if request_id is None:
            request_id = f"{self._id_prefix}{next(self._id_counter):08x}"
        id_header = (b"x-request-id", request_id.encode())
        refusal = self._over_limits(scope, size)
        if refusal is None and self.fast is not None:
            found = self.fast.answer(scope, authorization, if_none_match, accept_encoding)
            if found is not None:
                template, (status, headers, data), key = found
                await send({"type": "http.response.start", "status": status,
                            "headers": [*headers, id_header]})
                await send({"type": "http.response.body", "body": data})
                self._observe(template, scope, status, started_at, request_id,
                              None if key is None else key.name, None)
                return
        path: str = scope["path"]
        if path[-1:] == "/" and path.startswith("/api/"):
            # /api/v1/models/ is /api/v1/models: answered, not redirected (a redirect would
            # skip the key check and carry no CORS headers). The fast path never matches a
            # trailing slash, so this costs its requests nothing.
            scope = {**scope, "path": path[:-1]}
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["access"] = fields = AccessFields()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        try:
            if refusal is not None:
                await refusal(scope, receive, send_with_id)
            elif scope["method"] == "OPTIONS" and scope["path"].startswith("/api/"):
                requested = Headers(scope=scope).get("access-control-request-headers")
                await Response(status_code=204, headers=preflight_headers(requested))(
                    scope, receive, send_with_id)
            elif scope["method"] == "POST" and (direct := self.direct.get(scope["path"])):
                scope["route_template"] = scope["path"]
                await direct(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if not started:
                await error_response(500, "Internal Server Error")(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or scope.get("route_template") or "unmatched"
            self._observe(template, scope, status, started_at, request_id, None, fields)

    def _over_limits(self, scope: Scope, header_bytes: int) -> Response | None:
        """A 414 or 431 in the envelope for a request past the size limits, a 404 for an
        encoded slash in the path (it never stands for an id's slash: docs/api.md), else
        None."""
        raw_path = scope.get("raw_path") or b""
        limit = self.max_path_length
        if limit:
            raw_path = raw_path or scope["path"].encode("utf-8", "surrogateescape")
            if len(raw_path) + len(scope.get("query_string", b"")) > limit:
                metrics().refused.labels("path_length").inc()
                return error_response(414, f"URI Too Long: at most {limit} bytes")
        limit = self.max_header_bytes
        if limit and header_bytes > limit:
            metrics().refused.labels("header_bytes").inc()
            return error_response(
                431, f"Request Header Fields Too Large: at most {limit} bytes in all")
        return None

    def _observe(self, template: str, scope: Scope, status: int, started_at: float,
                 request_id: str, key_name: str | None, fields: AccessFields | None) -> None:
        """Count the request and queue its access-log line (formatted and written by the
        access log's thread, off the event loop)."""
        end = time.perf_counter()
        method = scope["method"]
        if self._meter is not None:
            self._meter.observe(template, method, status, end - started_at)
        if self._log_add is not None:
            self._log_add((end, method, scope["path"], status, end - started_at, request_id,
                           key_name, fields))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return api_error_response(exc)


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


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               upstream: Upstream | None = None) -> ASGIApp:
    """The routeyard ASGI app. The store is prepared and the catalog loaded at startup.
    ``upstream`` replaces the pooled client to providers (it is closed at shutdown)."""
    settings = settings or Settings.load()
    owns_store = store is None
    store = store or Store(settings.resolved_database_url)
    runtime = Runtime(settings, store, upstream=upstream)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        logs.setup(settings.log_level, settings.log_format)
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_interval, SWITCH_INTERVAL))
        # Decided once, here: the request path need not ask logging each time.
        access_log = None
        if settings.access_log and logging.getLogger(LOGGER).isEnabledFor(logging.INFO):
            access_log = AccessLog(settings.log_format)
            access_log.start()
        outer.attach_access_log(access_log)
        for line in await asyncio.to_thread(prepare, store, settings):
            log.info(line)
        await asyncio.to_thread(runtime.load)
        tasks = [*runtime.tasks(), asyncio.create_task(metrics().push_loop())]
        try:
            yield {}
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.close()
            metrics().push()  # this worker's last counts, into the shared files too
            metrics().meter.flush()
            outer.attach_access_log(None)
            sys.setswitchinterval(switch_interval)
            if access_log is not None:
                await asyncio.to_thread(access_log.stop)  # writes what is left
            if owns_store:
                store.dispose()

    app = Starlette(
        routes=[*api.routes(), *web_routes],
        lifespan=lifespan,
        exception_handlers={
            APIError: _api_error,
            HTTPException: _http_error,
            StoreUnavailable: _unavailable,
            Exception: _internal_error,
        },
    )
    # No trailing-slash redirects: Starlette's would build the Location from the client's Host
    # header (an open redirect); a path with a stray slash is a 404 like any unknown path.
    app.router.redirect_slashes = False
    app.state.runtime = runtime
    outer = RequestContext(app, fast=FastPath(runtime), count=settings.metrics,
                           direct={"/api/v1/chat/completions": chat.ChatRoute(runtime)},
                           max_path_length=settings.max_path_length,
                           max_header_bytes=settings.max_header_bytes)
    outer.runtime = runtime  # type: ignore[attr-defined]
    return outer


def create_app_from_env() -> ASGIApp:
    """Factory for server workers: settings from ROUTEYARD_* environment variables."""
    return create_app(Settings.load())
