"""An OpenAI-compatible fake provider, for tests, the demo and probing.

``create_fake_provider(config)`` builds the ASGI app: ``GET /v1/models``, ``POST
/v1/chat/completions`` (streaming and not) and a control endpoint, ``GET``/``POST /_control``,
that reads or changes the behaviour while it runs (``POST /_control/reset`` zeroes the
request counters). Answers are deterministic for a given seed.

Per request, in this order: a bearer key is required if ``api_key`` is set (401); the body must
be JSON with ``model`` and ``messages`` (400); the model must be listed (404); then one draw of
the seeded generator decides: below ``rate_limit_rate`` → 429, below ``rate_limit_rate +
fail_rate`` → 500 (both with an OpenAI-style error body, at once), else success. A success
sends its first token after ``ttft_ms`` and the rest at ``tokens_per_s`` (with
``break_after_tokens``, a stream sends that many, then an error chunk, and ends): for the models in
``reasoning_models``, ``reasoning_tokens`` ``reasoning`` deltas first; then ``output_tokens``
``content`` deltas; the total is capped by the request's ``max_tokens`` or
``max_completion_tokens`` (finish reason ``length``). The last chunk carries ``usage``. A
non-streaming answer waits as long as the stream would have lasted. ``/_control`` needs no key:
it is the operator's, not the API's.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import msgspec
from granian.constants import Interfaces
from granian.server.embed import Server
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Rate = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
_WORDS = ("The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")


class FakeProviderConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The fake provider's behaviour; every field can be changed through ``POST /_control``."""

    models: Annotated[list[str], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["fake/chat", "fake/reasoner", "fake/small"]
    )
    fail_rate: Rate = 0.0
    rate_limit_rate: Rate = 0.0
    ttft_ms: Annotated[float, msgspec.Meta(ge=0.0)] = 200.0
    tokens_per_s: Annotated[float, msgspec.Meta(gt=0.0)] = 50.0
    output_tokens: Annotated[int, msgspec.Meta(ge=1)] = 16
    reasoning_tokens: Annotated[int, msgspec.Meta(ge=0)] = 8
    reasoning_models: list[str] = msgspec.field(default_factory=lambda: ["fake/reasoner"])
    api_key: str | None = None
    seed: int | None = None
    #: > 0: a stream sends this many tokens, then an error chunk, and ends (a provider
    #: failing mid-answer)
    break_after_tokens: Annotated[int, msgspec.Meta(ge=0)] = 0
    #: prompt tokens reported as cached (``prompt_tokens_details.cached_tokens``, at most
    #: the prompt's)
    cached_tokens: Annotated[int, msgspec.Meta(ge=0)] = 0
    #: a stream's response headers come with its first token, not at once (as from
    #: providers, or proxies in front of them, that send nothing before the first token)
    hold_headers: bool = False


def validated(config: FakeProviderConfig, **changes: Any) -> FakeProviderConfig:
    """``config`` with ``changes`` applied, checked; raises ``ValueError`` when out of range."""
    raw = msgspec.to_builtins(config)
    raw.update(changes)
    try:
        return msgspec.convert(raw, FakeProviderConfig)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def openai_error(status: int, message: str, type_: str, code: str) -> JSONResponse:
    """An OpenAI-style error response."""
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    headers = {"retry-after": "1"} if status == 429 else None
    return JSONResponse(body, status_code=status, headers=headers)


