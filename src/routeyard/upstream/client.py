"""The one pooled, keep-alive HTTP client a serving process talks to providers with.

aiohttp, chosen by measurement over httpx (bench/http_clients.py, figures in
bench/RESULTS.md, "Upstream client"): under 64 concurrent streams it added several times
less latency and used several times less CPU per stream. The app's lifespan owns one
:class:`Upstream` (created on the running loop, closed at shutdown); probes and the router
share it, and tests may pass their own (``create_app(..., upstream=...)``).

Timeouts (settings, docs/settings.md): connecting, the first byte of the answer, the gap
between two chunks of a stream, and the whole attempt. aiohttp enforces the connect and
total ones; :func:`read_within` the other two, around each read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec

USER_AGENT = "routeyard"


class Timeouts(msgspec.Struct, frozen=True, kw_only=True):
    """Seconds; 0 or less: no limit."""

    connect: float = 10.0
    first_byte: float = 60.0
    between_chunks: float = 60.0
    total: float = 600.0

    @classmethod
    def from_settings(cls, settings: Any) -> Timeouts:
        return cls(connect=float(settings.upstream_connect_timeout),
                   first_byte=float(settings.upstream_first_byte_timeout),
                   between_chunks=float(settings.upstream_chunk_timeout),
                   total=float(settings.upstream_total_timeout))

    def client_timeout(self, total: float | None = None) -> aiohttp.ClientTimeout:
        whole = self.total if total is None else total
        return aiohttp.ClientTimeout(total=whole if whole > 0 else None,
                                     sock_connect=self.connect if self.connect > 0 else None)


class UpstreamTimeout(TimeoutError):
    """An upstream took longer than one of the :class:`Timeouts`; ``phase`` says which."""

    def __init__(self, phase: str, seconds: float) -> None:
        super().__init__(f"no {phase} within {seconds:g} s")
        self.phase = phase


async def _headers_sent(session: aiohttp.ClientSession, context: Any,
                        params: aiohttp.TraceRequestHeadersSentParams) -> None:
    # The clock of a probe's time to first token starts when the request goes out, after any
    # TCP handshake: a fresh connection's round trips are our distance to the provider, not
    # its latency. Requests that pass ``trace_request_ctx={"sent": []}`` get the time.
    ctx = context.trace_request_ctx
    if isinstance(ctx, dict) and "sent" in ctx and not ctx["sent"]:
        ctx["sent"].append(time.perf_counter())


def _trace() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(_headers_sent)
    return trace


class Upstream:
    """One aiohttp session with a shared connection pool, and the timeouts."""

    def __init__(self, timeouts: Timeouts | None = None, *, limit: int = 1024,
                 limit_per_host: int = 0, session: aiohttp.ClientSession | None = None) -> None:
        self.timeouts = timeouts or Timeouts()
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._session = session

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session, made on first use (it must be made on the running loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit_per_host,
                                             keepalive_timeout=30, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": USER_AGENT},
                timeout=self.timeouts.client_timeout(), auto_decompress=True,
                raise_for_status=False, trace_configs=[_trace()],
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


async def read_within(stream: aiohttp.StreamReader, first: float, between: float
                      ) -> AsyncIterator[bytes]:
    """The body's chunks as they come, the first within ``first`` seconds and each next one
    within ``between`` seconds of the previous (0: no limit); raises
    :class:`UpstreamTimeout` otherwise."""
    limit, phase = first, "first byte"
    while True:
        try:
            if limit > 0:
                async with asyncio.timeout(limit):
                    chunk = await stream.readany()
            else:
                chunk = await stream.readany()
        except TimeoutError:
            raise UpstreamTimeout(phase, limit) from None
        if not chunk:
            return
        yield chunk
        limit, phase = between, "next chunk"
