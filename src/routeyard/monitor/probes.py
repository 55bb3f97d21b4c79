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
import time
from collections.abc import Awaitable, Callable, Collection, Mapping

import msgspec

from routeyard.errors import UpstreamError
from routeyard.health.outcomes import Outcome, Result, Source, result_for_status
from routeyard.models import Catalog, Endpoint, Provider
from routeyard.upstream import sse
from routeyard.upstream.client import Upstream, UpstreamTimeout, read_within
from routeyard.upstream.provider import MissingKey, api_key, upstream_id
from routeyard.upstream.provider import headers as _headers
from routeyard.upstream.provider import url as _url
from routeyard.upstream.provider import why as _why

__all__ = ["MissingKey", "api_key", "upstream_id"]  # re-exported: their home is upstream/

log = logging.getLogger("routeyard.probes")

PROMPT = "Reply with one word: ok."
DEFAULT_MAX_TOKENS = 16
MAX_LISTING_BYTES = 32 << 20  # a provider's /models answer larger than this is refused
TOKEN_FIELDS = sse.TOKEN_FIELDS
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


def _failure(exc: BaseException) -> Result:
    if isinstance(exc, (TimeoutError, UpstreamTimeout)):
        return Result.TIMEOUT
    return Result.UPSTREAM_ERROR


# Errors a probe turns into an outcome; anything else is a bug and propagates.
_PROBE_ERRORS = (UpstreamError, TimeoutError, ValueError, KeyError, TypeError)


# -- models ------------------------------------------------------------------------------


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    """One ``GET /models`` answer: the model ids, or the result that stands for its failure."""

    at: float
    result: Result
    http_status: int | None = None
    ids: frozenset[str] = frozenset()
    why: str = ""


async def list_models(client: Upstream, provider: Provider, timeout: float, *,
                      env: Mapping[str, str] | None = None, clock: Clock = time.time) -> Listing:
    """Fetch the provider's model listing (raises :class:`MissingKey`)."""
    key = api_key(provider, env)
    at = clock()
    status: int | None = None
    try:
        async with asyncio.timeout(timeout):
            response = await client.request("GET", _url(provider, "/models"),
                                            headers=_headers(key))
            try:
                status = response.status
                if not 200 <= status < 300:
                    return Listing(at=at, result=result_for_status(status), http_status=status,
                                   why=f"HTTP {status}")
                data = json.loads(await response.read(MAX_LISTING_BYTES))["data"]
            finally:
                response.close()
            ids = frozenset(str(m["id"]) for m in data if isinstance(m, dict) and "id" in m)
    except _PROBE_ERRORS as exc:
        return Listing(at=at, result=_failure(exc), http_status=status, why=_why(exc, key))
    return Listing(at=at, result=Result.SUCCESS, http_status=status, ids=ids)


def models_outcome(listing: Listing, endpoint: Endpoint, model_id: str) -> tuple[Outcome, str]:
    """The outcome a listing gives one endpoint, and why it failed ("" on success)."""
    result, why = listing.result, listing.why
    if result is Result.SUCCESS and upstream_id(endpoint, model_id) not in listing.ids:
        result, why = Result.UPSTREAM_ERROR, f"{upstream_id(endpoint, model_id)} is not listed"
    outcome = Outcome(model_id=model_id, tag=endpoint.tag, at=listing.at, result=result,
                      source=Source.PROBE, http_status=listing.http_status)
    return outcome, why


# -- completion ---------------------------------------------------------------------------


async def probe_completion(client: Upstream, provider: Provider, endpoint: Endpoint,
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
    sent = 0.0  # when the request went out, once connected
    stream, parser, status, why = sse.StreamStats(), sse.Parser(), None, ""
    result = Result.SUCCESS
    first_byte = min(timeout, client.timeouts.first_byte or timeout)
    try:
        async with asyncio.timeout(timeout):
            response = await client.request(
                "POST", _url(provider, "/chat/completions"), json.dumps(body).encode(),
                {**_headers(key), "Content-Type": "application/json"})
            try:
                sent = response.sent_at
                status = response.status
                if not 200 <= status < 300:
                    result, why = result_for_status(status), f"HTTP {status}"
                else:
                    async for chunk in read_within(response, first_byte,
                                                   client.timeouts.between_chunks):
                        now = time.perf_counter()
                        for payload in parser.feed(chunk):
                            stream.feed(payload, now)
                        # Stop at [DONE], not at the finish reason: usage comes after it.
                        if stream.error or stream.done:
                            break
            finally:
                if stream.done and not stream.error:
                    response.done_reading()  # keep the connection if the framing ends
                else:
                    response.close()
    except _PROBE_ERRORS as exc:
        result, why = _failure(exc), _why(exc, key)
    if result is Result.SUCCESS and stream.error:
        result, why = Result.UPSTREAM_ERROR, "error in stream"
    elif result is Result.SUCCESS and not (stream.finished or stream.done):
        result, why = Result.UPSTREAM_ERROR, "the stream ended before it finished"
    outcome = Outcome(model_id=model_id, tag=endpoint.tag, at=at, result=result,
                      source=Source.PROBE, http_status=status)
    if result is Result.SUCCESS and stream.first is not None and stream.last is not None:
        outcome = msgspec.structs.replace(
            outcome,
            ttft_ms=(stream.first - (sent or started)) * 1000.0,
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
                    client: Upstream | None = None) -> list[ProbeResult]:
    """Probe every enabled endpoint whose provider has a ``base_url``, at most
    ``concurrency`` requests at a time, passing each outcome to ``record`` as it comes.
    ``client`` is the process's shared :class:`Upstream`; without one, a client is made
    for the round and closed after it.

    Each endpoint gets the completion probe when ``kinds`` holds it and its provider opted in,
    else the models probe when ``kinds`` holds that. Results come in catalog order.
    """
    providers = catalog.provider_map()
    gate = asyncio.Semaphore(max(1, concurrency))
    listings: dict[str, asyncio.Task[Listing]] = {}

    own = client is None
    up = client if client is not None else Upstream()
    try:

        async def listing_of(provider: Provider) -> Listing:
            # One listing per provider per round, shared by all of its endpoints.
            if provider.slug not in listings:
                async def fetch() -> Listing:
                    async with gate:
                        return await list_models(up, provider, timeout, env=env, clock=clock)
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
                    outcome = await probe_completion(up, provider, endpoint, model_id,
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
    finally:
        if own:
            await up.close()
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

