"""Forward one chat request along its planned attempts, with fallbacks (docs/routing.md).

An attempt that fails before anything of its answer reached the caller (connection error,
timeout before the first token, 5xx, 429, 401/402/403/404, a malformed answer) moves on to
the next attempt; a 400-class answer caused by the request is returned to the caller; after
the first token has been sent, nothing falls back: a failure ends the stream with an error
chunk. Every attempt is recorded as an outcome with source ``traffic`` (cancelled ones are
not), and one :class:`~routeyard.router.record.RoutedRequest` is built at the end.

The caller's side is an :class:`Output`: the ASGI ``send`` with the response not yet started,
so that a request that fails fast still gets its 4xx/5xx status. A stream that waits longer
than ``processing_interval`` for its first token is started (200) and kept open with
``: OPENROUTER PROCESSING`` comments; if every attempt then fails, the failure comes as an
error chunk in that stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import msgspec

from routeyard.errors import UpstreamError
from routeyard.health.outcomes import Outcome, Result, Source, result_for_status
from routeyard.models import Endpoint, Provider
from routeyard.router.cost import Tokens, cost, tokens_of, usage_body
from routeyard.router.record import AttemptRecord, RoutedRequest
from routeyard.router.select import Attempt
from routeyard.upstream import sse
from routeyard.upstream.client import Response, Upstream
from routeyard.upstream.provider import MissingKey, api_key, scrub
from routeyard.upstream.provider import url as upstream_url

log = logging.getLogger("routeyard.router")
Send = Callable[[dict[str, Any]], Awaitable[None]]
_encode = msgspec.json.Encoder(decimal_format="number").encode
_decode = msgspec.json.decode
PROCESSING = b": OPENROUTER PROCESSING\n\n"
DONE = b"data: [DONE]\n\n"
MAX_ANSWER_BYTES = 64 << 20
MAX_ERROR_BYTES = 64 << 10
CANCELLED = "cancelled"


class Failure(Exception):
    """An attempt failed; ``fallback`` says whether the next one may be tried."""

    def __init__(self, result: Result, reason: str, status: int | None = None, *,
                 retry_after: float | None = None, caller: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.result = result
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.caller = caller  # the upstream's error for the caller (a request at fault)


class Output:
    """The caller's response: started once, with the headers of the moment."""

    def __init__(self, send: Send, headers: Callable[[int], list[tuple[bytes, bytes]]]) -> None:
        self.send = send
        self.headers = headers
        self.started = False
        self.content = False  # the first token (or the answer) was sent
        self.lock = asyncio.Lock()

    async def start(self, status: int = 200) -> None:
        if not self.started:
            self.started = True
            await self.send({"type": "http.response.start", "status": status,
                             "headers": self.headers(status)})

    async def write(self, data: bytes, *, more: bool = True) -> None:
        async with self.lock:
            await self.start()
            await self.send({"type": "http.response.body", "body": data, "more_body": more})

    async def keepalive(self, interval: float, *, first: bool = False) -> None:
        """``: OPENROUTER PROCESSING`` every ``interval`` seconds until the first token
        (``first``: the first interval has already passed)."""
        if interval <= 0:
            return
        while True:
            if not first:
                await asyncio.sleep(interval)
            first = False
            if self.content:
                return
            await self.write(PROCESSING)


class Context(msgspec.Struct, kw_only=True):
    """What the attempts of one request share."""

    generation_id: str
    created: int
    model: str  # first model of the chain, as asked
    body: dict[str, Any]  # the request body without routing fields
    stream: bool
    endpoints: dict[tuple[str, str], Endpoint]
    providers: dict[str, Provider]
    key_id: int | None = None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_message(raw: bytes) -> str:
    """The ``error.message`` of an upstream error body, else its first bytes."""
    try:
        data = _decode(raw)
        if isinstance(data, dict):
            error = data.get("error")
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                return str(error["message"])
            if isinstance(error, str):
                return error
    except (msgspec.DecodeError, ValueError):
        pass
    return raw[:200].decode("utf-8", "replace")


