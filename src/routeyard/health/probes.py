"""Active probes: routeyard's own small requests to a provider's OpenAI-compatible API.

Two kinds, each giving one :class:`~routeyard.health.outcomes.Outcome` (source ``probe``) per
endpoint:

- ``models``: ``GET {base_url}/models``; a success when the endpoint's model (its
  ``provider_model_id``, else the routeyard model id) is listed. Cheap: one listing per provider
  per round serves all of its endpoints. It measures no time to first token.
- ``completion``: a short streamed ``POST {base_url}/chat/completions``, measuring the time to
  the first token (any token: content or reasoning, so reasoning models count from their first
  thought) and the decoding speed. It costs money, so a provider opts in
  (``probe_completion``).

A round (:func:`run_round`) gives every enabled endpoint whose provider has a ``base_url`` one
probe: the completion probe where the provider opted in (it proves the listing too, and two
outcomes per round would let a cheap success hide a failing completion), else the models probe.

The API key is read from the environment variable the provider names and goes only into the
``Authorization`` header: never into an outcome, a log line or an error text. A provider whose
variable is unset is skipped (not probed, nothing recorded): a missing key is the operator's
configuration, not the endpoint's failure.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

import httpx
import msgspec

from routeyard.health.outcomes import Outcome, Result, Source, result_for_status
from routeyard.models import Catalog, Endpoint, Provider

log = logging.getLogger("routeyard.probes")

PROMPT = "Reply with one word: ok."
DEFAULT_MAX_TOKENS = 16
#: Delta fields that carry a token: visible text, or reasoning under either common name.
TOKEN_FIELDS = ("content", "reasoning", "reasoning_content", "refusal")
Clock = Callable[[], float]
Recorder = Callable[[Outcome], None]


class Kind(enum.StrEnum):
    MODELS = "models"
    COMPLETION = "completion"


ALL_KINDS: frozenset[Kind] = frozenset(Kind)


class ProbeResult(msgspec.Struct, frozen=True, kw_only=True):
    """One endpoint's probe in a round. ``outcome`` is ``None`` when it was skipped; ``note``
    then says why."""

    provider: str
    model_id: str
    tag: str
    kind: Kind
    outcome: Outcome | None
    note: str = ""

    @property
    def throughput(self) -> float | None:
        return None if self.outcome is None else self.outcome.throughput


class MissingKey(Exception):
    """The provider names an API key variable that is not set."""


def api_key(provider: Provider, env: Mapping[str, str] | None = None) -> str | None:
    """The provider's API key from ``env`` (default ``os.environ``); ``None`` when it needs
    none. Raises :class:`MissingKey` when it names a variable that is unset or empty."""
    if not provider.api_key_env:
        return None
    key = (os.environ if env is None else env).get(provider.api_key_env, "")
    if not key:
        raise MissingKey(f"environment variable {provider.api_key_env} is not set")
    return key


def _headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _url(provider: Provider, path: str) -> str:
    if not provider.base_url:
        raise ValueError(f"provider {provider.slug} has no base_url")
    return provider.base_url.rstrip("/") + path


def _why(exc: BaseException, key: str | None) -> str:
    """A short description of an error, scrubbed of the key however it got there."""
    text = f"{type(exc).__name__}: {exc}"
    return text.replace(key, "***") if key else text


def _failure(exc: BaseException) -> Result:
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return Result.TIMEOUT
    return Result.UPSTREAM_ERROR


# Errors a probe turns into an outcome; anything else is a bug and propagates.
_PROBE_ERRORS = (httpx.HTTPError, TimeoutError, ValueError, KeyError, TypeError)


# -- models ------------------------------------------------------------------------------


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    """One ``GET /models`` answer: the model ids, or the result that stands for its failure."""

    at: float
    result: Result
    http_status: int | None = None
    ids: frozenset[str] = frozenset()
    why: str = ""


async def list_models(client: httpx.AsyncClient, provider: Provider, timeout: float, *,
                      env: Mapping[str, str] | None = None, clock: Clock = time.time) -> Listing:
    """Fetch the provider's model listing (raises :class:`MissingKey`)."""
    key = api_key(provider, env)
    at = clock()
    status: int | None = None
    try:
        async with asyncio.timeout(timeout):
            response = await client.get(_url(provider, "/models"), headers=_headers(key),
                                        timeout=timeout)
            status = response.status_code
            if not 200 <= status < 300:
                return Listing(at=at, result=result_for_status(status), http_status=status,
                               why=f"HTTP {status}")
            data = response.json()["data"]
            ids = frozenset(str(m["id"]) for m in data if isinstance(m, dict) and "id" in m)
    except _PROBE_ERRORS as exc:
        return Listing(at=at, result=_failure(exc), http_status=status, why=_why(exc, key))
    return Listing(at=at, result=Result.SUCCESS, http_status=status, ids=ids)