class _State:
    def __init__(self, config: FakeProviderConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.requests: dict[str, int] = {}
        self.sequence = 0
        self.open_streams = 0  # streams being sent right now

    def count(self, kind: str) -> None:
        self.requests[kind] = self.requests.get(kind, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(self.config)
        out["requests"] = dict(self.requests)
        out["open_streams"] = self.open_streams
        return out


Deltas = list[tuple[str, str]]  # (kind, text): kind is "reasoning" or "content"


def _tokens(config: FakeProviderConfig, model: str, max_tokens: int | None) -> tuple[Deltas, bool]:
    """The deltas of one answer and whether ``max_tokens`` cut it short."""
    thinks = model in config.reasoning_models
    deltas = [("reasoning", f"step {i}. ") for i in range(config.reasoning_tokens if thinks else 0)]
    deltas += [("content", _WORDS[i % len(_WORDS)]) for i in range(config.output_tokens)]
    if max_tokens is not None and len(deltas) > max_tokens:
        return deltas[:max_tokens], True
    return deltas, False


def _usage(body: dict[str, Any], deltas: Deltas, cached: int = 0) -> dict[str, Any]:
    messages = [m for m in body["messages"] if isinstance(m, dict)]
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages)  # roughly: words
    reasoning = sum(1 for kind, _ in deltas if kind == "reasoning")
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": len(deltas),
        "total_tokens": prompt + len(deltas),
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": min(cached, prompt)}
    return usage


async def _sleep_until(due: float) -> None:
    delay = due - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


def create_fake_provider(config: FakeProviderConfig | None = None) -> Starlette:
    """The fake provider as an ASGI app; raises ``ValueError`` on an invalid config."""
    state = _State(validated(config or FakeProviderConfig()))

    def authorized(request: Request) -> bool:
        key = state.config.api_key
        return key is None or request.headers.get("authorization") == f"Bearer {key}"

    def unauthorized() -> JSONResponse:
        state.count("unauthorized")
        return openai_error(401, "Invalid API key", "invalid_request_error", "invalid_api_key")

    async def list_models(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "routeyard-fake"}
            for m in state.config.models
        ]
        return JSONResponse({"object": "list", "data": data})

    async def chat_completions(request: Request) -> Response:
        config = state.config  # one snapshot per request: /_control changes apply to the next
        if not authorized(request):
            return unauthorized()
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("model"), str)
            or not isinstance(body.get("messages"), list)
        ):
            state.count("bad_request")
            return openai_error(
                400,
                "body must be JSON with model and messages",
                "invalid_request_error",
                "invalid_request",
            )
        if body["model"] not in config.models:
            state.count("not_found")
            return openai_error(
                404,
                f"The model `{body['model']}` does not exist",
                "invalid_request_error",
                "model_not_found",
            )
        draw = state.rng.random()
        if draw < config.rate_limit_rate:
            state.count("rate_limited")
            return openai_error(
                429, "Rate limit reached", "rate_limit_error", "rate_limit_exceeded"
            )
        if draw < config.rate_limit_rate + config.fail_rate:
            state.count("failed")
            return openai_error(
                500, "The fake provider failed on purpose", "server_error", "server_error"
            )
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        valid_limit = isinstance(limit, int) and not isinstance(limit, bool) and limit > 0
        deltas, cut = _tokens(config, body["model"], limit if valid_limit else None)
        state.sequence += 1
        head = {
            "id": f"chatcmpl-fake-{state.sequence}",
            "created": int(time.time()),
            "model": body["model"],
        }
        finish = "length" if cut else "stop"
        start = asyncio.get_running_loop().time() + config.ttft_ms / 1000.0
        interval = 1.0 / config.tokens_per_s
        if body.get("stream") is True:
            state.count("streamed")
            if config.hold_headers:
                await _sleep_until(start)
            return StreamingResponse(
                _counted(state, _events(head, deltas, finish,
                                        _usage(body, deltas, config.cached_tokens), start,
                                        interval, config.break_after_tokens)),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache"},
            )
        state.count("completed")
        await _sleep_until(start + max(0, len(deltas) - 1) * interval)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(t for k, t in deltas if k == "content"),
        }
        reasoning = "".join(t for k, t in deltas if k == "reasoning")
        if reasoning:
            message["reasoning"] = reasoning
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return JSONResponse(
            {
                **head,
                "object": "chat.completion",
                "choices": [choice],
                "usage": _usage(body, deltas, config.cached_tokens),
            }
        )

    async def get_control(request: Request) -> Response:
        return JSONResponse(state.snapshot())

    async def post_control(request: Request) -> Response:
        try:
            changes = json.loads(await request.body())
        except ValueError as exc:
            return openai_error(400, str(exc), "invalid_request_error", "invalid_control")
        if not isinstance(changes, dict):
            return openai_error(
                400, "expected a JSON object", "invalid_request_error", "invalid_control"
            )
        try:
            state.config = validated(state.config, **changes)
        except ValueError as exc:
            return openai_error(400, str(exc), "invalid_request_error", "invalid_control")
        if "seed" in changes:
            state.rng.seed(state.config.seed)
        return JSONResponse(state.snapshot())

    async def reset_counters(request: Request) -> Response:
        state.requests.clear()
        return JSONResponse(state.snapshot())

    return Starlette(
        routes=[
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/_control", get_control, methods=["GET"]),
            Route("/_control", post_control, methods=["POST"]),
            Route("/_control/reset", reset_counters, methods=["POST"]),
        ]
    )


async def _counted(state: _State, events: AsyncIterator[str]) -> AsyncIterator[str]:
    """The SSE answer ``events``. Counts ``open_streams`` while it runs, and ``cancelled``
    when the client went away before its end (the server stopped the generator)."""
    state.open_streams += 1
    finished = False
    try:
        async for event in events:
            yield event
        finished = True
    finally:
        state.open_streams -= 1
        if not finished:
            state.count("cancelled")


async def _events(
    head: dict[str, Any],
    deltas: Deltas,
    finish: str,
    usage: dict[str, Any],
    start: float,
    interval: float,
    break_after: int,
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish_reason: str | None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        data = {**head, "object": "chat.completion.chunk", "choices": [choice], **extra}
        return f"data: {json.dumps(data, separators=(',', ':'))}\n\n"

    for i, (kind, text) in enumerate(deltas):
        await _sleep_until(start + i * interval)
        if break_after and i == break_after:
            data = {**head, "error": {"message": "The fake provider broke off on purpose",
                                      "code": "server_error"}}
            yield f"data: {json.dumps(data)}\n\n"
            return
        delta = {"role": "assistant", kind: text} if i == 0 else {kind: text}
        yield chunk(delta, None)
    yield chunk({}, finish, usage=usage)
    yield "data: [DONE]\n\n"


def _server(app: Starlette, host: str, port: int, log: bool) -> Server:
    return Server(app, address=host, port=port, interface=Interfaces.ASGI, log_enabled=log)


def run_fake_provider(host: str, port: int, config: FakeProviderConfig) -> None:
    """Serve the fake provider until SIGINT or SIGTERM (blocking; call from the main thread)."""
    server = _server(create_fake_provider(config), host, port, log=True)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        await server.serve()

    asyncio.run(main())


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host`` (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class FakeProviderThread:
    """The fake provider served from a background thread, for tests: ``with … as url:``."""

    def __init__(
        self,
        config: FakeProviderConfig | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.host, self.port = host, port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self._server = _server(create_fake_provider(config), host, self.port, log=False)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="fake-provider", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            await self._server.serve()

        asyncio.run(main())

    def start(self, timeout: float = 10.0) -> str:
        """Start serving and wait until it answers; returns the base URL."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(self.url + "/_control", timeout=1.0).raise_for_status()
                return self.url
            except httpx.HTTPError:
                if time.monotonic() > deadline or not self._thread.is_alive():
                    raise RuntimeError(f"fake provider did not start on {self.url}") from None
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._server.stop)
        self._thread.join(timeout)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
