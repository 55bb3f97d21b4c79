"""``POST /api/v1/chat/completions`` and ``POST /api/v1/router/plan`` (docs/routing.md).

Raw ASGI apps under Starlette's routing: the body is read once (413 past
``max_chat_body_bytes``), validated (400 in the envelope, nothing sent upstream), the caller's
key checked (any valid key), the attempts planned from the in-memory snapshot (no database
read), and the answer streamed through :mod:`routeyard.router.forward`. A caller that goes
away cancels the attempt under way at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import Any

import msgspec
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from routeyard.accesslog import fields_of
from routeyard.api.auth import check_caller
from routeyard.errors import APIError, BadRequest, NotFound, PayloadTooLarge, error_body
from routeyard.metrics import metrics
from routeyard.models import Endpoint, Provider
from routeyard.router import select
from routeyard.router.forward import Attempter, Context, Output
from routeyard.router.preferences import (
    NO_PREFERENCES,
    ROUTING_FIELDS,
    ChatRequest,
    used_parameters,
)
from routeyard.router.select import Attempt
from routeyard.runtime import Runtime

log = logging.getLogger("routeyard.router")
_rng = random.Random()  # seeded from the OS at import; the plan route can take ?seed=
# Generation ids: 80 random bits, unique, not secret (GET /generation answers only the key
# that made one, and admins), so the fast generator, not the OS's: reseeded in every
# forked worker, which would otherwise share the parent's sequence.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)
_encode = msgspec.json.Encoder(decimal_format="number").encode
WATCH_DELAY = 0.05  # seconds before a request starts watching for its caller's disconnect
_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no")]


class _Disconnected(Exception):
    pass


async def read_body(receive: Receive, headers: Headers, limit: int) -> bytes:
    """The whole request body; 413 past ``limit`` bytes (before reading it, when the
    Content-Length says so)."""
    length = headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"Request body too large: at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body too large: at most {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def parse(data: bytes) -> tuple[ChatRequest, dict[str, Any]]:
    """The typed request and the raw body; 400 naming the first problem."""
    try:
        body = msgspec.json.decode(data)
    except msgspec.DecodeError:
        raise BadRequest("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    try:
        request = msgspec.convert(body, ChatRequest)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"Invalid request: {exc}") from None
    if not request.chain():
        raise BadRequest("Invalid request: no model given (set model or models)")
    return request, body


def _has_key(provider: Provider) -> bool:
    return not provider.api_key_env or bool(os.environ.get(provider.api_key_env))


def make_plan(rt: Runtime, request: ChatRequest, body: dict[str, Any], key: Any,
              rng: random.Random) -> select.Plan:
    snapshot = rt.snapshot
    prefs = request.provider
    if rt.key_preferences is not None and key is not None:
        defaults = rt.key_preferences(key)
        if defaults is not None:
            prefs = (prefs or NO_PREFERENCES).over(defaults)

    def lookup(model_id: str) -> Any:
        entry = snapshot.lookup(model_id)
        return entry.model if entry is not None else None

    try:
        return select.plan(request.chain(), prefs, used_parameters(body), lookup,
                           snapshot.providers, snapshot.live, rt.outages, time.time(), rng,
                           has_key=_has_key)
    except select.UnknownModel as exc:
        raise BadRequest(f"{exc.model_id} is not a valid model ID") from None


def no_endpoints(request: ChatRequest, plan: select.Plan) -> NotFound:
    """404 when no endpoint is left: what for, and every exclusion."""
    missing: set[str] = set()
    for x in plan.excluded:
        if x.reason.startswith("does not support "):
            missing.update(x.reason.removeprefix("does not support ").split(", "))
    model = request.chain()[0]
    message = (f"No endpoints found that support {', '.join(sorted(missing))}" if missing
               and all(x.reason.startswith("does not support ") for x in plan.excluded)
               else f"No endpoints found for {model}")
    return NotFound(message, metadata={"excluded": [
        {"model": x.model_id, "provider": x.provider, "tag": x.tag, "reason": x.reason}
        for x in plan.excluded]})


async def _send_error(send: Send, exc: APIError) -> None:
    headers = list(_JSON)
    for name, value in (exc.headers or {}).items():
        headers.append((name.lower().encode(), value.encode()))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body",
                "body": error_body(exc.status, exc.message, exc.metadata)})


async def _caller(rt: Runtime, scope: Scope, receive: Receive) -> tuple[Any, bytes]:
    headers = Headers(scope=scope)
    key = check_caller(rt, headers.get("authorization"), scope.get("client"),
                       allow_public=False)
    data = await read_body(receive, headers, int(rt.settings.max_chat_body_bytes))
    return key, data


class PlanRoute:
    """``POST /api/v1/router/plan``: the attempts a chat request would make, and why every
    other endpoint is left out, without calling anyone."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rt: Runtime = scope["app"].state.runtime
        try:
            key, data = await _caller(rt, scope, receive)
            request, body = parse(data)
            seed = _seed(scope)
            plan = make_plan(rt, request, body, key, random.Random(seed) if seed is not None
                             else _rng)
        except APIError as exc:
            await _send_error(send, exc)
            return
        except _Disconnected:
            return
        providers = rt.snapshot.providers
        out = {"data": {
            "models": request.chain(), "order": plan.sort,
            "attempts": [{"model": a.model_id, "provider": a.provider,
                          "provider_name": providers[a.provider].name, "tag": a.tag,
                          "upstream_model": a.upstream_model} for a in plan.attempts],
            "excluded": [{"model": x.model_id, "provider": x.provider, "tag": x.tag,
                          "reason": x.reason} for x in plan.excluded],
        }}
        await send({"type": "http.response.start", "status": 200, "headers": list(_JSON)})
        await send({"type": "http.response.body", "body": _encode(out)})