def upstream_id(endpoint: Endpoint, model_id: str) -> str:
    """The id the provider knows the endpoint's model by."""
    return endpoint.provider_model_id or model_id


def models_outcome(listing: Listing, endpoint: Endpoint, model_id: str) -> tuple[Outcome, str]:
    """The outcome a listing gives one endpoint, and why it failed ("" on success)."""
    result, why = listing.result, listing.why
    if result is Result.SUCCESS and upstream_id(endpoint, model_id) not in listing.ids:
        result, why = Result.UPSTREAM_ERROR, f"{upstream_id(endpoint, model_id)} is not listed"
    outcome = Outcome(model_id=model_id, tag=endpoint.tag, at=listing.at, result=result,
                      source=Source.PROBE, http_status=listing.http_status)
    return outcome, why


async def probe_models(client: httpx.AsyncClient, provider: Provider, endpoint: Endpoint,
                       model_id: str, timeout: float, *, env: Mapping[str, str] | None = None,
                       clock: Clock = time.time) -> Outcome:
    """Models probe of one endpoint: is its model in the provider's listing?

    2xx with the model listed: success; listed without it: upstream error (the model is gone);
    a non-2xx status per :func:`result_for_status` (429 is rate-limited); no answer within
    ``timeout``: timeout; connection errors and unreadable listings: upstream error. Raises
    :class:`MissingKey` when the provider's key variable is unset.
    """
    listing = await list_models(client, provider, timeout, env=env, clock=clock)
    outcome, why = models_outcome(listing, endpoint, model_id)
    _log_failure(Kind.MODELS, provider, outcome, why)
    return outcome


# -- completion ---------------------------------------------------------------------------


class _Stream:
    """What a completion stream showed, fed one SSE ``data`` payload at a time."""

    def __init__(self) -> None:
        self.first: float | None = None  # perf_counter of the first token
        self.last: float | None = None
        self.deltas = 0
        self.usage_tokens: int | None = None
        self.finished = False  # a finish reason was sent
        self.done = False  # [DONE] was sent
        self.error: str | None = None

    def feed(self, payload: str, now: float) -> None:
        if payload == "[DONE]":
            self.done = True
            return
        chunk = json.loads(payload)
        if not isinstance(chunk, dict):
            raise TypeError("a stream chunk is not a JSON object")
        if chunk.get("error"):
            self.error = "error in stream"
            return
        usage = chunk.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            self.usage_tokens = usage["completion_tokens"]
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict) and any(
                isinstance(delta.get(f), str) and delta[f] for f in TOKEN_FIELDS
            ):
                self.deltas += 1
                if self.first is None:
                    self.first = now
                self.last = now
            if choice.get("finish_reason"):
                self.finished = True


