"""OpenRouter's discovery API: ``/api/v1/models``, ``/models/count``,
``/models/{author}/{slug}/endpoints`` and ``/providers``, served from the snapshot.

The endpoints route and the unfiltered /models are read far more than anything else
(docs/api.md), so the outermost layer (:class:`routeyard.app.RequestContext`) hands every
request to :meth:`FastPath.answer` first, with the few request headers that matter already
picked out; it returns the whole answer (a pre-encoded body and a memoized header list,
:mod:`routeyard.api.http`), or None for any other request, which goes on to Starlette's
router. The Starlette routes of the same paths (:class:`DiscoveryRoute`: a request under a
root path, a filtered /models) call the same :func:`discovery`, so both entry points give the
same bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from routeyard import ids, wire
from routeyard.accesslog import fields_of
from routeyard.api.auth import check_caller, check_known
from routeyard.api.deps import authenticate, runtime
from routeyard.api.http import PRIVATE_CACHE_CONTROL, Header, api_error_parts, prepare, send_body
from routeyard.errors import APIError, BadRequest, NotFound
from routeyard.keys import KeyRecord
from routeyard.runtime import Runtime
from routeyard.snapshot import Body, ModelEntry, Snapshot, encode

ENDPOINTS = "/api/v1/models/{author}/{slug}/endpoints"
MODELS = "/api/v1/models"
_PREFIX = "/api/v1/models/"
_SUFFIX = "/endpoints"
MAX_LIMIT = 10_000
Answer = tuple[int, list[Header], bytes]


def discovery(rt: Runtime, model_id: str | None, key: KeyRecord | None,
              if_none_match: str | None, accept_encoding: str | None, cache_control: str
              ) -> Answer:
    """The answer to a GET of one model's endpoints (``model_id``) or of the whole model
    list (None) for the caller's key (from :func:`check_caller`). ``cache_control`` is for
    answers that are the same for every caller (the model list where discovery is public);
    the others are private. Raises :class:`APIError` (400, 404). The header list is shared:
    copy it before changing it. (Positional arguments: this runs on every request.)"""
    snapshot = rt.snapshot
    if model_id is None:
        body = snapshot.models_body
        if not rt.settings.public_discovery:
            cache_control = PRIVATE_CACHE_CONTROL
    else:
        cache_control = PRIVATE_CACHE_CONTROL  # keyed and anonymous bodies differ
        entry = snapshot.lookup(model_id)
        if entry is None:  # catalog ids are valid ids: only a miss needs the check
            if not ids.is_model_id(model_id):
                raise BadRequest("Invalid model id: expected author/slug[:variant]")
            raise NotFound(f"Model {model_id} not found")
        body = entry.full if key is not None else entry.anonymous
    extra = None if rt.stale_since is None else rt.stale_headers()
    return prepare(body, if_none_match=if_none_match, accept_encoding=accept_encoding,
                   cache_control=cache_control, extra=extra)


def model_id_of(path: str) -> str | None:
    """``author/slug`` of an endpoints path, as Starlette's ``{author}/{slug}`` would match
    it (each one or more characters other than ``/``); None for any other path."""
    if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
        return None
    middle = path[len(_PREFIX):-len(_SUFFIX)]
    author, sep, slug = middle.partition("/")
    if not sep or not author or not slug or "/" in slug:
        return None
    return middle


class FastPath:
    """Answers the hot-path requests of one app; see the module's docstring.

    Successful answers are remembered by (path, Authorization, If-None-Match,
    Accept-Encoding) for as long as the snapshot and the key ring they came from are the
    ones served: a repeated request then skips parsing, lookup and negotiation, though not
    the per-key checks (throttled address, use, rate limit). Not while the database is
    unreachable (the answer then carries the stale age), and at most ``MEMO_MAX`` answers.
    Error answers without metadata are remembered by their content, as long.
    """

    MEMO_MAX = 4096

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.cache_control = runtime.settings.cache_control  # settings are fixed
        self._memo: dict[tuple[str, str | None, str | None, str | None],
                         tuple[str, Answer, KeyRecord | None]] = {}
        self._errors: dict[tuple[int, str, tuple[tuple[str, str], ...]], Answer] = {}
        self._memo_of: tuple[object, object] = (None, None)

    def answer(self, scope: Scope, authorization: str | None, if_none_match: str | None,
               accept_encoding: str | None) -> tuple[str, Answer, KeyRecord | None] | None:
        """(route template, answer, the caller's verified key) for a hot-path request, None
        for any other."""
        if scope["method"] not in ("GET", "HEAD") or scope.get("root_path"):
            return None
        path: str = scope["path"]
        if path == MODELS and scope.get("query_string"):
            return None  # filtered or paged: list_models
        rt = self.runtime
        memo_key = (path, authorization, if_none_match, accept_encoding)
        if self._memo_of[0] is not rt.snapshot or self._memo_of[1] is not rt.keyring:
            self._memo, self._errors = {}, {}
            self._memo_of = (rt.snapshot, rt.keyring)
        elif (hit := self._memo.get(memo_key)) is not None and rt.stale_since is None:
            template, answer, key = hit
            if key is not None:
                try:
                    check_known(rt, key, scope.get("client"))
                except APIError as exc:
                    return template, self._error(exc), key
            return template, answer, key
        if path == MODELS:
            template, model_id = MODELS, None
        else:
            model_id = model_id_of(path)
            if model_id is None:
                return None
            template = ENDPOINTS
        try:
            key = check_caller(rt, authorization, scope.get("client"), allow_public=True)
        except APIError as exc:
            return template, self._error(exc), None
        try:
            answer = discovery(rt, model_id, key, if_none_match, accept_encoding,
                               self.cache_control)
        except APIError as exc:
            return template, self._error(exc), key
        if rt.stale_since is None and self._memo_of[0] is rt.snapshot:
            if len(self._memo) >= self.MEMO_MAX:
                self._memo = {}
            self._memo[memo_key] = (template, answer, key)
        return template, answer, key

    def _error(self, exc: APIError) -> Answer:
        """:func:`api_error_parts`, remembered for errors without metadata (a client that
        repeats a bad request gets the same bytes)."""
        if exc.metadata is not None:
            return api_error_parts(exc)
        key = (exc.status, exc.message, tuple(exc.headers.items()) if exc.headers else ())
        answer = self._errors.get(key)
        if answer is None:
            if len(self._errors) >= self.MEMO_MAX:
                self._errors = {}
            answer = self._errors[key] = api_error_parts(exc)
        return answer


class DiscoveryRoute:
    """The Starlette route app of a hot-path template, for the requests the fast path passes
    on; ``filtered`` answers a /models request with a query string."""

    def __init__(self, template: str,
                 filtered: Callable[[Request], Awaitable[Response]] | None = None) -> None:
        self.template = template
        self.filtered = filtered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.filtered is not None and scope.get("query_string"):
            response = await self.filtered(Request(scope, receive))
            await response(scope, receive, send)
            return
        headers = Headers(scope=scope)
        model_id = None
        if self.template == ENDPOINTS:
            params = scope["path_params"]
            model_id = f"{params['author']}/{params['slug']}"
        rt: Runtime = scope["app"].state.runtime
        key = check_caller(rt, headers.get("authorization"), scope.get("client"),
                           allow_public=True)
        if key is not None:
            fields_of(scope).key_name = key.name
        status, raw, data = discovery(rt, model_id, key, headers.get("if-none-match"),
                                      headers.get("accept-encoding"),
                                      rt.settings.cache_control)
        await send({"type": "http.response.start", "status": status, "headers": list(raw)})
        await send({"type": "http.response.body", "body": data})


# -- the Starlette routes ------------------------------------------------------------


def cache_control(rt: Runtime, *, per_key: bool = False) -> str:
    """Cache-Control of a discovery answer: the setting where discovery is public and the
    answer is the same for every caller, else private (docs/api.md, "Caching")."""
    if per_key or not rt.settings.public_discovery:
        return PRIVATE_CACHE_CONTROL
    return rt.settings.cache_control


def send(request: Request, body: Body, *, per_key: bool = False) -> Response:
    """``body`` with the discovery API's caching (:func:`cache_control`)."""
    rt = runtime(request)
    return send_body(request, body, cache_control=cache_control(rt, per_key=per_key),
                     extra=rt.stale_headers())


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # not "²": int() refuses it
        raise BadRequest(f"Invalid {name}: expected a non-negative integer")
    return int(raw)


def _filtered(request: Request, entries: list[ModelEntry]) -> list[ModelEntry]:
    """The listed models that pass the request's ``supported_parameters`` (all of them) and
    ``output_modalities`` (any of them; ``all``: no filter) filters."""
    params = _csv(request.query_params.get("supported_parameters"))
    outputs = _csv(request.query_params.get("output_modalities"))
    if params:
        wanted = frozenset(params)
        entries = [e for e in entries if wanted <= e.parameters]
    if outputs and outputs != ["all"]:
        wanted_out = frozenset(outputs)
        entries = [e for e in entries if wanted_out & e.output_modalities]
    return entries


def models_answer(request: Request, entries: list[ModelEntry], *, per_key: bool = False
                  ) -> Response:
    """A /models-shaped answer of ``entries`` after the request's filters and page."""
    offset = _int_param(request, "offset", 0) or 0
    limit = _int_param(request, "limit", None)
    chosen = _filtered(request, entries)
    if chosen is runtime(request).snapshot.listed and offset == 0 and limit is None:
        return send(request, runtime(request).snapshot.models_body, per_key=per_key)
    total = len(chosen)
    if limit is not None:
        limit = min(limit, MAX_LIMIT)
        page = chosen[offset:offset + limit]
        next_link = None
        if limit and offset + limit < total:
            query = request.url.include_query_params(offset=offset + limit, limit=limit)
            next_link = f"{query.path}?{query.query}"
    else:
        page, next_link = chosen[offset:], None
    return send(request, Snapshot.models_page(page, total=total, next_link=next_link),
                per_key=per_key)


async def list_models(request: Request) -> Response:
    authenticate(request, allow_public=True)
    return models_answer(request, runtime(request).snapshot.listed)


async def count_models(request: Request) -> Response:
    authenticate(request, allow_public=True)
    snapshot = runtime(request).snapshot
    chosen = _filtered(request, snapshot.listed)
    if chosen is snapshot.listed:
        return send(request, snapshot.count_body)
    return send(request, Body(encode(wire.count_response(len(chosen)))))


async def list_providers(request: Request) -> Response:
    authenticate(request, allow_public=True)
    return send(request, runtime(request).snapshot.providers_body)


routes = [
    Route(ENDPOINTS, DiscoveryRoute(ENDPOINTS), methods=["GET", "HEAD"], name="list_endpoints"),
    Route("/api/v1/models/count", count_models, methods=["GET", "HEAD"]),
    Route(MODELS, DiscoveryRoute(MODELS, filtered=list_models), methods=["GET", "HEAD"],
          name="list_models"),
    Route("/api/v1/providers", list_providers, methods=["GET", "HEAD"]),
]
