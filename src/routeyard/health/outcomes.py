"""Outcomes: one attempt against one endpoint, as the health maths sees it.

An endpoint is identified by ``(model_id, tag)``. An :class:`Outcome` is immutable and carries
no request content; it is aggregated per minute (:mod:`routeyard.health.minute`) and dropped.

Which results count towards uptime is decided here, once (:data:`COUNTED_RESULTS`): successes
and failures the endpoint is to blame for (upstream errors and timeouts). Rate-limited and
caller-caused outcomes are left out, as OpenRouter's spec defines uptime.
"""

from __future__ import annotations

import enum
import math

import msgspec


class Result(enum.StrEnum):
    """What an attempt came to."""

    SUCCESS = "success"
    UPSTREAM_ERROR = "upstream_error"  # the endpoint failed: 5xx, broken stream, bad credentials
    TIMEOUT = "timeout"  # no (complete) answer in time
    RATE_LIMITED = "rate_limited"  # 429: not counted towards uptime
    CALLER_ERROR = "caller_error"  # the request was at fault (400, 413, 422 …): not counted


class Source(enum.StrEnum):
    """Where an outcome was observed."""

    PROBE = "probe"  # routeyard's own synthetic request
    TRAFFIC = "traffic"  # a real request routed through routeyard
    INGEST = "ingest"  # reported by another system through the ingest API


#: Results that count as failures in uptime.
FAILURE_RESULTS: frozenset[Result] = frozenset({Result.UPSTREAM_ERROR, Result.TIMEOUT})
#: Results that count at all in uptime (the denominator).
COUNTED_RESULTS: frozenset[Result] = FAILURE_RESULTS | {Result.SUCCESS}

# Upstream 4xx statuses that mean "this endpoint cannot serve anyone" rather than "this request
# was wrong": bad provider credentials, no credit, model missing at the provider.
_ENDPOINT_4XX: frozenset[int] = frozenset({401, 402, 403, 404})


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt against one endpoint.

    ``at`` is when the attempt started, in unix seconds; it decides the attempt's minute.
    ``ttft_ms`` is the time to first token (any token, reasoning included) in milliseconds.
    ``generation_ms`` is the time from the first token to the last one, in milliseconds:
    throughput is ``output_tokens / generation time``, so it measures decoding speed and does not
    include the wait for the first token. Timing fields are ``None`` when not observed.
    """

    model_id: str
    tag: str
    at: float
    result: Result
    source: Source = Source.TRAFFIC
    http_status: int | None = None
    ttft_ms: float | None = None
    output_tokens: int | None = None
    generation_ms: float | None = None

    @property
    def counted(self) -> bool:
        """Whether this outcome counts towards uptime (success, upstream error or timeout)."""
        return self.result in COUNTED_RESULTS

    @property
    def throughput(self) -> float | None:
        """Output tokens per second of generation, or ``None``; see :func:`throughput_of`."""
        return throughput_of(self.output_tokens, self.generation_ms)


def throughput_of(output_tokens: int | None, generation_ms: float | None) -> float | None:
    """Output tokens per second: ``output_tokens / (generation_ms / 1000)``.

    ``None`` unless both are present, finite and greater than zero (a one-token answer has no
    generation time and so no throughput), and the time is not so small that it is zero
    seconds.
    """
    if output_tokens is None or generation_ms is None:
        return None
    seconds = generation_ms / 1000.0  # 0.0 for a denormal generation_ms: no time to divide by
    if output_tokens <= 0 or not math.isfinite(generation_ms) or seconds <= 0:
        return None
    return output_tokens / seconds


def result_for_status(http_status: int) -> Result:
    """The result an upstream HTTP status stands for.

    2xx success; 429 rate-limited; 408 and 504 timeout; 401, 402, 403 and 404 upstream error
    (the endpoint cannot serve anyone: its credentials, credit or model are wrong); any other
    4xx caller error; everything else (5xx, 1xx, 3xx) upstream error. A recorder that knows
    better (a stream cut off after a 200, a client-side timeout) sets the result itself.
    """
    if 200 <= http_status < 300:
        return Result.SUCCESS
    if http_status == 429:
        return Result.RATE_LIMITED
    if http_status in (408, 504):
        return Result.TIMEOUT
    if http_status in _ENDPOINT_4XX:
        return Result.UPSTREAM_ERROR
    if 400 <= http_status < 500:
        return Result.CALLER_ERROR
    return Result.UPSTREAM_ERROR