async def _read_some(response: Response, limit: int) -> bytes:
    """Up to ``limit`` bytes of an answer's body (an error's: the rest is not needed)."""
    parts: list[bytes] = []
    size = 0
    while size < limit and (chunk := await response.readany()):
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)[:limit]


def _retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _chunk_head(ctx: Context, chunk: dict[str, Any], model_id: str, provider: str) -> None:
    """Rewrite one upstream stream chunk into OpenRouter's shape, in place."""
    chunk["id"] = ctx.generation_id
    chunk["provider"] = provider
    chunk["model"] = model_id
    chunk["object"] = "chat.completion.chunk"
    chunk["created"] = ctx.created
    chunk.setdefault("system_fingerprint", None)
    choices = chunk.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            if isinstance(choice, dict):
                choice.setdefault("finish_reason", None)
                choice.setdefault("native_finish_reason", choice["finish_reason"])
    else:
        chunk["choices"] = []


class Attempter:
    """Runs the attempts of one request."""

    def __init__(self, ctx: Context, attempts: tuple[Attempt, ...], upstream: Upstream,
                 record_outcome: Callable[[Outcome], None],
                 note_outage: Callable[[tuple[str, str], float], None],
                 metrics: Any, processing_interval: float,
                 env: dict[str, str] | None = None) -> None:
        self.ctx = ctx
        self.attempts = attempts
        self.upstream = upstream
        self.record_outcome = record_outcome
        self.note_outage = note_outage
        self.metrics = metrics
        self.processing_interval = processing_interval
        self.env = env
        self.records: list[AttemptRecord] = []
        self.upstream_seconds = 0.0  # time spent waiting on upstreams
        self.answered: Attempt | None = None
        self.tokens = Tokens()
        self.cost = Decimal(0)
        self.ttft_ms: float | None = None
        self.generation_ms: float | None = None
        self.finish_reason: str | None = None
        self.status = 200
        self.cancelled = False
        self.failures: list[tuple[Attempt, Failure]] = []
        self.current_started: float | None = None  # perf_counter of the attempt under way
        self.upstream_done: float | None = None  # when the current upstream answer was read

    def upstream_so_far(self) -> float:
        """Seconds spent waiting on upstreams up to now (for Server-Timing)."""
        current = self.current_started
        return self.upstream_seconds + (time.perf_counter() - current if current else 0.0)

    # -- bookkeeping ------------------------------------------------------------------

    def _note(self, attempt: Attempt, at: float, started: float, result: Result | str,
              status: int | None, reason: str, *, ttft_ms: float | None = None,
              output_tokens: int | None = None, generation_ms: float | None = None) -> None:
        elapsed = time.perf_counter() - started
        self.records.append(AttemptRecord(
            model_id=attempt.model_id, provider=attempt.provider, tag=attempt.tag,
            result=str(result), http_status=status, reason=reason,
            duration_ms=round(elapsed * 1000, 3), ttft_ms=ttft_ms))
        self.metrics.count(self.metrics.route_attempts, (attempt.provider, str(result)))
        if isinstance(result, Result):
            self.record_outcome(Outcome(
                model_id=attempt.model_id, tag=attempt.tag, at=at, result=result,
                source=Source.TRAFFIC, http_status=status, ttft_ms=ttft_ms,
                output_tokens=output_tokens, generation_ms=generation_ms))
            if result in (Result.UPSTREAM_ERROR, Result.TIMEOUT):
                self.note_outage((attempt.model_id, attempt.tag), time.time())

    # -- the loop ---------------------------------------------------------------------

    async def run(self, out: Output) -> None:
        # The keep-alive comments of a stream: a task only once the first interval has
        # passed without a token (most streams start sooner and never pay for one).
        keepalive: asyncio.Task[None] | None = None
        timer: asyncio.TimerHandle | None = None
        interval = self.processing_interval
        if self.ctx.stream and interval > 0:
            def start_keepalive() -> None:
                nonlocal keepalive
                if not out.content:
                    keepalive = asyncio.ensure_future(out.keepalive(interval, first=True))
            timer = asyncio.get_running_loop().call_later(interval, start_keepalive)
        try:
            for i, attempt in enumerate(self.attempts):
                if i and self.failures:
                    self.metrics.count(self.metrics.route_fallbacks,
                                       (self.attempts[i - 1].provider,))
                try:
                    await self._attempt(attempt, out)
                    return
                except Failure as failure:
                    self.failures.append((attempt, failure))
                    if failure.caller is not None or out.content:
                        return
        finally:
            if timer is not None:
                timer.cancel()
            if keepalive is not None:
                keepalive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keepalive

    async def _attempt(self, attempt: Attempt, out: Output) -> None:
        provider = self.ctx.providers[attempt.provider]
        at, started = time.time(), time.perf_counter()
        self.current_started = started
        try:
            key = api_key(provider, self.env)
        except MissingKey as exc:
            failure = Failure(Result.UPSTREAM_ERROR, str(exc))
            self._note(attempt, at, started, "skipped", None, str(exc))
            self.current_started = None
            raise failure from None
        body = dict(self.ctx.body)
        body["model"] = attempt.upstream_model
        if self.ctx.stream:
            body["stream"] = True
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers["Content-Type"] = "application/json"
        timeouts = self.upstream.timeouts
        response: Response | None = None
        status: int | None = None
        try:
            # A stream must show its first token within the first-byte timeout (then each
            # chunk within the between-chunks one); a whole answer comes in one piece at the
            # end, so it has the total timeout.
            limit = timeouts.first_byte if self.ctx.stream else timeouts.total
            try:
                async with asyncio.timeout(limit if limit > 0 else None) as until:
                    response = await self.upstream.request(
                        "POST", upstream_url(provider, "/chat/completions"), _encode(body),
                        headers)
                    status = response.status
                    if status >= 300:
                        raise await self._refused(response, key)
                    if self.ctx.stream:
                        await self._stream(attempt, response, out, at, started, key, until)
                        return
                    await self._complete(attempt, response, out, at, started, key)
            except TimeoutError:
                what = "first token" if self.ctx.stream else "answer"
                raise Failure(Result.TIMEOUT, f"no {what} within {limit:g} s", status) from None
            except UpstreamError as exc:
                raise Failure(Result.UPSTREAM_ERROR, scrub(_short(
                    f"{type(exc).__name__}: {exc}"), key), status) from None
            except (msgspec.DecodeError, ValueError, TypeError) as exc:
                raise Failure(Result.UPSTREAM_ERROR, f"malformed answer: {_short(str(exc))}",
                              status) from None
        except Failure as failure:
            result = failure.result
            if failure.caller is not None:
                result = Result.CALLER_ERROR
            self._note(attempt, at, started, result, failure.status, failure.reason)
            raise
        except asyncio.CancelledError:
            self.cancelled = True
            self._note(attempt, at, started, CANCELLED, status, "the caller went away")
            raise
        finally:
            self.upstream_seconds += (self.upstream_done or time.perf_counter()) - started
            self.upstream_done = self.current_started = None
            if response is not None:
                response.close()  # an unfinished answer must not keep its connection

    async def _refused(self, response: Response, key: str | None) -> Failure:
        status = response.status
        raw = await _read_some(response, MAX_ERROR_BYTES)
        message = scrub(_short(_error_message(raw)), key)
        result = result_for_status(status)
        if result is Result.CALLER_ERROR:
            return Failure(result, f"HTTP {status}: {message}", status, caller={
                "status": status if status in (400, 413, 422) else 400, "message": message})
        return Failure(result, f"HTTP {status}: {message}", status,
                       retry_after=_retry_after(response.headers) if status == 429 else None)

    async def _complete(self, attempt: Attempt, response: Response, out: Output,
                        at: float, started: float, key: str | None) -> None:
        raw = await response.read(MAX_ANSWER_BYTES)
        answer = _decode(raw)
        if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
            raise Failure(Result.UPSTREAM_ERROR, "malformed answer: no choices", response.status)
        if answer.get("error"):
            raise Failure(Result.UPSTREAM_ERROR, "error in answer: " + scrub(_short(
                str(answer["error"])), key), response.status)
        self.tokens = tokens_of(answer.get("usage"))
        self.cost = cost(self.ctx.endpoints[(attempt.model_id, attempt.tag)].pricing, self.tokens)
        provider = self.ctx.providers[attempt.provider]
        first = answer["choices"][0] if answer["choices"] else {}
        self.finish_reason = first.get("finish_reason") if isinstance(first, dict) else None
        data = {
            "id": self.ctx.generation_id, "provider": provider.name, "model": attempt.model_id,
            "object": "chat.completion", "created": self.ctx.created,
            "choices": answer["choices"],
            "system_fingerprint": answer.get("system_fingerprint"),
            "usage": usage_body(self.tokens, self.cost),
        }
        self.answered = attempt
        self.upstream_done = time.perf_counter()
        # A whole answer's first token is, as far as we can see, its last byte: its latency
        # (the generation record's) runs from sending the request to there. The time to the
        # response headers would be no truer: a provider may send them at once and the body
        # later. It is no time to first token, so the endpoint's latency (and throughput)
        # does not take it: the outcome moves uptime only (docs/routing.md).
        self.ttft_ms = (self.upstream_done - (response.sent_at or started)) * 1000.0
        self._note(attempt, at, started, Result.SUCCESS, response.status, "",
                   output_tokens=self.tokens.completion or None)
        out.content = True
        encoded = _encode(data)
        await out.write(encoded, more=False)

    async def _stream(self, attempt: Attempt, response: Response, out: Output,
                      at: float, started: float, key: str | None,
                      until: asyncio.Timeout) -> None:
        """Read up to the first token under the first-byte timeout (the caller's stream
        not yet committed to this endpoint), then pass chunk by chunk."""
        parser, stats = sse.Parser(), sse.StreamStats()
        pending: list[bytes] = []
        model_id = attempt.model_id
        provider = self.ctx.providers[attempt.provider]
        endpoint = self.ctx.endpoints[(attempt.model_id, attempt.tag)]
        usage_sent = False

        def rewrite(payload: bytes, now: float) -> bytes | None:
            nonlocal usage_sent
            chunk = stats.feed(payload, now)
            if chunk is None:
                return None
            if stats.error is not None:
                return None
            _chunk_head(self.ctx, chunk, model_id, provider.name)
            if isinstance(chunk.get("usage"), dict):
                tokens = tokens_of(chunk["usage"])
                chunk["usage"] = usage_body(tokens, cost(endpoint.pricing, tokens))
                usage_sent = True
            return b"data: " + _encode(chunk) + b"\n\n"

        content = response
        sent_at = response.sent_at or time.perf_counter()  # the request went out
        # Before the first token: the caller may still get another endpoint's answer.
        while stats.first is None and not stats.finished and not stats.done:
            chunk = await content.readany()
            if not chunk:
                raise Failure(Result.UPSTREAM_ERROR, "the stream ended before its first token",
                              response.status)
            now = time.perf_counter()
            for payload in parser.feed(chunk):
                line = rewrite(payload, now)
                if stats.error is not None:
                    raise Failure(Result.UPSTREAM_ERROR, "error in stream: " + scrub(
                        _short(str(stats.error)), key), response.status)
                if line is not None:
                    pending.append(line)
        # Committed: from here on, no fallback, and the first-byte timeout is over.
        until.reschedule(None)
        self.answered = attempt
        out.content = True
        first_at = stats.first or time.perf_counter()
        self.ttft_ms = (first_at - sent_at) * 1000.0
        self.metrics.child(self.metrics.route_ttft, attempt.provider).observe(first_at - sent_at)
        await out.write(b"".join(pending))  # starts the response: Server-Timing is cut here
        failure: tuple[Result, str] | None = None
        timeouts = self.upstream.timeouts
        gap = timeouts.between_chunks if timeouts.between_chunks > 0 else float("inf")
        end = started + timeouts.total if timeouts.total > 0 else float("inf")
        try:
            while not stats.done:
                wait = min(gap, end - time.perf_counter())
                try:
                    async with asyncio.timeout(wait if wait != float("inf") else None):
                        chunk = await content.readany()
                except TimeoutError:
                    failure = (Result.TIMEOUT, f"no chunk within {gap:g} s" if wait == gap
                               else f"the answer took longer than {timeouts.total:g} s")
                    break
                if not chunk:
                    if not stats.finished:
                        failure = (Result.UPSTREAM_ERROR, "the stream ended before it finished")
                    break
                now = time.perf_counter()
                lines = []
                for payload in parser.feed(chunk):
                    line = rewrite(payload, now)
                    if stats.error is not None:
                        failure = (Result.UPSTREAM_ERROR, "error in stream: " + scrub(
                            _short(str(stats.error)), key))
                        break
                    if line is not None:
                        lines.append(line)
                if lines:
                    await out.write(b"".join(lines))
                if failure is not None:
                    break
        except UpstreamError as exc:
            failure = (Result.UPSTREAM_ERROR, scrub(_short(f"{type(exc).__name__}: {exc}"), key))
        if failure is None and stats.done:
            response.done_reading()  # the framing's end may follow: keep the connection
        self.tokens = tokens_of(stats.usage) if stats.usage else Tokens(completion=stats.deltas)
        self.cost = cost(endpoint.pricing, self.tokens)
        self.finish_reason = "error" if failure else stats.finish_reason
        if stats.first is not None and stats.last is not None:
            self.generation_ms = (stats.last - stats.first) * 1000.0
        tail: list[bytes] = []
        if failure is not None:
            tail.append(self.error_chunk(model_id, provider.name, 502, failure[1]))
        elif not usage_sent:
            tail.append(b"data: " + _encode({
                "id": self.ctx.generation_id, "provider": provider.name, "model": model_id,
                "object": "chat.completion.chunk", "created": self.ctx.created,
                "system_fingerprint": None, "choices": [],
                "usage": usage_body(self.tokens, self.cost)}) + b"\n\n")
        tail.append(DONE)
        result, reason = failure if failure else (Result.SUCCESS, "")
        self._note(attempt, at, started, result, response.status, reason,
                   ttft_ms=self.ttft_ms if result is Result.SUCCESS else None,
                   output_tokens=self.tokens.completion or stats.deltas or None,
                   generation_ms=self.generation_ms if result is Result.SUCCESS else None)
        await out.write(b"".join(tail), more=False)

    def error_chunk(self, model_id: str, provider_name: str | None, code: int,
                    message: str) -> bytes:
        """The chunk that ends a stream on a failure: ``error`` and finish reason ``error``."""
        return b"data: " + _encode({
            "id": self.ctx.generation_id, "provider": provider_name, "model": model_id,
            "object": "chat.completion.chunk", "created": self.ctx.created,
            "system_fingerprint": None,
            "error": {"code": code, "message": message},
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error",
                         "native_finish_reason": "error"}],
        }) + b"\n\n"

    def record(self, *, status: int, streamed: bool) -> RoutedRequest:
        a = self.answered
        return RoutedRequest(
            generation_id=self.ctx.generation_id, key_id=self.ctx.key_id, model=self.ctx.model,
            model_used=a.model_id if a else None, provider=a.provider if a else None,
            tag=a.tag if a else None, attempts=tuple(self.records),
            prompt_tokens=self.tokens.prompt, completion_tokens=self.tokens.completion,
            reasoning_tokens=self.tokens.reasoning, cached_tokens=self.tokens.cached,
            cost=self.cost, ttft_ms=self.ttft_ms, generation_ms=self.generation_ms,
            finish_reason=self.finish_reason, streamed=streamed, cancelled=self.cancelled,
            status=status, created=self.ctx.created)