async def probe_completion(client: httpx.AsyncClient, provider: Provider, endpoint: Endpoint,
                           model_id: str, timeout: float, *, max_tokens: int = DEFAULT_MAX_TOKENS,
                           env: Mapping[str, str] | None = None,
                           clock: Clock = time.time) -> Outcome:
    """Completion probe of one endpoint: a short streamed chat completion.

    The time to first token runs from sending the request (once connected) to the first delta
    carrying any token (content or reasoning). Output tokens are the final
    ``usage.completion_tokens``, else the number of token-carrying deltas; the generation time
    runs from the first token to the last. A non-2xx status maps per :func:`result_for_status`; a stream that ends without
    ``[DONE]`` or a finish reason, or that carries an error, is an upstream error; no complete
    answer within ``timeout`` is a timeout. Raises :class:`MissingKey` when the provider's key
    variable is unset.
    """
    key = api_key(provider, env)
    body = {
        "model": upstream_id(endpoint, model_id),
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    at, started = clock(), time.perf_counter()
    sent: list[float] = []

    async def trace(event: str, info: dict[str, Any]) -> None:
        # The clock starts when the request goes out, after any TCP and TLS handshake: a
        # fresh connection's round trips are our distance to the provider, not its latency.
        if event.endswith("send_request_headers.started") and not sent:
            sent.append(time.perf_counter())

    stream, status, why = _Stream(), None, ""
    result = Result.SUCCESS
    try:
        async with asyncio.timeout(timeout):
            async with client.stream("POST", _url(provider, "/chat/completions"), json=body,
                                     headers=_headers(key), timeout=timeout,
                                     extensions={"trace": trace}) as response:
                status = response.status_code
                if not 200 <= status < 300:
                    result, why = result_for_status(status), f"HTTP {status}"
                else:
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            stream.feed(line[5:].strip(), time.perf_counter())
                        # Stop at [DONE], not at the finish reason: usage comes after it.
                        if stream.error or stream.done:
                            break
    except _PROBE_ERRORS as exc:
        result, why = _failure(exc), _why(exc, key)
    if result is Result.SUCCESS and stream.error:
        result, why = Result.UPSTREAM_ERROR, stream.error
    elif result is Result.SUCCESS and not (stream.finished or stream.done):
        result, why = Result.UPSTREAM_ERROR, "the stream ended before it finished"
    outcome = Outcome(model_id=model_id, tag=endpoint.tag, at=at, result=result,
                      source=Source.PROBE, http_status=status)
    if result is Result.SUCCESS and stream.first is not None and stream.last is not None:
        outcome = msgspec.structs.replace(
            outcome,
            ttft_ms=(stream.first - (sent[0] if sent else started)) * 1000.0,
            output_tokens=stream.usage_tokens if stream.usage_tokens else stream.deltas,
            generation_ms=(stream.last - stream.first) * 1000.0,
        )
    _log_failure(Kind.COMPLETION, provider, outcome, why)
    return outcome


def _log_failure(kind: Kind, provider: Provider, outcome: Outcome, why: str) -> None:
    if outcome.result is not Result.SUCCESS:
        log.debug("%s probe of %s:%s via %s: %s (%s)", kind, outcome.model_id, outcome.tag,
                  provider.slug, outcome.result, why or "-")


# -- a round ------------------------------------------------------------------------------


def _kind_for(provider: Provider, kinds: Collection[Kind]) -> Kind | None:
    if Kind.COMPLETION in kinds and provider.probe_completion:
        return Kind.COMPLETION
    if Kind.MODELS in kinds:
        return Kind.MODELS
    return None


async def run_round(catalog: Catalog, record: Recorder, *, timeout: float, concurrency: int,
                    kinds: Collection[Kind] = ALL_KINDS, max_tokens: int = DEFAULT_MAX_TOKENS,
                    clock: Clock = time.time, env: Mapping[str, str] | None = None,
                    transport: httpx.AsyncBaseTransport | None = None) -> list[ProbeResult]:
    """Probe every enabled endpoint whose provider has a ``base_url``, at most
    ``concurrency`` requests at a time, passing each outcome to ``record`` as it comes.

    Each endpoint gets the completion probe when ``kinds`` holds it and its provider opted in,
    else the models probe when ``kinds`` holds that. Results come in catalog order.
    """
    providers = catalog.provider_map()
    gate = asyncio.Semaphore(max(1, concurrency))
    listings: dict[str, asyncio.Task[Listing]] = {}

    async with httpx.AsyncClient(transport=transport, follow_redirects=False,
                                 headers={"User-Agent": "routeyard-probe"}) as client:

        async def listing_of(provider: Provider) -> Listing:
            # One listing per provider per round, shared by all of its endpoints.
            if provider.slug not in listings:
                async def fetch() -> Listing:
                    async with gate:
                        return await list_models(client, provider, timeout, env=env, clock=clock)
                listings[provider.slug] = asyncio.ensure_future(fetch())
            return await listings[provider.slug]

        async def one(provider: Provider, endpoint: Endpoint, model_id: str,
                      kind: Kind) -> ProbeResult:
            def result(outcome: Outcome | None, note: str = "") -> ProbeResult:
                return ProbeResult(provider=provider.slug, model_id=model_id, tag=endpoint.tag,
                                   kind=kind, outcome=outcome, note=note)
            try:
                api_key(provider, env)
            except MissingKey as exc:
                return result(None, f"skipped: {exc}")
            if kind is Kind.MODELS:
                outcome, why = models_outcome(await listing_of(provider), endpoint, model_id)
                _log_failure(kind, provider, outcome, why)
            else:
                async with gate:
                    outcome = await probe_completion(client, provider, endpoint, model_id,
                                                     timeout, max_tokens=max_tokens, env=env,
                                                     clock=clock)
            record(outcome)
            return result(outcome)

        jobs: list[Awaitable[ProbeResult]] = []
        for model in catalog.models:
            for endpoint in model.endpoints:
                provider = providers.get(endpoint.provider)
                if provider is None or not provider.base_url or endpoint.disabled:
                    continue
                kind = _kind_for(provider, kinds)
                if kind is not None:
                    jobs.append(one(provider, endpoint, model.id, kind))
        results = await asyncio.gather(*jobs)
    skipped = {r.provider: r.note for r in results if r.outcome is None}
    for provider_slug, note in sorted(skipped.items()):
        log.debug("probes of %s %s", provider_slug, note)
    return list(results)


def summary(results: Collection[ProbeResult]) -> dict[str, int]:
    """Counts of a round by result (``skipped`` for endpoints not probed)."""
    out: dict[str, int] = {}
    for r in results:
        label = "skipped" if r.outcome is None else str(r.outcome.result)
        out[label] = out.get(label, 0) + 1
    return out

