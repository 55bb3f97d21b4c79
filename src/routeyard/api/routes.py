"""The discovery API: /api/v1/models, /models/count, /models/{author}/{slug}/endpoints,
/providers, /openapi.json, and /healthz."""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from routeyard import ids
from routeyard.api.http import prepare, send_body, send_prepared
from routeyard.api.snapshot import Body, Snapshot
from routeyard.errors import BadRequest, NotFound, TooManyRequests, Unauthorized
from routeyard.keys import KeyRecord
from routeyard.runtime import Runtime

MAX_LIMIT = 10_000


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def bearer_token(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header value; None without one."""
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Invalid authorization header: expected 'Bearer <key>'")
    return token


def bearer(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization"))


def authenticate(request: Request, *, allow_public: bool) -> KeyRecord | None:
    """The caller's key; None for an anonymous caller where discovery is public.

    A key that is presented must be valid even where discovery is public. An address that
    failed too often gets 429 before its key is checked; a key over its rate limit gets 429
    (docs/security.md).
    """
    return check_caller(runtime(request), request.headers.get("authorization"),
                        request.scope.get("client"), allow_public=allow_public)


def check_caller(rt: Runtime, authorization: str | None, client: tuple[str, int] | None, *,
                 allow_public: bool) -> KeyRecord | None:
    """:func:`authenticate` from the raw ``Authorization`` header and the ASGI client."""
    token = bearer_token(authorization)
    if token is None:
        if allow_public and rt.settings.public_discovery:
            return None
        raise Unauthorized("No auth credentials found")
    limiter = rt.limiter
    address = client[0] if client else "unknown"
    if wait := limiter.blocked(address):
        raise _too_many_failures(wait)
    record = rt.keyring.verify(token)
    if record is None:
        failure = limiter.failed(address)
        if failure is not None and not failure.allowed:
            raise _too_many_failures(failure.retry_after)
        raise Unauthorized("Invalid or revoked API key")
    rt.note_key_use(record.id)
    decision = limiter.check_key(record.scope, record.id)
    if decision is not None and not decision.allowed:
        raise TooManyRequests(f"Rate limit exceeded: {limiter.key_limits[record.scope]} "
                              "requests per minute for this key", retry_after=decision.retry_after)
    return record


def _too_many_failures(retry_after: int) -> TooManyRequests:
    return TooManyRequests("Too many failed authentication attempts from this address; "
                           f"retry after {retry_after} seconds", retry_after=retry_after)


def _send(request: Request, body: Body) -> Response:
    rt = runtime(request)
    return send_body(request, body, cache_control=rt.settings.cache_control,
                     extra=rt.stale_headers())


# -- the hot path: raw ASGI ---------------------------------------------------------------
#
# The endpoints route and the unfiltered /models are answered without Starlette's Request and
# Response objects: the three request headers that matter are read straight from the scope,
# and the answer is a pre-encoded body with a memoized header list (api/http.py prepare).
# Route treats a class instance as an ASGI app; errors are raised as APIError and answered by
# the app's exception handlers, as on every other route.


class _Discovery:
    """A discovery GET answered from the snapshot as a raw ASGI app."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rt: Runtime = scope["app"].state.runtime
        authorization = if_none_match = accept_encoding = None
        for name, value in scope["headers"]:  # the first of each, as Request.headers.get
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding" and accept_encoding is None:
                accept_encoding = value.decode("latin-1")
        key = check_caller(rt, authorization, scope.get("client"), allow_public=True)
        status, headers, data = prepare(
            self.body(rt, scope, key), if_none_match=if_none_match,
            accept_encoding=accept_encoding, cache_control=rt.settings.cache_control,
            extra=rt.stale_headers())
        await send_prepared(send, status, headers, data)

    def body(self, rt: Runtime, scope: Scope, key: KeyRecord | None) -> Body:
        raise NotImplementedError


class _Endpoints(_Discovery):
    """``GET /api/v1/models/{author}/{slug}/endpoints``."""

    def body(self, rt: Runtime, scope: Scope, key: KeyRecord | None) -> Body:
        params = scope["path_params"]
        model_id = f"{params['author']}/{params['slug']}"
        if not ids.is_model_id(model_id):
            raise BadRequest("Invalid model id: expected author/slug[:variant]")
        entry = rt.snapshot.lookup(model_id)
        if entry is None:
            raise NotFound(f"Model {model_id} not found")
        return entry.full if key is not None else entry.anonymous


class _Models(_Discovery):
    """``GET /api/v1/models``: without a query string, the whole pre-encoded list."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("query_string"):
            response = await list_models(Request(scope, receive))
            await response(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    def body(self, rt: Runtime, scope: Scope, key: KeyRecord | None) -> Body:
        return rt.snapshot.models_body


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # not "²": int() refuses it
        raise BadRequest(f"Invalid {name}: expected a non-negative integer")
    return int(raw)


async def list_models(request: Request) -> Response:
    authenticate(request, allow_public=True)
    snapshot: Snapshot = runtime(request).snapshot
    params = _csv(request.query_params.get("supported_parameters"))
    outputs = _csv(request.query_params.get("output_modalities"))
    offset = _int_param(request, "offset", 0) or 0
    limit = _int_param(request, "limit", None)
    if not params and not outputs and offset == 0 and (limit is None or limit >= len(snapshot.listed)):
        return _send(request, snapshot.models_body)
    entries = snapshot.listed
    if params:
        wanted = frozenset(params)
        entries = [e for e in entries if wanted <= e.parameters]
    if outputs and outputs != ["all"]:
        wanted_out = frozenset(outputs)
        entries = [e for e in entries if wanted_out & e.output_modalities]
    total = len(entries)
    if limit is not None:
        limit = min(max(limit, 1), MAX_LIMIT)
        page = entries[offset:offset + limit]
        next_link = None
        if offset + limit < total:
            query = request.url.include_query_params(offset=offset + limit, limit=limit)
            next_link = f"{query.path}?{query.query}"
    else:
        page, next_link = entries[offset:], None
    return _send(request, Snapshot.models_page(page, total=total, next_link=next_link))


async def count_models(request: Request) -> Response:
    authenticate(request, allow_public=True)
    return _send(request, runtime(request).snapshot.count_body)


async def list_providers(request: Request) -> Response:
    authenticate(request, allow_public=True)
    return _send(request, runtime(request).snapshot.providers_body)


def openapi_body() -> Body:
    return Body(resources.files("routeyard.api").joinpath("openapi.json").read_bytes())


async def openapi(request: Request) -> Response:
    return send_body(request, runtime(request).openapi, cache_control="public, max-age=3600")


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json",
                    headers={"cache-control": "no-store"})


routes = [
    Route("/api/v1/models/{author}/{slug}/endpoints", _Endpoints(), methods=["GET", "HEAD"],
          name="list_endpoints"),
    Route("/api/v1/models/count", count_models, methods=["GET", "HEAD"]),
    Route("/api/v1/models", _Models(), methods=["GET", "HEAD"], name="list_models"),
    Route("/api/v1/providers", list_providers, methods=["GET", "HEAD"]),
    Route("/api/v1/openapi.json", openapi, methods=["GET", "HEAD"]),
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
]