def _seed(scope: Scope) -> int | None:
    query = scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == "seed":
            if not (value.isascii() and value.isdigit()) or len(value) > 18:
                raise BadRequest("Invalid seed: expected a non-negative integer")
            return int(value)
    return None


class ChatRoute:
    """``POST /api/v1/chat/completions``. With ``runtime``, it is answered straight from
    the app's outer layer (app.py); the Starlette route finds the runtime on the app."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        rt: Runtime = self.runtime or scope["app"].state.runtime
        try:
            key, data = await _caller(rt, scope, receive)
            if key is not None:
                rt.accounting.check_limit(key)  # 402 past its spend limit (docs/accounting.md)
            request, body = parse(data)
            plan = make_plan(rt, request, body, key, _rng)
            if not plan.attempts:
                raise no_endpoints(request, plan)
        except APIError as exc:
            await _send_error(send, exc)
            return
        except _Disconnected:
            return
        snapshot = rt.snapshot
        endpoints: dict[tuple[str, str], Endpoint] = {}
        for a in plan.attempts:
            entry = snapshot.lookup(a.model_id)
            if entry is not None:
                for e in entry.model.endpoints:
                    if e.tag == a.tag:
                        endpoints[(a.model_id, a.tag)] = e
        created = int(time.time())
        ctx = Context(
            generation_id=f"gen-{created}-{_ids.getrandbits(80):020x}", created=created,
            model=request.chain()[0], stream=request.stream,
            body={k: v for k, v in body.items() if k not in ROUTING_FIELDS},
            endpoints=endpoints, providers=snapshot.providers,
            key_id=getattr(key, "id", None))
        m = metrics()
        attempter = Attempter(ctx, plan.attempts, rt.upstream, rt.health.record,
                              rt.note_outage, m, float(rt.settings.router_processing_interval))

        def headers(status: int) -> list[tuple[bytes, bytes]]:
            total = time.perf_counter() - started
            upstream = attempter.upstream_so_far()
            timing = (f"routeyard;dur={(total - upstream) * 1000:.3f}, "
                      f"upstream;dur={upstream * 1000:.3f}")
            base = list(_SSE) if request.stream and status == 200 else list(_JSON)
            return [*base, (b"x-generation-id", ctx.generation_id.encode()),
                    (b"server-timing", timing.encode())]

        out = Output(send, headers)
        state = scope.setdefault("state", {})
        # The attempts run in this task; a watcher task cancels it when the caller goes away
        # (one task per request, not two and a wait).
        me = asyncio.current_task()
        gone = False

        async def watch() -> None:
            nonlocal gone
            await _until_disconnect(receive)
            gone = True
            if me is not None:
                me.cancel()

        # Started only once the request has run WATCH_DELAY: most non-streamed answers are
        # done by then and never pay for a second task and its cancellation.
        watcher: asyncio.Future[None] | None = None

        def start_watching() -> None:
            nonlocal watcher
            watcher = asyncio.ensure_future(watch())

        timer = asyncio.get_running_loop().call_later(WATCH_DELAY, start_watching)
        try:
            try:
                await attempter.run(out)
                if not out.content:
                    await self._failed(attempter, out, ctx)
            except asyncio.CancelledError:
                if not gone:
                    raise
                if me is not None:
                    me.uncancel()
                attempter.cancelled = True
            except OSError:
                attempter.cancelled = True  # the caller's socket went away under a send
        finally:
            timer.cancel()
            if watcher is not None:
                watcher.cancel()  # not awaited: nothing in here may be interrupted
            status = attempter.status if out.started or attempter.cancelled else 500
            total = time.perf_counter() - started
            m.route_overhead.observe(max(0.0, total - attempter.upstream_seconds))
            answered = attempter.answered
            state["routed"] = {"model": ctx.model,
                               "provider": answered.tag if answered else None,
                               "attempts": len(attempter.records),
                               "generation_id": ctx.generation_id}
            access = fields_of(scope)  # the access log's line (routeyard.accesslog)
            access.model = answered.model_id if answered else ctx.model
            access.provider = answered.tag if answered else None
            access.attempts = len(attempter.records)
            if rt.route_sink is not None:
                try:
                    rt.route_sink(attempter.record(status=status, streamed=request.stream))
                except Exception:  # the sink is another module's: it must not break routing
                    log.exception("route sink failed")

    async def _failed(self, attempter: Attempter, out: Output, ctx: Context) -> None:
        """Every attempt failed (or the caller is to blame): the error, as a status when the
        response has not started, else as the stream's error chunk."""
        failures = attempter.failures
        caller = next((f.caller for _, f in failures if f.caller is not None), None)
        if caller is not None:
            exc: APIError = APIError(caller["message"], metadata={
                "provider_name": ctx.providers[failures[-1][0].provider].name})
            exc.status = int(caller["status"])
        elif failures and all(f.status == 429 for _, f in failures):
            hints = [f.retry_after for _, f in failures if f.retry_after is not None]
            retry = max(1, int(min(hints) + 0.999)) if hints else 1
            exc = APIError(f"Rate limited by every provider of {ctx.model}",
                           metadata={"retry_after": retry,
                                     "attempts": _attempts(failures, ctx)},
                           headers={"retry-after": str(retry)})
            exc.status = 429
        else:
            exc = APIError(f"Every endpoint of {ctx.model} failed ({len(failures)} attempts)",
                           metadata={"attempts": _attempts(failures, ctx)})
            exc.status = 502
        attempter.status = exc.status
        if out.started:  # a stream kept open with comments: the error goes in it
            last: Attempt | None = failures[-1][0] if failures else None
            await out.write(attempter.error_chunk(
                last.model_id if last else ctx.model,
                ctx.providers[last.provider].name if last else None, exc.status, exc.message)
                + b"data: [DONE]\n\n", more=False)
            return
        out.started = True
        await _send_error(out.send, exc)  # type: ignore[arg-type]


def _attempts(failures: list[Any], ctx: Context) -> list[dict[str, Any]]:
    return [{"provider": a.provider, "provider_name": ctx.providers[a.provider].name,
             "model": a.model_id, "tag": a.tag, "status": f.status, "reason": f.reason}
            for a, f in failures]


async def _until_disconnect(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


routes = [
    Route("/api/v1/chat/completions", ChatRoute(), methods=["POST"]),
    Route("/api/v1/router/plan", PlanRoute(), methods=["POST"]),
]
